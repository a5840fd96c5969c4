/*
 * notify.c - customer emails from the outbox (see notify.h).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "alerts/notify.h"
#include "lib/log.h"
#include "lib/swtime.h"
#include "lib/xmalloc.h"

#define URL_MAX 2048

struct sw_notify {
	struct sw_store *st;
	const struct sw_alerts_conf *conf;
	const struct sw_tpl_set *tpl;
	struct sw_mail *mail;
	struct sw_metrics *metrics;
	double tokens;
	int64_t tokens_ms; /* when tokens was last refilled */
	struct sw_notify_stats stats;
	struct sw_log_complain send_c;
	char last_detail[SW_MAIL_DETAIL_LEN]; /* of the last send */
	bool (*interrupt)(void);
};

struct sw_notify *sw_notify_new(struct sw_store *st, const struct sw_alerts_conf *conf,
				const struct sw_tpl_set *tpl, struct sw_mail *mail,
				struct sw_metrics *metrics)
{
	struct sw_notify *n = xcalloc(1, sizeof(*n));

	n->st = st;
	n->metrics = metrics;
	sw_notify_set(n, conf, tpl, mail);
	n->tokens = 1;
	return n;
}

void sw_notify_set(struct sw_notify *n, const struct sw_alerts_conf *conf,
		   const struct sw_tpl_set *tpl, struct sw_mail *mail)
{
	n->conf = conf;
	n->tpl = tpl;
	n->mail = mail;
}

void sw_notify_set_interrupt(struct sw_notify *n, bool (*fn)(void))
{
	n->interrupt = fn;
}

void sw_notify_free(struct sw_notify *n)
{
	free(n);
}

void sw_notify_get_stats(const struct sw_notify *n, struct sw_notify_stats *ret)
{
	*ret = n->stats;
}


static void count(struct sw_notify *n, const char *ds)
{
	if (n->metrics)
		sw_metrics_count(n->metrics, "notify", ds, 1);
}

/* ---- values of one email ----------------------------------------------- */

static const char *jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* Percent-encodes s (RFC 3986 unreserved kept) onto out. */
static void url_escape(const char *s, char *out, size_t len, size_t *pos)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s && *pos + 4 < len; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			out[(*pos)++] = (char)c;
		} else {
			out[(*pos)++] = '%';
			out[(*pos)++] = hex[c >> 4];
			out[(*pos)++] = hex[c & 15];
		}
	}
}

/* Expands {name} placeholders of a URL template with escaped values;
 * names: courier, tracking, email, order.  NULL if tmpl is unset or the
 * result does not fit. */
static char *expand_url(const char *tmpl, const json_t *vars, const char *email)
{
	char out[URL_MAX];
	size_t pos = 0;

	if (!tmpl || !*tmpl)
		return NULL;
	for (const char *p = tmpl; *p; p++) {
		const char *close = *p == '{' ? strchr(p, '}') : NULL;
		const char *val = NULL;

		if (close) {
			size_t k = (size_t)(close - p - 1);

			if (k == 7 && strncmp(p + 1, "courier", 7) == 0)
				val = jstr(vars, "courier");
			else if (k == 8 && strncmp(p + 1, "tracking", 8) == 0)
				val = jstr(vars, "tracking");
			else if (k == 5 && strncmp(p + 1, "email", 5) == 0)
				val = email;
			else if (k == 5 && strncmp(p + 1, "order", 5) == 0)
				val = jstr(vars, "order_id");
			else
				close = NULL;
		}
		if (close) {
			if (!val)
				return NULL; /* e.g. a tracking link before shipping */
			url_escape(val, out, sizeof(out), &pos);
			p = close;
		} else if (pos + 1 < sizeof(out)) {
			out[pos++] = *p;
		}
		if (pos + 4 >= sizeof(out))
			return NULL;
	}
	out[pos] = '\0';
	return xstrdup(out);
}

/* How customers know the couriers slipwatch has adapters for. */
static const char *courier_display(const char *name)
{
	static const char *const names[][2] = {
		{ "dhl", "DHL" },	  { "fedex", "FedEx" },
		{ "ups", "UPS" },	  { "shiprocket", "Shiprocket" },
		{ "aftership", "AfterShip" },
	};

	for (size_t i = 0; name && i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i][0]) == 0)
			return names[i][1];
	return name;
}

