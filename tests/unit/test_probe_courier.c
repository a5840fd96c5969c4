/*
 * test_probe_courier.c - the courier_api and canary probes
 * (probes/probe_courier_api.c, probes/probe_canary.c) against the fake
 * courier server (tests/fakecourier/server.py: the couriers' documented
 * formats and errors, over HTTP and, with a certificate made here by
 * openssl, HTTPS) and against failing targets: a closed port (refused), a
 * listener that never accepts (timeout), a self-signed certificate (not
 * trusted), faults (500, 429, 401 on the token endpoint) and changed
 * answers for the canary (a renamed field, a new status code, times out
 * of range).  Figures are asserted (sent, lost, ok, reason, days left),
 * never timings beyond "latency > 0".
 */
#include "config.h"

#include <curl/curl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "collector/poll.h"
#include "lib/conf.h"
#include "lib/xmalloc.h"
#include "probes/conf.h"
#include "probes/kinds.h"
#include "tests/stub_proc.h"
#include "tests/tap.h"

#define SECRET "SECRETKEY0123456789"
#define NOW_2025 1741910400 /* 2025-03-14T00:00:00Z, after the fixtures' events */

/* The table of this test's kinds (probes/table.c lists every kind, with
 * the broker's and the store's dependencies). */
const struct sw_probe_desc *const sw_probe_table[] = {&sw_probe_courier_api, &sw_probe_canary,
						      NULL};

static char tmpdir[] = "/tmp/test_probe_courier.XXXXXX";

/* Starts the fake courier server with extra arguments (NULL-terminated,
 * at most 4); false if it did not print its port. */
static bool fake_start(struct stub_proc *f, const char *tag, const char *a1, const char *a2,
		       const char *a3, const char *a4)
{
	const char *src = getenv("SW_SRCDIR");
	char *script = xasprintf("%s/tests/fakecourier/server.py", src && *src ? src : ".");
	char *out = xasprintf("%s/%s.port", tmpdir, tag);
	const char *args[] = {script, "--port", "0", "--max-seconds", "300", "--api-key", SECRET,
			      a1, a2, a3, a4, NULL};
	bool up = stub_proc_start(f, out, true, args);

	free(script);
	free(out);
	return up;
}

static void fake_stop(struct stub_proc *f)
{
	stub_proc_stop(f);
}

static size_t to_buf(char *data, size_t size, size_t nmemb, void *arg)
{
	char *buf = arg;
	size_t have = strlen(buf), len = size * nmemb;

	if (have + len < 65536) {
		memcpy(buf + have, data, len);
		buf[have + len] = '\0';
	}
	return len;
}

/* POSTs json to the fake's /_control (or GETs path when json is NULL);
 * the answer in a static buffer. */
static const char *fake_http(const struct stub_proc *f, const char *path, const char *json)
{
	static char buf[65536];
	char *url = xasprintf("http://127.0.0.1:%d%s", f->port, path);
	CURL *e = curl_easy_init();

	buf[0] = '\0';
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, to_buf);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, buf);
	if (json)
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, json);
	if (curl_easy_perform(e) != CURLE_OK)
		printf("# %s: no answer\n", path);
	curl_easy_cleanup(e);
	free(url);
	return buf;
}

static void fake_control(const struct stub_proc *f, const char *json)
{
	fake_http(f, "/_control", json);
}

/* couriers.C.what in the fake's /_stats. */
static long fake_count(const struct stub_proc *f, const char *c, const char *what)
{
	json_t *root = json_loads(fake_http(f, "/_stats", NULL), 0, NULL);
	json_t *v = json_object_get(json_object_get(json_object_get(root, "couriers"), c), what);
	long n = json_is_integer(v) ? (long)json_integer_value(v) : -1;

	json_decref(root);
	return n;
}

/* The probes' configuration from the text of [courier] sections. */
static struct sw_probes_conf *conf_of(const char *text)
{
	struct sw_probes_conf *pc = xcalloc(1, sizeof(*pc));
	struct sw_conf *conf = NULL;
	char err[512] = "";

	if (sw_conf_load_string(text, "t.conf", &conf, err, sizeof(err)) != SW_OK ||
	    sw_poll_conf_load(conf, &pc->poll, err, sizeof(err)) != SW_OK)
		printf("# bad test configuration: %s\n", err);
	sw_conf_free(conf);
	pc->samples = 3;
	pc->timeout_ms = 5000;
	return pc;
}

