/*
 * api.c - slipwatch-sim's courier API server (sim/api.h): libmicrohttpd
 * with its own polling thread on a loopback address, routing each request
 * to a courier module's handler through the descriptor table
 * (sim/api_table.c), and the helpers those modules share (api_int.h).
 *
 * Design: the world is immutable and the clock is read-only here, so a
 * handler needs no lock; the only shared mutable state is the counters and
 * the issued tokens, both under one mutex.  An injected outage
 * (sim_world_api_state) is checked here, before any handler, for every
 * route of the courier (token endpoints included: the whole API is down),
 * and answered with the courier's own 503 envelope.  Request bodies are
 * kept up to SIM_API_MAX_BODY; a larger one is refused (400) unread.
 * Tokens live in a fixed ring (the oldest is forgotten first) and expire on
 * the simulated clock, as the collector's token cache does.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#include "lib/clock.h"
#include "lib/xmalloc.h"
#include "sim/api_int.h"

#define SIM_API_TOKENS	  512 /* tokens remembered (ring) */
#define SIM_API_TOKEN_LEN 64

struct token {
	char courier[16];
	char value[SIM_API_TOKEN_LEN];
	int64_t expires; /* simulated Unix seconds */
};

struct sim_api {
	const struct sim_world *w;
	struct MHD_Daemon *mhd;
	char *api_key, *client_id, *client_secret; /* NULL: any non-empty */
	pthread_mutex_t lock;			   /* stats and tokens */
	struct sim_api_stats stats;
	struct token tokens[SIM_API_TOKENS];
	size_t next_token;
	uint64_t token_seq, token_seed;
};

/* One connection's request body. */
struct upload {
	char *body;
	size_t len;
	bool too_big;
};

#define SIM_API_MAX_COURIERS 32

static const char *courier_names[SIM_API_MAX_COURIERS + 1];
static pthread_once_t names_once = PTHREAD_ONCE_INIT;

static void names_fill(void)
{
	for (size_t i = 0; i < SIM_API_MAX_COURIERS && sim_api_table[i] != NULL; i++)
		courier_names[i] = sim_api_table[i]->name;
}

const char *const *sim_api_couriers(void)
{
	pthread_once(&names_once, names_fill);
	return courier_names;
}

/* ---- helpers for the courier modules ----------------------------------- */

unsigned sim_api_err_status(enum sim_api_errkind kind)
{
	static const unsigned st[] = {400, 401, 404, 503};

	return (unsigned)kind < SIM_API_ERR_LAST ? st[kind] : 500;
}

void sim_api_fail(struct sim_api_req *req, enum sim_api_errkind kind, const char *detail)
{
	json_decref(req->reply);
	req->status = sim_api_err_status(kind);
	req->ctype = req->courier->error_ctype;
	req->reply = req->courier->error_body(kind, detail);
	req->outcome = kind == SIM_API_ERR_UNAVAILABLE ? SIM_API_OUT_OUTAGE : SIM_API_OUT_REFUSED;
}

const char *sim_api_header(const struct sim_api_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *sim_api_arg(const struct sim_api_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes the n bytes at s into buf; false if malformed or too long. */
static bool form_decode(const char *s, size_t n, char *buf, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			if (i + 2 >= n || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0)
				return false;
			c = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
			if (c == '\0')
				return false;
		}
		if (o + 1 >= len)
			return false;
		buf[o++] = c;
	}
	buf[o] = '\0';
	return true;
}

bool sim_api_form(const char *body, const char *key, char *buf, size_t len)
{
	size_t klen = strlen(key);
	bool found = false;
	const char *p = body;

	while (p != NULL && *p != '\0') {
		size_t n = strcspn(p, "&");

		if (n > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
			if (found || !form_decode(p + klen + 1, n - klen - 1, buf, len))
				return false;
			found = true;
		}
		p = p[n] == '&' ? p + n + 1 : NULL;
	}
	return found;
}

static bool cred_ok(const char *wanted, const char *given)
{
	return given != NULL && given[0] != '\0' && (wanted == NULL || strcmp(wanted, given) == 0);
}

