/*
 * test_channel.c - unit tests for the notification channel table
 * (alerts/channel.c) and its rows (alerts/chan_email.c,
 * alerts/chan_webhook.c).
 *
 * Pure checks first: the table (order, lookups, complete rows, option
 * tables), the shared helpers (excerpts, RFC 3339, Retry-After, loopback
 * hosts) and the [customer_webhook] checks (https unless loopback or
 * allow_plaintext, secrets only from files or the environment, ...).
 * Then the rows against real servers on 127.0.0.1 in a private temp dir:
 * the email row against tests/tools/smtp_sink.py (aiosmtpd; skipped
 * without it) and the webhook row against tests/tools/webhook_sink.py
 * (python3 standard library), which checks every signature itself and
 * answers as its mode file says: 503, 429 with Retry-After, 400 with a
 * reason, 401, a hang, a dropped connection, an oversized body; and over
 * HTTPS with a certificate made here with the openssl CLI (verified with
 * ca_file, refused without).  No timing is asserted.
 *
 * Scripts are found through SW_SRCDIR (set by make check), else next to
 * this source file.  Python: SW_PYTHON, else python3 (PATH), else
 * /usr/bin/python3; without one the live tests are skipped.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "alerts/channel.h"
#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/xmalloc.h"
#include "tests/sink.h"
#include "tests/tap.h"

#define SECRET	 "whsec-0123456789abcdef-test"
#define CREATED	 INT64_C(1795000000) /* 2026-11-18T11:06:40Z */
#define NOTICE_KEY "notice-42-1795000000"

static char tmpdir[] = "/tmp/sw-test-channel.XXXXXX";
static const char *python;
static bool have_aiosmtpd;
static char srcdir[PATH_MAX];

/* "Your order 1001 will arrive late - we are sorry", a name, a text. */
static const char hindi_subject[] = "आपका ऑर्डर 1001 देर से पहुँचेगा — हमें खेद है";
static const char hindi_name[] = "आशा वर्मा";
static const char hindi_text[] = "नमस्ते आशा,\nआपका ऑर्डर देर से है।\nधन्यवाद\n";

/* ---- helpers: processes and files ---------------------------------------- */

/* ---- the sinks ------------------------------------------------------------ */

/* Starts tests/tools/SCRIPT in tmpdir/name on port (0: any) with extra
 * arguments (NULL-terminated) and waits for its "ready" file. */
static bool sink_start(struct sink *s, const char *script, const char *name, int port,
		       const char *const *extra)
{
	char prog[PATH_MAX + 64];

	snprintf(prog, sizeof prog, "%s/tests/tools/%s", srcdir, script);
	return sink_run(s, python, prog, tmpdir, name, port, extra);
}

/* A string member at a path of keys ("customer", "phone", NULL), or NULL. */
static const char *jpath(json_t *j, ...)
{
	va_list ap;
	const char *k;

	va_start(ap, j);
	while ((k = va_arg(ap, const char *)) != NULL)
		j = json_object_get(j, k);
	va_end(ap);
	return json_string_value(j);
}

/* ---- helpers: configuration ------------------------------------------------ */

/* Loads ops's section from text (as file tmpdir/NAME.conf).  Returns the
 * sw_channel_conf_load code; *ret_chconf set on SW_OK. */
static enum sw_err load_text(const struct sw_channel_ops *ops, const char *name,
			     const char *text, void **ret_chconf, char *err, size_t errlen)
{
	char file[PATH_MAX + 32];
	struct sw_conf *conf = NULL;
	enum sw_err rc;

	*ret_chconf = NULL;
	err[0] = '\0';
	snprintf(file, sizeof file, "%s/%s.conf", tmpdir, name);
	rc = sw_conf_load_string(text, file, &conf, err, errlen);
	if (rc == SW_OK)
		rc = sw_channel_conf_load(ops, conf, ret_chconf, err, errlen);
	sw_conf_free(conf);
	return rc;
}

static char secret_path[PATH_MAX + 32];

/* A [customer_webhook] section for url with the test secret and extra
 * lines (new string). */
static char *webhook_text(const char *url, const char *extra)
{
	return xasprintf("[customer_webhook]\nurl = %s\nsecret_file = %s\n%s", url, secret_path,
			 extra ? extra : "");
}

/* Opens a webhook channel on url; NULL (and a failed check) on error. */
static struct sw_channel *webhook_open(const char *url, const char *extra)
{
	char *text = webhook_text(url, extra), err[512];
	struct sw_channel *ch = NULL;
	void *cc = NULL;

	if (load_text(&sw_chan_webhook, "open", text, &cc, err, sizeof err) != SW_OK ||
	    sw_channel_open(&sw_chan_webhook, cc, &ch, err, sizeof err) != SW_OK)
		ok(0, "webhook channel opens: %s", err);
	sw_channel_conf_free(&sw_chan_webhook, cc); /* the channel keeps a copy */
	free(text);
	return ch;
}

/* The Hindi notice the live tests send. */
static struct sw_notice hindi_notice(void)
{
	struct sw_notice n = {0};

	n.id = 42;
	n.created_at = CREATED;
	n.key = NOTICE_KEY;
	n.kind = "late";
	n.recipient = "+919812345678";
	n.recipient_name = hindi_name;
	n.phone = "+919812345678";
	n.locale = "hi";
	n.order_id = "1001";
	n.warehouse_id = "blr-1";
	n.subject = hindi_subject;
	n.text = hindi_text;
	n.facts_json = "{\"kinds\":[\"late\"],\"parcels\":[{\"courier\":\"dhl\","
		       "\"tracking\":\"JD0001\"}]}";
	n.date = (int64_t)time(NULL);
	return n;
}

/* ---- the table ------------------------------------------------------------ */

