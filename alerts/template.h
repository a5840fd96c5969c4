/*
 * template.h - customer email templates: load, pick by locale, render; and
 * the ICU formatters for the dates and numbers that go into them.
 *
 * One file per template kind and locale: DIR/<locale>/<kind>.tmpl, where
 * <locale> is a lower-case BCP 47 tag ("hi", "hi-in") or "default" (the
 * English fallback, which must hold every kind).  A customer's locale is
 * looked up through a fallback chain: "hi-IN" tries hi-in, then hi, then
 * default; a malformed locale goes straight to default.
 *
 * File format (UTF-8, LF or CRLF line ends, at most SW_TPL_FILE_MAX bytes):
 *
 *   # comment lines, only before the Subject line
 *   Subject: Your order {{order_id}} is late
 *   Summary: has not arrived by the promised date      (optional)
 *   <one empty line>
 *   the plain-text part, any number of lines
 *   === html ===
 *   the HTML part, up to the end of the file
 *
 * The Summary line is plain text (no placeholders): a short phrase for the
 * kind that the caller puts into another email's parcel list as an item's
 * {{p_issue}} (sw_tpl_summary); it reads after "Parcel 1Z999 (DHL)" in the
 * template's language.  The marker is a line that is exactly
 * "=== html ===".  In any part:
 *   {{name}}            the value (names: see struct sw_tpl_values)
 *   {{#name}}...{{/name}}  kept only if the value is set (non-NULL, non-"")
 *   {{^name}}...{{/name}}  kept only if the value is not set
 *   {{*parcels}}...{{/parcels}}  repeated once per item of v->items (none
 *                       for zero items); inside it {{p_courier}},
 *                       {{p_tracking_number}}, {{p_tracking_link}},
 *                       {{p_issue}} and {{p_new_date}} are the item's
 *                       (struct sw_tpl_item), also in sections
 * Sections and lists nest (up to SW_TPL_MAX_DEPTH together); lists do not
 * nest in lists, and a p_* name outside a list is a load error.  A
 * section or list tag alone on its line (spaces around it allowed) removes
 * that whole line, so they can be written one tag per line without
 * leaving blank lines.  "{{" always opens a tag; there is no way to write
 * a literal "{{".  An unknown name, an unclosed tag, section or list, or a
 * malformed file is a load error naming file:line.
 *
 * Rendering escapes per part, the same for every value (items' too):
 * subject - every control character (C0, DEL, U+0085, U+2028, U+2029)
 * becomes a space, runs of spaces collapse and the result is trimmed and
 * capped at SW_TPL_SUBJECT_MAX bytes on a UTF-8 boundary, so no value can
 * add a header line (the mailer still has to RFC 2047-encode non-ASCII);
 * text - values as given, CR LF and lone CR become LF; HTML - the same,
 * then & < > " ' are escaped.  Invalid UTF-8 in values becomes U+FFFD
 * everywhere.  A link value (tracking_link, unsubscribe_link, every item's
 * tracking_link), when set, must be an http:// or https:// URL without
 * spaces or control characters.  A placeholder whose value is NULL is a
 * render error (use a {{#name}} section for optional values); "" renders
 * as nothing.
 *
 * What the shipped templates (alerts/templates: default = English, hi,
 * gu, ne) say is true only if the caller keeps the value contract of
 * struct sw_tpl_values: each value means exactly what its comment says.
 *
 * Dates and numbers are formatted by ICU (udat_*, unum_*) in the locale
 * sw_tpl_format_locale() picks.  Zone rules, though, are never ICU's: an
 * instant is turned into local wall-clock fields by lib/swtime (the
 * system's tzdata, kept current by Debian's tzdata package independently
 * of the zone data built into libicu), and ICU only formats those fields
 * in a fixed UTC calendar.  One implementation of zone rules, one tzdata.
 * Dates are Gregorian (sw_date, swtime); a locale whose default calendar
 * is another (th: Buddhist) shows the same day in that calendar, as ICU
 * does.
 *
 * Thread safety: a loaded set is read-only; rendering, picking and the
 * date and number formatters are safe from any thread, except
 * sw_tpl_format_instant, which uses the swtime zone cache: one thread.
 */
#ifndef SW_TEMPLATE_H
#define SW_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>

#include "alerts/kinds.h"
#include "lib/error.h"
#include "lib/swtime.h"

