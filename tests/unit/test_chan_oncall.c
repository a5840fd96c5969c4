/*
 * test_chan_oncall.c - unit tests for the on-call side of the channel
 * table: the [receiver NAME] sections (alerts/receivers.c), the Slack and
 * PagerDuty rows (alerts/chan_slack.c, alerts/chan_pagerduty.c) and the
 * webhook row's page body (alerts/chan_webhook.c).
 *
 * Receiver configuration cases are data: tests/data/receivers/NNN-name/
 * holds conf (a slipwatch.conf fragment; @DIR@ is this test's temp dir,
 * where the secret files below are written) and expect, one check per
 * line:
 *   ok N                 loads, N receivers
 *   error TEXT           refused, the error holds TEXT
 *   textonly             load with sw_conf_set_text_only (secrets unread)
 *   receiver NAME CHANNEL yes|no   a receiver, its channel, send_resolved
 *   to NAME A,B          an email receiver's addresses
 *   dump TEXT / nodump TEXT        sw_receivers_dump holds / lacks TEXT
 * Whatever the case, no secret's value may appear in an error or a dump.
 *
 * Then the rows against tests/tools/oncall_sink.py on 127.0.0.1 (python3
 * standard library), which validates each body as Slack, PagerDuty
 * Events v2 or a signed webhook would and answers as its mode files say:
 * ok, 400, 404, 410, 429 with a Retry-After, 500, hang, echo.  No timing
 * is asserted: a hang is ended by a 1 s timeout and only the result is
 * checked.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "alerts/channel.h"
#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/xmalloc.h"
#include "tests/sink.h"
#include "tests/tap.h"

#define HOOK_SECRET "whsec-oncall-0123456789abcdef"
#define PD_KEY	    "R0utingKey0123456789abcdefABCDEF" /* 32 */
#define SLACK_TOKEN "T0SECRET/B0SECRET/xoxSECRETtoken42"
#define CREATED	    INT64_C(1795000000) /* 2026-11-18T11:06:40Z */
#define SINCE	    INT64_C(1794999400) /* ten minutes before */
#define DEDUP	    "slipwatch/late_rate/warehouse=w1/7"

static char tmpdir[] = "/tmp/sw-test-oncall.XXXXXX";
static const char *python;
static char srcdir[PATH_MAX];

/* ---- helpers ---------------------------------------------------------------- */

/* Writes tmpdir/name with mode. */
static void spew(const char *name, const char *text, mode_t mode)
{
	char path[PATH_MAX + 64];

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	sink_spew(path, text, mode);
}

/* text with every @DIR@ replaced by tmpdir (new string). */
static char *subst_dir(const char *text)
{
	struct sw_buf b;
	const char *p;
	char *out;

	sw_buf_init(&b, SW_CONF_MAX_FILE);
	while ((p = strstr(text, "@DIR@")) != NULL) {
		sw_buf_add(&b, text, (size_t)(p - text));
		sw_buf_adds(&b, tmpdir);
		text = p + 5;
	}
	sw_buf_adds(&b, text);
	out = sw_buf_steal(&b, NULL);
	sw_buf_free(&b);
	return out;
}

static const char *jpath(json_t *j, ...)
{
	va_list ap;
	const char *k;

	va_start(ap, j);
	while ((k = va_arg(ap, const char *)) != NULL)
		j = json_object_get(j, k);
	va_end(ap);
	return json_string_value(j);
}

/* True if s holds any secret value of this test. */
static bool has_secret(const char *s)
{
	return strstr(s, HOOK_SECRET) || strstr(s, PD_KEY) || strstr(s, "T0SECRET") ||
	       strstr(s, "xoxSECRET");
}

/* ---- receiver configuration cases --------------------------------------------- */

/* Loads text as receivers.conf; SW_OK with *ret and *ret_n, or the error. */
static enum sw_err load_receivers(const char *text, bool text_only, struct sw_receiver_conf **ret,
				  size_t *ret_n, char *err, size_t len)
{
	struct sw_conf *conf = NULL;
	enum sw_err rc;

	*ret = NULL;
	*ret_n = 0;
	err[0] = '\0';
	rc = sw_conf_load_string(text, "receivers.conf", &conf, err, len);
	if (rc == SW_OK) {
		sw_conf_set_text_only(conf, text_only);
		rc = sw_receivers_load(conf, ret, ret_n, err, len);
	}
	sw_conf_free(conf);
	return rc;
}

