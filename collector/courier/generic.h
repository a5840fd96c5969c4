/*
 * generic.h - the generic courier adapter: a tracking API described
 * entirely in the configuration ([courier NAME] with adapter = generic).
 * doc/couriers.md ("The generic adapter") is the reference of the keys,
 * with three worked examples (USPS v3, Delhivery, EasyPost).
 *
 * The poll engine's option table fills struct sw_generic_conf (raw texts);
 * sw_generic_compile() checks every text and turns it into an opaque
 * struct sw_courier_generic, which the engine hands to the adapter in
 * struct sw_courier_conf.generic.  The adapter (sw_courier_generic) answers
 * its auth kind (auth_of), batch size (max_batch_of), builds token requests
 * (OAuth2 client credentials with a form or JSON body, or a JSON login) and
 * reads their answers (parse_auth_response_conf), builds tracking requests
 * from the templates and reads answers through parse_response_conf (plain
 * parse_response answers SW_EINVAL: it cannot know the paths).
 *
 * Templates (url, body, header values) take {tracking} (the numbers of a
 * batch joined by batch_separator), {api_key}, {token} (headers only) and
 * {numbers} (body only: a JSON array); "{word}" with any other lowercase
 * word is an error, any other '{' is literal (JSON bodies).  In url values
 * are percent-encoded, in body escaped for a JSON string, in headers
 * inserted as they are (control bytes refused).
 *
 * Paths are '.'-separated object keys, each optionally followed by array
 * selectors: [N] (index) or [field=value] (first element whose field is
 * the string, integer or boolean value; field may be dotted, a.b; value
 * may be {tracking}).  Example: "ShipmentData[Shipment.AWB={tracking}]".
 * path_shipment, path_not_found, path_rejected and path_error* are read
 * from the root, path_event_* from each element of path_events, the
 * others (and rule conditions) from the shipment.
 *
 * Conditions (status_rule_N "COND & COND -> status", eta_unless "COND &
 * COND"): path=a|b, path!=a|b, path~text, path, !path, and in eta_unless
 * @status=a|b / @status!=a|b on the status decided.
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
#define SW_GENERIC_RULES   8 /* status_rule_1 .. status_rule_8 */

/* The raw settings of one generic section (strings owned by the caller's
 * option table; NULL when not set). */
struct sw_generic_conf {
	char *url;			     /* template, http(s)://... */
	int method;			     /* enum sw_courier_method */
	char *body;			     /* template, POST only */
	char *header[SW_GENERIC_HEADERS];    /* "Name: value template" */
	char *path_shipment;		     /* from the root; NULL: root */
	char *path_status;		     /* shipment status code */
	char *path_status_text;		     /* shipment status text */
	char *path_events;		     /* array of events */
	char *path_event_time;		     /* in an event */
	char *path_event_code;		     /* in an event */
	char *path_event_text;		     /* in an event */
	char *path_event_location;	     /* in an event */
	char *path_event_offset;	     /* in an event: "+05:30" */
	char *path_eta;			     /* estimated delivery date */
	char *path_delivered_at;	     /* delivery time */
	char *path_not_found;		     /* from the root: present = NF */
	int64_t not_found_status;	     /* HTTP status meaning NF; 0 none */
	char *time_format;		     /* rfc3339 (NULL), epoch, epoch_ms
						or a %Y %m %d %H %M %S %z %b
						pattern */
	char *time_zone;		     /* IANA zone for zone-less times */
	char *status_map[SW_GENERIC_MAPS];   /* "CODE=status, ..." */
	char *status_rule[SW_GENERIC_RULES]; /* "COND & COND -> status" */
	char *eta_unless;		     /* "COND & COND": no ETA then */
	int auth;			     /* sw_generic_auth_words index */
	int auth_body;			     /* 0 form, 1 json (auth = oauth) */
	char *auth_scope;		     /* OAuth scope, or NULL */
	char *login_user_field;		     /* login JSON key of username */
	char *token_path;		     /* in the token answer */
	char *token_lifetime_path;	     /* in the token answer */
	int64_t token_lifetime;		     /* ms, when the answer has none */
	int64_t batch_max;		     /* numbers per request, 1..50 */
	char *batch_separator;		     /* between numbers in url */
	char *batch_item;		     /* {numbers} element template */
	char *path_error;		     /* from the root: error message */
	char *path_error_code;		     /* from the root: error code */
	char *path_rejected;		     /* from the root: per-number error */
	int64_t invalid_status;		     /* HTTP status: number invalid */
	char *invalid_codes;		     /* error codes: number invalid */
};

/* Words of the auth option: static key in templates, HTTP Basic from
 * api_key:api_secret, OAuth2 client credentials, login for a token. */
extern const char *const sw_generic_auth_words[];
/* Words of the auth_body option. */
extern const char *const sw_generic_auth_body_words[];

