/*
 * swtime.c - timestamp parsing and formatting, calendar dates, IANA zones.
 *
 * Parsing is a hand-written scanner over at most SW_TIME_MAX_INPUT bytes
 * with exact digit counts, so no strptime/sscanf leniency (leading spaces,
 * signs, short fields) slips through.  Calendar conversion uses Howard
 * Hinnant's days_from_civil / civil_from_days in 64-bit arithmetic, so the
 * process zone, timegm and time_t width never matter.
 *
 * Zones: a TZif reader (RFC 8536; v1 data for v1 files, else the 64-bit v2+
 * block and the POSIX TZ footer used after the last transition).  Loaded
 * zones live in a singly linked cache keyed by full path, moved to the front
 * on use.  Rule years are evaluated for the year around the instant and its
 * neighbours, so southern-hemisphere and all-year-DST rules need no special
 * cases.  Wall clock to UTC tries the offsets in effect a day before and a
 * day after and checks which candidates round-trip (see the header for gap
 * and overlap rules).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/swtime.h"
#include "lib/xmalloc.h"

#define DAY_SEC 86400
#define TZ_DEFAULT_DIR "/usr/share/zoneinfo"
#define TZ_NAME_MAX 255
#define TZ_FILE_MAX (1024 * 1024)
#define TZ_TYPES_MAX 256
#define TZ_TIMES_MAX 100000
#define TZ_ABBR_MAX 16
/* Instants of years 1..9999, with two days' margin for offsets. */
#define TZ_T_MIN (-62135596800LL - 2 * DAY_SEC)
#define TZ_T_MAX (253402300799LL + 2 * DAY_SEC)

