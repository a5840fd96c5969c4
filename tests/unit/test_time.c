/*
 * test_time.c - unit tests for lib/swtime.c.
 *
 * Parser cases are tables of courier forms (couriers.md) and malformed
 * strings; every valid one is round-tripped through both formatters.  Zone
 * cases use the system tzdata for real zones (gaps, overlaps, 30-minute DST,
 * midnight gaps, dates past 2038 that need the TZif footer) and hand-built
 * TZif files under a private $TZDIR for the reader's edge cases.  TZ is set
 * to Pacific/Chatham first so that any use of the process zone shows.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/swtime.h"
#include "tests/tap.h"

#define NY "America/New_York"

/* Formats an instant for comparisons; one static buffer per slot. */
static const char *utc_str(int64_t utc)
{
	static char bufs[4][SW_TIME_STRLEN];
	static int slot;
	struct sw_time t = {utc, 0, 0, SW_TIME_HAS_OFFSET};
	char *b = bufs[slot++ % 4];

	if (sw_time_format_utc(&t, b, SW_TIME_STRLEN))
		snprintf(b, SW_TIME_STRLEN, "(format error)");
	return b;
}

static const char *date_str(const struct sw_date *d)
{
	static char buf[SW_DATE_STRLEN + 8];

	if (sw_date_format(d, buf, sizeof(buf)))
		snprintf(buf, sizeof(buf), "(bad)");
	return buf;
}

/* ------------------------------------------------------------- parsing */

struct valid_case {
	const char *in;
	const char *as_written; /* sw_time_format() */
	const char *utc;        /* sw_time_format_utc(), NULL if zone unknown */
	unsigned flags;
	const char *date;       /* date as written */
};

static const struct valid_case valid_cases[] = {
	{"2026-11-24T09:15:00+05:30", "2026-11-24T09:15:00+05:30",
	 "2026-11-24T03:45:00Z", SW_TIME_HAS_OFFSET, "2026-11-24"},
	/* DHL forms */
	{"2023-01-29T16:02:00.000Z", "2023-01-29T16:02:00Z",
	 "2023-01-29T16:02:00Z", SW_TIME_HAS_OFFSET, "2023-01-29"},
	{"2018-03-02T07:53:47", "2018-03-02T07:53:47", NULL,
	 SW_TIME_ZONE_UNKNOWN, "2018-03-02"},
	{"2023-11-21T15:27:20.331986369+01:00",
	 "2023-11-21T15:27:20.331986369+01:00",
	 "2023-11-21T14:27:20.331986369Z", SW_TIME_HAS_OFFSET, "2023-11-21"},
	/* FedEx */
	{"2024-08-20T12:41:57-04:00", "2024-08-20T12:41:57-04:00",
	 "2024-08-20T16:41:57Z", SW_TIME_HAS_OFFSET, "2024-08-20"},
	{"2024-08-15T00:00:00-06:00", "2024-08-15T00:00:00-06:00",
	 "2024-08-15T06:00:00Z", SW_TIME_HAS_OFFSET, "2024-08-15"},
	{"2024-08-15T00:00:00", "2024-08-15T00:00:00", NULL,
	 SW_TIME_ZONE_UNKNOWN, "2024-08-15"},
	/* USPS expected delivery at UTC midnight */
	{"2024-08-16T00:00:00Z", "2024-08-16T00:00:00Z",
	 "2024-08-16T00:00:00Z", SW_TIME_HAS_OFFSET, "2024-08-16"},
	/* Shiprocket, Delhivery */
	{"2025-07-10 06:12:41", "2025-07-10T06:12:41", NULL,
	 SW_TIME_ZONE_UNKNOWN, "2025-07-10"},
	{"2024-11-15 11:09:19.000000", "2024-11-15T11:09:19", NULL,
	 SW_TIME_ZONE_UNKNOWN, "2024-11-15"},
	{"2024-09-21T18:11:04.124", "2024-09-21T18:11:04.124", NULL,
	 SW_TIME_ZONE_UNKNOWN, "2024-09-21"},
	{"2024-09-21T18:11:20.86", "2024-09-21T18:11:20.86", NULL,
	 SW_TIME_ZONE_UNKNOWN, "2024-09-21"},
	/* AfterShip */
	{"2024-09-21T18:11:20+00:00", "2024-09-21T18:11:20Z",
	 "2024-09-21T18:11:20Z", SW_TIME_HAS_OFFSET, "2024-09-21"},
	/* spellings */
	{"2026-11-24t09:15:00z", "2026-11-24T09:15:00Z",
	 "2026-11-24T09:15:00Z", SW_TIME_HAS_OFFSET, "2026-11-24"},
	{"2026-11-24T09:15:00+0530", "2026-11-24T09:15:00+05:30",
	 "2026-11-24T03:45:00Z", SW_TIME_HAS_OFFSET, "2026-11-24"},
	{"2026-11-24T09:15:00+05", "2026-11-24T09:15:00+05:00",
	 "2026-11-24T04:15:00Z", SW_TIME_HAS_OFFSET, "2026-11-24"},
	{"2026-11-24T09:15:00-00:00", "2026-11-24T09:15:00-00:00",
	 "2026-11-24T09:15:00Z",
	 SW_TIME_HAS_OFFSET | SW_TIME_OFFSET_UNKNOWN, "2026-11-24"},
	{"2026-11-24T09:15:00.000000001-09:30",
	 "2026-11-24T09:15:00.000000001-09:30",
	 "2026-11-24T18:45:00.000000001Z", SW_TIME_HAS_OFFSET, "2026-11-24"},
	/* date as written differs from the UTC date */
	{"2024-08-15T02:00:00+05:30", "2024-08-15T02:00:00+05:30",
	 "2024-08-14T20:30:00Z", SW_TIME_HAS_OFFSET, "2024-08-15"},
	{"2024-08-15T23:00:00-06:00", "2024-08-15T23:00:00-06:00",
	 "2024-08-16T05:00:00Z", SW_TIME_HAS_OFFSET, "2024-08-15"},
	/* leap second, leap days, extremes */
	{"2016-12-31T23:59:60Z", "2016-12-31T23:59:59Z",
	 "2016-12-31T23:59:59Z", SW_TIME_HAS_OFFSET | SW_TIME_LEAP_SECOND,
	 "2016-12-31"},
	{"2024-02-29T12:00:00Z", "2024-02-29T12:00:00Z",
	 "2024-02-29T12:00:00Z", SW_TIME_HAS_OFFSET, "2024-02-29"},
	{"2000-02-29T12:00:00Z", "2000-02-29T12:00:00Z",
	 "2000-02-29T12:00:00Z", SW_TIME_HAS_OFFSET, "2000-02-29"},
	{"2026-01-01T00:30:00+18:00", "2026-01-01T00:30:00+18:00",
	 "2025-12-31T06:30:00Z", SW_TIME_HAS_OFFSET, "2026-01-01"},
	{"2026-01-01T00:30:00-18:00", "2026-01-01T00:30:00-18:00",
	 "2026-01-01T18:30:00Z", SW_TIME_HAS_OFFSET, "2026-01-01"},
	{"1969-12-31T23:59:59.5Z", "1969-12-31T23:59:59.5Z",
	 "1969-12-31T23:59:59.5Z", SW_TIME_HAS_OFFSET, "1969-12-31"},
	{"0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z",
	 "0001-01-01T00:00:00Z", SW_TIME_HAS_OFFSET, "0001-01-01"},
	{"0001-01-01T00:30:00+01:00", "0001-01-01T00:30:00+01:00",
	 "0000-12-31T23:30:00Z", SW_TIME_HAS_OFFSET, "0001-01-01"},
	{"9999-12-31T23:59:59.999999999Z", "9999-12-31T23:59:59.999999999Z",
	 "9999-12-31T23:59:59.999999999Z", SW_TIME_HAS_OFFSET, "9999-12-31"},
	{"2038-01-19T03:14:08Z", "2038-01-19T03:14:08Z",
	 "2038-01-19T03:14:08Z", SW_TIME_HAS_OFFSET, "2038-01-19"},
};

