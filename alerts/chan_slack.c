/*
 * chan_slack.c - the Slack row of the channel table: on-call pages posted
 * to a Slack incoming webhook.  A receiver-only channel (pages_only): it
 * is set up in a [receiver NAME] section and never carries customer
 * notices.
 *
 * [receiver ops-slack]
 *   channel = slack
 *   url_file = PATH      the incoming webhook URL (or url_env = VAR);
 *                        required.  The URL is the credential: it is read
 *                        from a file or the environment, never quoted in
 *                        an error, scrubbed from every detail.  https://
 *                        (http:// only to a loopback host, for tests)
 *   timeout = 10s        whole-request limit, connect included
 *
 * Request: POST, Content-Type: application/json, body
 *   {"text": FALLBACK, "blocks": [
 *      {"type": "header", "text": {"type": "plain_text", "text": TITLE}},
 *      {"type": "section", "text": {"type": "mrkdwn", "text": SUMMARY + DETAILS}},
 *      {"type": "section", "fields": [state, severity, rule, source,
 *                                     "Stage that ran over" (in words,
 *                                     "line haul"; only when there is
 *                                     one), figures..., at most 10]},
 *      {"type": "context", "elements": [{"type": "mrkdwn", "text":
 *                                        "since ... labels ..."}]}]}
 * TITLE says what happened: "Firing (critical): SUMMARY", "Still firing",
 * "Escalated", "No data", "Resolved: SUMMARY", "Acknowledged by WHO:
 * SUMMARY" (Slack has no notion of an incident's life: a resolve and an
 * acknowledgement are messages of their own).  Text in mrkdwn and in the
 * fallback has &, <, > written &amp; &lt; &gt; (Slack's control
 * characters); Slack's limits are kept (header 150, section 3000, field
 * 2000 bytes, cut on a character boundary).
 *
 * Answers (Slack's documented ones; the shared classification of
 * chan_http.h decides):
 *   200 "ok"                                       SENT
 *   400 invalid_payload, invalid_blocks, no_text;
 *   403 action_prohibited, invalid_token;
 *   404 channel_not_found, no_service;
 *   410 channel_is_archived                        FAILED, detail "HTTP 404:
 *                                                  no_service"
 *   429 (Retry-After)                              TEMPFAIL, server fault,
 *                                                  the hint honoured
 *   5xx (500 rollup_error), no reply, timeout      TEMPFAIL, server fault
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "alerts/chan_http.h"
#include "alerts/channel.h"
#include "alerts/stage.h"
#include "lib/buf.h"
#include "lib/xmalloc.h"

#define SECTION	    "slack" /* reserved: never read (pages_only) */
#define HEADER_MAX  150
#define SECTION_MAX 3000
#define FIELD_MAX   2000
#define FIELDS_MAX  10
#define BODY_MAX    (256 * 1024)

struct slack_conf {
	struct sw_conf_secret url; /* url_file / url_env */
	int64_t timeout;	   /* ms */
};

#define C(f) offsetof(struct slack_conf, f)
static const struct sw_conf_opt slack_opts[] = {
    {.name = "url",
     .type = SW_CONF_SECRET,
     .offset = C(url),
     .help = "the incoming webhook URL (url_file or url_env): a secret"},
    {.name = "timeout",
     .type = SW_CONF_DURATION,
     .offset = C(timeout),
     .min = 1000,
     .max = 600000,
     .def = "10s",
     .help = "time limit per message, connect included"},
    {.name = NULL},
};
#undef C

/* ---- configuration ------------------------------------------------------ */

static enum sw_err slack_check(const void *conf, const struct sw_conf *file, const char *kind,
			       const char *name, char *err, size_t len)
{
	const struct slack_conf *c = conf;
	struct sw_http_url_info ui;
	enum sw_err rc;

	if (!c->url.value)
		return sw_channel_conf_err(err, len, file, kind, name, "url",
					   "required but not set; use url_file or url_env", NULL);
	if (c->url.world_readable)
		return sw_channel_conf_err(err, len, file, kind, name, "url_file",
					   "readable by every user of this machine (chmod 600 it)",
					   NULL);
	if (strcmp(c->url.value, SW_CONF_SECRET_UNREAD) == 0)
		return SW_OK; /* checked as text only */
	if ((rc = sw_http_check_url(c->url.value, true, file, kind, name, "url", &ui, err, len)))
		return rc;
	if (!ui.https && !ui.loopback)
		return sw_channel_conf_err(err, len, file, kind, name, "url",
					   "https:// required (the URL is the credential)", NULL);
	return SW_OK;
}

