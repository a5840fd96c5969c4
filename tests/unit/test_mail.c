/*
 * test_mail.c - unit tests for the customer mailer (alerts/mail.c).
 *
 * Pure checks first: the [smtp] table and its cross-field rules, RFC 2047
 * words (decoded back here, word and line lengths, character boundaries),
 * RFC 5322 dates, message ids, addresses.  Then the mailer against a real
 * SMTP server, tests/tools/smtp_sink.py (aiosmtpd), started on 127.0.0.1
 * in a private temp dir: connection reuse (20 messages, 1 connection),
 * header injection, Hindi subject and body, the MIME structure, every
 * failure class (recipient 451/550/554 5.7.1, refusals after the data, a
 * dropped connection, the server gone and back on the same port), AUTH
 * with a password from a file, STARTTLS and smtps with a certificate made
 * here with the openssl CLI (skipped without it), and the dry run.
 *
 * The sink's script is found through SW_SRCDIR (set by make check), else
 * next to this source file.  Python: SW_PYTHON, else the first of python3
 * (PATH) and /usr/bin/python3 that can import aiosmtpd; without one the
 * whole test is skipped ("1..0 # SKIP").
 */
#include "config.h"

#include <dirent.h>
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

#include "alerts/mail.h"
#include "lib/conf.h"
#include "lib/xmalloc.h"
#include "tests/sink.h"
#include "tests/tap.h"

static char tmpdir[] = "/tmp/sw-test-mail.XXXXXX";
static const char *python;
static char sink_script[PATH_MAX + 64];

/* A 120-byte Hindi subject ("Your order 1001 will arrive late - we are
 * sorry") and a name. */
static const char hindi_subject[] = "आपका ऑर्डर 1001 देर से पहुँचेगा — हमें खेद है";
static const char hindi_name[] = "आशा वर्मा";
static const char hindi_text[] = "नमस्ते आशा,\nआपका ऑर्डर देर से है।\nधन्यवाद\n";

/* ---- helpers: processes and files ---------------------------------------- */

/* What the sink's parser (smtp_sink.describe, Python's email package)
 * makes of the message in file path, as JSON; NULL on failure. */
static json_t *describe_file(const char *path)
{
	char dir[PATH_MAX], out[PATH_MAX + 16];
	const char *slash = strrchr(sink_script, '/');
	json_t *j;

	snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - sink_script) : 1,
		 slash ? sink_script : ".");
	snprintf(out, sizeof out, "%s/describe.json", tmpdir);
	const char *const argv[] = {
	    python,
	    "-c",
	    "import json, sys; sys.dont_write_bytecode = True; "
	    "sys.path.insert(0, sys.argv[1]); import smtp_sink; "
	    "print(json.dumps(smtp_sink.describe(open(sys.argv[2], 'rb').read())))",
	    dir,
	    path,
	    NULL};
	if (sink_run_to(argv, out) != 0)
		return NULL;
	j = json_load_file(out, 0, NULL);
	return j;
}

/* tests/tools/smtp_sink.py of the source tree into sink_script. */
static bool find_sink_script(void)
{
	char top[PATH_MAX];
	bool found = sink_srcdir(top, sizeof top, __FILE__, "tests/tools/smtp_sink.py");

	snprintf(sink_script, sizeof sink_script, "%s/tests/tools/smtp_sink.py", top);
	return found;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Entries of dir (. and .. included) whose names start with prefix
 * (ending with suffix when suffix is set). */
static int count_files(const char *dir, const char *prefix, const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n, sl = suffix ? strlen(suffix) : 0;
	int count = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL) {
		n = strlen(e->d_name);
		count += strncmp(e->d_name, prefix, strlen(prefix)) == 0 &&
			 (!sl || (n >= sl && strcmp(e->d_name + n - sl, suffix) == 0));
	}
	closedir(d);
	return count;
}

/* ---- the sink ------------------------------------------------------------ */

/* Starts the SMTP sink in tmpdir/name on port (0: any) with extra
 * arguments (NULL-terminated).  Waits for its "ready" file. */
static bool sink_start(struct sink *s, const char *name, int port, const char *const *extra)
{
	return sink_run(s, python, sink_script, tmpdir, name, port, extra);
}

/* The k-th message as received (new string) or NULL. */
static char *sink_eml(const struct sink *s, int k)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof path, "%s/%d.eml", s->dir, k);
	return slurp(path);
}

static const char *jstr(json_t *j, const char *key)
{
	const char *v = json_string_value(json_object_get(j, key));

	return v ? v : "(none)";
}

/* ---- helpers: raw messages ------------------------------------------------ */

/* Unfolded header fields of a raw message, in order, as "Name: value"
 * strings (new array, NULL-terminated). */
static char **raw_headers(const char *eml)
{
	const char *end = strstr(eml, "\r\n\r\n"), *p = eml, *eol;
	char **out = xcalloc(256, sizeof *out);
	size_t n = 0, len;

	while (end && p < end && n < 255) {
		eol = strstr(p, "\r\n");
		len = (size_t)(eol - p);
		if ((*p == ' ' || *p == '\t') && n > 0) { /* continuation */
			char *joined = xasprintf("%s%.*s", out[n - 1], (int)len, p);

			free(out[n - 1]);
			out[n - 1] = joined;
		} else {
			out[n++] = xstrndup(p, len);
		}
		p = eol + 2;
	}
	return out;
}

static void free_headers(char **h)
{
	size_t i;

	for (i = 0; h && h[i]; i++)
		free(h[i]);
	free(h);
}

/* The value of the first field called name (after ": "), or NULL. */
static const char *hdr_value(char **h, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; h[i]; i++)
		if (strncasecmp(h[i], name, n) == 0 && h[i][n] == ':')
			return h[i] + n + 1 + (h[i][n + 1] == ' ');
	return NULL;
}

static int hdr_count(char **h, const char *name)
{
	size_t i, n = strlen(name);
	int c = 0;

	for (i = 0; h[i]; i++)
		c += strncasecmp(h[i], name, n) == 0 && h[i][n] == ':';
	return c;
}

/* Length of the longest header line, and of the longest holding an
 * encoded word, leaving out the Content-Type line libcurl writes (its
 * boundary makes it 86 characters: legal, under 998, not ours). */
static void line_lengths(const char *eml, size_t *ret_max, size_t *ret_max_enc)
{
	const char *end = strstr(eml, "\r\n\r\n"), *p = eml, *eol;
	size_t len;

	*ret_max = *ret_max_enc = 0;
	while (end && p <= end) {
		eol = strstr(p, "\r\n");
		len = (size_t)(eol - p);
		if (len > *ret_max && strncmp(p, "Content-Type:", 13) != 0)
			*ret_max = len;
		if (memmem(p, len, "=?", 2) && len > *ret_max_enc)
			*ret_max_enc = len;
		p = eol + 2;
	}
}

