/*
 * template.h - customer email templates: load, pick by locale, render.
 *
 * One file per slip kind and locale: DIR/<locale>/<kind>.tmpl, where
 * <locale> is a lower-case BCP 47 tag ("hi", "hi-in") or "default" (the
 * English fallback, which must hold every kind).  A customer's locale is
 * looked up through a fallback chain: "hi-IN" tries hi-in, then hi, then
 * default; a malformed locale goes straight to default.
 *
 * File format (UTF-8, LF or CRLF line ends, at most SW_TPL_FILE_MAX bytes):
 *
 *   # comment lines, only before the Subject line
 *   Subject: Your order {{order_id}} is late
 *   <one empty line>
 *   the plain-text part, any number of lines
 *   === html ===
 *   the HTML part, up to the end of the file
 *
 * The marker is a line that is exactly "=== html ===".  In any part:
 *   {{name}}            the value (names: see struct sw_tpl_values)
 *   {{#name}}...{{/name}}  kept only if the value is set (non-NULL, non-"")
 *   {{^name}}...{{/name}}  kept only if the value is not set
 * Sections nest (up to SW_TPL_MAX_DEPTH).  A section tag alone on its line
 * (spaces around it allowed) removes that whole line, so sections can be
 * written one tag per line without leaving blank lines.  "{{" always opens
 * a tag; there is no way to write a literal "{{".  An unknown name, an
 * unclosed tag or section, or a malformed file is a load error naming
 * file:line.
 *
 * Rendering escapes per part: subject - every control character (C0, DEL,
 * U+0085, U+2028, U+2029) becomes a space, runs of spaces collapse and the
 * result is trimmed and capped at SW_TPL_SUBJECT_MAX bytes on a UTF-8
 * boundary, so no value can add a header line (the mailer still has to
 * RFC 2047-encode non-ASCII); text - values as given, CR LF and lone CR
 * become LF; HTML - the same, then & < > " ' are escaped.  Invalid UTF-8 in
 * values becomes U+FFFD everywhere.  A link value (tracking_link,
 * unsubscribe_link), when set, must be an http:// or https:// URL without
 * spaces or control characters.  A placeholder whose value is NULL is a
 * render error (use a {{#name}} section for optional values); "" renders
 * as nothing.
 *
 * Thread safety: a loaded set is read-only; rendering and picking are safe
 * from any thread.  The date helpers use the swtime zone cache: one thread.
 */
#ifndef SW_TEMPLATE_H
#define SW_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/swtime.h"

/* Slip kinds with a customer email; names as in design.md and the store. */
enum sw_tpl_kind {
	SW_TPL_SHIP_LATE,     /* "ship_late" */
	SW_TPL_NO_FIRST_SCAN, /* "no_first_scan" */
	SW_TPL_STALLED,       /* "stalled" */
	SW_TPL_ATTEMPT_FAIL,  /* "attempt_fail" */
	SW_TPL_EXCEPTION,     /* "exception" */
	SW_TPL_RETURNING,     /* "returning" */
	SW_TPL_ETA_SLIP,      /* "eta_slip" */
	SW_TPL_LATE,          /* "late" */
	SW_TPL_AVAILABLE_FOR_PICKUP, /* "available_for_pickup" */
	SW_TPL_KIND_LAST
};

#define SW_TPL_FILE_MAX (64 * 1024)    /* largest template file */
#define SW_TPL_SUBJECT_MAX 200         /* rendered subject cap, bytes */
#define SW_TPL_BODY_MAX (256 * 1024)   /* rendered text / HTML cap, bytes */
#define SW_TPL_MAX_DEPTH 8             /* section nesting */
#define SW_TPL_MAX_LOCALES 256         /* locale directories per set */
#define SW_TPL_LOCALE_MAX 35           /* longest accepted locale tag */
#define SW_TPL_DATE_STRLEN 64          /* enough for any formatted date */

/* Values for one email.  Strings are borrowed for the call; NULL means
 * "not known".  Dates are already formatted (sw_tpl_format_*). */
struct sw_tpl_values {
	const char *customer_name;    /* {{customer_name}} */
	const char *order_id;         /* {{order_id}} */
	const char *tracking_number;  /* {{tracking_number}} */
	const char *courier;          /* {{courier}}: display name */
	const char *tracking_link;    /* {{tracking_link}}: http(s) URL */
	const char *promised_date;    /* {{promised_date}} */
	const char *new_date;         /* {{new_date}}: new expected date */
	const char *shop_name;        /* {{shop_name}} */
	const char *unsubscribe_link; /* {{unsubscribe_link}}: http(s) URL */
};

/* A rendered email; every string is NUL-terminated and owned by the
 * struct (sw_tpl_msg_free).  Line ends are LF. */
