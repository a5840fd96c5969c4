/*
 * probe_smtp.c - the smtp probe (probe.h): is the mail relay of [smtp]
 * answering, and how fast, before a customer email has to find out.
 *
 * One instance (named "smtp") when the file has [smtp] (and no
 * dry_run_dir: a dry run has no relay).  One sample is one whole SMTP
 * session with libcurl: connect, read the greeting, EHLO, STARTTLS and
 * EHLO again when [smtp] tls says so (the mailer's own rule, alerts/mail.h:
 * auto is STARTTLS required except to loopback; smtps:// is TLS from the
 * first byte), NOOP, QUIT.  libcurl's SMTP with no recipient and
 * CURLOPT_CUSTOMREQUEST "NOOP" does exactly that dialogue (it sends the
 * custom command instead of MAIL FROM); the NOOP costs one round trip and
 * proves the relay still reads commands after the greeting.  Every sample
 * opens a fresh connection (CURLOPT_FRESH_CONNECT, CURLOPT_FORBID_REUSE:
 * libcurl sends QUIT and closes it within the transfer), so each one
 * times a whole session, TLS handshake included.  No AUTH: the probe
 * never sends the password; the mailer finds a refused AUTH itself.
 *
 * A sample is lost when the relay cannot be reached (refused, time-out),
 * answers 4xx/5xx (the greeting included: "554 ..." is lost with its code
 * and text, read off the dialogue with CURLOPT_DEBUGFUNCTION), or TLS
 * fails (a certificate not trusted, STARTTLS required but not offered).
 * The run is ok only when no sample was lost; reason is the last loss.
 * value: the relay's TLS certificate days left when TLS was used
 * (CURLINFO_CERTINFO "Expire date"), else none.
 *
 * Blocking, one sample after another, each bounded by [probes] timeout
 * (the connect also by [smtp] connect_timeout).  curl_global_init() is
 * the daemon's.  Nothing here logs.
 */
#include "config.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/netaddr.h"
#include "lib/xmalloc.h"
#include "probes/conf.h"
#include "probes/kinds.h"
#include "probes/probe.h"

#define REPLY_MAX 160

/* What one session said: the last command sent, the first refusal. */
struct trace {
	char verb[12];		    /* the last command sent ("" before any) */
	int fail_code;		    /* first 4xx/5xx reply, 0: none */
	char fail_verb[12];	    /* what it answered ("" : the greeting) */
	char fail_reply[REPLY_MAX]; /* its line, printable ASCII */
	bool tls;		    /* STARTTLS sent (or smtps://) */
};

static void printable(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
}

static void trace_sent(struct trace *t, const char *d, size_t n)
{
	size_t k = 0;

	while (k < n && k + 1 < sizeof(t->verb) && d[k] != ' ' && d[k] != '\r' && d[k] != '\n')
		k++;
	memcpy(t->verb, d, k);
	t->verb[k] = '\0';
	if (strcasecmp(t->verb, "STARTTLS") == 0)
		t->tls = true;
}

