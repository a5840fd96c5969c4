/*
 * dash_serve.h - slipwatch-dash's optional HTTP server ([dash] listen,
 * --listen): the current generation of the site (dash_site.h) served by
 * GNU libmicrohttpd, a packaged embedded server, so that a site can be
 * looked at without setting up a web server.
 *
 * What it serves: GET and HEAD of the files of the generation OUT names
 * at the time of the request ("/" is index.html); anything else is 405
 * with "Allow: GET, HEAD".  Each request resolves OUT once, to a
 * directory descriptor of that generation, and opens the file relative
 * to it, one path segment at a time with O_NOFOLLOW: a request during a
 * swap gets the old generation or the new one, whole, and no path (no
 * "..", no hidden name, no symbolic link planted inside a generation)
 * reaches outside it.  Segments are [A-Za-z0-9._-] and do not begin with
 * '.'; a directory, a missing file or a refused path is 404 (no
 * listings); no site yet is 503.  Content-Type by extension (html, svg,
 * png, css, js, csv, json), "Cache-Control: no-cache" on every answer
 * (pages and images keep their names from one generation to the next).
 * Access lines go to the log at debug level, the path escaped, never the
 * query string.
 *
 * Threads: libmicrohttpd serves from one thread of its own (internal
 * polling, epoll), so that a page is answered while a generation is
 * being drawn; the request handler reads only what start set up, never
 * librrd, and logs through sw_log_write (lib/log.c keeps no mutable state
 * once sw_log_init has run: one line, one write).  The thread starts
 * with the caller's signal mask (slipwatch-dash blocks SIGTERM and SIGINT
 * first, so they still reach its main thread) plus SIGPIPE.
 */
#ifndef SW_DASH_SERVE_H
#define SW_DASH_SERVE_H

#include <stdbool.h>
#include <stddef.h>

#include "dashboards/dash_conf.h"
#include "lib/error.h"

#define SW_DASH_SERVE_CONNECTIONS 64 /* open connections at most */
#define SW_DASH_SERVE_TIMEOUT	  30 /* seconds an idle connection is kept */

struct sw_dash_serve; /* opaque */

/*
 * Listens on addr (already judged by sw_dash_listen_parse) and serves the
 * site out (the symbolic link of dash_site.h; its directory must exist)
 * until sw_dash_serve_stop.  SW_OK and *ret; SW_EIO when the address
 * cannot be bound (err: "cannot listen on 127.0.0.1:8080: Address already
 * in use") or the server not started.  Call from the main thread, after
 * blocking the signals it waits for.
 */
enum sw_err sw_dash_serve_start(const char *out, const struct sw_dash_listen *addr,
				struct sw_dash_serve **ret, char *err, size_t errlen);

/* Closes the listening socket and every connection, and waits for the
 * server's thread to end.  NULL: no-op. */
void sw_dash_serve_stop(struct sw_dash_serve *s);

/* The Content-Type of a file by its name's extension
 * ("application/octet-stream" for others).  Pure; any thread. */
const char *sw_dash_serve_type(const char *name);

/*
 * Whether path (the request's path, percent-decoded, without the query)
 * may name a file of the site: it begins with '/', and every segment
 * between slashes is 1..NAME_MAX bytes of [A-Za-z0-9._-] not beginning
 * with '.'; "/" alone is allowed (index.html).  Pure; any thread.
 */
bool sw_dash_serve_path_ok(const char *path);

#endif /* SW_DASH_SERVE_H */
