/*
 * push.c - the webhook listener (see push.h for what it answers).
 *
 * Design: we bind the socket ourselves (as dashboards/dash_serve.c does:
 * precise errors) and hand it to libmicrohttpd without its internal
 * thread: its epoll descriptor is a read event of the collector's loop,
 * MHD_run is called when it is ready and from a loop timer that follows
 * MHD_get_timeout (connection timeouts, TLS data already read).  So a
 * request is answered on the loop's thread, between poll answers and MQTT
 * bursts, and the store is never touched from another thread.
 *
 * A request: the first call (headers) picks the webhook by path and
 * refuses at once what cannot succeed (404, 405, 413 from Content-Length);
 * the body is gathered into a buffer capped at max_body (over it: 413
 * without parsing); then the signature is checked over the raw bytes (401)
 * before anything is parsed, the payload parsed by the webhook's kind
 * (400), and the update handed to sw_poll_push.  A parcel that is unknown
 * by the tracking number is tried by the courier's own tracking id.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "collector/push.h"
#include "dashboards/dash_conf.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/xmalloc.h"

#define CONNECTIONS    64	 /* connections at once */
#define CONN_TIMEOUT_S 30	 /* an idle or slow connection is closed */
#define TICK_MAX_MS    1000	 /* longest wait between MHD_run calls */
#define TLS_FILE_MAX   (1 << 20) /* bytes of a PEM file */
#define REPLY_MAX      256	 /* bytes of an answer's text */

struct hook {
	const struct sw_push_hook_conf *cf;
	const struct sw_push_kind *kind;
	char *target; /* "push NAME" for logs */
	struct sw_log_complain sig_c, bad_c, unknown_c, store_c;
};

struct sw_push {
	struct sw_loop *loop;
	struct sw_poll_engine *poll;
	const struct sw_push_conf *conf;
	struct MHD_Daemon *mhd;
	int epfd;	     /* libmicrohttpd's epoll descriptor, in the loop */
	uint64_t mhd_timer;  /* follows MHD_get_timeout */
	uint64_t idle_timer; /* sw_poll_push_idle */
	struct hook *hooks;
	size_t n;
	char *cert, *key; /* PEM text; the key wiped on stop */
	struct sw_push_stats st;
};

/* One request in progress (libmicrohttpd's con_cls). */
struct req {
	struct hook *h;
	struct sw_buf body;
	bool too_big;
};

/* ---- answers ------------------------------------------------------------- */

static enum MHD_Result reply(struct sw_push *ps, struct MHD_Connection *c, unsigned status,
			     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static enum MHD_Result reply(struct sw_push *ps, struct MHD_Connection *c, unsigned status,
			     const char *fmt, ...)
{
	char text[REPLY_MAX];
	struct MHD_Response *r;
	enum MHD_Result ok;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text) - 1, fmt, ap);
	va_end(ap);
	strncat(text, "\n", sizeof(text) - strlen(text) - 1);
	ps->st.requests++;
	r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "POST");
	ok = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ok;
}

static struct hook *hook_of(struct sw_push *ps, const char *url)
{
	for (size_t i = 0; i < ps->n; i++)
		if (strcmp(ps->hooks[i].cf->path, url) == 0)
			return &ps->hooks[i];
	return NULL;
}

/* The update r (tracking number, else alt) to the store. */
static enum MHD_Result apply(struct sw_push *ps, struct MHD_Connection *c, struct hook *h,
			     struct sw_courier_result *r, char *alt)
{
	uint64_t n = 0;
	enum sw_err rc;
	char tn[65];

