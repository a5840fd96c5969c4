/*
 * test_urltmpl.c - unit tests for lib/urltmpl.c: placeholders filled and
 * percent-encoded, unknown braces kept, a missing value or an overlong
 * result gives no link.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "lib/urltmpl.h"
#include "tests/tap.h"

static void expands(const char *tmpl, const char *courier, const char *tracking,
		    const char *email, const char *order, const char *want, const char *what)
{
	char *got = sw_url_expand(tmpl, courier, tracking, email, order);

	if (want)
		is_str(got ? got : "(null)", want, "%s", what);
	else
		ok(got == NULL, "%s: no link (%s)", what, got ? got : "null");
	free(got);
}

int main(void)
{
	char big[SW_URL_MAX + 16];

	expands("https://t.example/{courier}/{tracking}", "dhl", "1Z 99/9", NULL, NULL,
		"https://t.example/dhl/1Z%2099%2F9", "values percent-encoded");
	expands("https://s.example/u?e={email}&o={order}", NULL, NULL, "a+b@c.example", "A&1",
		"https://s.example/u?e=a%2Bb%40c.example&o=A%261", "email and order");
	expands("https://t.example/{courier}", "<script>\"x\"", NULL, NULL, NULL,
		"https://t.example/%3Cscript%3E%22x%22", "markup cannot pass");
	expands("https://t.example/{carrier}/{tracking}", "dhl", "7", NULL, NULL,
		"https://t.example/{carrier}/7", "an unknown placeholder is kept as written");
	expands("https://t.example/{", NULL, NULL, NULL, NULL, "https://t.example/{",
		"an unclosed brace is text");
	expands("https://t.example/{tracking}", "dhl", NULL, NULL, NULL, NULL,
		"a tracking link before shipping");
	expands(NULL, "dhl", "1", NULL, NULL, NULL, "no template");
	expands("", "dhl", "1", NULL, NULL, NULL, "an empty template");
	expands("https://t.example/", NULL, NULL, NULL, NULL, "https://t.example/",
		"no placeholder: the text");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	expands("https://t.example/{tracking}", "dhl", big, NULL, NULL, NULL,
		"a result longer than SW_URL_MAX");
	expands("https://t.example/{tracking}", "dhl", "\xe0\xa4\x95", NULL, NULL,
		"https://t.example/%E0%A4%95", "UTF-8 bytes encoded one by one");
	return tap_done();
}
