/*
 * fuzz_channel.c - fuzz target for what the channels do with text from a
 * receiver (alerts/channel.c): the excerpt of a response body that goes
 * into a detail (the outbox and the log), and Retry-After values.
 *
 * Input: the first byte picks the excerpt's maximum (0..255), the rest is
 * the receiver's bytes.  Properties checked on every input (a violation
 * aborts):
 * - the excerpt's length is what it returns, at most the maximum and the
 *   buffer;
 * - it is valid UTF-8 without control characters (C0, DEL, C1, U+2028,
 *   U+2029), without leading, trailing or doubled spaces, so it is one
 *   clean line;
 * - a Retry-After hint is within 0..SW_CHAN_RETRY_AFTER_MAX, for any now.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/channel.h"
#include "lib/utf8.h"
#include "lib/xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_line(const char *s, size_t n)
{
	size_t i = 0, len;
	uint32_t cp;

	if (strlen(s) != n)
		abort();
	if (n && (s[0] == ' ' || s[n - 1] == ' '))
		abort();
	while (i < n) {
		len = sw_utf8_decode((const unsigned char *)s + i, n - i, &cp);
		if (len == 0)
			abort(); /* invalid UTF-8 */
		if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 ||
		    cp == 0x2029)
			abort(); /* a control character */
		if (cp == ' ' && s[i + 1] == ' ')
			abort(); /* doubled space */
		i += len;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t max = size ? data[0] : 200, n;
	const char *in = size ? (const char *)data + 1 : "";
	size_t in_len = size ? size - 1 : 0;
	char out[300], small[16];
	char *text;
	int64_t s;

	n = sw_channel_excerpt(in, in_len, max, out, sizeof out);
	if (n > max || n >= sizeof out)
		abort();
	check_line(out, n);
	n = sw_channel_excerpt(in, in_len, max, small, sizeof small);
	if (n >= sizeof small)
		abort();
	check_line(small, n);

	text = xstrndup(in, in_len); /* a header value is a C string */
	s = sw_channel_retry_after(text, 0);
	if (s < 0 || s > SW_CHAN_RETRY_AFTER_MAX)
		abort();
	s = sw_channel_retry_after(text, INT64_C(1445412420));
	if (s < 0 || s > SW_CHAN_RETRY_AFTER_MAX)
		abort();
	free(text);
	return 0;
}
