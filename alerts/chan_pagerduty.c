/*
 * chan_pagerduty.c - the PagerDuty row of the channel table: on-call
 * pages as PagerDuty Events API v2 events.  A receiver-only channel
 * (pages_only), set up in a [receiver NAME] section.
 *
 * [receiver pd]
 *   channel = pagerduty
 *   routing_key_file = PATH   the integration's routing key (or
 *                             routing_key_env = VAR); required, 32
 *                             letters and digits, a secret (never quoted,
 *                             scrubbed from every detail)
 *   url = https://events.pagerduty.com/v2/enqueue    (the default; http://
 *                             only to a loopback host, for tests)
 *   timeout = 10s             whole-request limit, connect included
 *
 * Request: POST url, Content-Type: application/json.  A trigger:
 *   {"routing_key": KEY, "event_action": "trigger", "dedup_key": D,
 *    "payload": {"summary": SUBJECT (at most 1024 bytes, cut on a
 *                character boundary), "source": S, "severity": critical |
 *                error | warning | info (ours map to theirs; anything
 *                else is error), "timestamp": SINCE (RFC 3339),
 *                "component": the warehouse or courier label (or the
 *                notice's warehouse), "group": RULE, "class": the signal
 *                label, else RULE,
 *                "custom_details": {"details": TEXT, "state": STATE,
 *                                   "labels": {...}, "figures": {...},
 *                                   "stage": "line_haul" (the stage that
 *                                   ran over; absent when none)}},
 *    (custom_details is free-form JSON in Events v2: PagerDuty shows
 *    its members as they are)
 *    "client": "slipwatch"}
 * An acknowledge or resolve carries routing_key, event_action and
 * dedup_key only (PagerDuty finds the alert by dedup_key).  A repeat is a
 * trigger again (PagerDuty folds it into the open alert).
 *
 * Answers (PagerDuty's documented ones; the shared classification of
 * chan_http.h decides):
 *   202 {"status": "success", "message": "Event processed",
 *        "dedup_key": D}                   SENT, detail "HTTP 202 dedup_key D"
 *   400 {"status": "invalid event", "message": M, "errors": [E...]}
 *                                          FAILED, detail "HTTP 400: M: E; E"
 *   429 (too many events; a Retry-After is honoured if one is sent)
 *                                          TEMPFAIL, server fault
 *   5xx, no reply, timeout                 TEMPFAIL, server fault
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "alerts/chan_http.h"
#include "alerts/channel.h"
#include "lib/buf.h"
#include "lib/xmalloc.h"

#define SECTION	    "pagerduty" /* reserved: never read (pages_only) */
#define KEY_LEN	    32
#define SUMMARY_MAX 1024
#define BODY_MAX    (512 * 1024) /* PagerDuty takes at most 512 KB */

struct pd_conf {
	struct sw_conf_secret routing_key; /* routing_key_file / _env */
	char *url;
	int64_t timeout; /* ms */
};

#define C(f) offsetof(struct pd_conf, f)
static const struct sw_conf_opt pd_opts[] = {
    {.name = "routing_key",
     .type = SW_CONF_SECRET,
     .offset = C(routing_key),
     .help = "the integration's routing key (routing_key_file or routing_key_env)"},
    {.name = "url",
     .type = SW_CONF_STRING,
     .offset = C(url),
     .def = "https://events.pagerduty.com/v2/enqueue",
     .help = "the Events API v2 enqueue endpoint"},
    {.name = "timeout",
     .type = SW_CONF_DURATION,
     .offset = C(timeout),
     .min = 1000,
     .max = 600000,
     .def = "10s",
     .help = "time limit per event, connect included"},
    {.name = NULL},
};
#undef C

/* ---- configuration ------------------------------------------------------ */

static bool key_ok(const char *k)
{
	size_t i;

	for (i = 0; k[i]; i++)
		if (!isalnum((unsigned char)k[i]))
			return false;
	return i == KEY_LEN;
}

