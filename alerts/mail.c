/*
 * mail.c - customer email over SMTP with libcurl (see mail.h).
 *
 * Layout: text helpers (UTF-8 cleaning, base64, RFC 2047 words, addresses,
 * mailboxes), the [smtp] option table and its checks, the one header
 * builder both paths use, the SMTP path (curl MIME + a trace of the
 * dialogue for classification), the dry-run path (our own multipart
 * text, written atomically), and the mailer's life cycle.
 *
 * Why a trace: libcurl reports a refused recipient and a refused sender
 * with the same CURLE_SEND_ERROR, and anything refused after the data
 * with CURLE_WEIRD_SERVER_REPLY, so the command that failed is taken from
 * the dialogue (CURLOPT_DEBUGFUNCTION): the verb of each command sent and
 * the final line of each reply.  Only verbs are compared; the lines sent
 * after AUTH (which carry credentials) are neither copied nor kept.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "alerts/mail.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/conf.h"
#include "lib/error.h"
#include "lib/netaddr.h"
#include "lib/utf8.h"
#include "lib/xmalloc.h"

#define ENC_LINE_MAX	76		   /* RFC 2047: line holding encoded words */
#define ENC_WORD_MAX	75		   /* RFC 2047: one encoded word */
#define WORD_OVERHEAD	12		   /* "=?UTF-8?B?" + "?=" */
#define HDR_LINE_MAX	998		   /* RFC 5322 hard line limit */
#define FOLD_AT		78		   /* RFC 5322 recommended line length */
#define HDR_FIELD_MAX	8192		   /* one folded header field */
#define REPLY_MAX	200		   /* bytes of a server reply kept */
#define QUOTE_MAX	60		   /* bytes of bad config text quoted */
#define UNSUB_URLS_MAX	4		   /* URLs in List-Unsubscribe */
#define MSGID_LOCAL_MAX 100		   /* message-id local part (file name) */
#define DRY_MAX		(16 * 1024 * 1024) /* a composed dry-run message */
#define REPLACEMENT	"\xef\xbf\xbd"	   /* U+FFFD */

/* Where in the SMTP dialogue a transfer is: the command last sent. */
enum stage {
	ST_CONNECT, /* nothing sent yet on this connection (greeting) */
	ST_EHLO,
	ST_STARTTLS,
	ST_AUTH,
	ST_MAIL,
	ST_RCPT,
	ST_DATA,
	ST_BODY, /* after the 354: the reply is to the end of the data */
	ST_QUIT,
	ST_OTHER,
	ST_LAST
};

static const char *const stage_names[ST_LAST] = {
    "connect", "EHLO", "STARTTLS",    "AUTH", "MAIL FROM",
    "RCPT TO", "DATA", "end of data", "QUIT", "command",
};

/* What one transfer's dialogue said; reset before each transfer. */
struct trace {
	int stage;			/* enum stage */
	int code;			/* last final reply code, 0: none */
	int fail_code;			/* last 4xx/5xx reply code, 0: none */
	int fail_stage;			/* the stage that reply answered */
	char reply[REPLY_MAX + 1];	/* last final reply line, cleaned */
	char fail_reply[REPLY_MAX + 1]; /* the 4xx/5xx line, cleaned */
};

struct sw_mail {
	CURL *curl;			      /* NULL in dry-run mode */
	char *from_name, *from_addr;	      /* from_name may be NULL */
	const char *from_domain;	      /* points into from_addr */
	char *reply_name, *reply_addr;	      /* both NULL without reply_to */
	char *password;			      /* copy, to scrub detail texts; wiped */
	char *dry_run_dir;		      /* NULL: send over SMTP */
	char mail_from[SW_MAIL_ADDR_MAX + 3]; /* "<addr>" for MAIL FROM */
	char errbuf[CURL_ERROR_SIZE];	      /* CURLOPT_ERRORBUFFER */
	bool fresh_next;		      /* last transfer failed: new connection */
	bool server_fault;		      /* last send failed before RCPT TO */
	struct trace tr;
	struct sw_mail_stats stats;
};

/* ---- small helpers ------------------------------------------------------ */

