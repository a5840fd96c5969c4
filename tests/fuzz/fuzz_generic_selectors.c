/*
 * fuzz_generic_selectors.c - fuzz target for the generic courier adapter's
 * path and selector parser (collector/courier/generic_path.c): paths with
 * [N], [field=value], [a.b={tracking}] read out of a fixed batch answer.
 *
 * The input is split at newlines: line 1 is path_shipment, line 2
 * path_status, line 3 path_rejected.  A description that compiles (as a
 * batch of 3 when path_shipment selects by {tracking}) parses a fixed
 * answer for three numbers.  Beyond "no crash, no leak": refused texts
 * leave no spec and a "KEY: what: 'text'" error; every result is filled
 * and holds the contract.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collector/courier/generic.h"
#include "slipwatch/courier.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char answer[] =
    "{\"ShipmentData\":[{\"Shipment\":{\"AWB\":\"A1\",\"Status\":{\"Status\":\"Delivered\"}}},"
    "{\"Shipment\":{\"AWB\":\"A2\",\"Status\":{\"Status\":\"In Transit\"}}},"
    "{\"Shipment\":{\"AWB\":7,\"Status\":{\"Status\":[1,2]}}}],"
    "\"errors\":[{\"awb\":\"A3\",\"message\":\"bad number\"}],\"n\":[[[[1]]]]}";

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
	const char *nums[] = {"A1", "A3", "7"};
	size_t n = sw_courier_max_batch(&sw_courier_generic, &cc) >= 3 ? 3 : 1;
	struct sw_courier_result r[3];

	if (sw_courier_parse(&sw_courier_generic, &cc, &resp, nums, n, r) != SW_OK)
		abort();
	for (size_t i = 0; i < n; i++) {
		if ((r[i].outcome == SW_COURIER_FOUND) != ((unsigned)r[i].status < SW_SHIP_LAST) ||
		    r[i].tracking_number == NULL ||
		    (r[i].outcome == SW_COURIER_ERROR) != (r[i].errkind != SW_COURIER_ERR_NONE))
			abort();
		sw_courier_result_clear(&r[i]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sw_generic_conf gc = {0};
	struct sw_courier_generic *spec = NULL;
	char err[512] = "";

	if (size > 4096)
		return 0;
	gc.url = "https://example.com/t?n={tracking}";
	gc.status_map[0] = "Delivered=delivered, In Transit=in_transit";
	gc.token_lifetime = 3600000;
	gc.path_shipment = line(data, size, 0);
	gc.path_status = line(data, size, 1);
	gc.path_rejected = line(data, size, 2);
	gc.batch_max = gc.path_shipment && strstr(gc.path_shipment, "{tracking}") ? 3 : 1;
	if (gc.path_status == NULL || *gc.path_status == '\0') {
		free(gc.path_status);
		gc.path_status = strdup("Status.Status");
	}
	if (sw_generic_compile(&gc, &spec, err, sizeof(err)) == SW_OK) {
		if (spec == NULL)
			abort();
		use(spec);
		sw_generic_free(spec);
	} else if (spec != NULL || strstr(err, ": ") == NULL || strchr(err, '\'') == NULL) {
		abort();
	}
	free(gc.path_shipment);
	free(gc.path_status);
	free(gc.path_rejected);
	return 0;
}
