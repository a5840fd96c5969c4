/*
 * curl_bare.c - the baseline of bench/courier-poll.sh: a bare libcurl multi
 * client doing the same tracking lookups as bench/poll_bench against the
 * same fake courier server, and nothing else.
 *
 * usage: curl_bare PORT N [CONCURRENCY [dhl|fedex]]
 *
 * dhl (default): N GETs /dhl/track/shipments?trackingNumber=NUMBER with
 * the DHL-API-Key and Accept headers, the same numbers poll_bench uses.
 * fedex: one token request first (timed, as the engine's is), then POSTs of
 * up to 30 numbers to /fedex/track/v1/trackingnumbers with the Bearer token.
 * CONCURRENCY (default 8) easy handles are kept and reused, each on its own
 * keep-alive connection (the multi handle's connection cache), driven by
 * curl_multi_perform / curl_multi_poll.  Bodies are counted and dropped.
 * Timed (CLOCK_MONOTONIC) from the first request to the last answer; fails
 * unless every answer was a 200.
 *
 * Prints: "lookups N seconds S" and "requests R bytes B".
 */
#include "config.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "lib/xmalloc.h"
#include "bench/bench.h"

#define FEDEX_BATCH 30

struct slot {
	CURL *easy;
	struct curl_slist *hdrs;
	char *url, *body;
	long numbers; /* lookups in the request in flight */
};

struct bench {
	long port, n, next; /* next: first number not sent yet */
	bool fedex;
	char *token;
	uint64_t bytes, requests;
	long ok;       /* lookups answered 200 */
	long in_flight; /* transfers added and not finished */
};

static size_t count_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct bench *b = arg;

	(void)data;
	b->bytes += size * nmemb;
	return size * nmemb;
}

/* The token response body, kept (small). */
static size_t keep_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	char **acc = arg;
	size_t old = *acc ? strlen(*acc) : 0, len = size * nmemb;

	if (old + len > 65536)
		return 0;
	*acc = xreallocarray(*acc, old + len + 1, 1);
	memcpy(*acc + old, data, len);
	(*acc)[old + len] = '\0';
	return len;
}

/* One blocking token request (FedEx client credentials); exits on failure. */
static void fedex_token(struct bench *b)
{
	char *url = xasprintf("http://127.0.0.1:%ld/fedex/oauth/token", b->port);
	char *body = NULL, *p, *q;
	CURL *e = curl_easy_init();
	long http = 0;

	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, "grant_type=client_credentials&client_id=bench-key"
						"&client_secret=bench-secret");
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, keep_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &body);
	if (curl_easy_perform(e) != CURLE_OK || curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &http) ||
	    http != 200 || body == NULL || (p = strstr(body, "\"access_token\"")) == NULL ||
	    (p = strchr(p + 14, '"')) == NULL || (q = strchr(p + 1, '"')) == NULL) {
		fprintf(stderr, "curl_bare: token request failed (HTTP %ld)\n", http);
		exit(1);
	}
	b->token = xstrndup(p + 1, (size_t)(q - p - 1));
	b->requests++;
	curl_easy_cleanup(e);
	free(body);
	free(url);
}

/* Points s at the next request (numbers b->next...); false when done. */
static bool slot_next(struct bench *b, struct slot *s)
{
	long k = b->fedex ? FEDEX_BATCH : 1;
	size_t len = 0, size;

	if (b->next >= b->n)
		return false;
	if (k > b->n - b->next)
		k = b->n - b->next;
	free(s->url);
	free(s->body);
	s->url = s->body = NULL;
	if (!b->fedex) {
		s->url = xasprintf("http://127.0.0.1:%ld/dhl/track/shipments?"
				   "trackingNumber=00340434%012ld",
				   b->port, b->next);
	} else {
		s->url = xasprintf("http://127.0.0.1:%ld/fedex/track/v1/trackingnumbers", b->port);
		size = 64 + (size_t)k * 96;
		s->body = xmalloc(size);
		len = (size_t)snprintf(s->body, 64, "{\"includeDetailedScans\":true,"
						    "\"trackingInfo\":[");
		for (long i = 0; i < k; i++)
			len += (size_t)snprintf(s->body + len, size - len,
						"%s{\"trackingNumberInfo\":{\"trackingNumber\":"
						"\"79%010ld\"}}",
						i ? "," : "", b->next + i);
		snprintf(s->body + len, size - len, "]}");
		curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, s->body);
	}
	curl_easy_setopt(s->easy, CURLOPT_URL, s->url);
	s->numbers = k;
	b->next += k;
	return true;
}

