/*
 * swtime.h - timestamps, calendar dates and IANA time zones.
 *
 * Couriers and warehouses write times in many shapes (doc/couriers.md,
 * "Rules for every adapter"): RFC 3339 with an offset, wall clock with no zone, 9
 * fractional digits, a space instead of 'T', dates that are calendar days.
 * struct sw_time keeps what was written: the offset if there was one, or a
 * flag saying there was none, in which case utc_sec is only a wall clock.
 * struct sw_date is a calendar day and is never shifted through UTC.
 *
 * Zones are read from TZif files ($TZDIR, else /usr/share/zoneinfo) by our
 * own reader, including the POSIX TZ footer for instants after the last
 * transition (Debian's "slim" files rely on it; fat files stop at 2037).
 * Unknown zone names are an error, never silently UTC as with glibc.  The
 * process's TZ and local zone are never used.
 *
 * Thread safety: parsing, formatting and calendar functions are pure and
 * safe anywhere.  The sw_tz_* functions share an unsynchronised cache of
 * loaded zones: call them from one thread only (slipwatch daemons are
 * single-threaded, one event loop).
 */
#ifndef SW_SWTIME_H
#define SW_SWTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"

/* A calendar date as written.  Valid dates have year 1..9999. */
struct sw_date {
	int year;  /* 1..9999 */
	int month; /* 1..12 */
	int day;   /* 1..28/29/30/31 */
};

/* sw_time.flags.  A parsed value has exactly one of the first two. */
#define SW_TIME_HAS_OFFSET 0x01      /* an offset (or Z) was present:
					utc_sec is the true instant */
#define SW_TIME_ZONE_UNKNOWN 0x02    /* no offset: utc_sec is the wall clock
					as if it were UTC; not an instant
					until resolved (sw_time_resolve_zone,
					sw_time_assume_offset) */
#define SW_TIME_LEAP_SECOND 0x04     /* written second was 60; stored as 59 */
#define SW_TIME_OFFSET_UNKNOWN 0x08  /* written "-00:00": the UTC instant is
					known, the local offset is not
					(RFC 3339 4.3); offset_sec is 0 */
#define SW_TIME_FROM_ZONE 0x10       /* offset came from resolving a zone
					name, not from the text */
#define SW_TIME_NONEXISTENT 0x20     /* resolved wall clock was in a DST gap */
#define SW_TIME_AMBIGUOUS 0x40       /* resolved wall clock was in an overlap */

struct sw_time {
	int64_t utc_sec;    /* seconds since 1970-01-01T00:00:00Z (or wall
			       clock, see SW_TIME_ZONE_UNKNOWN) */
	int32_t nsec;       /* 0..999999999 */
	int32_t offset_sec; /* written offset east of UTC; 0 if none */
	unsigned flags;     /* SW_TIME_* */
};

/* What sw_time_parse_any() found. */
enum sw_time_kind {
	SW_TIME_KIND_DATE,     /* "YYYY-MM-DD" */
	SW_TIME_KIND_DATETIME, /* a date-time, with or without offset */
	SW_TIME_KIND_LAST
};

/* Longest input the parsers look at; longer input is SW_EPARSE. */
#define SW_TIME_MAX_INPUT 64
/* Buffer sizes that always suffice for the formatters (with the NUL). */
#define SW_TIME_STRLEN 40
#define SW_DATE_STRLEN 11
/* Largest offset accepted anywhere: +-18:00 (as java.time). */
#define SW_TIME_MAX_OFFSET (18 * 3600)

/*
 * Parsing.  All parsers are strict: no leading or trailing whitespace or
 * other bytes, exact digit counts, month 1..12, day valid for the month
 * (leap years per the Gregorian rules), hour 0..23 (24:00:00 rejected),
 * minute 0..59, second 0..60 (60, a leap second, is stored as 59 with
 * SW_TIME_LEAP_SECOND), year 0001..9999, 1..9 fractional digits (10 or more
 * rejected, never rounded).  Accepted date-time shape:
 *   YYYY-MM-DD ('T' | 't' | ' ') HH:MM:SS [.F{1,9}] [offset]
 * offset is 'Z', 'z', or +/-HH:MM, +/-HHMM, +/-HH within +-18:00 (minutes
 * 0..59); "-00:00" sets SW_TIME_OFFSET_UNKNOWN.  Without an offset the
 * result has SW_TIME_ZONE_UNKNOWN.  HH:MM without seconds is rejected.
 *
 * On failure they return the code given, leave *ret_* unspecified and, if
 * errbuf is not NULL and errlen > 0, write "at offset N: reason" there
 * (N counts bytes from 0).  NULL s or ret pointer gives SW_EINVAL.
 * They allocate nothing and may be called anywhere.
 */

/* Parses a date-time (a date alone is SW_EPARSE).  SW_OK or SW_EPARSE. */
enum sw_err sw_time_parse(const char *s, struct sw_time *ret_time,
			  char *errbuf, size_t errlen);

/* Parses a date "YYYY-MM-DD" (anything more is SW_EPARSE).  SW_OK or
 * SW_EPARSE. */