static void conf_add_canary(struct sw_probes_conf *pc, const char *name, const char *courier,
			    const char *number, int64_t max_age_s)
{
	struct sw_canary_conf *cv;

	pc->canaries =
	    xreallocarray(pc->canaries, pc->n_canaries + 1, sizeof(*pc->canaries));
	cv = &pc->canaries[pc->n_canaries++];
	cv->name = xstrdup(name);
	cv->courier = xstrdup(courier);
	cv->tracking_number = xstrdup(number);
	cv->max_age_s = max_age_s;
}

static void conf_free(struct sw_probes_conf *pc)
{
	for (size_t i = 0; i < pc->n_canaries; i++) {
		free(pc->canaries[i].name);
		free(pc->canaries[i].courier);
		free(pc->canaries[i].tracking_number);
	}
	free(pc->canaries);
	sw_poll_conf_free(pc->poll);
	free(pc);
}

/* Runs kind's instance id once; the run's return code in *ret_rc. */
static struct sw_probe_result run(const struct sw_probe_desc *d, struct sw_probes_conf *pc,
				  const char *id, int64_t now, enum sw_err *ret_rc)
{
	struct sw_probe_env env = {.conf = pc, .now = now, .samples = pc->samples,
				   .timeout_ms = pc->timeout_ms};
	struct sw_probe_result r;
	char err[256] = "";
	enum sw_err rc;

	memset(&r, 0, sizeof(r));
	sw_probe_name(d->kind, id, &r);
	rc = d->run(&env, id, &r, err, sizeof(err));
	if (rc != SW_OK)
		printf("# %s %s: %s\n", d->kind, id, err);
	if (ret_rc)
		*ret_rc = rc;
	printf("# %s: sent %d lost %d ok %d value %.2f reason '%s' detail '%s'\n", r.name, r.sent,
	       r.lost, r.ok, r.has_value ? r.value : 0.0, r.reason, r.detail);
	ok(strstr(r.reason, SECRET) == NULL && strstr(r.detail, SECRET) == NULL,
	   "%s: no key in reason or detail", r.name);
	return r;
}

static bool has(const char *s, const char *needle)
{
	return strstr(s, needle) != NULL;
}

/* A loopback port nothing listens on (bound, then closed). */
static int closed_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0), port = 0;

	if (bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(s, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(s);
	return port;
}

/* A listener that never accepts: connections complete in the backlog,
 * requests are never answered. */
static int mute_listener(int *ret_fd)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0);

	*ret_fd = s;
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(s, 16) != 0 ||
	    getsockname(s, (struct sockaddr *)&a, &len) != 0)
		return 0;
	return ntohs(a.sin_port);
}

static struct stub_proc fk;

