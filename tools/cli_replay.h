/*
 * cli_replay.h - `slipwatch replay`: the alert engine run again over a
 * past period of a store's journal, sending nothing (tools/cli_replay.c,
 * tools/cli_replay_sim.c).  What the files share.
 *
 * The source store is never written: it is opened read-only, and the
 * replay rebuilds a scratch store in a temporary directory by applying
 * the source journal in seq order (warehouse events through the
 * collector's own ingest code, courier events as the poll apply would),
 * with a stepped clock set to each event's received_at, and between
 * events runs the engine, the notice sender and the on-call pages as the
 * daemon would, at every deadline in time order, through channels that
 * record instead of sending.  See slipwatch(1), REPLAY.
 */
#ifndef SW_TOOLS_CLI_REPLAY_H
#define SW_TOOLS_CLI_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a replay counted of the source journal. */
struct replay_counts {
	int64_t events;	     /* journal events applied (received_at <= to) */
	int64_t warm;	     /* of them, received before from */
	int64_t warehouse;   /* applied through the ingest path */
	int64_t courier;     /* applied as courier answers */
	int64_t skipped;     /* not reproducible (other sources, bad payloads) */
	int64_t rejected;    /* warehouse payloads the ingest refused now */
	int64_t steps;	     /* simulated instants the engine ran at */
	char first_skipped[160]; /* "seq N source S: why", "" if none */
};

/*
 * Parses a replay time: an RFC 3339 instant with a zone
 * ("2026-11-01T00:00:00Z", "...+05:30") or a date YYYY-MM-DD (its 00:00
 * UTC).  0 with *ret_at (unix s), or -1 with err saying what is wrong.
 * Pure.
 */
int replay_parse_time(const char *s, int64_t *ret_at, char *err, size_t errlen);

/* One customer message or page as the comparison sees it. */
struct replay_item {
	char *kind; /* lead slip kind, or the page's event */
	char *who;  /* recipient, or the receiver */
	char *what; /* entity, or "RULE SUBJECT" */
	char *inc;  /* incident key of a trigger page ("" otherwise) */
	int64_t at; /* sent_at */
};

struct replay_items {
	struct replay_item *v;
	size_t n, cap;
};

/* Frees the items and their strings (not l itself). */
void replay_items_free(struct replay_items *l);

/* Orders by kind, who, what (sent_at is not compared).  Pure. */
int replay_item_cmp(const struct replay_item *a, const struct replay_item *b);

/* The number of distinct non-empty incident keys of l.  Pure. */
size_t replay_incidents(const struct replay_items *l);

/* Calls fn for each item of a missing from b (both sorted by
 * replay_item_cmp), as a multiset difference: an item twice in a and
 * once in b is reported once.  Pure. */
void replay_diff(const struct replay_items *a, const struct replay_items *b,
		 void (*fn)(const struct replay_item *it, void *arg), void *arg);

/* The count of each kind in r (replay) and s (sent), kinds in the order
 * first met (r's, then s's), as a new array (free it) of *ret_n entries;
 * kind points into the items.  Pure. */
struct replay_kind_count {
	const char *kind;
	int64_t replay, sent;
};
struct replay_kind_count *replay_by_kind(const struct replay_items *r,
					 const struct replay_items *s, size_t *ret_n);

/*
 * Runs the replay: source store at src_path (read only), candidate
 * configuration conf_path, the period [from, to]; the scratch store is
 * made in a new directory under tmpdir and its path written to
 * scratch_path.  0, or -1 with err set (the scratch directory is removed
 * then).  The caller reads the scratch store and removes it.
 */
int replay_run(const char *src_path, const char *conf_path, int64_t from, int64_t to,
	       const char *tmpdir, char *scratch_path, size_t pathlen,
	       struct replay_counts *ret_counts, char *err, size_t errlen);

/* Removes the scratch store's directory (scratch_path's parent). */
void replay_scratch_remove(const char *scratch_path);

#endif /* SW_TOOLS_CLI_REPLAY_H */