static int b64_val(int c)
{
	const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c ? strchr(a, c) : NULL;

	return p ? (int)(p - a) : -1;
}

/* Decodes base64 text[0..n) into out; returns the length or -1. */
static int b64_decode(const char *text, size_t n, unsigned char *out)
{
	size_t i;
	int o = 0, bits = 0, v;
	unsigned acc = 0;

	for (i = 0; i < n && text[i] != '='; i++) {
		if ((v = b64_val((unsigned char)text[i])) < 0)
			return -1;
		acc = acc << 6 | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	return o;
}

/* True if s[0..n) is whole, valid UTF-8 characters. */
static bool utf8_whole(const unsigned char *s, size_t n)
{
	size_t i = 0, len, k;

	while (i < n) {
		len = s[i] < 0x80	      ? 1
		      : (s[i] & 0xe0) == 0xc0 ? 2
		      : (s[i] & 0xf0) == 0xe0 ? 3
		      : (s[i] & 0xf8) == 0xf0 ? 4
					      : 0;
		if (!len || i + len > n)
			return false;
		for (k = 1; k < len; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
		i += len;
	}
	return true;
}

/* Decodes an unfolded header value made of text and =?UTF-8?B?..?= words
 * (whitespace between two words dropped) into out.  Sets *ret_words,
 * *ret_longest (longest word) and *ret_whole (every word decodes to whole
 * UTF-8 characters).  Returns false on a malformed word. */
static bool decode_2047(const char *v, char *out, size_t outlen, int *ret_words,
			size_t *ret_longest, bool *ret_whole)
{
	const char *p = v, *end;
	size_t o = 0, wl;
	bool prev_word = false;
	unsigned char dec[256];
	int d;

	*ret_words = 0;
	*ret_longest = 0;
	*ret_whole = true;
	while (*p) {
		size_t ws = strspn(p, " \t\r\n");

		if (strncmp(p + ws, "=?UTF-8?B?", 10) == 0 &&
		    (end = strstr(p + ws + 10, "?=")) != NULL) {
			p += ws;
			wl = (size_t)(end + 2 - p);
			if (!prev_word && ws && o + ws < outlen)
				o += (size_t)snprintf(out + o, outlen - o, "%.*s", (int)ws, p);
			d = b64_decode(p + 10, (size_t)(end - p - 10), dec);
			if (d < 0 || o + (size_t)d >= outlen)
				return false;
			*ret_whole &= utf8_whole(dec, (size_t)d);
			memcpy(out + o, dec, (size_t)d);
			o += (size_t)d;
			(*ret_words)++;
			if (wl > *ret_longest)
				*ret_longest = wl;
			prev_word = true;
			p = end + 2;
		} else {
			if (o + 1 >= outlen)
				return false;
			out[o++] = *p++;
			prev_word = false;
		}
	}
	out[o] = '\0';
	return true;
}

/* The longest line of s (lines end in CRLF), the first counted from
 * column first_col. */
static size_t max_line(const char *s, size_t first_col)
{
	const char *eol;
	size_t l, maxl = 0;

	for (;;) {
		eol = strstr(s, "\r\n");
		l = (eol ? (size_t)(eol - s) : strlen(s)) + first_col;
		first_col = 0;
		if (l > maxl)
			maxl = l;
		if (!eol)
			return maxl;
		s = eol + 2;
	}
}

/* Lines of text with CRLF turned into LF (new string). */
static char *lf(const char *s)
{
	char *out = xstrdup(s ? s : ""), *o = out;

	for (; s && *s; s++)
		if (!(*s == '\r' && s[1] == '\n'))
			*o++ = *s;
	*o = '\0';
	return out;
}

/* ---- helpers: mailers and messages ------------------------------------------ */

/* Fills *c from "[smtp]\n" + text.  Returns the sw_conf_apply result. */
static enum sw_err conf_from(struct sw_mail_conf *c, const char *text, char *err, size_t errlen)
{
	struct sw_conf *conf = NULL;
	char *full = xasprintf("[smtp]\n%s", text);
	enum sw_err rc;

	memset(c, 0, sizeof *c);
	rc = sw_conf_load_string(full, "test.conf", &conf, err, errlen);
	if (!rc)
		rc = sw_conf_apply(conf, "smtp", NULL, sw_mail_conf_table, c, err, errlen);
	sw_conf_free(conf);
	free(full);
	return rc;
}

/* A mailer from config lines (printf-style), or NULL with a diagnostic. */
static struct sw_mail *__attribute__((format(printf, 1, 2))) mailer(const char *fmt, ...)
{
	struct sw_mail_conf c;
	struct sw_mail *m = NULL;
	char err[512], *text;
	va_list ap;

	va_start(ap, fmt);
	text = xvasprintf(fmt, ap);
	va_end(ap);
	if (conf_from(&c, text, err, sizeof err) || sw_mail_new(&c, &m, err, sizeof err))
		printf("# mailer: %s\n", err);
	sw_mail_conf_free(&c);
	free(text);
	return m;
}

/* A plain English message to `to`; the id is built with m's domain. */
static void msg_init(struct sw_mail_msg *msg, struct sw_mail *m, const char *to, char *idbuf)
{
	static int64_t next_id = 1000;

	sw_mail_message_id(next_id++, 1795000000, sw_mail_from_domain(m), idbuf, SW_MAIL_MSGID_LEN);
	memset(msg, 0, sizeof *msg);
	msg->to_addr = to;
	msg->to_name = "Asha Verma";
	msg->subject = "Your order 1001 is running late";
	msg->text = "Hello Asha,\nyour order 1001 is running late.\n";
	msg->html = "<p>Hello Asha,</p>\n<p>your order 1001 is running late.</p>\n";
	msg->date = 1795000000;
	msg->message_id = idbuf;
	msg->list_unsubscribe = "https://shop.example/unsubscribe?t=abc123";
	msg->list_unsubscribe_post = true;
}

/* Sends msg and checks the result; returns it. */
static enum sw_mail_result send_expect(struct sw_mail *m, const struct sw_mail_msg *msg,
				       enum sw_mail_result want, const char *what, char *detail,
				       size_t dlen)
{
	enum sw_mail_result r = m ? sw_mail_send(m, msg, detail, dlen) : SW_MAIL_RESULT_LAST;

	if (!ok(r == want, "%s: %s", what, sw_mail_result_name(want)))
		printf("#   got %s: %s\n", sw_mail_result_name(r), m ? detail : "(no mailer)");
	else
		printf("#   detail: %s\n", detail);
	return r;
}

/* ---- pure checks ---------------------------------------------------------------- */

static void test_conf(void)
{
	struct sw_mail_conf c;
	struct sw_mail *m = NULL;
	char err[512];

	is_int(sw_conf_table_check(sw_mail_conf_table, err, sizeof err), SW_OK,
	       "[smtp] table is valid");
	is_int(conf_from(&c, "", err, sizeof err), SW_OK, "empty [smtp] applies");
	is_str(c.url, "smtp://127.0.0.1:25", "default url");
	is_int(c.tls, SW_MAIL_TLS_AUTO, "default tls = auto");
	ok(c.tls_verify, "tls_verify defaults to yes");
	is_int(c.connect_timeout, 10000, "connect_timeout 10s");
	is_int(c.timeout, 60000, "timeout 60s");
	is_int(sw_mail_conf_check(&c, err, sizeof err), SW_OK, "defaults pass the check");
	is_int(sw_mail_new(&c, &m, err, sizeof err), SW_ECONF, "sw_mail_new wants from");
	ok(strstr(err, "from") != NULL, "... and says so: %s", err);
	sw_mail_conf_free(&c);

	static const struct {
		const char *text, *key, *absent;
	} bad[] = {
	    {"url = http://mail.example\n", "url", NULL},
	    {"url = mail.example:25\n", "url", NULL},
	    {"url = smtp://user:hunter2@mail.example\n", "url", "hunter2"},
	    {"url = smtp://mail.example/?x=1\n", "url", NULL},
	    {"url = smtps://mail.example\ntls = off\n", "tls", NULL},
	    {"url = smtp://mail.example\ntls = opportunistic\nusername = u\npassword_env = "
	     "SW_TEST_MAIL_PW\n",
	     "password", "s3cret-pw"},
	    {"url = smtp://mail.example\ntls = off\nusername = u\npassword_env = SW_TEST_MAIL_PW\n",
	     "password", "s3cret-pw"},
	    {"password_env = SW_TEST_MAIL_PW\n", "password", "s3cret-pw"},
	    {"url = smtps://mail.example\ntls_verify = no\nusername = u\npassword_env = "
	     "SW_TEST_MAIL_PW\n",
	     "password", "s3cret-pw"},
	    {"username = u\n", "username", NULL},
	    {"from = orders at shop\n", "from", NULL},
	    {"from = Shop <orders@shop.example>, x@y.z\n", "from", NULL},
	    {"reply_to = Help <help@@shop.example>\n", "reply_to", NULL},
	    {"connect_timeout = 30s\ntimeout = 10s\n", "connect_timeout", NULL},
	    {"tls = off\nca_file = /etc/ssl/certs/ca-certificates.crt\n", "ca_file", NULL},
	};
	size_t i;

	setenv("SW_TEST_MAIL_PW", "s3cret-pw", 1);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		enum sw_err rc = conf_from(&c, bad[i].text, err, sizeof err);

		if (!rc)
			rc = sw_mail_conf_check(&c, err, sizeof err);
		ok(rc == SW_ECONF && strstr(err, bad[i].key) &&
		       !(bad[i].absent && strstr(err, bad[i].absent)),
		   "config error names %s: %s", bad[i].key, err);
		sw_mail_conf_free(&c);
	}
	is_int(conf_from(
		   &c,
		   "url = smtps://mail.example:465\nusername = u\npassword_env = SW_TEST_MAIL_PW\n"
		   "from = \"Shop, Inc.\" <orders@shop.example>\nreply_to = help@shop.example\n",
		   err, sizeof err),
	       SW_OK, "a full config applies");
	is_int(sw_mail_conf_check(&c, err, sizeof err), SW_OK, "smtps with a password is fine");
	sw_mail_conf_free(&c);
	is_int(conf_from(&c,
			 "url = smtp://[::1]:2525\ntls = auto\nusername = u\n"
			 "password_env = SW_TEST_MAIL_PW\n",
			 err, sizeof err),
	       SW_OK, "IPv6 loopback url");
	is_int(sw_mail_conf_check(&c, err, sizeof err), SW_OK,
	       "password to loopback without TLS is fine");
	sw_mail_conf_free(&c);
}

static void test_encode(void)
{
	char buf[SW_MAIL_ENCODED_MAX], dec[2048], longsub[1024];
	size_t longest, i;
	int words;
	bool whole;

	is_int(sw_mail_encode_header_word("Your order 1001 is late", 9, buf, sizeof buf), SW_OK,
	       "ASCII subject encodes");
	is_str(buf, "Your order 1001 is late", "printable ASCII passes unchanged");
	sw_mail_encode_header_word("Hi =?UTF-8?B?QQ==?= there", 9, buf, sizeof buf);
	ok(strncmp(buf, "=?UTF-8?B?", 10) == 0, "ASCII holding '=?' is encoded: %s", buf);
	ok(decode_2047(buf, dec, sizeof dec, &words, &longest, &whole) &&
	       strcmp(dec, "Hi =?UTF-8?B?QQ==?= there") == 0,
	   "... and decodes back literally");

	is_int(sw_mail_encode_header_word(hindi_subject, 9, buf, sizeof buf), SW_OK,
	       "Hindi encodes");
	ok(decode_2047(buf, dec, sizeof dec, &words, &longest, &whole), "Hindi words decode");
	is_str(dec, hindi_subject, "Hindi subject round trip");
	ok(words >= 3 && longest <= 75 && whole, "%d words, longest %zu <= 75, whole characters",
	   words, longest);
	ok(strstr(buf, "\r\n ") != NULL, "folded with CRLF SP");
	ok(max_line(buf, 9) <= 76, "no line passes 76 after 'Subject: ' (%zu)", max_line(buf, 9));

	/* 300+ bytes of mixed 1-, 2-, 3- and 4-byte characters */
	longsub[0] = '\0';
	for (i = 0; i < 12; i++)
		strncat(longsub, "ab é ह 😀 ", sizeof longsub - strlen(longsub) - 1);
	is_int(sw_mail_encode_header_word(longsub, 9, buf, sizeof buf), SW_OK,
	       "long subject encodes");
	ok(decode_2047(buf, dec, sizeof dec, &words, &longest, &whole) && strcmp(dec, longsub) == 0,
	   "long mixed subject round trip");
	ok(longest <= 75 && whole, "every word <= 75 (%zu) and split between characters", longest);
	ok(max_line(buf, 9) <= 76, "no line of the folded subject passes 76 (%zu)",
	   max_line(buf, 9));

	sw_mail_encode_header_word("Hello\r\nBcc: victim@evil.example", 9, buf, sizeof buf);
	is_str(buf, "Hello  Bcc: victim@evil.example", "CR LF in a subject become spaces");
	sw_mail_encode_header_word("तुरंत\r\nBcc: x@y.z", 9, buf, sizeof buf);
	ok(decode_2047(buf, dec, sizeof dec, &words, &longest, &whole) && !strpbrk(dec, "\r\n"),
	   "... also when encoded");
	sw_mail_encode_header_word("bad \xff\xfe byte", 9, buf, sizeof buf);
	ok(decode_2047(buf, dec, sizeof dec, &words, &longest, &whole) &&
	       strcmp(dec, "bad \xef\xbf\xbd\xef\xbf\xbd byte") == 0,
	   "invalid UTF-8 becomes U+FFFD");
	/* multi-byte controls (U+2028, U+0085) become one space each (found
	 * by fuzz_mail: the replacement copied the character's length) */
	sw_mail_encode_header_word("a\xe2\x80\xa8" "b\xc2\x85" "c", 9, buf, sizeof buf);
	is_str(buf, "a b c", "U+2028 and U+0085 become one space each");
	sw_mail_encode_header_word(hindi_subject, 0, buf, sizeof buf);
	ok(decode_2047(buf, dec, sizeof dec, &words, &longest, &whole) && longest <= 75,
	   "at column 0 too, every word <= 75 (%zu)", longest);
	sw_mail_encode_header_word(hindi_subject, 70, buf, sizeof buf);
	ok(strncmp(buf, "\r\n ", 3) == 0, "no room on the first line: folds first");
	is_int(sw_mail_encode_header_word(hindi_subject, 9, buf, 20), SW_ETOOBIG,
	       "small buffer: SW_ETOOBIG");
	is_int(sw_mail_encode_header_word(NULL, 9, buf, sizeof buf), SW_EINVAL, "NULL: SW_EINVAL");
}

static void test_date_id_addr(void)
{
	char buf[SW_MAIL_MSGID_LEN], buf2[SW_MAIL_MSGID_LEN];
	size_t i;

	sw_mail_format_date(1795000000, buf, sizeof buf);
	is_str(buf, "Wed, 18 Nov 2026 11:06:40 +0000", "RFC 5322 date");
	sw_mail_format_date(951782400, buf, sizeof buf);
	is_str(buf, "Tue, 29 Feb 2000 00:00:00 +0000", "leap day");
	sw_mail_format_date(0, buf, sizeof buf);
	is_str(buf, "Thu, 01 Jan 1970 00:00:00 +0000", "epoch");
	is_int(sw_mail_format_date(-1, buf, sizeof buf), SW_ERANGE, "negative time: SW_ERANGE");
	is_int(sw_mail_format_date(INT64_C(253402300800), buf, sizeof buf), SW_ERANGE,
	       "year 10000: SW_ERANGE");
	is_int(sw_mail_format_date(0, buf, 10), SW_ETOOBIG, "small buffer: SW_ETOOBIG");

	is_int(sw_mail_message_id(42, 1795000000, "shop.example", buf, sizeof buf), SW_OK,
	       "message id");
	is_str(buf, "<slipwatch.42.1795000000@shop.example>", "shape <slipwatch.ID.CREATED@domain>");
	sw_mail_message_id(42, 1795000000, "shop.example", buf2, sizeof buf2);
	is_str(buf2, buf, "the same row gives the same id on every attempt");
	sw_mail_message_id(42, 1795000001, "shop.example", buf2, sizeof buf2);
	ok(strcmp(buf, buf2) != 0, "another store's row 42 (other creation time) differs");
	is_int(sw_mail_message_id(1, 1, "bad domain", buf, sizeof buf), SW_EINVAL, "bad domain");
	is_int(sw_mail_message_id(-1, 1, "shop.example", buf, sizeof buf), SW_EINVAL, "negative id");
	is_int(sw_mail_message_id(1, -1, "shop.example", buf, sizeof buf), SW_EINVAL, "negative time");
	is_int(sw_mail_message_id(1, 1, "shop.example", buf, 20), SW_ETOOBIG, "small buffer");

	static const char *const good[] = {
	    "a@b.c",
	    "asha.verma+orders@mail.example.in",
	    "x@localhost",
	    "o'brien@x-y.example",
	};
	static const char *const bad[] = {
	    "a b@c.d",
	    "a@b.c\r\nBcc: x@y.z",
	    "a@b.c\n",
	    "<a@b.c>",
	    "a@b.c,d@e.f",
	    "a@b.c;",
	    "a@@b.c",
	    "@b.c",
	    "a@",
	    ".a@b.c",
	    "a.@b.c",
	    "a..b@c.d",
	    "a@-b.c",
	    "a@b-.c",
	    "a@b..c",
	    "\"q\"@b.c",
	    "é@b.c",
	    "a@b.c ",
	    "a@[127.0.0.1]",
	    "a(b)@c.d",
	    "",
	};
	for (i = 0; i < sizeof good / sizeof good[0]; i++)
		ok(sw_mail_addr_valid(good[i]), "valid: %s", good[i]);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char shown[64];

		snprintf(shown, sizeof shown, "%s", bad[i]);
		for (char *p = shown; *p; p++)
			if (*p == '\r' || *p == '\n')
				*p = '~';
		ok(!sw_mail_addr_valid(bad[i]), "invalid: '%s'", shown);
	}
	ok(!sw_mail_addr_valid(NULL), "invalid: NULL");
	memset(buf, 'a', 65);
	memcpy(buf + 65, "@b.c", 5);
	ok(!sw_mail_addr_valid(buf), "invalid: 65-byte local part");
	is_str(sw_mail_result_name(SW_MAIL_PERMFAIL), "permfail", "result names");
}