bool sim_api_key_ok(const struct sim_api *a, const char *given)
{
	return cred_ok(a->api_key, given);
}

bool sim_api_client_ok(const struct sim_api *a, const char *id, const char *secret)
{
	return cred_ok(a->client_id, id) && cred_ok(a->client_secret, secret);
}

static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

void sim_api_token_issue(struct sim_api *a, const char *courier, int64_t now, int64_t lifetime_s,
			 char *buf, size_t len)
{
	struct token *t;

	pthread_mutex_lock(&a->lock);
	t = &a->tokens[a->next_token];
	a->next_token = (a->next_token + 1) % SIM_API_TOKENS;
	a->token_seq++;
	snprintf(t->courier, sizeof(t->courier), "%s", courier);
	snprintf(t->value, sizeof(t->value), "sim-%s-%llx-%016llx", courier,
		 (unsigned long long)a->token_seq,
		 (unsigned long long)mix64(a->token_seq ^ a->token_seed));
	t->expires = now + lifetime_s;
	snprintf(buf, len, "%s", t->value);
	pthread_mutex_unlock(&a->lock);
}

bool sim_api_bearer_ok(const struct sim_api_req *req)
{
	const char *h = sim_api_header(req, "Authorization");
	struct sim_api *a = req->api;
	bool ok = false;

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return false;
	h += 7;
	while (*h == ' ')
		h++;
	if (*h == '\0')
		return false;
	pthread_mutex_lock(&a->lock);
	for (size_t i = 0; i < SIM_API_TOKENS && !ok; i++) {
		const struct token *t = &a->tokens[i];

		ok = t->value[0] != '\0' && strcmp(t->value, h) == 0 &&
		     strcmp(t->courier, req->courier->name) == 0 && req->now < t->expires;
	}
	pthread_mutex_unlock(&a->lock);
	return ok;
}

const struct sim_parcel *sim_api_parcel(const struct sim_api_req *req, const char *number,
					size_t *ret_visible)
{
	const struct sim_parcel *p;

	*ret_visible = 0;
	if (number == NULL || number[0] == '\0')
		return NULL;
	p = sim_world_parcel(req->api->w, req->courier->name, number);
	if (p == NULL || strcmp(p->courier, req->courier->name) != 0)
		return NULL;
	*ret_visible = sim_parcel_visible(p, req->now);
	if (*ret_visible > p->n_scans)
		*ret_visible = p->n_scans;
	return *ret_visible > 0 ? p : NULL;
}

int32_t sim_api_offset(const struct sim_parcel *p)
{
	const char *tz = p->order ? p->order->timezone : NULL;

	return tz != NULL && strcmp(tz, "Asia/Kathmandu") == 0 ? 5 * 3600 + 45 * 60
							       : 5 * 3600 + 30 * 60;
}

void sim_api_tm(int64_t at, int32_t off, struct tm *ret)
{
	time_t t = (time_t)(at + off);

	if (gmtime_r(&t, ret) == NULL)
		memset(ret, 0, sizeof(*ret)); /* far outside any simulated time */
}

void sim_api_fmt_offset(int32_t off, char *buf, size_t len)
{
	int32_t a = off < 0 ? -off : off;

	snprintf(buf, len, "%c%02d:%02d", off < 0 ? '-' : '+', (int)(a / 3600 % 24),
		 (int)(a % 3600 / 60));
}

void sim_api_fmt_time(int64_t at, int32_t off, char buf[SIM_API_TIME_LEN])
{
	char wall[32], zone[8];
	struct tm tm;

	sim_api_tm(at, off, &tm);
	strftime(wall, sizeof(wall), "%Y-%m-%dT%H:%M:%S", &tm);
	sim_api_fmt_offset(off, zone, sizeof(zone));
	snprintf(buf, SIM_API_TIME_LEN, "%.31s%.7s", wall, zone);
}

/* ---- routing and answering --------------------------------------------- */

/* Whether route r takes method and url; *ret_param gets a prefix route's
 * last segment. */