/* ---------------------------------------------------------------- calendar */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
	return a - floor_div(a, b) * b;
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
	static const int dim[12] = {31, 28, 31, 30, 31, 30,
				    31, 31, 30, 31, 30, 31};

	if (m < 1 || m > 12)
		return 0;
	return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Days since 1970-01-01 of y-m-d; month must be 1..12. */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = floor_div(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *ret_y, int *ret_m, int *ret_d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = floor_div(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*ret_d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*ret_m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*ret_y = yoe + era * 400 + (*ret_m <= 2);
}

bool sw_date_valid(const struct sw_date *d)
{
	return d && d->year >= 1 && d->year <= 9999 && d->month >= 1 &&
	       d->month <= 12 && d->day >= 1 &&
	       d->day <= days_in_month(d->year, d->month);
}

int64_t sw_date_to_days(const struct sw_date *d)
{
	int64_t m = d->month;

	/* Keep out-of-range months defined: fold them into the year. */
	return days_from_civil(d->year + floor_div(m - 1, 12),
			       floor_mod(m - 1, 12) + 1, d->day);
}

void sw_date_from_days(int64_t days, struct sw_date *ret_date)
{
	int64_t y;

	civil_from_days(days, &y, &ret_date->month, &ret_date->day);
	ret_date->year = (int)y;
}

void sw_date_add_days(const struct sw_date *d, int64_t n,
		      struct sw_date *ret_date)
{
	sw_date_from_days(sw_date_to_days(d) + n, ret_date);
}

int sw_date_cmp(const struct sw_date *a, const struct sw_date *b)
{
	if (a->year != b->year)
		return a->year < b->year ? -1 : 1;
	if (a->month != b->month)
		return a->month < b->month ? -1 : 1;
	if (a->day != b->day)
		return a->day < b->day ? -1 : 1;
	return 0;
}

static bool hms_valid(int h, int mi, int s)
{
	return h >= 0 && h <= 23 && mi >= 0 && mi <= 59 && s >= 0 && s <= 59;
}

enum sw_err sw_time_from_utc_fields(int year, int month, int day, int hour,
				    int min, int sec, int64_t *ret_utc)
{
	struct sw_date d = {year, month, day};

	if (!ret_utc)
		return SW_EINVAL;
	if (!sw_date_valid(&d) || !hms_valid(hour, min, sec))
		return SW_ERANGE;
	*ret_utc = sw_date_to_days(&d) * DAY_SEC + hour * 3600 + min * 60 + sec;
	return SW_OK;
}

/* ----------------------------------------------------------------- parsing */

struct scan {
	const char *s;
	size_t len;
	size_t pos;
	char *err;
	size_t errlen;
};

static enum sw_err scan_fail(struct scan *sc, size_t at, const char *why)
{
	if (sc->err && sc->errlen > 0)
		snprintf(sc->err, sc->errlen, "at offset %zu: %s", at, why);
	return SW_EPARSE;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int scan_peek(const struct scan *sc)
{
	return sc->pos < sc->len ? (unsigned char)sc->s[sc->pos] : -1;
}

/* Exactly n digits at the cursor. */
static bool scan_num(struct scan *sc, int n, int *ret)
{
	int v = 0;

	if (sc->len - sc->pos < (size_t)n)
		return false;
	for (int i = 0; i < n; i++) {
		char c = sc->s[sc->pos + i];
		if (!is_digit(c))
			return false;
		v = v * 10 + (c - '0');
	}
	sc->pos += n;
	*ret = v;
	return true;
}

static bool scan_char(struct scan *sc, char c)
{
	if (scan_peek(sc) != (unsigned char)c)
		return false;
	sc->pos++;
	return true;
}

/* Sets up sc for s; rejects NULL, empty and over-long input. */
static enum sw_err scan_init(struct scan *sc, const char *s, char *errbuf,
			     size_t errlen)
{
	sc->s = s;
	sc->pos = 0;
	sc->err = errbuf;
	sc->errlen = errlen;
	if (errbuf && errlen > 0)
		errbuf[0] = '\0';
	if (!s)
		return SW_EINVAL;
	sc->len = strnlen(s, SW_TIME_MAX_INPUT + 1);
	if (sc->len == 0)
		return scan_fail(sc, 0, "empty input");
	if (sc->len > SW_TIME_MAX_INPUT)
		return scan_fail(sc, SW_TIME_MAX_INPUT, "input too long");
	return SW_OK;
}

static enum sw_err scan_end(struct scan *sc)
{
	if (sc->pos != sc->len)
		return scan_fail(sc, sc->pos, "unexpected trailing characters");
	return SW_OK;
}

/* YYYY-MM-DD, or YYYYMMDD when basic is set. */
static enum sw_err scan_date(struct scan *sc, bool basic, struct sw_date *d)
{
	size_t at = sc->pos;

	if (!scan_num(sc, 4, &d->year))
		return scan_fail(sc, sc->pos, "expected 4-digit year");
	if (!basic && !scan_char(sc, '-'))
		return scan_fail(sc, sc->pos, "expected '-' after year");
	at = sc->pos;
	if (!scan_num(sc, 2, &d->month))
		return scan_fail(sc, sc->pos, "expected 2-digit month");
	if (d->month < 1 || d->month > 12)
		return scan_fail(sc, at, "month out of range");
	if (!basic && !scan_char(sc, '-'))
		return scan_fail(sc, sc->pos, "expected '-' after month");
	at = sc->pos;
	if (!scan_num(sc, 2, &d->day))
		return scan_fail(sc, sc->pos, "expected 2-digit day");
	if (d->year < 1)
		return scan_fail(sc, 0, "year 0000 out of range");
	if (d->day < 1 || d->day > days_in_month(d->year, d->month))
		return scan_fail(sc, at, "day out of range for month");
	return SW_OK;
}

struct hms {
	int h, mi, s;
	int32_t nsec;
	bool leap;
};

/* 1..9 fractional digits after the '.' already consumed. */
static enum sw_err scan_frac(struct scan *sc, int32_t *ret_nsec)
{
	size_t start = sc->pos;
	int32_t v = 0;
	int n = 0;

	while (sc->pos < sc->len && is_digit(sc->s[sc->pos])) {
		if (n == 9)
			return scan_fail(sc, sc->pos,
					 "more than 9 fractional digits");
		v = v * 10 + (sc->s[sc->pos] - '0');
		n++;
		sc->pos++;
	}
	if (n == 0)
		return scan_fail(sc, start, "expected digits after '.'");
	for (; n < 9; n++)
		v *= 10;
	*ret_nsec = v;
	return SW_OK;
}

/* HH:MM:SS, or HHMMSS when basic is set; then .F if frac is set. */
static enum sw_err scan_hms(struct scan *sc, bool basic, bool frac,
			    struct hms *t)
{
	size_t at = sc->pos;

	t->nsec = 0;
	t->leap = false;
	if (!scan_num(sc, 2, &t->h))
		return scan_fail(sc, sc->pos, "expected 2-digit hour");
	if (t->h > 23)
		return scan_fail(sc, at, "hour out of range");
	if (!basic && !scan_char(sc, ':'))
		return scan_fail(sc, sc->pos, "expected ':' after hour");
	at = sc->pos;
	if (!scan_num(sc, 2, &t->mi))
		return scan_fail(sc, sc->pos, "expected 2-digit minute");
	if (t->mi > 59)
		return scan_fail(sc, at, "minute out of range");
	if (!basic && !scan_char(sc, ':'))
		return scan_fail(sc, sc->pos, "expected ':' and seconds");
	at = sc->pos;
	if (!scan_num(sc, 2, &t->s))
		return scan_fail(sc, sc->pos, "expected 2-digit second");
	if (t->s > 60)
		return scan_fail(sc, at, "second out of range");
	if (t->s == 60) {
		t->s = 59;
		t->leap = true;
	}
	if (frac && scan_char(sc, '.'))
		return scan_frac(sc, &t->nsec);
	return SW_OK;
}

/* Z, z, +-HH:MM, +-HHMM, +-HH.  Sets *ret_flags to SW_TIME_OFFSET_UNKNOWN
 * for "-00:00" (any spelling), else 0. */
static enum sw_err scan_offset(struct scan *sc, int32_t *ret_off,
			       unsigned *ret_flags)
{
	size_t at = sc->pos;
	int c = scan_peek(sc), h, m = 0;
	int32_t off;

	*ret_flags = 0;
	if (c == 'Z' || c == 'z') {
		sc->pos++;
		*ret_off = 0;
		return SW_OK;
	}
	if (c != '+' && c != '-')
		return scan_fail(sc, sc->pos,
				 "expected offset 'Z' or +/-HH:MM");
	sc->pos++;
	if (!scan_num(sc, 2, &h))
		return scan_fail(sc, sc->pos, "expected 2-digit offset hour");
	if (scan_char(sc, ':')) {
		if (!scan_num(sc, 2, &m))
			return scan_fail(sc, sc->pos,
					 "expected 2-digit offset minute");
	} else if (scan_peek(sc) >= '0' && scan_peek(sc) <= '9') {
		if (!scan_num(sc, 2, &m))
			return scan_fail(sc, sc->pos,
					 "expected 2-digit offset minute");
	}
	if (m > 59)
		return scan_fail(sc, at, "offset minute out of range");
	off = h * 3600 + m * 60;
	if (off > SW_TIME_MAX_OFFSET)
		return scan_fail(sc, at, "offset beyond +-18:00");
	if (c == '-') {
		if (off == 0)
			*ret_flags = SW_TIME_OFFSET_UNKNOWN;
		off = -off;
	}
	*ret_off = off;
	return SW_OK;
}

/* Fills t from a date, a wall clock and (if has_off) an offset. */
static void time_build(const struct sw_date *d, const struct hms *w,
		       bool has_off, int32_t off, unsigned oflags,
		       struct sw_time *t)
{
	int64_t wall = sw_date_to_days(d) * DAY_SEC + w->h * 3600 +
		       w->mi * 60 + w->s;

	t->nsec = w->nsec;
	t->flags = w->leap ? SW_TIME_LEAP_SECOND : 0;
	if (has_off) {
		t->utc_sec = wall - off;
		t->offset_sec = off;
		t->flags |= SW_TIME_HAS_OFFSET | oflags;
	} else {
		t->utc_sec = wall;
		t->offset_sec = 0;
		t->flags |= SW_TIME_ZONE_UNKNOWN;
	}
}

/* The body shared by the public parsers: a date, then optionally the rest
 * of a date-time.  *ret_kind says which was found. */
static enum sw_err scan_any(struct scan *sc, enum sw_time_kind *ret_kind,
			    struct sw_date *d, struct sw_time *t)
{
	struct hms w;
	int32_t off = 0;
	unsigned oflags = 0;
	bool has_off = false;
	enum sw_err rc;
	int c;

	if ((rc = scan_date(sc, false, d)))
		return rc;
	if (sc->pos == sc->len) {
		*ret_kind = SW_TIME_KIND_DATE;
		memset(t, 0, sizeof(*t));
		return SW_OK;
	}
	c = scan_peek(sc);
	if (c != 'T' && c != 't' && c != ' ')
		return scan_fail(sc, sc->pos, "expected 'T' or ' ' after date");
	sc->pos++;
	if ((rc = scan_hms(sc, false, true, &w)))
		return rc;
	if (sc->pos < sc->len) {
		if ((rc = scan_offset(sc, &off, &oflags)))
			return rc;
		has_off = true;
	}
	if ((rc = scan_end(sc)))
		return rc;
	time_build(d, &w, has_off, off, oflags, t);
	*ret_kind = SW_TIME_KIND_DATETIME;
	return SW_OK;
}

enum sw_err sw_time_parse_any(const char *s, enum sw_time_kind *ret_kind,
			      struct sw_date *ret_date,
			      struct sw_time *ret_time, char *errbuf,
			      size_t errlen)
{
	struct scan sc;
	enum sw_err rc;

	if ((rc = scan_init(&sc, s, errbuf, errlen)))
		return rc;
	if (!ret_kind || !ret_date || !ret_time)
		return SW_EINVAL;
	return scan_any(&sc, ret_kind, ret_date, ret_time);
}

enum sw_err sw_time_parse(const char *s, struct sw_time *ret_time,
			  char *errbuf, size_t errlen)
{
	struct scan sc;
	struct sw_date d;
	enum sw_time_kind kind;
	enum sw_err rc;

	if ((rc = scan_init(&sc, s, errbuf, errlen)))
		return rc;
	if (!ret_time)
		return SW_EINVAL;
	if ((rc = scan_any(&sc, &kind, &d, ret_time)))
		return rc;
	if (kind != SW_TIME_KIND_DATETIME)
		return scan_fail(&sc, sc.pos, "date without time");
	return SW_OK;
}

enum sw_err sw_date_parse(const char *s, struct sw_date *ret_date,
			  char *errbuf, size_t errlen)
{
	struct scan sc;
	enum sw_err rc;

	if ((rc = scan_init(&sc, s, errbuf, errlen)))
		return rc;
	if (!ret_date)
		return SW_EINVAL;
	if ((rc = scan_date(&sc, false, ret_date)))
		return rc;
	return scan_end(&sc);
}

/* Scans one field of sw_time_parse_parts(); errors are prefixed with the
 * field's name. */
static enum sw_err parts_field(const char *what, const char *s, bool is_date,
			       struct sw_date *d, struct hms *w, char *errbuf,
			       size_t errlen)
{
	struct scan sc;
	char tmp[80];
	enum sw_err rc;

	rc = scan_init(&sc, s, tmp, sizeof(tmp));
	if (!rc && is_date)
		rc = scan_date(&sc, sc.len == 8, d);
	else if (!rc)
		rc = scan_hms(&sc, sc.len == 6, false, w);
	if (!rc)
		rc = scan_end(&sc);
	if (rc && errbuf && errlen > 0)
		snprintf(errbuf, errlen, "%s %s", what, tmp);
	return rc;
}

enum sw_err sw_time_parse_parts(const char *date, const char *time,
				struct sw_time *ret_time, char *errbuf,
				size_t errlen)
{
	struct sw_date d;
	struct hms w;
	enum sw_err rc;

	if (errbuf && errlen > 0)
		errbuf[0] = '\0';
	if (!ret_time || !date || !time)
		return SW_EINVAL;
	if ((rc = parts_field("date", date, true, &d, NULL, errbuf, errlen)) ||
	    (rc = parts_field("time", time, false, NULL, &w, errbuf, errlen)))
		return rc;
	time_build(&d, &w, false, 0, 0, ret_time);
	return SW_OK;
}

enum sw_err sw_time_parse_offset(const char *s, int32_t *ret_offset_sec,
				 char *errbuf, size_t errlen)
{
	struct scan sc;
	unsigned flags;
	enum sw_err rc;

	if ((rc = scan_init(&sc, s, errbuf, errlen)))
		return rc;
	if (!ret_offset_sec)
		return SW_EINVAL;
	if ((rc = scan_offset(&sc, ret_offset_sec, &flags)))
		return rc;
	return scan_end(&sc);
}

/* ------------------------------------------------------- working with times */

enum sw_err sw_time_assume_offset(struct sw_time *t, int32_t offset_sec)
{
	if (!t || !(t->flags & SW_TIME_ZONE_UNKNOWN))
		return SW_EINVAL;
	if (offset_sec > SW_TIME_MAX_OFFSET || offset_sec < -SW_TIME_MAX_OFFSET)
		return SW_ERANGE;
	t->utc_sec -= offset_sec;
	t->offset_sec = offset_sec;
	t->flags = (t->flags & ~SW_TIME_ZONE_UNKNOWN) | SW_TIME_HAS_OFFSET;
	return SW_OK;
}

void sw_time_date(const struct sw_time *t, struct sw_date *ret_date)
{
	sw_date_from_days(floor_div(t->utc_sec + t->offset_sec, DAY_SEC),
			  ret_date);
}

int sw_time_cmp(const struct sw_time *a, const struct sw_time *b)
{
	if (a->utc_sec != b->utc_sec)
		return a->utc_sec < b->utc_sec ? -1 : 1;
	if (a->nsec != b->nsec)
		return a->nsec < b->nsec ? -1 : 1;
	return 0;
}

/* -------------------------------------------------------------- formatting */

static enum sw_err fmt_done(int n, char *buf, size_t len)
{
	if (n < 0 || (size_t)n >= len) {
		if (len > 0)
			buf[0] = '\0';
		return SW_ETOOBIG;
	}
	return SW_OK;
}

/* Writes wall clock (seconds as if UTC) + fraction + suffix. */
static enum sw_err fmt_wall(int64_t wall, int32_t nsec, const char *suffix,
			    char *buf, size_t len)
{
	int64_t days = floor_div(wall, DAY_SEC), sod = floor_mod(wall, DAY_SEC);
	char frac[11] = "";
	int64_t y;
	int m, d, n;

	if (!buf)
		return SW_EINVAL;
	civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999) {
		if (len > 0)
			buf[0] = '\0';
		return SW_ERANGE;
	}
	if (nsec > 0 && nsec < 1000000000) {
		snprintf(frac, sizeof(frac), ".%09" PRId32, nsec);
		for (n = 9; frac[n] == '0'; n--)
			frac[n] = '\0';
	}
	n = snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d%s%s", (int)y, m,
		     d, (int)(sod / 3600), (int)(sod / 60 % 60),
		     (int)(sod % 60), frac, suffix);
	return fmt_done(n, buf, len);
}