/* The promise broken, as a date in the customer's zone and language. */
static void promised_date(const json_t *vars, const char *zone, const char *locale, char *buf,
			  size_t len)
{
	const char *kind = jstr(vars, "promise_kind"), *text = jstr(vars, "promise_text");
	struct sw_date d;

	buf[0] = '\0';
	if (kind && strcmp(kind, "date") == 0 && text && sw_date_parse(text, &d, NULL, 0) == SW_OK)
		sw_tpl_format_date(&d, locale, buf, len);
	else if (kind && json_integer_value(json_object_get(vars, "promise_at")) > 0)
		sw_tpl_format_instant(json_integer_value(json_object_get(vars, "promise_at")), zone,
				      locale, buf, len);
}

struct rendered {
	struct sw_tpl_msg msg;
	char *tracking_link, *unsub_link;
};

static void rendered_free(struct rendered *r)
{
	sw_tpl_msg_free(&r->msg);
	free(r->tracking_link);
	free(r->unsub_link);
}

static enum sw_err render(struct sw_notify *n, const struct sw_outbox_msg *m,
			  const json_t *vars, const char *zone, struct rendered *r, char *err,
			  size_t errlen)
{
	char promised[SW_TPL_DATE_STRLEN], eta_text[SW_TPL_DATE_STRLEN] = "";
	struct sw_tpl_values v = { 0 };
	const struct sw_tpl *tpl;
	enum sw_tpl_kind kind;
	struct sw_date eta;
	const char *loc;

	memset(r, 0, sizeof(*r));
	if (sw_tpl_kind_from_name(m->slip_kind, &kind) != SW_OK) {
		snprintf(err, errlen, "no template kind '%s'", m->slip_kind);
		return SW_EINVAL;
	}
	tpl = sw_tpl_pick(n->tpl, kind, jstr(vars, "locale"));
	loc = sw_tpl_locale(tpl);
	promised_date(vars, zone, loc, promised, sizeof(promised));
	if (jstr(vars, "eta") && sw_date_parse(jstr(vars, "eta"), &eta, NULL, 0) == SW_OK)
		sw_tpl_format_date(&eta, loc, eta_text, sizeof(eta_text));
	r->tracking_link = expand_url(n->conf->tracking_url, vars, m->recipient);
	r->unsub_link = expand_url(n->conf->unsubscribe_url, vars, m->recipient);
	v.customer_name = jstr(vars, "name");
	v.order_id = jstr(vars, "order_id");
	v.tracking_number = jstr(vars, "tracking");
	v.courier = courier_display(jstr(vars, "courier"));
	v.tracking_link = r->tracking_link;
	v.promised_date = *promised ? promised : NULL;
	v.new_date = eta_text;
	v.shop_name = n->conf->shop_name;
	v.unsubscribe_link = r->unsub_link;
	return sw_tpl_render(tpl, &v, &r->msg, err, errlen);
}

/* ---- one row ----------------------------------------------------------- */

static int64_t backoff_s(const struct sw_notify *n, int attempts)
{
	int64_t s = n->conf->retry_min_ms / 1000, max = n->conf->retry_max_ms / 1000;

	for (int i = 1; i < attempts && s < max; i++)
		s *= 2;
	return s < max ? s : max;
}

/* The start of today in zone (for the daily cap). */
static int64_t local_day_start(const char *zone, int64_t now)
{
	struct sw_tz_local lt;
	int64_t start;

	if (sw_tz_utc_to_local(zone, now, &lt) != SW_OK ||
	    sw_tz_start_of_day(zone, &lt.date, &start) != SW_OK)
		return now - 86400;
	return start;
}

static enum sw_err suppress(struct sw_notify *n, const struct sw_outbox_msg *m,
			    const char *reason, const char *ds)
{
	enum sw_err rc = sw_store_outbox_mark_suppressed(n->st, m->id, reason);

	if (rc == SW_OK) {
		n->stats.suppressed++;
		count(n, "suppressed");
		count(n, ds);
		sw_log_info("notify", "email %lld suppressed: %s", (long long)m->id, reason);
	}
	return rc;
}