static void __attribute__((format(printf, 3, 4)))
put_text(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!buf || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* curl_slist_append, aborting on out of memory like xmalloc. */
static struct curl_slist *slist_add(struct curl_slist *list, const char *s)
{
	struct curl_slist *l = curl_slist_append(list, s);

	if (!l) {
		fputs("slipwatch: out of memory (curl_slist_append)\n", stderr);
		abort();
	}
	return l;
}

/* Replaces bytes that are not printable ASCII with '?', in place. */
static void printable(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
}

static bool is_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* RFC 5322 atext: what a dot-atom or an unquoted phrase word may hold. */
static bool is_atext(int c)
{
	return c && (is_alnum(c) || strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* Fills out with 2*n hex digits from getrandom(2) and a NUL. */
static enum sw_err random_hex(char *out, size_t n)
{
	unsigned char raw[32];
	size_t got = 0, i;
	ssize_t r;

	if (n > sizeof raw)
		return SW_EINVAL;
	while (got < n) {
		r = getrandom(raw + got, n - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return SW_EIO;
		got += (size_t)r;
	}
	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
	return SW_OK;
}

/* ---- UTF-8 -------------------------------------------------------------- */


/* Characters that must never reach a header: C0, DEL, C1 (U+0085 is a
 * line break to some), and the Unicode line and paragraph separators. */
static bool is_control(uint32_t c)
{
	return c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f) || c == 0x2028 || c == 0x2029;
}

/* A new copy of s for a header: control characters become spaces,
 * invalid UTF-8 becomes U+FFFD, at most max bytes (cut between
 * characters).  collapse: runs of spaces become one, ends trimmed. */
static char *clean_text(const char *s, size_t max, bool collapse)
{
	size_t n = strlen(s), i = 0, o = 0, len, outlen;
	char *out = xmalloc(max + 1);
	const char *src;
	uint32_t cp;

	while (i < n) {
		len = sw_utf8_decode((const unsigned char *)s + i, n - i, &cp);
		src = s + i;
		outlen = len;
		if (len == 0) {
			src = REPLACEMENT;
			outlen = 3;
			len = 1;
		} else if (is_control(cp)) {
			src = " "; /* one space for the whole character */
			outlen = 1;
		}
		i += len;
		if (collapse && *src == ' ' && (o == 0 || out[o - 1] == ' '))
			continue;
		if (o + outlen > max)
			break;
		memcpy(out + o, src, outlen);
		o += outlen;
	}
	while (collapse && o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
	return out;
}

/* Bytes in the character whose (valid) lead byte is c. */
static size_t char_len(unsigned char c)
{
	return c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

/* ---- base64 ------------------------------------------------------------- */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Writes the base64 of in[0..n) to out: (n + 2) / 3 * 4 characters, no
 * NUL, no line breaks. */
static void base64_encode(const unsigned char *in, size_t n, char *out)
{
	size_t i;
	uint32_t v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		*out++ = b64_alphabet[v >> 18];
		*out++ = b64_alphabet[(v >> 12) & 63];
		*out++ = b64_alphabet[(v >> 6) & 63];
		*out++ = b64_alphabet[v & 63];
	}
	if (i < n) {
		v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
		*out++ = b64_alphabet[v >> 18];
		*out++ = b64_alphabet[(v >> 12) & 63];
		*out++ = i + 1 < n ? b64_alphabet[(v >> 6) & 63] : '=';
		*out++ = '=';
	}
}

/* ---- RFC 2047 ----------------------------------------------------------- */

/* True unless s is printable ASCII without "=?" that fits on a line
 * after first_col characters. */
static bool needs_encoding(const char *s, size_t first_col)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return true;
		if (s[i] == '=' && s[i + 1] == '?')
			return true;
	}
	return first_col + i > HDR_LINE_MAX;
}

/* Appends s (clean UTF-8) as B-encoded words, each of whole characters
 * and at most 75 characters long, folded so that no line passes 76
 * characters; col is the column where the first word starts. */
static enum sw_err encode_words(const char *s, size_t col, struct sw_buf *out)
{
	char word[ENC_LINE_MAX + 1];
	size_t n = strlen(s), i = 0, room, raw, take, cl, wl;

	while (i < n) {
		room = col < ENC_LINE_MAX ? ENC_LINE_MAX - col : 0;
		if (room > ENC_WORD_MAX) /* a line start (col 0) */
			room = ENC_WORD_MAX;
		raw = room >= WORD_OVERHEAD + 8 ? (room - WORD_OVERHEAD) / 4 * 3 : 0;
		take = 0;
		while (i + take < n && take + (cl = char_len((unsigned char)s[i + take])) <= raw)
			take += cl;
		if (take == 0) { /* no room left on this line: fold first */
			if (col == 1 || sw_buf_adds(out, "\r\n "))
				return SW_ETOOBIG;
			col = 1;
			continue;
		}
		memcpy(word, "=?UTF-8?B?", 10);
		base64_encode((const unsigned char *)s + i, take, word + 10);
		wl = 10 + (take + 2) / 3 * 4;
		memcpy(word + wl, "?=", 2);
		wl += 2;
		if (sw_buf_add(out, word, wl))
			return SW_ETOOBIG;
		i += take;
		col += wl;
		if (i < n) {
			if (sw_buf_adds(out, "\r\n "))
				return SW_ETOOBIG;
			col = 1;
		}
	}
	return SW_OK;
}

enum sw_err sw_mail_encode_header_word(const char *text, size_t first_col, char *buf, size_t len)
{
	struct sw_buf out;
	enum sw_err rc;
	char *clean;

	if (!text || first_col > 900 || !buf)
		return SW_EINVAL;
	if (len == 0)
		return SW_ETOOBIG;
	clean = clean_text(text, SW_MAIL_SUBJECT_MAX, false);
	sw_buf_init(&out, len - 1);
	if (needs_encoding(clean, first_col))
		rc = encode_words(clean, first_col, &out);
	else
		rc = sw_buf_adds(&out, clean);
	if (!rc)
		memcpy(buf, sw_buf_str(&out), out.len + 1);
	sw_buf_free(&out);
	free(clean);
	return rc;
}

/* ---- dates and ids ------------------------------------------------------ */

enum sw_err sw_mail_format_date(int64_t t, char *buf, size_t len)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t tt = (time_t)t;
	struct tm tm;
	int n;

	if (t < 0 || t > INT64_C(253402300799) || !gmtime_r(&tt, &tm))
		return SW_ERANGE; /* 253402300799: 9999-12-31T23:59:59Z */
	n = snprintf(buf, len, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday],
		     tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
		     tm.tm_sec);
	return n < 0 || (size_t)n >= len ? SW_ETOOBIG : SW_OK;
}

/* ---- addresses ---------------------------------------------------------- */

/* s[0..n) is a dot-atom: atext runs separated by single dots. */
static bool dot_atom_valid(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (i == 0 || i == n - 1 || s[i - 1] == '.')
				return false;
		} else if (!is_atext((unsigned char)s[i])) {
			return false;
		}
	}
	return n > 0;
}

/* s[0..n) is a domain of LDH labels (1..63 bytes, no hyphen at either
 * end) separated by single dots, at most 253 bytes. */
static bool domain_valid(const char *s, size_t n)
{
	size_t i, label = 0;

	if (n < 1 || n > 253)
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
		} else if (is_alnum((unsigned char)s[i]) || (s[i] == '-' && label > 0)) {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return label > 0 && s[n - 1] != '-';
}

bool sw_mail_addr_valid(const char *addr)
{
	const char *at;
	size_t n, local;

	if (!addr)
		return false;
	n = strlen(addr);
	at = strchr(addr, '@');
	if (n < 3 || n > SW_MAIL_ADDR_MAX || !at || strchr(at + 1, '@'))
		return false;
	local = (size_t)(at - addr);
	return local <= 64 && dot_atom_valid(addr, local) && domain_valid(at + 1, n - local - 1);
}

enum sw_err sw_mail_message_id(int64_t outbox_id, int64_t created_at, const char *from_domain,
			       char *buf, size_t len)
{
	int n;

	if (outbox_id < 0 || created_at < 0 || !from_domain ||
	    !domain_valid(from_domain, strlen(from_domain)))
		return SW_EINVAL;
	n = snprintf(buf, len, "<slipwatch.%" PRId64 ".%" PRId64 "@%s>", outbox_id, created_at,
		     from_domain);
	return n < 0 || (size_t)n >= len ? SW_ETOOBIG : SW_OK;
}

/* A message id we accept: "<local@domain>", local of [A-Za-z0-9._+-]
 * (no leading dot, at most MSGID_LOCAL_MAX) because it names the dry-run
 * file.  On success *ret_local and *ret_llen give the local part. */
static bool msgid_valid(const char *id, const char **ret_local, size_t *ret_llen)
{
	size_t n = id ? strlen(id) : 0, i;
	const char *at;

	if (n < 5 || id[0] != '<' || id[n - 1] != '>' || n > SW_MAIL_MSGID_LEN)
		return false;
	at = memchr(id, '@', n);
	if (!at || at == id + 1 || at - id - 1 > MSGID_LOCAL_MAX || id[1] == '.')
		return false;
	for (i = 1; id + i < at; i++)
		if (!is_alnum((unsigned char)id[i]) && !strchr("._+-", id[i]))
			return false;
	*ret_local = id + 1;
	*ret_llen = (size_t)(at - id - 1);
	return domain_valid(at + 1, (size_t)(id + n - 1 - at - 1));
}