static void test_api_answers(void)
{
	char *text = xasprintf("[courier dhl]\nbase_url = http://127.0.0.1:%d/dhl/track\n"
			       "api_key_env = SW_TEST_DHL_KEY\n"
			       "[courier fedex]\nbase_url = http://127.0.0.1:%d/fedex\n"
			       "api_key_env = SW_TEST_DHL_KEY\napi_secret_env = SW_TEST_DHL_KEY\n",
			       fk.port, fk.port);
	struct sw_probes_conf *pc = conf_of(text);
	struct sw_probe_env env = {.conf = pc, .samples = 3, .timeout_ms = 5000};
	struct sw_probe_result r;
	char **ids = NULL, err[128];
	size_t n = 0;

	is_int(sw_probe_courier_api.instances(&env, &ids, &n, err, sizeof(err)), SW_OK,
	       "instances");
	ok(n == 2 && strcmp(ids[0], "dhl") == 0 && strcmp(ids[1], "fedex") == 0,
	   "one instance per [courier NAME], sorted");
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);

	fake_control(&fk, "{\"reset\":true}");
	r = run(&sw_probe_courier_api, pc, "dhl", NOW_2025, NULL);
	is_str(r.name, "courier_api-dhl", "named courier_api-dhl");
	ok(r.sent == 3 && r.lost == 0 && r.n_lat == 3 && r.ok, "dhl: 3 sent, 3 answered (404 not found)");
	ok(r.lat[0] > 0, "latency > 0");
	ok(!r.has_value, "http: no certificate, no value");
	ok(has(r.detail, "HTTP 404 (4xx)"), "detail: the status class");
	is_str(r.reason, "", "no reason when ok");

	r = run(&sw_probe_courier_api, pc, "fedex", NOW_2025, NULL);
	ok(r.sent == 3 && r.lost == 0 && r.ok, "fedex (OAuth): 3 answered");
	is_int(fake_count(&fk, "fedex", "auth"), 1, "fedex: one token request per run");
	is_int(fake_count(&fk, "fedex", "track"), 3, "fedex: a tracking request per sample");

	fake_control(&fk, "{\"reset\":true,\"fault\":\"500\",\"courier\":\"dhl\",\"count\":1}");
	r = run(&sw_probe_courier_api, pc, "dhl", NOW_2025, NULL);
	ok(r.sent == 3 && r.lost == 1 && r.n_lat == 2 && r.ok, "one 500 of 3: lost 1, still ok");

	fake_control(&fk, "{\"reset\":true,\"fault\":\"500\",\"courier\":\"dhl\"}");
	r = run(&sw_probe_courier_api, pc, "dhl", NOW_2025, NULL);
	ok(r.sent == 3 && r.lost == 3 && !r.ok, "500 throughout: all lost, failed");
	is_str(r.reason, "dhl: server error: HTTP 500 (5xx)", "reason: server error, class");

	fake_control(&fk, "{\"reset\":true,\"fault\":\"429\",\"courier\":\"dhl\"}");
	r = run(&sw_probe_courier_api, pc, "dhl", NOW_2025, NULL);
	ok(r.lost == 3 && !r.ok && has(r.reason, "rate limited: HTTP 429 (4xx)"),
	   "429: lost, rate limited");

	fake_control(&fk, "{\"reset\":true,\"fault\":\"401\",\"courier\":\"fedex\",\"on\":\"auth\"}");
	r = run(&sw_probe_courier_api, pc, "fedex", NOW_2025, NULL);
	ok(r.lost == 3 && !r.ok && has(r.reason, "fedex: authentication failed: HTTP 401"),
	   "token endpoint 401: authentication failed");
	is_int(fake_count(&fk, "fedex", "track"), 0, "no tracking request without a token");

	fake_control(&fk, "{\"reset\":true,\"fault\":\"html\",\"courier\":\"dhl\"}");
	r = run(&sw_probe_courier_api, pc, "dhl", NOW_2025, NULL);
	ok(r.lost == 3 && !r.ok && has(r.reason, "dhl: answer not understood: HTTP 200"),
	   "an HTML page instead of JSON: lost, not understood");
	fake_control(&fk, "{\"reset\":true}");
	conf_free(pc);
	free(text);
}

static void test_api_unreachable(void)
{
	int fd = -1, refused = closed_port(), mute = mute_listener(&fd);
	char *text = xasprintf("[courier dhl]\nbase_url = http://127.0.0.1:%d/dhl/track\n"
			       "api_key_env = SW_TEST_DHL_KEY\n"
			       "[courier mute]\nadapter = dhl\n"
			       "base_url = http://127.0.0.1:%d/dhl/track\n"
			       "api_key_env = SW_TEST_DHL_KEY\n",
			       refused, mute);
	struct sw_probes_conf *pc = conf_of(text);
	struct sw_probe_result r;

	r = run(&sw_probe_courier_api, pc, "dhl", NOW_2025, NULL);
	ok(r.sent == 3 && r.lost == 3 && !r.ok, "closed port: all lost");
	ok(has(r.reason, "dhl: connection refused"), "reason: connection refused");
	ok(has(r.detail, "0/3 answered"), "detail: 0/3 answered");

	pc->timeout_ms = 300;
	pc->samples = 2;
	r = run(&sw_probe_courier_api, pc, "mute", NOW_2025, NULL);
	ok(r.sent == 2 && r.lost == 2 && !r.ok, "never answered: all lost");
	is_str(r.reason, "mute: timeout after 300 ms", "reason: timeout");
	close(fd);
	conf_free(pc);
	free(text);
}

