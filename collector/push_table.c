/*
 * push_table.c - the webhook kinds (one file each: push_aftership.c,
 * push_easypost.c) listed once, and the HMAC and constant-time comparison
 * they share (libcrypto, as alerts/chan_webhook.c signs its own).
 */
#include "config.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

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