static const struct sw_receiver_conf *find_rx(const struct sw_receiver_conf *r, size_t n,
					      const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(r[i].name, name) == 0)
			return &r[i];
	return NULL;
}

/* One check line of an expect file against the loaded result. */
static void expect_line(const char *cs, char *line, enum sw_err rc, const char *err,
			const struct sw_receiver_conf *r, size_t n, const char *dump)
{
	char *arg = strchr(line, ' '), name[64], chan[32], yes[8], list[512];
	const struct sw_receiver_conf *x;
	struct sw_buf b;

	if (arg)
		*arg++ = '\0';
	if (strcmp(line, "ok") == 0) {
		ok(rc == SW_OK && n == (size_t)strtoul(arg, NULL, 10),
		   "%s: loads, %s receivers (%s)", cs, arg, err);
	} else if (strcmp(line, "error") == 0) {
		ok(rc == SW_ECONF && strstr(err, arg), "%s: refused: %s", cs, arg);
		if (rc != SW_ECONF || !strstr(err, arg))
			printf("#   got: %s\n", err);
	} else if (strcmp(line, "receiver") == 0 &&
		   sscanf(arg, "%63s %31s %7s", name, chan, yes) == 3) {
		x = find_rx(r, n, name);
		ok(x && strcmp(x->ops->name, chan) == 0 &&
		       x->send_resolved == (strcmp(yes, "yes") == 0) &&
		       (x->chconf != NULL) == (strcmp(chan, "email") != 0),
		   "%s: receiver %s: channel %s, send_resolved %s", cs, name, chan, yes);
	} else if (strcmp(line, "to") == 0 && sscanf(arg, "%63s %511s", name, list) == 2) {
		x = find_rx(r, n, name);
		sw_buf_init(&b, 4096);
		for (size_t i = 0; x && i < x->n_to; i++)
			sw_buf_printf(&b, "%s%s", i ? "," : "", x->to[i]);
		is_str(sw_buf_str(&b), list, "%s: %s's addresses", cs, name);
		sw_buf_free(&b);
	} else if (strcmp(line, "dump") == 0 || strcmp(line, "nodump") == 0) {
		ok((strstr(dump, arg) != NULL) == (line[0] == 'd'), "%s: dump %s '%s'", cs,
		   line[0] == 'd' ? "has" : "lacks", arg);
	} else if (strcmp(line, "textonly") != 0) {
		ok(0, "%s: unknown expect line '%s'", cs, line);
	}
}