/* Template kinds (kinds.h): the slip kinds, with the same values as enum
 * sw_slip, then the good-news follow-ups that a slip the customer was told
 * about earns when it resolves, then the shared messages (a cohort
 * incident's).  SW_TPL_SHIP_LATE, ..., SW_TPL_SHIPPED, ..., SW_TPL_COHORT */
#define SW_TPL_ENUM_(id, name, ...) SW_TPL_##id,
enum sw_tpl_kind {
	SW_SLIP_KINDS(SW_TPL_ENUM_) SW_FOLLOWUP_KINDS(SW_TPL_ENUM_) SW_SHARED_KINDS(SW_TPL_ENUM_)
	    SW_TPL_KIND_LAST
};
#undef SW_TPL_ENUM_

#define SW_TPL_FILE_MAX (64 * 1024)    /* largest template file */
#define SW_TPL_SUBJECT_MAX 200         /* rendered subject cap, bytes */
#define SW_TPL_SUMMARY_MAX 200         /* longest Summary line, bytes */
#define SW_TPL_BODY_MAX (256 * 1024)   /* rendered text / HTML cap, bytes */
#define SW_TPL_MAX_DEPTH 8             /* section and list nesting */
#define SW_TPL_MAX_LOCALES 256         /* locale directories per set */
#define SW_TPL_LOCALE_MAX 35           /* longest accepted locale tag */
#define SW_TPL_DATE_STRLEN 256         /* enough for a formatted date,
					  date and time, or number in every
					  locale of ICU 72 (longest: dz, 210) */

/* One parcel of the order, for {{*parcels}} lists.  Strings are borrowed
 * for the call; NULL means "not known" (a render error where used outside
 * a {{#p_...}} section: the shipped templates need courier and
 * tracking_number and guard the rest). */
struct sw_tpl_item {
	const char *courier;         /* {{p_courier}}: display name */
	const char *tracking_number; /* {{p_tracking_number}} */
	const char *tracking_link;   /* {{p_tracking_link}}: http(s) URL */
	const char *issue;           /* {{p_issue}}: sw_tpl_summary() of the
					template of this parcel's kind, in the
					lead template's locale; "" if none */
	const char *new_date;        /* {{p_new_date}}: this parcel's courier
					ETA, formatted, only while it is
					today or later */
};

/* Values for one email.  Strings are borrowed for the call; NULL means
 * "not known".  Dates and numbers are already formatted
 * (sw_tpl_format_*, in the locale of sw_tpl_format_locale).  The first
 * nine keep their order for positional initialisers. */
