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

static const char *const as_events[] = {"tracking_update", "edd_revise", NULL};

static const struct sw_push_envelope as_envelope = {
    .event_key = "event",
    .events = as_events,
    .object_key = "msg",
    .number_key = "tracking_number",
    .id_key = "id",
    .not_this = "no \"event\": not an AfterShip webhook",
    .carries = "tracking update",
    .read = sw_aftership_tracking,
};

static enum sw_push_parsed as_parse(const char *body, size_t len, struct sw_courier_result *r,
				    char **ret_alt, char *err, size_t errlen)
{
	return sw_push_parse_envelope(&as_envelope, body, len, r, ret_alt, err, errlen);
}

const struct sw_push_kind sw_push_aftership = {
    .name = "aftership",
    .sig_header = "aftership-hmac-sha256",
    .verify = as_verify,
    .parse = as_parse,
};