static enum sw_err fail(struct sw_notify *n, const struct sw_outbox_msg *m, const char *reason)
{
	enum sw_err rc = sw_store_outbox_mark_failed(n->st, m->id, reason);

	if (rc == SW_OK) {
		n->stats.failed++;
		count(n, "failed");
		sw_log_warn("notify", "email %lld failed: %s", (long long)m->id, reason);
	}
	return rc;
}

static enum sw_err defer(struct sw_notify *n, const struct sw_outbox_msg *m, int64_t until,
			 const char *reason)
{
	enum sw_err rc = sw_store_outbox_mark_deferred(n->st, m->id, until, reason);

	if (rc == SW_OK) {
		n->stats.deferred++;
		count(n, "deferred");
	}
	return rc;
}

/* Customer-care checks before sending: SW_OK with *ret_done = true if the
 * row was settled (suppressed or deferred). */
static enum sw_err care(struct sw_notify *n, const struct sw_outbox_msg *m, const json_t *vars,
			const char *zone, int64_t now, bool *ret_done)
{
	enum sw_slip kind = SW_SLIP_LAST;
	int64_t until, sent;
	char reason[96];
	int unsub = 0;
	enum sw_err rc;

	*ret_done = true;
	if ((rc = sw_store_unsub_check(n->st, m->recipient, &unsub)))
		return rc;
	if (unsub)
		return suppress(n, m, "unsubscribed", "suppressed_unsubscribed");
	sw_slip_from_name(m->slip_kind, &kind);
	if (kind == SW_SLIP_LAST || !n->conf->is_urgent[kind]) {
		sw_rules_quiet_until(n->conf, zone, now, &until, NULL);
		if (until > now) {
			n->stats.quiet++;
			return defer(n, m, until, "quiet hours");
		}
	}
	if (n->conf->daily_cap > 0) {
		if ((rc = sw_store_outbox_sent_since(n->st, m->recipient,
						     local_day_start(zone, now), &sent)))
			return rc;
		if (sent >= n->conf->daily_cap) {
			snprintf(reason, sizeof(reason), "daily cap %lld reached",
				 (long long)n->conf->daily_cap);
			return suppress(n, m, reason, "suppressed_daily_cap");
		}
	}
	*ret_done = false;
	return SW_OK;
}

/* Sends one rendered row and marks it.  *ret_tried: an SMTP attempt was
 * made (it used a rate token). */
static enum sw_err send_one(struct sw_notify *n, const struct sw_outbox_msg *m,
			    const json_t *vars, const struct rendered *r, int64_t now)
{
	struct sw_mail_msg mm = { 0 };
	char mid[SW_MAIL_MSGID_LEN], detail[SW_MAIL_DETAIL_LEN], why[SW_MAIL_DETAIL_LEN + 64];
	enum sw_mail_result res;

	if (sw_mail_message_id(m->id, m->created_at, sw_mail_from_domain(n->mail), mid,
			       sizeof(mid)) != SW_OK)
		return fail(n, m, "no usable Message-ID (bad From domain)");
	mm.to_addr = m->recipient;
	mm.to_name = jstr(vars, "name");
	mm.subject = r->msg.subject;
	mm.text = r->msg.text;
	mm.html = r->msg.html;
	mm.date = now;
	mm.message_id = mid;
	mm.list_unsubscribe = r->unsub_link;
	mm.list_unsubscribe_post = n->conf->one_click;
	res = sw_mail_send(n->mail, &mm, detail, sizeof(detail));
	snprintf(n->last_detail, sizeof(n->last_detail), "%s", detail);
	switch (res) {
	case SW_MAIL_SENT:
		n->stats.sent++;
		count(n, "sent");
		sw_log_release(&n->send_c, SW_LOG_NOTICE, "notify", "sending emails again");
		sw_log_info("notify", "email %lld (%s) sent: %s", (long long)m->id, m->slip_kind,
			    detail);
		return sw_store_outbox_mark_sent(n->st, m->id, now, detail);
	case SW_MAIL_TEMPFAIL:
		sw_log_complain(&n->send_c, SW_LOG_WARNING, "notify", "email %lld not sent: %s",
				(long long)m->id, detail);
		if (now - m->created_at >= n->conf->give_up_ms / 1000) {
			snprintf(why, sizeof(why), "gave up after %d attempts: %s", m->attempts,
				 detail);
			return fail(n, m, why);
		}
		return defer(n, m, now + backoff_s(n, m->attempts), detail);
	default:
		return fail(n, m, detail);
	}
}