static void test_table(void)
{
	char err[256];
	size_t i, j;

	ok(sw_channel_table[0] == &sw_chan_email, "email is the first row");
	ok(sw_channel_table[1] == &sw_chan_webhook, "the customer webhook is the second row");
	ok(sw_channel_table[2] == &sw_chan_slack && sw_channel_table[3] == &sw_chan_pagerduty,
	   "then the receiver-only rows: slack, pagerduty");
	ok(sw_channel_table[4] == NULL, "the table ends with NULL");
	ok(!sw_chan_email.pages_only && !sw_chan_webhook.pages_only && sw_chan_slack.pages_only &&
	       sw_chan_pagerduty.pages_only,
	   "email and webhook are customer channels, slack and pagerduty receivers only");
	ok(sw_channel_find("email") == &sw_chan_email, "find email");
	ok(sw_channel_find("webhook") == &sw_chan_webhook, "find webhook");
	ok(sw_channel_find("slack") == &sw_chan_slack, "find slack");
	ok(sw_channel_find("pagerduty") == &sw_chan_pagerduty, "find pagerduty");
	ok(sw_channel_find("sms") == NULL, "find an unknown name: NULL");
	ok(sw_channel_find("") == NULL && sw_channel_find(NULL) == NULL, "find empty/NULL: NULL");
	is_str(sw_chan_email.section, "smtp", "email reads [smtp]");
	is_str(sw_chan_webhook.section, "customer_webhook", "webhook reads [customer_webhook]");
	for (i = 0; sw_channel_table[i]; i++) {
		const struct sw_channel_ops *o = sw_channel_table[i];

		ok(o->name && o->section && o->opts && o->conf_size && o->check && o->open &&
		       o->close && o->send && o->server_fault && o->conf_free,
		   "row %s: every member set", o->name);
		err[0] = '\0';
		ok(sw_conf_table_check(o->opts, err, sizeof err) == SW_OK,
		   "row %s: option table is sound %s", o->name, err);
		for (j = 0; j < i; j++)
			ok(strcmp(sw_channel_table[j]->name, o->name) != 0 &&
			       strcmp(sw_channel_table[j]->section, o->section) != 0,
			   "rows %s and %s differ in name and section", sw_channel_table[j]->name,
			   o->name);
	}
	is_str(sw_chan_result_name(SW_CHAN_SENT), "sent", "result name sent");
	is_str(sw_chan_result_name(SW_CHAN_TEMPFAIL), "tempfail", "result name tempfail");
	is_str(sw_chan_result_name(SW_CHAN_FAILED), "failed", "result name failed");
	is_str(sw_chan_result_name(SW_CHAN_RESULT_LAST), "?", "result name out of range");
}

/* ---- helpers of channel.c ------------------------------------------------- */

static void test_helpers(void)
{
	char out[64], big[400];
	const char *bad = "a\x01\x02 b\r\n\tc\xff d\xe2\x80\xa8 e";
	size_t n;

	n = sw_channel_excerpt(bad, strlen(bad), 200, out, sizeof out);
	is_str(out, "a b c? d e", "excerpt: controls and blanks become one space, bad UTF-8 '?'");
	is_int(n, strlen(out), "excerpt returns its length");
	sw_channel_excerpt("  \n x \n ", 8, 200, out, sizeof out);
	is_str(out, "x", "excerpt trims the ends");
	sw_channel_excerpt(hindi_subject, strlen(hindi_subject), 20, out, sizeof out);
	ok(strlen(out) <= 20 && strcmp(out + strlen(out) - 3, "...") == 0,
	   "excerpt cut: at most max bytes, ends in '...' (%s)", out);
	ok(strncmp(out, hindi_subject, strlen(out) - 3) == 0,
	   "excerpt cut on a character boundary");
	memset(big, 'x', sizeof big);
	n = sw_channel_excerpt(big, sizeof big, 1000, out, sizeof out);
	is_int(n, sizeof out - 1, "excerpt never passes outlen - 1");

	ok(sw_channel_rfc3339(0, out, sizeof out) == SW_OK &&
	       strcmp(out, "1970-01-01T00:00:00Z") == 0,
	   "rfc3339 of 0");
	ok(sw_channel_rfc3339(CREATED, out, sizeof out) == SW_OK &&
	       strcmp(out, "2026-11-18T11:06:40Z") == 0,
	   "rfc3339 of a 2026 time: %s", out);
	is_int(sw_channel_rfc3339(-1, out, sizeof out), SW_ERANGE, "rfc3339 of -1: ERANGE");
	is_int(sw_channel_rfc3339(0, out, 10), SW_ETOOBIG, "rfc3339 short buffer: ETOOBIG");

	is_int(sw_channel_retry_after("7", 0), 7, "Retry-After 7");
	is_int(sw_channel_retry_after(" 120 ", 0), 120, "Retry-After ' 120 '");
	is_int(sw_channel_retry_after("0", 0), 0, "Retry-After 0");
	is_int(sw_channel_retry_after("99999999999999999999", 0), SW_CHAN_RETRY_AFTER_MAX,
	       "Retry-After huge: capped");
	is_int(sw_channel_retry_after("7x", 0), 0, "Retry-After '7x': none");
	is_int(sw_channel_retry_after("-5", 0), 0, "Retry-After '-5': none");
	is_int(sw_channel_retry_after("soon", 0), 0, "Retry-After 'soon': none");
	is_int(sw_channel_retry_after(NULL, 0), 0, "Retry-After NULL: none");
	is_int(sw_channel_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412420), 60,
	       "Retry-After HTTP-date a minute ahead: 60");
	is_int(sw_channel_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412540), 0,
	       "Retry-After HTTP-date in the past: 0");
	/* loopback hosts: lib/netaddr.h, tests/unit/test_netaddr.c */
}