static void test_valid(void)
{
	char buf[SW_TIME_STRLEN], err[128];
	struct sw_time t, t2;
	struct sw_date d;
	size_t i;

	for (i = 0; i < sizeof(valid_cases) / sizeof(valid_cases[0]); i++) {
		const struct valid_case *c = &valid_cases[i];
		int rc = sw_time_parse(c->in, &t, err, sizeof(err));

		if (!ok(rc == SW_OK, "parse \"%s\"", c->in)) {
			printf("#   %s: %s\n", sw_err_name(rc), err);
			continue;
		}
		is_int(t.flags, c->flags, "  flags of \"%s\"", c->in);
		sw_time_format(&t, buf, sizeof(buf));
		is_str(buf, c->as_written, "  as written");
		rc = sw_time_format_utc(&t, buf, sizeof(buf));
		if (c->utc)
			is_str(buf, c->utc, "  in UTC");
		else
			ok(rc == SW_EINVAL && buf[0] == '\0',
			   "  no UTC form without a zone");
		sw_time_date(&t, &d);
		is_str(date_str(&d), c->date, "  date as written");
		/* as written -> parse gives the same value back */
		sw_time_format(&t, buf, sizeof(buf));
		rc = sw_time_parse(buf, &t2, NULL, 0);
		ok(rc == SW_OK && t2.utc_sec == t.utc_sec &&
			   t2.nsec == t.nsec && t2.offset_sec == t.offset_sec &&
			   t2.flags == (t.flags & ~SW_TIME_LEAP_SECOND),
		   "  round trip via \"%s\"", buf);
	}
	/* values that pin the representation */
	sw_time_parse("2023-11-21T15:27:20.331986369+01:00", &t, NULL, 0);
	is_int(t.nsec, 331986369, "nsec of 9 digits");
	is_int(t.offset_sec, 3600, "offset +01:00");
	sw_time_parse("2024-09-21T18:11:20.86", &t, NULL, 0);
	is_int(t.nsec, 860000000, "nsec of 2 digits");
	sw_time_parse("1969-12-31T23:59:59.5Z", &t, NULL, 0);
	ok(t.utc_sec == -1 && t.nsec == 500000000, "before the epoch");
	sw_time_parse("0001-01-01T00:00:00Z", &t, NULL, 0);
	is_int(t.utc_sec, -62135596800LL, "0001-01-01");
	sw_time_parse("2038-01-19T03:14:08Z", &t, NULL, 0);
	is_int(t.utc_sec, 2147483648LL, "past int32 time_t");
	sw_time_parse("2018-03-02T07:53:47", &t, NULL, 0);
	ok(t.utc_sec == 1519977227 && t.offset_sec == 0,
	   "zone unknown holds the wall clock as if UTC");
	sw_time_parse("2026-11-24T09:15:00-05:30", &t, NULL, 0);
	is_int(t.offset_sec, -19800, "negative offset");
}

struct invalid_case {
	const char *in;
	const char *err; /* start of the expected error text */
};

static const struct invalid_case invalid_cases[] = {
	{"", "at offset 0: empty input"},
	{" 2026-11-24T09:15:00Z", "at offset 0: expected 4-digit year"},
	{"2026-11-24T09:15:00Z ", "at offset 20: unexpected trailing"},
	{"2026-11-24T09:15:00Zx", "at offset 20: unexpected trailing"},
	{"2026-11-24T09:15:00\n", "at offset 19: expected offset"},
	{"2026-11-24T09:15:00 +05:30", "at offset 19: expected offset"},
	{"2026-11-24T09:15:00UTC", "at offset 19: expected offset"},
	{"2025-02-29T00:00:00Z", "at offset 8: day out of range"},
	{"1900-02-29T00:00:00Z", "at offset 8: day out of range"},
	{"2026-04-31T00:00:00Z", "at offset 8: day out of range"},
	{"2026-01-00T00:00:00Z", "at offset 8: day out of range"},
	{"2026-13-01T00:00:00Z", "at offset 5: month out of range"},
	{"2026-00-10T00:00:00Z", "at offset 5: month out of range"},
	{"0000-01-01T00:00:00Z", "at offset 0: year 0000"},
	{"26-11-24T09:15:00Z", "at offset 0: expected 4-digit year"},
	{"+2026-11-24T09:15:00Z", "at offset 0: expected 4-digit year"},
	{"20261124T091500Z", "at offset 4: expected '-'"},
	{"2026/11/24T09:15:00Z", "at offset 4: expected '-'"},
	{"2026-11-24X09:15:00Z", "at offset 10: expected 'T'"},
	{"2026-11-24T", "at offset 11: expected 2-digit hour"},
	{"2026-11-24T24:00:00Z", "at offset 11: hour out of range"},
	{"2026-11-24T9:15:00Z", "at offset 11: expected 2-digit hour"},
	{"2026-11-24T23:60:00Z", "at offset 14: minute out of range"},
	{"2026-11-24T23:59:61Z", "at offset 17: second out of range"},
	{"2026-11-24T09:15Z", "at offset 16: expected ':' and seconds"},
	{"2026-11-24T09:15:00.Z", "at offset 20: expected digits"},
	{"2026-11-24T09:15:00,5Z", "at offset 19: expected offset"},
	{"2026-11-24T09:15:00.1234567890Z", "at offset 29: more than 9"},
	{"2026-11-24T09:15:00+18:01", "at offset 19: offset beyond"},
	{"2026-11-24T09:15:00+19:00", "at offset 19: offset beyond"},
	{"2026-11-24T09:15:00-99:00", "at offset 19: offset beyond"},
	{"2026-11-24T09:15:00+05:60", "at offset 19: offset minute out"},
	{"2026-11-24T09:15:00+5:30", "at offset 20: expected 2-digit offset"},
	{"2026-11-24T09:15:00+05:3", "at offset 23: expected 2-digit offset"},
	{"2026-11-24T09:15:00+053", "at offset 22: expected 2-digit offset"},
	{"2026-11-24T09:15:00+05:30:00", "at offset 25: unexpected trailing"},
	{"2026-11-24T09:15:00+", "at offset 20: expected 2-digit offset"},
	{"2026-11-24T09:15:00\xe2\x88\x92" "05:00", "at offset 19: expected"},
	{"\xef\xbc\x92\x30\x32\x36-11-24T09:15:00Z", "at offset 0:"},
	{"23 05 2023 11:43:52", "at offset 0: expected 4-digit year"},
	{"2026-11-24", "at offset 10: date without time"},
	{"2026-11-24T09:15:00+05:30 and then some more text that goes on "
	 "and on past the limit", "at offset 64: input too long"},
};

