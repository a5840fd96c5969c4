/*
 * dash_site.h - where slipwatch-dash's site lives, and the atomic swap
 * that means no half-written page is ever served.
 *
 * OUT ([dash] out, --out) is a symbolic link to the current generation,
 * a directory beside it named "OUT.gen-XXXXXX" (relative target, so the
 * pair can be moved or served from anywhere).  A generation is written
 * whole into a fresh directory, then a new link "OUT.new-PID" to it is
 * renamed over OUT: rename(2) replaces the link atomically, so OUT always
 * names a complete generation (or does not exist yet).  The generation
 * OUT named before is kept one more round for readers that resolved it
 * just before the swap; older ones, and what a crash left behind, are
 * removed after each swap.  Serve OUT (web servers follow the link), or
 * open OUT/index.html from file://.
 *
 * One writer per OUT: "OUT.lock" is held (flock) from open to close, and
 * a second slipwatch-dash on the same OUT is refused.  One thread.
 */
#ifndef SW_DASH_SITE_H
#define SW_DASH_SITE_H

#include <stddef.h>

#include "lib/error.h"

struct sw_dash_site; /* opaque */

/*
 * Takes OUT's lock, creating OUT's directory if needed.  OUT must be a
 * symbolic link or not exist: anything else is refused (it is not ours to
 * replace).  SW_OK and *ret (free with sw_dash_site_close); SW_EDUP
 * (another writer holds the lock); SW_EIO (err says why).
 */
enum sw_err sw_dash_site_open(const char *out, struct sw_dash_site **ret, char *err, size_t errlen);

/* Releases the lock; an unfinished generation is removed.  NULL: no-op. */
void sw_dash_site_close(struct sw_dash_site *s);

/* Creates a new, empty generation directory (mode 0755) and returns its
 * path (owned by s until commit or abort).  SW_OK or SW_EIO. */
enum sw_err sw_dash_site_begin(struct sw_dash_site *s, const char **ret_dir, char *err,
			       size_t errlen);

/* Makes the generation begun the current one (the swap), then removes
 * every other generation but the one replaced.  SW_OK, or SW_EIO (the
 * swap failed: OUT still names the old generation, the new one is
 * removed).  A failure to clean up is not an error of the swap: it is
 * reported through *ret_warn (a static text, or NULL). */
enum sw_err sw_dash_site_commit(struct sw_dash_site *s, const char **ret_warn, char *err,
				size_t errlen);

/* Removes the generation begun (stopped, or failed). */
void sw_dash_site_abort(struct sw_dash_site *s);

#endif /* SW_DASH_SITE_H */