static void slack_conf_free(void *conf)
{
	sw_conf_free_struct(slack_opts, conf);
}

/* ---- the payload -------------------------------------------------------- */

/* s with Slack's control characters escaped, appended to b (at most max
 * bytes of s, cut on a character boundary). */
static void add_escaped(struct sw_buf *b, const char *s, size_t max)
{
	char *cut = sw_http_cut(s, max);
	const char *p;

	for (p = cut; *p; p++) {
		switch (*p) {
		case '&':
			sw_buf_adds(b, "&amp;");
			break;
		case '<':
			sw_buf_adds(b, "&lt;");
			break;
		case '>':
			sw_buf_adds(b, "&gt;");
			break;
		default:
			sw_buf_add(b, p, 1);
		}
	}
	free(cut);
}

/* A mrkdwn text object of b's text (b reset). */
static json_t *mrkdwn(struct sw_buf *b)
{
	json_t *t = json_object();

	json_object_set_new(t, "type", json_string("mrkdwn"));
	json_object_set_new(t, "text", sw_http_jtext(sw_buf_str(b)));
	sw_buf_reset(b);
	return t;
}

/* What happened, in words: "Firing (critical)", "Resolved", ... */
static void title_words(const struct sw_page_notice *p, char *out, size_t len)
{
	if (strcmp(p->event, "resolve") == 0)
		snprintf(out, len, "Resolved");
	else if (strcmp(p->event, "acknowledge") == 0)
		snprintf(out, len, "Acknowledged by %s", p->acked_by ? p->acked_by : "someone");
	else
		snprintf(out, len, "%s%s (%s)",
			 p->escalation ? "Escalated: "
			 : p->repeat   ? "Still "
				       : "",
			 strcmp(p->state, "nodata") == 0 ? (p->repeat ? "no data" : "No data")
			 : p->repeat			 ? "firing"
							 : "Firing",
			 p->severity);
}

static json_t *header_block(const char *words, const char *summary)
{
	json_t *blk = json_object(), *t = json_object();
	char *full = xasprintf("%s: %s", words, summary), *cut = sw_http_cut(full, HEADER_MAX);

	json_object_set_new(t, "type", json_string("plain_text"));
	json_object_set_new(t, "text", sw_http_jtext(cut));
	json_object_set_new(blk, "type", json_string("header"));
	json_object_set_new(blk, "text", t);
	free(full);
	free(cut);
	return blk;
}

/* One field "*name*\nvalue" into fields (if there is room). */
static void add_field(json_t *fields, struct sw_buf *b, const char *name, const char *value)
{
	if (!value || json_array_size(fields) >= FIELDS_MAX)
		return;
	sw_buf_adds(b, "*");
	add_escaped(b, name, 100);
	sw_buf_adds(b, "*\n");
	add_escaped(b, value, FIELD_MAX - 120);
	json_array_append_new(fields, mrkdwn(b));
}

/* The fields section: the page's facts, then its figures. */
static json_t *fields_block(const struct sw_page_notice *p, json_t *figures, struct sw_buf *b)
{
	json_t *blk = json_object(), *fields = json_array(), *v;
	const char *k;
	char *text;

	add_field(fields, b, "State", p->state);
	add_field(fields, b, "Severity", p->severity);
	add_field(fields, b, "Rule", p->rule);
	add_field(fields, b, "Source", p->source);
	add_field(fields, b, "Stage that ran over", sw_stage_words(p->stage));
	json_object_foreach(figures, k, v)
	{
		text = json_is_string(v) ? xstrdup(json_string_value(v))
					 : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		add_field(fields, b, k, text ? text : "?");
		free(text);
	}
	json_object_set_new(blk, "type", json_string("section"));
	json_object_set_new(blk, "fields", fields);
	return blk;
}