static void test_invalid(void)
{
	char err[128], long_in[4096];
	struct sw_time t;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(invalid_cases) / sizeof(invalid_cases[0]); i++) {
		const struct invalid_case *c = &invalid_cases[i];

		err[0] = 'x';
		err[1] = '\0';
		rc = sw_time_parse(c->in, &t, err, sizeof(err));
		if (!ok(rc == SW_EPARSE &&
				strncmp(err, c->err, strlen(c->err)) == 0,
			"reject \"%s\"", c->in))
			printf("#   %s: \"%s\", want \"%s...\"\n",
			       sw_err_name(rc), err, c->err);
	}
	memset(long_in, '9', sizeof(long_in) - 1);
	long_in[sizeof(long_in) - 1] = '\0';
	rc = sw_time_parse(long_in, &t, err, sizeof(err));
	ok(rc == SW_EPARSE && strstr(err, "too long"),
	   "reject 4 KiB of digits");
	memcpy(long_in, "2026-11-24T09:15:00Z", 20);
	memset(long_in + 20, ' ', 100);
	long_in[120] = '\0';
	ok(sw_time_parse(long_in, &t, NULL, 0) == SW_EPARSE,
	   "reject valid prefix plus 100 spaces");
	/* exactly at the limit: 64 bytes is allowed to be looked at */
	memcpy(long_in, "2026-11-24T09:15:00Z", 21);
	ok(sw_time_parse("2026-11-24T09:15:00.123456789+05:30", &t, NULL, 0) ==
		   SW_OK,
	   "longest valid form");
	ok(sw_time_parse(NULL, &t, err, sizeof(err)) == SW_EINVAL,
	   "NULL input");
	ok(sw_time_parse("2026-11-24T09:15:00Z", NULL, err, sizeof(err)) ==
		   SW_EINVAL,
	   "NULL result");
	ok(sw_time_parse("2026-11-24T", &t, err, 1) == SW_EPARSE &&
		   err[0] == '\0',
	   "errlen 1 gives an empty text");
	ok(sw_time_parse("2026-11-24T", &t, NULL, 5) == SW_EPARSE,
	   "NULL errbuf is fine");
	ok(sw_time_parse("2026-11-24T09:15:00.1234567890Z", &t, err, 12) ==
			   SW_EPARSE &&
		   strlen(err) == 11,
	   "short errbuf is truncated, not overrun");
}

static void test_dates(void)
{
	static const struct {
		const char *in;
		int rc;
	} cases[] = {
		{"2026-11-30", SW_OK},
		{"2024-02-29", SW_OK},
		{"2000-02-29", SW_OK},
		{"0001-01-01", SW_OK},
		{"9999-12-31", SW_OK},
		{"2025-02-29", SW_EPARSE},
		{"1900-02-29", SW_EPARSE},
		{"2026-11-31", SW_EPARSE},
		{"2026-11-3", SW_EPARSE},
		{"20261130", SW_EPARSE},
		{"2026-11-30T00:00:00Z", SW_EPARSE},
		{"2026-11-30 ", SW_EPARSE},
		{"0000-12-31", SW_EPARSE},
		{"", SW_EPARSE},
	};
	struct sw_date d, d2;
	struct sw_time t;
	enum sw_time_kind kind;
	char buf[SW_DATE_STRLEN];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = sw_date_parse(cases[i].in, &d, NULL, 0);

		is_int(rc, cases[i].rc, "date \"%s\"", cases[i].in);
		if (rc == SW_OK)
			is_str(date_str(&d), cases[i].in, "  round trip");
	}
	ok(sw_date_parse(NULL, &d, NULL, 0) == SW_EINVAL, "date NULL");

	ok(sw_time_parse_any("2026-11-30", &kind, &d, &t, NULL, 0) == SW_OK &&
		   kind == SW_TIME_KIND_DATE && t.flags == 0 &&
		   strcmp(date_str(&d), "2026-11-30") == 0,
	   "any: date");
	ok(sw_time_parse_any("2026-11-30T10:00:00+05:30", &kind, &d, &t, NULL,
			     0) == SW_OK &&
		   kind == SW_TIME_KIND_DATETIME &&
		   t.flags == SW_TIME_HAS_OFFSET && t.utc_sec == 1796013000 &&
		   strcmp(date_str(&d), "2026-11-30") == 0,
	   "any: date-time");
	ok(sw_time_parse_any("2024-08-15T00:00:00-06:00", &kind, &d, &t, NULL,
			     0) == SW_OK &&
		   strcmp(date_str(&d), "2024-08-15") == 0,
	   "any: FedEx date item keeps its calendar date");
	ok(sw_time_parse_any("2024-08-15T00:00:00+05:30", &kind, &d, &t, NULL,
			     0) == SW_OK &&
		   strcmp(date_str(&d), "2024-08-15") == 0,
	   "any: east of UTC too (UTC date would be 08-14)");
	ok(sw_time_parse_any("2026-11-30T", &kind, &d, &t, NULL, 0) ==
		   SW_EPARSE,
	   "any: dangling T");
	ok(sw_time_parse_any("2026-11-30X", &kind, &d, &t, NULL, 0) ==
		   SW_EPARSE,
	   "any: junk after date");
	ok(sw_time_parse_any("2026-11-30", NULL, &d, &t, NULL, 0) == SW_EINVAL,
	   "any: NULL kind");

	/* calendar arithmetic */
	d = (struct sw_date){1970, 1, 1};
	is_int(sw_date_to_days(&d), 0, "1970-01-01 is day 0");
	d = (struct sw_date){2000, 3, 1};
	is_int(sw_date_to_days(&d), 11017, "2000-03-01");
	d = (struct sw_date){1, 1, 1};
	is_int(sw_date_to_days(&d), -719162, "0001-01-01");
	d = (struct sw_date){9999, 12, 31};
	is_int(sw_date_to_days(&d), 2932896, "9999-12-31");
	{
		int64_t n, bad = 0;
		struct sw_date prev = {0, 12, 31};

		for (n = -719162; n <= 2932896; n++) {
			sw_date_from_days(n, &d2);
			if (!sw_date_valid(&d2) || sw_date_to_days(&d2) != n ||
			    sw_date_cmp(&prev, &d2) >= 0)
				bad++;
			prev = d2;
		}
		is_int(bad, 0, "every day of 0001..9999 round-trips in order");
	}
	{
		/* agree with glibc timegm over 1970..2400 */
		int bad = 0;

		for (int y = 1970; y <= 2400; y += 7) {
			for (int m = 1; m <= 12; m++) {
				struct tm tm = {.tm_year = y - 1900,
						.tm_mon = m - 1,
						.tm_mday = 28};
				d = (struct sw_date){y, m, 28};
				if ((int64_t)timegm(&tm) !=
				    sw_date_to_days(&d) * 86400)
					bad++;
			}
		}
		is_int(bad, 0, "agrees with timegm");
	}
	d = (struct sw_date){2024, 12, 31};
	sw_date_add_days(&d, 60, &d2);
	is_str(date_str(&d2), "2025-03-01", "add 60 days");
	sw_date_add_days(&d2, -1, &d2);
	is_str(date_str(&d2), "2025-02-28", "minus 1 day");
	d = (struct sw_date){2024, 2, 30};
	ok(!sw_date_valid(&d), "2024-02-30 invalid");
	d = (struct sw_date){10000, 1, 1};
	ok(!sw_date_valid(&d), "year 10000 invalid");
	ok(sw_date_format(&d, buf, sizeof(buf)) == SW_ERANGE, "format 10000");
	d = (struct sw_date){2026, 1, 2};
	ok(sw_date_format(&d, buf, 10) == SW_ETOOBIG && buf[0] == '\0',
	   "date buffer too small");
}