/* ---- mailboxes (From, To, Reply-To) -------------------------------------- */

/* Splits "Name <addr>", "\"Name\" <addr>" or "addr" (config values).
 * On success *ret_name (NULL if none) and *ret_addr are new strings. */
static bool parse_mailbox(const char *s, char **ret_name, char **ret_addr)
{
	const char *b = s, *e = s + strlen(s), *lt;
	char *name = NULL, *addr;
	size_t i, o = 0;

	while (b < e && (*b == ' ' || *b == '\t'))
		b++;
	while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if (e > b && e[-1] == '>') {
		lt = memrchr(b, '<', (size_t)(e - b));
		if (!lt)
			return false;
		addr = xstrndup(lt + 1, (size_t)(e - 1 - lt - 1));
		for (e = lt; e > b && (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		if (e - b >= 2 && *b == '"' && e[-1] == '"') {
			b++, e--; /* quoted: drop the quotes, undo backslashes */
			name = xmalloc((size_t)(e - b) + 1);
			for (i = 0; b + i < e; i++) {
				if (b[i] == '\\' && b + i + 1 < e)
					i++;
				name[o++] = b[i];
			}
			name[o] = '\0';
		} else if (e > b) {
			name = xstrndup(b, (size_t)(e - b));
			if (strpbrk(name, "<>\""))
				goto fail;
		}
	} else {
		addr = xstrndup(b, (size_t)(e - b));
	}
	if (!sw_mail_addr_valid(addr))
		goto fail;
	*ret_name = name;
	*ret_addr = addr;
	return true;
fail:
	free(name);
	free(addr);
	return false;
}

/* s (printable ASCII) is words of atext separated by single spaces, so
 * it can be a display name without quotes. */
static bool is_plain_phrase(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!is_atext((unsigned char)s[i]) && !(s[i] == ' ' && i > 0 && s[i + 1] != ' '))
			return false;
	return i > 0;
}

static bool is_printable_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

/* Columns used on the last line of b, which started at offset start with
 * col columns already used. */
static size_t last_col(const struct sw_buf *b, size_t start, size_t col)
{
	const char *nl = b->len > start ? memrchr(b->data + start, '\n', b->len - start) : NULL;

	return nl ? (size_t)(b->data + b->len - nl - 1) : col + (b->len - start);
}

/* Appends a mailbox: the display name (cleaned; as is, quoted, or RFC 2047
 * encoded) and <addr>, or the bare addr without a name.  col: columns
 * already used on the line. */
static enum sw_err add_mailbox(struct sw_buf *b, size_t col, const char *name, const char *addr)
{
	char *clean = name ? clean_text(name, SW_MAIL_NAME_MAX, true) : NULL;
	char enc[SW_MAIL_ENCODED_MAX];
	size_t start = b->len, i;
	enum sw_err rc = SW_OK;

	if (!clean || !*clean) {
		free(clean);
		return sw_buf_adds(b, addr);
	}
	if (is_printable_ascii(clean) && !strstr(clean, "=?")) {
		if (is_plain_phrase(clean)) {
			rc = sw_buf_adds(b, clean);
		} else { /* quoted-string: escape the quote and backslash */
			rc = sw_buf_adds(b, "\"");
			for (i = 0; clean[i] && !rc; i++)
				rc = sw_buf_printf(b, "%s%c", strchr("\"\\", clean[i]) ? "\\" : "",
						   clean[i]);
			rc = rc ? rc : sw_buf_adds(b, "\"");
		}
	} else {
		rc = sw_mail_encode_header_word(clean, col, enc, sizeof enc);
		rc = rc ? rc : sw_buf_adds(b, enc);
	}
	free(clean);
	if (!rc)
		rc = sw_buf_printf(
		    b, "%s<%s>",
		    last_col(b, start, col) + strlen(addr) + 3 > FOLD_AT ? "\r\n " : " ", addr);
	return rc;
}

/* ---- the [smtp] section ------------------------------------------------- */

static const char *const tls_words[] = {"auto", "starttls", "opportunistic", "off", NULL};

#define C(f) offsetof(struct sw_mail_conf, f)
const struct sw_conf_opt sw_mail_conf_table[] = {
    {.name = "url",
     .type = SW_CONF_STRING,
     .offset = C(url),
     .def = "smtp://127.0.0.1:25",
     .help = "relay: smtp://HOST[:PORT][/EHLO-NAME] or smtps://..."},
    {.name = "tls",
     .type = SW_CONF_ENUM,
     .offset = C(tls),
     .words = tls_words,
     .def = "auto",
     .help = "auto (STARTTLS required unless loopback), starttls, opportunistic, off"},
    {.name = "tls_verify",
     .type = SW_CONF_BOOL,
     .offset = C(tls_verify),
     .def = "yes",
     .help = "verify the relay's certificate and host name"},
    {.name = "ca_file",
     .type = SW_CONF_PATH,
     .offset = C(ca_file),
     .help = "CA bundle (default: system store)"},
    {.name = "username",
     .type = SW_CONF_STRING,
     .offset = C(username),
     .help = "SMTP AUTH user name"},
    {.name = "password",
     .type = SW_CONF_SECRET,
     .offset = C(password),
     .help = "SMTP AUTH password (password_file or password_env)"},
    {.name = "from",
     .type = SW_CONF_STRING,
     .offset = C(from),
     .help = "From: and envelope sender, 'Shop <orders@shop.example>'"},
    {.name = "reply_to",
     .type = SW_CONF_STRING,
     .offset = C(reply_to),
     .help = "Reply-To:, 'Support <help@shop.example>'"},
    {.name = "connect_timeout",
     .type = SW_CONF_DURATION,
     .offset = C(connect_timeout),
     .min = 100,
     .max = 600000,
     .def = "10s",
     .help = "connect (and TLS) time limit"},
    {.name = "timeout",
     .type = SW_CONF_DURATION,
     .offset = C(timeout),
     .min = 1000,
     .max = 3600000,
     .def = "60s",
     .help = "time limit per message, connect included"},
    {.name = "dry_run_dir",
     .type = SW_CONF_PATH,
     .offset = C(dry_run_dir),
     .help = "send nothing: write each message to DIR/<id>.eml"},
    {.name = NULL},
};
#undef C

/* "[smtp] KEY: what: 'bad'" (bad cleaned and cut), or without the quote
 * when bad is NULL. */
static enum sw_err conf_err(char *errbuf, size_t errlen, const char *key, const char *what,
			    const char *bad)
{
	char q[QUOTE_MAX + 4];

	if (!bad) {
		put_text(errbuf, errlen, "[smtp] %s: %s", key, what);
		return SW_ECONF;
	}
	snprintf(q, sizeof q, "%.*s%s", QUOTE_MAX, bad, strlen(bad) > QUOTE_MAX ? "..." : "");
	printable(q);
	put_text(errbuf, errlen, "[smtp] %s: %s: '%s'", key, what, q);
	return SW_ECONF;
}

/* What the url says that the other checks need. */
struct url_info {
	bool smtps;    /* implicit TLS */
	bool loopback; /* the host is 127.0.0.0/8, ::1 or localhost */
};

/* Parses url with libcurl's URL API and checks what [smtp] allows. */
static enum sw_err check_url(const char *url, struct url_info *ret_ui, char *errbuf, size_t errlen)
{
	static const CURLUPart forbidden[] = {CURLUPART_USER, CURLUPART_PASSWORD, CURLUPART_OPTIONS,
					      CURLUPART_QUERY, CURLUPART_FRAGMENT};
	const char *shown = url && strchr(url, '@') ? "(not shown: it may hold a password)" : url;
	enum sw_err rc = SW_OK;
	char *host = NULL, *part;
	CURLU *u;
	size_t i;

	if (!url || !*url)
		return conf_err(errbuf, errlen, "url", "not set", NULL);
	if (strncasecmp(url, "smtp://", 7) != 0 && strncasecmp(url, "smtps://", 8) != 0)
		return conf_err(errbuf, errlen, "url", "not an smtp:// or smtps:// URL", shown);
	u = curl_url();
	if (!u)
		return conf_err(errbuf, errlen, "url", "libcurl: out of memory", NULL);
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host) {
		rc = conf_err(errbuf, errlen, "url", "not a valid URL with a host", shown);
		goto out;
	}
	for (i = 0; i < sizeof forbidden / sizeof forbidden[0]; i++) {
		if (curl_url_get(u, forbidden[i], &part, 0) == CURLUE_OK) {
			curl_free(part);
			rc = conf_err(errbuf, errlen, "url",
				      "no user, password, query or fragment here (use username "
				      "and password_file)",
				      NULL);
			goto out;
		}
	}
	ret_ui->smtps = strncasecmp(url, "smtps://", 8) == 0;
	ret_ui->loopback = sw_host_is_loopback(host);
out:
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}

