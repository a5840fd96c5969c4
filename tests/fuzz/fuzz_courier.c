/*
 * fuzz_courier.c - fuzz target for the courier adapters' parsers
 * (collector/courier/).
 *
 * Every input is handed to every adapter's parse_response (as HTTP 200 and
 * as 404, one number and, for batching adapters, three) and to every token
 * parser.  Beyond "no crash, no leak" the results must hold the contract:
 * outcome and error kind in range and consistent, a status only when FOUND,
 * never more than SW_COURIER_MAX_EVENTS events, events sorted, latest the
 * newest instant, strings capped.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collector/courier/generic.h"
#include "slipwatch/courier.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Numbers the corpus files answer (FedEx and Shiprocket match by number). */
static const char *const numbers[] = {"794612345678", "771234567890", "19041788231417"};

static void check_str(const char *s)
{
	if (s != NULL && strlen(s) > SW_COURIER_STR_MAX)
		abort();
}

static void check_result(const struct sw_courier_result *r)
{
	if ((unsigned)r->outcome >= SW_COURIER_OUTCOME_LAST ||
	    (unsigned)r->errkind >= SW_COURIER_ERR_LAST ||
	    (r->outcome == SW_COURIER_ERROR) != (r->errkind != SW_COURIER_ERR_NONE))
		abort();
	if (r->outcome != SW_COURIER_FOUND &&
	    (r->status != SW_SHIP_LAST || r->n_events != 0 || r->has_eta || r->has_delivered ||
	     r->has_latest || r->raw_code != NULL || r->signer != NULL))
		abort();
	if (r->outcome == SW_COURIER_FOUND && (unsigned)r->status >= SW_SHIP_LAST)
		abort();
	if (r->n_events > SW_COURIER_MAX_EVENTS || r->tracking_number == NULL)
		abort();
	check_str(r->message);
	check_str(r->raw_code);
	check_str(r->raw_text);
	check_str(r->signer);
	for (size_t i = 0; i < r->n_events; i++) {
		const struct sw_courier_event *e = &r->events[i];

		if ((unsigned)e->status >= SW_SHIP_LAST)
			abort();
		check_str(e->code);
		check_str(e->text);
		check_str(e->location);
		if (i > 0) {
			const struct sw_courier_event *p = &r->events[i - 1];

			if ((p->has_time && !e->has_time) ||
			    (p->has_time && e->has_time && p->at.utc_sec > e->at.utc_sec))
				abort();
		}
		if (r->has_latest && e->has_time && (e->at.flags & SW_TIME_HAS_OFFSET) &&
		    sw_time_cmp(&e->at, &r->latest) > 0)
			abort();
	}
	if (r->has_latest && !(r->latest.flags & SW_TIME_HAS_OFFSET))
		abort();
	if (r->has_eta && !sw_date_valid(&r->eta))
		abort();
}

static void run(const struct sw_courier *c, long status, const char *body, size_t size, size_t n)
{
	struct sw_courier_response resp = {status, "application/json", body, size};
	struct sw_courier_result res[3];

	if (c->parse_response(&resp, numbers, n, res) != SW_OK)
		abort();
	for (size_t i = 0; i < n; i++) {
		check_result(&res[i]);
		sw_courier_result_clear(&res[i]);
	}
}

/* The generic adapter, configured as a made-up courier would be: every
 * path kind, a [field=value] selector, a strptime-like time format. */
static struct sw_courier_generic *generic_spec(void)
{
	static struct sw_courier_generic *spec;
	static char url[] = "http://127.0.0.1/t?awb={tracking}", ship[] = "result.parcels[awb={tracking}]",
		    st[] = "state.code", stt[] = "state.label", ev[] = "history", et[] = "ts",
		    ec[] = "code", ex[] = "what", el[] = "hub", eo[] = "tz", eta[] = "eta",
		    dl[] = "pod.at", nf[] = "errors[awb={tracking}]", tf[] = "%d/%m/%Y %H:%M",
		    tz[] = "Asia/Kolkata", map[] = "MAN=info_received, HUB=in_transit, DLV=delivered";
	struct sw_generic_conf gc = {
		.url = url, .path_shipment = ship, .path_status = st, .path_status_text = stt,
		.path_events = ev, .path_event_time = et, .path_event_code = ec,
		.path_event_text = ex, .path_event_location = el, .path_event_offset = eo,
		.path_eta = eta, .path_delivered_at = dl, .path_not_found = nf,
		.not_found_status = 404, .time_format = tf, .time_zone = tz, .status_map = { map },
	};
	char err[256];

	if (spec == NULL && sw_generic_compile(&gc, &spec, err, sizeof(err)) != SW_OK)
		abort();
	return spec;
}

static void run_generic(long status, const char *body, size_t size)
{
	struct sw_courier_conf conf = { .generic = generic_spec() };
	struct sw_courier_response resp = {status, "application/json", body, size};
	struct sw_courier_result res[1];

	if (sw_courier_generic.parse_response_conf(&conf, &resp, numbers, 1, res) != SW_OK)
		abort();
	check_result(&res[0]);
	sw_courier_result_clear(&res[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;

	run_generic(200, body, size);
	run_generic(404, body, size);

	for (size_t i = 0; sw_courier_table[i] != NULL; i++) {
		const struct sw_courier *c = sw_courier_table[i];
		struct sw_courier_response resp = {200, NULL, body, size};
		struct sw_courier_token tok;
		char err[128];

		run(c, 200, body, size, 1);
		run(c, 404, body, size, 1);
		if (c->max_batch >= 3)
			run(c, 200, body, size, 3);
		if (c->parse_auth_response != NULL) {
			if (c->parse_auth_response(&resp, &tok, err, sizeof(err)) == SW_OK &&
			    (tok.token == NULL || tok.lifetime_s <= 0))
				abort();
			sw_courier_token_clear(&tok);
		}
	}
	return 0;
}