static bool route_match(const struct sim_api_route *r, const char *method, const char *url,
			const char **ret_param)
{
	size_t len = strlen(r->path);

	if (strcmp(r->method, method) != 0)
		return false;
	if (r->path[len - 1] != '/') {
		*ret_param = NULL;
		return strcmp(r->path, url) == 0;
	}
	if (strncmp(r->path, url, len) != 0 || url[len] == '\0' || strchr(url + len, '/') != NULL)
		return false;
	*ret_param = url + len;
	return true;
}

static const struct sim_api_route *route_find(const char *method, const char *url,
					      const struct sim_api_courier **ret_courier,
					      const char **ret_param)
{
	for (size_t i = 0; sim_api_table[i] != NULL; i++)
		for (const struct sim_api_route *r = sim_api_table[i]->routes; r->handle; r++)
			if (route_match(r, method, url, ret_param)) {
				*ret_courier = sim_api_table[i];
				return r;
			}
	return NULL;
}

static void count(struct sim_api *a, bool track, enum sim_api_outcome o)
{
	if (!track)
		return;
	pthread_mutex_lock(&a->lock);
	a->stats.requests++;
	if (o == SIM_API_OUT_ANSWERED)
		a->stats.answered++;
	else if (o == SIM_API_OUT_NOT_FOUND)
		a->stats.not_found++;
	else if (o == SIM_API_OUT_OUTAGE)
		a->stats.outage++;
	else if (o == SIM_API_OUT_REFUSED)
		a->stats.refused++;
	pthread_mutex_unlock(&a->lock);
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *ctype,
				 char *text)
{
	struct MHD_Response *r;
	enum MHD_Result ok;

	r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ok = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ok;
}

static enum MHD_Result dispatch(struct sim_api *a, struct MHD_Connection *c, const char *url,
				const char *method, const struct upload *up)
{
	const struct sim_api_courier *co = NULL;
	struct sim_api_req req = {0};
	const struct sim_api_route *r = route_find(method, url, &co, &req.param);
	char *text;

	if (r == NULL)
		return send_text(c, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8",
				 xasprintf("slipwatch-sim: no route %s %s\n", method, url));
	req.api = a;
	req.courier = co;
	req.conn = c;
	req.body = up->body ? up->body : "";
	req.body_len = up->len;
	req.now = sw_clock_now();
	if (sim_world_api_state(a->w, co->name, req.now) == SIM_API_DOWN)
		sim_api_fail(&req, SIM_API_ERR_UNAVAILABLE, NULL);
	else if (up->too_big)
		sim_api_fail(&req, SIM_API_ERR_BAD, "request body too large");
	else
		r->handle(&req);
	if (req.reply == NULL)
		sim_api_fail(&req, SIM_API_ERR_BAD, NULL);
	count(a, r->track, req.outcome);
	text = json_dumps(req.reply, JSON_COMPACT);
	json_decref(req.reply);
	if (text == NULL)
		return MHD_NO;
	return send_text(c, req.status, req.ctype ? req.ctype : "application/json", text);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *data_size, void **con_cls)
{
	struct upload *up = *con_cls;

	if (up == NULL) {
		*con_cls = xcalloc(1, sizeof(*up));
		return MHD_YES;
	}
	if (*data_size > 0) {
		if (up->too_big || up->len + *data_size > SIM_API_MAX_BODY) {
			up->too_big = true;
		} else {
			up->body = xreallocarray(up->body, up->len + *data_size + 1, 1);
			memcpy(up->body + up->len, data, *data_size);
			up->len += *data_size;
			up->body[up->len] = '\0';
		}
		*data_size = 0;
		return MHD_YES;
	}
	return dispatch(cls, c, url, method, up);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct upload *up = *con_cls;

	if (up != NULL) {
		free(up->body);
		free(up);
		*con_cls = NULL;
	}
}

/* ---- start and stop ------------------------------------------------------ */

