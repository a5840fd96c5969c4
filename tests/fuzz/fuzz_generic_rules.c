/*
 * fuzz_generic_rules.c - fuzz target for the generic courier adapter's
 * condition and rule parser (collector/courier/generic_path.c), through
 * its public entry sw_generic_compile.
 *
 * The input is split at newlines: line 1 is status_rule_1, line 2
 * eta_unless, line 3 status_rule_2.  A description that compiles is then
 * used on a fixed answer (rules, eta_unless and their paths evaluated).
 * Beyond "no crash, no leak": a refused description leaves no spec and an
 * error text in the "KEY: what: 'text'" form; a result holds the contract
 * (status only when FOUND, in range).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collector/courier/generic.h"
#include "slipwatch/courier.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char answer[] =
    "{\"data\":[{\"awb\":\"A1\",\"Status\":{\"Status\":\"In Transit\",\"StatusType\":\"RT\","
    "\"Code\":300,\"Flag\":true,\"Nested\":{\"x\":[1,\"y\",{\"z\":null}]}},"
    "\"eta\":\"2026-11-20\",\"events\":[{\"t\":\"2026-11-19T10:00:00Z\",\"c\":\"IT\"}]}]}";

/* Line k (0-based) of data as a new string, or NULL if there is none. */
static char *line(const uint8_t *data, size_t size, int k)
{
	const uint8_t *p = data, *end = data + size, *nl;
	size_t len;
	char *s;

	for (; k > 0; k--) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			return NULL;
		p = nl + 1;
	}
	nl = memchr(p, '\n', (size_t)(end - p));
	len = nl ? (size_t)(nl - p) : (size_t)(end - p);
	s = malloc(len + 1);
	if (s == NULL)
		abort();
	memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

static void use(const struct sw_courier_generic *spec)
{
	struct sw_courier_conf cc = {.api_key = "k", .generic = spec};
	struct sw_courier_response resp = {200, "application/json", answer, sizeof(answer) - 1};
	const char *nums[] = {"A1"};
	struct sw_courier_result r;

	if (sw_courier_parse(&sw_courier_generic, &cc, &resp, nums, 1, &r) != SW_OK)
		abort();
	if ((r.outcome == SW_COURIER_FOUND) != ((unsigned)r.status < SW_SHIP_LAST))
		abort();
	if (r.has_eta && !sw_date_valid(&r.eta))
		abort();
	sw_courier_result_clear(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sw_generic_conf gc = {0};
	struct sw_courier_generic *spec = NULL;
	char err[512] = "";

	if (size > 4096)
		return 0;
	gc.url = "https://example.com/t/{tracking}";
	gc.header[0] = "X-Key: {api_key}";
	gc.path_shipment = "data[awb={tracking}]";
	gc.path_status = "Status.Status";
	gc.path_events = "events";
	gc.path_event_time = "t";
	gc.path_event_code = "c";
	gc.path_eta = "eta";
	gc.status_map[0] = "In Transit=in_transit, IT=in_transit";
	gc.batch_max = 1;
	gc.token_lifetime = 3600000;
	gc.status_rule[0] = line(data, size, 0);
	gc.eta_unless = line(data, size, 1);
	gc.status_rule[1] = line(data, size, 2);
	if (sw_generic_compile(&gc, &spec, err, sizeof(err)) == SW_OK) {
		if (spec == NULL)
			abort();
		use(spec);
		sw_generic_free(spec);
	} else if (spec != NULL || strstr(err, ": ") == NULL || strchr(err, '\'') == NULL) {
		abort();
	}
	free(gc.status_rule[0]);
	free(gc.eta_unless);
	free(gc.status_rule[1]);
	return 0;
}