/* ---- against the sink ------------------------------------------------------- */

/* 20 messages on one connection, then the MIME structure of one. */
static void test_reuse(struct sink *s)
{
	struct sw_mail *m =
	    mailer("url = smtp://127.0.0.1:%d\nfrom = Shop Name <orders@shop.example>\n"
		   "reply_to = Support <help@shop.example>\n",
		   s->port);
	struct sw_mail_msg msg;
	struct sw_mail_stats st;
	char id[SW_MAIL_MSGID_LEN], detail[SW_MAIL_DETAIL_LEN], first_id[SW_MAIL_MSGID_LEN] = "";
	int i, sent = 0, conns = 0;
	json_t *j;

	for (i = 0; m && i < 20; i++) {
		msg_init(&msg, m, "asha@customer.example", id);
		if (!first_id[0])
			memcpy(first_id, id, sizeof id);
		sent += sw_mail_send(m, &msg, detail, sizeof detail) == SW_MAIL_SENT;
	}
	is_int(sent, 20, "20 messages sent");
	ok(strncmp(detail, "250 ", 4) == 0, "detail is the 250 reply: %s", detail);
	is_int(sink_count(s), 20, "the sink logged 20");
	is_int(count_files(s->dir, "", ".eml"), 20, "20 .eml files");
	for (i = 1; i <= 20; i++) {
		j = sink_log(s, i);
		conns += json_integer_value(json_object_get(j, "conn")) == 1;
		json_decref(j);
	}
	is_int(conns, 20, "all 20 on connection 1");
	is_int(sink_connections(s), 1, "the sink saw 1 connection");
	if (m) {
		sw_mail_get_stats(m, &st);
		ok(st.connections == 1 && st.sent == 20, "stats: %llu connection, %llu sent",
		   (unsigned long long)st.connections, (unsigned long long)st.sent);
	}

	j = sink_log(s, 1);
	is_str(jstr(j, "content_type"), "multipart/alternative", "multipart/alternative");
	json_t *parts = json_object_get(j, "parts");
	is_int(json_array_size(parts), 2, "two parts");
	is_str(jstr(json_array_get(parts, 0), "content_type"), "text/plain", "text/plain first");
	is_str(jstr(json_array_get(parts, 1), "content_type"), "text/html", "text/html second");
	is_str(jstr(json_array_get(parts, 0), "charset"), "utf-8", "text charset UTF-8");
	is_str(jstr(json_array_get(parts, 1), "charset"), "utf-8", "html charset UTF-8");
	char *t = lf(json_string_value(json_object_get(json_array_get(parts, 0), "body")));
	is_str(t, "Hello Asha,\nyour order 1001 is running late.\n", "text part decodes back");
	free(t);
	is_int(json_integer_value(json_object_get(j, "defects")), 0, "Python's parser: no defects");
	is_str(jstr(j, "mail_from"), "orders@shop.example", "envelope sender");
	is_str(jstr(j, "message_id"), first_id, "Message-ID as given");
	json_decref(j);

	char *eml = sink_eml(s, 1), **h = eml ? raw_headers(eml) : NULL;
	if (h) {
		is_str(hdr_value(h, "Date"), "Wed, 18 Nov 2026 11:06:40 +0000", "Date header");
		is_str(hdr_value(h, "From"), "Shop Name <orders@shop.example>", "From header");
		is_str(hdr_value(h, "To"), "Asha Verma <asha@customer.example>", "To header");
		is_str(hdr_value(h, "Reply-To"), "Support <help@shop.example>", "Reply-To header");
		is_str(hdr_value(h, "List-Unsubscribe"),
		       "<https://shop.example/unsubscribe?t=abc123>", "List-Unsubscribe header");
		is_str(hdr_value(h, "List-Unsubscribe-Post"), "List-Unsubscribe=One-Click",
		       "List-Unsubscribe-Post for an https link");
		is_str(hdr_value(h, "Auto-Submitted"), "auto-generated", "Auto-Submitted");
		is_int(hdr_count(h, "MIME-Version"), 1, "one MIME-Version (libcurl adds none)");
		is_int(hdr_count(h, "Content-Type"), 1, "one Content-Type");
	} else {
		ok(0, "message 1 readable");
	}
	free_headers(h);
	free(eml);
	sw_mail_free(m);
}

