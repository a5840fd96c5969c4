/*
 * push_table.c - the webhook kinds (one file each: push_aftership.c,
 * push_easypost.c) listed once, and what they share: the HMAC and
 * constant-time comparison (libcrypto, as alerts/chan_webhook.c signs its
 * own) and the reading of a documented envelope (sw_push_parse_envelope).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "collector/courier/common.h"
#include "collector/push.h"

const struct sw_push_kind *const sw_push_kinds[] = {
    [SW_PUSH_KIND_AFTERSHIP] = &sw_push_aftership,
    [SW_PUSH_KIND_EASYPOST] = &sw_push_easypost,
    [SW_PUSH_KIND_LAST] = NULL,
};

bool sw_push_hmac(const char *key, size_t keylen, const char *data, size_t len,
		  unsigned char mac[32])
{
	unsigned int n = 0;

	if (keylen > (size_t)INT32_MAX)
		return false;
	return HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)(data ? data : ""), len,
		    mac, &n) != NULL &&
	       n == 32;
}

bool sw_push_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

char *sw_push_oneline(char *s)
{
	for (char *p = s; p && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return s;
}

/* true if s is one of list (NULL-terminated). */
static bool one_of(const char *s, const char *const *list)
{
	for (; list && *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

enum sw_push_parsed sw_push_parse_envelope(const struct sw_push_envelope *env, const char *body,
					   size_t len, struct sw_courier_result *r,
					   char **ret_alt, char *err, size_t errlen)
{
	enum sw_push_parsed out = SW_PUSH_MALFORMED;
	const char *type, *event, *tn;
	json_error_t jerr;
	json_t *root, *obj;

	if (ret_alt)
		*ret_alt = NULL;
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		snprintf(err, errlen, "not JSON: %s (at byte %d)", jerr.text, jerr.position);
		sw_push_oneline(err); /* jansson's text quotes the body */
		return SW_PUSH_MALFORMED;
	}
	type = env->type_key ? sw_cj_str(root, env->type_key) : NULL;
	event = sw_cj_str(root, env->event_key);
	obj = sw_cj_get(root, env->object_key);
	tn = sw_cj_str(obj, env->number_key);
	if (!json_is_object(root) || event == NULL ||
	    (env->type_key && (type == NULL || strcmp(type, env->type_value) != 0))) {
		snprintf(err, errlen, "%s", env->not_this);
	} else if (!one_of(event, env->events)) {
		snprintf(err, errlen, "event %.64s carries no %s", event, env->carries);
		out = SW_PUSH_IGNORED;
	} else if (!json_is_object(obj) || tn == NULL) {
		snprintf(err, errlen, "%s without %s.%s", event, env->object_key, env->number_key);
	} else {
		r->tracking_number = sw_courier_strdup(tn);
		env->read(r, obj);
		if (r->outcome == SW_COURIER_FOUND) {
			out = SW_PUSH_UPDATE;
			if (ret_alt)
				*ret_alt = sw_cj_dup(obj, env->id_key);
		} else {
			snprintf(err, errlen, "%s: %s", env->object_key,
				 r->message ? r->message : "unusable");
		}
	}
	json_decref(root);
	sw_push_oneline(err); /* the event's name and reasons come from the body */
	return out;
}
