/*
 * test_push.c - unit tests for the webhook kinds and the [push] sections
 * (collector/push*.c): signatures against vectors computed elsewhere
 * (RFC 4231 test case 2, and Python's hmac for a body and secret of ours),
 * so a wrong HMAC, encoding or prefix fails; the documented payloads of
 * tests/data/push/ parsed into results; events that carry no update
 * ignored; malformed bodies refused; the configuration's checks with their
 * FILE:LINE texts; and the store's side of the fallback
 * (sw_store_poll_pull_in: only that courier's far, non-terminal
 * schedules move).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "collector/poll.h"
#include "collector/push.h"
#include "lib/conf.h"
#include "lib/store_push.h"
#include "lib/xmalloc.h"
#include "slipwatch/courier.h"
#include "tap.h"
#include "store_tmp.h"

/* RFC 4231, test case 2. */
static const char rfc_key[] = "Jefe";
static const char rfc_data[] = "what do ya want for nothing?";
static const char rfc_hex[] = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
static const char rfc_b64[] = "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=";

static char *slurp(const char *name, size_t *ret_len)
{
	const char *dir = getenv("SW_TEST_DATA");
	char *path = xasprintf("%s/push/%s", dir && *dir ? dir : "tests/data", name);
	FILE *f = fopen(path, "rb");
	char *buf = xmalloc(1 << 20);

	*ret_len = f ? fread(buf, 1, (1 << 20) - 1, f) : 0;
	buf[*ret_len] = '\0';
	if (f)
		fclose(f);
	else
		printf("# cannot open %s\n", path);
	free(path);
	return buf;
}