enum sw_err sw_time_format_utc(const struct sw_time *t, char *buf,
			       size_t len)
{
	if (!t || (t->flags & SW_TIME_ZONE_UNKNOWN)) {
		if (buf && len > 0)
			buf[0] = '\0';
		return SW_EINVAL;
	}
	return fmt_wall(t->utc_sec, t->nsec, "Z", buf, len);
}

enum sw_err sw_time_format(const struct sw_time *t, char *buf, size_t len)
{
	char off[8] = "";
	int32_t a;

	if (!t)
		return SW_EINVAL;
	if (t->utc_sec < TZ_T_MIN || t->utc_sec > TZ_T_MAX) {
		if (buf && len > 0)
			buf[0] = '\0';
		return SW_ERANGE;
	}
	if (t->flags & SW_TIME_ZONE_UNKNOWN)
		return fmt_wall(t->utc_sec, t->nsec, "", buf, len);
	if (t->flags & SW_TIME_OFFSET_UNKNOWN) {
		snprintf(off, sizeof(off), "-00:00");
	} else if (t->offset_sec == 0) {
		snprintf(off, sizeof(off), "Z");
	} else {
		a = t->offset_sec < 0 ? -t->offset_sec : t->offset_sec;
		snprintf(off, sizeof(off), "%c%02d:%02d",
			 t->offset_sec < 0 ? '-' : '+', (int)(a / 3600 % 100),
			 (int)(a / 60 % 60));
	}
	return fmt_wall(t->utc_sec + t->offset_sec, t->nsec, off, buf, len);
}