struct sw_tpl_msg {
	char *subject; /* one line, no control characters */
	char *text;    /* text/plain part */
	char *html;    /* text/html part */
};

struct sw_tpl_set; /* a loaded template directory (opaque) */
struct sw_tpl;     /* one template, owned by its set (opaque) */

/* "ship_late" etc., or "?" for an out-of-range value. */
const char *sw_tpl_kind_name(enum sw_tpl_kind kind);

/* Looks a kind up by name (exact, lower case).  SW_OK or SW_ENOTFOUND
 * (also for NULL). */
enum sw_err sw_tpl_kind_from_name(const char *name,
				  enum sw_tpl_kind *ret_kind);

/* Normalises a BCP 47-ish locale tag into buf: '_' becomes '-', letters
 * lower case.  Accepted: a 2-3 or 5-8 letter language, then subtags of 1-8
 * letters or digits, at most SW_TPL_LOCALE_MAX bytes in all.  SW_OK,
 * SW_EINVAL if malformed (or NULL), SW_ETOOBIG if len is too small. */
enum sw_err sw_tpl_locale_normalize(const char *locale, char *buf,
				    size_t len);

/* Loads every template under dir (see the file format above).  Each
 * sub-directory must be named "default" or a normalised locale tag; files
 * at the top and names starting with '.' are ignored; inside a locale
 * directory every *.tmpl file must be named after a kind and other files
 * are ignored.  "default" must hold all SW_TPL_KIND_LAST kinds; other
 * locales may hold only some (the rest fall back).  On success *ret_set
 * is the caller's (sw_tpl_free).  On failure nothing is allocated, errbuf
 * (if errlen > 0) gets "FILE:LINE: reason" or "PATH: reason" and the code
 * is SW_EINVAL (NULL argument), SW_ENOTFOUND (dir or a default template
 * missing), SW_EIO (read error), SW_EPARSE (bad template or name),
 * SW_ETOOBIG (file over SW_TPL_FILE_MAX, too many locales).  Call at start
 * and on reload; swap sets only once the new one loaded. */
enum sw_err sw_tpl_load(const char *dir, struct sw_tpl_set **ret_set,
			char *errbuf, size_t errlen);

/* Frees a set and every template in it.  NULL is a no-op. */
void sw_tpl_free(struct sw_tpl_set *set);

/* The template for kind and the customer's locale, through the fallback
 * chain (full tag, then dropping one trailing subtag at a time, then
 * "default"); locale may be NULL or malformed (default).  Never NULL for a
 * valid kind; NULL for an out-of-range kind or NULL set.  The template
 * lives as long as the set. */
const struct sw_tpl *sw_tpl_pick(const struct sw_tpl_set *set,
				 enum sw_tpl_kind kind, const char *locale);

/* The locale directory the template came from ("default", "hi", ...):
 * pass it to the date formatters so dates match the template's language.
 * Lives as long as the set. */
const char *sw_tpl_locale(const struct sw_tpl *tpl);

/* The template's file path, for logs.  Lives as long as the set. */
const char *sw_tpl_path(const struct sw_tpl *tpl);

/* Renders tpl with v into *ret_msg (the caller's; sw_tpl_msg_free).
 * SW_OK; SW_EINVAL for a NULL argument, a placeholder whose value is NULL
 * or a link value that is not an http(s) URL; SW_ETOOBIG if the text or
 * HTML part would exceed SW_TPL_BODY_MAX.  On error *ret_msg is all NULL
 * and errbuf (if errlen > 0) says which placeholder and which file. */
enum sw_err sw_tpl_render(const struct sw_tpl *tpl,
			  const struct sw_tpl_values *v,
			  struct sw_tpl_msg *ret_msg, char *errbuf,
			  size_t errlen);

/* Frees the strings of msg and sets them to NULL.  Safe twice. */
void sw_tpl_msg_free(struct sw_tpl_msg *msg);

/* Formats the local calendar date of instant utc_sec in IANA zone for
 * locale: Hindi ("hi", "hi-*") "गुरुवार, 26 नवंबर 2026" (Hindi weekday and
 * month names, Latin digits), anything else English "Thu, 26 Nov 2026".
 * SW_OK, SW_ETOOBIG (buf too small; "" if len > 0), SW_EINVAL (NULL
 * argument) or the codes of sw_tz_utc_to_local.  Uses the swtime zone
 * cache (one thread). */
enum sw_err sw_tpl_format_instant(int64_t utc_sec, const char *zone,
				  const char *locale, char *buf, size_t len);

/* As sw_tpl_format_instant for a calendar date (no zone, no shift).
 * SW_ERANGE for an invalid date.  Pure, safe anywhere. */
enum sw_err sw_tpl_format_date(const struct sw_date *date,
			       const char *locale, char *buf, size_t len);

#endif /* SW_TEMPLATE_H */
