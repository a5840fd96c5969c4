/*
 * common.h - helpers shared by the courier adapters (internal to
 * collector/courier/; the public contract is include/slipwatch/courier.h).
 *
 * Everything an adapter would otherwise repeat lives here, once: reading
 * typed values out of untrusted JSON by path, the HTTP status / content
 * type / body checks that precede any parsing, filling results, sorting
 * events, the token answer shared by the OAuth and login couriers, and
 * request building (URL joining, headers, Basic auth).  All pure; callable
 * from any thread.
 */
#ifndef SW_COURIER_COMMON_H
#define SW_COURIER_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "slipwatch/courier.h"

/* The adapters, one file per row of SW_COURIER_LIST (sw_courier_<name>). */
#define SW_COURIER_DECLARE_(name, display_name, api)                                               \
	extern const struct sw_courier sw_courier_##name;
SW_COURIER_LIST(SW_COURIER_DECLARE_)
#undef SW_COURIER_DECLARE_

/* ---- JSON by path ----------------------------------------------------- */
/* path is '.'-separated; a segment of digits indexes an array
 * ("shipment.0.package").  Missing or mistyped values give NULL/false;
 * node may be NULL. */

/* The value at path, or NULL. */
json_t *sw_cj_get(json_t *node, const char *path);

/* The string at path if it is a non-empty JSON string, else NULL.  The
 * pointer is into the tree (valid until it is freed). */
const char *sw_cj_str(json_t *node, const char *path);

/* A capped copy (SW_COURIER_STR_MAX) of sw_cj_str(node, path), or NULL. */
char *sw_cj_dup(json_t *node, const char *path);

/* The integer at path, given as a JSON integer or as a string of 1..18
 * ASCII digits ("011", UPS; "7", Shiprocket).  false if absent or not
 * such a value. */
bool sw_cj_int(json_t *node, const char *path, int64_t *ret_value);

/* The array at path, or NULL. */
json_t *sw_cj_array(json_t *node, const char *path);

/* ---- strings ---------------------------------------------------------- */

/* A copy of s cut to SW_COURIER_STR_MAX bytes at a UTF-8 boundary; NULL
 * for NULL. */
char *sw_courier_strdup(const char *s);

/* true if haystack contains needle, ignoring ASCII case. */
bool sw_courier_contains(const char *haystack, const char *needle);

/* ---- times ------------------------------------------------------------ */

/* Parses an RFC 3339-ish date-time (sw_time_parse).  true on success. */
bool sw_courier_time(const char *s, struct sw_time *ret_time);

/* The calendar date as written of s: "YYYY-MM-DD", a date-time in any
 * form sw_time_parse_any takes, or "YYYYMMDD".  true on success. */
bool sw_courier_date(const char *s, struct sw_date *ret_date);

/* ---- responses -------------------------------------------------------- */

/*
 * First step of every parse_response: initialises results[0..n-1] (each
 * ERROR bad_response "not in the answer" until the adapter says more), then
 * checks the HTTP status, content type, size and JSON syntax.  Returns the
 * parsed root (caller json_decref's) when the status is 2xx, or when it is
 * 404 and accept_404 is set, with a JSON body; *ret_status gets the HTTP
 * status.  Otherwise every result is set to ERROR of the right kind (a
 * 400 or 422: rejected and batch, as sw_courier_set_refused) and NULL is
 * returned.
 */
json_t *sw_courier_open(const struct sw_courier_response *resp, const char *const *numbers,
			size_t n, struct sw_courier_result *results, bool accept_404);

/* A refusal of the request as a whole (sw_courier_open does it for HTTP
 * 400 and 422, which are neither credentials, rate nor route): a number
 * the body names (as a whole word), or the only number asked, becomes
 * ERROR rejected; the others ERROR batch (the engine resends them without
 * the rejected ones, or bisects when none is named).  Messages are kept.
 * Also for a 2xx answer that refuses the batch (Shiprocket's 404 body). */