/* The CURLOPT_USE_SSL value for conf and its url (smtps: always TLS). */
static long effective_tls(int tls, const struct url_info *ui)
{
	if (ui->smtps)
		return CURLUSESSL_ALL;
	switch (tls) {
	case SW_MAIL_TLS_AUTO:
		return ui->loopback ? CURLUSESSL_NONE : CURLUSESSL_ALL;
	case SW_MAIL_TLS_STARTTLS:
		return CURLUSESSL_ALL;
	case SW_MAIL_TLS_OPPORTUNISTIC:
		return CURLUSESSL_TRY;
	default:
		return CURLUSESSL_NONE;
	}
}

static enum sw_err check_mailbox_key(const char *key, const char *value, char *errbuf,
				     size_t errlen)
{
	char *name, *addr;

	if (!value)
		return SW_OK;
	if (!parse_mailbox(value, &name, &addr))
		return conf_err(errbuf, errlen, key,
				"not 'Name <local@domain>' or a plain local@domain address", value);
	free(name);
	free(addr);
	return SW_OK;
}

/* The rules about credentials and TLS. */
static enum sw_err check_auth(const struct sw_mail_conf *c, const struct url_info *ui, char *errbuf,
			      size_t errlen)
{
	bool user = c->username && *c->username, pass = c->password.value != NULL;

	if (pass && !user)
		return conf_err(errbuf, errlen, "password", "set without username", NULL);
	if (user && !pass)
		return conf_err(errbuf, errlen, "username",
				"set without password_file or password_env", NULL);
	if (pass && (effective_tls(c->tls, ui) != CURLUSESSL_ALL || !c->tls_verify) &&
	    !ui->loopback)
		return conf_err(errbuf, errlen, "password",
				"would cross the network without verified TLS; use smtps:// or "
				"tls = starttls (or auto), with tls_verify = yes",
				NULL);
	return SW_OK;
}

enum sw_err sw_mail_conf_check(const struct sw_mail_conf *c, char *errbuf, size_t errlen)
{
	struct url_info ui;
	enum sw_err rc;

	rc = check_url(c->url, &ui, errbuf, errlen);
	if (rc)
		return rc;
	if (c->tls < 0 || c->tls >= SW_MAIL_TLS_LAST)
		return conf_err(errbuf, errlen, "tls", "not auto, starttls, opportunistic or off",
				NULL);
	if (ui.smtps && c->tls == SW_MAIL_TLS_OFF)
		return conf_err(errbuf, errlen, "tls", "smtps:// is TLS from the first byte",
				"off");
	rc = check_auth(c, &ui, errbuf, errlen);
	if (rc)
		return rc;
	if (c->ca_file && effective_tls(c->tls, &ui) == CURLUSESSL_NONE)
		return conf_err(errbuf, errlen, "ca_file", "set but this url uses no TLS",
				c->ca_file);
	rc = check_mailbox_key("from", c->from, errbuf, errlen);
	if (!rc)
		rc = check_mailbox_key("reply_to", c->reply_to, errbuf, errlen);
	if (rc)
		return rc;
	if (c->connect_timeout > c->timeout)
		return conf_err(errbuf, errlen, "connect_timeout",
				"longer than timeout (which includes the connect)", NULL);
	return SW_OK;
}

void sw_mail_conf_free(struct sw_mail_conf *c)
{
	sw_conf_free_struct(sw_mail_conf_table, c);
}

/* ---- the message -------------------------------------------------------- */

const char *sw_mail_result_name(enum sw_mail_result r)
{
	static const char *const names[SW_MAIL_RESULT_LAST] = {"sent", "tempfail", "permfail"};

	return r >= 0 && r < SW_MAIL_RESULT_LAST ? names[r] : "?";
}

/* Checks the List-Unsubscribe value and appends "<u1>, <u2>" to b (folded
 * between URLs); *ret_https tells whether one URL is https. */
static bool add_unsubscribe(struct sw_buf *b, const char *list, bool *ret_https)
{
	size_t start = b->len, n, i, count = 0;
	const char *p = list, *sep = " \t", *sep_text = "";

	*ret_https = false;
	while (*(p += strspn(p, sep))) {
		n = strcspn(p, sep);
		if (++count > UNSUB_URLS_MAX || n > HDR_LINE_MAX - 8)
			return false;
		if (strncasecmp(p, "https://", 8) && strncasecmp(p, "http://", 7) &&
		    strncasecmp(p, "mailto:", 7))
			return false;
		for (i = 0; i < n; i++)
			if ((unsigned char)p[i] <= 0x20 || (unsigned char)p[i] >= 0x7f ||
			    strchr("<>\"", p[i]))
				return false;
		*ret_https |= strncasecmp(p, "https://", 8) == 0 && n > 8;
		if (count > 1) /* 18: "List-Unsubscribe: " */
			sep_text = last_col(b, start, 18) + n + 4 > FOLD_AT ? ",\r\n " : ", ";
		if (sw_buf_printf(b, "%s<%.*s>", count > 1 ? sep_text : "", (int)n, p))
			return false;
		p += n;
	}
	return count > 0;
}