struct sw_tpl_values {
	const char *customer_name;    /* {{customer_name}} */
	const char *order_id;         /* {{order_id}} */
	const char *tracking_number;  /* {{tracking_number}}: the lead
					 parcel's */
	const char *courier;          /* {{courier}}: display name */
	const char *tracking_link;    /* {{tracking_link}}: http(s) URL */
	const char *promised_date;    /* DEPRECATED: use delivery_date.
					 Used for {{delivery_date}} and
					 {{promised_date}} when delivery_date
					 is NULL */
	const char *new_date;         /* {{new_date}}: the courier's expected
					 delivery, only while it is today or
					 later (the caller decides) */
	const char *shop_name;        /* {{shop_name}} */
	const char *unsubscribe_link; /* {{unsubscribe_link}}: http(s) URL */
	const char *delivery_date;    /* {{delivery_date}}: the delivery
					 promise; {{promised_date}} in old
					 templates is the same value */
	const char *ship_by_date;     /* {{ship_by_date}}: the ship-by
					 promise (ship_late only) */
	const char *parcel_count;     /* {{parcel_count}}: number of parcels
					 of the order (sw_tpl_format_number) */
	const char *followup;         /* {{followup}}: non-empty only when a
					 follow-up will really be sent for
					 this kind; templates promise another
					 email only inside {{#followup}} */
	const char *others;           /* {{others}}: non-empty when the
					 email also covers other problems or
					 parcels of the same order (then list
					 them with {{*parcels}}) */
	const struct sw_tpl_item *items; /* {{*parcels}}: the parcels of the
					    email, the lead's first */
	size_t n_items;               /* items[0..n_items); 0: none */
	/* The stage that ran over for the cohort of a cohort message (the
	 * incident's most frequent): exactly one is set (non-empty) there,
	 * stage_unknown when the incident names none; all NULL elsewhere.
	 * Each locale words the cause from them. */
	const char *stage_warehouse;  /* {{stage_warehouse}}: created ->
					 shipped (the warehouse is behind) */
	const char *stage_first_mile; /* {{stage_first_mile}}: shipped ->
					 the courier's first scan */
	const char *stage_line_haul;  /* {{stage_line_haul}}: first scan ->
					 out for delivery (hubs) */
	const char *stage_last_mile;  /* {{stage_last_mile}}: out for
					 delivery -> delivered */
	const char *stage_unknown;    /* {{stage_unknown}}: no stage known */
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

/* The locale directory the template came from ("default", "hi", ...).
 * For the formatters use sw_tpl_format_locale().  Lives as long as the
 * set. */
const char *sw_tpl_locale(const struct sw_tpl *tpl);

/* The template's file path, for logs.  Lives as long as the set. */
const char *sw_tpl_path(const struct sw_tpl *tpl);

/* The template's Summary line ("has not arrived by the promised date"),
 * or "" if the file has none.  Put it into the items of other emails in
 * this template's locale.  Lives as long as the set. */
const char *sw_tpl_summary(const struct sw_tpl *tpl);

/* The locale to format dates and numbers in for an email rendered with
 * tpl to a customer whose BCP 47 tag is customer_locale (NULL or
 * malformed allowed): the customer's normalised tag when its language is
 * the template's language ("en-us" on the English default template,
 * "hi-in" on hi), else the template's locale ("default" counting as "en":
 * a Gujarati customer on the English default gets English dates).
 * Writes it into buf and returns buf; buf of SW_TPL_LOCALE_MAX + 1 bytes
 * always suffices.  Returns the static string "en" when tpl or buf is
 * NULL or len is too small.  Pure, safe anywhere. */
const char *sw_tpl_format_locale(const struct sw_tpl *tpl,
				 const char *customer_locale, char *buf,
				 size_t len);

/* Renders tpl with v into *ret_msg (the caller's; sw_tpl_msg_free).
 * SW_OK; SW_EINVAL for a NULL argument, a placeholder whose value is NULL,
 * a link value that is not an http(s) URL, or items NULL with n_items > 0;
 * SW_ETOOBIG if the text or HTML part would exceed SW_TPL_BODY_MAX.  On
 * error *ret_msg is all NULL and errbuf (if errlen > 0) says which
 * placeholder and which file. */
enum sw_err sw_tpl_render(const struct sw_tpl *tpl,
			  const struct sw_tpl_values *v,
			  struct sw_tpl_msg *ret_msg, char *errbuf,
			  size_t errlen);

/* Frees the strings of msg and sets them to NULL.  Safe twice. */
void sw_tpl_msg_free(struct sw_tpl_msg *msg);

/*
 * Formatters.  locale is a BCP 47 tag (as sw_tpl_format_locale gives;
 * "default" means "en"); NULL, a malformed tag or a language ICU has no
 * data for gives "en", never the process's locale.  Each writes UTF-8 into
 * buf and returns SW_OK, SW_ETOOBIG (buf too small; never truncated),
 * SW_EINVAL (NULL argument, or ICU failed) or the codes below; on error
 * buf holds "" if len > 0.
 */

/* A calendar date in the locale's full date style, weekday included:
 * en-GB "Thursday, 3 December 2026", en-US "Thursday, December 3, 2026",
 * hi "गुरुवार, 3 दिसंबर 2026", ne "२०२६ डिसेम्बर ३, बिहिबार".  No zone and
 * no shift: the day is formatted at noon of a UTC calendar.  Also
 * SW_ERANGE for an invalid date (sw_date_valid).  Safe anywhere. */
enum sw_err sw_tpl_format_date(const struct sw_date *date,
			       const char *locale, char *buf, size_t len);

/* The local date (full style) and time (short style) of instant utc_sec
 * in IANA zone: en-GB "Sunday, 8 March 2026 at 14:05".  The local
 * wall-clock fields come from sw_tz_utc_to_local() (lib/swtime, the
 * system tzdata); ICU formats them in a fixed UTC calendar, so ICU's own
 * zone rules are never applied (see the top of this file).  Also the
 * codes of sw_tz_utc_to_local.  Uses the swtime zone cache (one thread). */
enum sw_err sw_tpl_format_instant(int64_t utc_sec, const char *zone,
				  const char *locale, char *buf, size_t len);

/* An integer in the locale's decimal style and default numbering system:
 * en "1,234,567", en-IN and hi "12,34,567", ne "१२,३४,५६७".  Safe
 * anywhere. */
enum sw_err sw_tpl_format_number(int64_t v, const char *locale, char *buf,
				 size_t len);

#endif /* SW_TEMPLATE_H */