/* Names and subjects with CR LF must not add headers; a bad address is
 * refused before anything is sent. */
static void test_injection(struct sink *s)
{
	struct sw_mail *m =
	    mailer("url = smtp://127.0.0.1:%d\nfrom = orders@shop.example\n", s->port);
	struct sw_mail_msg msg;
	char id[SW_MAIL_MSGID_LEN], detail[SW_MAIL_DETAIL_LEN];
	int before = sink_count(s);

	if (!m) {
		ok(0, "mailer for the injection test");
		return;
	}
	msg_init(&msg, m, "eve@customer.example", id);
	msg.to_name = "Eve\r\nBcc: victim@evil.example <b>";
	msg.subject = "Hello\r\nBcc: victim2@evil.example\r\n\r\nfake body";
	msg.list_unsubscribe = "mailto:unsub@shop.example?subject=stop,now "
			       "http://shop.example/u?a=1,2";
	send_expect(m, &msg, SW_MAIL_SENT, "hostile name and subject", detail, sizeof detail);

	char *eml = sink_eml(s, before + 1), **h = eml ? raw_headers(eml) : NULL;
	json_t *j = sink_log(s, before + 1);
	if (h) {
		is_int(hdr_count(h, "Bcc"), 0, "no Bcc header was injected");
		is_int(hdr_count(h, "To"), 1, "one To");
		is_int(hdr_count(h, "Subject"), 1, "one Subject");
		is_str(hdr_value(h, "To"),
		       "\"Eve Bcc: victim@evil.example <b>\" <eve@customer.example>",
		       "the name is quoted on one line");
		ok(!strstr(eml, "\r\nBcc") && !strstr(eml, "\nBcc"), "no line starts with Bcc");
		ok(hdr_value(h, "List-Unsubscribe-Post") == NULL,
		   "no one-click header without an https URL");
		is_str(
		    hdr_value(h, "List-Unsubscribe"),
		    "<mailto:unsub@shop.example?subject=stop,now>, <http://shop.example/u?a=1,2>",
		    "two List-Unsubscribe URLs, commas kept");
	}
	is_int(json_array_size(json_object_get(j, "rcpt")), 1, "one recipient only");
	is_str(json_string_value(json_array_get(json_object_get(j, "rcpt"), 0)),
	       "eve@customer.example", "the intended one");
	json_decref(j);
	free_headers(h);
	free(eml);

	msg_init(&msg, m, "eve@customer.example\r\nBcc: x@evil.example", id);
	send_expect(m, &msg, SW_MAIL_PERMFAIL, "CR LF in the address", detail, sizeof detail);
	ok(strstr(detail, "recipient") != NULL, "detail says why: %s", detail);
	msg_init(&msg, m, "Eve <eve@customer.example>", id);
	send_expect(m, &msg, SW_MAIL_PERMFAIL, "a mailbox instead of an address", detail,
		    sizeof detail);
	msg_init(&msg, m, "eve@customer.example", id);
	msg.message_id = "<../../etc/passwd@x>";
	send_expect(m, &msg, SW_MAIL_PERMFAIL, "a message id unfit for a file name", detail,
		    sizeof detail);
	msg_init(&msg, m, "eve@customer.example", id);
	msg.list_unsubscribe = "javascript:alert(1)";
	send_expect(m, &msg, SW_MAIL_PERMFAIL, "a bad List-Unsubscribe URL", detail, sizeof detail);
	is_int(sink_count(s), before + 1, "none of the bad ones reached the server");
	sw_mail_free(m);
}

