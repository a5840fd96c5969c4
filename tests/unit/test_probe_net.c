/*
 * test_probe_net.c - the broker and smtp probes (probes/probe_broker.c,
 * probes/probe_smtp.c) against real servers on loopback.
 *
 * broker: a mosquitto started here on a free port (SW_MOSQUITTO, else
 * /usr/sbin/mosquitto; skipped without one): every sample comes back,
 * with a positive latency; a closed port loses every sample with the
 * reason.  smtp: tests/tools/smtp_sink.py (python3 with aiosmtpd; skipped
 * without it): every sample is a whole session on a fresh connection (the
 * sink counts them); a closed port and a server greeting 554 (a child of
 * this test) are lost with the reason and the code; STARTTLS with a
 * self-signed certificate made with the openssl CLI is lost as not
 * trusted, and passes against the certificate as ca_file with its days
 * left as the value.  No timing is asserted beyond "positive".
 */
#include "config.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "collector/mqtt.h"
#include "lib/xmalloc.h"
#include "probes/conf.h"
#include "probes/kinds.h"
#include "probes/probe.h"
#include "tests/sink.h"
#include "tests/tap.h"

/* probe.c's sw_probe_find needs a table: the two kinds under test. */
const struct sw_probe_desc *const sw_probe_table[] = {&sw_probe_broker, &sw_probe_smtp, NULL};

static char tmpdir[] = "/tmp/sw-test-probe-net.XXXXXX";

/* ---- helpers --------------------------------------------------------------- */

/* A loopback TCP socket listening on a free port (*ret_port), or -1. */
static int listen_any(int *ret_port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 8) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*ret_port = ntohs(a.sin_port);
	return fd;
}

/* A port nothing listens on (bound, then closed). */
static int closed_port(void)
{
	int port = 0, fd = listen_any(&port);

	if (fd >= 0)
		close(fd);
	return port;
}

static bool port_open(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool up = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;

	if (fd >= 0)
		close(fd);
	return up;
}

static void run_t(const struct sw_probe_desc *d, const struct sw_probes_conf *c, int samples,
		  int64_t timeout_ms, struct sw_probe_result *out)
{
	struct sw_probe_env env = {
	    .conf = c, .now = (int64_t)time(NULL), .samples = samples, .timeout_ms = timeout_ms};
	char err[256] = "";
	enum sw_err rc;

	memset(out, 0, sizeof(*out));
	sw_probe_name(d->kind, "", out);
	rc = d->run(&env, "", out, err, sizeof(err));
	if (rc != SW_OK)
		printf("# %s: %s\n", d->kind, err);
	printf("# %s: ok %d sent %d lost %d reason '%s' detail '%s'\n", out->name, out->ok,
	       out->sent, out->lost, out->reason, out->detail);
}

static void run(const struct sw_probe_desc *d, const struct sw_probes_conf *c, int samples,
		struct sw_probe_result *out)
{
	run_t(d, c, samples, 5000, out);
}

/* ---- broker ------------------------------------------------------------------ */

static pid_t broker_pid;

static bool broker_start(int port)
{
	const char *bin = getenv("SW_MOSQUITTO");
	char *conf = xasprintf("%s/mosquitto.conf", tmpdir);
	char *text = xasprintf("listener %d 127.0.0.1\nallow_anonymous true\nlog_dest none\n%s",
			       port, geteuid() == 0 ? "user root\n" : "");

	bin = bin && *bin ? bin : "/usr/sbin/mosquitto";
	sink_spew(conf, text, 0600);
	free(text);
	if (access(bin, X_OK) != 0) {
		free(conf);
		return false;
	}
	broker_pid = fork();
	if (broker_pid == 0) {
		int null = open("/dev/null", O_RDWR);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execl(bin, "mosquitto", "-c", conf, (char *)NULL);
		_exit(127);
	}
	free(conf);
	for (int i = 0; i < 200; i++) { /* waits for the start, asserts nothing on time */
		if (port_open(port))
			return true;
		if (waitpid(broker_pid, NULL, WNOHANG) == broker_pid)
			break;
		usleep(25 * 1000);
	}
	return false;
}