/* ---- [customer_webhook] checks -------------------------------------------- */

/* Expects load_text of a webhook section to fail with err holding want
 * (and never the secret). */
static void conf_refused(const char *what, const char *text, const char *want)
{
	char err[512];
	void *cc = NULL;
	enum sw_err rc = load_text(&sw_chan_webhook, "refused", text, &cc, err, sizeof err);

	ok(rc == SW_ECONF && cc == NULL && strstr(err, want) && !strstr(err, SECRET),
	   "refused: %s", what);
	if (rc != SW_ECONF || !strstr(err, want))
		printf("#   err: %s\n#   want: %s\n", err, want);
	sw_channel_conf_free(&sw_chan_webhook, cc);
}

static void conf_accepted(const char *what, const char *text)
{
	char err[512];
	void *cc = NULL;

	ok(load_text(&sw_chan_webhook, "accepted", text, &cc, err, sizeof err) == SW_OK &&
	       cc != NULL,
	   "accepted: %s %s", what, err);
	sw_channel_conf_free(&sw_chan_webhook, cc);
}

/* Another program checks [customer_webhook] as text only: the secret's
 * keys are checked, the secret itself is not read. */
static void test_text_only(void)
{
	const char *text = "[customer_webhook]\nurl = https://shop.example/x\n"
			   "secret_env = SW_TEST_UNSET_SECRET\n";
	struct sw_conf *conf = NULL;
	void *cc = NULL;
	char err[512];

	unsetenv("SW_TEST_UNSET_SECRET");
	if (!ok(sw_conf_load_string(text, "t.conf", &conf, err, sizeof err) == SW_OK,
		"text only: file parsed %s", err))
		return;
	sw_conf_set_text_only(conf, true);
	ok(sw_channel_conf_load(&sw_chan_webhook, conf, &cc, err, sizeof err) == SW_OK,
	   "text only: an unset secret_env is not read (%s)", err);
	sw_channel_conf_free(&sw_chan_webhook, cc);
	cc = NULL;
	sw_conf_set_text_only(conf, false);
	ok(sw_channel_conf_load(&sw_chan_webhook, conf, &cc, err, sizeof err) == SW_ECONF &&
	       strstr(err, "t.conf:3: [customer_webhook] secret_env: environment variable is not "
			   "set"),
	   "read for real: the unset variable is an error with its line (%s)", err);
	sw_conf_free(conf);
}