	rc = sw_poll_push(ps->poll, h->cf->courier, r, &n);
	if (rc == SW_ENOTFOUND && alt != NULL && strcmp(alt, r->tracking_number) != 0) {
		char *keep = r->tracking_number;

		r->tracking_number = alt;
		rc = sw_poll_push(ps->poll, h->cf->courier, r, &n);
		r->tracking_number = keep;
	}
	snprintf(tn, sizeof(tn), "%s", r->tracking_number);
	sw_push_oneline(tn); /* from the body: for the log */
	if (rc == SW_OK) {
		ps->st.applied++;
		ps->st.events_new += n;
		sw_log_release(&h->store_c, SW_LOG_NOTICE, h->target, "storing pushes again");
		sw_log_debug(h->target, "%s: %s, %" PRIu64 " new events", tn,
			     sw_store_ship_status_name(r->status), n);
		return reply(ps, c, MHD_HTTP_OK, "ok: %" PRIu64 " new events", n);
	}
	if (rc == SW_ENOTFOUND) {
		ps->st.unknown++;
		sw_log_complain(&h->unknown_c, SW_LOG_INFO, h->target,
				"update for a parcel of %s we do not know: %s (ignored)",
				h->cf->courier, tn);
		return reply(ps, c, MHD_HTTP_OK, "ignored: no such parcel");
	}
	ps->st.store_fail++;
	sw_log_complain(&h->store_c, SW_LOG_ERR, h->target,
			"cannot store a pushed update: %s; the sender will retry", sw_strerror(rc));
	return reply(ps, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot store it now: retry");
}

/* The whole body is in: judge and apply it. */
static enum MHD_Result answer(struct sw_push *ps, struct MHD_Connection *c, struct req *q)
{
	struct hook *h = q->h;
	struct sw_courier_result r = {0};
	const char *sig;
	char why[256] = "", *alt = NULL;
	enum sw_push_parsed parsed;
	enum MHD_Result ok;

	if (q->too_big) {
		ps->st.too_big++;
		sw_log_complain(&h->bad_c, SW_LOG_WARNING, h->target,
				"refused a body over max_body (%" PRId64 " bytes)",
				ps->conf->max_body);
		return reply(ps, c, MHD_HTTP_CONTENT_TOO_LARGE, "body too large");
	}
	sig = MHD_lookup_connection_value(c, MHD_HEADER_KIND, h->kind->sig_header);
	if (!h->kind->verify(h->cf->secret.value, strlen(h->cf->secret.value), sig, q->body.data,
			     q->body.len)) {
		ps->st.bad_sig++;
		sw_log_complain(&h->sig_c, SW_LOG_WARNING, h->target, "refused: %s %s",
				h->kind->sig_header, sig ? "does not match the body" : "missing");
		return reply(ps, c, MHD_HTTP_UNAUTHORIZED, "bad signature");
	}
	sw_log_release(&h->sig_c, SW_LOG_NOTICE, h->target, "signatures match again");
	parsed = h->kind->parse(q->body.data, q->body.len, &r, &alt, why, sizeof(why));
	if (parsed == SW_PUSH_UPDATE) {
		ok = apply(ps, c, h, &r, alt);
	} else if (parsed == SW_PUSH_IGNORED) {
		ps->st.ignored++;
		sw_log_debug(h->target, "nothing to apply: %s", why);
		ok = reply(ps, c, MHD_HTTP_OK, "ignored: %s", why);
	} else {
		ps->st.malformed++;
		sw_log_complain(&h->bad_c, SW_LOG_WARNING, h->target, "refused a body: %s", why);
		ok = reply(ps, c, MHD_HTTP_BAD_REQUEST, "malformed: %s", why);
	}
	sw_courier_result_clear(&r);
	free(alt);
	return ok;
}

/* The headers are in: pick the webhook, refuse what cannot succeed. */
static enum MHD_Result begin(struct sw_push *ps, struct MHD_Connection *c, const char *url,
			     const char *method, void **con_cls)
{
	struct hook *h = hook_of(ps, url);
	const char *cl;
	struct req *q;
	char *end;

	if (h == NULL)
		return reply(ps, c, MHD_HTTP_NOT_FOUND, "no webhook here");
	if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
		return reply(ps, c, MHD_HTTP_METHOD_NOT_ALLOWED, "POST only");
	cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl && strtoull(cl, &end, 10) > (unsigned long long)ps->conf->max_body) {
		ps->st.too_big++;
		return reply(ps, c, MHD_HTTP_CONTENT_TOO_LARGE, "body too large");
	}
	q = xcalloc(1, sizeof(*q));
	q->h = h;
	sw_buf_init(&q->body, (size_t)ps->conf->max_body);
	*con_cls = q;
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct sw_push *ps = cls;
	struct req *q = *con_cls;

	(void)version;
	if (q == NULL)
		return begin(ps, c, url, method, con_cls);
	if (*upload_size > 0) {
		if (!q->too_big && sw_buf_add(&q->body, upload, *upload_size) != SW_OK) {
			q->too_big = true; /* the rest is read and dropped */
			sw_buf_free(&q->body);
		}
		*upload_size = 0;
		return MHD_YES;
	}
	return answer(ps, c, q);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct req *q = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (q == NULL)
		return;
	sw_buf_free(&q->body);
	free(q);
	*con_cls = NULL;
}

