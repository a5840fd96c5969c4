/*
 * dash_serve.c - the site over HTTP with GNU libmicrohttpd (see
 * dash_serve.h for what is served and the threads).
 *
 * Design: we bind the listening socket ourselves (precise errors, IPv6
 * only on an IPv6 address) and hand it to libmicrohttpd, which runs one
 * internal polling thread (epoll) over every connection.  The request
 * handler never keeps anything: it opens OUT's generation through OUT's
 * directory (a descriptor taken at start, so a change of the working
 * directory cannot move the site), walks the path one segment at a time
 * with openat(O_NOFOLLOW), checks the result is a regular file and hands
 * the descriptor to libmicrohttpd, which sends it (sendfile) and closes
 * it.  An open file stays whole even if its generation is removed while
 * it is being sent.  Fixed answers (404, 405, 503) are static text.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dashboards/dash_serve.h"
#include "lib/log.h"
#include "lib/xmalloc.h"

#define PATH_MAX_REQ 1024 /* bytes of a request's path we look at */
#define LOG_PATH_MAX 200  /* bytes of it in an access line, escaped */

struct sw_dash_serve {
	struct MHD_Daemon *mhd;
	int parent;			/* OUT's directory */
	char *name;			/* OUT's last segment: the link */
	char where[SW_DASH_LISTEN_MAX]; /* the address, for messages */
};

static const char page_404[] =
    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Not found</title>"
    "</head>\n<body><h1>Not found</h1><p>This site has no such page. "
    "<a href=\"/\">The overview</a>.</p></body></html>\n";
static const char text_405[] = "slipwatch-dash serves GET and HEAD only.\n";
static const char text_503[] = "No site yet: slipwatch-dash is writing its first generation.\n";

const char *sw_dash_serve_type(const char *name)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
	    {".html", "text/html; charset=utf-8"},
	    {".svg", "image/svg+xml"},
	    {".png", "image/png"},
	    {".css", "text/css; charset=utf-8"},
	    {".js", "text/javascript; charset=utf-8"},
	    {".csv", "text/csv; charset=utf-8"},
	    {".json", "application/json"},
	    {".txt", "text/plain; charset=utf-8"},
	};
	const char *dot = strrchr(name, '.');

	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

bool sw_dash_serve_path_ok(const char *path)
{
	size_t seg = 0;

	if (path[0] != '/' || strlen(path) > PATH_MAX_REQ)
		return false;
	if (path[1] == '\0')
		return true;
	for (const char *p = path + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			if (seg == 0 || seg > NAME_MAX)
				return false; /* empty: "//", a trailing '/' */
			if (*p == '\0')
				return true;
			seg = 0;
		} else if (!name_char(*p) || (seg++ == 0 && *p == '.')) {
			return false;
		}
	}
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
		return (c | 0x20) - 'a' + 10;
	return -1;
}

/* Percent-decodes s in place (the path and the query's names and values)
 * as libmicrohttpd's own unescaping does, except that "%00" and malformed
 * escapes stay as they are: a NUL would cut the path short ("/x%00.svg"
 * would be "/x"), and a '%' left in a path fails sw_dash_serve_path_ok.
 * The new length. */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
	char *w = s;
	int hi, lo;

	for (const char *r = s; *r;) {
		if (r[0] == '%' && (hi = hex_value(r[1])) >= 0 && (lo = hex_value(r[2])) >= 0 &&
		    (hi | lo) != 0) {
			*w++ = (char)(hi * 16 + lo);
			r += 3;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return (size_t)(w - s);
}

/* Opens rel (a path sw_dash_serve_path_ok allowed, without its leading
 * '/') under the directory gen, one segment at a time, never following a
 * symbolic link.  The descriptor, or -1 with errno set. */
static int open_beneath(int gen, const char *rel)
{
	char seg[NAME_MAX + 1];
	int dir = gen, fd, e;

	for (;;) {
		const char *slash = strchr(rel, '/');
		size_t n = slash ? (size_t)(slash - rel) : strlen(rel);

		memcpy(seg, rel, n);
		seg[n] = '\0';
		fd = openat(dir, seg,
			    O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK |
				(slash ? O_DIRECTORY : 0));
		e = errno;
		if (dir != gen)
			close(dir);
		errno = e;
		if (fd < 0 || slash == NULL)
			return fd;
		dir = fd;
		rel = slash + 1;
	}
}

/* text into out (size LOG_PATH_MAX + 1) with every byte outside
 * [A-Za-z0-9._/-] as %XX, cut at LOG_PATH_MAX. */
static void log_escape(const char *text, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)text; *p && n + 3 <= LOG_PATH_MAX;
	     p++) {
		if (name_char((char)*p) || *p == '/') {
			out[n++] = (char)*p;
		} else {
			out[n++] = '%';
			out[n++] = hex[*p >> 4];
			out[n++] = hex[*p & 15];
		}
	}
	out[n] = '\0';
}