/* Checks what the caller handed in; a problem is a PERMFAIL. */
static bool check_msg(const struct sw_mail_msg *msg, char *why, size_t whylen)
{
	const char *local;
	size_t llen;

	if (!sw_mail_addr_valid(msg->to_addr)) {
		put_text(why, whylen, "recipient is not a plain local@domain address");
		return false;
	}
	if (!msg->subject || !msg->text || !msg->html) {
		put_text(why, whylen, "subject, text and html are required");
		return false;
	}
	if (strlen(msg->text) > SW_MAIL_BODY_MAX || strlen(msg->html) > SW_MAIL_BODY_MAX) {
		put_text(why, whylen, "text or html longer than %d bytes", SW_MAIL_BODY_MAX);
		return false;
	}
	if (!msgid_valid(msg->message_id, &local, &llen)) {
		put_text(why, whylen, "message_id is not <local@domain> from sw_mail_message_id");
		return false;
	}
	if (msg->list_unsubscribe && strlen(msg->list_unsubscribe) > SW_MAIL_UNSUB_MAX) {
		put_text(why, whylen, "list_unsubscribe longer than %d bytes", SW_MAIL_UNSUB_MAX);
		return false;
	}
	return true;
}

/* Appends "FIELD: mailbox" to *list. */
static enum sw_err add_mailbox_header(struct curl_slist **list, const char *field, const char *name,
				      const char *addr)
{
	struct sw_buf b;
	enum sw_err rc;

	sw_buf_init(&b, HDR_FIELD_MAX);
	rc = sw_buf_printf(&b, "%s: ", field);
	if (!rc)
		rc = add_mailbox(&b, strlen(field) + 2, name, addr);
	if (!rc)
		*list = slist_add(*list, sw_buf_str(&b));
	sw_buf_free(&b);
	return rc;
}

/*
 * THE header builder, for both paths: Date, From, To, Reply-To, Subject,
 * Message-ID, List-Unsubscribe(-Post), Auto-Submitted, MIME-Version and
 * Content-Type: multipart/alternative, with the boundary parameter when
 * boundary is given (dry run; libcurl adds its own otherwise).  Each list
 * entry is one header field, possibly folded ("\r\n ").  On failure
 * (a value too long to be a header, an unusable list_unsubscribe) why
 * says what and *ret_list is NULL.
 */
static bool build_headers(const struct sw_mail *m, const struct sw_mail_msg *msg,
			  const char *boundary, struct curl_slist **ret_list, char *why,
			  size_t whylen)
{
	char date[SW_MAIL_DATE_LEN], enc[SW_MAIL_ENCODED_MAX], line[SW_MAIL_ENCODED_MAX + 64];
	struct curl_slist *h = NULL;
	struct sw_buf b;
	bool https = false, ok = false;

	sw_buf_init(&b, HDR_FIELD_MAX);
	if (sw_mail_format_date(msg->date > 0 ? msg->date : sw_clock_now(), date,
				sizeof date)) {
		put_text(why, whylen, "date out of range");
		goto out;
	}
	snprintf(line, sizeof line, "Date: %s", date);
	h = slist_add(h, line);
	if (add_mailbox_header(&h, "From", m->from_name, m->from_addr) ||
	    add_mailbox_header(&h, "To", msg->to_name, msg->to_addr) ||
	    (m->reply_addr && add_mailbox_header(&h, "Reply-To", m->reply_name, m->reply_addr)) ||
	    sw_mail_encode_header_word(msg->subject, 9, enc, sizeof enc)) {
		put_text(why, whylen, "a name or the subject does not fit in a header");
		goto out;
	}
	snprintf(line, sizeof line, "Subject: %s", enc);
	h = slist_add(h, line);
	snprintf(line, sizeof line, "Message-ID: %s", msg->message_id);
	h = slist_add(h, line);
	if (msg->list_unsubscribe) {
		if (sw_buf_adds(&b, "List-Unsubscribe: ") ||
		    !add_unsubscribe(&b, msg->list_unsubscribe, &https)) {
			put_text(why, whylen,
				 "list_unsubscribe: want 1..%d https:, http: or mailto: URLs "
				 "without spaces, quotes or <>",
				 UNSUB_URLS_MAX);
			goto out;
		}
		h = slist_add(h, sw_buf_str(&b));
		if (https && msg->list_unsubscribe_post)
			h = slist_add(h, "List-Unsubscribe-Post: List-Unsubscribe=One-Click");
	}
	h = slist_add(h, "Auto-Submitted: auto-generated");
	h = slist_add(h, "MIME-Version: 1.0");
	snprintf(line, sizeof line, "Content-Type: multipart/alternative%s%s%s",
		 boundary ? "; boundary=\"" : "", boundary ? boundary : "", boundary ? "\"" : "");
	h = slist_add(h, line);
	ok = true;
out:
	sw_buf_free(&b);
	if (!ok) {
		curl_slist_free_all(h);
		h = NULL;
	}
	*ret_list = h;
	return ok;
}

/* A new copy of a body in canonical form: every line end CRLF, invalid
 * UTF-8 replaced by U+FFFD, ending in CRLF unless empty. */
static char *body_canon(const char *s, size_t *ret_len)
{
	size_t n = strlen(s), i = 0, o = 0, len;
	char *out = xmalloc(3 * n + 3);
	uint32_t cp;

	while (i < n) {
		if (s[i] == '\r' || s[i] == '\n') {
			i += (s[i] == '\r' && s[i + 1] == '\n') ? 2 : 1;
			memcpy(out + o, "\r\n", 2);
			o += 2;
			continue;
		}
		len = sw_utf8_decode((const unsigned char *)s + i, n - i, &cp);
		if (len == 0) {
			memcpy(out + o, REPLACEMENT, 3);
			o += 3;
			i++;
			continue;
		}
		memcpy(out + o, s + i, len);
		o += len;
		i += len;
	}
	if (o > 0 && out[o - 1] != '\n') {
		memcpy(out + o, "\r\n", 2);
		o += 2;
	}
	out[o] = '\0';
	*ret_len = o;
	return out;
}

/* ---- the SMTP path ------------------------------------------------------ */

/* The transfer encoding libcurl applies to a part: quoted-printable keeps
 * mostly-ASCII text readable; base64 is smaller when over a quarter of
 * the bytes are not ASCII (Hindi: QP would triple the size). */