/* A Hindi subject, name and body arrive intact. */
static void test_hindi(struct sink *s)
{
	struct sw_mail *m =
	    mailer("url = smtp://127.0.0.1:%d\nfrom = दुकान <orders@shop.example>\n", s->port);
	struct sw_mail_msg msg;
	char id[SW_MAIL_MSGID_LEN], detail[SW_MAIL_DETAIL_LEN], dec[1024], *t;
	int before = sink_count(s), words;
	size_t longest, maxl, maxenc;
	bool whole;

	if (!m) {
		ok(0, "mailer for the Hindi test");
		return;
	}
	msg_init(&msg, m, "asha@customer.example", id);
	msg.subject = hindi_subject;
	msg.to_name = hindi_name;
	msg.text = hindi_text;
	msg.html = "<p>नमस्ते आशा,</p>\n<p>आपका ऑर्डर देर से है।</p>\n";
	send_expect(m, &msg, SW_MAIL_SENT, "Hindi message", detail, sizeof detail);

	json_t *j = sink_log(s, before + 1);
	json_t *parts = json_object_get(j, "parts");
	is_str(jstr(j, "subject"), hindi_subject, "Python decodes the Hindi subject");
	ok(strstr(jstr(j, "to"), hindi_name) != NULL, "... and the Hindi name: %s", jstr(j, "to"));
	ok(strstr(jstr(j, "from"), "दुकान") != NULL, "... and the Hindi sender name");
	t = lf(json_string_value(json_object_get(json_array_get(parts, 0), "body")));
	is_str(t, hindi_text, "Hindi text part round trip");
	free(t);
	is_str(jstr(json_array_get(parts, 0), "cte"), "base64", "mostly non-ASCII text: base64");
	json_decref(j);

	char *eml = sink_eml(s, before + 1), **h = eml ? raw_headers(eml) : NULL;
	if (h) {
		ok(decode_2047(hdr_value(h, "Subject"), dec, sizeof dec, &words, &longest, &whole),
		   "raw Subject decodes here");
		is_str(dec, hindi_subject, "raw Subject round trip");
		ok(longest <= 75 && whole, "words <= 75 (%zu), whole characters", longest);
		line_lengths(eml, &maxl, &maxenc);
		ok(maxenc <= 76 && maxl <= 78, "header lines: encoded <= 76 (%zu), all <= 78 (%zu)",
		   maxenc, maxl);
	}
	free_headers(h);
	free(eml);
	sw_mail_free(m);
}

