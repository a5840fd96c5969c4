/*
 * test_matcher.c - unit tests for lib/matcher.c.  The cases are data:
 * tests/data/matcher/cases (labels, matchers, match / no match / the
 * error) and tests/data/matcher/labels (label text, its canonical form or
 * the error); the rest checks what a table cannot say: the canonical
 * matcher text and its round trip, sw_labels_get, the output buffer's
 * limit, and errors that stay one clean line.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/matcher.h"
#include "lib/xmalloc.h"
#include "tests/tap.h"

/* ---- the data files -------------------------------------------------------- */

static char *trim(char *s)
{
	char *e = s + strlen(s);

	while (*s == ' ' || *s == '\t')
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

/* "-" stands for the empty text. */
static const char *field(char *s)
{
	s = trim(s);
	return strcmp(s, "-") == 0 ? "" : s;
}

static FILE *open_data(const char *name)
{
	const char *dir = getenv("SW_TEST_DATA");
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/matcher/%s", dir ? dir : "tests/data", name);
	f = fopen(path, "r");
	ok(f != NULL, "open %s", path);
	return f;
}

/* Checks an error against "error: TEXT": rc is an error and err holds
 * TEXT on one line. */
static void check_error(int line, enum sw_err rc, const char *err, const char *want,
			const char *what)
{
	ok(rc != SW_OK && strstr(err, want) != NULL && strchr(err, '\n') == NULL,
	   "line %d: %s is refused: %s", line, what, want);
	if (rc == SW_OK || !strstr(err, want))
		printf("#   rc %d, error \"%s\"\n", rc, err);
}

/* One line of cases: LABELS | MATCHERS | EXPECT (the first and the last
 * " | " split it: a regex may hold '|'). */
static void run_case(int line, char *text)
{
	char *first = strstr(text, " | "), *last, err[256];
	const char *labels, *matchers, *expect;
	struct sw_matchers *m = NULL;
	enum sw_err rc;

	last = first ? strstr(first + 3, " | ") : NULL;
	for (char *p = last; p && (p = strstr(p + 3, " | "));)
		last = p;
	if (!ok(first && last, "line %d: three fields", line))
		return;
	*first = *last = '\0';
	labels = field(text);
	matchers = field(first + 3);
	expect = field(last + 3);
	rc = sw_matchers_parse(matchers, &m, err, sizeof(err));
	if (strncmp(expect, "error: ", 7) == 0) {
		check_error(line, rc, err, expect + 7, matchers);
		ok(m == NULL, "line %d: and gives no list", line);
	} else if (ok(rc == SW_OK, "line %d: '%s' parses", line, matchers)) {
		bool want = strcmp(expect, "match") == 0;

		ok(sw_matchers_match(m, labels) == want, "line %d: '%s' %s '%s'", line, matchers,
		   want ? "matches" : "does not match", labels);
	} else {
		printf("#   %s\n", err);
	}
	sw_matchers_free(m);
}

/* One line of labels: TEXT | EXPECT. */
static void run_labels(int line, char *text)
{
	char *bar = strrchr(text, '|'), out[512], err[256];
	const char *in, *expect;
	enum sw_err rc;

	if (!ok(bar != NULL, "line %d: two fields", line))
		return;
	*bar = '\0';
	in = field(text);
	expect = field(bar + 1);
	rc = sw_labels_canon(in, out, sizeof(out), err, sizeof(err));
	if (strncmp(expect, "error: ", 7) == 0)
		check_error(line, rc, err, expect + 7, in);
	else if (ok(rc == SW_OK, "line %d: '%s' is a label set", line, in))
		is_str(out, expect, "line %d: canonical", line);
	else
		printf("#   %s\n", err);
}

static void run_file(const char *name, void (*run)(int, char *))
{
	FILE *f = open_data(name);
	char buf[1024];
	int line = 0;

	while (f && fgets(buf, sizeof(buf), f)) {
		char *t = trim(buf);

		line++;
		if (*t && *t != '#')
			run(line, t);
	}
	if (f)
		fclose(f);
}

/* ---- what the tables do not say ------------------------------------------ */

static void test_canonical_text(void)
{
	struct sw_matchers *m, *again;
	char err[256];

	ok(sw_matchers_parse(" warehouse=~w.* , courier!=dhl,team=ops , courier!~u.s ", &m, err,
			     sizeof(err)) == SW_OK,
	   "a list with blanks parses");
	is_str(sw_matchers_text(m), "courier!=dhl,courier!~u.s,team=ops,warehouse=~w.*",
	       "canonical: sorted by key, one key's matchers in their order, no blanks");
	ok(sw_matchers_parse(sw_matchers_text(m), &again, err, sizeof(err)) == SW_OK,
	   "the canonical text parses");
	is_str(sw_matchers_text(again), sw_matchers_text(m), "to the same text");
	ok(sw_matchers_match(again, "courier=fedex,team=ops,warehouse=w9"), "and matches alike");
	sw_matchers_free(again);
	sw_matchers_free(m);
	ok(sw_matchers_match(NULL, "courier=dhl"), "no list matches everything");
	is_str(sw_matchers_text(NULL), "", "and has empty text");
	sw_matchers_free(NULL);
}

static void test_labels_get(void)
{
	char v[8];

	ok(sw_labels_get("courier=dhl,warehouse=w1", "warehouse", v, sizeof(v)), "get: present");
	is_str(v, "w1", "get: the value");
	ok(sw_labels_get("courier=dhl,warehouse=w1", "courier", v, sizeof(v)), "get: first");
	is_str(v, "dhl", "get: its value");
	ok(!sw_labels_get("courier=dhl", "cour", v, sizeof(v)), "get: a prefix is not the key");
	ok(!sw_labels_get("courier_x=dhl", "courier", v, sizeof(v)), "get: nor a longer key");
	ok(!sw_labels_get("", "courier", v, sizeof(v)), "get: empty labels");
	ok(sw_labels_get("region=eu-west-1-long", "region", v, sizeof(v)), "get: a long value");
	is_str(v, "eu-west", "is cut to the buffer, terminated");
}

static void test_limits(void)
{
	char out[16], err[256], big[400];
	struct sw_matchers *m;

	is_int(sw_labels_canon("courier=dhl,warehouse=w1", out, sizeof(out), err, sizeof(err)),
	       SW_ETOOBIG, "labels longer than the buffer: SW_ETOOBIG");
	is_int(sw_labels_canon("b=2,a=1", out, 8, err, sizeof(err)), SW_OK, "labels that just fit");
	is_str(out, "a=1,b=2", "are written whole");
	is_int(sw_labels_canon("b=2,a=1", out, 7, err, sizeof(err)), SW_ETOOBIG,
	       "one byte less does not fit");
	/* a value of 129 bytes */
	memset(big, 'v', sizeof(big));
	memcpy(big, "k=", 2);
	big[2 + 129] = '\0';
	is_int(sw_labels_canon(big, out, sizeof(out), err, sizeof(err)), SW_EPARSE,
	       "a value over 128 bytes is refused");
	ok(strstr(err, "longer than 128") && strstr(err, "...'"), "and the quoted item is cut: %s",
	   err);
	big[2 + 128] = '\0';
	ok(sw_matchers_parse(big, &m, err, sizeof(err)) == SW_OK, "a 128-byte value matcher");
	ok(sw_matchers_match(m, big), "matches the label");
	sw_matchers_free(m);
	/* labels that are not canonical still match safely */
	big[1] = '=', big[2 + 128] = 'v', big[2 + 300] = '\0';
	ok(sw_matchers_parse("k=~v+", &m, err, sizeof(err)) == SW_OK, "a regex");
	ok(sw_matchers_match(m, big), "matches a 300-byte value");
	sw_matchers_free(m);
}

static void test_error_text(void)
{
	struct sw_matchers *m = (struct sw_matchers *)&m;
	char err[256], tiny[12];

	ok(sw_matchers_parse("courier=a\nb,x=\x1b[31m", &m, err, sizeof(err)) == SW_EPARSE,
	   "control characters are refused");
	ok(m == NULL, "*ret is NULL on error");
	ok(!strchr(err, '\n') && !strchr(err, '\x1b') && strstr(err, "'courier=a?b'"),
	   "the error is one clean line: %s", err);
	ok(sw_matchers_parse("courier=~(dhl", &m, tiny, sizeof(tiny)) == SW_EPARSE,
	   "an error into a small buffer");
	is_int(strlen(tiny), sizeof(tiny) - 1, "is cut, terminated");
	ok(sw_matchers_parse(NULL, &m, err, sizeof(err)) == SW_EPARSE, "NULL text: no matcher");
	ok(sw_matchers_parse("   ", &m, NULL, 0) == SW_EPARSE, "blanks: none (no error buffer)");
	ok(sw_labels_canon("a=1", tiny, 0, err, sizeof(err)) == SW_ETOOBIG, "no output room");
}

int main(void)
{
	run_file("cases", run_case);
	run_file("labels", run_labels);
	test_canonical_text();
	test_labels_get();
	test_limits();
	test_error_text();
	return tap_done();
}