static const char *smtp_encoding(const char *s, size_t n)
{
	size_t i, high = 0;

	for (i = 0; i < n; i++)
		high += (unsigned char)s[i] >= 0x80;
	return high * 4 > n ? "base64" : "quoted-printable";
}

static CURLcode add_curl_part(curl_mime *mime, const char *body, const char *type)
{
	curl_mimepart *part = curl_mime_addpart(mime);
	size_t n;
	char *canon;
	CURLcode rc;

	if (!part)
		return CURLE_OUT_OF_MEMORY;
	canon = body_canon(body, &n);
	rc = curl_mime_data(part, canon, n); /* copies */
	if (!rc)
		rc = curl_mime_type(part, type);
	if (!rc)
		rc = curl_mime_encoder(part, smtp_encoding(canon, n));
	free(canon);
	return rc;
}

/* Records one line the client sent: its verb sets the stage.  Lines that
 * are not commands (AUTH continuations) leave it alone and are not kept. */
static void trace_sent(struct trace *t, const char *d, size_t n)
{
	static const struct {
		const char *verb;
		int stage;
	} verbs[] = {
	    {"EHLO", ST_EHLO},	{"HELO", ST_EHLO},  {"STARTTLS", ST_STARTTLS}, {"AUTH", ST_AUTH},
	    {"MAIL", ST_MAIL},	{"RCPT", ST_RCPT},  {"DATA", ST_DATA},	       {"QUIT", ST_QUIT},
	    {"RSET", ST_OTHER}, {"NOOP", ST_OTHER},
	};
	size_t i, vl;

	for (i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
		vl = strlen(verbs[i].verb);
		if (n >= vl && strncasecmp(d, verbs[i].verb, vl) == 0 &&
		    (n == vl || d[vl] == ' ' || d[vl] == '\r' || d[vl] == '\n')) {
			t->stage = verbs[i].stage;
			return;
		}
	}
}