static void test_webhook_conf(void)
{
	char *t, err[512], want[PATH_MAX + 64], short_path[PATH_MAX + 32];
	char open_path[PATH_MAX + 32];
	struct sw_buf dump;
	void *cc = NULL;

	snprintf(secret_path, sizeof secret_path, "%s/webhook.secret", tmpdir);
	sink_spew(secret_path, SECRET "\n", 0600);

	t = webhook_text("http://shop.example/slipwatch", NULL);
	snprintf(want, sizeof want,
		 "%s/refused.conf:2: [customer_webhook] url: https:// required for a host that is "
		 "not loopback",
		 tmpdir);
	conf_refused("http:// to a host across the network", t, want);
	conf_refused("...and the reason quotes the url", t, "'http://shop.example/slipwatch'");
	free(t);
	t = webhook_text("http://shop.example/slipwatch?token=abc", NULL);
	ok(load_text(&sw_chan_webhook, "q", t, &cc, err, sizeof err) == SW_ECONF &&
	       !strstr(err, "token=abc"),
	   "a refused url's query is not shown: %s", err);
	free(t);
	t = webhook_text("http://shop.example/slipwatch", "allow_plaintext = yes\n");
	conf_accepted("http:// across the network with allow_plaintext = yes", t);
	free(t);
	t = webhook_text("https://gw.shop.example/slipwatch?x=1", NULL);
	conf_accepted("https://", t);
	free(t);
	t = webhook_text("http://127.0.0.1:8080/hook", NULL);
	conf_accepted("http://127.0.0.1", t);
	free(t);
	t = webhook_text("http://[::1]:8080/hook", NULL);
	conf_accepted("http://[::1]", t);
	free(t);
	t = webhook_text("http://localhost/hook", NULL);
	conf_accepted("http://localhost", t);
	free(t);
	t = webhook_text("ftp://shop.example/x", NULL);
	conf_refused("ftp://", t, "url: not an https:// (or http://) URL");
	free(t);
	t = webhook_text("https://user:pw-in-url@shop.example/x", NULL);
	conf_refused("credentials in the url", t, "no user, password or fragment");
	load_text(&sw_chan_webhook, "pw", t, &cc, err, sizeof err);
	ok(!strstr(err, "pw-in-url"), "...not quoted");
	free(t);
	t = webhook_text("https://shop.example/x#frag", NULL);
	conf_refused("a fragment", t, "no user, password or fragment");
	free(t);
	setenv("SW_TEST_WEBHOOK_SECRET", SECRET, 1);
	conf_refused("no url", "[customer_webhook]\nsecret_env = SW_TEST_WEBHOOK_SECRET\n",
		     "refused.conf:1: [customer_webhook] url: required but not set");
	conf_refused("no secret", "[customer_webhook]\nurl = https://shop.example/x\n",
		     "secret: required but not set; use secret_file or secret_env");
	conf_refused("a secret written in the file",
		     "[customer_webhook]\nurl = https://shop.example/x\nsecret = " SECRET "\n",
		     "refused.conf:3: [customer_webhook] secret: secrets are not written in "
		     "the file");
	snprintf(short_path, sizeof short_path, "%s/short.secret", tmpdir);
	sink_spew(short_path, "tooshort\n", 0600);
	t = xasprintf("[customer_webhook]\nurl = https://shop.example/x\nsecret_file = %s\n",
		      short_path);
	conf_refused("a secret under 16 bytes", t, "secret: shorter than 16 bytes");
	free(t);
	snprintf(open_path, sizeof open_path, "%s/open.secret", tmpdir);
	sink_spew(open_path, SECRET "\n", 0644);
	t = xasprintf("[customer_webhook]\nurl = https://shop.example/x\nsecret_file = %s\n",
		      open_path);
	conf_refused("a secret file every user can read", t, "secret_file: readable by every");
	free(t);
	conf_accepted("secret_env",
		      "[customer_webhook]\nurl = https://shop.example/x\n"
		      "secret_env = SW_TEST_WEBHOOK_SECRET\n");
	t = webhook_text("https://shop.example/x", "connect_timeout = 20s\ntimeout = 10s\n");
	conf_refused("connect_timeout > timeout", t,
		     "refused.conf:4: [customer_webhook] connect_timeout: longer than timeout");
	free(t);
	t = webhook_text("http://127.0.0.1/x", "ca_file = /etc/ssl/certs/ca-certificates.crt\n");
	conf_refused("ca_file with http://", t, "ca_file: set but url is not https://");
	free(t);
	t = webhook_text("https://shop.example/x", "colour = blue\n");
	conf_refused("an unknown key", t, "refused.conf:4: unknown key 'colour'");
	free(t);
	ok(sw_channel_conf_load(&sw_chan_webhook, NULL, &cc, err, sizeof err) == SW_ECONF &&
	       strncmp(err, "[customer_webhook] url: required", 32) == 0,
	   "no file: the defaults lack a url, no place named (%s)", err);

	t = webhook_text("https://shop.example/x", NULL);
	if (load_text(&sw_chan_webhook, "dump", t, &cc, err, sizeof err) == SW_OK) {
		sw_buf_init(&dump, 65536);
		ok(sw_channel_conf_dump(&sw_chan_webhook, cc, &dump) == SW_OK &&
		       strstr(sw_buf_str(&dump), "[customer_webhook]") &&
		       strstr(sw_buf_str(&dump), "url = https://shop.example/x") &&
		       !strstr(sw_buf_str(&dump), SECRET),
		   "dump: the section, without the secret");
		sw_buf_free(&dump);
	} else {
		ok(0, "dump: load failed: %s", err);
	}
	sw_channel_conf_free(&sw_chan_webhook, cc);
	free(t);

	/* the email row's check: [smtp] must say from */
	ok(load_text(&sw_chan_email, "smtp", "[smtp]\nurl = smtp://127.0.0.1:2525\n", &cc, err,
		     sizeof err) == SW_ECONF &&
	       strstr(err, "smtp.conf:1: [smtp] from: required"),
	   "email: [smtp] without from refused (%s)", err);
	ok(load_text(&sw_chan_email, "smtp",
		     "[smtp]\nurl = smtp://mail.example:25\ntls = off\nusername = u\n"
		     "password_file = /dev/null\n",
		     &cc, err, sizeof err) == SW_ECONF,
	   "email: the mailer's own checks run too (%s)", err);
	ok(load_text(&sw_chan_email, "smtp",
		     "[smtp]\nurl = smtp://127.0.0.1:2525\nfrom = Shop <orders@shop.example>\n",
		     &cc, err, sizeof err) == SW_OK,
	   "email: [smtp] with from accepted");
	sw_channel_conf_free(&sw_chan_email, cc);
	cc = NULL;
	ok(load_text(&sw_chan_email, "smtp",
		     "[smtp]\nurl = smtp://127.0.0.1:2525\nfrom = Shop <orders@shop.example>\n"
		     "dry_run_dir = /nonexistent/slipwatch-dry-run\n",
		     &cc, err, sizeof err) == SW_ECONF &&
	       strstr(err, "smtp.conf:4: [smtp] dry_run_dir: not a writable directory"),
	   "email: an unusable dry_run_dir is refused at load, with its line (%s)", err);
	test_text_only();
}

/* ---- the email row against smtp_sink.py ----------------------------------- */