static void test_verify(void)
{
	const struct sw_push_kind *as = &sw_push_aftership, *ep = &sw_push_easypost;
	size_t kl = strlen(rfc_key), dl = strlen(rfc_data);
	char *hdr = xasprintf("hmac-sha256-hex=%s", rfc_hex), *up = xstrdup(hdr);

	ok(as->verify(rfc_key, kl, rfc_b64, rfc_data, dl), "aftership: RFC 4231 #2 verifies");
	ok(!as->verify(rfc_key, kl, rfc_b64, rfc_data, dl - 1), "aftership: a shorter body fails");
	ok(!as->verify("Jeff", kl, rfc_b64, rfc_data, dl), "aftership: another key fails");
	ok(!as->verify(rfc_key, kl, NULL, rfc_data, dl), "aftership: no header fails");
	ok(!as->verify(rfc_key, kl, rfc_hex, rfc_data, dl),
	   "aftership: hex instead of base64 fails");
	ok(!as->verify(rfc_key, kl, "", rfc_data, dl), "aftership: empty header fails");
	ok(ep->verify(rfc_key, kl, hdr, rfc_data, dl), "easypost: RFC 4231 #2 verifies");
	for (char *p = up + strlen("hmac-sha256-hex="); *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	ok(ep->verify(rfc_key, kl, up, rfc_data, dl), "easypost: upper-case hex verifies");
	ok(!ep->verify(rfc_key, kl, rfc_hex, rfc_data, dl), "easypost: without the prefix fails");
	ok(!ep->verify(rfc_key, kl, hdr, "what do ya want for nothing!", dl),
	   "easypost: a changed body fails");
	hdr[strlen(hdr) - 1] = '4';
	ok(!ep->verify(rfc_key, kl, hdr, rfc_data, dl), "easypost: a changed digit fails");
	free(hdr);
	free(up);
}

static void test_aftership(void)
{
	struct sw_courier_result r = {0};
	char err[256], *alt = NULL, *body;
	size_t len;

	body = slurp("aftership_tracking_update.json", &len);
	is_int(sw_push_aftership.parse(body, len, &r, &alt, err, sizeof(err)), SW_PUSH_UPDATE,
	       "aftership: tracking_update is an update");
	is_str(r.tracking_number, "9876543210", "aftership: msg.tracking_number");
	is_str(alt, "bff5a3bac79b472991a204172473a635", "aftership: msg.id as the other key");
	is_int(r.outcome, SW_COURIER_FOUND, "aftership: found");
	is_int(r.status, SW_SHIP_IN_TRANSIT, "aftership: InTransit");
	is_int(r.n_events, 5, "aftership: five checkpoints");
	ok(r.has_eta && r.eta.year == 2025 && r.eta.month == 8 && r.eta.day == 6,
	   "aftership: the estimated delivery as written");
	sw_courier_result_clear(&r);
	free(alt);
	free(body);

	body = slurp("aftership_pending_time.json", &len);
	is_int(sw_push_aftership.parse(body, len, &r, &alt, err, sizeof(err)), SW_PUSH_IGNORED,
	       "aftership: tracking_pending_time is no update");
	ok(strstr(err, "tracking_pending_time") != NULL, "aftership: the reason names the event");
	sw_courier_result_clear(&r);
	free(body);

	static const char *const bad[] = {
	    "{\"event\":\"tracking_update\",\"msg\":{\"tracking_number\":\"1\"",
	    "{\"event\":\"tracking_update\"}",
	    "{\"event\":\"tracking_update\",\"msg\":{\"tracking_number\":\"1\"}}",
	    "{\"event\":\"tracking_update\",\"msg\":{\"tag\":\"InTransit\"}}",
	    "{\"msg\":{\"tracking_number\":\"1\",\"tag\":\"InTransit\"}}",
	    "[1,2]",
	    "",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		alt = NULL;
		is_int(sw_push_aftership.parse(bad[i], strlen(bad[i]), &r, &alt, err, sizeof(err)),
		       SW_PUSH_MALFORMED, "aftership: malformed %zu refused (%s)", i, err);
		ok(alt == NULL, "aftership: malformed %zu gives no key", i);
		sw_courier_result_clear(&r);
	}
}

static void test_easypost(void)
{
	struct sw_courier_result r = {0};
	char err[256], *alt = NULL, *body, *b;
	size_t len;

	body = slurp("easypost_tracker_updated.json", &len);
	is_int(sw_push_easypost.parse(body, len, &r, &alt, err, sizeof(err)), SW_PUSH_UPDATE,
	       "easypost: tracker.updated is an update");
	is_str(r.tracking_number, "EZ4000000004", "easypost: tracking_code");
	is_str(alt, "trk_5b8a4c2e9f1d4e7a8c3b2a1f0e9d8c7b", "easypost: the tracker id");
	is_int(r.status, SW_SHIP_DELIVERED, "easypost: delivered");
	is_int(r.n_events, 4, "easypost: four details");
	is_int(r.events[0].status, SW_SHIP_INFO_RECEIVED, "easypost: pre_transit is info_received");
	is_str(r.events[1].location, "NORTH HOUSTON", "easypost: the event's city");
	ok(r.has_delivered && r.delivered.utc_sec == r.events[3].at.utc_sec,
	   "easypost: delivered at the delivered event");
	ok(r.has_eta && r.eta.day == 8, "easypost: est_delivery_date as a date");
	is_str(r.signer, "John Tester", "easypost: signed_by");
	sw_courier_result_clear(&r);
	free(alt);

	static const struct {
		const char *word;
		enum sw_ship_status want;
	} map[] = {{"return_to_sender", SW_SHIP_RETURNING},
		   {"failure", SW_SHIP_EXCEPTION},
		   {"canceled", SW_SHIP_CANCELLED},
		   {"error", SW_SHIP_UNKNOWN},
		   {"available_for_pickup", SW_SHIP_AVAILABLE_FOR_PICKUP}};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		b = xasprintf("{\"object\":\"Event\",\"description\":\"tracker.updated\","
			      "\"result\":{\"tracking_code\":\"EZ1\",\"status\":\"%s\"}}",
			      map[i].word);
		is_int(sw_push_easypost.parse(b, strlen(b), &r, NULL, err, sizeof(err)),
		       SW_PUSH_UPDATE, "easypost: status %s parses", map[i].word);
		is_int(r.status, map[i].want, "easypost: status %s mapped", map[i].word);
		sw_courier_result_clear(&r);
		free(b);
	}
	free(body);
	body = slurp("easypost_batch_updated.json", &len);
	is_int(sw_push_easypost.parse(body, len, &r, &alt, err, sizeof(err)), SW_PUSH_IGNORED,
	       "easypost: batch.updated is no update");
	sw_courier_result_clear(&r);
	free(body);

	static const char *const bad[] = {
	    "{\"object\":\"Tracker\",\"description\":\"tracker.updated\"}",
	    "{\"object\":\"Event\",\"description\":\"tracker.updated\",\"result\":{}}",
	    "{\"object\":\"Event\",\"description\":\"tracker.updated\","
	    "\"result\":{\"tracking_code\":\"EZ1\"}}",
	    "{\"object\":\"Event\",\"description\":\"tracker.updated\","
	    "\"result\":{\"tracking_code\":\"EZ1\",\"status\":\"delivered\",\"tracking_details\":7}"
	    "}",
	    "{\"object\":\"Event\",\"object\":\"Event\"}",
	    "not json",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		is_int(sw_push_easypost.parse(bad[i], strlen(bad[i]), &r, NULL, err, sizeof(err)),
		       SW_PUSH_MALFORMED, "easypost: malformed %zu refused (%s)", i, err);
		sw_courier_result_clear(&r);
	}
}