enum sw_err sw_date_parse(const char *s, struct sw_date *ret_date,
			  char *errbuf, size_t errlen);

/* Parses a date or a date-time (promised_delivery_by, expected delivery).
 * *ret_kind tells which.  *ret_date is always set: the date itself, or the
 * date of a date-time as written (before any conversion to UTC, so
 * "2024-08-15T00:00:00-06:00" gives 2024-08-15; doc/couriers.md).
 * *ret_time is set only for SW_TIME_KIND_DATETIME (zeroed otherwise).
 * SW_OK or SW_EPARSE. */
enum sw_err sw_time_parse_any(const char *s, enum sw_time_kind *ret_kind,
			      struct sw_date *ret_date,
			      struct sw_time *ret_time, char *errbuf,
			      size_t errlen);

/* Parses a date and a time given in separate fields (UPS activity date /
 * time, gmtDate / gmtTime).  date is "YYYYMMDD" or "YYYY-MM-DD"; time is
 * "HHMMSS" or "HH:MM:SS" (no fraction, no offset).  The result has
 * SW_TIME_ZONE_UNKNOWN: apply sw_time_assume_offset() (0 for UPS gmt*
 * fields) or sw_time_resolve_zone().  SW_OK or SW_EPARSE (errbuf offsets
 * count from the start of the field named in the text). */
enum sw_err sw_time_parse_parts(const char *date, const char *time,
				struct sw_time *ret_time, char *errbuf,
				size_t errlen);

/* Parses a lone offset: "Z", "z", "+05:30", "-0500", "+05" (UPS gmtOffset).
 * *ret_offset_sec is seconds east of UTC.  SW_OK or SW_EPARSE. */
enum sw_err sw_time_parse_offset(const char *s, int32_t *ret_offset_sec,
				 char *errbuf, size_t errlen);

/*
 * Working with sw_time values.
 */

/* Turns a SW_TIME_ZONE_UNKNOWN wall clock into an instant, taking it to be
 * at offset_sec east of UTC: sets SW_TIME_HAS_OFFSET and offset_sec.
 * SW_EINVAL if t already has an offset, SW_ERANGE if |offset_sec| exceeds
 * SW_TIME_MAX_OFFSET; t is unchanged on error. */
enum sw_err sw_time_assume_offset(struct sw_time *t, int32_t offset_sec);

/* Turns a SW_TIME_ZONE_UNKNOWN wall clock into an instant by reading it in
 * the IANA zone (see sw_tz_local_to_utc() for gaps, overlaps and flags).
 * Sets SW_TIME_HAS_OFFSET | SW_TIME_FROM_ZONE, offset_sec (the zone's offset
 * at the resulting instant) and SW_TIME_NONEXISTENT / SW_TIME_AMBIGUOUS if
 * they applied.  A leap second is kept at :59.  Returns as
 * sw_tz_local_to_utc(), plus SW_EINVAL if t already has an offset; t is
 * unchanged on error.  Uses the zone cache (one thread only). */
enum sw_err sw_time_resolve_zone(struct sw_time *t, const char *zone,
				 unsigned tz_flags);

/* The calendar date as written (the wall clock's date, at the written
 * offset, or of the bare wall clock if the zone is unknown). */
void sw_time_date(const struct sw_time *t, struct sw_date *ret_date);

/* Orders two instants by utc_sec then nsec: <0, 0, >0.  Meaningful only
 * for values with SW_TIME_HAS_OFFSET. */
int sw_time_cmp(const struct sw_time *a, const struct sw_time *b);

/* Builds a UTC instant from UTC calendar fields (second 0..59).  SW_OK or
 * SW_ERANGE for an invalid field or a year outside 1..9999. */
enum sw_err sw_time_from_utc_fields(int year, int month, int day, int hour,
				    int min, int sec, int64_t *ret_utc);

/*
 * Formatting.  Each writes a NUL-terminated string into buf and returns
 * SW_OK, SW_ETOOBIG if len is too small (buf then holds "" if len > 0), or
 * SW_ERANGE if the year to print is outside 0000..9999 (or utc_sec is far
 * outside it: only values made by this module are meaningful).
 * Fractional digits are printed only when nsec != 0, without trailing
 * zeros.
 */

/* The instant in UTC: "2026-11-24T03:45:00Z".  Also SW_EINVAL for a
 * SW_TIME_ZONE_UNKNOWN value (it is not an instant). */
enum sw_err sw_time_format_utc(const struct sw_time *t, char *buf,
			       size_t len);

/* The value as written: "2026-11-24T09:15:00+05:30"; offset 0 prints "Z",
 * SW_TIME_OFFSET_UNKNOWN "-00:00", and a SW_TIME_ZONE_UNKNOWN value has no
 * offset ("2018-03-02T07:53:47").  Re-parsing gives the same value (the raw
 * text is the caller's to keep; a leap second prints as :59). */
enum sw_err sw_time_format(const struct sw_time *t, char *buf, size_t len);

/* "YYYY-MM-DD". */
enum sw_err sw_date_format(const struct sw_date *d, char *buf, size_t len);