static void test_email(void)
{
	struct sink s = {0};
	struct sw_channel *ch = NULL;
	struct sw_notice n = hindi_notice();
	char *text, err[512], detail[SW_CHAN_DETAIL_LEN];
	int64_t after = -1;
	json_t *j, *hdrs;
	void *cc = NULL;
	enum sw_chan_result r;

	if (!have_aiosmtpd) {
		ok(1, "email row # SKIP python3 module aiosmtpd not found");
		return;
	}
	if (!ok(sink_start(&s, "smtp_sink.py", "smtp", 0, NULL), "smtp sink started"))
		return;
	text = xasprintf("[smtp]\nurl = smtp://127.0.0.1:%d\nfrom = Shop <orders@shop.example>\n",
			 s.port);
	if (!ok(load_text(&sw_chan_email, "email", text, &cc, err, sizeof err) == SW_OK &&
		    sw_channel_open(&sw_chan_email, cc, &ch, err, sizeof err) == SW_OK,
		"email channel opens %s", err))
		goto out;
	is_str(sw_channel_name(ch), "email", "open channel's name");
	ok(sw_channel_ops_of(ch) == &sw_chan_email, "open channel's row");
	ok(!sw_channel_server_fault(ch), "no server fault before a send");
	n.recipient = "asha@example.in";
	n.unsubscribe_link = "https://shop.example/unsub?e=asha";
	n.one_click = true;
	r = sw_channel_send(ch, &n, &after, detail, sizeof detail);
	is_int(r, SW_CHAN_SENT, "email sent: %s", detail);
	ok(strncmp(detail, "250", 3) == 0, "detail is the relay's reply (%s)", detail);
	is_int(after, 0, "no retry hint");
	is_int(sink_count(&s), 1, "the sink has one message");
	j = sink_log(&s, 1);
	is_str(json_string_value(json_object_get(j, "message_id")),
	       "<slipwatch.42.1795000000@shop.example>", "Message-ID from the row's id and time");
	is_str(json_string_value(json_object_get(j, "subject")), hindi_subject, "Hindi subject");
	hdrs = json_object_get(j, "headers");
	{
		bool unsub = false, post = false;
		size_t i;

		for (i = 0; i < json_array_size(hdrs); i++) {
			const char *h = json_string_value(json_array_get(hdrs, i));

			unsub |= h && strcmp(h, "List-Unsubscribe") == 0;
			post |= h && strcmp(h, "List-Unsubscribe-Post") == 0;
		}
		ok(unsub && post, "List-Unsubscribe and List-Unsubscribe-Post present");
	}
	is_int(json_array_size(json_object_get(j, "parts")), 2,
	       "text and an html part made from it (the notice had no html)");
	is_str(jpath(json_array_get(json_object_get(j, "parts"), 1), "content_type", NULL),
	       "text/html", "second part is text/html");
	ok(jpath(json_array_get(json_object_get(j, "parts"), 1), "body", NULL) &&
	       strstr(jpath(json_array_get(json_object_get(j, "parts"), 1), "body", NULL),
		      "नमस्ते आशा,"),
	   "...holding the text");
	json_decref(j);

	n.recipient = "not an address";
	r = sw_channel_send(ch, &n, &after, detail, sizeof detail);
	is_int(r, SW_CHAN_FAILED, "a recipient that is no address: failed (%s)", detail);
	ok(!sw_channel_server_fault(ch), "...not the server's fault");
	n.key = "has space";
	r = sw_channel_send(ch, &n, &after, detail, sizeof detail);
	ok(r == SW_CHAN_FAILED && strncmp(detail, "bad notice:", 11) == 0,
	   "a key with a space: failed before the row (%s)", detail);

	sink_stop(&s);
	n.key = NOTICE_KEY;
	n.recipient = "asha@example.in";
	r = sw_channel_send(ch, &n, &after, detail, sizeof detail);
	is_int(r, SW_CHAN_TEMPFAIL, "relay gone: tempfail (%s)", detail);
	ok(sw_channel_server_fault(ch), "...the server's fault");
out:
	sw_channel_close(ch);
	sw_channel_conf_free(&sw_chan_email, cc);
	sink_stop(&s);
	free(text);
}

/* ---- the webhook row against webhook_sink.py -------------------------------- */

/* Sends n and checks the result; returns it. */
static enum sw_chan_result send_n(struct sw_channel *ch, const struct sw_notice *n,
				  int64_t *ret_after, char *detail, size_t len)
{
	enum sw_chan_result r = sw_channel_send(ch, n, ret_after, detail, len);

	if (strstr(detail, SECRET))
		ok(0, "a detail holds the secret: %s", detail);
	return r;
}

static void test_webhook_body(struct sink *s, struct sw_channel *ch)
{
	struct sw_notice n = hindi_notice();
	char detail[SW_CHAN_DETAIL_LEN], ts[24];
	int64_t after = -1;
	json_t *j, *body, *hdrs;
	const char *raw;
	int before = sink_count(s);

	is_int(send_n(ch, &n, &after, detail, sizeof detail), SW_CHAN_SENT, "Hindi notice sent");
	is_str(detail, "HTTP 200", "detail: HTTP 200");
	is_int(after, 0, "no retry hint on success");
	ok(!sw_channel_server_fault(ch), "no server fault on success");
	is_int(sink_count(s), before + 1, "the sink got one request");
	j = sink_log(s, before + 1);
	hdrs = json_object_get(j, "headers");
	body = json_object_get(j, "json");
	raw = json_string_value(json_object_get(j, "body"));
	ok(json_is_true(json_object_get(j, "sig_ok")),
	   "the sink verified the signature over the Hindi body");
	is_str(jpath(j, "method", NULL), "POST", "method POST");
	is_str(jpath(j, "path", NULL), "/hook", "path /hook");
	is_str(jpath(hdrs, "Content-Type", NULL), "application/json", "Content-Type");
	is_str(jpath(hdrs, "Idempotency-Key", NULL), NOTICE_KEY, "Idempotency-Key is the key");
	snprintf(ts, sizeof ts, "%lld", (long long)n.date);
	is_str(jpath(hdrs, "X-Slipwatch-Timestamp", NULL), ts, "timestamp is the notice's date");
	ok(jpath(hdrs, "X-Slipwatch-Signature", NULL) &&
	       strncmp(jpath(hdrs, "X-Slipwatch-Signature", NULL), "sha256=", 7) == 0 &&
	       strlen(jpath(hdrs, "X-Slipwatch-Signature", NULL)) == 7 + 64,
	   "signature is sha256= and 64 hex digits");
	ok(jpath(hdrs, "User-Agent", NULL) &&
	       strncmp(jpath(hdrs, "User-Agent", NULL), "slipwatch/", 10) == 0,
	   "User-Agent slipwatch/...");
	ok(raw && strstr(raw, hindi_name) && strstr(raw, "पहुँचेगा"),
	   "the body carries the Hindi as UTF-8, not \\u escapes");
	is_str(jpath(body, "id", NULL), NOTICE_KEY, "body id is the key");
	is_str(jpath(body, "type", NULL), "late", "body type is the kind");
	is_str(jpath(body, "created_at", NULL), "2026-11-18T11:06:40Z", "created_at RFC 3339 UTC");
	is_str(jpath(body, "order", "order_id", NULL), "1001", "order.order_id");
	is_str(jpath(body, "order", "warehouse_id", NULL), "blr-1", "order.warehouse_id");
	is_str(jpath(body, "customer", "name", NULL), hindi_name, "customer.name");
	is_str(jpath(body, "customer", "phone", NULL), "+919812345678", "customer.phone");
	ok(json_is_null(json_object_get(json_object_get(body, "customer"), "email")),
	   "customer.email null for a phone recipient");
	is_str(jpath(body, "customer", "locale", NULL), "hi", "customer.locale");
	is_str(jpath(body, "message", "subject", NULL), hindi_subject, "message.subject");
	is_str(jpath(body, "message", "text", NULL), hindi_text, "message.text");
	is_str(json_string_value(json_object_get(
		   json_array_get(json_object_get(json_object_get(body, "facts"), "parcels"), 0),
		   "tracking")),
	       "JD0001", "facts passed through as JSON");
	json_decref(j);

	n.recipient = "asha@example.in";
	n.phone = NULL;
	n.facts_json = NULL;
	n.recipient_name = NULL;
	is_int(send_n(ch, &n, &after, detail, sizeof detail), SW_CHAN_SENT, "email recipient sent");
	j = sink_log(s, before + 2);
	body = json_object_get(j, "json");
	is_str(jpath(body, "customer", "email", NULL), "asha@example.in", "customer.email");
	ok(json_is_null(json_object_get(json_object_get(body, "customer"), "phone")) &&
	       json_is_null(json_object_get(json_object_get(body, "customer"), "name")),
	   "customer.phone and name null when the notice has none");
	ok(json_object_get(body, "facts") == NULL, "no facts: the member is omitted");
	ok(json_is_true(json_object_get(j, "sig_ok")), "signature ok");
	json_decref(j);
}