static void test_parts_offsets(void)
{
	static const struct {
		const char *date, *time;
	} bad[] = {
		{"20250230", "120000"},   {"20250312", "74700"},
		{"20250312", "18:33"},    {"20250312", "1833056"},
		{"2025031", "183305"},    {"20250312", "18:33:05Z"},
		{"20250312", "246000"},   {"20250312", "18:33:05.5"},
		{"2025-0312", "183305"},  {"", "183305"},
		{"20250312", ""},         {"20250312", "18:3305"},
	};
	struct sw_time t;
	char buf[SW_TIME_STRLEN], err[128];
	int32_t off;
	size_t i;

	ok(sw_time_parse_parts("20250312", "183305", &t, NULL, 0) == SW_OK &&
		   t.flags == SW_TIME_ZONE_UNKNOWN,
	   "UPS date + HHMMSS");
	sw_time_format(&t, buf, sizeof(buf));
	is_str(buf, "2025-03-12T18:33:05", "  wall clock");
	ok(sw_time_parse_parts("20250312", "18:33:05", &t, NULL, 0) == SW_OK,
	   "UPS gmtDate + gmtTime");
	ok(sw_time_assume_offset(&t, 0) == SW_OK, "  assume UTC");
	sw_time_format_utc(&t, buf, sizeof(buf));
	is_str(buf, "2025-03-12T18:33:05Z", "  instant");
	ok(sw_time_assume_offset(&t, 0) == SW_EINVAL, "  only once");
	ok(sw_time_parse_parts("2025-03-12", "183305", &t, NULL, 0) == SW_OK,
	   "extended date + basic time");
	ok(sw_time_parse_offset("-05:00", &off, NULL, 0) == SW_OK &&
		   off == -18000,
	   "gmtOffset -05:00");
	ok(sw_time_assume_offset(&t, off) == SW_OK, "  apply it");
	sw_time_format(&t, buf, sizeof(buf));
	is_str(buf, "2025-03-12T18:33:05-05:00", "  as written");
	sw_time_format_utc(&t, buf, sizeof(buf));
	is_str(buf, "2025-03-12T23:33:05Z", "  in UTC");
	sw_time_parse_parts("20250312", "183305", &t, NULL, 0);
	ok(sw_time_assume_offset(&t, 18 * 3600 + 1) == SW_ERANGE &&
		   (t.flags & SW_TIME_ZONE_UNKNOWN),
	   "assume offset out of range leaves t alone");
	ok(sw_time_assume_offset(NULL, 0) == SW_EINVAL, "assume NULL");

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(sw_time_parse_parts(bad[i].date, bad[i].time, &t, err,
				       sizeof(err)) == SW_EPARSE,
		   "parts reject \"%s\" \"%s\": %s", bad[i].date, bad[i].time,
		   err);
	sw_time_parse_parts("20250312", "18:60:00", &t, err, sizeof(err));
	is_str(err, "time at offset 3: minute out of range",
	       "parts error text");
	ok(sw_time_parse_parts(NULL, "183305", &t, err, sizeof(err)) ==
		   SW_EINVAL,
	   "parts NULL date");

	ok(sw_time_parse_offset("Z", &off, NULL, 0) == SW_OK && off == 0, "Z");
	ok(sw_time_parse_offset("+0530", &off, NULL, 0) == SW_OK &&
		   off == 19800,
	   "+0530");
	ok(sw_time_parse_offset("+05", &off, NULL, 0) == SW_OK && off == 18000,
	   "+05");
	ok(sw_time_parse_offset("+18:00", &off, NULL, 0) == SW_OK, "+18:00");
	ok(sw_time_parse_offset("+18:30", &off, NULL, 0) == SW_EPARSE,
	   "+18:30");
	ok(sw_time_parse_offset("05:00", &off, NULL, 0) == SW_EPARSE, "05:00");
	ok(sw_time_parse_offset("+5", &off, NULL, 0) == SW_EPARSE, "+5");
	ok(sw_time_parse_offset("-05:00 ", &off, NULL, 0) == SW_EPARSE,
	   "trailing space");
	ok(sw_time_parse_offset("", &off, NULL, 0) == SW_EPARSE, "empty");
}

static void test_format(void)
{
	struct sw_time t;
	char buf[SW_TIME_STRLEN];

	sw_time_parse("2026-11-24T09:15:00+05:30", &t, NULL, 0);
	ok(sw_time_format(&t, buf, 25) == SW_ETOOBIG && buf[0] == '\0',
	   "too small for as written");
	ok(sw_time_format(&t, buf, 26) == SW_OK, "exactly large enough");
	ok(sw_time_format_utc(&t, buf, 20) == SW_ETOOBIG, "too small for UTC");
	ok(sw_time_format_utc(&t, buf, 0) == SW_ETOOBIG, "zero length");
	sw_time_parse("9999-12-31T23:30:00-01:00", &t, NULL, 0);
	ok(sw_time_format_utc(&t, buf, sizeof(buf)) == SW_ERANGE,
	   "UTC year 10000 not printable");
	ok(sw_time_format(&t, buf, sizeof(buf)) == SW_OK,
	   "  but as written it is");
	t = (struct sw_time){INT64_MAX, 0, 3600, SW_TIME_HAS_OFFSET};
	ok(sw_time_format(&t, buf, sizeof(buf)) == SW_ERANGE &&
		   sw_time_format_utc(&t, buf, sizeof(buf)) == SW_ERANGE,
	   "absurd utc_sec refused, no overflow");
	t = (struct sw_time){0, 120000000, 0, SW_TIME_HAS_OFFSET};
	sw_time_format_utc(&t, buf, sizeof(buf));
	is_str(buf, "1970-01-01T00:00:00.12Z", "fraction without zeros");
	t = (struct sw_time){1, 0, 0, SW_TIME_HAS_OFFSET};
	{
		struct sw_time u = {1, 1, 0, SW_TIME_HAS_OFFSET};
		ok(sw_time_cmp(&t, &u) < 0 && sw_time_cmp(&u, &t) > 0 &&
			   sw_time_cmp(&t, &t) == 0,
		   "cmp orders by nsec");
	}
}