/* Words of the method option (enum sw_courier_method). */
extern const char *const sw_generic_method_words[];

/* The generic adapter's rows of the [courier NAME] option table
 * (collector/poll_conf.c), C(f) being offsetof the section's struct, whose
 * member generic is a struct sw_generic_conf.  One row per key; add keys
 * here. */
#define G_(f) C(generic.f)
#define SW_GENERIC_CONF_ROWS(C)                                                                    \
    {.name = "url", .type = SW_CONF_STRING, .offset = G_(url),                                     \
     .help = "generic: tracking URL template, http(s), {tracking} and {api_key} URL-escaped"},     \
    {.name = "method", .type = SW_CONF_ENUM, .offset = G_(method), .words = sw_generic_method_words, \
     .def = "GET", .help = "generic: GET or POST"},                                                \
    {.name = "body", .type = SW_CONF_STRING, .offset = G_(body),                                   \
     .help = "generic: POST body template ({tracking} {api_key} JSON-escaped)"},                   \
    {.name = "header_1", .type = SW_CONF_STRING, .offset = G_(header[0]),                          \
     .help = "generic: 'Name: value' header; credentials only as {api_key}"},                      \
    {.name = "header_2", .type = SW_CONF_STRING, .offset = G_(header[1]),                          \
     .help = "generic: another 'Name: value' header"},                                             \
    {.name = "header_3", .type = SW_CONF_STRING, .offset = G_(header[2]),                          \
     .help = "generic: another 'Name: value' header"},                                             \
    {.name = "header_4", .type = SW_CONF_STRING, .offset = G_(header[3]),                          \
     .help = "generic: another 'Name: value' header"},                                             \
    {.name = "path_shipment", .type = SW_CONF_STRING, .offset = G_(path_shipment),                 \
     .help = "generic: path from the root to the shipment, e.g. data.items[awb={tracking}]"},      \
    {.name = "path_status", .type = SW_CONF_STRING, .offset = G_(path_status),                     \
     .help = "generic: shipment status code (mapped by status_map)"},                              \
    {.name = "path_status_text", .type = SW_CONF_STRING, .offset = G_(path_status_text),           \
     .help = "generic: shipment status text"},                                                     \
    {.name = "path_events", .type = SW_CONF_STRING, .offset = G_(path_events),                     \
     .help = "generic: the shipment's array of events"},                                           \
    {.name = "path_event_time", .type = SW_CONF_STRING, .offset = G_(path_event_time),             \
     .help = "generic: event time (read with time_format)"},                                       \
    {.name = "path_event_code", .type = SW_CONF_STRING, .offset = G_(path_event_code),             \
     .help = "generic: event code (mapped by status_map)"},                                        \
    {.name = "path_event_text", .type = SW_CONF_STRING, .offset = G_(path_event_text),             \
     .help = "generic: event description"},                                                        \
    {.name = "path_event_location", .type = SW_CONF_STRING,                                        \
     .offset = G_(path_event_location), .help = "generic: event place"},                           \
    {.name = "path_event_offset", .type = SW_CONF_STRING, .offset = G_(path_event_offset),         \
     .help = "generic: UTC offset of a zone-less event time ('+05:30')"},                          \
    {.name = "path_eta", .type = SW_CONF_STRING, .offset = G_(path_eta),                           \
     .help = "generic: estimated delivery date (kept as written)"},                                \
    {.name = "path_delivered_at", .type = SW_CONF_STRING, .offset = G_(path_delivered_at),         \
     .help = "generic: delivery time"},                                                            \
    {.name = "path_not_found", .type = SW_CONF_STRING, .offset = G_(path_not_found),               \
     .help = "generic: path from the root whose presence means not found"},                        \
    {.name = "not_found_status", .type = SW_CONF_INT, .offset = G_(not_found_status),              \
     .min = 0, .max = 499, .def = "0", .help = "generic: HTTP status meaning not found; 0: none"}, \
    {.name = "time_format", .type = SW_CONF_STRING, .offset = G_(time_format),                     \
     .help = "generic: rfc3339 (default), epoch, epoch_ms or a pattern like %d/%m/%Y %H:%M"},      \
    {.name = "time_zone", .type = SW_CONF_STRING, .offset = G_(time_zone),                         \
     .help = "generic: IANA zone of zone-less times (default: flagged zone-unknown)"},             \
    {.name = "status_map", .type = SW_CONF_STRING, .offset = G_(status_map[0]),                    \
     .help = "generic: CODE=status, ... (canonical statuses; unmapped codes: unknown)"},           \
    {.name = "status_map_2", .type = SW_CONF_STRING, .offset = G_(status_map[1]),                  \
     .help = "generic: more of status_map"},                                                       \
    {.name = "status_map_3", .type = SW_CONF_STRING, .offset = G_(status_map[2]),                  \
     .help = "generic: more of status_map"},                                                       \
    {.name = "status_map_4", .type = SW_CONF_STRING, .offset = G_(status_map[3]),                  \
     .help = "generic: more of status_map"},                                                       \
    {.name = "status_rule_1", .type = SW_CONF_STRING, .offset = G_(status_rule[0]),                \
     .help = "generic: 'COND & COND -> status', tried before status_map (first match wins)"},     \
    {.name = "status_rule_2", .type = SW_CONF_STRING, .offset = G_(status_rule[1]),                \
     .help = "generic: another status rule"},                                                      \
    {.name = "status_rule_3", .type = SW_CONF_STRING, .offset = G_(status_rule[2]),                \
     .help = "generic: another status rule"},                                                      \
    {.name = "status_rule_4", .type = SW_CONF_STRING, .offset = G_(status_rule[3]),                \
     .help = "generic: another status rule"},                                                      \
    {.name = "status_rule_5", .type = SW_CONF_STRING, .offset = G_(status_rule[4]),                \
     .help = "generic: another status rule"},                                                      \
    {.name = "status_rule_6", .type = SW_CONF_STRING, .offset = G_(status_rule[5]),                \
     .help = "generic: another status rule"},                                                      \
    {.name = "status_rule_7", .type = SW_CONF_STRING, .offset = G_(status_rule[6]),                \
     .help = "generic: another status rule"},                                                      \
    {.name = "status_rule_8", .type = SW_CONF_STRING, .offset = G_(status_rule[7]),                \
     .help = "generic: another status rule"},                                                      \
    {.name = "eta_unless", .type = SW_CONF_STRING, .offset = G_(eta_unless),                       \
     .help = "generic: 'COND & COND': drop the ETA when they hold (@status=returned)"},            \
    {.name = "auth", .type = SW_CONF_ENUM, .offset = G_(auth), .words = sw_generic_auth_words,     \
     .def = "header", .help = "generic: header ({api_key} in templates), basic, oauth or login"}, \
    {.name = "auth_body", .type = SW_CONF_ENUM, .offset = G_(auth_body),                           \
     .words = sw_generic_auth_body_words, .def = "form",                                           \
     .help = "generic: OAuth token request body: form or json"},                                   \
    {.name = "auth_scope", .type = SW_CONF_STRING, .offset = G_(auth_scope),                       \
     .help = "generic: OAuth scope sent with the token request"},                                  \
    {.name = "login_user_field", .type = SW_CONF_STRING, .offset = G_(login_user_field),           \
     .help = "generic: login JSON key of the username (default email)"},                           \
    {.name = "token_path", .type = SW_CONF_STRING, .offset = G_(token_path),                       \
     .help = "generic: token in the token answer (default access_token)"},                         \
    {.name = "token_lifetime_path", .type = SW_CONF_STRING, .offset = G_(token_lifetime_path),     \
     .help = "generic: seconds the token lives, in the answer (default expires_in)"},              \
    {.name = "token_lifetime", .type = SW_CONF_DURATION, .offset = G_(token_lifetime),             \
     .min = 60000, .max = INT64_C(30) * 86400000, .def = "1h",                                     \
     .help = "generic: token lifetime when the answer gives none"},                                \
    {.name = "batch_max", .type = SW_CONF_INT, .offset = G_(batch_max), .min = 1,                  \
     .max = SW_COURIER_BATCH_MAX, .def = "1", .help = "generic: numbers per request"},             \
    {.name = "batch_separator", .type = SW_CONF_STRING, .offset = G_(batch_separator),             \
     .help = "generic: between the numbers {tracking} gives in url (default ,)"},                  \
    {.name = "batch_item", .type = SW_CONF_STRING, .offset = G_(batch_item),                       \
     .help = "generic: JSON template of one element of {numbers} (default \"{tracking}\")"},      \
    {.name = "path_error", .type = SW_CONF_STRING, .offset = G_(path_error),                       \
     .help = "generic: path from the root to an error message (answer is an error)"},              \
    {.name = "path_error_code", .type = SW_CONF_STRING, .offset = G_(path_error_code),             \
     .help = "generic: path from the root to an error code (see invalid_codes)"},                  \
    {.name = "path_rejected", .type = SW_CONF_STRING, .offset = G_(path_rejected),                 \
     .help = "generic: path from the root to a per-number error, e.g. errors[awb={tracking}]"},    \
    {.name = "invalid_status", .type = SW_CONF_INT, .offset = G_(invalid_status), .min = 0,        \
     .max = 499, .def = "0", .help = "generic: HTTP status meaning the number is invalid; 0: none"}, \
    {.name = "invalid_codes", .type = SW_CONF_STRING, .offset = G_(invalid_codes),                 \
     .help = "generic: CODE, ...: error codes meaning the number is invalid"},                     \

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