/*
 * Calendar arithmetic (proleptic Gregorian, no dependence on timegm or the
 * process zone; valid far beyond 1..9999).
 */

/* true if d is a real date with year 1..9999. */
bool sw_date_valid(const struct sw_date *d);

/* Days since 1970-01-01 (negative before).  d need not be valid. */
int64_t sw_date_to_days(const struct sw_date *d);

/* The date days after 1970-01-01. */
void sw_date_from_days(int64_t days, struct sw_date *ret_date);

/* *ret_date = d + n days (n may be negative). */
void sw_date_add_days(const struct sw_date *d, int64_t n,
		      struct sw_date *ret_date);

/* Orders two dates: <0, 0, >0. */
int sw_date_cmp(const struct sw_date *a, const struct sw_date *b);

/*
 * Time zones.  zone is an IANA name ("Asia/Kolkata"): letters, digits and
 * "._+-" in '/'-separated components, none empty or starting with '.'
 * (so no absolute paths and no ".."), at most 255 bytes; "localtime" and
 * "posixrules" (host configuration, not zones) are refused.  The file must be
 * a well-formed TZif file without leap-second records (the "right/" zones
 * are refused).  Zones are loaded on first use and cached until
 * sw_tz_cache_clear(); the cache key is the full path, so changing $TZDIR
 * takes effect for zones not yet loaded from the new directory.
 *
 * Error codes shared by the functions below: SW_EINVAL for a NULL or
 * unacceptable name, SW_ENOTFOUND if no such regular file, SW_EPARSE if the
 * file is not usable TZif, SW_EIO if it could not be read, SW_ERANGE for an
 * instant or wall clock out of range (years about 1..9999).
 */

/* Broken-down local time in a zone. */
struct sw_tz_local {
	struct sw_date date;
	int hour, min, sec;
	int wday;           /* 0 = Sunday .. 6 */
	int32_t offset_sec; /* UTC offset in effect, east positive */
	bool isdst;
	char abbr[16];      /* "IST", "EDT", "+0530"...; may be truncated */
};

/* sw_tz_local_to_utc() flags. */
#define SW_TZ_LATER 0x01 /* overlap: the later instant; gap: the offset
			    after the transition (Python fold=1) */

/* sw_tz_local_to_utc() *ret_info bits. */
#define SW_TZ_GAP 0x01     /* the wall clock does not exist */
#define SW_TZ_OVERLAP 0x02 /* the wall clock happens twice */

/* Loads zone (if not cached).  SW_OK or one of the shared codes. */
enum sw_err sw_tz_check(const char *zone);

/* true if sw_tz_check(zone) is SW_OK. */
bool sw_tz_valid(const char *zone);

/* Converts an instant to local time in zone.  Shared codes. */
enum sw_err sw_tz_utc_to_local(const char *zone, int64_t utc_sec,
			       struct sw_tz_local *ret_local);

/*
 * Converts a wall clock in zone to an instant (seconds 0..59).
 *   Normal time: its one instant.
 *   Overlap (clocks went back; 01:30 on 2026-11-01 in America/New_York):
 *     the earlier instant (first occurrence, EDT 05:30Z); with SW_TZ_LATER
 *     the later one (EST 06:30Z).
 *   Gap (clocks went forward; 02:30 on 2026-03-08 in America/New_York):
 *     read with the offset in effect before the gap, which lands after it
 *     (-05:00 -> 07:30Z = 03:30 EDT), as java.time and Python zoneinfo
 *     fold=0; with SW_TZ_LATER, with the offset after the gap (06:30Z).
 * Assumes a zone's offset changes at most once within a day of the wall
 * clock, true of every tzdata zone in practice.  *ret_info (may be NULL)
 * gets SW_TZ_GAP / SW_TZ_OVERLAP or 0.  SW_OK, SW_ERANGE for an invalid
 * field, or the shared codes.
 */
enum sw_err sw_tz_local_to_utc(const char *zone, int year, int month,
			       int day, int hour, int min, int sec,
			       unsigned flags, int64_t *ret_utc,
			       unsigned *ret_info);

/* The first instant of date in zone: local midnight, its first occurrence
 * if midnight happens twice, or the transition instant if midnight falls in
 * a DST gap (America/Santiago, Asia/Beirut start DST at 00:00: their day
 * then begins at 01:00).  SW_ERANGE for an invalid date; shared codes. */
enum sw_err sw_tz_start_of_day(const char *zone, const struct sw_date *date,
			       int64_t *ret_utc);

/* The last whole second of date in zone: the start of the next day (as
 * sw_tz_start_of_day, so gaps at midnight are handled the same way) minus
 * one second.  A deadline "by end of date" is met by any instant
 * t <= *ret_utc (t < *ret_utc + 1 with fractions).  Returns as
 * sw_tz_start_of_day(). */
enum sw_err sw_date_end_of_day(const char *zone, const struct sw_date *date,
			       int64_t *ret_utc);

/* Frees every cached zone (module fini; also after a tzdata upgrade, e.g.
 * on SIGHUP, so that changed rules are re-read).  Safe to call twice. */
void sw_tz_cache_clear(void);

#endif /* SW_SWTIME_H */