static void test_webhook_retry(struct sink *s, struct sw_channel *ch)
{
	struct sw_notice n = hindi_notice();
	char detail[SW_CHAN_DETAIL_LEN];
	int64_t after = -1;
	json_t *a, *b;
	int before = sink_count(s);

	sink_mode(s, "503");
	is_int(send_n(ch, &n, &after, detail, sizeof detail), SW_CHAN_TEMPFAIL,
	       "503: tempfail (%s)", detail);
	ok(strncmp(detail, "HTTP 503", 8) == 0, "detail starts with HTTP 503");
	ok(sw_channel_server_fault(ch), "503 is the server's fault");
	is_int(after, 0, "503 without Retry-After: no hint");
	sink_mode(s, "normal");
	is_int(send_n(ch, &n, &after, detail, sizeof detail), SW_CHAN_SENT,
	       "then 200: sent (%s)", detail);
	ok(!sw_channel_server_fault(ch), "server fault cleared by the success");
	a = sink_log(s, before + 1);
	b = sink_log(s, before + 2);
	ok(a && b, "both attempts reached the sink");
	is_str(jpath(a, "headers", "Idempotency-Key", NULL), NOTICE_KEY,
	       "first attempt: Idempotency-Key");
	is_str(jpath(b, "headers", "Idempotency-Key", NULL),
	       jpath(a, "headers", "Idempotency-Key", NULL), "the retry carries the same key");
	ok(json_is_true(json_object_get(a, "sig_ok")) && json_is_true(json_object_get(b, "sig_ok")),
	   "both attempts signed");
	json_decref(a);
	json_decref(b);

	sink_mode(s, "429 retry-after=7 slow down");
	is_int(send_n(ch, &n, &after, detail, sizeof detail), SW_CHAN_TEMPFAIL,
	       "429: tempfail (%s)", detail);
	is_int(after, 7, "429 Retry-After 7: retry_after 7");
	ok(sw_channel_server_fault(ch), "429 is the server's fault");
	ok(strstr(detail, "HTTP 429: slow down (retry after 7 s)") != NULL,
	   "detail has the reason and the hint");

	sink_mode(s, "{\"status\": 503, \"retry_after\": \"Wed, 21 Oct 2015 07:28:00 GMT\"}");
	n.date = 1445412420; /* a minute before that date */
	is_int(send_n(ch, &n, &after, detail, sizeof detail), SW_CHAN_TEMPFAIL,
	       "503 with an HTTP-date: tempfail");
	is_int(after, 60, "Retry-After HTTP-date: seconds after the notice's now");
	n.date = (int64_t)time(NULL);

	sink_mode(s, "408");
	is_int(send_n(ch, &n, &after, detail, sizeof detail), SW_CHAN_TEMPFAIL, "408: tempfail");
	ok(!sw_channel_server_fault(ch), "408 is not a server fault");
	sink_mode(s, "401 sink: bad signature");
	is_int(send_n(ch, &n, &after, detail, sizeof detail), SW_CHAN_TEMPFAIL,
	       "401 (signature refused: the setup): tempfail, not failed");
	ok(sw_channel_server_fault(ch), "401 holds the round");
	sink_mode(s, "{\"status\": 302, \"body\": \"\"}");
	is_int(send_n(ch, &n, &after, detail, sizeof detail), SW_CHAN_TEMPFAIL,
	       "302 (not followed): tempfail");
	ok(sw_channel_server_fault(ch), "302 holds the round");
	sink_mode(s, "normal");
}