/* sw_push_conf_load on text with courier sections "as" and "ep". */
static enum sw_err load(const char *text, struct sw_push_conf **ret, char *err, size_t len)
{
	struct sw_poll_courier_conf cs[2] = {{.name = "as", .interval = 7200000},
					     {.name = "ep", .interval = 7200000}};
	struct sw_poll_conf poll = {.couriers = cs, .n = 2};
	struct sw_conf *conf = NULL;
	enum sw_err rc;

	*ret = NULL;
	if (sw_conf_load_string(text, "t.conf", &conf, err, len) != SW_OK)
		return SW_EIO;
	rc = sw_push_conf_load(conf, &poll, ret, err, len);
	sw_conf_free(conf);
	return rc;
}

/* A secret file any user may read is refused, as alerts' webhook does. */
static void test_conf_world_readable(void)
{
	char *path = xasprintf("/tmp/sw-test-push-secret.%d", (int)getpid()), *text, err[512] = "";
	struct sw_push_conf *pc;
	FILE *f = fopen(path, "w");

	if (f) {
		fputs("0123456789abcdef\n", f);
		fclose(f);
	}
	chmod(path, 0644);
	text = xasprintf("[push a]\nkind = aftership\ncourier = as\nsecret_file = %s\n", path);
	is_int(load(text, &pc, err, sizeof(err)), SW_ECONF, "a world-readable secret file refused");
	ok(strstr(err, "t.conf:4: [push a] secret_file: readable by every user") == err,
	   "says so: %s", err);
	chmod(path, 0600);
	err[0] = '\0';
	is_int(load(text, &pc, err, sizeof(err)), SW_OK, "chmod 600: taken (%s)", err);
	sw_push_conf_free(pc);
	unlink(path);
	free(text);
	free(path);
}

static void test_conf(void)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
	    {"[push a]\nkind = aftership\ncourier = nope\nsecret_env = SWT_SECRET\n",
	     "t.conf:3: [push a] courier: no [courier NAME] section of that name: 'nope'"},
	    {"[push a]\nkind = aftership\ncourier = as\n", "t.conf:1: [push a] secret: required"},
	    {"[push a]\nkind = easypost\ncourier = ep\nsecret_env = SWT_UTF8\n",
	     "t.conf:4: [push a] secret: not ASCII"},
	    {"[push a]\nkind = fedex\ncourier = as\n", "t.conf:2:"},
	    {"[push a]\nkind = aftership\ncourier = as\nsecret_env = SWT_SECRET\n"
	     "[push b]\nkind = easypost\ncourier = ep\nsecret_env = SWT_SECRET\npath = /push/a\n",
	     "t.conf:9: [push b] path: already the path of another [push NAME]: '/push/a'"},
	    {"[push a]\nkind = aftership\ncourier = as\nsecret_env = SWT_SECRET\npath = push\n",
	     "t.conf:5: [push a] path: want an absolute path"},
	    {"[push]\nlisten = 192.0.2.1:8787\n",
	     "t.conf:2: [push] listen: not a loopback address"},
	    {"[push]\nlisten = localhost:80\n", "t.conf:2: [push] listen: not a numeric"},
	    {"[push]\ntls_cert = /etc/hostname\n",
	     "t.conf:1: [push] tls_key: tls_cert and tls_key"},
	    {"[push]\nmax_body = 10\n", "t.conf:2: [push] max_body"},
	    {"[push a]\nkind = aftership\ncourier = as\nsecret_env = SWT_SECRET\n"
	     "poll_interval_while_pushing = 2h\n",
	     "t.conf:5: [push a] poll_interval_while_pushing: not longer than [courier as] "
	     "interval (7200 s): pushes would spare no poll"},
	};
	struct sw_push_conf *pc;
	char err[512];

	setenv("SWT_SECRET", "0123456789abcdef0123456789abcdef", 1);
	setenv("SWT_UTF8", "caf\xc3\xa9-secret-0123456789", 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		is_int(load(bad[i].text, &pc, err, sizeof(err)), SW_ECONF, "conf %zu refused", i);
		ok(strncmp(err, bad[i].want, strlen(bad[i].want)) == 0, "conf %zu says where: %s",
		   i, err);
		ok(pc == NULL, "conf %zu: nothing returned", i);
	}
	is_int(load("[push]\nlisten = 127.0.0.1:9000\n[push a]\nkind = easypost\ncourier = ep\n"
		    "secret_env = SWT_SECRET\npush_silence = 5m\n",
		    &pc, err, sizeof(err)),
	       SW_OK, "a good [push NAME] loads (%s)", err);
	if (pc) {
		is_int(pc->n, 1, "one webhook");
		is_str(pc->hooks[0].path, "/push/a", "the path defaults to /push/NAME");
		is_int(pc->hooks[0].kind, SW_PUSH_KIND_EASYPOST, "its kind");
		is_int(pc->hooks[0].silence, 300000, "push_silence in ms");
		is_int(pc->hooks[0].poll_while_pushing, 86400000,
		       "poll_interval_while_pushing 24h");
		is_int(pc->max_body, 1 << 20, "max_body 1M");
		ok(!pc->listen_public, "loopback by default");
	}
	sw_push_conf_free(pc);
	test_conf_world_readable();
	is_int(load("", &pc, err, sizeof(err)), SW_OK, "no [push]: fine");
	ok(pc && pc->n == 0 && strcmp(pc->listen, "127.0.0.1:8787") == 0,
	   "no webhooks, default listen");
	sw_push_conf_free(pc);
	err[0] = '\0';
	is_int(sw_conf_table_check(sw_push_table, err, sizeof(err)), SW_OK, "[push] table: %s",
	       err);
	is_int(sw_conf_table_check(sw_push_hook_table, err, sizeof(err)), SW_OK,
	       "[push NAME] table: %s", err);
	for (int k = 0; k < SW_PUSH_KIND_LAST; k++)
		is_str(sw_push_kinds[k]->name, sw_push_kind_words[k], "kind %d is its word", k);
}

