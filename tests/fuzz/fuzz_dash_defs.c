/*
 * fuzz_dash_defs.c - fuzz target for dashboards/dash_defs.c (a dashboard
 * definition) and dashboards/dash_html.c (the escaping every outside
 * value of a page goes through).  Nothing may crash, leak or read out of
 * bounds; an error is one line naming the file; a definition that loads
 * has a title and menu, graphs with a catalogue file and something to
 * draw, and data sources of that file's kind; a second parse is the same;
 * the escaped input holds no markup character and is valid UTF-8.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dashboards/dash_defs.h"
#include "dashboards/dash_html.h"
#include "lib/buf.h"
#include "lib/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_graph(const struct sw_dash_graph *g)
{
	bool drawn = false;

	if (!g->title || !g->file || !g->kind || !(g->scale > 0) || g->n_elem == 0)
		abort();
	for (size_t i = 0; i < g->n_elem; i++)
		drawn |= g->elem[i].kind != SW_DASH_CDEF && g->elem[i].kind != SW_DASH_HRULE;
	if (!drawn)
		abort();
	for (size_t i = 0; i < g->n_ds; i++) {
		bool found = false;

		for (size_t j = 0; j < g->kind->n_ds; j++)
			found |= strcmp(g->kind->ds[j].name, g->ds[i]) == 0;
		if (!found)
			abort();
	}
}

static void definition(const uint8_t *data, size_t size)
{
	struct sw_dash_def *d = NULL, *again = NULL;
	char err[1024];
	enum sw_err rc =
	    sw_dash_def_parse((const char *)data, size, "fuzz.dash", &d, err, sizeof(err));

	if (rc != SW_OK) {
		if (d || strchr(err, '\n') || strncmp(err, "fuzz.dash:", 10) != 0)
			abort();
		return;
	}
	if (!d || !d->title || !d->menu)
		abort();
	for (size_t i = 0; i < d->n_graph; i++)
		check_graph(&d->graph[i]);
	if (sw_dash_def_parse((const char *)data, size, "fuzz.dash", &again, err, sizeof(err)) !=
		SW_OK ||
	    again->n_graph != d->n_graph)
		abort();
	sw_dash_def_free(again);
	sw_dash_def_free(d);
}

static void escaping(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct sw_buf b;
	const unsigned char *p;
	size_t n;

	if (text == NULL)
		return;
	memcpy(text, data, size);
	text[size] = '\0';
	sw_buf_init(&b, 16 * size + 16);
	if (sw_html_escape(&b, text) != SW_OK)
		abort();
	if (strpbrk(sw_buf_str(&b), "<>\"'"))
		abort();
	for (p = (const unsigned char *)sw_buf_str(&b), n = b.len; n > 0;) {
		size_t len = sw_utf8_decode(p, n, NULL);

		if (len == 0)
			abort();
		p += len;
		n -= len;
	}
	sw_buf_free(&b);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	definition(data, size);
	escaping(data, size);
	return 0;
}