/* One access line at debug level: the method and path escaped; the query
 * string never reaches here (libmicrohttpd splits it off). */
static void access_line(const char *method, const char *url, unsigned status)
{
	char m[LOG_PATH_MAX + 1], u[LOG_PATH_MAX + 1];

	if (!sw_log_enabled(SW_LOG_DEBUG))
		return;
	log_escape(method, m);
	m[16] = '\0';
	log_escape(url, u);
	sw_log_debug("http", "%s %s %u", m, u, status);
}

/* Queues r (may be NULL: out of memory in libmicrohttpd) with status and
 * the headers every answer has, and drops our reference. */
static enum MHD_Result queue(struct MHD_Connection *c, unsigned status, struct MHD_Response *r,
			     const char *type)
{
	enum MHD_Result ok;

	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	ok = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ok;
}

/* A fixed answer: the static text with its status. */
static enum MHD_Result fixed(struct MHD_Connection *c, unsigned status, const char *text,
			     const char *type)
{
	struct MHD_Response *r;

	r = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	if (r && status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	if (r && status == MHD_HTTP_SERVICE_UNAVAILABLE)
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "5");
	return queue(c, status, r, type);
}

/* The file url names in the current generation: its descriptor, or -1
 * with *ret_status the answer (404, or 503 before the first generation
 * or when out of descriptors). */
static int open_file(const struct sw_dash_serve *s, const char *url, unsigned *ret_status)
{
	struct stat st;
	int gen, fd;

	*ret_status = MHD_HTTP_NOT_FOUND;
	if (!sw_dash_serve_path_ok(url))
		return -1;
	/* OUT resolved once: the generation it names now, for the whole request */
	gen = openat(s->parent, s->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (gen < 0) {
		if (errno == ENOENT || errno == EMFILE || errno == ENFILE)
			*ret_status = MHD_HTTP_SERVICE_UNAVAILABLE;
		return -1;
	}
	fd = open_beneath(gen, url[1] ? url + 1 : "index.html");
	if (fd < 0 && (errno == EMFILE || errno == ENFILE))
		*ret_status = MHD_HTTP_SERVICE_UNAVAILABLE;
	close(gen);
	if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **req)
{
	static char seen; /* *req of a GET or HEAD whose headers we saw */
	const struct sw_dash_serve *s = cls;
	struct MHD_Response *r;
	unsigned status;
	struct stat st;
	int fd;

	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
		access_line(method, url, MHD_HTTP_METHOD_NOT_ALLOWED);
		return fixed(c, MHD_HTTP_METHOD_NOT_ALLOWED, text_405, "text/plain; charset=utf-8");
	}
	/* answer once the request is whole (a body, if any, dropped), so that
	 * the connection may be kept alive */
	if (*req == NULL || *upload_size) {
		*req = &seen;
		*upload_size = 0;
		return MHD_YES;
	}
	fd = open_file(s, url, &status);
	if (fd < 0) {
		access_line(method, url, status);
		if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
			return fixed(c, status, text_503, "text/plain; charset=utf-8");
		return fixed(c, status, page_404, "text/html; charset=utf-8");
	}
	if (fstat(fd, &st) < 0 ||
	    (r = MHD_create_response_from_fd64((uint64_t)st.st_size, fd)) == NULL) {
		close(fd);
		return MHD_NO;
	}
	access_line(method, url, MHD_HTTP_OK);
	return queue(c, MHD_HTTP_OK, r, sw_dash_serve_type(url[1] ? url : "/index.html"));
}

