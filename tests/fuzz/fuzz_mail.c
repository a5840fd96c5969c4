/*
 * fuzz_mail.c - fuzz target for what the mailer does with values from
 * outside (alerts/mail.c): customer names and subjects through the RFC
 * 2047 header encoder, and addresses through the address check.
 *
 * Properties checked on every input (a violation aborts):
 * - the encoder always succeeds in SW_MAIL_ENCODED_MAX bytes;
 * - its output is printable ASCII, with CR LF only as a fold ("\r\n "),
 *   so no value can start a header line of its own;
 * - no line of encoded words is longer than 76 characters, no encoded
 *   word longer than 75, and text left as it is (printable ASCII) stays
 *   within RFC 5322's 998;
 * - an address the check accepts has no byte a header or an SMTP command
 *   could be split at (CR, LF, space, '<', '>', ',', ';', '"').
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/mail.h"
#include "lib/xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_encoded(const char *out, size_t first_col)
{
	size_t col = first_col, max = strncmp(out, "=?UTF-8?", 8) == 0 ? 76 : 998;

	for (const char *p = out; *p; p++) {
		if (*p == '\r') {
			if (p[1] != '\n' || p[2] != ' ')
				abort(); /* CR only as the start of a fold */
			p++;
			col = 0;
			continue;
		}
		if (*p == '\n' || (unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			abort();
		if (++col > max)
			abort();
	}
	/* words: "=?UTF-8?B?" base64 "?=" (base64 padding may end in '=',
	 * so look for the end after the prefix, and go on after it) */
	for (const char *w = strstr(out, "=?UTF-8?B?"); w; w = strstr(w, "=?UTF-8?B?")) {
		const char *end = strstr(w + 10, "?=");

		if (!end || end - w + 2 > 75)
			abort();
		w = end + 2;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xstrndup((const char *)data, size);
	char out[SW_MAIL_ENCODED_MAX];
	size_t first_col = size ? data[0] % 40 : 9;

	if (sw_mail_encode_header_word(text, first_col, out, sizeof(out)) != SW_OK)
		abort();
	check_encoded(out, first_col);
	if (sw_mail_addr_valid(text) && strpbrk(text, "\r\n <>,;\"") != NULL)
		abort();
	free(text);
	return 0;
}