/* ------------------------------------------------------------- zones */

static int64_t at(const char *s)
{
	struct sw_time t;

	if (sw_time_parse(s, &t, NULL, 0) || !(t.flags & SW_TIME_HAS_OFFSET)) {
		printf("# bad test input %s\n", s);
		return 0;
	}
	return t.utc_sec;
}

struct l2u_case {
	const char *zone;
	int y, mo, d, h, mi;
	unsigned flags;
	const char *want;
	unsigned info;
};

static const struct l2u_case l2u_cases[] = {
	{"Asia/Kolkata", 2026, 11, 24, 9, 15, 0, "2026-11-24T03:45:00Z", 0},
	{"Asia/Kolkata", 1942, 9, 1, 12, 0, 0, "1942-09-01T05:30:00Z", 0},
	{NY, 2026, 7, 1, 12, 0, 0, "2026-07-01T16:00:00Z", 0},
	{NY, 2026, 1, 15, 12, 0, 0, "2026-01-15T17:00:00Z", 0},
	{NY, 2026, 3, 8, 2, 30, 0, "2026-03-08T07:30:00Z", SW_TZ_GAP},
	{NY, 2026, 3, 8, 2, 30, SW_TZ_LATER, "2026-03-08T06:30:00Z", SW_TZ_GAP},
	{NY, 2026, 3, 8, 3, 0, 0, "2026-03-08T07:00:00Z", 0},
	{NY, 2026, 3, 8, 1, 59, 0, "2026-03-08T06:59:00Z", 0},
	{NY, 2026, 11, 1, 1, 30, 0, "2026-11-01T05:30:00Z", SW_TZ_OVERLAP},
	{NY, 2026, 11, 1, 1, 30, SW_TZ_LATER, "2026-11-01T06:30:00Z",
	 SW_TZ_OVERLAP},
	{NY, 2026, 11, 1, 2, 0, 0, "2026-11-01T07:00:00Z", 0},
	/* past the fat files' 2037 horizon: TZif footer rules */
	{NY, 2040, 7, 1, 12, 0, 0, "2040-07-01T16:00:00Z", 0},
	{NY, 2040, 12, 1, 12, 0, 0, "2040-12-01T17:00:00Z", 0},
	{NY, 2040, 3, 11, 2, 30, 0, "2040-03-11T07:30:00Z", SW_TZ_GAP},
	{NY, 2040, 3, 11, 2, 30, SW_TZ_LATER, "2040-03-11T06:30:00Z",
	 SW_TZ_GAP},
	{NY, 9999, 7, 1, 12, 0, 0, "9999-07-01T16:00:00Z", 0},
	{"Europe/London", 2026, 7, 1, 12, 0, 0, "2026-07-01T11:00:00Z", 0},
	{"Europe/London", 2026, 12, 1, 12, 0, 0, "2026-12-01T12:00:00Z", 0},
	{"Europe/London", 2026, 3, 29, 1, 30, 0, "2026-03-29T01:30:00Z",
	 SW_TZ_GAP},
	{"Europe/London", 2026, 10, 25, 1, 30, 0, "2026-10-25T00:30:00Z",
	 SW_TZ_OVERLAP},
	{"Europe/London", 2026, 10, 25, 1, 30, SW_TZ_LATER,
	 "2026-10-25T01:30:00Z", SW_TZ_OVERLAP},
	{"Australia/Lord_Howe", 2026, 10, 4, 2, 15, 0, "2026-10-03T15:45:00Z",
	 SW_TZ_GAP},
	{"Australia/Lord_Howe", 2026, 4, 5, 1, 45, 0, "2026-04-04T14:45:00Z",
	 SW_TZ_OVERLAP},
	{"Australia/Lord_Howe", 2026, 4, 5, 1, 45, SW_TZ_LATER,
	 "2026-04-04T15:15:00Z", SW_TZ_OVERLAP},
	{"Australia/Lord_Howe", 2050, 1, 15, 12, 0, 0, "2050-01-15T01:00:00Z",
	 0},
	{"Australia/Lord_Howe", 2050, 7, 15, 12, 0, 0, "2050-07-15T01:30:00Z",
	 0},
	{"America/Santiago", 2026, 9, 6, 0, 30, 0, "2026-09-06T04:30:00Z",
	 SW_TZ_GAP},
	{"Pacific/Apia", 2011, 12, 30, 12, 0, 0, "2011-12-30T22:00:00Z",
	 SW_TZ_GAP},
	{"UTC", 2026, 3, 8, 2, 30, 0, "2026-03-08T02:30:00Z", 0},
};

static void test_local_to_utc(void)
{
	int64_t utc;
	unsigned info;
	size_t i;

	for (i = 0; i < sizeof(l2u_cases) / sizeof(l2u_cases[0]); i++) {
		const struct l2u_case *c = &l2u_cases[i];
		int rc;

		if (!sw_tz_valid(c->zone)) {
			ok(1, "# SKIP %s not installed", c->zone);
			continue;
		}
		info = 99;
		rc = sw_tz_local_to_utc(c->zone, c->y, c->mo, c->d, c->h,
					c->mi, 0, c->flags, &utc, &info);
		is_int(rc, SW_OK, "%s %04d-%02d-%02d %02d:%02d%s", c->zone,
		       c->y, c->mo, c->d, c->h, c->mi,
		       c->flags ? " (later)" : "");
		is_str(utc_str(utc), c->want, "  instant");
		is_int(info, c->info, "  gap/overlap info");
	}
	ok(sw_tz_local_to_utc(NY, 2026, 2, 29, 12, 0, 0, 0, &utc, NULL) ==
		   SW_ERANGE,
	   "2026-02-29 is not a day");
	ok(sw_tz_local_to_utc(NY, 2026, 2, 28, 24, 0, 0, 0, &utc, NULL) ==
		   SW_ERANGE,
	   "hour 24");
	ok(sw_tz_local_to_utc(NY, 2026, 2, 28, 12, 0, 60, 0, &utc, NULL) ==
		   SW_ERANGE,
	   "second 60");
	ok(sw_tz_local_to_utc(NY, 0, 1, 1, 12, 0, 0, 0, &utc, NULL) ==
		   SW_ERANGE,
	   "year 0");
	ok(sw_tz_local_to_utc("Mars/Olympus", 2026, 1, 1, 0, 0, 0, 0, &utc,
			      NULL) == SW_ENOTFOUND,
	   "unknown zone");
	ok(sw_tz_local_to_utc(NY, 2026, 1, 1, 0, 0, 0, 0, NULL, NULL) ==
		   SW_EINVAL,
	   "NULL result");
}