enum sw_err sw_date_format(const struct sw_date *d, char *buf, size_t len)
{
	if (!d || !buf)
		return SW_EINVAL;
	if (d->year < 0 || d->year > 9999 || d->month < 1 || d->month > 12 ||
	    d->day < 1 || d->day > 31) {
		if (len > 0)
			buf[0] = '\0';
		return SW_ERANGE;
	}
	return fmt_done(snprintf(buf, len, "%04d-%02d-%02d", d->year,
				 d->month, d->day),
			buf, len);
}

/* ------------------------------------------------------------ POSIX TZ rule */

struct tz_rule_day {
	char kind;    /* 'J' (1..365, no Feb 29), 'N' (0..365), 'M' */
	int n;        /* day for J and N */
	int m, w, d;  /* month, week 1..5 (5 = last), weekday 0..6 for M */
	int32_t secs; /* local time of day of the change; may be <0 or >24h */
};

struct tz_rule {
	int32_t std_off, dst_off; /* seconds east of UTC */
	bool has_dst;
	char std_name[TZ_ABBR_MAX], dst_name[TZ_ABBR_MAX];
	struct tz_rule_day start, end;
};

static bool ascii_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A zone abbreviation: 3+ letters, or <...> of letters, digits, + and -. */
static const char *rule_name(const char *p, char *out)
{
	const char *start;
	size_t n;

	if (*p == '<') {
		start = ++p;
		while (ascii_alpha(*p) || is_digit(*p) || *p == '+' ||
		       *p == '-')
			p++;
		if (*p != '>')
			return NULL;
		n = (size_t)(p++ - start);
	} else {
		start = p;
		while (ascii_alpha(*p))
			p++;
		n = (size_t)(p - start);
	}
	if (n < 3)
		return NULL;
	if (n >= TZ_ABBR_MAX)
		n = TZ_ABBR_MAX - 1;
	memcpy(out, start, n);
	out[n] = '\0';
	return p;
}

