/*
 * probe_courier_api.c - the courier_api kind (probe.h): does each
 * courier's tracking API answer, how fast, and how long is its TLS
 * certificate good for?  One instance per [courier NAME], named
 * courier_api-NAME.
 *
 * One sample is one lookup of a harmless tracking number (PROBE_NUMBER,
 * which no courier knows) through the collector's own adapter
 * (courier_http.h): the same headers, keys and token endpoint as the
 * poll engine.  An adapter with a token endpoint (OAuth, login) fetches a
 * token on the first sample and keeps it for the run, so authentication
 * is checked once per run and every sample after measures the tracking
 * round trip alone (a token per sample would spend the courier's token
 * quota for nothing); a 401 drops it and the next sample fetches another.
 *
 * A sample succeeds when the courier answers in its own terms: found, not
 * found (the expected answer: the number is made up), or a 4xx error
 * envelope the adapter recognises (a refused number is an answer too).  It
 * is lost on no answer (refused, timeout, TLS failure: the certificate not
 * trusted is said so), 429, 5xx, 401/403 and on an answer the adapter
 * cannot read.  The run is ok when most samples succeeded; its reason is
 * the last loss.  value: the days the leaf certificate has left (https
 * only).  Each sample counts against the courier's daily quota.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xmalloc.h"
#include "probes/conf.h"
#include "probes/courier_http.h"
#include "probes/kinds.h"

/* Not a tracking number of any courier (7..34 characters for UPS; "NF"
 * is the fake courier server's "not found"). */
#define PROBE_NUMBER "NFSWPROBE0000001"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static enum sw_err api_instances(const struct sw_probe_env *env, char ***ret_ids, size_t *ret_n,
				 char *err, size_t errlen)
{
	const struct sw_poll_conf *pc = env->conf ? env->conf->poll : NULL;
	char **ids;

	(void)err;
	(void)errlen;
	*ret_ids = NULL;
	*ret_n = 0;
	if (pc == NULL || pc->n == 0)
		return SW_OK;
	ids = xcalloc(pc->n, sizeof(*ids));
	for (size_t i = 0; i < pc->n; i++)
		ids[i] = xstrdup(pc->couriers[i].name);
	qsort(ids, pc->n, sizeof(*ids), cmp_str);
	*ret_ids = ids;
	*ret_n = pc->n;
	return SW_OK;
}

/* The status class of an HTTP status ("4xx"); "none" for 0. */
static const char *status_class(long http)
{
	static const char *const cls[] = {"none", "1xx", "2xx", "3xx", "4xx", "5xx"};

	return http >= 100 && http < 600 ? cls[http / 100] : cls[0];
}

/* true if the courier answered in its own terms; else why into buf. */
static bool answered_ok(const struct sw_probe_lookup *l, char *buf, size_t len)
{
	const struct sw_courier_result *r = &l->res;
	const char *msg = r->message ? r->message : "";

	if (!l->answered) {
		snprintf(buf, len, "%s", l->why);
		return false;
	}
	if (r->outcome != SW_COURIER_ERROR)
		return true;
	switch (r->errkind) {
	case SW_COURIER_ERR_RATE_LIMITED:
		snprintf(buf, len, "rate limited: HTTP %ld (%s)", l->http, status_class(l->http));
		return false;
	case SW_COURIER_ERR_UNAUTHORIZED:
		snprintf(buf, len, "authentication refused: HTTP %ld (%s)", l->http,
			 status_class(l->http));
		return false;
	case SW_COURIER_ERR_SERVER:
		snprintf(buf, len, "server error: HTTP %ld (%s)", l->http, status_class(l->http));
		return false;
	case SW_COURIER_ERR_BAD_RESPONSE:
		if (strncmp(msg, "HTTP ", 5) == 0) /* the adapter said it */
			snprintf(buf, len, "answer not understood: %.120s", msg);
		else
			snprintf(buf, len, "answer not understood: HTTP %ld: %.120s", l->http, msg);
		return false;
	default: /* a 4xx in the courier's error envelope: it answered */
		return true;
	}
}

static void api_detail(struct sw_probe_result *out, long http, bool has_days)
{
	char days[64] = "";

	if (has_days)
		snprintf(days, sizeof(days), ", certificate %.0f days left", out->value);
	snprintf(out->detail, sizeof(out->detail), "%d/%d answered, last HTTP %ld (%s)%s",
		 out->n_lat, out->sent, http, status_class(http), days);
}

static enum sw_err api_run(const struct sw_probe_env *env, const char *id,
			   struct sw_probe_result *out, char *err, size_t errlen)
{
	struct sw_poll_courier_conf *cf = sw_poll_conf_find(env->conf->poll, id);
	struct sw_probe_token tok = {0};
	struct sw_probe_lookup l;
	char why[SW_PROBE_WHY_MAX];
	long http = 0;
	enum sw_err rc = SW_OK;

	if (cf == NULL) {
		snprintf(err, errlen, "courier_api: no [courier %s] section", id);
		return SW_EINVAL;
	}
	for (int i = 0; i < env->samples && rc == SW_OK; i++) {
		rc = sw_probe_courier_lookup(cf, PROBE_NUMBER, env->timeout_ms, env->now, &tok, &l,
					     err, errlen);
		if (rc != SW_OK)
			break;
		bool ok = answered_ok(&l, why, sizeof(why));
		sw_probe_sample(out, ok, l.seconds);
		if (!ok)
			snprintf(out->reason, sizeof(out->reason), "%.48s: %s", id, why);
		if (l.http)
			http = l.http;
		if (l.has_days) {
			out->has_value = true;
			out->value = l.days_left;
		}
		sw_probe_lookup_clear(&l);
	}
	sw_probe_token_clear(&tok);
	if (rc != SW_OK)
		return rc;
	out->ok = out->n_lat * 2 > out->sent;
	if (out->ok)
		out->reason[0] = '\0';
	sw_probe_median(out);
	api_detail(out, http, out->has_value);
	return SW_OK;
}

const struct sw_probe_desc sw_probe_courier_api = {
    .kind = "courier_api",
    .what = "HTTPS round trip to each courier's tracking API (status class, token "
	    "endpoint, TLS certificate days left)",
    .instances = api_instances,
    .run = api_run,
};