static void test_utc_to_local(void)
{
	struct sw_tz_local l;

	ok(sw_tz_utc_to_local("Asia/Kolkata", at("2026-11-24T03:45:00Z"),
			      &l) == SW_OK,
	   "Kolkata");
	ok(l.hour == 9 && l.min == 15 && l.sec == 0 && l.offset_sec == 19800 &&
		   !l.isdst && strcmp(l.abbr, "IST") == 0 &&
		   strcmp(date_str(&l.date), "2026-11-24") == 0 && l.wday == 2,
	   "  09:15 IST Tuesday");
	sw_tz_utc_to_local("Asia/Kolkata", at("2026-11-24T20:00:00Z"), &l);
	ok(strcmp(date_str(&l.date), "2026-11-25") == 0 && l.hour == 1 &&
		   l.min == 30,
	   "  crosses midnight");
	sw_tz_utc_to_local(NY, at("2026-11-01T05:59:59Z"), &l);
	ok(l.hour == 1 && l.min == 59 && l.isdst && l.offset_sec == -14400 &&
		   strcmp(l.abbr, "EDT") == 0,
	   "NY 01:59:59 EDT before fall back");
	sw_tz_utc_to_local(NY, at("2026-11-01T06:00:00Z"), &l);
	ok(l.hour == 1 && l.min == 0 && !l.isdst && l.offset_sec == -18000 &&
		   strcmp(l.abbr, "EST") == 0,
	   "NY 01:00 EST after fall back");
	sw_tz_utc_to_local(NY, at("2040-07-01T16:00:00Z"), &l);
	ok(l.hour == 12 && l.isdst && l.offset_sec == -14400 &&
		   strcmp(l.abbr, "EDT") == 0,
	   "NY 2040-07-01 is EDT (footer rule)");
	sw_tz_utc_to_local(NY, at("2040-01-01T17:00:00Z"), &l);
	ok(l.hour == 12 && !l.isdst && strcmp(l.abbr, "EST") == 0,
	   "NY 2040-01-01 is EST");
	sw_tz_utc_to_local(NY, at("1883-11-18T12:00:00Z"), &l);
	is_int(l.offset_sec, -17762, "NY before 1883 is LMT");
	sw_tz_utc_to_local("Europe/London", at("2026-07-01T11:00:00Z"), &l);
	ok(l.hour == 12 && l.isdst && strcmp(l.abbr, "BST") == 0, "London BST");
	if (sw_tz_valid("Australia/Lord_Howe")) {
		sw_tz_utc_to_local("Australia/Lord_Howe",
				   at("2026-10-03T15:30:00Z"), &l);
		ok(l.hour == 2 && l.min == 30 && l.offset_sec == 39600 &&
			   l.isdst,
		   "Lord Howe +11 from 02:30");
		sw_tz_utc_to_local("Australia/Lord_Howe",
				   at("2026-10-03T15:29:59Z"), &l);
		ok(l.hour == 1 && l.min == 59 && l.offset_sec == 37800,
		   "Lord Howe +10:30 until 01:59:59");
		sw_tz_utc_to_local("Australia/Lord_Howe",
				   at("2060-07-01T00:00:00Z"), &l);
		is_int(l.offset_sec, 37800, "Lord Howe 2060 winter +10:30");
		sw_tz_utc_to_local("Australia/Lord_Howe",
				   at("2060-01-01T00:00:00Z"), &l);
		is_int(l.offset_sec, 39600, "Lord Howe 2060 summer +11");
	}
	ok(sw_tz_utc_to_local(NY, INT64_MAX, &l) == SW_ERANGE, "INT64_MAX");
	ok(sw_tz_utc_to_local(NY, INT64_MIN, &l) == SW_ERANGE, "INT64_MIN");
	ok(sw_tz_utc_to_local(NY, 0, NULL) == SW_EINVAL, "NULL result");
}