/* Refusals at each stage, and that the next send works on a new connection. */
static void test_refusals(struct sink *s)
{
	struct sw_mail *m =
	    mailer("url = smtp://127.0.0.1:%d\nfrom = orders@shop.example\n", s->port);
	struct sw_mail_msg msg;
	char id[SW_MAIL_MSGID_LEN], detail[SW_MAIL_DETAIL_LEN];
	int before, conn_before;
	json_t *j;

	if (!m) {
		ok(0, "mailer for the refusal tests");
		return;
	}
	msg_init(&msg, m, "tmp@customer.example", id);
	send_expect(m, &msg, SW_MAIL_TEMPFAIL, "recipient 451", detail, sizeof detail);
	ok(strncmp(detail, "451 ", 4) == 0 && strstr(detail, "RCPT TO"), "detail: code and stage");
	ok(!sw_mail_server_fault(m), "451 to one recipient: not the server's fault");
	msg_init(&msg, m, "bad@customer.example", id);
	send_expect(m, &msg, SW_MAIL_PERMFAIL, "recipient 550", detail, sizeof detail);
	ok(strncmp(detail, "550 ", 4) == 0 && strstr(detail, "curl: RCPT failed: 550"),
	   "detail: code, reply and curl's text");
	msg_init(&msg, m, "relay@customer.example", id);
	send_expect(m, &msg, SW_MAIL_TEMPFAIL, "recipient 554 5.7.1 (relay denied)", detail,
		    sizeof detail);

	static const struct {
		const char *mode, *code;
		enum sw_mail_result want;
		bool server_fault;
	} modes[] = {
	    {"tempfail-data", "451 ", SW_MAIL_TEMPFAIL, false},
	    {"permfail-data", "554 ", SW_MAIL_PERMFAIL, false},
	    {"tempfail-mail", "451 ", SW_MAIL_TEMPFAIL, true},
	    {"permfail-mail", "553 ", SW_MAIL_TEMPFAIL, true}, /* 5.7.1: the sender, not the message */
	    {"drop-data", "no SMTP reply at end of data", SW_MAIL_TEMPFAIL, true},
	};
	size_t i;

	for (i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		sink_mode(s, modes[i].mode);
		msg_init(&msg, m, "asha@customer.example", id);
		send_expect(m, &msg, modes[i].want, modes[i].mode, detail, sizeof detail);
		ok(strncmp(detail, modes[i].code, strlen(modes[i].code)) == 0,
		   "... detail starts '%s'", modes[i].code);
		is_int(sw_mail_server_fault(m), modes[i].server_fault, "... server fault: %s",
		       modes[i].server_fault ? "yes" : "no");
	}
	sink_mode(s, "normal");
	before = sink_count(s);
	conn_before = sink_connections(s);
	msg_init(&msg, m, "asha@customer.example", id);
	send_expect(m, &msg, SW_MAIL_SENT, "after the failures", detail, sizeof detail);
	j = sink_log(s, before + 1);
	is_int(json_integer_value(json_object_get(j, "conn")), conn_before + 1,
	       "... on a fresh connection");
	json_decref(j);
	sw_mail_free(m);
}

