/*
 * fuzz_template.c - fuzz target for the email template loader and renderer
 * (alerts/template.c).
 *
 * Input: template file text, then up to twenty-four values, each after a
 * NUL byte; a missing value is NULL: the first fourteen strings of struct
 * sw_tpl_values in its order, then the five of one struct sw_tpl_item,
 * which is listed twice for {{*parcels}} when any of its values is given,
 * then the five stage values of a cohort message (stage_warehouse ...
 * stage_unknown).
 * Link values get "https://" put in front so that rendering gets past the
 * URL check.  The
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

#define N_VALUES 24
#define ITEM0 14  /* first item value */
#define STAGE0 19 /* first stage value */
static const int link_at[] = { 4, 8, ITEM0 + 2 };

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

/* Fills *v (and the two items) from the input's values. */
static void to_values(const char *const vals[N_VALUES], struct sw_tpl_values *v,
		      struct sw_tpl_item it[2])
{
	*v = (struct sw_tpl_values){
		.customer_name = vals[0], .order_id = vals[1], .tracking_number = vals[2],
		.courier = vals[3], .tracking_link = vals[4], .promised_date = vals[5],
		.new_date = vals[6], .shop_name = vals[7], .unsubscribe_link = vals[8],
		.delivery_date = vals[9], .ship_by_date = vals[10], .parcel_count = vals[11],
		.followup = vals[12], .others = vals[13], .stage_warehouse = vals[STAGE0],
		.stage_first_mile = vals[STAGE0 + 1], .stage_line_haul = vals[STAGE0 + 2],
		.stage_last_mile = vals[STAGE0 + 3], .stage_unknown = vals[STAGE0 + 4],
	};
	it[0] = (struct sw_tpl_item){ .courier = vals[ITEM0], .tracking_number = vals[ITEM0 + 1],
				      .tracking_link = vals[ITEM0 + 2], .issue = vals[ITEM0 + 3],
				      .new_date = vals[ITEM0 + 4] };
	it[1] = it[0];
	for (int i = ITEM0; i < STAGE0; i++)
		if (vals[i] != NULL) {
			v->items = it;
			v->n_items = 2;
		}
}

static void check(const struct sw_tpl *t, const char *vals[N_VALUES])
{
	const char *xs[N_VALUES];
	struct sw_tpl_values v, vx;
	struct sw_tpl_item it[2], itx[2];
	struct sw_tpl_msg m, mx;

	for (int i = 0; i < N_VALUES; i++)
		xs[i] = vals[i] == NULL ? NULL : vals[i][0] == '\0' ? "" : "x";
	/* links stay links in the "x" rendering */
	for (size_t i = 0; i < sizeof(link_at) / sizeof(link_at[0]); i++)
		xs[link_at[i]] = vals[link_at[i]] ? vals[link_at[i]][0] ? "https://x" : "" : NULL;
	to_values(vals, &v, it);
	to_values(xs, &vx, itx);
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
	char *copy, *links[3] = { NULL, NULL, NULL }, err[256];
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
	for (int i = 0; i < 3; i++) {
		int at = link_at[i];

		if (vals[at] && vals[at][0] && strncmp(vals[at], "http", 4) != 0)
			vals[at] = links[i] = xasprintf("https://%s", vals[at]);
	}
	write_file("late", data, tlen);
	if (sw_tpl_load(dir, &set, err, sizeof(err)) == SW_OK) {
		check(sw_tpl_pick(set, SW_TPL_LATE, "hi-IN"), vals);
		sw_tpl_free(set);
	}
	for (int i = 0; i < 3; i++)
		free(links[i]);
	free(copy);
	return 0;
}