/* opts->bind as a loopback socket address. */
static enum sw_err loopback_addr(const struct sim_api_opts *opts, struct sockaddr_storage *ss,
				 bool *ret_v6, char *err, size_t errlen)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	const char *bind = opts->bind ? opts->bind : "127.0.0.1";

	memset(ss, 0, sizeof(*ss));
	if (opts->port < 0 || opts->port > 65535) {
		snprintf(err, errlen, "courier APIs: port %d is not 0..65535", opts->port);
		return SW_EINVAL;
	}
	*ret_v6 = false;
	if (inet_pton(AF_INET, bind, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)opts->port);
		if ((ntohl(in4->sin_addr.s_addr) >> 24) == 127)
			return SW_OK;
	} else if (inet_pton(AF_INET6, bind, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)opts->port);
		*ret_v6 = true;
		if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
			return SW_OK;
	} else {
		snprintf(err, errlen, "courier APIs: bind address '%s' is not an IP address", bind);
		return SW_EINVAL;
	}
	snprintf(err, errlen, "courier APIs: bind address '%s' is not loopback", bind);
	return SW_EINVAL;
}

static struct MHD_Daemon *start_mhd(struct sim_api *a, struct sockaddr_storage *ss, bool v6)
{
	struct MHD_Daemon *mhd;
	sigset_t pipe_set, old;

	/* the thread inherits this mask: SIGPIPE of a closed peer stays
	 * pending on it, harmless; libmicrohttpd is told so */
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	/* clang-format off */
	mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
			       (v6 ? MHD_USE_IPv6 : 0),
			       0, NULL, NULL, on_request, a,
			       MHD_OPTION_SOCK_ADDR, (struct sockaddr *)ss,
			       MHD_OPTION_NOTIFY_COMPLETED, on_completed, a,
			       MHD_OPTION_CONNECTION_LIMIT, 256u,
			       MHD_OPTION_CONNECTION_TIMEOUT, 60u,
			       MHD_OPTION_SIGPIPE_HANDLED_BY_APP, 1,
			       MHD_OPTION_END);
	/* clang-format on */
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return mhd;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

enum sw_err sim_api_start(const struct sim_world *w, const struct sim_api_opts *opts,
			  struct sim_api **ret_api, int *ret_port, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	const union MHD_DaemonInfo *info;
	struct sim_api *a;
	bool v6;
	enum sw_err rc;

	*ret_api = NULL;
	if (w == NULL || opts == NULL) {
		snprintf(err, errlen, "courier APIs: no world or options");
		return SW_EINVAL;
	}
	rc = loopback_addr(opts, &ss, &v6, err, errlen);
	if (rc != SW_OK)
		return rc;
	a = xcalloc(1, sizeof(*a));
	a->w = w;
	a->api_key = dup_or_null(opts->api_key);
	a->client_id = dup_or_null(opts->client_id);
	a->client_secret = dup_or_null(opts->client_secret);
	a->token_seed = mix64((uint64_t)sw_clock_mono_ms() ^ (uint64_t)(uintptr_t)a);
	pthread_mutex_init(&a->lock, NULL);
	a->mhd = start_mhd(a, &ss, v6);
	if (a->mhd == NULL) {
		snprintf(err, errlen, "courier APIs: cannot listen on %s port %d",
			 opts->bind ? opts->bind : "127.0.0.1", opts->port);
		sim_api_stop(a);
		return SW_EIO;
	}
	info = MHD_get_daemon_info(a->mhd, MHD_DAEMON_INFO_BIND_PORT);
	if (ret_port != NULL)
		*ret_port = info ? (int)info->port : opts->port;
	*ret_api = a;
	return SW_OK;
}

void sim_api_get_stats(struct sim_api *a, struct sim_api_stats *ret)
{
	pthread_mutex_lock(&a->lock);
	*ret = a->stats;
	pthread_mutex_unlock(&a->lock);
}

void sim_api_stop(struct sim_api *a)
{
	if (a == NULL)
		return;
	if (a->mhd != NULL)
		MHD_stop_daemon(a->mhd); /* joins the thread */
	pthread_mutex_destroy(&a->lock);
	free(a->api_key);
	free(a->client_id);
	free(a->client_secret);
	free(a);
}
