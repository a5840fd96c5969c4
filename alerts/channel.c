/*
 * channel.c - the channel table and the wrappers every caller goes
 * through (see channel.h).
 *
 * The wrappers do what every row would otherwise repeat: allocate the
 * conf struct a row's option table fills, check a notice's common fields
 * before a row sees it, preset and clamp the out-parameters.  The rows
 * themselves live one per file (chan_email.c, chan_webhook.c,
 * chan_slack.c, chan_pagerduty.c; the last three share chan_http.c); the
 * small text helpers at the end are shared by them.  The [receiver NAME]
 * sections are read in receivers.c.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "alerts/channel.h"
#include "lib/utf8.h"
#include "lib/xmalloc.h"

/* Email first: the outbox's default channel.  Add a row per file.  The
 * customer channels come before the receiver-only ones. */
const struct sw_channel_ops *const sw_channel_table[] = {
    &sw_chan_email,
    &sw_chan_webhook,
    &sw_chan_slack,
    &sw_chan_pagerduty,
    NULL,
};

struct sw_channel {
	const struct sw_channel_ops *ops;
	void *state;	   /* the row's */
	bool server_fault; /* of the last send */
};

const char *sw_chan_result_name(enum sw_chan_result r)
{
	static const char *const names[SW_CHAN_RESULT_LAST] = {"sent", "tempfail", "failed"};

	return r >= 0 && r < SW_CHAN_RESULT_LAST ? names[r] : "?";
}

const struct sw_channel_ops *sw_channel_find(const char *name)
{
	size_t i;

	for (i = 0; name && sw_channel_table[i]; i++)
		if (strcmp(sw_channel_table[i]->name, name) == 0)
			return sw_channel_table[i];
	return NULL;
}

/* ---- configuration ------------------------------------------------------ */

enum sw_err sw_channel_conf_load(const struct sw_channel_ops *ops, struct sw_conf *conf,
				 void **ret_conf, char *err, size_t len)
{
	void *c;
	enum sw_err rc;

	*ret_conf = NULL;
	if (!ops)
		return SW_EINVAL;
	if (ops->pages_only) {
		char what[128];

		snprintf(what, sizeof what, "%s is set up in [receiver NAME] sections (channel = %s)",
			 ops->name, ops->name);
		return sw_channel_conf_err(err, len, conf, ops->section, NULL, NULL, what, NULL);
	}
	c = xcalloc(1, ops->conf_size);
	rc = sw_conf_apply(conf, ops->section, NULL, ops->opts, c, err, len);
	if (rc == SW_OK)
		rc = ops->check(c, conf, ops->section, NULL, err, len);
	if (rc != SW_OK) {
		ops->conf_free(c);
		free(c);
		return SW_ECONF;
	}
	*ret_conf = c;
	return SW_OK;
}

void sw_channel_conf_free(const struct sw_channel_ops *ops, void *chconf)
{
	if (!ops || !chconf)
		return;
	ops->conf_free(chconf);
	free(chconf);
}

enum sw_err sw_channel_conf_dump(const struct sw_channel_ops *ops, const void *chconf,
				 struct sw_buf *out)
{
	if (!ops || !chconf)
		return SW_EINVAL;
	return sw_conf_dump(ops->section, NULL, ops->opts, chconf, out);
}

/* ---- open channels ------------------------------------------------------ */

enum sw_err sw_channel_open(const struct sw_channel_ops *ops, const void *chconf,
			    struct sw_channel **ret_ch, char *err, size_t len)
{
	struct sw_channel *ch;
	void *state = NULL;
	enum sw_err rc;

	*ret_ch = NULL;
	if (!ops || !chconf)
		return SW_EINVAL;
	rc = ops->open(chconf, &state, err, len);
	if (rc != SW_OK)
		return rc;
	ch = xcalloc(1, sizeof *ch);
	ch->ops = ops;
	ch->state = state;
	*ret_ch = ch;
	return SW_OK;
}

void sw_channel_close(struct sw_channel *ch)
{
	if (!ch)
		return;
	ch->ops->close(ch->state);
	free(ch);
}

const struct sw_channel_ops *sw_channel_ops_of(const struct sw_channel *ch)
{
	return ch->ops;
}

const char *sw_channel_name(const struct sw_channel *ch)
{
	return ch->ops->name;
}

bool sw_channel_server_fault(const struct sw_channel *ch)
{
	return ch->server_fault;
}

/* The key is a header value and a JSON string: printable ASCII, no
 * spaces, bounded. */
static bool key_valid(const char *key)
{
	size_t i;

	if (!key)
		return false;
	for (i = 0; key[i]; i++)
		if ((unsigned char)key[i] <= 0x20 || (unsigned char)key[i] >= 0x7f)
			return false;
	return i > 0 && i <= SW_CHAN_KEY_MAX;
}

/* What every row needs; NULL if n is usable, else why not. */
static const char *notice_problem(const struct sw_notice *n)
{
	if (!n)
		return "no notice";
	if (n->id < 0 || n->created_at < 0)
		return "negative id or created_at";
	if (!key_valid(n->key))
		return "key is not 1..200 bytes of printable ASCII without spaces";
	if (!n->kind || !*n->kind)
		return "kind is not set";
	if (!n->recipient || !*n->recipient)
		return "recipient is not set";
	if (!n->subject || !n->text)
		return "subject and text are required";
	return n->page ? sw_channel_page_problem(n->page) : NULL;
}