/* libmicrohttpd's own messages (a client's malformed request, a full
 * connection table): at debug level, as what clients send is not ours to
 * complain about. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	if (!sw_log_enabled(SW_LOG_DEBUG))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	sw_log_debug("http", "libmicrohttpd: %s", msg);
}


/* OUT's directory and last segment into s ("DIR/" is the link DIR, as
 * dash_site.c takes it). */
static enum sw_err open_parent(struct sw_dash_serve *s, const char *out, char *err, size_t errlen)
{
	char *path = xstrdup(out), *slash, *dir;
	size_t n = strlen(path);

	while (n > 1 && path[n - 1] == '/')
		path[--n] = '\0';
	slash = strrchr(path, '/');
	s->name = xstrdup(slash ? slash + 1 : path);
	dir = slash == path ? xstrdup("/")
	      : slash	    ? xstrndup(path, (size_t)(slash - path))
			    : xstrdup(".");
	free(path);
	if (s->name[0] == '\0') {
		snprintf(err, errlen, "the site %s: not a link's name", out);
	} else if ((s->parent = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "the site's directory %s: %s", dir, strerror(errno));
	}
	free(dir);
	return s->parent < 0 ? SW_EIO : SW_OK;
}

/* libmicrohttpd with its thread, on the socket fd (closed on failure). */
static struct MHD_Daemon *start_mhd(struct sw_dash_serve *s, int fd)
{
	struct MHD_Daemon *mhd;
	sigset_t pipe_set, old;
	int e;

	/* the logger first, so that libmicrohttpd says nothing on its own;
	 * the thread inherits this mask: SIGPIPE of a closed peer stays
	 * pending on it, harmless; libmicrohttpd is told so */
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	/* one option and its values a line */
	/* clang-format off */
	mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG,
			       0, NULL, NULL, on_request, s,
			       MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
			       MHD_OPTION_LISTEN_SOCKET, fd,
			       MHD_OPTION_CONNECTION_LIMIT, (unsigned)SW_DASH_SERVE_CONNECTIONS,
			       MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)SW_DASH_SERVE_TIMEOUT,
			       MHD_OPTION_UNESCAPE_CALLBACK, unescape, s,
			       MHD_OPTION_SIGPIPE_HANDLED_BY_APP, 1,
			       MHD_OPTION_END);
	/* clang-format on */
	e = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (mhd == NULL && fcntl(fd, F_GETFD) >= 0)
		close(fd); /* not taken over */
	errno = e;
	return mhd;
}

enum sw_err sw_dash_serve_start(const char *out, const struct sw_dash_listen *addr,
				struct sw_dash_serve **ret, char *err, size_t errlen)
{
	struct sw_dash_serve *s = xcalloc(1, sizeof(*s));
	int fd;

	*ret = NULL;
	s->parent = -1;
	snprintf(s->where, sizeof(s->where), "%s", addr->text);
	if (open_parent(s, out, err, errlen) != SW_OK)
		goto fail;
	fd = sw_dash_listen_socket(addr, err, errlen);
	if (fd < 0)
		goto fail;
	s->mhd = start_mhd(s, fd);
	if (s->mhd == NULL) {
		snprintf(err, errlen, "cannot start the HTTP server on %s (libmicrohttpd): %s",
			 addr->text, strerror(errno));
		goto fail;
	}
	sw_log_notice("http", "serving %s on http://%s/", out, addr->text);
	*ret = s;
	return SW_OK;
fail:
	sw_dash_serve_stop(s);
	return SW_EIO;
}

void sw_dash_serve_stop(struct sw_dash_serve *s)
{
	if (s == NULL)
		return;
	if (s->mhd) {
		MHD_stop_daemon(s->mhd); /* closes the socket, joins the thread */
		sw_log_info("http", "stopped serving on %s", s->where);
	}
	if (s->parent >= 0)
		close(s->parent);
	free(s->name);
	free(s);
}
