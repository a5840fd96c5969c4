/*
 * rrd_int.h - what the RRD writer (lib/rrd.c) and the reader
 * (lib/rrd_read.c) share to talk to librrd and rrdcached the same way:
 * librrd's error text, SIGPIPE held around socket calls, and how an
 * rrdcached address names a file.  Defined in lib/rrd.c; shared by the
 * RRD layer and the dashboard renderer (dashboards/dash_graph.c), which
 * reads through librrd the same way.  Single thread, like all three.
 */
#ifndef SW_RRD_INT_H
#define SW_RRD_INT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

/* librrd's error text into buf (cleared in librrd afterwards); returns
 * buf, never NULL ("unknown librrd error" when librrd has none). */
const char *sw_rrd_err(char *buf, size_t len);

/* Blocks SIGPIPE around rrdcached socket calls (the old mask into *old);
 * restore discards a SIGPIPE raised meanwhile unless the caller had it
 * blocked, then puts *old back. */
void sw_rrd_pipe_block(sigset_t *old);
void sw_rrd_pipe_restore(const sigset_t *old);

/* True if the [rrd] rrdcached address (set, not "") is host:port rather
 * than a unix socket ("unix:/path" or "/path"). */
bool sw_rrd_daemon_tcp(const char *addr);

/* The name librrd or rrdcached gets for file NAME (new string): over TCP
 * "NAME.rrd" (rrdcached resolves it against its -b directory), else
 * "DIR/NAME.rrd". */
char *sw_rrd_daemon_path(const char *dir, const char *name, bool tcp);

#endif /* SW_RRD_INT_H */
