/*
 * push_aftership.c - AfterShip tracking webhooks (a kind of push.h).
 *
 * Signature (aftership.com/docs/tracking/webhook/webhook-signature): header
 * aftership-hmac-sha256 = base64(HMAC-SHA256(webhook secret, raw body)).
 * Payload (.../webhook/webhook-specifications): {"event", "event_id",
 * "is_tracking_first_tag", "msg": {tracking object}, "ts"}; events
 * tracking_update and edd_revise carry the tracking, which is read as the
 * API's data.tracking is (collector/courier/aftership.h).  Other events
 * (tracking_pending_time, ...) are answered 200 and applied to nothing.
 * The tracking is matched by msg.tracking_number, then by msg.id
 * (AfterShip's tracking id, the number the aftership adapter polls by).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "collector/courier/aftership.h"
#include "collector/courier/common.h"
#include "collector/push.h"
#include "lib/xmalloc.h"

#define B64_LEN 44 /* base64 of 32 bytes, padded */

static bool as_verify(const char *key, size_t keylen, const char *sig, const char *body, size_t len)
{
	unsigned char mac[32], want[B64_LEN + 1];
	size_t n;

	if (sig == NULL || !sw_push_hmac(key, keylen, body, len, mac))
		return false;
	while (*sig == ' ' || *sig == '\t')
		sig++;
	n = strnlen(sig, SW_PUSH_SIG_MAX);
	while (n > 0 && (sig[n - 1] == ' ' || sig[n - 1] == '\t'))
		n--;
	if (EVP_EncodeBlock(want, mac, 32) != B64_LEN || n != B64_LEN)
		return false;
	return sw_push_equal(want, sig, B64_LEN);
}

static enum sw_push_parsed as_parse(const char *body, size_t len, struct sw_courier_result *r,
				    char **ret_alt, char *err, size_t errlen)
{
	json_t *root, *msg;
	json_error_t jerr;
	const char *event, *tn;
	enum sw_push_parsed out = SW_PUSH_MALFORMED;

	if (ret_alt)
		*ret_alt = NULL;
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		snprintf(err, errlen, "not JSON: %s (at byte %d)", jerr.text, jerr.position);
		sw_push_oneline(err);
		return SW_PUSH_MALFORMED;
	}
	event = sw_cj_str(root, "event");
	msg = sw_cj_get(root, "msg");
	tn = sw_cj_str(msg, "tracking_number");
	if (!json_is_object(root) || event == NULL) {
		snprintf(err, errlen, "no \"event\": not an AfterShip webhook");
	} else if (strcmp(event, "tracking_update") != 0 && strcmp(event, "edd_revise") != 0) {
		snprintf(err, errlen, "event %.64s carries no tracking update", event);
		out = SW_PUSH_IGNORED;
	} else if (!json_is_object(msg) || tn == NULL) {
		snprintf(err, errlen, "%s without msg.tracking_number", event);
	} else {
		r->tracking_number = sw_courier_strdup(tn);
		sw_aftership_tracking(r, msg);
		if (r->outcome == SW_COURIER_FOUND) {
			out = SW_PUSH_UPDATE;
			if (ret_alt)
				*ret_alt = sw_cj_dup(msg, "id");
		} else {
			snprintf(err, errlen, "msg: %s", r->message ? r->message : "unusable");
		}
	}
	json_decref(root);
	sw_push_oneline(err); /* jansson's text quotes the body */
	return out;
}

const struct sw_push_kind sw_push_aftership = {
    .name = "aftership",
    .sig_header = "aftership-hmac-sha256",
    .verify = as_verify,
    .parse = as_parse,
};