/* The server goes away between two sends and comes back on the same port. */
static void test_restart(struct sink *s)
{
	/* long limits: "refused at once" is told from "waited for a limit"
	 * with a bound a loaded machine cannot reach */
	struct sw_mail *m = mailer("url = smtp://127.0.0.1:%d\nfrom = orders@shop.example\n"
				   "connect_timeout = 60s\ntimeout = 120s\n",
				   s->port);
	struct sw_mail_msg msg;
	char id[SW_MAIL_MSGID_LEN], detail[SW_MAIL_DETAIL_LEN];
	struct sink again = {0};
	double t0;

	if (!m) {
		ok(0, "mailer for the restart test");
		return;
	}
	msg_init(&msg, m, "asha@customer.example", id);
	send_expect(m, &msg, SW_MAIL_SENT, "before the restart", detail, sizeof detail);
	sink_stop(s);
	t0 = now_s();
	msg_init(&msg, m, "asha@customer.example", id);
	send_expect(m, &msg, SW_MAIL_TEMPFAIL, "server down", detail, sizeof detail);
	ok(now_s() - t0 < 30.0, "... at once, not after connect_timeout (%.3f s)", now_s() - t0);
	ok(strstr(detail, "no SMTP reply at connect") != NULL, "... connection refused");
	ok(sw_mail_server_fault(m), "... the server's fault: the next message would fail too");
	ok(sink_start(&again, "restarted", s->port, NULL), "sink back on port %d", s->port);
	msg_init(&msg, m, "asha@customer.example", id);
	send_expect(m, &msg, SW_MAIL_SENT, "after the restart", detail, sizeof detail);
	is_int(sink_count(&again), 1, "the new server has it");
	sw_mail_free(m);
	sink_stop(&again);
}

/* AUTH with a password read from a file; a wrong one never shows. */
static void test_auth(void)
{
	const char *const args[] = {"--auth", "shopuser:Tr0ub4dor-3-x", NULL};
	char pwfile[PATH_MAX], badfile[PATH_MAX], id[SW_MAIL_MSGID_LEN], detail[SW_MAIL_DETAIL_LEN];
	struct sink s = {0};
	struct sw_mail *m;
	struct sw_mail_msg msg;
	json_t *j;

	if (!ok(sink_start(&s, "auth", 0, args), "sink with AUTH"))
		return;
	snprintf(pwfile, sizeof pwfile, "%s/smtp.pw", tmpdir);
	snprintf(badfile, sizeof badfile, "%s/bad.pw", tmpdir);
	sink_spew(pwfile, "Tr0ub4dor-3-x\n", 0600);
	sink_spew(badfile, "wr0ng-Passw0rd\n", 0600);

	m = mailer("url = smtp://127.0.0.1:%d\nfrom = orders@shop.example\nusername = shopuser\n"
		   "password_file = %s\n",
		   s.port, pwfile);
	msg_init(&msg, m, "asha@customer.example", id);
	send_expect(m, &msg, SW_MAIL_SENT, "AUTH with password_file", detail, sizeof detail);
	j = sink_log(&s, 1);
	is_str(jstr(j, "auth"), "shopuser", "the sink saw user shopuser");
	json_decref(j);
	sw_mail_free(m);

	m = mailer("url = smtp://127.0.0.1:%d\nfrom = orders@shop.example\nusername = shopuser\n"
		   "password_file = %s\n",
		   s.port, badfile);
	msg_init(&msg, m, "asha@customer.example", id);
	send_expect(m, &msg, SW_MAIL_TEMPFAIL, "wrong password", detail, sizeof detail);
	ok(strstr(detail, "535") && strstr(detail, "AUTH"), "detail: 535 at AUTH");
	ok(!strstr(detail, "wr0ng") && !strstr(detail, "Tr0ub4dor"), "no password in the detail");
	sw_mail_free(m);

	m = mailer("url = smtp://127.0.0.1:%d\nfrom = orders@shop.example\n", s.port);
	msg_init(&msg, m, "asha@customer.example", id);
	send_expect(m, &msg, SW_MAIL_TEMPFAIL, "no AUTH where it is required (530)", detail,
		    sizeof detail);
	sw_mail_free(m);
	is_int(sink_count(&s), 1, "only the authenticated message arrived");
	sink_stop(&s);
}

/* STARTTLS and smtps with a certificate made here. */
static void test_tls(struct sink *plain)
{
	const char *const version[] = {"openssl", "version", NULL};
	char cert[PATH_MAX], key[PATH_MAX], id[SW_MAIL_MSGID_LEN], detail[SW_MAIL_DETAIL_LEN];
	struct sink s = {0}, s2 = {0};
	struct sw_mail *m;
	struct sw_mail_msg msg;
	json_t *j;

	if (sink_run_quiet(version) != 0) {
		ok(1, "# SKIP openssl CLI not found: no STARTTLS or smtps checks");
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
				   "2",
				   "-subj",
				   "/CN=127.0.0.1",
				   "-addext",
				   "subjectAltName=IP:127.0.0.1,DNS:localhost",
				   NULL};
	if (!ok(sink_run_quiet(req) == 0, "self-signed certificate made with openssl req -x509"))
		return;
	const char *const args[] = {"--tls-cert", cert, "--tls-key", key, NULL};
	if (!ok(sink_start(&s, "tls", 0, args), "sink offering STARTTLS"))
		return;

	m = mailer("url = smtp://127.0.0.1:%d\ntls = starttls\nca_file = %s\n"
		   "from = orders@shop.example\n",
		   s.port, cert);
	msg_init(&msg, m, "asha@customer.example", id);
	send_expect(m, &msg, SW_MAIL_SENT, "STARTTLS verified against ca_file", detail,
		    sizeof detail);
	j = sink_log(&s, 1);
	ok(json_is_true(json_object_get(j, "tls")), "the sink saw TLS");
	json_decref(j);
	sw_mail_free(m);

	m = mailer("url = smtp://127.0.0.1:%d\ntls = starttls\nfrom = orders@shop.example\n",
		   s.port);
	msg_init(&msg, m, "asha@customer.example", id);
	send_expect(m, &msg, SW_MAIL_TEMPFAIL, "unknown CA: verification on by default", detail,
		    sizeof detail);
	sw_mail_free(m);

	m = mailer("url = smtp://127.0.0.1:%d\nfrom = orders@shop.example\n", s.port);
	msg_init(&msg, m, "asha@customer.example", id);
	send_expect(m, &msg, SW_MAIL_SENT, "tls = auto to loopback: plain SMTP", detail,
		    sizeof detail);
	j = sink_log(&s, 2);
	ok(json_is_false(json_object_get(j, "tls")), "... without TLS");
	json_decref(j);
	sw_mail_free(m);
	is_int(sink_count(&s), 2, "the unverified one did not arrive");
	sink_stop(&s);

	m = mailer(
	    "url = smtp://127.0.0.1:%d\ntls = starttls\nca_file = %s\nfrom = orders@shop.example\n",
	    plain->port, cert);
	msg_init(&msg, m, "asha@customer.example", id);
	send_expect(m, &msg, SW_MAIL_TEMPFAIL, "STARTTLS required, server offers none", detail,
		    sizeof detail);
	sw_mail_free(m);

	const char *const args2[] = {"--tls-cert", cert, "--tls-key", key, "--smtps", NULL};
	if (!ok(sink_start(&s2, "smtps", 0, args2), "sink speaking smtps"))
		return;
	m = mailer("url = smtps://127.0.0.1:%d\nca_file = %s\nfrom = orders@shop.example\n",
		   s2.port, cert);
	msg_init(&msg, m, "asha@customer.example", id);
	send_expect(m, &msg, SW_MAIL_SENT, "smtps:// verified", detail, sizeof detail);
	j = sink_log(&s2, 1);
	ok(json_is_true(json_object_get(j, "tls")), "the sink saw TLS");
	json_decref(j);
	sw_mail_free(m);
	sink_stop(&s2);
}