static void run_case(const char *dir, const char *cs)
{
	char path[PATH_MAX + 80], err[1024], *conf_raw, *conf, *expect, *line, *next;
	struct sw_receiver_conf *r = NULL;
	size_t n = 0;
	struct sw_buf dump;
	enum sw_err rc;

	snprintf(path, sizeof path, "%s/%s/conf", dir, cs);
	conf_raw = slurp(path);
	snprintf(path, sizeof path, "%s/%s/expect", dir, cs);
	expect = slurp(path);
	if (!ok(conf_raw && expect, "%s: conf and expect read", cs)) {
		free(conf_raw);
		free(expect);
		return;
	}
	conf = subst_dir(conf_raw);
	rc = load_receivers(conf, strstr(expect, "textonly") != NULL, &r, &n, err, sizeof err);
	sw_buf_init(&dump, 1 << 20);
	sw_receivers_dump(r, n, &dump);
	ok(!has_secret(err) && !has_secret(sw_buf_str(&dump)), "%s: no secret in error or dump",
	   cs);
	for (line = expect; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (*line && *line != '#')
			expect_line(cs, line, rc, err, r, n, sw_buf_str(&dump));
	}
	sw_buf_free(&dump);
	sw_receivers_free(r, n);
	free(conf);
	free(conf_raw);
	free(expect);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_receiver_cases(void)
{
	const char *data = getenv("SW_TEST_DATA");
	char dir[PATH_MAX + 64], *names[256];
	struct dirent *de;
	size_t n = 0, i;
	DIR *d;

	if (data && *data)
		snprintf(dir, sizeof dir, "%s/receivers", data);
	else
		snprintf(dir, sizeof dir, "%s/tests/data/receivers", srcdir);
	if (!ok((d = opendir(dir)) != NULL, "receiver cases in %s", dir))
		return;
	while ((de = readdir(d)) != NULL && n < 256)
		if (de->d_name[0] >= '0' && de->d_name[0] <= '9')
			names[n++] = xstrdup(de->d_name);
	closedir(d);
	qsort(names, n, sizeof *names, name_cmp);
	ok(n >= 20, "at least 20 receiver cases (%zu)", n);
	for (i = 0; i < n; i++) {
		run_case(dir, names[i]);
		free(names[i]);
	}
}

/* The pages_only rows have no section of their own. */
static void test_no_own_section(void)
{
	struct sw_conf *conf = NULL;
	void *cc = NULL;
	char err[512];

	if (sw_conf_load_string("[slack]\nurl_env = X\n", "s.conf", &conf, err, sizeof err))
		return;
	ok(sw_channel_conf_load(&sw_chan_slack, conf, &cc, err, sizeof err) == SW_ECONF &&
	       cc == NULL && strstr(err, "s.conf:1: [slack]: slack is set up in [receiver NAME]"),
	   "[slack] as a section: refused (%s)", err);
	ok(sw_channel_conf_load(&sw_chan_pagerduty, NULL, &cc, err, sizeof err) == SW_ECONF,
	   "pagerduty: no section of its own either");
	sw_conf_free(conf);
}

/* ---- live: the rows against oncall_sink.py ----------------------------------- */

static struct sink sink;

/* Opens receiver NAME of text (@DIR@, @PORT@ replaced); NULL on error. */
static struct sw_channel *open_rx(const char *text)
{
	char *t1 = subst_dir(text), port[16], err[1024], *p, *t2;
	struct sw_receiver_conf *r = NULL;
	struct sw_channel *ch = NULL;
	size_t n = 0;

	snprintf(port, sizeof port, "%d", sink.port);
	while ((p = strstr(t1, "@PORT@")) != NULL) {
		*p = '\0';
		t2 = xasprintf("%s%s%s", t1, port, p + 6);
		free(t1);
		t1 = t2;
	}
	if (load_receivers(t1, false, &r, &n, err, sizeof err) != SW_OK || n != 1 ||
	    sw_channel_open(r[0].ops, r[0].chconf, &ch, err, sizeof err) != SW_OK)
		ok(0, "receiver opens: %s", err);
	sw_receivers_free(r, n); /* the channel keeps copies */
	free(t1);
	return ch;
}

static struct sw_page_notice page_of(const char *event)
{
	struct sw_page_notice p = {0};

	p.event = event;
	p.dedup_key = DEDUP;
	p.severity = "critical";
	p.state = strcmp(event, "resolve") == 0 ? "resolved" : "firing";
	p.rule = "late_rate";
	p.source = "warehouse w1";
	p.labels = "courier=dhl,severity=critical,signal=late_share,warehouse=w1";
	p.figures_json = "{\"value\": 0.25, \"threshold\": 0.1, \"orders\": 480}";
	p.stage = "line_haul";
	p.acked_by = strcmp(event, "acknowledge") == 0 ? "asha" : NULL;
	p.receiver = "ops";
	p.since = SINCE;
	return p;
}

static struct sw_notice notice_of(const struct sw_page_notice *p)
{
	struct sw_notice n = {0};

	n.id = 7;
	n.created_at = CREATED;
	n.key = "page-7-1795000000";
	n.kind = "page";
	n.recipient = "ops";
	n.warehouse_id = "w1";
	n.subject = "Late share 25% at w1 <dhl> & more";
	n.text = "480 orders, 120 late.\nSee the dashboard.";
	n.date = (int64_t)time(NULL);
	n.page = p;
	return n;
}

/* Sends and checks that no secret leaks into the detail. */
static enum sw_chan_result send_n(struct sw_channel *ch, const struct sw_notice *n, int64_t *after,
				  char *detail, size_t len)
{
	enum sw_chan_result r = sw_channel_send(ch, n, after, detail, len);

	if (has_secret(detail))
		ok(0, "a detail holds a secret: %s", detail);
	return r;
}

/* The last log line of the sink. */
static json_t *last(void)
{
	return sink_log(&sink, sink_count(&sink));
}

/* Removes DIR/file of the sink. */
static void sink_unlink(const char *file)
{
	char path[PATH_MAX + 80];

	snprintf(path, sizeof path, "%s/%s", sink.dir, file);
	unlink(path);
}

/* 429 with and without Retry-After, 500, hang, echo: the same for every
 * row.  modef is the row's mode file ("mode.slack"). */
static void common_faults(struct sw_channel *quick, const struct sw_notice *n, const char *modef,
			  const char *what, bool sends_secret)
{
	char detail[SW_CHAN_DETAIL_LEN];
	int64_t after = -1;
	int before;

	sink_write(&sink, "retry_after", "7");
	sink_write(&sink, modef, "429");
	is_int(send_n(quick, n, &after, detail, sizeof detail), SW_CHAN_TEMPFAIL,
	       "%s 429: tempfail (%s)", what, detail);
	is_int(after, 7, "%s 429: Retry-After 7 honoured", what);
	ok(sw_channel_server_fault(quick), "%s 429: the server's fault", what);
	sink_unlink("retry_after");
	is_int(send_n(quick, n, &after, detail, sizeof detail), SW_CHAN_TEMPFAIL,
	       "%s 429 without Retry-After: tempfail", what);
	is_int(after, 0, "%s 429 without Retry-After: no hint", what);
	ok(sw_channel_server_fault(quick), "%s ...the server's fault", what);

	sink_write(&sink, modef, "500");
	is_int(send_n(quick, n, &after, detail, sizeof detail), SW_CHAN_TEMPFAIL,
	       "%s 500: tempfail (%s)", what, detail);
	ok(sw_channel_server_fault(quick), "%s 500: the server's fault", what);
	ok(strncmp(detail, "HTTP 500", 8) == 0, "%s 500: detail starts HTTP 500", what);

	sink_write(&sink, modef, "hang");
	is_int(send_n(quick, n, &after, detail, sizeof detail), SW_CHAN_TEMPFAIL,
	       "%s hanging receiver: tempfail after the 1 s timeout (%s)", what, detail);
	ok(sw_channel_server_fault(quick) && strstr(detail, "no complete HTTP reply"),
	   "%s hang: the server's fault, no reply", what);

	sink_write(&sink, modef, "echo");
	before = sink_count(&sink);
	is_int(send_n(quick, n, &after, detail, sizeof detail), SW_CHAN_FAILED,
	       "%s echo (400 repeating the request): failed", what);
	if (sends_secret)
		ok(sink_count(&sink) == before + 1 && strstr(detail, "(secret)"),
		   "%s echo: the secret in the answer is scrubbed (%s)", what, detail);
	else
		ok(sink_count(&sink) == before + 1 && strstr(detail, "HTTP 400: echo /hook"),
		   "%s echo: the request never held the secret (only its signature)", what);
	sink_write(&sink, modef, "ok");
	is_int(send_n(quick, n, &after, detail, sizeof detail), SW_CHAN_SENT, "%s back to ok: sent",
	       what);
	ok(!sw_channel_server_fault(quick), "%s no server fault after a success", what);
}

static void test_slack(void)
{
	struct sw_page_notice p = page_of("trigger");
	struct sw_notice n = notice_of(&p);
	char detail[SW_CHAN_DETAIL_LEN], *url;
	struct sw_channel *ch;
	int64_t after = -1;
	json_t *j, *blocks;
	const char *text;

	url = xasprintf("http://127.0.0.1:%d/slack/" SLACK_TOKEN "\n", sink.port);
	spew("live-slack.url", url, 0600);
	free(url);
	ch = open_rx("[receiver ops-slack]\nchannel = slack\nurl_file = @DIR@/live-slack.url\n"
		     "timeout = 1s\n");
	if (!ch)
		return;
	is_str(sw_channel_name(ch), "slack", "slack: the open channel's name");
	is_int(send_n(ch, &n, &after, detail, sizeof detail), SW_CHAN_SENT,
	       "slack trigger: sent (%s)", detail);
	is_str(detail, "HTTP 200", "slack trigger: detail HTTP 200 (body ok)");
	j = last();
	ok(json_is_true(json_object_get(j, "valid")), "slack trigger: the sink finds it valid");
	is_str(jpath(j, "route", NULL), "slack", "...posted to the slack path");
	text = jpath(j, "json", "text", NULL);
	ok(text && strstr(text, "Firing (critical): Late share 25% at w1 &lt;dhl&gt; &amp; more"),
	   "slack: fallback text says what, escaped (%s)", text ? text : "-");
	blocks = json_object_get(json_object_get(j, "json"), "blocks");
	is_str(jpath(json_array_get(blocks, 0), "type", NULL), "header", "slack: a header block");
	ok(strstr(jpath(json_array_get(blocks, 0), "text", "text", NULL), "<dhl> & more") != NULL,
	   "slack: the header is plain text (not escaped)");
	ok(strstr(jpath(json_array_get(blocks, 1), "text", "text", NULL),
		  "*Late share 25% at w1 &lt;dhl&gt; &amp; more*\n480 orders") != NULL,
	   "slack: the section has the summary and the details, mrkdwn-escaped");
	ok(json_array_size(json_object_get(json_array_get(blocks, 2), "fields")) == 8,
	   "slack: fields for state, severity, rule, source, the stage and the three figures");
	is_str(jpath(json_array_get(json_object_get(json_array_get(blocks, 2), "fields"), 4),
		     "text", NULL),
	       "*Stage that ran over*\nline haul", "slack: the stage is a field, in words");
	json_decref(j);
	p.stage = NULL;
	is_int(send_n(ch, &n, &after, detail, sizeof detail), SW_CHAN_SENT,
	       "slack trigger without a stage: sent");
	j = last();
	blocks = json_object_get(json_object_get(j, "json"), "blocks");
	ok(json_is_true(json_object_get(j, "valid")) &&
	       json_array_size(json_object_get(json_array_get(blocks, 2), "fields")) == 7 &&
	       !strstr(
		   jpath(json_array_get(json_object_get(json_array_get(blocks, 2), "fields"), 4),
			 "text", NULL),
		   "Stage"),
	   "slack: no stage, no stage field");
	p.stage = "line_haul";
	ok(strstr(jpath(json_array_get(json_object_get(json_array_get(blocks, 3), "elements"), 0),
			"text", NULL),
		  "since 2026-11-18T10:56:40Z") != NULL,
	   "slack: the context says since when");
	json_decref(j);

	p = page_of("resolve");
	is_int(send_n(ch, &n, &after, detail, sizeof detail), SW_CHAN_SENT, "slack resolve: sent");
	j = last();
	ok(strncmp(jpath(j, "json", "text", NULL), "Resolved: ", 10) == 0,
	   "slack resolve: a Resolved message");
	json_decref(j);
	p = page_of("acknowledge");
	is_int(send_n(ch, &n, &after, detail, sizeof detail), SW_CHAN_SENT, "slack ack: sent");
	j = last();
	ok(strncmp(jpath(j, "json", "text", NULL), "Acknowledged by asha: ", 22) == 0,
	   "slack ack: Acknowledged by asha");
	json_decref(j);
	p = page_of("trigger");

	sink_write(&sink, "mode.slack", "400");
	is_int(send_n(ch, &n, &after, detail, sizeof detail), SW_CHAN_FAILED, "slack 400: failed");
	is_str(detail, "HTTP 400: invalid_payload", "slack 400: Slack's reason in the detail");
	ok(!sw_channel_server_fault(ch), "slack 400: not the server's fault");
	sink_write(&sink, "mode.slack", "410");
	is_int(send_n(ch, &n, &after, detail, sizeof detail), SW_CHAN_FAILED, "slack 410: failed");
	is_str(detail, "HTTP 410: channel_is_archived", "slack 410: channel_is_archived");
	sink_write(&sink, "mode.slack", "500");
	send_n(ch, &n, &after, detail, sizeof detail);
	is_str(detail, "HTTP 500: rollup_error", "slack 500: rollup_error in the detail");
	common_faults(ch, &n, "mode.slack", "slack", true);

	n.page = NULL;
	ok(send_n(ch, &n, &after, detail, sizeof detail) == SW_CHAN_FAILED &&
	       strstr(detail, "slack takes on-call pages only"),
	   "slack: a customer notice is refused (%s)", detail);
	sw_channel_close(ch);
}

static void test_pagerduty(void)
{
	struct sw_page_notice p = page_of("trigger");
	struct sw_notice n = notice_of(&p);
	char detail[SW_CHAN_DETAIL_LEN], longs[3001];
	struct sw_channel *ch;
	int64_t after = -1;
	json_t *j, *body, *pl;

	ch = open_rx("[receiver pd]\nchannel = pagerduty\nrouting_key_file = @DIR@/live-pd.key\n"
		     "url = http://127.0.0.1:@PORT@/pd\ntimeout = 1s\n");
	if (!ch)
		return;
	is_int(send_n(ch, &n, &after, detail, sizeof detail), SW_CHAN_SENT,
	       "pagerduty trigger: sent (%s)", detail);
	is_str(detail, "HTTP 202 dedup_key " DEDUP, "pagerduty: detail HTTP 202 dedup_key ...");
	j = last();
	body = json_object_get(j, "json");
	pl = json_object_get(body, "payload");
	ok(json_is_true(json_object_get(j, "valid")), "pagerduty trigger: the sink finds it valid");
	is_str(jpath(j, "headers", "Content-Type", NULL), "application/json", "Content-Type");
	is_str(jpath(body, "routing_key", NULL), PD_KEY, "routing_key");
	is_str(jpath(body, "event_action", NULL), "trigger", "event_action trigger");
	is_str(jpath(body, "dedup_key", NULL), DEDUP, "dedup_key");
	is_str(jpath(body, "client", NULL), "slipwatch", "client slipwatch");
	is_str(jpath(pl, "summary", NULL), n.subject, "payload.summary is the subject");
	is_str(jpath(pl, "source", NULL), "warehouse w1", "payload.source");
	is_str(jpath(pl, "severity", NULL), "critical", "payload.severity critical");
	is_str(jpath(pl, "timestamp", NULL), "2026-11-18T10:56:40Z", "payload.timestamp: since");
	is_str(jpath(pl, "component", NULL), "w1", "payload.component: the warehouse label");
	is_str(jpath(pl, "group", NULL), "late_rate", "payload.group: the rule");
	is_str(jpath(pl, "class", NULL), "late_share", "payload.class: the signal label");
	is_str(jpath(pl, "custom_details", "labels", "courier", NULL), "dhl",
	       "custom_details.labels");
	ok(json_integer_value(json_object_get(
	       json_object_get(json_object_get(pl, "custom_details"), "figures"), "orders")) == 480,
	   "custom_details.figures");
	is_str(jpath(pl, "custom_details", "details", NULL), n.text, "custom_details.details");
	is_str(jpath(pl, "custom_details", "stage", NULL), "line_haul",
	       "custom_details.stage: the stage that ran over");
	json_decref(j);
	p.stage = NULL;
	is_int(send_n(ch, &n, &after, detail, sizeof detail), SW_CHAN_SENT,
	       "pagerduty trigger without a stage");
	j = last();
	pl = json_object_get(json_object_get(j, "json"), "payload");
	ok(json_is_true(json_object_get(j, "valid")) &&
	       json_object_get(json_object_get(pl, "custom_details"), "details") &&
	       !json_object_get(json_object_get(pl, "custom_details"), "stage"),
	   "...has no custom_details.stage");
	json_decref(j);

	p = page_of("resolve");
	is_int(send_n(ch, &n, &after, detail, sizeof detail), SW_CHAN_SENT, "pagerduty resolve");
	j = last();
	body = json_object_get(j, "json");
	ok(json_object_size(body) == 3 && jpath(body, "routing_key", NULL) &&
	       strcmp(jpath(body, "event_action", NULL), "resolve") == 0 &&
	       strcmp(jpath(body, "dedup_key", NULL), DEDUP) == 0,
	   "resolve: routing_key, event_action, dedup_key only");
	json_decref(j);
	p = page_of("acknowledge");
	is_int(send_n(ch, &n, &after, detail, sizeof detail), SW_CHAN_SENT, "pagerduty ack");
	j = last();
	ok(json_is_true(json_object_get(j, "valid")) &&
	       json_object_size(json_object_get(j, "json")) == 3,
	   "acknowledge: valid, three members");
	json_decref(j);

	p = page_of("trigger");
	p.severity = "warning";
	for (size_t i = 0; i + 3 <= 3000; i += 3)
		memcpy(longs + i, "\xe0\xa4\x85", 3); /* Devanagari a, 1000 times */
	longs[3000] = '\0';
	n.subject = longs;
	is_int(send_n(ch, &n, &after, detail, sizeof detail), SW_CHAN_SENT,
	       "a 3000-byte summary: sent");
	j = last();
	pl = json_object_get(json_object_get(j, "json"), "payload");
	ok(json_is_true(json_object_get(j, "valid")) && jpath(pl, "summary", NULL) &&
	       strlen(jpath(pl, "summary", NULL)) == 1023,
	   "...cut to 1023 bytes, on a character boundary, and valid");
	is_str(jpath(pl, "severity", NULL), "warning", "warning maps to warning");
	json_decref(j);
	n.subject = "Late share 25% at w1";

	sink_write(&sink, "mode.pd", "400");
	is_int(send_n(ch, &n, &after, detail, sizeof detail), SW_CHAN_FAILED,
	       "pagerduty 400: failed");
	is_str(detail, "HTTP 400: Event object is invalid: sink: mode 400",
	       "pagerduty 400: message and errors in the detail");
	ok(!sw_channel_server_fault(ch), "pagerduty 400: not the server's fault");
	common_faults(ch, &n, "mode.pd", "pagerduty", true);
	sw_channel_close(ch);
}

static void test_webhook_page(void)
{
	struct sw_page_notice p = page_of("trigger");
	struct sw_notice n = notice_of(&p);
	char detail[SW_CHAN_DETAIL_LEN];
	struct sw_channel *ch;
	int64_t after = -1;
	json_t *j, *body;
	int before;

	ch = open_rx("[receiver ops-hook]\nchannel = webhook\nurl = http://127.0.0.1:@PORT@/hook\n"
		     "secret_file = @DIR@/hook.secret\ntimeout = 1s\nconnect_timeout = 1s\n"
		     "send_resolved = no\n");
	if (!ch)
		return;
	is_int(send_n(ch, &n, &after, detail, sizeof detail), SW_CHAN_SENT,
	       "webhook page: sent (%s)", detail);
	j = last();
	body = json_object_get(j, "json");
	ok(json_is_true(json_object_get(j, "sig_ok")), "webhook page: the signature verifies");
	ok(json_is_true(json_object_get(j, "valid")), "webhook page: a well-formed page body");
	is_str(jpath(j, "headers", "Idempotency-Key", NULL), n.key, "Idempotency-Key is the key");
	is_str(jpath(body, "id", NULL), n.key, "id is the key");
	is_str(jpath(body, "type", NULL), "page", "type page");
	is_str(jpath(body, "event", NULL), "trigger", "event trigger");
	is_str(jpath(body, "dedup_key", NULL), DEDUP, "dedup_key");
	is_str(jpath(body, "state", NULL), "firing", "state");
	is_str(jpath(body, "severity", NULL), "critical", "severity");
	is_str(jpath(body, "rule", NULL), "late_rate", "rule");
	is_str(jpath(body, "source", NULL), "warehouse w1", "source");
	is_str(jpath(body, "summary", NULL), n.subject, "summary: the subject, unescaped");
	is_str(jpath(body, "details", NULL), n.text, "details: the text");
	is_str(jpath(body, "labels", "warehouse", NULL), "w1", "labels as an object");
	ok(json_real_value(json_object_get(json_object_get(body, "figures"), "value")) == 0.25,
	   "figures as JSON");
	is_str(jpath(body, "stage", NULL), "line_haul", "stage: the stage that ran over");
	is_str(jpath(body, "since", NULL), "2026-11-18T10:56:40Z", "since RFC 3339");
	is_str(jpath(body, "created_at", NULL), "2026-11-18T11:06:40Z", "created_at");
	is_str(jpath(body, "receiver", NULL), "ops", "receiver");
	ok(json_is_null(json_object_get(body, "acked_by")) &&
	       json_is_false(json_object_get(body, "repeat")) &&
	       json_is_false(json_object_get(body, "escalation")),
	   "acked_by null, repeat and escalation false");
	json_decref(j);

	p = page_of("acknowledge");
	p.repeat = true;
	send_n(ch, &n, &after, detail, sizeof detail);
	j = last();
	body = json_object_get(j, "json");
	ok(json_is_true(json_object_get(j, "sig_ok")) &&
	       strcmp(jpath(body, "acked_by", NULL), "asha") == 0 &&
	       json_is_true(json_object_get(body, "repeat")),
	   "acknowledge: acked_by, repeat, signed");
	json_decref(j);
	p.stage = NULL;
	send_n(ch, &n, &after, detail, sizeof detail);
	j = last();
	body = json_object_get(j, "json");
	ok(json_is_true(json_object_get(j, "valid")) && json_object_get(body, "stage") &&
	       json_is_null(json_object_get(body, "stage")),
	   "a page without a stage: stage null");
	json_decref(j);

	n.page = NULL; /* the same channel still takes customer notices */
	n.kind = "late";
	is_int(send_n(ch, &n, &after, detail, sizeof detail), SW_CHAN_SENT,
	       "webhook customer notice: sent (%s)", detail);
	j = last();
	ok(jpath(j, "json", "message", "subject", NULL) &&
	       !json_object_get(json_object_get(j, "json"), "dedup_key"),
	   "...with the customer body");
	json_decref(j);

	n.page = &p;
	n.kind = "page";
	p = page_of("explode");
	before = sink_count(&sink);
	ok(send_n(ch, &n, &after, detail, sizeof detail) == SW_CHAN_FAILED &&
	       strstr(detail, "bad notice: page event"),
	   "a page with an unknown event: failed before sending (%s)", detail);
	p = page_of("trigger");
	p.figures_json = "[1]";
	ok(send_n(ch, &n, &after, detail, sizeof detail) == SW_CHAN_FAILED &&
	       strstr(detail, "figures_json is not a JSON object"),
	   "figures that are not an object: failed (%s)", detail);
	is_int(sink_count(&sink), before, "neither reached the receiver");
	p = page_of("trigger");

	sink_write(&sink, "mode.hook", "400");
	is_int(send_n(ch, &n, &after, detail, sizeof detail), SW_CHAN_FAILED,
	       "webhook 400: failed");
	common_faults(ch, &n, "mode.hook", "webhook", false);
	sw_channel_close(ch);
}

static void test_live(void)
{
	const char *const args[] = {"--secret", HOOK_SECRET, NULL};
	char prog[PATH_MAX + 64];

	snprintf(prog, sizeof prog, "%s/tests/tools/oncall_sink.py", srcdir);
	if (!python || access(prog, R_OK) != 0) {
		ok(1, "live on-call channels # SKIP python3 or %s not found", prog);
		return;
	}
	if (!ok(sink_run(&sink, python, prog, tmpdir, "oncall", 0, args), "oncall sink started"))
		return;
	test_slack();
	test_pagerduty();
	test_webhook_page();
	sink_stop(&sink);
}

int main(void)
{
	const char *const rm[] = {"rm", "-rf", tmpdir, NULL};

	setenv("TZ", "UTC", 1);
	if (!mkdtemp(tmpdir)) {
		printf("Bail out! no temp dir: %s\n", strerror(errno));
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	sink_srcdir(srcdir, sizeof srcdir, __FILE__, "tests/tools/oncall_sink.py");
	python = sink_find_python("http.server, hmac, select");
	unsetenv("SW_TEST_UNSET_VAR");
	spew("hook.secret", HOOK_SECRET "\n", 0600);
	spew("open.secret", HOOK_SECRET "\n", 0644);
	spew("slack.url", "https://hooks.slack.com/services/" SLACK_TOKEN "\n", 0600);
	spew("plain-slack.url", "http://hooks.slack.com/services/" SLACK_TOKEN "\n", 0600);
	spew("pd.key", PD_KEY "\n", 0600);
	spew("live-pd.key", PD_KEY "\n", 0600);
	spew("short.key", "R0uting\n", 0600);
	test_receiver_cases();
	test_no_own_section();
	test_live();
	sink_run_quiet(rm);
	curl_global_cleanup();
	return tap_done();
}