/* libmicrohttpd's own messages (a client's malformed request): debug. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	if (!sw_log_enabled(SW_LOG_DEBUG))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	sw_log_debug("push", "libmicrohttpd: %s", msg);
}

/* ---- libmicrohttpd on the loop ------------------------------------------- */

/* Runs libmicrohttpd and returns how long it may wait now. */
static int64_t run_mhd(struct sw_push *ps)
{
	MHD_UNSIGNED_LONG_LONG t = TICK_MAX_MS;

	MHD_run(ps->mhd);
	if (MHD_get_timeout(ps->mhd, &t) != MHD_YES || t > TICK_MAX_MS)
		t = TICK_MAX_MS;
	return (int64_t)t;
}

static void on_fd(struct sw_loop *loop, int fd, int events, void *arg)
{
	struct sw_push *ps = arg;

	(void)fd;
	(void)events;
	sw_loop_timer_set(loop, ps->mhd_timer, run_mhd(ps));
}

static int64_t on_mhd_timer(struct sw_loop *loop, uint64_t id, void *arg)
{
	(void)loop;
	(void)id;
	return run_mhd(arg);
}

static int64_t on_idle_timer(struct sw_loop *loop, uint64_t id, void *arg)
{
	struct sw_push *ps = arg;
	int64_t every = INT64_MAX;

	(void)loop;
	(void)id;
	sw_poll_push_idle(ps->poll);
	for (size_t i = 0; i < ps->n; i++)
		if (ps->hooks[i].cf->silence / 4 < every)
			every = ps->hooks[i].cf->silence / 4;
	return every < 250 ? 250 : every > 60000 ? 60000 : every;
}

/* ---- start and stop ------------------------------------------------------ */

/* The whole file at path as a string, or NULL with err set. */
static char *read_pem(const char *path, const char *what, char *err, size_t errlen)
{
	struct sw_buf b;
	char chunk[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "[push] %s %s: %s", what, path, strerror(errno));
		return NULL;
	}
	sw_buf_init(&b, TLS_FILE_MAX);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (sw_buf_add(&b, chunk, (size_t)n) != SW_OK)
			break;
	close(fd);
	if (n != 0 || b.len == 0) {
		snprintf(err, errlen, "[push] %s %s: %s", what, path,
			 n < 0	 ? strerror(errno)
			 : b.len ? "larger than 1 MiB"
				 : "empty");
		sw_buf_free(&b);
		return NULL;
	}
	return b.data; /* taken over */
}

static int bind_socket(const struct sw_dash_listen *a, char *err, size_t errlen)
{
	char why[512];
	int fd = sw_dash_listen_socket(a, why, sizeof(why));

	if (fd < 0)
		snprintf(err, errlen, "[push] %s", why);
	return fd;
}

/* libmicrohttpd without a thread of its own, on fd (closed on failure). */
static struct MHD_Daemon *start_mhd(struct sw_push *ps, int fd)
{
	struct MHD_OptionItem opts[] = {
	    {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_mhd_log, ps},
	    {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, ps},
	    {MHD_OPTION_LISTEN_SOCKET, fd, NULL},
	    {MHD_OPTION_CONNECTION_LIMIT, CONNECTIONS, NULL},
	    {MHD_OPTION_CONNECTION_TIMEOUT, CONN_TIMEOUT_S, NULL},
	    {MHD_OPTION_SIGPIPE_HANDLED_BY_APP, 1, NULL},
	    {ps->cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, ps->cert},
	    {ps->cert ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, ps->key},
	    {MHD_OPTION_END, 0, NULL},
	};
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG | (ps->cert ? MHD_USE_TLS : 0);
	struct MHD_Daemon *mhd;

	mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, ps, MHD_OPTION_ARRAY, opts,
			       MHD_OPTION_END);
	if (mhd == NULL && fcntl(fd, F_GETFD) >= 0)
		close(fd);
	return mhd;
}

static void hooks_setup(struct sw_push *ps)
{
	ps->n = ps->conf->n;
	ps->hooks = xcalloc(ps->n ? ps->n : 1, sizeof(*ps->hooks));
	for (size_t i = 0; i < ps->n; i++) {
		struct hook *h = &ps->hooks[i];

		h->cf = &ps->conf->hooks[i];
		h->kind = sw_push_kinds[h->cf->kind];
		h->target = xasprintf("push %s", h->cf->name);
	}
}