static void trace_reply(struct trace *t, const char *d, size_t n)
{
	int code;

	while (n > 0 && (d[n - 1] == '\r' || d[n - 1] == '\n'))
		n--;
	if (n < 3 || d[0] < '1' || d[0] > '5' || d[1] < '0' || d[1] > '9' || d[2] < '0' ||
	    d[2] > '9' || (n > 3 && d[3] != ' '))
		return; /* not a final reply line */
	code = (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
	if (code < 400 || t->fail_code || strcasecmp(t->verb, "QUIT") == 0)
		return;
	t->fail_code = code;
	snprintf(t->fail_verb, sizeof(t->fail_verb), "%s", t->verb);
	snprintf(t->fail_reply, sizeof(t->fail_reply), "%.*s",
		 (int)(n < REPLY_MAX - 1 ? n : REPLY_MAX - 1), d);
	printable(t->fail_reply);
}

/* CURLOPT_DEBUGFUNCTION: the verbs sent and the replies; nothing else is
 * looked at (no AUTH is ever sent, so no secret passes here). */
static int debug_cb(CURL *h, curl_infotype type, char *data, size_t size, void *arg)
{
	struct trace *t = arg;
	const char *nl;
	size_t len;

	(void)h;
	if (type == CURLINFO_HEADER_OUT)
		trace_sent(t, data, size);
	else if (type == CURLINFO_HEADER_IN)
		for (; size > 0; data += len, size -= len) {
			nl = memchr(data, '\n', size);
			len = nl ? (size_t)(nl - data) + 1 : size;
			trace_reply(t, data, len);
		}
	return 0;
}

/* The NOOP's reply text is the "body": dropped. */
static size_t discard_cb(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* The CURLOPT_USE_SSL of c (alerts/mail.c effective_tls: the same rule). */
static long use_ssl(const struct sw_mail_conf *c, bool *ret_smtps)
{
	CURLU *u = curl_url();
	char *host = NULL;
	bool loopback = false;

	*ret_smtps = strncasecmp(c->url, "smtps://", 8) == 0;
	if (u && curl_url_set(u, CURLUPART_URL, c->url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
		loopback = sw_host_is_loopback(host);
	curl_free(host);
	curl_url_cleanup(u);
	if (*ret_smtps)
		return CURLUSESSL_ALL;
	switch (c->tls) {
	case SW_MAIL_TLS_AUTO:
		return loopback ? CURLUSESSL_NONE : CURLUSESSL_ALL;
	case SW_MAIL_TLS_STARTTLS:
		return CURLUSESSL_ALL;
	case SW_MAIL_TLS_OPPORTUNISTIC:
		return CURLUSESSL_TRY;
	default:
		return CURLUSESSL_NONE;
	}
}

/* "Mar  3 12:00:00 2027 GMT" (OpenSSL's ASN1_TIME_print) as unix s, or -1. */
static int64_t parse_expiry(const char *s)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	char mon[4];
	int day, hh, mm, ss, year;
	const char *p;
	struct tm tm;

	if (sscanf(s, "%3s %d %d:%d:%d %d", mon, &day, &hh, &mm, &ss, &year) != 6 ||
	    (p = strstr(months, mon)) == NULL || (p - months) % 3 != 0)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = (int)((p - months) / 3);
	tm.tm_mday = day;
	tm.tm_hour = hh;
	tm.tm_min = mm;
	tm.tm_sec = ss;
	return (int64_t)timegm(&tm);
}

/* Days left on the relay's (first) certificate at now, or false. */
static bool cert_days(CURL *h, int64_t now, double *ret_days)
{
	struct curl_certinfo *ci = NULL;
	int64_t exp;

	if (curl_easy_getinfo(h, CURLINFO_CERTINFO, &ci) != CURLE_OK || !ci || ci->num_of_certs < 1)
		return false;
	for (struct curl_slist *l = ci->certinfo[0]; l; l = l->next)
		if (strncmp(l->data, "Expire date:", 12) == 0 &&
		    (exp = parse_expiry(l->data + 12)) > 0) {
			*ret_days = (double)(exp - now) / 86400.0;
			return true;
		}
	return false;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sets up h for one session of c; false with err set if libcurl refused. */
static bool setup(CURL *h, const struct sw_mail_conf *c, const struct sw_probe_env *env,
		  struct trace *t, char *ebuf, char *err, size_t errlen)
{
	int64_t cto = c->connect_timeout > 0 && c->connect_timeout < env->timeout_ms
			  ? c->connect_timeout
			  : env->timeout_ms;
	bool smtps;
	long ssl = use_ssl(c, &smtps);
	CURLcode rc = CURLE_OK;

	t->tls = smtps;
#define SET(opt, val)                                                                              \
	if (rc == CURLE_OK && (rc = curl_easy_setopt(h, opt, val)) != CURLE_OK)                    \
		snprintf(err, errlen, "smtp: libcurl refused %s: %s", #opt, curl_easy_strerror(rc));
	SET(CURLOPT_URL, c->url);
	SET(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	SET(CURLOPT_USE_SSL, ssl);
	SET(CURLOPT_SSL_VERIFYPEER, c->tls_verify ? 1L : 0L);
	SET(CURLOPT_SSL_VERIFYHOST, c->tls_verify ? 2L : 0L);
	if (c->ca_file)
		SET(CURLOPT_CAINFO, c->ca_file);
	SET(CURLOPT_CERTINFO, 1L);
	SET(CURLOPT_CUSTOMREQUEST, "NOOP");
	SET(CURLOPT_FRESH_CONNECT, 1L);
	SET(CURLOPT_FORBID_REUSE, 1L);
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)cto);
	SET(CURLOPT_TIMEOUT_MS, (long)env->timeout_ms);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_ERRORBUFFER, ebuf);
	SET(CURLOPT_WRITEFUNCTION, discard_cb);
	SET(CURLOPT_DEBUGFUNCTION, debug_cb);
	SET(CURLOPT_DEBUGDATA, t);
	SET(CURLOPT_VERBOSE, 1L); /* the debug function sees nothing without it */
#undef SET
	return rc == CURLE_OK;
}

/* Why a session failed, into why. */
static void loss_reason(const struct trace *t, CURLcode rc, const char *ebuf, char *why, size_t len)
{
	const char *text = ebuf[0] ? ebuf : curl_easy_strerror(rc);

	if (t->fail_code)
		snprintf(why, len, "%.150s (at %s)", t->fail_reply,
			 t->fail_verb[0] ? t->fail_verb : "the greeting");
	else if (rc == CURLE_OPERATION_TIMEDOUT)
		snprintf(why, len, "no answer in time: %.150s", text);
	else if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CONNECT_ERROR ||
		 rc == CURLE_USE_SSL_FAILED || rc == CURLE_SSL_CACERT_BADFILE)
		snprintf(why, len, "TLS: %.150s", text);
	else
		snprintf(why, len, "%.150s", text);
}

/* One session; true when it went through, with its latency. */
static bool sample(const struct sw_mail_conf *c, const struct sw_probe_env *env,
		   struct sw_probe_result *out, double *ret_lat, char *why, size_t whylen,
		   char *err, size_t errlen, bool *ret_broken)
{
	char ebuf[CURL_ERROR_SIZE] = "";
	struct trace t = {0};
	CURL *h = curl_easy_init();
	CURLcode rc;
	double t0, days;

	*ret_broken = false;
	if (!h || !setup(h, c, env, &t, ebuf, err, errlen)) {
		if (!h)
			snprintf(err, errlen, "smtp: libcurl could not make a handle");
		curl_easy_cleanup(h);
		*ret_broken = true;
		return false;
	}
	t0 = mono_s();
	rc = curl_easy_perform(h);
	*ret_lat = mono_s() - t0;
	if (rc == CURLE_OK && !t.fail_code) {
		if (t.tls && cert_days(h, env->now, &days)) {
			out->has_value = true;
			out->value = days;
		}
		curl_easy_cleanup(h);
		return true;
	}
	loss_reason(&t, rc, ebuf, why, whylen);
	curl_easy_cleanup(h);
	return false;
}

static enum sw_err smtp_instances(const struct sw_probe_env *env, char ***ret_ids, size_t *ret_n,
				  char *err, size_t errlen)
{
	const struct sw_mail_conf *c = env->conf ? env->conf->smtp : NULL;

	(void)err;
	(void)errlen;
	*ret_ids = NULL;
	*ret_n = 0;
	if (!c || !c->url || c->dry_run_dir)
		return SW_OK;
	*ret_ids = xcalloc(1, sizeof(char *));
	(*ret_ids)[0] = xstrdup("");
	*ret_n = 1;
	return SW_OK;
}

static enum sw_err smtp_run(const struct sw_probe_env *env, const char *id,
			    struct sw_probe_result *out, char *err, size_t errlen)
{
	const struct sw_mail_conf *c = env->conf ? env->conf->smtp : NULL;
	char why[SW_PROBE_REASON_MAX - 56];
	double lat;
	bool broken;

	(void)id;
	if (!c || !c->url) {
		snprintf(err, errlen, "smtp: no [smtp] url");
		return SW_ECONF;
	}
	for (int i = 0; i < env->samples; i++) {
		bool ok = sample(c, env, out, &lat, why, sizeof(why), err, errlen, &broken);

		if (broken)
			return SW_EIO;
		sw_probe_sample(out, ok, lat);
		if (!ok)
			snprintf(out->reason, sizeof(out->reason), "%s: %s", c->url, why);
	}
	out->ok = out->lost == 0;
	if (out->ok)
		out->reason[0] = '\0';
	if (out->has_value)
		snprintf(out->detail, sizeof(out->detail),
			 "%d of %d sessions, certificate %.0f days left", out->n_lat, out->sent,
			 out->value);
	else
		snprintf(out->detail, sizeof(out->detail), "%d of %d sessions%s", out->n_lat,
			 out->sent, out->n_lat ? ", no TLS" : "");
	return SW_OK;
}

const struct sw_probe_desc sw_probe_smtp = {
    .kind = "smtp",
    .what = "the [smtp] relay: connect, greeting, EHLO, STARTTLS where configured, NOOP, "
	    "QUIT, timed; value: TLS certificate days left",
    .instances = smtp_instances,
    .run = smtp_run,
};