static void test_webhook_refusals(struct sink *s, struct sw_channel *ch)
{
	struct sw_notice n = hindi_notice();
	char detail[SW_CHAN_DETAIL_LEN], *mode, longr[1200];
	int64_t after = -1;

	sink_mode(s, "{\"status\": 400, \"body\": \"customer phone +91 98 is not on "
		     "WhatsApp\\u0001\\r\\n\\tline two\\u0085 end\"}");
	is_int(send_n(ch, &n, &after, detail, sizeof detail), SW_CHAN_FAILED, "400: failed");
	is_str(detail, "HTTP 400: customer phone +91 98 is not on WhatsApp line two end",
	       "detail: status and the receiver's reason, control characters stripped");
	ok(!sw_channel_server_fault(ch), "400 is this notice's fault");
	is_int(after, 0, "no retry hint for a failure");

	memset(longr, 'r', sizeof longr - 1);
	longr[sizeof longr - 1] = '\0';
	mode = xasprintf("400 %s", longr);
	sink_mode(s, mode);
	free(mode);
	is_int(send_n(ch, &n, &after, detail, sizeof detail), SW_CHAN_FAILED, "400, long reason");
	ok(strlen(detail) <= strlen("HTTP 400: ") + 200 &&
	       strcmp(detail + strlen(detail) - 3, "...") == 0,
	   "the reason is cut to 200 bytes (%zu)", strlen(detail));

	sink_mode(s, "404");
	is_int(send_n(ch, &n, &after, detail, sizeof detail), SW_CHAN_FAILED, "404: failed");
	mode = xasprintf("400 bad signature with " SECRET);
	sink_mode(s, mode);
	free(mode);
	send_n(ch, &n, &after, detail, sizeof detail);
	ok(strstr(detail, "(secret)") && !strstr(detail, SECRET),
	   "a receiver echoing the secret: scrubbed from the detail (%s)", detail);
	sink_mode(s, "normal");
}

static void test_webhook_faults(struct sink *s, struct sw_channel *ch)
{
	struct sw_notice n = hindi_notice();
	char detail[SW_CHAN_DETAIL_LEN];
	struct sw_channel *quick;
	int64_t after = -1;
	int before, conns;
	char url[64];

	sink_mode(s, "big 1000000");
	is_int(send_n(ch, &n, &after, detail, sizeof detail), SW_CHAN_SENT,
	       "200 with a 1 MB body: the status decides (%s)", detail);
	ok(strstr(detail, "response body over 65536 bytes, not read") != NULL,
	   "detail says the body was not read");
	sink_mode(s, "big 1000000 400");
	is_int(send_n(ch, &n, &after, detail, sizeof detail), SW_CHAN_FAILED,
	       "400 with a 1 MB body: failed");
	ok(strncmp(detail, "HTTP 400: xxxx", 14) == 0 && strstr(detail, "not read"),
	   "reason from the bytes kept (%.40s...)", detail);
	sink_mode(s, "big 1000000 503");
	is_int(send_n(ch, &n, &after, detail, sizeof detail), SW_CHAN_TEMPFAIL,
	       "503 with a 1 MB body: tempfail");
	sink_mode(s, "normal");
	is_int(send_n(ch, &n, &after, detail, sizeof detail), SW_CHAN_SENT,
	       "the next notice goes through");

	sink_mode(s, "drop");
	is_int(send_n(ch, &n, &after, detail, sizeof detail), SW_CHAN_TEMPFAIL,
	       "connection dropped: tempfail (%s)", detail);
	ok(sw_channel_server_fault(ch), "...the server's fault");
	ok(strstr(detail, "no complete HTTP reply") != NULL, "detail says no reply");
	sink_mode(s, "normal");

	/* connection reuse: one connection for several notices */
	is_int(send_n(ch, &n, &after, detail, sizeof detail), SW_CHAN_SENT, "sent after a drop");
	conns = sink_connections(s);
	before = sink_count(s);
	for (int i = 0; i < 5; i++)
		send_n(ch, &n, &after, detail, sizeof detail);
	is_int(sink_count(s) - before, 5, "five more notices arrived");
	is_int(sink_connections(s), conns, "...over the connection already open");

	/* a receiver that never answers: the timeout ends the wait */
	snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", s->port);
	quick = webhook_open(url, "timeout = 1s\nconnect_timeout = 1s\n");
	if (quick) {
		sink_mode(s, "hang 3");
		is_int(send_n(quick, &n, &after, detail, sizeof detail), SW_CHAN_TEMPFAIL,
		       "a hanging receiver: tempfail (%s)", detail);
		ok(sw_channel_server_fault(quick), "...the server's fault");
		sink_mode(s, "normal");
	}
	sw_channel_close(quick);

	/* bad notices: refused before anything is sent */
	before = sink_count(s);
	n.key = "two words";
	ok(send_n(ch, &n, &after, detail, sizeof detail) == SW_CHAN_FAILED &&
	       strncmp(detail, "bad notice:", 11) == 0,
	   "a key with a space: failed (%s)", detail);
	n.key = "key\r\nX-Injected: 1";
	ok(send_n(ch, &n, &after, detail, sizeof detail) == SW_CHAN_FAILED,
	   "a key with CR LF: failed");
	n.key = NOTICE_KEY;
	n.facts_json = "[1, 2]";
	ok(send_n(ch, &n, &after, detail, sizeof detail) == SW_CHAN_FAILED &&
	       strstr(detail, "facts_json is not a JSON object"),
	   "facts that are not an object: failed (%s)", detail);
	n.facts_json = "{\"a\": ";
	ok(send_n(ch, &n, &after, detail, sizeof detail) == SW_CHAN_FAILED,
	   "facts that do not parse: failed (%s)", detail);
	n.facts_json = NULL;
	n.text = NULL;
	ok(send_n(ch, &n, &after, detail, sizeof detail) == SW_CHAN_FAILED,
	   "no text: failed (%s)", detail);
	is_int(sink_count(s), before, "none of them reached the receiver");
}