/* Records one reply line if it is a final one ("DDD " or "DDD"). */
static void trace_reply_line(struct trace *t, const char *d, size_t n)
{
	int code;

	while (n > 0 && (d[n - 1] == '\r' || d[n - 1] == '\n'))
		n--;
	if (n < 3 || d[0] < '1' || d[0] > '5' || d[1] < '0' || d[1] > '9' || d[2] < '0' ||
	    d[2] > '9' || (n > 3 && d[3] != ' '))
		return;
	if (t->stage == ST_QUIT) /* closing a connection: not this message */
		return;
	code = (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
	t->code = code;
	snprintf(t->reply, sizeof t->reply, "%.*s", (int)(n < REPLY_MAX ? n : REPLY_MAX), d);
	printable(t->reply);
	if (code >= 400) {
		t->fail_code = code;
		t->fail_stage = t->stage;
		memcpy(t->fail_reply, t->reply, sizeof t->reply);
	}
	if (code == 354)
		t->stage = ST_BODY;
}

/* CURLOPT_DEBUGFUNCTION: feeds the trace; everything else is dropped. */
static int debug_cb(CURL *h, curl_infotype type, char *data, size_t size, void *arg)
{
	struct sw_mail *m = arg;
	const char *nl;
	size_t len;

	(void)h;
	if (type == CURLINFO_HEADER_OUT) {
		trace_sent(&m->tr, data, size);
	} else if (type == CURLINFO_HEADER_IN) {
		while (size > 0) { /* usually one line per call; be general */
			nl = memchr(data, '\n', size);
			len = nl ? (size_t)(nl - data) + 1 : size;
			trace_reply_line(&m->tr, data, len);
			data += len;
			size -= len;
		}
	}
	return 0;
}

/* The subject digit of an enhanced status code ("550 5.1.1 ..." -> 1),
 * or -1 when the reply has none. */
static int enhanced_subject(const char *reply)
{
	const char *p = reply + 4;
	char *end;
	long sub;

	if (strlen(reply) < 9 || (p[0] != '2' && p[0] != '4' && p[0] != '5') || p[1] != '.')
		return -1;
	sub = strtol(p + 2, &end, 10);
	if (end == p + 2 || end - (p + 2) > 3 || *end != '.')
		return -1;
	return (int)sub;
}

/* See "Result classification" in mail.h. */
static enum sw_mail_result classify(CURLcode rc, const struct trace *t)
{
	int sub;

	if (rc == CURLE_OK)
		return SW_MAIL_SENT;
	if (t->fail_code < 500 || t->fail_code > 599)
		return SW_MAIL_TEMPFAIL; /* 4xx, or no reply: connect, TLS, timeout */
	sub = enhanced_subject(t->fail_reply);
	if (sub == 5 || sub == 7) /* protocol, policy: the setup, not the message */
		return SW_MAIL_TEMPFAIL;
	if (t->fail_stage == ST_RCPT || t->fail_stage == ST_DATA || t->fail_stage == ST_BODY)
		return SW_MAIL_PERMFAIL;
	if (t->fail_stage == ST_MAIL && t->fail_code == 552)
		return SW_MAIL_PERMFAIL;
	return SW_MAIL_TEMPFAIL;
}

/* Replaces every occurrence of secret in s (a NUL-terminated buffer of
 * len bytes) with "(secret)". */
static void scrub(char *s, size_t len, const char *secret)
{
	size_t sl = secret ? strlen(secret) : 0;
	struct sw_buf b;
	char *p, *q;

	if (!sl || !strstr(s, secret))
		return;
	sw_buf_init(&b, len);
	for (p = s; (q = strstr(p, secret)) != NULL; p = q + sl) {
		sw_buf_add(&b, p, (size_t)(q - p));
		sw_buf_adds(&b, "(secret)");
	}
	sw_buf_adds(&b, p);
	snprintf(s, len, "%s", sw_buf_str(&b));
	if (b.data)
		explicit_bzero(b.data, b.alloc);
	sw_buf_free(&b);
}

/* The one-line detail of a transfer (see mail.h). */
static void smtp_detail(struct sw_mail *m, CURLcode rc, char *detail, size_t len)
{
	const struct trace *t = &m->tr;
	const char *curl_text = m->errbuf[0] ? m->errbuf : curl_easy_strerror(rc);

	if (!detail || !len)
		return;
	if (rc == CURLE_OK)
		snprintf(detail, len, "%s", t->reply[0] ? t->reply : "250");
	else if (t->fail_code)
		snprintf(detail, len, "%s (at %s; curl: %s)", t->fail_reply,
			 stage_names[t->fail_stage], curl_text);
	else
		snprintf(detail, len, "no SMTP reply at %s: %s (curl: %s)", stage_names[t->stage],
			 curl_easy_strerror(rc), curl_text);
	printable(detail);
	scrub(detail, len, m->password);
}

/* Sends through the cached connection (or a new one after a failure). */
static enum sw_mail_result smtp_send(struct sw_mail *m, const struct sw_mail_msg *msg,
				     struct curl_slist *hdrs, char *detail, size_t len)
{
	struct curl_slist *rcpt;
	curl_mime *mime = curl_mime_init(m->curl);
	char to[SW_MAIL_ADDR_MAX + 3];
	enum sw_mail_result r;
	long connects = 0;
	CURLcode rc;

	snprintf(to, sizeof to, "<%s>", msg->to_addr);
	rcpt = slist_add(NULL, to);
	rc = mime ? add_curl_part(mime, msg->text, "text/plain; charset=UTF-8")
		  : CURLE_OUT_OF_MEMORY;
	if (!rc)
		rc = add_curl_part(mime, msg->html, "text/html; charset=UTF-8");
	memset(&m->tr, 0, sizeof m->tr);
	m->errbuf[0] = '\0';
	if (!rc) {
		curl_easy_setopt(m->curl, CURLOPT_MAIL_RCPT, rcpt);
		curl_easy_setopt(m->curl, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(m->curl, CURLOPT_MIMEPOST, mime);
		curl_easy_setopt(m->curl, CURLOPT_FRESH_CONNECT, m->fresh_next ? 1L : 0L);
		rc = curl_easy_perform(m->curl);
		if (curl_easy_getinfo(m->curl, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK)
			m->stats.connections += (uint64_t)connects;
		curl_easy_setopt(m->curl, CURLOPT_MIMEPOST, NULL);
		curl_easy_setopt(m->curl, CURLOPT_HTTPHEADER, NULL);
		curl_easy_setopt(m->curl, CURLOPT_MAIL_RCPT, NULL);
	}
	curl_mime_free(mime); /* before the lists: it still points at hdrs */
	curl_slist_free_all(rcpt);
	m->fresh_next = rc != CURLE_OK;
	r = classify(rc, &m->tr);
	smtp_detail(m, rc, detail, len);
	return r;
}

/* ---- the dry-run path --------------------------------------------------- */

/* Writes data to DIR/NAME through a temporary file in DIR, fsync'd and
 * renamed, then fsyncs DIR, so a crash leaves the old file or the new,
 * never half of one.  why says what failed. */
static enum sw_err write_atomic(const char *dir, const char *name, const char *data, size_t len,
				char *why, size_t whylen)
{
	char *path = xasprintf("%s/%s", dir, name), *tmp = xasprintf("%s/.%s.XXXXXX", dir, name);
	enum sw_err rc = SW_EIO;
	size_t off = 0;
	ssize_t w;
	int fd, dfd;

	fd = mkostemp(tmp, O_CLOEXEC); /* mode 0600: customer data */
	if (fd < 0) {
		put_text(why, whylen, "cannot create a file in %s: %s", dir, strerror(errno));
		goto out;
	}
	while (off < len) {
		w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			break;
		off += (size_t)w;
	}
	if (off < len || fsync(fd) < 0 || close(fd) < 0 || rename(tmp, path) < 0) {
		put_text(why, whylen, "cannot write %s: %s", path, strerror(errno));
		if (off < len)
			close(fd);
		unlink(tmp);
		goto out;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd); /* best effort: some file systems refuse it */
		close(dfd);
	}
	put_text(why, whylen, "%s", path);
	rc = SW_OK;
out:
	free(path);
	free(tmp);
	return rc;
}

/* Appends one part of the dry-run multipart body: 8bit when every line
 * fits in 998 bytes, base64 (76-character lines) otherwise.  The CRLF
 * before a delimiter belongs to the delimiter (RFC 2046 5.1.1), so every
 * delimiter but the first gets one of its own: the body keeps its last
 * line end, as in what libcurl sends. */
static enum sw_err add_dry_part(struct sw_buf *b, const char *boundary, const char *type,
				const char *body, bool first)
{
	size_t n, i, run = 0, chunk;
	char *canon = body_canon(body, &n), line[80];
	bool long_line = false;
	enum sw_err rc;

	for (i = 0; i < n; i++) {
		run = canon[i] == '\n' ? 0 : run + 1;
		long_line |= run > HDR_LINE_MAX;
	}
	rc = sw_buf_printf(b, "%s--%s\r\nContent-Type: %s\r\nContent-Transfer-Encoding: %s\r\n\r\n",
			   first ? "" : "\r\n", boundary, type, long_line ? "base64" : "8bit");
	if (!rc && !long_line)
		rc = sw_buf_add(b, canon, n);
	for (i = 0; !rc && long_line && i < n; i += chunk) {
		chunk = n - i < 57 ? n - i : 57; /* 57 bytes -> 76 characters */
		base64_encode((const unsigned char *)canon + i, chunk, line);
		memcpy(line + (chunk + 2) / 3 * 4, "\r\n", 2);
		rc = sw_buf_add(b, line, (chunk + 2) / 3 * 4 + 2);
	}
	free(canon);
	return rc;
}

/* Composes the whole message (shared headers, own multipart body) and
 * writes it as DIR/<local part of the message id>.eml. */
static enum sw_mail_result dry_run(struct sw_mail *m, const struct sw_mail_msg *msg, char *detail,
				   size_t len)
{
	char boundary[40] = "=_slipwatch_", why[512], name[MSGID_LOCAL_MAX + 8];
	struct curl_slist *hdrs = NULL, *h;
	enum sw_mail_result r = SW_MAIL_TEMPFAIL;
	const char *local;
	struct sw_buf b;
	size_t llen;

	msgid_valid(msg->message_id, &local, &llen); /* checked by check_msg */
	snprintf(name, sizeof name, "%.*s.eml", (int)llen, local);
	sw_buf_init(&b, DRY_MAX);
	do { /* a boundary that occurs in neither body (96 random bits) */
		if (random_hex(boundary + 12, 12)) {
			put_text(detail, len, "dry-run: getrandom failed: %s", strerror(errno));
			goto out;
		}
	} while (strstr(msg->text, boundary) || strstr(msg->html, boundary));
	if (!build_headers(m, msg, boundary, &hdrs, why, sizeof why)) {
		put_text(detail, len, "bad message: %s", why);
		r = SW_MAIL_PERMFAIL;
		goto out;
	}
	for (h = hdrs; h; h = h->next)
		sw_buf_printf(&b, "%s\r\n", h->data);
	sw_buf_adds(&b, "\r\n");
	if (add_dry_part(&b, boundary, "text/plain; charset=UTF-8", msg->text, true) ||
	    add_dry_part(&b, boundary, "text/html; charset=UTF-8", msg->html, false) ||
	    sw_buf_printf(&b, "\r\n--%s--\r\n", boundary)) {
		put_text(detail, len, "bad message: larger than %d bytes", DRY_MAX);
		r = SW_MAIL_PERMFAIL;
		goto out;
	}
	if (write_atomic(m->dry_run_dir, name, b.data, b.len, why, sizeof why) == SW_OK) {
		put_text(detail, len, "dry-run: %s", why);
		r = SW_MAIL_SENT;
	} else {
		put_text(detail, len, "dry-run: %s", why);
	}
out:
	curl_slist_free_all(hdrs);
	sw_buf_free(&b);
	return r;
}

/* ---- the mailer --------------------------------------------------------- */

static void count(struct sw_mail *m, enum sw_mail_result r)
{
	if (r == SW_MAIL_SENT)
		m->stats.sent++;
	else if (r == SW_MAIL_TEMPFAIL)
		m->stats.tempfail++;
	else
		m->stats.permfail++;
}

enum sw_mail_result sw_mail_send(struct sw_mail *m, const struct sw_mail_msg *msg, char *detail,
				 size_t detail_len)
{
	struct curl_slist *hdrs = NULL;
	enum sw_mail_result r;
	char why[256];

	if (detail && detail_len)
		detail[0] = '\0';
	if (!check_msg(msg, why, sizeof why)) {
		put_text(detail, detail_len, "bad message: %s", why);
		r = SW_MAIL_PERMFAIL;
	} else if (m->dry_run_dir) {
		r = dry_run(m, msg, detail, detail_len);
	} else if (!build_headers(m, msg, NULL, &hdrs, why, sizeof why)) {
		put_text(detail, detail_len, "bad message: %s", why);
		r = SW_MAIL_PERMFAIL;
	} else {
		r = smtp_send(m, msg, hdrs, detail, detail_len);
	}
	/* no reply at all, or refused before any recipient was named: the
	 * server (or our setup) is the trouble, not this message */
	m->server_fault = r == SW_MAIL_TEMPFAIL && !m->dry_run_dir &&
			  (m->tr.fail_code == 0 || m->tr.fail_stage < ST_RCPT);
	curl_slist_free_all(hdrs);
	count(m, r);
	return r;
}

bool sw_mail_server_fault(const struct sw_mail *m)
{
	return m->server_fault;
}

/* Sets the handle's fixed options: everything but the message. */
static enum sw_err setup_curl(struct sw_mail *m, const struct sw_mail_conf *c, char *errbuf,
			      size_t errlen)
{
	struct url_info ui;
	CURLcode rc;

	check_url(c->url, &ui, NULL, 0); /* checked by sw_mail_conf_check */
#define SET(opt, val)                                                                              \
	do {                                                                                       \
		if ((rc = curl_easy_setopt(m->curl, opt, val)) != CURLE_OK) {                      \
			put_text(errbuf, errlen, "[smtp] libcurl refused %s: %s", #opt,            \
				 curl_easy_strerror(rc));                                          \
			return SW_EIO;                                                             \
		}                                                                                  \
	} while (0)
	SET(CURLOPT_URL, c->url);
	SET(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	SET(CURLOPT_USE_SSL, effective_tls(c->tls, &ui));
	SET(CURLOPT_SSL_VERIFYPEER, c->tls_verify ? 1L : 0L);
	SET(CURLOPT_SSL_VERIFYHOST, c->tls_verify ? 2L : 0L);
	if (c->ca_file)
		SET(CURLOPT_CAINFO, c->ca_file);
	if (c->password.value) {
		SET(CURLOPT_USERNAME, c->username);
		SET(CURLOPT_PASSWORD, c->password.value);
	}
	SET(CURLOPT_MAIL_FROM, m->mail_from);
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)c->connect_timeout);
	SET(CURLOPT_TIMEOUT_MS, (long)c->timeout);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_ERRORBUFFER, m->errbuf);
	SET(CURLOPT_DEBUGFUNCTION, debug_cb);
	SET(CURLOPT_DEBUGDATA, m);
	SET(CURLOPT_VERBOSE, 1L); /* the debug function sees nothing without it */
#undef SET
	return SW_OK;
}

