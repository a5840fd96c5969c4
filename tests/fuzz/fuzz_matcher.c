/*
 * fuzz_matcher.c - fuzz target for lib/matcher.c: the input's first line
 * is a label set, the rest a matcher list.  Nothing may crash, leak or
 * read out of bounds; every error is one line naming the item; canonical
 * labels are a fixed point and give back every key; a list's canonical
 * text parses to the same text and matches exactly as the list does.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/matcher.h"
#include "lib/xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OUT_MAX 4096

static void one_line(const char *err, const char *prefix, const char *alt)
{
	if (strchr(err, '\n') || !*err ||
	    (strncmp(err, prefix, strlen(prefix)) != 0 && strncmp(err, alt, strlen(alt)) != 0))
		abort();
}

/* Canonical labels into out ("" if refused). */
static void labels(const char *text, char *out)
{
	char again[OUT_MAX], err[256], v[SW_LABEL_VALUE_MAX + 1];
	enum sw_err rc = sw_labels_canon(text, out, OUT_MAX, err, sizeof(err));

	if (rc != SW_OK) {
		one_line(err, "label ", "labels:");
		out[0] = '\0';
		return;
	}
	if (sw_labels_canon(out, again, sizeof(again), err, sizeof(err)) != SW_OK ||
	    strcmp(out, again) != 0)
		abort(); /* canonical text is canonical */
	for (const char *p = out; *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : "") {
		char key[SW_LABEL_KEY_MAX + 1];
		size_t k = strcspn(p, "=");

		if (k == 0 || k > SW_LABEL_KEY_MAX)
			abort();
		memcpy(key, p, k);
		key[k] = '\0';
		if (!sw_labels_get(out, key, v, sizeof(v)) || strncmp(v, p + k + 1, strlen(v)) != 0)
			abort();
	}
}

static void matchers(const char *text, const char *canon, const char *raw)
{
	struct sw_matchers *m = NULL, *again = NULL;
	char err[256];

	if (sw_matchers_parse(text, &m, err, sizeof(err)) != SW_OK) {
		if (m)
			abort();
		one_line(err, "matcher ", "no matcher");
		return;
	}
	if (sw_matchers_parse(sw_matchers_text(m), &again, err, sizeof(err)) != SW_OK ||
	    strcmp(sw_matchers_text(m), sw_matchers_text(again)) != 0)
		abort(); /* the canonical text round-trips */
	if (sw_matchers_match(m, canon) != sw_matchers_match(again, canon))
		abort();
	(void)sw_matchers_match(m, raw); /* anything at all: no crash */
	sw_matchers_free(again);
	sw_matchers_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xstrndup((const char *)data, size), *nl = strchr(text, '\n');
	char *canon = xmalloc(OUT_MAX);

	if (nl)
		*nl = '\0';
	labels(text, canon);
	matchers(nl ? nl + 1 : "", canon, text);
	free(canon);
	free(text);
	return 0;
}