/* Up to 3 digits, at most max. */
static const char *rule_uint(const char *p, int max, int *ret)
{
	int v = 0, n = 0;

	while (n < 3 && is_digit(*p)) {
		v = v * 10 + (*p++ - '0');
		n++;
	}
	if (n == 0 || v > max)
		return NULL;
	*ret = v;
	return p;
}

/* [+-]h[h[h]][:mm[:ss]], hours at most maxh. */
static const char *rule_hms(const char *p, int maxh, int32_t *ret)
{
	int sign = 1, h, m = 0, s = 0;

	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	if (!(p = rule_uint(p, maxh, &h)))
		return NULL;
	if (*p == ':') {
		if (!(p = rule_uint(p + 1, 59, &m)))
			return NULL;
		if (*p == ':' && !(p = rule_uint(p + 1, 59, &s)))
			return NULL;
	}
	*ret = sign * (h * 3600 + m * 60 + s);
	return p;
}

static const char *rule_day(const char *p, struct tz_rule_day *r)
{
	r->secs = 7200;
	if (*p == 'J') {
		r->kind = 'J';
		if (!(p = rule_uint(p + 1, 365, &r->n)) || r->n < 1)
			return NULL;
	} else if (*p == 'M') {
		r->kind = 'M';
		if (!(p = rule_uint(p + 1, 12, &r->m)) || r->m < 1 || *p != '.')
			return NULL;
		if (!(p = rule_uint(p + 1, 5, &r->w)) || r->w < 1 || *p != '.')
			return NULL;
		if (!(p = rule_uint(p + 1, 6, &r->d)))
			return NULL;
	} else {
		r->kind = 'N';
		if (!(p = rule_uint(p, 365, &r->n)))
			return NULL;
	}
	if (*p == '/' && !(p = rule_hms(p + 1, 167, &r->secs)))
		return NULL;
	return p;
}

/* Parses a TZif footer such as "EST5EDT,M3.2.0,M11.1.0" or "<+0530>-5:30".
 * Returns false if malformed. */
static bool rule_parse(const char *s, struct tz_rule *r)
{
	const char *p = s;
	int32_t v;

	memset(r, 0, sizeof(*r));
	if (!(p = rule_name(p, r->std_name)) || !(p = rule_hms(p, 24, &v)))
		return false;
	r->std_off = -v;
	if (*p == '\0')
		return true;
	r->has_dst = true;
	if (!(p = rule_name(p, r->dst_name)))
		return false;
	r->dst_off = r->std_off + 3600;
	if (*p != ',' && *p != '\0') {
		if (!(p = rule_hms(p, 24, &v)))
			return false;
		r->dst_off = -v;
	}
	if (*p == '\0') {
		/* POSIX leaves this to the implementation; glibc uses the US
		 * rules.  TZif footers always spell the rule out. */
		return rule_day("M3.2.0", &r->start) &&
		       rule_day("M11.1.0", &r->end);
	}
	if (*p != ',' || !(p = rule_day(p + 1, &r->start)) || *p != ',' ||
	    !(p = rule_day(p + 1, &r->end)))
		return false;
	return *p == '\0';
}

/* Local seconds (wall clock as if UTC) at which rule day r happens in y. */
static int64_t rule_local(const struct tz_rule_day *r, int64_t y)
{
	int64_t day, d1;

	if (r->kind == 'J') {
		day = days_from_civil(y, 1, 1) + r->n - 1 +
		      (is_leap(y) && r->n >= 60);
	} else if (r->kind == 'N') {
		day = days_from_civil(y, 1, 1) + r->n;
	} else {
		d1 = days_from_civil(y, r->m, 1);
		day = d1 + floor_mod(r->d - floor_mod(d1 + 4, 7), 7) +
		      7 * (r->w - 1);
		while (day >= d1 + days_in_month(y, r->m))
			day -= 7;
	}
	return day * DAY_SEC + r->secs;
}

struct tz_info {
	int32_t off;
	bool isdst;
	char abbr[TZ_ABBR_MAX];
};

/* The latest rule change at or before t among the years around t; a DST
 * start wins a tie with a DST end (all-year DST rules). */
static void rule_lookup(const struct tz_rule *r, int64_t t,
			struct tz_info *ret)
{
	int64_t y, best = 0, ev;
	bool found = false, dst = false;
	int m, d;

	if (r->has_dst) {
		civil_from_days(floor_div(t + r->std_off, DAY_SEC), &y, &m, &d);
		for (int64_t yy = y - 1; yy <= y + 1; yy++) {
			ev = rule_local(&r->end, yy) - r->dst_off;
			if (ev <= t && (!found || ev > best)) {
				best = ev;
				dst = false;
				found = true;
			}
			ev = rule_local(&r->start, yy) - r->std_off;
			if (ev <= t && (!found || ev >= best)) {
				best = ev;
				dst = true;
				found = true;
			}
		}
	}
	ret->isdst = dst;
	ret->off = dst ? r->dst_off : r->std_off;
	snprintf(ret->abbr, sizeof(ret->abbr), "%s",
		 dst ? r->dst_name : r->std_name);
}

/* ------------------------------------------------------------- TZif reader */

struct tz_type {
	int32_t off;
	bool isdst;
	uint8_t abbr; /* index into chars, validated NUL-terminated */
};