/* A parcel of courier with a schedule next_poll_at, interval 86400. */
static void add(struct sw_store *st, const char *courier, const char *tn, int64_t next)
{
	struct sw_poll sp = {
	    .courier = courier, .tracking_number = tn, .next_poll_at = next, .interval_s = 86400};

	sw_store_parcel_upsert(st, courier, tn, NULL, NULL, (struct sw_stamp){next - 86400, 0});
	sw_store_poll_upsert(st, &sp);
}

/* The schedule of tn of courier (due before 3 days from now), or 0s. */
static struct sw_poll sched(struct sw_store *st, const char *courier, const char *tn)
{
	struct sw_poll *ps = NULL, r = {0};
	size_t n = 0;

	sw_store_poll_due_courier(st, courier, time(NULL) + 3 * 86400, 100, &ps, &n);
	for (size_t i = 0; i < n; i++)
		if (strcmp(ps[i].tracking_number, tn) == 0)
			r = (struct sw_poll){.next_poll_at = ps[i].next_poll_at,
					     .interval_s = ps[i].interval_s};
	sw_store_poll_free(ps, n);
	return r;
}

static int test_pull_in(void)
{
	struct sw_store *st = store_tmp_open();
	struct sw_parcel_update done = {.status = SW_SHIP_DELIVERED};
	int64_t now = time(NULL), n = -1;
	struct sw_poll a;

	if (st == NULL)
		return store_tmp_done(st);
	add(st, "as", "FAR", now + 86400);
	add(st, "as", "NEAR", now + 100);
	add(st, "as", "DONE", now + 86400);
	add(st, "ep", "OTHER", now + 86400);
	sw_store_parcel_set_status(st, "as", "DONE", &done);
	is_int(sw_store_poll_pull_in(st, "as", now + 3600, now + 1, 3600, 3600, &n), SW_OK,
	       "pull_in: SW_OK");
	is_int(n, 1, "pull_in: one schedule moved (the far, not terminal one of that courier)");
	a = sched(st, "as", "FAR");
	ok(a.next_poll_at >= now + 1 && a.next_poll_at < now + 3601,
	   "pull_in: the far one is due within the interval (%lld)",
	   (long long)(a.next_poll_at - now));
	is_int(a.interval_s, 3600, "pull_in: with the normal interval");
	is_int(sched(st, "as", "NEAR").next_poll_at, now + 100, "pull_in: a near one is untouched");
	is_int(sched(st, "ep", "OTHER").next_poll_at, now + 86400,
	       "pull_in: another courier's is untouched");
	is_int(sw_store_poll_pull_in(st, "as", now + 3600, now + 1, 3600, 3600, &n), SW_OK,
	       "pull_in again: SW_OK");
	is_int(n, 0, "pull_in again: nothing left to move");
	is_int(sw_store_poll_pull_in(st, "", now, now, 1, 1, NULL), SW_EINVAL,
	       "empty courier: EINVAL");
	is_int(sw_store_poll_pull_in(st, "as", now, 0, 1, 1, NULL), SW_EINVAL, "at 0: EINVAL");
	is_int(sw_store_poll_pull_in(st, "as", now, now, 0, 1, NULL), SW_EINVAL,
	       "spread 0: EINVAL");
	return store_tmp_done(st);
}

int main(void)
{
	test_verify();
	test_aftership();
	test_easypost();
	test_conf();
	return test_pull_in(); /* ends with tap_done() */
}
