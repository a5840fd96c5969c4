/*
 * test_core.c - unit tests for error.c, xmalloc.c and buf.c.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/utf8.h"
#include "lib/error.h"
#include "lib/xmalloc.h"
#include "tap.h"

static void test_errors(void)
{
	int i;
	int distinct = 1;

	is_str(sw_strerror(SW_OK), "success", "SW_OK text");
	is_str(sw_strerror(SW_EDUP), "duplicate", "SW_EDUP text");
	is_str(sw_err_name(SW_ECONF), "SW_ECONF", "SW_ECONF name");
	is_str(sw_strerror(SW_ELAST), "unknown error", "sentinel is not an error");
	is_str(sw_strerror((enum sw_err)-1), "unknown error", "negative value handled");
	is_str(sw_err_name((enum sw_err)999), "SW_E?", "out-of-range name handled");
	for (i = 1; i < SW_ELAST; i++)
		if (strcmp(sw_strerror((enum sw_err)i), sw_strerror((enum sw_err)(i - 1))) == 0)
			distinct = 0;
	ok(distinct, "every error has its own text");
}

static void test_xmalloc(void)
{
	char *s = xasprintf("%s-%d", "abc", 42);
	char *d = xstrndup("hello world", 5);
	int *v = xreallocarray(NULL, 1000, sizeof(int));

	is_str(s, "abc-42", "xasprintf formats");
	is_str(d, "hello", "xstrndup stops at n");
	v[999] = 7;
	v = xreallocarray(v, 2000, sizeof(int));
	is_int(v[999], 7, "xreallocarray keeps content");
	free(s);
	free(d);
	free(v);
	d = xstrndup("ab", 10);
	is_str(d, "ab", "xstrndup with n past the end");
	free(d);
}

static void test_buf(void)
{
	struct sw_buf b;
	char big[100];
	size_t len;
	char *p;

	sw_buf_init(&b, 10);
	is_str(sw_buf_str(&b), "", "empty buffer reads as empty string");
	is_int(sw_buf_adds(&b, "hello"), SW_OK, "append within max");
	is_int(sw_buf_adds(&b, "world"), SW_OK, "append exactly to max");
	is_int(b.len, 10, "length is 10");
	is_int(sw_buf_adds(&b, "!"), SW_ETOOBIG, "append past max refused");
	is_str(sw_buf_str(&b), "helloworld", "refused append left content unchanged");
	ok(b.alloc <= 11, "allocation never exceeds max + 1 (%zu)", b.alloc);
	sw_buf_reset(&b);
	is_int(b.len, 0, "reset empties");
	is_int(sw_buf_printf(&b, "%d-%s", 12, "ab"), SW_OK, "printf within max");
	is_str(sw_buf_str(&b), "12-ab", "printf content");
	is_int(sw_buf_printf(&b, "%s", "123456"), SW_ETOOBIG, "printf past max refused");
	is_str(sw_buf_str(&b), "12-ab", "refused printf left content unchanged");
	p = sw_buf_steal(&b, &len);
	is_str(p, "12-ab", "steal hands over content");
	is_int(len, 5, "steal reports length");
	is_int(b.len, 0, "buffer empty after steal");
	free(p);

	memset(big, 'x', sizeof(big));
	sw_buf_init(&b, 1 << 20);
	for (int i = 0; i < 1000; i++)
		sw_buf_add(&b, big, sizeof(big));
	is_int(b.len, 100000, "grows over many appends");
	is_int(sw_buf_add(&b, big, 0), SW_OK, "zero-length append ok");
	sw_buf_free(&b);
	is_int(b.len, 0, "free leaves it empty");
	is_int(sw_buf_add(&b, "\0a\0", 3), SW_OK, "binary data accepted");
	is_int(b.len, 3, "binary length kept");
	sw_buf_free(&b);
}

/* Table-driven: bytes, bytes available, want length, want code point. */
static void test_utf8(void)
{
	static const struct {
		const char *s;
		size_t n, len;
		uint32_t cp;
		const char *what;
	} cases[] = {
		{ "A", 1, 1, 0x41, "ASCII" },
		{ "\xc3\xa9", 2, 2, 0xe9, "2 bytes (e acute)" },
		{ "\xe0\xa4\xb9", 3, 3, 0x939, "3 bytes (Devanagari ha)" },
		{ "\xf0\x9f\x93\xa6", 4, 4, 0x1f4e6, "4 bytes (package emoji)" },
		{ "\xc2\x85", 2, 2, 0x85, "C1 NEL is valid UTF-8" },
		{ "\x80", 1, 0, 0, "stray continuation byte" },
		{ "\xc0\xaf", 2, 0, 0, "overlong 2 bytes" },
		{ "\xe0\x80\xaf", 3, 0, 0, "overlong 3 bytes" },
		{ "\xf0\x80\x80\xaf", 4, 0, 0, "overlong 4 bytes" },
		{ "\xed\xa0\x80", 3, 0, 0, "surrogate" },
		{ "\xf4\x90\x80\x80", 4, 0, 0, "above U+10FFFF" },
		{ "\xe0\xa4\xb9", 2, 0, 0, "cut short by n" },
		{ "\xe0\xa4" "A", 3, 0, 0, "bad continuation" },
		{ "\xff", 1, 0, 0, "0xff" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t cp = 0xdead;
		size_t len = sw_utf8_decode((const unsigned char *)cases[i].s, cases[i].n, &cp);

		ok(len == cases[i].len && (len == 0 || cp == cases[i].cp), "utf8: %s", cases[i].what);
	}
	is_int(sw_utf8_decode((const unsigned char *)"x", 0, NULL), 0, "utf8: nothing available");
}

int main(void)
{
	test_utf8();
	test_errors();
	test_xmalloc();
	test_buf();
	return tap_done();
}