struct tz_zone {
	char *path;           /* cache key */
	char *zone, *dir;     /* the name and TZDIR it was loaded under */
	struct tz_zone *next;
	size_t timecnt, typecnt;
	int64_t *trans;       /* ascending transition instants */
	uint8_t *idx;         /* type index per transition */
	struct tz_type *types;
	char *chars;          /* abbreviations */
	bool has_rule;        /* footer present and non-empty */
	struct tz_rule rule;
};

struct tz_hdr {
	char version;
	uint32_t isut, isstd, leap, time, type, chr;
};

static struct tz_zone *tz_cache;

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static bool tz_hdr_read(const unsigned char *p, size_t n, size_t at,
			struct tz_hdr *h)
{
	if (n < 44 || at > n - 44 || memcmp(p + at, "TZif", 4) != 0)
		return false;
	p += at;
	h->version = (char)p[4];
	h->isut = be32(p + 20);
	h->isstd = be32(p + 24);
	h->leap = be32(p + 28);
	h->time = be32(p + 32);
	h->type = be32(p + 36);
	h->chr = be32(p + 40);
	return true;
}

/* Bytes of the data block after a header, for tsz-byte times. */
static uint64_t tz_block_size(const struct tz_hdr *h, unsigned tsz)
{
	return (uint64_t)h->time * (tsz + 1) + (uint64_t)h->type * 6 + h->chr +
	       (uint64_t)h->leap * (tsz + 4) + h->isstd + h->isut;
}

static bool tz_hdr_sane(const struct tz_hdr *h)
{
	return h->type >= 1 && h->type <= TZ_TYPES_MAX && h->chr >= 1 &&
	       h->chr <= 4096 && h->time <= TZ_TIMES_MAX &&
	       (h->isstd == 0 || h->isstd == h->type) &&
	       (h->isut == 0 || h->isut == h->type);
}

/* Reads the arrays of one data block into z and validates them. */
static const char *tz_block_read(const unsigned char *p, const struct tz_hdr *h,
				 unsigned tsz, struct tz_zone *z)
{
	const unsigned char *ti = p + (size_t)h->time * tsz;
	const unsigned char *tt = ti + h->time;
	const unsigned char *ch = tt + (size_t)h->type * 6;

	z->timecnt = h->time;
	z->typecnt = h->type;
	z->trans = xreallocarray(NULL, h->time ? h->time : 1, sizeof(int64_t));
	z->idx = xmalloc(h->time ? h->time : 1);
	z->types = xreallocarray(NULL, h->type, sizeof(*z->types));
	z->chars = xmalloc(h->chr);
	memcpy(z->chars, ch, h->chr);
	for (size_t i = 0; i < h->time; i++) {
		z->trans[i] = tsz == 8 ? be64(p + i * 8)
				       : (int32_t)be32(p + i * 4);
		z->idx[i] = ti[i];
		if (z->idx[i] >= h->type)
			return "transition type index out of range";
		if (i > 0 && z->trans[i] <= z->trans[i - 1])
			return "transitions not ascending";
	}
	for (size_t i = 0; i < h->type; i++) {
		const unsigned char *e = tt + i * 6;
		z->types[i].off = (int32_t)be32(e);
		z->types[i].isdst = e[4] != 0;
		z->types[i].abbr = e[5];
		if (z->types[i].off <= -89999 - 1 || z->types[i].off > 93599 ||
		    e[4] > 1)
			return "bad local time type";
		if (e[5] >= h->chr || !memchr(ch + e[5], '\0', h->chr - e[5]))
			return "bad abbreviation index";
	}
	return NULL;
}

/* Parses TZif data n bytes long into z.  Returns NULL or the reason. */
static const char *tz_parse(const unsigned char *p, size_t n, struct tz_zone *z)
{
	struct tz_hdr h;
	uint64_t size, at = 44;
	unsigned tsz = 4;
	const unsigned char *nl;
	const char *why;
	char footer[128];

	if (!tz_hdr_read(p, n, 0, &h))
		return "not a TZif file";
	if (h.version != 0 && (h.version < '2' || h.version > '9'))
		return "unknown TZif version";
	if (h.version >= '2') {
		at = 44 + tz_block_size(&h, 4);
		if (at > n || !tz_hdr_read(p, n, at, &h))
			return "truncated TZif v1 block";
		at += 44;
		tsz = 8;
	}
	if (!tz_hdr_sane(&h))
		return "bad TZif counts";
	if (h.leap != 0)
		return "leap-second (right/) zones are not supported";
	size = tz_block_size(&h, tsz);
	if (size > n - at)
		return "truncated TZif data";
	if ((why = tz_block_read(p + at, &h, tsz, z)))
		return why;
	if (tsz == 4)
		return NULL;
	at += size;
	if (at >= n || p[at] != '\n' ||
	    !(nl = memchr(p + at + 1, '\n', n - at - 1)) || nl != p + n - 1)
		return "bad TZif footer";
	size = (uint64_t)(nl - (p + at + 1));
	if (size >= sizeof(footer) || memchr(p + at + 1, '\0', size))
		return "bad TZif footer";
	memcpy(footer, p + at + 1, size);
	footer[size] = '\0';
	z->has_rule = size > 0;
	if (z->has_rule && !rule_parse(footer, &z->rule))
		return "bad TZ rule in TZif footer";
	return NULL;
}

static void tz_free(struct tz_zone *z)
{
	if (!z)
		return;
	free(z->path);
	free(z->zone);
	free(z->dir);
	free(z->trans);
	free(z->idx);
	free(z->types);
	free(z->chars);
	free(z);
}

