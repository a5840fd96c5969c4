/*
 * fuzz_template.c - fuzz target for the email template loader and renderer
 * (alerts/template.c).
 *
 * Input: template file text, then up to nine values (struct sw_tpl_values
 * order), each after a NUL byte; a missing value is NULL.  Link values get
 * "https://" put in front so that rendering gets past the URL check.  The
 * text is written as default/late.tmpl of a private template directory
 * (the other kinds are a fixed small template) and loaded; when it loads,
 * it is rendered and checked, not only run:
 *   - the subject is one line: no control characters, at most
 *     SW_TPL_SUBJECT_MAX bytes, valid UTF-8;
 *   - no part contains CR; every part is valid UTF-8;
 *   - values add no markup to the HTML part: rendering again with every set
 *     value replaced by "x" gives the same count of < > " ' characters.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alerts/template.h"
#include "lib/xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N_VALUES 9

static char dir[] = "/tmp/sw_fuzz_template_XXXXXX";
static bool ready;

static void cleanup(void)
{
	for (int k = 0; k < SW_TPL_KIND_LAST; k++) {
		char *p = xasprintf("%s/default/%s.tmpl", dir, sw_tpl_kind_name((enum sw_tpl_kind)k));

		unlink(p);
		free(p);
	}
	{
		char *p = xasprintf("%s/default", dir);

		rmdir(p);
		free(p);
	}
	rmdir(dir);
}

static void write_file(const char *name, const uint8_t *data, size_t size)
{
	char *p = xasprintf("%s/default/%s.tmpl", dir, name);
	FILE *f = fopen(p, "wb");

	if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	free(p);
}

static void setup(void)
{
	static const char simple[] = "Subject: s\n\nt\n=== html ===\nh\n";
	char *p;

	if (mkdtemp(dir) == NULL)
		abort();
	p = xasprintf("%s/default", dir);
	if (mkdir(p, 0700) != 0)
		abort();
	free(p);
	for (int k = 0; k < SW_TPL_KIND_LAST; k++)
		write_file(sw_tpl_kind_name((enum sw_tpl_kind)k), (const uint8_t *)simple,
			   sizeof(simple) - 1);
	atexit(cleanup);
	ready = true;
}

static bool valid_utf8(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	while (*u) {
		int n = *u < 0x80 ? 0 : (*u & 0xe0) == 0xc0 ? 1 : (*u & 0xf0) == 0xe0 ? 2
			: (*u & 0xf8) == 0xf0 ? 3 : -1;

		if (n < 0 || (n == 1 && *u < 0xc2))
			return false;
		u++;
		while (n--)
			if ((*u++ & 0xc0) != 0x80)
				return false;
	}
	return true;
}

static size_t count_markup(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += strchr("<>\"'", *s) != NULL;
	return n;
}

static void check(const struct sw_tpl *t, const char *vals[N_VALUES])
{
	const char *xs[N_VALUES];
	struct sw_tpl_values v, vx;
	struct sw_tpl_msg m, mx;

	for (int i = 0; i < N_VALUES; i++)
		xs[i] = vals[i] == NULL ? NULL : vals[i][0] == '\0' ? "" : "x";
	/* links stay links in the "x" rendering */
	xs[4] = vals[4] ? vals[4][0] ? "https://x" : "" : NULL;
	xs[8] = vals[8] ? vals[8][0] ? "https://x" : "" : NULL;
	v = (struct sw_tpl_values){ vals[0], vals[1], vals[2], vals[3], vals[4],
				    vals[5], vals[6], vals[7], vals[8] };
	vx = (struct sw_tpl_values){ xs[0], xs[1], xs[2], xs[3], xs[4], xs[5], xs[6], xs[7], xs[8] };
	if (sw_tpl_render(t, &v, &m, NULL, 0) != SW_OK)
		return;
	if (strlen(m.subject) > SW_TPL_SUBJECT_MAX || !valid_utf8(m.subject))
		abort();
	for (const unsigned char *p = (const unsigned char *)m.subject; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			abort();
	if (strchr(m.text, '\r') || strchr(m.html, '\r') || !valid_utf8(m.text) ||
	    !valid_utf8(m.html))
		abort();
	if (sw_tpl_render(t, &vx, &mx, NULL, 0) != SW_OK)
		abort(); /* the link check aside, only NULLs can fail, and those match */
	if (count_markup(m.html) != count_markup(mx.html))
		abort();
	sw_tpl_msg_free(&m);
	sw_tpl_msg_free(&mx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *vals[N_VALUES] = { 0 };
	char *copy, *links[2] = { NULL, NULL }, err[256];
	size_t tlen = strnlen((const char *)data, size), off;
	struct sw_tpl_set *set;

	if (!ready)
		setup();
	copy = xmalloc(size + 1);
	memcpy(copy, data, size);
	copy[size] = '\0';
	off = tlen + 1;
	for (int i = 0; i < N_VALUES && off <= size; i++) {
		vals[i] = copy + off;
		off += strlen(copy + off) + 1;
	}
	for (int i = 0; i < 2; i++) {
		int at = i ? 8 : 4;

		if (vals[at] && vals[at][0] && strncmp(vals[at], "http", 4) != 0)
			vals[at] = links[i] = xasprintf("https://%s", vals[at]);
	}
	write_file("late", data, tlen);
	if (sw_tpl_load(dir, &set, err, sizeof(err)) == SW_OK) {
		check(sw_tpl_pick(set, SW_TPL_LATE, "hi-IN"), vals);
		sw_tpl_free(set);
	}
	free(links[0]);
	free(links[1]);
	free(copy);
	return 0;
}
