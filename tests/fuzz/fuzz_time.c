/*
 * fuzz_time.c - fuzz target for the timestamp parsers in lib/swtime.c.
 *
 * Feeds the input to every parser; when one accepts, the value must format
 * and re-parse to the same instant (a round-trip property, not only "no
 * crash").
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/swtime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[128], buf[SW_TIME_STRLEN], err[128];
	struct sw_time t, t2;
	struct sw_date d, d2;
	enum sw_time_kind kind;
	const char *sep;
	int32_t off;

	if (size >= sizeof(s))
		size = sizeof(s) - 1;
	memcpy(s, data, size);
	s[size] = '\0';

	if (sw_time_parse(s, &t, err, sizeof(err)) == SW_OK &&
	    (t.flags & SW_TIME_HAS_OFFSET) &&
	    sw_time_format_utc(&t, buf, sizeof(buf)) == SW_OK) {
		if (sw_time_parse(buf, &t2, err, sizeof(err)) != SW_OK || t2.utc_sec != t.utc_sec ||
		    t2.nsec != t.nsec)
			abort();
	}
	if (sw_date_parse(s, &d, err, sizeof(err)) == SW_OK &&
	    sw_date_format(&d, buf, sizeof(buf)) == SW_OK) {
		if (sw_date_parse(buf, &d2, err, sizeof(err)) != SW_OK || sw_date_cmp(&d, &d2) != 0)
			abort();
	}
	sw_time_parse_any(s, &kind, &d, &t, err, sizeof(err));
	sw_time_parse_offset(s, &off, err, sizeof(err));
	sep = memchr(s, '|', size);
	if (sep != NULL) {
		char date[64];
		size_t n = (size_t)(sep - s) < sizeof(date) - 1 ? (size_t)(sep - s) : sizeof(date) - 1;

		memcpy(date, s, n);
		date[n] = '\0';
		sw_time_parse_parts(date, sep + 1, &t, err, sizeof(err));
	}
	/* Zone names from input must never escape the zoneinfo directory. */
	if (size < 64 && memchr(s, '\n', size) == NULL)
		sw_tz_valid(s);
	return 0;
}