/* A channel with another secret: the receiver's check must fail. */
static void test_webhook_wrong_secret(struct sink *s)
{
	char path[PATH_MAX + 32], url[64], detail[SW_CHAN_DETAIL_LEN], *text, err[512];
	struct sw_notice n = hindi_notice();
	struct sw_channel *ch = NULL;
	void *cc = NULL;
	json_t *j;

	snprintf(path, sizeof path, "%s/other.secret", tmpdir);
	sink_spew(path, "another-secret-0123456789\n", 0600);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", s->port);
	text = xasprintf("[customer_webhook]\nurl = %s\nsecret_file = %s\n", url, path);
	if (load_text(&sw_chan_webhook, "other", text, &cc, err, sizeof err) == SW_OK &&
	    sw_channel_open(&sw_chan_webhook, cc, &ch, err, sizeof err) == SW_OK) {
		send_n(ch, &n, NULL, detail, sizeof detail);
		j = sink_log(s, sink_count(s));
		ok(json_is_false(json_object_get(j, "sig_ok")),
		   "signed with another secret: the sink's check fails");
		json_decref(j);
	} else {
		ok(0, "channel with another secret opens: %s", err);
	}
	sw_channel_close(ch);
	sw_channel_conf_free(&sw_chan_webhook, cc);
	free(text);
}

/* HTTPS with a certificate made here: verified against ca_file it
 * works; against the system store it must fail before anything is sent. */
static void test_webhook_tls(void)
{
	const char *const version[] = {"openssl", "version", NULL};
	char cert[PATH_MAX + 16], key[PATH_MAX + 16], url[64], extra[PATH_MAX + 32];
	char detail[SW_CHAN_DETAIL_LEN];
	struct sw_notice n = hindi_notice();
	struct sw_channel *ch;
	struct sink s = {0};
	json_t *j;

	if (sink_run_quiet(version) != 0) {
		ok(1, "https # SKIP openssl CLI not found");
		return;
	}
	snprintf(cert, sizeof cert, "%s/cert.pem", tmpdir);
	snprintf(key, sizeof key, "%s/key.pem", tmpdir);
	const char *const req[] = {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
				   "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
				   "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
				   "subjectAltName=IP:127.0.0.1,DNS:localhost", NULL};
	if (!ok(sink_run_quiet(req) == 0, "self-signed certificate made with openssl req -x509"))
		return;
	const char *const args[] = {"--secret", SECRET, "--tls-cert", cert, "--tls-key", key, NULL};
	if (!ok(sink_start(&s, "webhook_sink.py", "tls", 0, args), "https sink started"))
		return;
	snprintf(url, sizeof url, "https://127.0.0.1:%d/hook", s.port);
	snprintf(extra, sizeof extra, "ca_file = %s\n", cert);
	if ((ch = webhook_open(url, extra)) != NULL) {
		is_int(send_n(ch, &n, NULL, detail, sizeof detail), SW_CHAN_SENT,
		       "https verified with ca_file: sent (%s)", detail);
		j = sink_log(&s, 1);
		ok(json_is_true(json_object_get(j, "sig_ok")), "...signature ok");
		json_decref(j);
	}
	sw_channel_close(ch);
	snprintf(url, sizeof url, "https://localhost:%d/hook", s.port);
	if ((ch = webhook_open(url, extra)) != NULL)
		is_int(send_n(ch, &n, NULL, detail, sizeof detail), SW_CHAN_SENT,
		       "https://localhost, its name in the certificate: sent (%s)", detail);
	sw_channel_close(ch);
	snprintf(url, sizeof url, "https://127.0.0.1:%d/hook", s.port);
	if ((ch = webhook_open(url, NULL)) != NULL) {
		is_int(send_n(ch, &n, NULL, detail, sizeof detail), SW_CHAN_TEMPFAIL,
		       "a certificate the system store does not trust: tempfail (%s)", detail);
		ok(sw_channel_server_fault(ch), "...the server's (or the setup's) fault");
		is_int(sink_count(&s), 2, "nothing was sent over the unverified connection");
	}
	sw_channel_close(ch);
	sink_stop(&s);
}

static void test_webhook(void)
{
	const char *const args[] = {"--secret", SECRET, NULL};
	struct sw_notice n = hindi_notice();
	char url[64], detail[SW_CHAN_DETAIL_LEN];
	struct sw_channel *ch;
	struct sink s = {0};
	int64_t after;

	if (!ok(sink_start(&s, "webhook_sink.py", "webhook", 0, args), "webhook sink started (%s)",
		python))
		return;
	snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", s.port);
	ch = webhook_open(url, NULL);
	if (ch) {
		is_str(sw_channel_name(ch), "webhook", "open channel's name");
		test_webhook_body(&s, ch);
		test_webhook_retry(&s, ch);
		test_webhook_refusals(&s, ch);
		test_webhook_faults(&s, ch);
		test_webhook_wrong_secret(&s);
		sink_stop(&s);
		is_int(send_n(ch, &n, &after, detail, sizeof detail), SW_CHAN_TEMPFAIL,
		       "receiver gone: tempfail (%s)", detail);
		ok(sw_channel_server_fault(ch), "...the server's fault");
		ok(strstr(detail, "no complete HTTP reply") != NULL, "detail says no reply");
	}
	sw_channel_close(ch);
	sink_stop(&s);
}

int main(void)
{
	const char *const rm[] = {"rm", "-rf", tmpdir, NULL};

	setenv("TZ", "UTC", 1);
	if (!mkdtemp(tmpdir)) {
		printf("Bail out! no temp dir: %s\n", strerror(errno));
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	test_table();
	test_helpers();
	test_webhook_conf();
	/* one interpreter for both sinks: with aiosmtpd if there is one */
	python = sink_find_python("aiosmtpd");
	have_aiosmtpd = python != NULL;
	if (!python)
		python = sink_find_python("http.server, hmac");
	if (!python ||
	    !sink_srcdir(srcdir, sizeof srcdir, __FILE__, "tests/tools/webhook_sink.py")) {
		ok(1, "live channels # SKIP python3 or tests/tools/webhook_sink.py not found");
	} else {
		test_email();
		test_webhook();
		test_webhook_tls();
	}
	sink_run_quiet(rm);
	curl_global_cleanup();
	return tap_done();
}