static enum sw_err pd_check(const void *conf, const struct sw_conf *file, const char *kind,
			    const char *name, char *err, size_t len)
{
	const struct pd_conf *c = conf;
	struct sw_http_url_info ui;
	char shown[256];
	enum sw_err rc;

	if ((rc = sw_http_check_url(c->url, false, file, kind, name, "url", &ui, err, len)))
		return rc;
	if (!ui.https && !ui.loopback)
		return sw_channel_conf_err(err, len, file, kind, name, "url",
					   "https:// required for a host that is not loopback (the "
					   "routing key would cross the network in clear text)",
					   sw_http_url_shown(c->url, shown, sizeof shown));
	if (!c->routing_key.value)
		return sw_channel_conf_err(err, len, file, kind, name, "routing_key",
					   "required but not set; use routing_key_file or "
					   "routing_key_env",
					   NULL);
	if (c->routing_key.world_readable)
		return sw_channel_conf_err(err, len, file, kind, name, "routing_key_file",
					   "readable by every user of this machine (chmod 600 it)",
					   NULL);
	if (strcmp(c->routing_key.value, SW_CONF_SECRET_UNREAD) != 0 &&
	    !key_ok(c->routing_key.value))
		return sw_channel_conf_err(err, len, file, kind, name, "routing_key",
					   "not a PagerDuty routing key (32 letters and digits)",
					   NULL);
	return SW_OK;
}

static void pd_conf_free(void *conf)
{
	sw_conf_free_struct(pd_opts, conf);
}

/* ---- the payload -------------------------------------------------------- */

/* PagerDuty's severity for ours. */
static const char *pd_severity(const char *sev)
{
	static const char *const known[] = {"critical", "error", "warning", "info"};
	size_t i;

	for (i = 0; i < sizeof known / sizeof known[0]; i++)
		if (strcmp(sev, known[i]) == 0)
			return known[i];
	return "error";
}

/* The first of the labels keys that is set, as a JSON string, or NULL. */
static json_t *label_of(json_t *labels, const char *const *keys)
{
	const char *v;

	for (; *keys; keys++)
		if ((v = json_string_value(json_object_get(labels, *keys))) && *v)
			return json_string(v);
	return NULL;
}

/* payload of a trigger; NULL with why set. */
static json_t *trigger_payload(const struct sw_notice *n, char *why, size_t whylen)
{
	static const char *const component_keys[] = {"warehouse", "courier", NULL};
	static const char *const class_keys[] = {"signal", NULL};
	const struct sw_page_notice *p = n->page;
	json_t *pl, *figures, *labels, *cd, *v;
	char ts[32], *summary;

	if (sw_channel_rfc3339(p->since > 0 ? p->since : n->created_at, ts, sizeof ts)) {
		snprintf(why, whylen, "page since out of range");
		return NULL;
	}
	if (!(figures = sw_http_object(p->figures_json, "figures_json", why, whylen)))
		return NULL;
	labels = sw_http_labels(p->labels);
	pl = json_object();
	summary = sw_http_cut(*n->subject ? n->subject : p->rule, SUMMARY_MAX);
	json_object_set_new(pl, "summary", sw_http_jtext(summary));
	free(summary);
	json_object_set_new(pl, "source",
			    sw_http_jtext(p->source && *p->source ? p->source : "slipwatch"));
	json_object_set_new(pl, "severity", json_string(pd_severity(p->severity)));
	json_object_set_new(pl, "timestamp", json_string(ts));
	v = label_of(labels, component_keys);
	if (!v && n->warehouse_id)
		v = sw_http_jtext(n->warehouse_id);
	if (v)
		json_object_set_new(pl, "component", v);
	json_object_set_new(pl, "group", sw_http_jtext(p->rule));
	v = label_of(labels, class_keys);
	json_object_set_new(pl, "class", v ? v : sw_http_jtext(p->rule));
	cd = json_object();
	json_object_set_new(cd, "details", sw_http_jtext(n->text));
	json_object_set_new(cd, "state", sw_http_jtext(p->state));
	json_object_set_new(cd, "labels", labels);
	json_object_set_new(cd, "figures", figures);
	if (p->stage && *p->stage)
		json_object_set_new(cd, "stage", sw_http_jtext(p->stage));
	json_object_set_new(pl, "custom_details", cd);
	return pl;
}

