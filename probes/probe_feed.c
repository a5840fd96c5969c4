/*
 * probe_feed.c - the feed kind (probe.h): is each warehouse still
 * publishing?  One instance per warehouse of the store's warehouse_health
 * (lib/store_feeds.h), named feed-<warehouse>; one sample, the read of
 * its row, timed; the value is the seconds since its last event, and the
 * run fails when that is over [probes] feed_max_silence.
 *
 * The bound is the probes' own, independent of the alert engine's feed
 * rules: the probe says what it sees, the engine decides what to page.
 */
#include "config.h"

#include <stdio.h>
#include <time.h>

#include "lib/store_feeds.h"
#include "lib/store_signals.h"
#include "probes/conf.h"
#include "probes/kinds.h"

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static enum sw_err feed_instances(const struct sw_probe_env *env, char ***ret_ids, size_t *ret_n,
				  char *err, size_t errlen)
{
	*ret_ids = NULL;
	*ret_n = 0;
	if (env->st == NULL) {
		snprintf(err, errlen, "feed: no store to read");
		return SW_EINVAL;
	}
	if (sw_store_feed_warehouses(env->st, ret_ids, ret_n) != SW_OK) {
		snprintf(err, errlen, "feed: cannot list the warehouses: %s",
			 sw_store_errmsg(env->st));
		return SW_ESTORE;
	}
	return SW_OK;
}

/* "42 min" from 2 min on, else "75 s". */
static void say_age(char *buf, size_t len, int64_t s)
{
	if (s >= 120)
		snprintf(buf, len, "%lld min", (long long)(s / 60));
	else
		snprintf(buf, len, "%lld s", (long long)s);
}

static enum sw_err feed_run(const struct sw_probe_env *env, const char *id,
			    struct sw_probe_result *out, char *err, size_t errlen)
{
	int64_t last = 0, age, max_s = env->conf->feed_max_silence_ms / 1000;
	double t0 = mono_s();
	char age_txt[48];

	(void)err;
	(void)errlen;
	if (env->st == NULL || sw_store_warehouse_last_event(env->st, id, &last) != SW_OK) {
		sw_probe_sample(out, false, 0);
		snprintf(out->reason, sizeof(out->reason), "%s: cannot read the store: %s", id,
			 env->st ? sw_store_errmsg(env->st) : "no store");
		return SW_OK;
	}
	sw_probe_sample(out, true, mono_s() - t0);
	if (last <= 0) {
		snprintf(out->reason, sizeof(out->reason), "%s: no event ever", id);
		return SW_OK;
	}
	age = env->now > last ? env->now - last : 0;
	out->has_value = true;
	out->value = (double)age;
	say_age(age_txt, sizeof(age_txt), age);
	snprintf(out->detail, sizeof(out->detail), "last event %s ago", age_txt);
	out->ok = age <= max_s;
	if (!out->ok)
		snprintf(out->reason, sizeof(out->reason), "%s: no event for %s", id, age_txt);
	return SW_OK;
}

const struct sw_probe_desc sw_probe_feed = {
    .kind = "feed",
    .what = "seconds since each warehouse's last event (store), against feed_max_silence",
    .instances = feed_instances,
    .run = feed_run,
};