/* The context line: since and the labels. */
static json_t *context_block(const struct sw_page_notice *p, struct sw_buf *b)
{
	json_t *blk = json_object(), *els = json_array();
	char since[32];

	if (sw_channel_rfc3339(p->since, since, sizeof since) == SW_OK)
		sw_buf_printf(b, "since %s", since);
	if (p->labels && *p->labels) {
		sw_buf_adds(b, sw_buf_str(b)[0] ? "  |  labels: " : "labels: ");
		add_escaped(b, p->labels, 1500);
	}
	if (!sw_buf_str(b)[0])
		sw_buf_adds(b, "-");
	json_array_append_new(els, mrkdwn(b));
	json_object_set_new(blk, "type", json_string("context"));
	json_object_set_new(blk, "elements", els);
	return blk;
}

/* The request body (new string, see the top), or NULL with why set. */
static char *build_body(const struct sw_notice *n, const char *key, char *why, size_t whylen)
{
	const struct sw_page_notice *p = n->page;
	json_t *root, *blocks, *figures, *sect;
	struct sw_buf b;
	char words[160], *body;

	(void)key; /* the URL is the credential */
	if (!(figures = sw_http_object(p->figures_json, "figures_json", why, whylen)))
		return NULL;
	sw_buf_init(&b, 64 * 1024);
	title_words(p, words, sizeof words);
	root = json_object();
	add_escaped(&b, words, sizeof words);
	sw_buf_adds(&b, ": ");
	add_escaped(&b, n->subject, SECTION_MAX);
	json_object_set_new(root, "text", sw_http_jtext(sw_buf_str(&b)));
	sw_buf_reset(&b);
	blocks = json_array();
	json_array_append_new(blocks, header_block(words, n->subject));
	sw_buf_adds(&b, "*");
	add_escaped(&b, n->subject, 1000);
	sw_buf_adds(&b, "*");
	if (*n->text) {
		sw_buf_adds(&b, "\n");
		add_escaped(&b, n->text, SECTION_MAX - 1100);
	}
	sect = json_object();
	json_object_set_new(sect, "type", json_string("section"));
	json_object_set_new(sect, "text", mrkdwn(&b));
	json_array_append_new(blocks, sect);
	json_array_append_new(blocks, fields_block(p, figures, &b));
	json_array_append_new(blocks, context_block(p, &b));
	json_object_set_new(root, "blocks", blocks);
	body = sw_http_dump(root, BODY_MAX, why, whylen);
	json_decref(root);
	json_decref(figures);
	sw_buf_free(&b);
	return body;
}

/* ---- sending ------------------------------------------------------------ */

static enum sw_chan_result slack_send(void *state, const struct sw_notice *n,
				      int64_t *ret_retry_after_s, char *detail, size_t len)
{
	return sw_http_chan_send_page(state, "slack", n, build_body,
				      "application/json; charset=utf-8", NULL, ret_retry_after_s,
				      detail, len);
}

static enum sw_err slack_open(const void *conf, void **ret_state, char *err, size_t len)
{
	const struct slack_conf *c = conf;
	struct sw_http_setup hs;
	const char *path;
	enum sw_err rc;

	*ret_state = NULL;
	if ((rc = slack_check(c, NULL, "receiver", NULL, err, len)))
		return rc;
	if (strcmp(c->url.value, SW_CONF_SECRET_UNREAD) == 0)
		return sw_channel_conf_err(err, len, NULL, "receiver", NULL, "url",
					   "not read (checked as text only)", NULL);
	path = strstr(c->url.value, "://");
	path = path ? strchr(path + 3, '/') : NULL;
	sw_http_receiver_setup(&hs, "[slack]", c->url.value, c->timeout);
	hs.secrets[0] = c->url.value;
	hs.secrets[1] = path && strlen(path) >= 8 ? path : NULL; /* the token part */
	return sw_http_chan_open(&hs, NULL, ret_state, err, len);
}

const struct sw_channel_ops sw_chan_slack = {
    .name = "slack",
    .section = SECTION,
    .opts = slack_opts,
    .conf_size = sizeof(struct slack_conf),
    .pages_only = true,
    .check = slack_check,
    .open = slack_open,
    .close = sw_http_chan_close,
    .send = slack_send,
    .server_fault = sw_http_chan_server_fault,
    .conf_free = slack_conf_free,
};