/* The request body (new string, see the top), or NULL with why set. */
static char *build_body(const struct sw_notice *n, const char *key, char *why, size_t whylen)
{
	const struct sw_page_notice *p = n->page;
	json_t *root = json_object(), *pl;
	char *body = NULL;

	json_object_set_new(root, "routing_key", json_string(key));
	json_object_set_new(root, "event_action", sw_http_jtext(p->event));
	json_object_set_new(root, "dedup_key", sw_http_jtext(p->dedup_key));
	if (strcmp(p->event, "trigger") == 0) {
		if (!(pl = trigger_payload(n, why, whylen)))
			goto out;
		json_object_set_new(root, "payload", pl);
		json_object_set_new(root, "client", json_string("slipwatch"));
	}
	body = sw_http_dump(root, BODY_MAX, why, whylen);
out:
	json_decref(root);
	return body;
}

/* ---- the answer ----------------------------------------------------------- */

/* "dedup_key D" for a 2xx; "M: E; E" for an error with PagerDuty's JSON;
 * else the body as text. */
size_t sw_http_pagerduty_reason(long status, const char *body, size_t n, char *out, size_t outlen)
{
	json_t *j = json_loadb(body, n, 0, NULL), *errs, *e;
	const char *msg = json_string_value(json_object_get(j, "message"));
	const char *dk = json_string_value(json_object_get(j, "dedup_key"));
	struct sw_buf b;
	size_t i, w;

	if (status >= 200 && status <= 299) {
		char *line = dk ? xasprintf("dedup_key %s", dk) : NULL;

		/* PagerDuty's key may hold escapes: one clean, bounded line */
		w = line ? sw_channel_excerpt(line, strlen(line), SW_HTTP_REASON_MAX, out, outlen)
			 : 0;
		if (!line && outlen)
			out[0] = '\0';
		free(line);
		json_decref(j);
		return w;
	}
	if (!msg) {
		json_decref(j);
		return sw_http_reason_text(status, body, n, out, outlen);
	}
	sw_buf_init(&b, 4096);
	sw_buf_adds(&b, msg);
	errs = json_object_get(j, "errors");
	json_array_foreach(errs, i, e)
	{
		if (!json_is_string(e))
			continue;
		sw_buf_adds(&b, i ? "; " : ": ");
		sw_buf_adds(&b, json_string_value(e));
	}
	w = sw_channel_excerpt(sw_buf_str(&b), strlen(sw_buf_str(&b)), SW_HTTP_REASON_MAX, out,
			       outlen);
	sw_buf_free(&b);
	json_decref(j);
	return w;
}

/* ---- sending ------------------------------------------------------------ */

static enum sw_chan_result pd_send(void *state, const struct sw_notice *n,
				   int64_t *ret_retry_after_s, char *detail, size_t len)
{
	/* the body holds the routing key: the post wipes it */
	return sw_http_chan_send_page(state, "pagerduty", n, build_body, "application/json",
				      sw_http_pagerduty_reason, ret_retry_after_s, detail, len);
}

static enum sw_err pd_open(const void *conf, void **ret_state, char *err, size_t len)
{
	const struct pd_conf *c = conf;
	struct sw_http_setup hs;
	enum sw_err rc;

	*ret_state = NULL;
	if ((rc = pd_check(c, NULL, "receiver", NULL, err, len)))
		return rc;
	if (!key_ok(c->routing_key.value))
		return sw_channel_conf_err(err, len, NULL, "receiver", NULL, "routing_key",
					   "not read (checked as text only)", NULL);
	sw_http_receiver_setup(&hs, "[pagerduty]", c->url, c->timeout);
	hs.secrets[0] = c->routing_key.value;
	return sw_http_chan_open(&hs, c->routing_key.value, ret_state, err, len);
}

const struct sw_channel_ops sw_chan_pagerduty = {
    .name = "pagerduty",
    .section = SECTION,
    .opts = pd_opts,
    .conf_size = sizeof(struct pd_conf),
    .pages_only = true,
    .check = pd_check,
    .open = pd_open,
    .close = sw_http_chan_close,
    .send = pd_send,
    .server_fault = sw_http_chan_server_fault,
    .conf_free = pd_conf_free,
};