static void test_broker(void)
{
	struct sw_mqtt_conf mq = {.host = "127.0.0.1", .client_id = "sw-test", .keepalive = 30000};
	struct sw_probes_conf c = {.topic = "slipwatch/probe", .mqtt = &mq};
	struct sw_probe_env env = {.conf = &c};
	struct sw_probe_result r;
	char **ids = NULL, err[64];
	size_t n = 0;
	int port = closed_port();

	ok(sw_probe_broker.instances(&env, &ids, &n, err, sizeof(err)) == SW_OK && n == 1 &&
	       strcmp(ids[0], "") == 0,
	   "broker: one instance with [mqtt]");
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	c.mqtt = NULL;
	ok(sw_probe_broker.instances(&env, &ids, &n, err, sizeof(err)) == SW_OK && n == 0,
	   "broker: none without [mqtt]");
	c.mqtt = &mq;

	mq.port = port;
	run(&sw_probe_broker, &c, 3, &r);
	is_str(r.name, "broker", "broker: the instance is named broker");
	ok(!r.ok && r.sent == 3 && r.lost == 3 && r.n_lat == 0, "broker down: 3 of 3 lost");
	ok(strstr(r.reason, "127.0.0.1:") && strstr(r.reason, "cannot connect"),
	   "broker down: the reason says it cannot connect: %s", r.reason);
	mq.username = "probe";
	mq.password.value = "s3cret-pw";
	run(&sw_probe_broker, &c, 1, &r);
	ok(r.lost == 1 && !strstr(r.reason, "s3cret-pw") && !strstr(r.detail, "s3cret-pw"),
	   "broker with a password: never in the reason or detail");
	mq.username = NULL;
	mq.password.value = NULL;

	if (!broker_start(port)) {
		ok(1, "# SKIP no mosquitto to run (SW_MOSQUITTO or /usr/sbin/mosquitto)");
		return;
	}
	run(&sw_probe_broker, &c, 4, &r);
	ok(r.ok && r.sent == 4 && r.lost == 0 && r.n_lat == 4, "broker: 4 of 4 came back");
	ok(r.lat[0] > 0 && sw_probe_median(&r) > 0 && r.lat[0] <= r.lat[3],
	   "broker: positive latencies, sorted by the median");
	is_str(r.reason, "", "broker ok: no reason");
	ok(strstr(r.detail, "4 of 4") && strstr(r.detail, "slipwatch/probe/"),
	   "broker: the detail names the private topic: %s", r.detail);
	kill(broker_pid, SIGTERM);
	waitpid(broker_pid, NULL, 0);
}

/* ---- smtp ---------------------------------------------------------------------- */

/* A server greeting every connection with 554 (a child until killed). */
static pid_t greet_554(int *ret_port)
{
	int fd = listen_any(ret_port), c;
	pid_t pid;
	char buf[256];

	if (fd < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;) {
			if ((c = accept(fd, NULL, NULL)) < 0)
				continue;
			if (write(c, "554 5.3.2 test: no service here\r\n", 34) == 34)
				while (read(c, buf, sizeof(buf)) > 0)
					if (write(c, "221 bye\r\n", 9) != 9)
						break;
			close(c);
		}
	}
	close(fd);
	return pid;
}

static void test_smtp_plain(const char *python, const char *script)
{
	struct sw_mail_conf m = {
	    .tls = SW_MAIL_TLS_OFF, .tls_verify = true, .connect_timeout = 5000};
	struct sw_probes_conf c = {.smtp = &m};
	struct sw_probe_result r;
	struct sink s = {0};
	int port, mute;
	pid_t pid;

	m.url = xasprintf("smtp://127.0.0.1:%d", closed_port());
	run(&sw_probe_smtp, &c, 2, &r);
	ok(!r.ok && r.sent == 2 && r.lost == 2, "smtp refused: 2 of 2 lost");
	ok(strstr(r.reason, m.url) && strstr(r.reason, "onnect"),
	   "smtp refused: the reason names the relay and the connect: %s", r.reason);
	free(m.url);

	mute = listen_any(&port); /* connects (the kernel's backlog), never greets */
	m.url = xasprintf("smtp://127.0.0.1:%d", port);
	run_t(&sw_probe_smtp, &c, 1, 300, &r);
	ok(!r.ok && r.lost == 1 && strstr(r.reason, "no answer in time"),
	   "smtp: a relay that never greets: lost, timed out: %s", r.reason);
	free(m.url);
	close(mute);

	pid = greet_554(&port);
	m.url = xasprintf("smtp://127.0.0.1:%d", port);
	run(&sw_probe_smtp, &c, 2, &r);
	ok(!r.ok && r.lost == 2, "smtp 554 greeting: lost");
	ok(strstr(r.reason, "554 5.3.2 test: no service here") && strstr(r.reason, "greeting"),
	   "smtp 554 greeting: the code and text in the reason: %s", r.reason);
	free(m.url);
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}

	if (!ok(sink_run(&s, python, script, tmpdir, "plain", 0, NULL), "smtp sink started"))
		return;
	m.url = xasprintf("smtp://127.0.0.1:%d", s.port);
	run(&sw_probe_smtp, &c, 3, &r);
	ok(r.ok && r.sent == 3 && r.lost == 0 && r.n_lat == 3, "smtp: 3 of 3 sessions");
	ok(r.lat[0] > 0 && !r.has_value, "smtp: positive latencies, no TLS: no value");
	is_int(sink_connections(&s), 3, "smtp: one fresh connection per sample");
	is_int(sink_count(&s), 0, "smtp: no message sent");
	m.tls = SW_MAIL_TLS_STARTTLS;
	run(&sw_probe_smtp, &c, 1, &r);
	ok(!r.ok && r.lost == 1 && strstr(r.reason, "TLS"),
	   "smtp: STARTTLS required, not offered: lost: %s", r.reason);
	m.tls = SW_MAIL_TLS_OFF;
	free(m.url);
	sink_stop(&s);
}

