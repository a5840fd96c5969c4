/*
 * fuzz_push.h - the body of the two webhook fuzz targets
 * (fuzz_push_aftership.c, fuzz_push_easypost.c): the input is a signature
 * header line, then the body.  The signature check must not crash on any
 * header; the parser's answer must hold push.h's contract: an update is a
 * FOUND result with a tracking number, a status in range, events sorted
 * and capped, strings capped; anything else leaves no key and a reason
 * that is one printable line (it is logged and answered).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collector/push.h"
#include "slipwatch/courier.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fp_check_str(const char *s)
{
	if (s != NULL && strlen(s) > SW_COURIER_STR_MAX)
		abort();
}

static void fp_check_update(const struct sw_courier_result *r, const char *alt)
{
	if (r->outcome != SW_COURIER_FOUND || r->errkind != SW_COURIER_ERR_NONE ||
	    r->tracking_number == NULL || (unsigned)r->status >= SW_SHIP_LAST ||
	    r->n_events > SW_COURIER_MAX_EVENTS)
		abort();
	fp_check_str(r->tracking_number);
	fp_check_str(alt);
	fp_check_str(r->raw_code);
	fp_check_str(r->raw_text);
	fp_check_str(r->signer);
	for (size_t i = 0; i < r->n_events; i++) {
		const struct sw_courier_event *e = &r->events[i];

		if ((unsigned)e->status >= SW_SHIP_LAST)
			abort();
		fp_check_str(e->code);
		fp_check_str(e->text);
		fp_check_str(e->location);
		if (i > 0 && r->events[i - 1].has_time && !e->has_time)
			abort();
	}
}

static void fp_run(const struct sw_push_kind *k, const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size);
	size_t hl = nl ? (size_t)(nl - (const char *)data) : 0;
	char *sig = malloc(hl + 1), *alt = (char *)"x", err[256] = "";
	const char *body = nl ? nl + 1 : (const char *)data;
	size_t blen = nl ? size - hl - 1 : size;
	struct sw_courier_result r = {0};
	enum sw_push_parsed p;

	memcpy(sig, data, hl);
	sig[hl] = '\0';
	(void)k->verify("fuzz-secret-0123456789", 22, sig, body, blen);
	(void)k->verify("", 0, NULL, body, blen);
	p = k->parse(body, blen, &r, &alt, err, sizeof(err));
	if ((unsigned)p >= SW_PUSH_PARSED_LAST)
		abort();
	if (p == SW_PUSH_UPDATE)
		fp_check_update(&r, alt);
	else if (alt != NULL || err[0] == '\0')
		abort();
	for (const char *e = err; p != SW_PUSH_UPDATE && *e; e++)
		if ((unsigned char)*e < 0x20 || *e == 0x7f) /* one printable line */
			abort();
	sw_courier_result_clear(&r);
	free(alt);
	free(sig);
}
