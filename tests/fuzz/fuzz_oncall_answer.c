/*
 * fuzz_oncall_answer.c - fuzz target for what the on-call channels make
 * of a receiver's answer (alerts/chan_http.c sw_http_answer, the
 * classification and detail sw_http_post gives; PagerDuty's reason
 * sw_http_pagerduty_reason, Events v2 JSON; Slack's and the webhook's,
 * sw_http_reason_text, the body as text).
 *
 * Input, read like an HTTP answer (corpus/oncall_answer/ holds the
 * documented ones):
 *   ROW STATUS             ROW "pagerduty" takes PagerDuty's reason,
 *                          any other word the text one; STATUS any number
 *   Retry-After: VALUE     optional header lines
 *   Over: yes              (the body was over the bound, not read)
 *                          an empty line
 *   BODY                   the rest, any bytes
 * Properties checked on every input (a violation aborts):
 * - the result is SENT, TEMPFAIL or FAILED, as chan_http.h's table says
 *   for the status, with the server fault it says; a retry hint only
 *   for TEMPFAIL, within 0..SW_CHAN_RETRY_AFTER_MAX;
 * - a reason (when it gives one) is what it returns, at most SW_HTTP_REASON_MAX bytes, one
 *   clean line (valid UTF-8 without control characters: C0, DEL, C1,
 *   U+2028, U+2029), in any buffer size;
 * - the detail starts "HTTP STATUS", is one clean line, bounded (the
 *   reason and the two notes), and stays in any buffer given.
 */
#include "config.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alerts/chan_http.h"
#include "alerts/channel.h"
#include "lib/utf8.h"
#include "lib/xmalloc.h"

#define NOW	   INT64_C(1445412420)		  /* Wed, 21 Oct 2015 07:27:00 GMT */
#define DETAIL_MAX (64 + SW_HTTP_REASON_MAX + 64) /* status, reason, notes */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct answer {
	bool pagerduty;
	struct sw_http_answer a;
	char *retry_after;
};

/* Valid UTF-8, no control character; strlen(s) == n. */
static void check_line(const char *s, size_t n)
{
	size_t i = 0, len;
	uint32_t cp;

	if (strlen(s) != n)
		abort();
	while (i < n) {
		len = sw_utf8_decode((const unsigned char *)s + i, n - i, &cp);
		if (len == 0)
			abort(); /* invalid UTF-8 */
		if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 ||
		    cp == 0x2029)
			abort(); /* a control character */
		i += len;
	}
}

/* Splits the input (see the top); the strings point into text. */
static void parse(char *text, size_t size, struct answer *ans)
{
	char *p = text, *end = text + size, *nl;

	memset(ans, 0, sizeof(*ans));
	ans->a.max = 16 * 1024;
	nl = memchr(p, '\n', (size_t)(end - p));
	if (!nl) { /* a body alone: a webhook's 400 */
		ans->a.status = 400;
		ans->a.body = text;
		ans->a.n = size;
		return;
	}
	*nl = '\0';
	ans->pagerduty = strncmp(p, "pagerduty ", 10) == 0;
	p += strcspn(p, " ");
	ans->a.status = strtol(p, NULL, 10);
	for (p = nl + 1; p < end && (nl = memchr(p, '\n', (size_t)(end - p))) && nl != p;
	     p = nl + 1) {
		*nl = '\0';
		if (strncasecmp(p, "Retry-After:", 12) == 0 && !ans->retry_after)
			ans->retry_after = xstrdup(p + 12 + strspn(p + 12, " \t"));
		else if (strcasecmp(p, "Over: yes") == 0)
			ans->a.over = true;
	}
	if (p < end && *p == '\n')
		p++;
	ans->a.body = p;
	ans->a.n = (size_t)(end - p);
	ans->a.retry_after = ans->retry_after;
}

/* The result and fault chan_http.h's table gives status. */
static enum sw_chan_result expected(long status, bool *ret_fault)
{
	*ret_fault = false;
	if (status >= 200 && status <= 299)
		return SW_CHAN_SENT;
	if (status == 408 || status == 425)
		return SW_CHAN_TEMPFAIL;
	if (status >= 400 && status <= 499 && status != 401 && status != 407 && status != 429)
		return SW_CHAN_FAILED;
	*ret_fault = true;
	return SW_CHAN_TEMPFAIL;
}

static void check_reason(const struct answer *ans, sw_http_reason_fn reason)
{
	static const size_t sizes[] = {SW_HTTP_REASON_MAX + 8, 17, 2, 1};
	char out[SW_HTTP_REASON_MAX + 8];

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n;

		memset(out, 'x', sizeof(out));
		n = reason(ans->a.status, ans->a.body, ans->a.n, out, sizes[i]);
		if (n > SW_HTTP_REASON_MAX || n >= sizes[i])
			abort();
		if (n) /* 0: nothing to add, out as it was */
			check_line(out, n);
	}
}

static void check_answer(const struct answer *ans, sw_http_reason_fn reason)
{
	char detail[1024], small[24], head[32];
	enum sw_chan_result r, want;
	bool fault, want_fault;
	int64_t retry;
	size_t n;

	want = expected(ans->a.status, &want_fault);
	r = sw_http_answer(&ans->a, NOW, reason, &fault, &retry, detail, sizeof(detail));
	if (r != want || fault != want_fault)
		abort();
	if (retry < 0 || retry > SW_CHAN_RETRY_AFTER_MAX || (retry && r != SW_CHAN_TEMPFAIL))
		abort();
	n = strlen(detail);
	snprintf(head, sizeof(head), "HTTP %ld", ans->a.status);
	if (n > DETAIL_MAX || strncmp(detail, head, strlen(head)) != 0)
		abort();
	check_line(detail, n);
	memset(small, 'x', sizeof(small));
	if (sw_http_answer(&ans->a, NOW, reason, &fault, &retry, small, sizeof(small)) != want ||
	    memchr(small, '\0', sizeof(small)) == NULL || strncmp(small, detail, strlen(small)))
		abort(); /* a prefix of the same detail, terminated */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xmalloc(size + 1);
	struct answer ans;

	memcpy(text, data, size);
	text[size] = '\0';
	parse(text, size, &ans);
	check_reason(&ans, sw_http_pagerduty_reason);
	check_reason(&ans, sw_http_reason_text);
	check_answer(&ans, ans.pagerduty ? sw_http_pagerduty_reason : NULL);
	free(ans.retry_after);
	free(text);
	return 0;
}