/* TLS files, the socket, libmicrohttpd, the loop's fd; SW_OK or SW_EIO. */
static enum sw_err listen_on(struct sw_push *ps, char *err, size_t errlen)
{
	const struct sw_push_conf *pc = ps->conf;
	struct sw_dash_listen addr;
	const union MHD_DaemonInfo *info;
	int fd;

	if (sw_dash_listen_parse(pc->listen, true, &addr, err, errlen) != SW_OK)
		return SW_EIO; /* judged at load: cannot happen */
	if (pc->tls_cert && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		snprintf(err, errlen, "[push] tls_cert: this libmicrohttpd has no TLS");
		return SW_EIO;
	}
	if (pc->tls_cert && ((ps->cert = read_pem(pc->tls_cert, "tls_cert", err, errlen)) == NULL ||
			     (ps->key = read_pem(pc->tls_key, "tls_key", err, errlen)) == NULL))
		return SW_EIO;
	if ((fd = bind_socket(&addr, err, errlen)) < 0)
		return SW_EIO;
	if ((ps->mhd = start_mhd(ps, fd)) == NULL) {
		snprintf(err, errlen,
			 "[push] cannot start the HTTP%s server on %s (libmicrohttpd%s)",
			 ps->cert ? "S" : "", pc->listen,
			 ps->cert ? ": are tls_cert and tls_key a matching PEM pair?" : "");
		return SW_EIO;
	}
	info = MHD_get_daemon_info(ps->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (info == NULL || sw_loop_fd_add(ps->loop, info->epoll_fd, SW_LOOP_READ, on_fd, ps)) {
		snprintf(err, errlen, "[push] cannot watch libmicrohttpd's descriptor");
		return SW_EIO;
	}
	ps->epfd = info->epoll_fd;
	sw_log_notice("push", "taking webhooks on %s://%s/", ps->cert ? "https" : "http",
		      pc->listen);
	return SW_OK;
}

enum sw_err sw_push_start(struct sw_loop *loop, struct sw_poll_engine *poll,
			  const struct sw_push_conf *conf, struct sw_push **ret, char *errbuf,
			  size_t errlen)
{
	struct sw_push *ps = xcalloc(1, sizeof(*ps));

	*ret = NULL;
	ps->loop = loop;
	ps->poll = poll;
	ps->conf = conf;
	ps->epfd = -1;
	hooks_setup(ps);
	for (size_t i = 0; i < ps->n; i++)
		if (sw_poll_push_setup(poll, ps->hooks[i].cf->courier,
				       ps->hooks[i].cf->poll_while_pushing,
				       ps->hooks[i].cf->silence) != SW_OK) {
			snprintf(errbuf, errlen,
				 "[push %s] courier %s: not polled by this collector",
				 ps->hooks[i].cf->name, ps->hooks[i].cf->courier);
			goto fail;
		}
	if (listen_on(ps, errbuf, errlen) != SW_OK)
		goto fail;
	sw_loop_timer_add(loop, 0, on_mhd_timer, ps, &ps->mhd_timer);
	sw_loop_timer_add(loop, 250, on_idle_timer, ps, &ps->idle_timer);
	*ret = ps;
	return SW_OK;
fail:
	sw_push_stop(ps);
	return SW_EIO;
}

void sw_push_stop(struct sw_push *ps)
{
	if (ps == NULL)
		return;
	if (ps->mhd_timer)
		sw_loop_timer_del(ps->loop, ps->mhd_timer);
	if (ps->idle_timer)
		sw_loop_timer_del(ps->loop, ps->idle_timer);
	if (ps->epfd >= 0)
		sw_loop_fd_del(ps->loop, ps->epfd);
	if (ps->mhd)
		MHD_stop_daemon(ps->mhd); /* closes the socket and connections */
	for (size_t i = 0; i < ps->n; i++)
		free(ps->hooks[i].target);
	free(ps->hooks);
	if (ps->key)
		memset(ps->key, 0, strlen(ps->key));
	free(ps->key);
	free(ps->cert);
	free(ps);
}

void sw_push_get_stats(const struct sw_push *ps, struct sw_push_stats *ret)
{
	*ret = ps->st;
}