static void test_api_tls(void)
{
	char *cert = xasprintf("%s/cert.pem", tmpdir), *key = xasprintf("%s/key.pem", tmpdir);
	char *cmd = xasprintf("openssl req -x509 -newkey rsa:2048 -nodes -keyout '%s' -out '%s' "
			      "-days 30 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 "
			      ">/dev/null 2>&1",
			      key, cert);
	struct stub_proc tls = {0};
	struct sw_probes_conf *pc;
	struct sw_probe_result r;
	char *text;

	if (system(cmd) != 0 || !fake_start(&tls, "tls", "--tls-cert", cert, "--tls-key", key)) {
		ok(1, "# SKIP no openssl or no HTTPS fake server: TLS cases not run");
		goto out;
	}
	text = xasprintf("[courier dhl]\nbase_url = https://127.0.0.1:%d/dhl/track\n"
			 "api_key_env = SW_TEST_DHL_KEY\nca_file = %s\n"
			 "[courier self]\nadapter = dhl\n"
			 "base_url = https://127.0.0.1:%d/dhl/track\n"
			 "api_key_env = SW_TEST_DHL_KEY\n",
			 tls.port, cert, tls.port);
	pc = conf_of(text);
	r = run(&sw_probe_courier_api, pc, "dhl", (int64_t)time(NULL), NULL);
	ok(r.sent == 3 && r.lost == 0 && r.ok, "https with its CA (ca_file): all answered");
	ok(r.has_value && r.value > 29.0 && r.value <= 30.0,
	   "value: the certificate's days left (29..30 of 30)");
	ok(has(r.detail, "certificate 30 days left") || has(r.detail, "certificate 29 days left"),
	   "detail: certificate days left");

	r = run(&sw_probe_courier_api, pc, "self", (int64_t)time(NULL), NULL);
	ok(r.sent == 3 && r.lost == 3 && !r.ok, "self-signed, not in the CA store: all lost");
	ok(has(r.reason, "self: TLS certificate not trusted: "), "reason: TLS certificate not trusted");
	ok(!r.has_value, "no days left from a certificate not trusted");
	conf_free(pc);
	free(text);
	fake_stop(&tls);
out:
	free(cmd);
	free(cert);
	free(key);
}