const char *sw_channel_page_problem(const struct sw_page_notice *p)
{
	size_t i;

	if (!p->event || (strcmp(p->event, "trigger") != 0 && strcmp(p->event, "acknowledge") != 0 &&
			  strcmp(p->event, "resolve") != 0))
		return "page event is not trigger, acknowledge or resolve";
	if (!p->dedup_key || !*p->dedup_key || strlen(p->dedup_key) > 255)
		return "page dedup_key is not 1..255 bytes";
	for (i = 0; p->dedup_key[i]; i++)
		if ((unsigned char)p->dedup_key[i] < 0x20 || (unsigned char)p->dedup_key[i] >= 0x7f)
			return "page dedup_key is not printable ASCII";
	if (!p->severity || !*p->severity || !p->state || !*p->state || !p->rule || !*p->rule)
		return "page severity, state and rule are required";
	if (p->since < 0)
		return "page since is negative";
	return NULL;
}

enum sw_chan_result sw_channel_send(struct sw_channel *ch, const struct sw_notice *n,
				    int64_t *ret_retry_after_s, char *detail, size_t len)
{
	const char *problem = notice_problem(n);
	enum sw_chan_result r;
	int64_t after = 0;

	if (detail && len)
		detail[0] = '\0';
	if (ret_retry_after_s)
		*ret_retry_after_s = 0;
	ch->server_fault = false;
	if (problem) {
		if (detail && len)
			snprintf(detail, len, "bad notice: %s", problem);
		return SW_CHAN_FAILED;
	}
	if (!detail || !len) { /* rows always get somewhere to write */
		char scratch[SW_CHAN_DETAIL_LEN];

		scratch[0] = '\0';
		r = ch->ops->send(ch->state, n, &after, scratch, sizeof scratch);
	} else {
		r = ch->ops->send(ch->state, n, &after, detail, len);
	}
	ch->server_fault = r == SW_CHAN_TEMPFAIL && ch->ops->server_fault(ch->state);
	if (after < 0 || r != SW_CHAN_TEMPFAIL)
		after = 0;
	if (after > SW_CHAN_RETRY_AFTER_MAX)
		after = SW_CHAN_RETRY_AFTER_MAX;
	if (ret_retry_after_s)
		*ret_retry_after_s = after;
	return r;
}

/* ---- helpers for rows --------------------------------------------------- */

enum sw_err sw_channel_conf_err(char *err, size_t len, const struct sw_conf *file,
				const char *kind, const char *name, const char *key,
				const char *what, const char *bad)
{
	char q[72], where[4200] = "";

	if (!err || !len)
		return SW_ECONF;
	if (bad)
		sw_channel_excerpt(bad, strlen(bad), 63, q, sizeof q);
	if (file)
		sw_conf_where(file, kind, name, key, where, sizeof where);
	snprintf(err, len, "%s%s[%s%s%s]%s%s: %s%s%s%s", where, file ? ": " : "", kind,
		 name ? " " : "", name ? name : "", key ? " " : "", key ? key : "", what,
		 bad ? ": '" : "", bad ? q : "", bad ? "'" : "");
	return SW_ECONF;
}

enum sw_err sw_channel_rfc3339(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	int w;

	if (t < 0 || t > INT64_C(253402300799) || !gmtime_r(&tt, &tm))
		return SW_ERANGE; /* 253402300799: 9999-12-31T23:59:59Z */
	w = snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return w < 0 || (size_t)w >= len ? SW_ETOOBIG : SW_OK;
}

static bool is_control(uint32_t c)
{
	return c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f) || c == 0x2028 || c == 0x2029;
}

size_t sw_channel_excerpt(const char *in, size_t n, size_t max, char *out, size_t outlen)
{
	size_t i = 0, o = 0, clen, olen;
	const char *src;
	bool cut = false;
	uint32_t cp;

	if (!out || !outlen)
		return 0;
	if (max > outlen - 1)
		max = outlen - 1;
	while (i < n) {
		clen = sw_utf8_decode((const unsigned char *)in + i, n - i, &cp);
		src = in + i;
		olen = clen;
		if (clen == 0) { /* invalid: one byte becomes '?' */
			src = "?";
			olen = clen = 1;
		} else if (is_control(cp) || cp == ' ') {
			src = " ";
			olen = 1;
		}
		if (*src == ' ' && (o == 0 || out[o - 1] == ' ')) {
			i += clen;
			continue;
		}
		if (o + olen > max) {
			cut = true;
			break;
		}
		memcpy(out + o, src, olen);
		o += olen;
		i += clen;
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	if (cut) { /* make room for "..." on a character boundary */
		while (o > 0 && o + 3 > max)
			while (o > 0 && ((unsigned char)out[--o] & 0xc0) == 0x80)
				;
		while (o > 0 && out[o - 1] == ' ')
			o--;
		if (o + 3 <= max) {
			memcpy(out + o, "...", 3);
			o += 3;
		}
	}
	out[o] = '\0';
	return o;
}

int64_t sw_channel_retry_after(const char *value, int64_t now)
{
	int64_t s = 0;
	time_t t;
	size_t i;

	if (!value)
		return 0;
	while (*value == ' ' || *value == '\t')
		value++;
	for (i = 0; value[i] >= '0' && value[i] <= '9'; i++)
		if (s <= SW_CHAN_RETRY_AFTER_MAX)
			s = s * 10 + (value[i] - '0');
	if (i > 0 && value[i + strspn(value + i, " \t\r\n")] == '\0')
		return s > SW_CHAN_RETRY_AFTER_MAX ? SW_CHAN_RETRY_AFTER_MAX : s;
	if (i > 0 || !*value)
		return 0;
	t = curl_getdate(value, NULL);
	if (t == (time_t)-1 || (int64_t)t <= now)
		return 0;
	s = (int64_t)t - now;
	return s > SW_CHAN_RETRY_AFTER_MAX ? SW_CHAN_RETRY_AFTER_MAX : s;
}