static enum sw_err deliver(struct sw_notify *n, const struct sw_outbox_msg *m, int64_t now,
			   bool *ret_tried)
{
	struct rendered r;
	json_t *vars;
	const char *zone;
	char err[300];
	bool done;
	enum sw_err rc;

	*ret_tried = false;
	vars = m->template_vars ? json_loads(m->template_vars, 0, NULL) : NULL;
	if (!json_is_object(vars)) {
		json_decref(vars);
		return fail(n, m, "the outbox row has no usable template values");
	}
	zone = jstr(vars, "zone");
	if (!zone || !sw_tz_valid(zone))
		zone = n->conf->default_timezone;
	if ((rc = care(n, m, vars, zone, now, &done)) || done)
		goto out;
	if (render(n, m, vars, zone, &r, err, sizeof(err)) != SW_OK) {
		rc = fail(n, m, err);
		rendered_free(&r);
		goto out;
	}
	*ret_tried = true;
	rc = send_one(n, m, vars, &r, now);
	rendered_free(&r);
out:
	json_decref(vars);
	return rc;
}

/* ---- rounds ------------------------------------------------------------ */

static void refill(struct sw_notify *n, int64_t now_ms)
{
	double burst = n->conf->send_rate > 1 ? n->conf->send_rate : 1;

	if (n->tokens_ms && now_ms > n->tokens_ms)
		n->tokens += (double)(now_ms - n->tokens_ms) * n->conf->send_rate / 1000.0;
	if (n->tokens > burst)
		n->tokens = burst;
	n->tokens_ms = now_ms;
}

enum sw_err sw_notify_run(struct sw_notify *n, int64_t now, int64_t now_ms, int64_t poll_ms,
			  int64_t *ret_delay_ms, char *errbuf, size_t errlen)
{
	struct sw_outbox_msg *msgs = NULL;
	char down_why[SW_MAIL_DETAIL_LEN + 16] = "";
	bool down = false, stopping = false;
	size_t got = 0;
	int limit;
	enum sw_err rc;

	*ret_delay_ms = poll_ms;
	refill(n, now_ms);
	if (n->tokens < 1) {
		*ret_delay_ms = (int64_t)ceil((1 - n->tokens) * 1000.0 / n->conf->send_rate);
		return SW_OK;
	}
	limit = (int)floor(n->tokens);
	if (limit > n->conf->batch)
		limit = (int)n->conf->batch;
	rc = sw_store_outbox_claim(n->st, now, (int)(n->conf->lease_ms / 1000), limit, &msgs, &got);
	if (rc != SW_OK) {
		snprintf(errbuf, errlen, "claiming emails: %s", sw_store_errmsg(n->st));
		return rc;
	}
	for (size_t i = 0; i < got; i++) {
		bool tried;

		if (down) { /* not tried: the server is not taking mail now */
			if ((rc = defer(n, &msgs[i], now + backoff_s(n, 1), down_why)) != SW_OK)
				break;
			continue;
		}
		if (!stopping && n->interrupt && n->interrupt())
			stopping = true;
		if (stopping) { /* back to the queue, due at once */
			if ((rc = sw_store_outbox_mark_deferred(n->st, msgs[i].id, now,
								"not tried: stopping")) != SW_OK)
				break;
			continue;
		}
		if ((rc = deliver(n, &msgs[i], now, &tried)) != SW_OK) {
			/* the row stays claimed; its lease brings it back */
			snprintf(errbuf, errlen, "email %lld: %s", (long long)msgs[i].id,
				 sw_store_errmsg(n->st));
			break;
		}
		if (tried)
			n->tokens -= 1;
		if (tried && sw_mail_server_fault(n->mail)) {
			down = true;
			snprintf(down_why, sizeof(down_why), "not tried: %s", n->last_detail);
		}
	}
	if (rc == SW_OK && got == (size_t)limit)
		*ret_delay_ms = n->tokens >= 1 ? 0
					       : (int64_t)ceil((1 - n->tokens) * 1000.0 /
							       n->conf->send_rate);
	sw_store_outbox_free(msgs, got);
	return rc;
}
