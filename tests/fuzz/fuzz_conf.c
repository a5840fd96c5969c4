/*
 * fuzz_conf.c - fuzz target for the configuration reader (lib/conf.c).
 *
 * Parses the input as a slipwatch.conf, then applies a table holding every
 * option type to [t] and to every [n NAME] section, and dumps the result:
 * the reader must never crash, leak or read out of bounds, and every error
 * text must be a single line.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/conf.h"
#include "lib/xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct all {
	bool b;
	int64_t i, dur, size;
	double d;
	char *s, *p;
	int e;
	struct sw_conf_secret secret;
};

static const char *const words[] = { "one", "two", "three", NULL };

static const struct sw_conf_opt table[] = {
	{ .name = "b", .type = SW_CONF_BOOL, .offset = offsetof(struct all, b), .def = "no" },
	{ .name = "i", .type = SW_CONF_INT, .offset = offsetof(struct all, i), .min = -5, .max = 70000 },
	{ .name = "dur", .type = SW_CONF_DURATION, .offset = offsetof(struct all, dur), .def = "5s" },
	{ .name = "size", .type = SW_CONF_SIZE, .offset = offsetof(struct all, size), .def = "1k" },
	{ .name = "d", .type = SW_CONF_DOUBLE, .offset = offsetof(struct all, d), .dmin = 0, .dmax = 1 },
	{ .name = "s", .type = SW_CONF_STRING, .offset = offsetof(struct all, s) },
	{ .name = "p", .type = SW_CONF_PATH, .offset = offsetof(struct all, p) },
	{ .name = "e", .type = SW_CONF_ENUM, .offset = offsetof(struct all, e), .words = words, .def = "two" },
	{ .name = "password", .type = SW_CONF_SECRET, .offset = offsetof(struct all, secret) },
	{ .name = NULL },
};

static void check_one_line(const char *err)
{
	if (strchr(err, '\n') != NULL || strchr(err, '\r') != NULL)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sw_conf *conf;
	struct all a;
	struct sw_buf out;
	char *text = xstrndup((const char *)data, size);
	char err[512] = "";
	const char *name;

	if (sw_conf_load_string(text, "fuzz.conf", &conf, err, sizeof(err)) != SW_OK) {
		check_one_line(err);
		free(text);
		return 0;
	}
	sw_buf_init(&out, 1 << 16);
	memset(&a, 0, sizeof(a));
	if (sw_conf_apply(conf, "t", NULL, table, &a, err, sizeof(err)) == SW_OK)
		sw_conf_dump("t", NULL, table, &a, &out);
	else
		check_one_line(err);
	for (size_t i = 0; (name = sw_conf_named(conf, "n", i)) != NULL; i++) {
		if (sw_conf_apply(conf, "n", name, table, &a, err, sizeof(err)) == SW_OK)
			sw_conf_dump("n", name, table, &a, &out);
		else
			check_one_line(err);
	}
	sw_conf_free_struct(table, &a);
	sw_buf_free(&out);
	sw_conf_free(conf);
	free(text);
	return 0;
}
