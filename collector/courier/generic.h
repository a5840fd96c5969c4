/*
 * generic.h - the generic courier adapter: a tracking API described
 * entirely in the configuration ([courier NAME] with adapter = generic).
 *
 * The poll engine's option table fills struct sw_generic_conf (raw texts);
 * sw_generic_compile() checks every text and turns it into an opaque
 * struct sw_courier_generic, which the engine hands to the adapter in
 * struct sw_courier_conf.generic.  The adapter (sw_courier_generic) builds
 * one request per number from the templates and reads answers through its
 * parse_response_conf hook (plain parse_response answers SW_EINVAL: it
 * cannot know the paths).
 *
 * Templates (url, body, header values) take {tracking} and {api_key};
 * "{word}" with any other lowercase word is an error, any other '{' is
 * literal (JSON bodies).  In url both values are percent-encoded, in body
 * they are escaped for a JSON string, in headers they are inserted as they
 * are (control bytes refused).
 *
 * Paths are '.'-separated object keys, each optionally followed by array
 * selectors: [N] (index) or [field=value] (first element whose field is
 * the string or integer value; value may be {tracking}).  Example:
 * "result.parcels[awb={tracking}].history".  path_shipment is read from
 * the root, path_not_found from the root, all others from the shipment,
 * path_event_* from each element of path_events.
 */
#ifndef SW_COURIER_GENERIC_H
#define SW_COURIER_GENERIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "slipwatch/courier.h"

#define SW_GENERIC_HEADERS 4 /* header_1 .. header_4 */
#define SW_GENERIC_MAPS	   4 /* status_map, status_map_2 .. _4 */

/* The raw settings of one generic section (strings owned by the caller's
 * option table; NULL when not set). */
struct sw_generic_conf {
	char *url;			   /* template, http(s)://... */
	int method;			   /* enum sw_courier_method */
	char *body;			   /* template, POST only */
	char *header[SW_GENERIC_HEADERS];  /* "Name: value template" */
	char *path_shipment;		   /* from the root; NULL: root */
	char *path_status;		   /* shipment status code */
	char *path_status_text;		   /* shipment status text */
	char *path_events;		   /* array of events */
	char *path_event_time;		   /* in an event */
	char *path_event_code;		   /* in an event */
	char *path_event_text;		   /* in an event */
	char *path_event_location;	   /* in an event */
	char *path_event_offset;	   /* in an event: "+05:30" */
	char *path_eta;			   /* estimated delivery date */
	char *path_delivered_at;	   /* delivery time */
	char *path_not_found;		   /* from the root: present = NF */
	int64_t not_found_status;	   /* HTTP status meaning NF; 0 none */
	char *time_format;		   /* rfc3339 (NULL), epoch, epoch_ms
					      or a %Y %m %d %H %M %S %z %b
					      pattern */
	char *time_zone;		   /* IANA zone for zone-less times */
	char *status_map[SW_GENERIC_MAPS]; /* "CODE=status, ..." */
};

/* The adapter (not in sw_courier_table: it needs its configuration). */
extern const struct sw_courier sw_courier_generic;

/*
 * Checks gc and compiles it.  SW_OK with *ret_spec (free with
 * sw_generic_free), or SW_ECONF with *ret_spec NULL and errbuf holding
 * "KEY: what: 'bad text'" (the caller prefixes file, line and section).
 * Loads time_zone from tzdata (one thread only, as sw_tz_*).
 */
enum sw_err sw_generic_compile(const struct sw_generic_conf *gc,
			       struct sw_courier_generic **ret_spec, char *errbuf, size_t errlen);

/* Frees a compiled spec; NULL is a no-op. */
void sw_generic_free(struct sw_courier_generic *spec);

/* The key of the first generic option set in gc (to reject them in other
 * adapters' sections), or NULL if none is. */
const char *sw_generic_conf_used(const struct sw_generic_conf *gc);

#endif /* SW_COURIER_GENERIC_H */