enum sw_err sw_mail_conf_check_files(const struct sw_mail_conf *c, char *errbuf, size_t errlen)
{
	const char *dir = c->dry_run_dir;
	struct stat st;
	char why[160];

	if (!dir)
		return SW_OK;
	errno = 0;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || access(dir, W_OK | X_OK) < 0) {
		snprintf(why, sizeof why, "not a writable directory (%s)",
			 errno ? strerror(errno) : "not a directory");
		return conf_err(errbuf, errlen, "dry_run_dir", why, dir);
	}
	return SW_OK;
}

enum sw_err sw_mail_new(const struct sw_mail_conf *conf, struct sw_mail **ret_m, char *errbuf,
			size_t errlen)
{
	struct sw_mail *m;
	enum sw_err rc;

	*ret_m = NULL;
	rc = sw_mail_conf_check(conf, errbuf, errlen);
	if (rc)
		return rc;
	if (!conf->from || !*conf->from)
		return conf_err(errbuf, errlen, "from", "required to send mail but not set", NULL);
	if ((rc = sw_mail_conf_check_files(conf, errbuf, errlen)))
		return rc;
	m = xcalloc(1, sizeof *m);
	parse_mailbox(conf->from, &m->from_name, &m->from_addr); /* checked */
	m->from_domain = strchr(m->from_addr, '@') + 1;
	if (conf->reply_to)
		parse_mailbox(conf->reply_to, &m->reply_name, &m->reply_addr);
	snprintf(m->mail_from, sizeof m->mail_from, "<%s>", m->from_addr);
	if (conf->dry_run_dir) {
		m->dry_run_dir = xstrdup(conf->dry_run_dir);
		*ret_m = m;
		return SW_OK;
	}
	if (conf->password.value)
		m->password = xstrdup(conf->password.value);
	m->curl = curl_easy_init();
	if (!m->curl) {
		put_text(errbuf, errlen, "[smtp] libcurl: curl_easy_init failed");
		rc = SW_EIO;
		goto fail;
	}
	rc = setup_curl(m, conf, errbuf, errlen);
	if (rc)
		goto fail;
	*ret_m = m;
	return SW_OK;
fail:
	sw_mail_free(m);
	return rc;
}

void sw_mail_free(struct sw_mail *m)
{
	if (!m)
		return;
	if (m->curl)
		curl_easy_cleanup(m->curl); /* QUIT on a cached connection */
	if (m->password) {
		explicit_bzero(m->password, strlen(m->password));
		free(m->password);
	}
	free(m->from_name);
	free(m->from_addr);
	free(m->reply_name);
	free(m->reply_addr);
	free(m->dry_run_dir);
	free(m);
}

const char *sw_mail_from_domain(const struct sw_mail *m)
{
	return m->from_domain;
}

void sw_mail_get_stats(const struct sw_mail *m, struct sw_mail_stats *ret_stats)
{
	*ret_stats = m->stats;
}