/* dry_run_dir: a complete file, no connection. */
static void test_dry_run(struct sink *s)
{
	char dir[PATH_MAX], id[SW_MAIL_MSGID_LEN], detail[SW_MAIL_DETAIL_LEN], path[PATH_MAX + 200];
	char dec[1024], boundary[80], want[PATH_MAX + 300];
	int conns = sink_connections(s), count = sink_count(s), words;
	struct sw_mail_msg msg;
	struct sw_mail *m;
	size_t longest;
	bool whole;

	snprintf(dir, sizeof dir, "%s/dry", tmpdir);
	mkdir(dir, 0700);
	m = mailer(
	    "url = smtp://127.0.0.1:%d\nfrom = Shop <orders@shop.example>\ndry_run_dir = %s\n",
	    s->port, dir);
	if (!m) {
		ok(0, "dry-run mailer");
		return;
	}
	msg_init(&msg, m, "asha@customer.example", id);
	msg.subject = hindi_subject;
	msg.text = hindi_text;
	send_expect(m, &msg, SW_MAIL_SENT, "dry run", detail, sizeof detail);
	snprintf(path, sizeof path, "%s/%.*s.eml", dir, (int)(strchr(id, '@') - id - 1), id + 1);
	snprintf(want, sizeof want, "dry-run: %s", path);
	is_str(detail, want, "detail names the file");
	is_int(count_files(dir, ".", NULL), 2, "no temporary file left (only . and ..)");

	char *eml = slurp(path), **h = eml ? raw_headers(eml) : NULL;
	if (h) {
		const char *ct = hdr_value(h, "Content-Type"),
			   *b = ct ? strstr(ct, "boundary=\"") : NULL;

		ok(b != NULL, "Content-Type with a boundary: %s", ct ? ct : "(none)");
		snprintf(boundary, sizeof boundary, "%.*s", b ? (int)strcspn(b + 10, "\"") : 0,
			 b ? b + 10 : "");
		ok(strncmp(eml, "Date: ", 6) == 0 && hdr_value(h, "Message-ID") &&
		       strcmp(hdr_value(h, "Message-ID"), id) == 0,
		   "Date first, Message-ID as given");
		ok(decode_2047(hdr_value(h, "Subject"), dec, sizeof dec, &words, &longest,
			       &whole) &&
		       strcmp(dec, hindi_subject) == 0,
		   "the same encoded Subject as over SMTP");
		is_str(hdr_value(h, "From"), "Shop <orders@shop.example>", "From");
		is_int(hdr_count(h, "MIME-Version"), 1, "MIME-Version");
		snprintf(want, sizeof want,
			 "\r\n--%s\r\nContent-Type: text/plain; charset=UTF-8\r\n"
			 "Content-Transfer-Encoding: 8bit\r\n\r\n",
			 boundary);
		ok(strstr(eml, want) != NULL, "text part, 8bit UTF-8");
		ok(strstr(eml, "नमस्ते आशा,\r\nआपका ऑर्डर देर से है।\r\n") != NULL, "text with CRLF");
		snprintf(want, sizeof want,
			 "\r\n--%s\r\nContent-Type: text/html; charset=UTF-8\r\n", boundary);
		ok(strstr(eml, want) != NULL, "html part");
		snprintf(want, sizeof want, "\r\n--%s--\r\n", boundary);
		ok(strlen(eml) >= strlen(want) &&
		       strcmp(eml + strlen(eml) - strlen(want), want) == 0,
		   "ends with the closing boundary");
	} else {
		ok(0, "dry-run file %s readable", path);
	}
	json_t *j = describe_file(path), *parts = json_object_get(j, "parts");
	char *t = lf(json_string_value(json_object_get(json_array_get(parts, 0), "body")));
	ok(j != NULL, "Python's email package parses the file");
	is_str(jstr(j, "subject"), hindi_subject, "... Subject decodes");
	is_str(jstr(j, "content_type"), "multipart/alternative", "... multipart/alternative");
	is_int(json_array_size(parts), 2, "... two parts");
	is_str(t, hindi_text, "... the text part, final line end included");
	is_int(json_integer_value(json_object_get(j, "defects")), 0, "... no defects");
	free(t);
	json_decref(j);
	struct stat st;
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "file mode 0600");
	is_int(sink_connections(s), conns, "no connection to the server");
	is_int(sink_count(s), count, "nothing reached the server");
	free_headers(h);
	free(eml);
	sw_mail_free(m);

	m = mailer("from = orders@shop.example\ndry_run_dir = %s/missing\n", tmpdir);
	ok(m == NULL, "a missing dry_run_dir is a config error");
	sw_mail_free(m);
}

static void cleanup(void)
{
	const char *const rm[] = {"rm", "-rf", tmpdir, NULL};

	if (!getenv("SW_TEST_KEEP"))
		sink_run_quiet(rm);
	else
		printf("# kept %s\n", tmpdir);
}

int main(void)
{
	struct sink s = {0};
	const char *const args[] = {
	    "--reject-rcpt",	 "^tmp@:451", "--reject-rcpt", "^bad@:550", "--reject-rcpt",
	    "^relay@:554/5.7.1", NULL};

	setenv("TZ", "UTC", 1);
	python = sink_find_python("aiosmtpd");
	if (!python) {
		printf("1..0 # SKIP python3 with aiosmtpd not found (Debian: python3-aiosmtpd)\n");
		return 0;
	}
	if (!find_sink_script() || !mkdtemp(tmpdir)) {
		printf("Bail out! tests/tools/smtp_sink.py not found or no temp dir\n");
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	test_conf();
	test_encode();
	test_date_id_addr();
	if (ok(sink_start(&s, "main", 0, args), "sink started (%s)", python)) {
		test_reuse(&s);
		test_injection(&s);
		test_hindi(&s);
		test_refusals(&s);
		test_dry_run(&s);
		test_tls(&s);
		test_auth();
		test_restart(&s); /* stops s */
	}
	sink_stop(&s);
	cleanup();
	curl_global_cleanup();
	return tap_done();
}