static void test_canary(void)
{
	int refused = closed_port();
	char *text = xasprintf("[courier dhl]\nbase_url = http://127.0.0.1:%d/dhl/track\n"
			       "api_key_env = SW_TEST_DHL_KEY\n"
			       "[courier fedex]\nbase_url = http://127.0.0.1:%d/fedex\n"
			       "api_key_env = SW_TEST_DHL_KEY\napi_secret_env = SW_TEST_DHL_KEY\n"
			       "[courier gone]\nadapter = dhl\n"
			       "base_url = http://127.0.0.1:%d/dhl/track\n"
			       "api_key_env = SW_TEST_DHL_KEY\n",
			       fk.port, fk.port, refused);
	struct sw_probes_conf *pc = conf_of(text);
	struct sw_probe_env env = {.conf = pc, .samples = 3, .timeout_ms = 5000};
	struct sw_probe_result r;
	char **ids = NULL, err[128];
	size_t n = 0;
	enum sw_err rc;

	conf_add_canary(pc, "zdhl", "dhl", "GM6051122700845103", 30 * 86400);
	conf_add_canary(pc, "changed", "dhl", "GMCHANGED1", 30 * 86400);
	conf_add_canary(pc, "newcode", "dhl", "GMNEWCODE1", 30 * 86400);
	conf_add_canary(pc, "nf", "dhl", "NF0000001", 30 * 86400);
	conf_add_canary(pc, "gone", "gone", "GM6051122700845103", 30 * 86400);
	conf_add_canary(pc, "lost", "nosuch", "GM1", 30 * 86400);
	conf_add_canary(pc, "fedex", "fedex", "794600000001", 30 * 86400);
	is_int(sw_probe_canary.instances(&env, &ids, &n, err, sizeof(err)), SW_OK, "instances");
	ok(n == 7 && strcmp(ids[0], "changed") == 0 && strcmp(ids[6], "zdhl") == 0,
	   "one instance per [canary NAME], sorted");
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);

	fake_control(&fk, "{\"reset\":true,\"scenario\":{\"dhl\":{"
			  "\"GMCHANGED1\":{\"status\":200,\"body\":{\"shipments\":[{\"id\":"
			  "\"GMCHANGED1\",\"state\":{\"statusCode\":\"transit\"}}]}},"
			  "\"GMNEWCODE1\":{\"status\":200,\"body\":{\"shipments\":[{\"id\":"
			  "\"GMNEWCODE1\",\"status\":{\"statusCode\":\"teleported\"},"
			  "\"events\":[]}]}},"
			  "\"NF0000001\":\"not_found\",\"*\":\"in_transit\"}}}");
	r = run(&sw_probe_canary, pc, "zdhl", NOW_2025, &rc);
	is_str(r.name, "canary-zdhl", "named canary-zdhl");
	ok(rc == SW_OK && r.sent == 1 && r.lost == 0 && r.ok && r.lat[0] > 0,
	   "in transit, plausible times: ok, one sample (samples 3 ignored)");
	ok(has(r.detail, "in_transit") && has(r.detail, "6 events"), "detail: status and events");

	r = run(&sw_probe_canary, pc, "zdhl", 1741000000 /* 2025-03-03 */, NULL);
	ok(!r.ok && r.lost == 1 && has(r.reason, "dhl: event time 2025-03-") &&
	       has(r.reason, "in the future"),
	   "events after now: 'event time ... in the future'");
	r = run(&sw_probe_canary, pc, "zdhl", 1796083200 /* 2026-12-01 */, NULL);
	ok(!r.ok && has(r.reason, "older than max_age"), "events older than max_age");

	r = run(&sw_probe_canary, pc, "changed", NOW_2025, NULL);
	is_str(r.reason, "dhl: the answer no longer parses: shipment without status",
	       "renamed field: the answer no longer parses, the parser's words");
	ok(!r.ok && r.sent == 1 && r.lost == 1, "changed format: lost");
	r = run(&sw_probe_canary, pc, "newcode", NOW_2025, NULL);
	ok(!r.ok && has(r.reason, "dhl: status unknown for 'GMNEWCODE1' (code 'teleported')"),
	   "new status code: status unknown");
	r = run(&sw_probe_canary, pc, "nf", NOW_2025, NULL);
	ok(!r.ok && has(r.reason, "'NF0000001' not found"), "number no longer known: not found");

	r = run(&sw_probe_canary, pc, "fedex", 1745000000 /* 2025-04-18 */, NULL);
	ok(r.ok && r.sent == 1 && r.lost == 0 && has(r.detail, "in_transit"),
	   "fedex canary: through its token endpoint, parsed by its adapter");
	is_int(fake_count(&fk, "fedex", "auth"), 1, "fedex canary: one token request");

	fake_control(&fk, "{\"fault\":\"malformed\",\"courier\":\"dhl\",\"count\":1}");
	r = run(&sw_probe_canary, pc, "zdhl", NOW_2025, NULL);
	ok(!r.ok && has(r.reason, "dhl: the answer no longer parses: "), "malformed JSON");

	r = run(&sw_probe_canary, pc, "gone", NOW_2025, NULL);
	ok(!r.ok && r.lost == 1 && has(r.reason, "gone: connection refused"), "refused");
	r = run(&sw_probe_canary, pc, "lost", NOW_2025, &rc);
	ok(rc == SW_EINVAL, "a canary naming no [courier] section: an error of the probe");
	fake_control(&fk, "{\"reset\":true}");
	conf_free(pc);
	free(text);
}

int main(void)
{
	setenv("SW_TEST_DHL_KEY", SECRET, 1);
	setenv("TZ", "UTC", 1);
	if (mkdtemp(tmpdir) == NULL || !fake_start(&fk, "fake", NULL, NULL, NULL, NULL)) {
		printf("Bail out! cannot start the fake courier server\n");
		fake_stop(&fk);
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	test_api_answers();
	test_api_unreachable();
	test_api_tls();
	test_canary();
	fake_stop(&fk);
	curl_global_cleanup();
	{
		char *cmd = xasprintf("rm -rf '%s'", tmpdir);

		if (system(cmd) != 0)
			printf("# could not remove %s\n", tmpdir);
		free(cmd);
	}
	return tap_done();
}