static void slot_init(struct bench *b, struct slot *s)
{
	char *auth;

	s->easy = curl_easy_init();
	if (!b->fedex) {
		s->hdrs = curl_slist_append(s->hdrs, "DHL-API-Key: bench-key");
	} else {
		auth = xasprintf("Authorization: Bearer %s", b->token);
		s->hdrs = curl_slist_append(s->hdrs, auth);
		free(auth);
		s->hdrs = curl_slist_append(s->hdrs, "Content-Type: application/json");
		s->hdrs = curl_slist_append(s->hdrs, "Expect:");
	}
	s->hdrs = curl_slist_append(s->hdrs, "Accept: application/json");
	curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, s->hdrs);
	curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, count_cb);
	curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(s->easy, CURLOPT_PRIVATE, s);
	curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->easy, CURLOPT_TIMEOUT_MS, 30000L);
}

/* Handles every finished transfer: counts it, starts the slot's next. */
static void drain(struct bench *b, CURLM *multi)
{
	struct slot *s;
	CURLMsg *msg;
	long http;
	int left;

	while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
		http = 0;
		curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &http);
		if (msg->data.result != CURLE_OK || http != 200) {
			fprintf(stderr, "curl_bare: %s: %s, HTTP %ld\n", s->url,
				curl_easy_strerror(msg->data.result), http);
			exit(1);
		}
		b->ok += s->numbers;
		b->in_flight--;
		curl_multi_remove_handle(multi, s->easy);
		if (slot_next(b, s)) {
			curl_multi_add_handle(multi, s->easy);
			b->in_flight++;
			b->requests++;
		}
	}
}

int main(int argc, char **argv)
{
	struct bench b = {0};
	struct slot *slots;
	CURLM *multi;
	long conc;
	int running;
	double t0, t1;

	if (argc < 3 || argc > 5 || (argc == 5 && strcmp(argv[4], "dhl") != 0 &&
				     strcmp(argv[4], "fedex") != 0)) {
		fprintf(stderr, "usage: curl_bare PORT N [CONCURRENCY [dhl|fedex]]\n");
		return 2;
	}
	b.port = arg_long("curl_bare", argv[1], "PORT", 65535);
	b.n = arg_long("curl_bare", argv[2], "N", 1000000);
	conc = argc > 3 ? arg_long("curl_bare", argv[3], "CONCURRENCY", 64) : 8;
	b.fedex = argc > 4 && strcmp(argv[4], "fedex") == 0;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	multi = curl_multi_init();
	curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, conc);

	t0 = now_mono();
	if (b.fedex)
		fedex_token(&b);
	slots = xcalloc((size_t)conc, sizeof(*slots));
	for (long i = 0; i < conc; i++) {
		slot_init(&b, &slots[i]);
		if (slot_next(&b, &slots[i])) {
			curl_multi_add_handle(multi, slots[i].easy);
			b.in_flight++;
			b.requests++;
		}
	}
	while (b.in_flight > 0) {
		if (curl_multi_perform(multi, &running) != CURLM_OK)
			break;
		drain(&b, multi);
		if (b.in_flight > 0)
			curl_multi_poll(multi, NULL, 0, 1000, NULL);
	}
	t1 = now_mono();

	for (long i = 0; i < conc; i++) {
		curl_multi_remove_handle(multi, slots[i].easy);
		curl_easy_cleanup(slots[i].easy);
		curl_slist_free_all(slots[i].hdrs);
		free(slots[i].url);
		free(slots[i].body);
	}
	free(slots);
	free(b.token);
	curl_multi_cleanup(multi);
	curl_global_cleanup();
	if (b.ok != b.n) {
		fprintf(stderr, "curl_bare: %ld of %ld lookups answered 200\n", b.ok, b.n);
		return 1;
	}
	printf("lookups %ld seconds %.6f\n", b.n, t1 - t0);
	printf("requests %" PRIu64 " bytes %" PRIu64 "\n", b.requests, b.bytes);
	return 0;
}