static void test_zone_names(void)
{
	static const struct {
		const char *name;
		int rc;
	} cases[] = {
		{"Asia/Kolkata", SW_OK},
		{"America/New_York", SW_OK},
		{"America/Argentina/Buenos_Aires", SW_OK},
		{"Etc/GMT+5", SW_OK},
		{"UTC", SW_OK},
		{"Mars/Olympus", SW_ENOTFOUND},
		{"Asia/kolkata_", SW_ENOTFOUND},
		{"America", SW_ENOTFOUND},
		{"zone.tab", SW_EPARSE},
		{"../etc/passwd", SW_EINVAL},
		{"/etc/passwd", SW_EINVAL},
		{"/usr/share/zoneinfo/UTC", SW_EINVAL},
		{"America/../Asia/Kolkata", SW_EINVAL},
		{"./UTC", SW_EINVAL},
		{"America//New_York", SW_EINVAL},
		{"America/New_York/", SW_EINVAL},
		{"America/New York", SW_EINVAL},
		{"America/New_York\n", SW_EINVAL},
		{"UTC;rm", SW_EINVAL},
		{"localtime", SW_EINVAL},
		{"posixrules", SW_EINVAL},
		{"", SW_EINVAL},
	};
	char longname[400];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(sw_tz_check(cases[i].name), cases[i].rc, "zone \"%s\"",
		       cases[i].name);
	ok(sw_tz_check(NULL) == SW_EINVAL, "zone NULL");
	ok(!sw_tz_valid("Mars/Olympus") && sw_tz_valid("Asia/Kolkata"),
	   "sw_tz_valid");
	memset(longname, 'A', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ok(sw_tz_check(longname) == SW_EINVAL, "399-byte name");
	if (access("/usr/share/zoneinfo/right/UTC", R_OK) == 0 &&
	    !getenv("TZDIR"))
		ok(sw_tz_check("right/UTC") == SW_EPARSE,
		   "leap-second zones refused");
}

static void test_days(void)
{
	struct sw_date d;
	int64_t t;

	d = (struct sw_date){2026, 11, 30};
	ok(sw_date_end_of_day("Asia/Kolkata", &d, &t) == SW_OK, "Kolkata eod");
	is_str(utc_str(t), "2026-11-30T18:29:59Z", "  23:59:59 IST");
	sw_tz_start_of_day("Asia/Kolkata", &d, &t);
	is_str(utc_str(t), "2026-11-29T18:30:00Z", "  start 00:00 IST");

	d = (struct sw_date){2026, 3, 8};
	sw_tz_start_of_day(NY, &d, &t);
	is_str(utc_str(t), "2026-03-08T05:00:00Z", "NY spring day start");
	sw_date_end_of_day(NY, &d, &t);
	is_str(utc_str(t), "2026-03-09T03:59:59Z", "NY spring day end (EDT)");
	d = (struct sw_date){2026, 11, 1};
	sw_tz_start_of_day(NY, &d, &t);
	is_str(utc_str(t), "2026-11-01T04:00:00Z", "NY fall day start (EDT)");
	sw_date_end_of_day(NY, &d, &t);
	is_str(utc_str(t), "2026-11-02T04:59:59Z", "NY fall day end (EST)");
	d = (struct sw_date){2040, 7, 1};
	sw_date_end_of_day(NY, &d, &t);
	is_str(utc_str(t), "2040-07-02T03:59:59Z", "NY 2040 eod");

	/* midnight does not exist: the day starts at 01:00 */
	d = (struct sw_date){2026, 9, 6};
	sw_tz_start_of_day("America/Santiago", &d, &t);
	is_str(utc_str(t), "2026-09-06T04:00:00Z", "Santiago gap at midnight");
	d = (struct sw_date){2026, 9, 5};
	sw_date_end_of_day("America/Santiago", &d, &t);
	is_str(utc_str(t), "2026-09-06T03:59:59Z", "  previous day's end");
	d = (struct sw_date){2026, 3, 29};
	sw_tz_start_of_day("Asia/Beirut", &d, &t);
	is_str(utc_str(t), "2026-03-28T22:00:00Z", "Beirut gap at midnight");
	d = (struct sw_date){2026, 3, 28};
	sw_date_end_of_day("Asia/Beirut", &d, &t);
	is_str(utc_str(t), "2026-03-28T21:59:59Z", "  previous day's end");
	/* fall back at midnight: 23:00-24:00 happens twice on Oct 24 */
	d = (struct sw_date){2026, 10, 24};
	sw_date_end_of_day("Asia/Beirut", &d, &t);
	is_str(utc_str(t), "2026-10-24T21:59:59Z", "Beirut fall-back eod");

	d = (struct sw_date){9999, 12, 31};
	ok(sw_date_end_of_day("UTC", &d, &t) == SW_OK &&
		   t == 253402300799LL,
	   "end of 9999-12-31");
	d = (struct sw_date){2025, 2, 29};
	ok(sw_date_end_of_day("UTC", &d, &t) == SW_ERANGE, "invalid date");
	d = (struct sw_date){2026, 1, 1};
	ok(sw_date_end_of_day("Mars/Olympus", &d, &t) == SW_ENOTFOUND,
	   "eod unknown zone");
	ok(sw_tz_start_of_day(NY, NULL, &t) == SW_EINVAL, "start NULL date");
}

static void test_resolve(void)
{
	struct sw_time t;
	char buf[SW_TIME_STRLEN];

	sw_time_parse("2024-09-21T18:11:04.124", &t, NULL, 0);
	ok(sw_time_resolve_zone(&t, "Asia/Kolkata", 0) == SW_OK,
	   "resolve Delhivery IST");
	is_int(t.flags, SW_TIME_HAS_OFFSET | SW_TIME_FROM_ZONE, "  flags");
	sw_time_format(&t, buf, sizeof(buf));
	is_str(buf, "2024-09-21T18:11:04.124+05:30", "  as written");
	sw_time_format_utc(&t, buf, sizeof(buf));
	is_str(buf, "2024-09-21T12:41:04.124Z", "  in UTC");
	ok(sw_time_resolve_zone(&t, "Asia/Kolkata", 0) == SW_EINVAL,
	   "  only once");

	sw_time_parse("2026-03-08 02:30:00", &t, NULL, 0);
	ok(sw_time_resolve_zone(&t, NY, 0) == SW_OK &&
		   (t.flags & SW_TIME_NONEXISTENT) && t.offset_sec == -14400,
	   "resolve in a gap");
	sw_time_format_utc(&t, buf, sizeof(buf));
	is_str(buf, "2026-03-08T07:30:00Z", "  gap instant");
	sw_time_parse("2026-11-01T01:30:00", &t, NULL, 0);
	ok(sw_time_resolve_zone(&t, NY, SW_TZ_LATER) == SW_OK &&
		   (t.flags & SW_TIME_AMBIGUOUS) && t.offset_sec == -18000,
	   "resolve in an overlap, later");
	sw_time_parse("2026-11-01T01:30:00", &t, NULL, 0);
	ok(sw_time_resolve_zone(&t, "Mars/Olympus", 0) == SW_ENOTFOUND &&
		   t.flags == SW_TIME_ZONE_UNKNOWN,
	   "unknown zone leaves t alone");
}

/* ----------------------------------------------- hand-built TZif files */

struct tzif_spec {
	char version;          /* 0 or '2' */
	int ntrans;
	const int64_t *trans;
	const uint8_t *idx;
	int ntypes;
	const int32_t *offs;
	const uint8_t *isdst;
	const uint8_t *abbr;
	const char *chars;
	int nchars;
	int leap;              /* leap records to add */
	const char *footer;    /* v2 only */
};

static size_t put32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
	return 4;
}

static size_t tzif_block(unsigned char *p, const struct tzif_spec *s, int tsz)
{
	size_t n = 0;
	int i;

	memcpy(p, "TZif", 4);
	p[4] = s->version;
	memset(p + 5, 0, 15);
	n = 20;
	n += put32(p + n, 0);
	n += put32(p + n, 0);
	n += put32(p + n, s->leap);
	n += put32(p + n, s->ntrans);
	n += put32(p + n, s->ntypes);
	n += put32(p + n, s->nchars);
	for (i = 0; i < s->ntrans; i++) {
		if (tsz == 8)
			n += put32(p + n,
				   (uint32_t)((uint64_t)s->trans[i] >> 32));
		n += put32(p + n, (uint32_t)s->trans[i]);
	}
	for (i = 0; i < s->ntrans; i++)
		p[n++] = s->idx[i];
	for (i = 0; i < s->ntypes; i++) {
		n += put32(p + n, (uint32_t)s->offs[i]);
		p[n++] = s->isdst[i];
		p[n++] = s->abbr[i];
	}
	memcpy(p + n, s->chars, s->nchars);
	n += s->nchars;
	for (i = 0; i < s->leap; i++) {
		if (tsz == 8)
			n += put32(p + n, 0);
		n += put32(p + n, 78796800);
		n += put32(p + n, 1);
	}
	return n;
}

static void tzif_write(const char *dir, const char *name,
		       const struct tzif_spec *s)
{
	unsigned char data[4096];
	char path[512];
	size_t n = tzif_block(data, s, 4);
	FILE *f;

	if (s->version)
		n += tzif_block(data + n, s, 8);
	if (s->footer)
		n += (size_t)snprintf((char *)data + n, sizeof(data) - n,
				      "\n%s\n", s->footer);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(f = fopen(path, "wb")) || fwrite(data, 1, n, f) != n)
		printf("# cannot write %s\n", path);
	if (f)
		fclose(f);
}

static void write_file(const char *dir, const char *name, const void *data,
		       size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(f = fopen(path, "wb")) || fwrite(data, 1, len, f) != len)
		printf("# cannot write %s\n", path);
	if (f)
		fclose(f);
}