static enum sw_err tz_read_file(const char *path, unsigned char **ret_data,
				size_t *ret_len)
{
	struct stat st;
	unsigned char *data;
	size_t got = 0;
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT || errno == ENOTDIR ? SW_ENOTFOUND
							   : SW_EIO;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return SW_EIO;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > TZ_FILE_MAX) {
		close(fd);
		return S_ISREG(st.st_mode) ? SW_EPARSE : SW_ENOTFOUND;
	}
	data = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		r = read(fd, data + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (got != (size_t)st.st_size) {
		free(data);
		return SW_EIO;
	}
	*ret_data = data;
	*ret_len = got;
	return SW_OK;
}

/* Name rules from the header; builds the full path into path. */
/* The zone directory: $TZDIR, or the system's. */
static const char *tz_dir(void)
{
	const char *dir = getenv("TZDIR");

	return dir && *dir ? dir : TZ_DEFAULT_DIR;
}

static enum sw_err tz_path(const char *zone, char *path, size_t len)
{
	const char *dir = tz_dir();
	size_t n;
	int w;

	if (!zone)
		return SW_EINVAL;
	n = strnlen(zone, TZ_NAME_MAX + 1);
	if (n == 0 || n > TZ_NAME_MAX)
		return SW_EINVAL;
	for (size_t i = 0; i < n; i++) {
		char c = zone[i];
		bool comp_start = i == 0 || zone[i - 1] == '/';
		if (c == '/' && (comp_start || i == n - 1))
			return SW_EINVAL;
		if (c == '.' && comp_start)
			return SW_EINVAL;
		if (!ascii_alpha(c) && !is_digit(c) && !strchr("._+-/", c))
			return SW_EINVAL;
	}
	/* Host configuration, not zones: "localtime" is the server's zone. */
	if (strcmp(zone, "localtime") == 0 || strcmp(zone, "posixrules") == 0)
		return SW_EINVAL;
	w = snprintf(path, len, "%s/%s", dir, zone);
	return w < 0 || (size_t)w >= len ? SW_EINVAL : SW_OK;
}

/* Moves the cache entry *pp to the front; returns it. */
static struct tz_zone *tz_front(struct tz_zone **pp)
{
	struct tz_zone *z = *pp;

	*pp = z->next;
	z->next = tz_cache;
	tz_cache = z;
	return z;
}

/* Finds or loads zone; the result stays owned by the cache. */
static enum sw_err tz_get(const char *zone, struct tz_zone **ret)
{
	char path[PATH_MAX];
	struct tz_zone **pp, *z;
	const char *dir;
	unsigned char *data;
	size_t len;
	enum sw_err rc;

	/* A zone already loaded under this TZDIR, by name: no path to build
	 * (the evaluation pass asks once per parcel). */
	dir = tz_dir();
	for (pp = &tz_cache; zone && *pp; pp = &(*pp)->next) {
		if (strcmp((*pp)->zone, zone) == 0 && strcmp((*pp)->dir, dir) == 0) {
			*ret = tz_front(pp);
			return SW_OK;
		}
	}
	if ((rc = tz_path(zone, path, sizeof(path))))
		return rc;
	for (pp = &tz_cache; *pp; pp = &(*pp)->next) {
		if (strcmp((*pp)->path, path) == 0) {
			*ret = tz_front(pp);
			return SW_OK;
		}
	}
	if ((rc = tz_read_file(path, &data, &len)))
		return rc;
	z = xcalloc(1, sizeof(*z));
	if (tz_parse(data, len, z)) {
		free(data);
		tz_free(z);
		return SW_EPARSE;
	}
	free(data);
	z->path = xstrdup(path);
	z->zone = xstrdup(zone);
	z->dir = xstrdup(dir);
	z->next = tz_cache;
	tz_cache = z;
	*ret = z;
	return SW_OK;
}

void sw_tz_cache_clear(void)
{
	struct tz_zone *z;

	while ((z = tz_cache)) {
		tz_cache = z->next;
		tz_free(z);
	}
}

static void tz_type_info(const struct tz_zone *z, size_t i, struct tz_info *ret)
{
	ret->off = z->types[i].off;
	ret->isdst = z->types[i].isdst;
	snprintf(ret->abbr, sizeof(ret->abbr), "%s",
		 z->chars + z->types[i].abbr);
}