void sw_courier_set_refused(const struct sw_courier_response *resp, const char *const *numbers,
			    size_t n, struct sw_courier_result *results);

/* A short error text from a JSON error body (detail, message, title,
 * errors[0].message, response.errors[0].message, meta.message), capped; or
 * NULL. */
char *sw_courier_body_message(json_t *root);

/* Marks r FOUND with status and copies of raw code and text (may be NULL). */
void sw_courier_set_found(struct sw_courier_result *r, enum sw_ship_status status,
			  const char *raw_code, const char *raw_text);

/* Marks r NOT_FOUND with a copy of message (may be NULL); drops found data. */
void sw_courier_set_not_found(struct sw_courier_result *r, const char *message);

/* Marks r ERROR of kind with a formatted message; drops found data. */
void sw_courier_set_error(struct sw_courier_result *r, enum sw_courier_errkind kind,
			  const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Sets every result (0..n-1) ERROR as sw_courier_set_error. */
void sw_courier_set_error_all(struct sw_courier_result *r, size_t n, enum sw_courier_errkind kind,
			      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Checks an event array before reading it: true if arr is NULL/empty or
 * fits SW_COURIER_MAX_EVENTS; false (and r set to ERROR bad_response) if
 * not an array or too long. */
bool sw_courier_events_fit(struct sw_courier_result *r, json_t *arr, const char *what);

/* Appends an empty event (status SW_SHIP_UNKNOWN) to r and returns it.
 * Call only after sw_courier_events_fit. */
struct sw_courier_event *sw_courier_event_add(struct sw_courier_result *r);

/* Sorts r's events oldest first (stable; untimed first; zone-unknown by
 * wall clock) and sets latest from the newest instant. */
void sw_courier_finish(struct sw_courier_result *r);

/* Index of number in numbers[0..n-1], or -1. */
long sw_courier_find_number(const char *const *numbers, size_t n, const char *number);

/* Parses an OAuth/login token answer: the token in field token_field,
 * lifetime from "expires_in" (integer or digit string) or default_life.
 * Return codes as sw_courier.parse_auth_response. */
enum sw_err sw_courier_parse_token(const struct sw_courier_response *resp, const char *token_field,
				   int64_t default_life, struct sw_courier_token *ret_tok,
				   char *errbuf, size_t errlen);

/* ---- requests --------------------------------------------------------- */

/* Checks numbers[0..n-1] against max: SW_ERANGE, SW_EINVAL or SW_OK as
 * sw_courier.build_request. */
enum sw_err sw_courier_check_numbers(const char *const *numbers, size_t n, size_t max);

/* The opening every build_request shares: SW_EINVAL without conf or
 * ret_req, else *ret_req emptied and the numbers checked against the
 * adapter's max_batch (sw_courier_check_numbers). */
enum sw_err sw_courier_build_start(const struct sw_courier_conf *conf,
				   struct sw_courier_request *ret_req,
				   const char *const *numbers, size_t n, size_t max_batch);

/* true if s is a usable credential or token: non-empty, no control bytes
 * (which could split a header), at most SW_COURIER_TOKEN_MAX bytes. */
bool sw_courier_cred_ok(const char *s);

/* conf->base_url (or fallback if NULL) without a trailing '/'; new string. */
char *sw_courier_base(const struct sw_courier_conf *conf, const char *fallback);

/* Empties req and sets method and url (taken over: must be malloc'd). */
void sw_courier_req_init(struct sw_courier_request *req, enum sw_courier_method method, char *url);

/* Adds a header with a formatted value (aborts past
 * SW_COURIER_MAX_HEADERS: a programming error). */
void sw_courier_req_header(struct sw_courier_request *req, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Takes over body (malloc'd, NUL-terminated) as the request body. */
void sw_courier_req_body(struct sw_courier_request *req, char *body);

/* "user:pass" base64-encoded (RFC 7617 Basic credentials); new string. */
char *sw_courier_basic_auth(const char *user, const char *pass);

#endif /* SW_COURIER_COMMON_H */