static void test_tzif_files(void)
{
	static const int32_t offs1[] = {-18000};
	static const uint8_t zero[] = {0, 0}, abbr1[] = {0};
	static const int64_t trans2[] = {1000000000};
	static const uint8_t idx2[] = {1}, abbr2[] = {0, 4};
	static const int32_t offs2[] = {3600, 7200};
	struct tzif_spec s = {'2', 0, NULL, NULL, 1, offs1, zero, abbr1,
			      "EST", 4, 0, "EST5EDT,M3.2.0,M11.1.0"};
	char dir[] = "/tmp/swtime-test-XXXXXX", sub[600], cmd[700];
	struct sw_tz_local l;
	int64_t t;
	FILE *f;
	unsigned char kol[400];
	size_t kn = 0;

	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	setenv("TZDIR", dir, 1);

	/* footer only (a slim file with no transitions) */
	tzif_write(dir, "FooterOnly", &s);
	ok(sw_tz_check("FooterOnly") == SW_OK, "footer-only zone loads");
	sw_tz_local_to_utc("FooterOnly", 2026, 7, 1, 12, 0, 0, 0, &t, NULL);
	is_str(utc_str(t), "2026-07-01T16:00:00Z", "  summer via footer");
	sw_tz_utc_to_local("FooterOnly", at("2026-12-01T17:00:00Z"), &l);
	ok(l.hour == 12 && strcmp(l.abbr, "EST") == 0, "  winter EST");
	sw_tz_utc_to_local("FooterOnly", at("2026-07-01T16:00:00Z"), &l);
	ok(l.hour == 12 && strcmp(l.abbr, "EDT") == 0 && l.isdst,
	   "  summer EDT");

	/* southern hemisphere rule with 24:00 times (Chile) */
	s.footer = "<-04>4<-03>,M9.1.6/24,M4.1.6/24";
	tzif_write(dir, "South", &s);
	sw_tz_utc_to_local("South", at("2050-01-15T12:00:00Z"), &l);
	ok(l.offset_sec == -10800 && strcmp(l.abbr, "-03") == 0,
	   "south: January is summer");
	sw_tz_utc_to_local("South", at("2050-07-15T12:00:00Z"), &l);
	ok(l.offset_sec == -14400 && strcmp(l.abbr, "-04") == 0,
	   "south: July is winter");
	{
		struct sw_date d = {2026, 9, 6};
		sw_tz_start_of_day("South", &d, &t);
		is_str(utc_str(t), "2026-09-06T04:00:00Z",
		       "south: day starts at 01:00 like the real file");
	}

	/* all-year DST */
	s.footer = "EST5EDT,0/0,J365/25";
	tzif_write(dir, "AllDst", &s);
	sw_tz_utc_to_local("AllDst", at("2050-01-01T04:30:00Z"), &l);
	ok(l.isdst && l.offset_sec == -14400, "all-year DST at new year");
	sw_tz_utc_to_local("AllDst", at("2050-07-01T04:30:00Z"), &l);
	ok(l.isdst && l.offset_sec == -14400, "all-year DST in July");

	/* negative offset footer */
	s.footer = "<+0530>-5:30";
	tzif_write(dir, "Plus0530", &s);
	sw_tz_utc_to_local("Plus0530", 0, &l);
	ok(l.offset_sec == 19800 && strcmp(l.abbr, "+0530") == 0,
	   "footer <+0530>-5:30");

	/* empty footer: the last type stays */
	s.footer = "";
	tzif_write(dir, "NoRule", &s);
	sw_tz_utc_to_local("NoRule", at("2050-07-01T00:00:00Z"), &l);
	is_int(l.offset_sec, -18000, "empty footer keeps type 0");

	/* broken footers and files */
	s.footer = "EST5EDT,M13.2.0,M11.1.0";
	tzif_write(dir, "BadRule", &s);
	is_int(sw_tz_check("BadRule"), SW_EPARSE, "bad footer month");
	s.footer = "ES5";
	tzif_write(dir, "BadName", &s);
	is_int(sw_tz_check("BadName"), SW_EPARSE, "footer name too short");
	s.footer = "EST5EDT,M3.2.0";
	tzif_write(dir, "HalfRule", &s);
	is_int(sw_tz_check("HalfRule"), SW_EPARSE, "footer with one rule");
	s.footer = NULL;
	tzif_write(dir, "NoFooter", &s);
	is_int(sw_tz_check("NoFooter"), SW_EPARSE, "v2 without footer");
	s.footer = "EST5";
	s.leap = 1;
	tzif_write(dir, "Leap", &s);
	is_int(sw_tz_check("Leap"), SW_EPARSE, "leap records refused");
	s.leap = 0;
	s.abbr = (const uint8_t[]){7};
	tzif_write(dir, "BadAbbr", &s);
	is_int(sw_tz_check("BadAbbr"), SW_EPARSE, "abbreviation index");

	/* v1-only file with one transition */
	{
		struct tzif_spec v1 = {0, 1, trans2, idx2, 2, offs2, zero,
				       abbr2, "AAA\0BBB", 8, 0, NULL};
		tzif_write(dir, "V1", &v1);
		sw_tz_utc_to_local("V1", 999999999, &l);
		ok(l.offset_sec == 3600 && strcmp(l.abbr, "AAA") == 0,
		   "v1: before the transition");
		sw_tz_utc_to_local("V1", 1000000000, &l);
		ok(l.offset_sec == 7200 && strcmp(l.abbr, "BBB") == 0,
		   "v1: at the transition");
		sw_tz_utc_to_local("V1", at("2300-01-01T00:00:00Z"), &l);
		is_int(l.offset_sec, 7200, "v1: long after");
		v1.idx = (const uint8_t[]){2};
		tzif_write(dir, "V1Bad", &v1);
		is_int(sw_tz_check("V1Bad"), SW_EPARSE, "v1: bad type index");
	}

	write_file(dir, "Text", "hello, world\n", 13);
	is_int(sw_tz_check("Text"), SW_EPARSE, "text file refused");
	write_file(dir, "Empty", "", 0);
	is_int(sw_tz_check("Empty"), SW_EPARSE, "empty file refused");
	if ((f = fopen("/usr/share/zoneinfo/Asia/Kolkata", "rb"))) {
		kn = fread(kol, 1, sizeof(kol), f);
		fclose(f);
	}
	for (size_t cut = 10; cut < kn; cut += 37) {
		char name[32];
		snprintf(name, sizeof(name), "Cut%zu", cut);
		write_file(dir, name, kol, cut);
		if (sw_tz_check(name) != SW_EPARSE) {
			ok(0, "truncated Kolkata at %zu refused", cut);
			break;
		}
	}
	write_file(dir, "Kolkata", kol, kn);
	ok(kn > 0 && sw_tz_check("Kolkata") == SW_OK, "whole copy loads");
	snprintf(sub, sizeof(sub), "%s/Dir", dir);
	mkdir(sub, 0700);
	is_int(sw_tz_check("Dir"), SW_ENOTFOUND, "directory refused");
	is_int(sw_tz_check("Asia/Kolkata"), SW_ENOTFOUND,
	       "TZDIR is honoured");

	sw_tz_cache_clear();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	unsetenv("TZDIR");
	ok(sw_tz_valid("Asia/Kolkata"), "default directory again");
}

int main(void)
{
	/* Nothing may depend on the process's zone. */
	setenv("TZ", "Pacific/Chatham", 1);
	tzset();
	unsetenv("TZDIR");

	test_valid();
	test_invalid();
	test_dates();
	test_parts_offsets();
	test_format();
	test_zone_names();
	test_local_to_utc();
	test_utc_to_local();
	test_days();
	test_resolve();
	test_tzif_files();
	sw_tz_cache_clear();
	sw_tz_cache_clear();
	return tap_done();
}