static void tz_lookup(const struct tz_zone *z, int64_t t, struct tz_info *ret)
{
	size_t lo = 0, hi = z->timecnt, mid;

	if (z->timecnt == 0 || t >= z->trans[z->timecnt - 1]) {
		if (z->has_rule)
			rule_lookup(&z->rule, t, ret);
		else
			tz_type_info(z, z->timecnt ? z->idx[z->timecnt - 1] : 0,
				     ret);
		return;
	}
	if (t < z->trans[0]) {
		tz_type_info(z, 0, ret);
		return;
	}
	/* Largest i with trans[i] <= t: trans[lo] <= t < trans[hi]. */
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (z->trans[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	tz_type_info(z, z->idx[lo], ret);
}

static int32_t tz_off(const struct tz_zone *z, int64_t t)
{
	struct tz_info info;

	tz_lookup(z, t, &info);
	return info.off;
}

/* ----------------------------------------------------------- zone functions */


enum sw_err sw_tz_check(const char *zone)
{
	struct tz_zone *z;

	return tz_get(zone, &z);
}

bool sw_tz_valid(const char *zone)
{
	return sw_tz_check(zone) == SW_OK;
}

enum sw_err sw_tz_utc_to_local(const char *zone, int64_t utc_sec,
			       struct sw_tz_local *ret_local)
{
	struct tz_zone *z;
	struct tz_info info;
	int64_t wall, days, sod;
	enum sw_err rc;

	if (!ret_local)
		return SW_EINVAL;
	if ((rc = tz_get(zone, &z)))
		return rc;
	if (utc_sec < TZ_T_MIN || utc_sec > TZ_T_MAX)
		return SW_ERANGE;
	tz_lookup(z, utc_sec, &info);
	wall = utc_sec + info.off;
	days = floor_div(wall, DAY_SEC);
	sod = floor_mod(wall, DAY_SEC);
	sw_date_from_days(days, &ret_local->date);
	ret_local->hour = (int)(sod / 3600);
	ret_local->min = (int)(sod / 60 % 60);
	ret_local->sec = (int)(sod % 60);
	ret_local->wday = (int)floor_mod(days + 4, 7);
	ret_local->offset_sec = info.off;
	ret_local->isdst = info.isdst;
	memcpy(ret_local->abbr, info.abbr, sizeof(ret_local->abbr));
	return SW_OK;
}

/* Wall clock wall (seconds as if UTC) to an instant; see the header.  For a
 * gap, *ret_trans (if not NULL) gets the transition instant. */
static void tz_resolve(const struct tz_zone *z, int64_t wall, unsigned flags,
		       int64_t *ret_utc, unsigned *ret_info,
		       int64_t *ret_trans)
{
	int32_t ob = tz_off(z, wall - DAY_SEC), oa = tz_off(z, wall + DAY_SEC);
	int64_t cb = wall - ob, ca = wall - oa, lo, hi, mid;
	bool vb = tz_off(z, cb) == ob, va = tz_off(z, ca) == oa;

	*ret_info = 0;
	if (vb && va && cb != ca) {
		*ret_info = SW_TZ_OVERLAP;
		*ret_utc = (flags & SW_TZ_LATER) ? (cb > ca ? cb : ca)
						 : (cb < ca ? cb : ca);
		return;
	}
	if (vb || va) {
		*ret_utc = vb ? cb : ca;
		return;
	}
	*ret_info = SW_TZ_GAP;
	*ret_utc = (flags & SW_TZ_LATER) ? ca : cb;
	if (!ret_trans)
		return;
	/* The change lies in (ca, cb]: offset ob before it, oa from it. */
	lo = ca < cb ? ca : cb;
	hi = ca < cb ? cb : ca;
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (tz_off(z, mid) == tz_off(z, lo))
			lo = mid;
		else
			hi = mid;
	}
	*ret_trans = hi;
}

enum sw_err sw_tz_local_to_utc(const char *zone, int year, int month,
			       int day, int hour, int min, int sec,
			       unsigned flags, int64_t *ret_utc,
			       unsigned *ret_info)
{
	struct tz_zone *z;
	int64_t wall;
	unsigned info;
	enum sw_err rc;

	if (!ret_utc)
		return SW_EINVAL;
	if ((rc = tz_get(zone, &z)))
		return rc;
	if ((rc = sw_time_from_utc_fields(year, month, day, hour, min, sec,
					  &wall)))
		return rc;
	tz_resolve(z, wall, flags, ret_utc, &info, NULL);
	if (ret_info)
		*ret_info = info;
	return SW_OK;
}

enum sw_err sw_time_resolve_zone(struct sw_time *t, const char *zone,
				 unsigned tz_flags)
{
	struct tz_zone *z;
	int64_t utc;
	unsigned info;
	enum sw_err rc;

	if (!t || !(t->flags & SW_TIME_ZONE_UNKNOWN))
		return SW_EINVAL;
	if ((rc = tz_get(zone, &z)))
		return rc;
	if (t->utc_sec < TZ_T_MIN || t->utc_sec > TZ_T_MAX)
		return SW_ERANGE;
	tz_resolve(z, t->utc_sec, tz_flags, &utc, &info, NULL);
	t->utc_sec = utc;
	t->offset_sec = tz_off(z, utc);
	t->flags &= ~SW_TIME_ZONE_UNKNOWN;
	t->flags |= SW_TIME_HAS_OFFSET | SW_TIME_FROM_ZONE;
	if (info & SW_TZ_GAP)
		t->flags |= SW_TIME_NONEXISTENT;
	if (info & SW_TZ_OVERLAP)
		t->flags |= SW_TIME_AMBIGUOUS;
	return SW_OK;
}

/* First instant of the local day that begins days after the epoch. */
static int64_t tz_day_start(const struct tz_zone *z, int64_t days)
{
	int64_t utc, trans = 0;
	unsigned info;

	tz_resolve(z, days * DAY_SEC, 0, &utc, &info, &trans);
	return (info & SW_TZ_GAP) ? trans : utc;
}

enum sw_err sw_tz_start_of_day(const char *zone, const struct sw_date *date,
			       int64_t *ret_utc)
{
	struct tz_zone *z;
	enum sw_err rc;

	if (!ret_utc || !date)
		return SW_EINVAL;
	if ((rc = tz_get(zone, &z)))
		return rc;
	if (!sw_date_valid(date))
		return SW_ERANGE;
	*ret_utc = tz_day_start(z, sw_date_to_days(date));
	return SW_OK;
}

enum sw_err sw_date_end_of_day(const char *zone, const struct sw_date *date,
			       int64_t *ret_utc)
{
	struct tz_zone *z;
	enum sw_err rc;

	if (!ret_utc || !date)
		return SW_EINVAL;
	if ((rc = tz_get(zone, &z)))
		return rc;
	if (!sw_date_valid(date))
		return SW_ERANGE;
	*ret_utc = tz_day_start(z, sw_date_to_days(date) + 1) - 1;
	return SW_OK;
}