static void test_smtp_tls(const char *python, const char *script)
{
	const char *const version[] = {"openssl", "version", NULL};
	char cert[PATH_MAX], key[PATH_MAX];
	struct sw_mail_conf m = {
	    .tls = SW_MAIL_TLS_STARTTLS, .tls_verify = true, .connect_timeout = 5000};
	struct sw_probes_conf c = {.smtp = &m};
	struct sw_probe_result r;
	struct sink s = {0};

	if (sink_run_quiet(version) != 0) {
		ok(1, "# SKIP openssl CLI not found: no STARTTLS checks");
		return;
	}
	snprintf(cert, sizeof cert, "%s/cert.pem", tmpdir);
	snprintf(key, sizeof key, "%s/key.pem", tmpdir);
	const char *const req[] = {"openssl",
				   "req",
				   "-x509",
				   "-newkey",
				   "ec",
				   "-pkeyopt",
				   "ec_paramgen_curve:prime256v1",
				   "-nodes",
				   "-keyout",
				   key,
				   "-out",
				   cert,
				   "-days",
				   "30",
				   "-subj",
				   "/CN=127.0.0.1",
				   "-addext",
				   "subjectAltName=IP:127.0.0.1,DNS:localhost",
				   NULL};
	if (!ok(sink_run_quiet(req) == 0, "self-signed certificate made"))
		return;
	const char *const args[] = {"--tls-cert", cert, "--tls-key", key, NULL};
	if (!ok(sink_run(&s, python, script, tmpdir, "tls", 0, args), "sink offering STARTTLS"))
		return;
	m.url = xasprintf("smtp://127.0.0.1:%d", s.port);
	run(&sw_probe_smtp, &c, 2, &r);
	ok(!r.ok && r.lost == 2 && strstr(r.reason, "TLS"),
	   "STARTTLS, self-signed, not trusted: lost, TLS in the reason: %s", r.reason);
	m.ca_file = cert;
	run(&sw_probe_smtp, &c, 2, &r);
	ok(r.ok && r.lost == 0, "STARTTLS against its certificate as ca_file: ok");
	ok(r.has_value && r.value > 28.9 && r.value <= 30.01,
	   "the value is the certificate's days left (~30): %.2f", r.value);
	free(m.url);
	sink_stop(&s);
}

static void test_smtp(void)
{
	struct sw_mail_conf m = {.url = "smtp://127.0.0.1:25"};
	struct sw_probes_conf c = {.smtp = &m};
	struct sw_probe_env env = {.conf = &c};
	char top[PATH_MAX], script[PATH_MAX + 64], **ids = NULL, err[64];
	const char *python;
	size_t n = 0;

	ok(sw_probe_smtp.instances(&env, &ids, &n, err, sizeof(err)) == SW_OK && n == 1 &&
	       strcmp(ids[0], "") == 0,
	   "smtp: one instance with [smtp]");
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	m.dry_run_dir = "/tmp";
	ok(sw_probe_smtp.instances(&env, &ids, &n, err, sizeof(err)) == SW_OK && n == 0,
	   "smtp: none for a dry run");
	python = sink_find_python("aiosmtpd");
	if (!python || !sink_srcdir(top, sizeof top, __FILE__, "tests/tools/smtp_sink.py")) {
		ok(1, "# SKIP python3 with aiosmtpd or smtp_sink.py not found");
		return;
	}
	snprintf(script, sizeof script, "%s/tests/tools/smtp_sink.py", top);
	test_smtp_plain(python, script);
	test_smtp_tls(python, script);
}

int main(void)
{
	char *cmd;

	setenv("TZ", "UTC", 1);
	signal(SIGPIPE, SIG_IGN);
	if (!mkdtemp(tmpdir)) {
		printf("Bail out! no temp dir\n");
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	test_broker();
	test_smtp();
	curl_global_cleanup();
	cmd = xasprintf("rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", tmpdir);
	free(cmd);
	return tap_done();
}
