/*
 * cli_replay.c - `slipwatch replay`: what the alert engine would have sent
 * over a past period with the current or a candidate configuration,
 * beside what was actually sent (cli_replay.h; the simulation is
 * cli_replay_sim.c).
 *
 *   slipwatch [-c FILE] [--store PATH] replay --from TIME --to TIME
 *             [--config FILE] [--json]
 *
 * The source store (--store, else -c's [store] path) is only read.  The
 * candidate configuration (--config, default the -c file) gives the rules,
 * settings, templates and ops rules; its [store] path is not used.  The
 * comparison counts, in [from, to]: customer messages sent (outbox rows
 * 'sent', by their lead kind), pages sent (rows with a receiver, by
 * event) and incidents paged (distinct rule, subject and incident of
 * trigger pages), and lists the messages and pages sent on one side only.
 * Exit 0 whatever the difference; 1 when the replay could not run; 2 for
 * bad arguments.
 *
 * A PostgreSQL source is first copied, the tables the replay reads, into
 * an SQLite file in TMPDIR (sw_store_snapshot: one moment of the store),
 * and the replay reads that.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <sqlite3.h>

#include "lib/db.h"
#include "lib/store.h"
#include "lib/swtime.h"
#include "lib/xmalloc.h"
#include "tools/cli.h"
#include "tools/cli_replay.h"



static const char emails_sql[] =
    "SELECT slip_kind, recipient, entity, '', sent_at FROM outbox"
    " WHERE receiver IS NULL AND state = 'sent' AND sent_at BETWEEN ?1 AND ?2"
    " ORDER BY slip_kind, recipient, entity, sent_at";

static const char pages_sql[] =
    "SELECT o.slip_kind, o.receiver, coalesce(p.rule, '?') || ' ' || coalesce(p.subject, '?'),"
    " CASE WHEN o.slip_kind = 'trigger' THEN coalesce(p.rule, '?') || ' ' ||"
    "  coalesce(p.subject, '?') || ' ' || substr(o.promise, 1, instr(o.promise, '#') - 1)"
    "  ELSE '' END, o.sent_at"
    " FROM outbox o LEFT JOIN pages p ON o.entity = 'page:' || p.id"
    " WHERE o.receiver IS NOT NULL AND o.state = 'sent' AND o.sent_at BETWEEN ?1 AND ?2"
    " ORDER BY 1, 2, 3, o.sent_at";

/* ---- reading the two stores ------------------------------------------------- */

static char *col(sqlite3_stmt *q, int i)
{
	const char *t = (const char *)sqlite3_column_text(q, i);

	return xstrdup(t ? t : "");
}

/* Reads the rows of sql over [from, to] from the store at path. */
static int read_items(const char *path, const char *sql, int64_t from, int64_t to,
		      struct replay_items *ret)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	int rc;

	memset(ret, 0, sizeof(*ret));
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
		rc = fail("%s: cannot read the outbox: %s", path, sqlite3_errmsg(db));
		sqlite3_close(db);
		return rc;
	}
	sqlite3_bind_int64(q, 1, from);
	sqlite3_bind_int64(q, 2, to);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct replay_item *it;

		if (ret->n == ret->cap) {
			ret->cap = ret->cap ? ret->cap * 2 : 64;
			ret->v = xreallocarray(ret->v, ret->cap, sizeof(*ret->v));
		}
		it = &ret->v[ret->n++];
		it->kind = col(q, 0);
		it->who = col(q, 1);
		it->what = col(q, 2);
		it->inc = col(q, 3);
		it->at = sqlite3_column_int64(q, 4);
	}
	rc = rc == SQLITE_DONE ? 0 : fail("%s: reading the outbox: %s", path, sqlite3_errmsg(db));
	sqlite3_finalize(q);
	sqlite3_close(db);
	return rc;
}




/* ---- output ----------------------------------------------------------------------- */

static void print_item(const struct replay_item *it, void *arg)
{
	char *k = clean(it->kind, NULL), *w = clean(it->who, NULL), *e = clean(it->what, NULL);
	char when[SW_TIME_STRLEN];

	printf("  %-22s %-32s %s  (%s)\n", k, w, e, fmt_utc(it->at, when));
	free(k);
	free(w);
	free(e);
}

static void json_item(const struct replay_item *it, void *arg)
{
	json_t *o = json_object();

	jset_str(o, "kind", it->kind);
	jset_str(o, "to", it->who);
	jset_str(o, "entity", it->what);
	jset_utc(o, "sent_at", it->at);
	json_array_append_new(arg, o);
}

struct report {
	const char *src, *conf;
	int64_t from, to;
	const struct replay_counts *c;
	struct replay_items er, es, pr, ps; /* emails and pages: replay, sent */
};

static void count_item(const struct replay_item *it, void *arg)
{
	(*(size_t *)arg)++;
}

/* The items of a missing from b under a title, if there are any. */
static void print_section(const char *title, const struct replay_items *a, const struct replay_items *b)
{
	size_t n = 0;

	replay_diff(a, b, count_item, &n);
	if (!n)
		return;
	printf("%s\n", title);
	replay_diff(a, b, print_item, NULL);
}

static int print_text(const struct report *r)
{
	char f[SW_TIME_STRLEN], t[SW_TIME_STRLEN];
	struct replay_kind_count *kc;
	size_t n;

	printf("replay of %s from %s to %s with %s\n", r->src, fmt_utc(r->from, f),
	       fmt_utc(r->to, t), r->conf);
	printf("journal: %" PRId64 " events applied (%" PRId64 " before --from, to warm up): "
	       "%" PRId64 " warehouse, %" PRId64 " courier; %" PRId64 " warehouse events refused "
	       "now; %" PRId64 " not reproducible%s%s\n",
	       r->c->events, r->c->warm, r->c->warehouse, r->c->courier, r->c->rejected,
	       r->c->skipped, r->c->first_skipped[0] ? " (first: " : "", r->c->first_skipped);
	if (r->c->first_skipped[0])
		printf("  ...)\n");
	printf("simulated time: stepped as fast as the machine goes (%" PRId64 " instants)\n",
	       r->c->steps);
	printf("%-24s %8s %8s\n", "customer messages", "replay", "sent");
	kc = replay_by_kind(&r->er, &r->es, &n);
	for (size_t i = 0; i < n; i++)
		printf("  %-22s %8" PRId64 " %8" PRId64 "\n", kc[i].kind, kc[i].replay, kc[i].sent);
	free(kc);
	printf("  %-22s %8zu %8zu\n", "total", r->er.n, r->es.n);
	printf("%-24s %8s %8s\n", "pages", "replay", "sent");
	kc = replay_by_kind(&r->pr, &r->ps, &n);
	for (size_t i = 0; i < n; i++)
		printf("  %-22s %8" PRId64 " %8" PRId64 "\n", kc[i].kind, kc[i].replay, kc[i].sent);
	free(kc);
	printf("  %-22s %8zu %8zu\n", "total", r->pr.n, r->ps.n);
	printf("%-24s %8zu %8zu\n", "incidents paged", replay_incidents(&r->pr), replay_incidents(&r->ps));
	print_section("customer messages only in the replay (would be sent, were not):", &r->er,
		      &r->es);
	print_section("customer messages only sent (the replay would not send them):", &r->es,
		      &r->er);
	print_section("pages only in the replay:", &r->pr, &r->ps);
	print_section("pages only sent:", &r->ps, &r->pr);
	return fflush(stdout) == 0 ? 0 : fail("cannot write the output");
}

static json_t *json_counts(const struct replay_items *a, const struct replay_items *b)
{
	json_t *o = json_object(), *kinds = json_object();
	struct replay_kind_count *kc;
	size_t n;

	kc = replay_by_kind(a, b, &n);
	for (size_t i = 0; i < n; i++) {
		json_t *k = json_object();

		jset_int(k, "replay", kc[i].replay);
		jset_int(k, "sent", kc[i].sent);
		json_object_set_new(kinds, kc[i].kind, k);
	}
	free(kc);
	jset_int(o, "replay", (int64_t)a->n);
	jset_int(o, "sent", (int64_t)b->n);
	json_object_set_new(o, "by_kind", kinds);
	return o;
}

static json_t *json_diff(const struct replay_items *a, const struct replay_items *b)
{
	json_t *arr = json_array();

	replay_diff(a, b, json_item, arr);
	return arr;
}

static int print_json(const struct report *r)
{
	json_t *o = json_object(), *j = json_object(), *inc = json_object();

	jset_str(o, "store", r->src);
	jset_str(o, "config", r->conf);
	jset_utc(o, "from", r->from);
	jset_utc(o, "to", r->to);
	jset_int(j, "events", r->c->events);
	jset_int(j, "before_from", r->c->warm);
	jset_int(j, "warehouse", r->c->warehouse);
	jset_int(j, "courier", r->c->courier);
	jset_int(j, "refused", r->c->rejected);
	jset_int(j, "not_reproducible", r->c->skipped);
	jset_str(j, "first_not_reproducible", r->c->first_skipped[0] ? r->c->first_skipped : NULL);
	json_object_set_new(o, "journal", j);
	json_object_set_new(o, "emails", json_counts(&r->er, &r->es));
	json_object_set_new(o, "pages", json_counts(&r->pr, &r->ps));
	jset_int(inc, "replay", (int64_t)replay_incidents(&r->pr));
	jset_int(inc, "sent", (int64_t)replay_incidents(&r->ps));
	json_object_set_new(o, "incidents", inc);
	json_object_set_new(o, "emails_only_replay", json_diff(&r->er, &r->es));
	json_object_set_new(o, "emails_only_sent", json_diff(&r->es, &r->er));
	json_object_set_new(o, "pages_only_replay", json_diff(&r->pr, &r->ps));
	json_object_set_new(o, "pages_only_sent", json_diff(&r->ps, &r->pr));
	return json_print(o);
}

/* ---- the command ------------------------------------------------------------------ */

struct replay_args {
	const char *from_s, *to_s, *conf;
	int64_t from, to;
	bool json;
};

static int parse_args(const struct cli *cli, int argc, char **argv, struct replay_args *a)
{
	static const struct option opts[] = {
	    {"from", required_argument, NULL, 'f'},
	    {"to", required_argument, NULL, 't'},
	    {"config", required_argument, NULL, 'C'},
	    {"json", no_argument, NULL, 'j'},
	    {NULL, 0, NULL, 0},
	};
	char err[256];
	int c;

	opts_begin();
	while ((c = next_opt("replay", argc, argv, opts)) != -1) {
		if (c == '!')
			return EXIT_USAGE;
		if (c == 'f')
			a->from_s = optarg;
		else if (c == 't')
			a->to_s = optarg;
		else if (c == 'C' && nonempty_arg("replay", "--config", optarg))
			return EXIT_USAGE;
		else if (c == 'C')
			a->conf = optarg;
		else if (c == 'j')
			a->json = true;
	}
	if (no_more_args("replay", argc, argv))
		return EXIT_USAGE;
	if (!a->from_s || !a->to_s)
		return usage_err("replay", "missing %s (want --from TIME --to TIME)",
				 !a->from_s ? "--from" : "--to");
	if (replay_parse_time(a->from_s, &a->from, err, sizeof(err)))
		return usage_err("replay", "--from: %s", err);
	if (replay_parse_time(a->to_s, &a->to, err, sizeof(err)))
		return usage_err("replay", "--to: %s", err);
	if (a->from >= a->to)
		return usage_err("replay", "--from %s is not before --to %s", a->from_s, a->to_s);
	if (!a->conf)
		a->conf = cli->conf_path;
	return 0;
}

/* The tables the replay reads of its source (cli_replay_sim.c and the
 * outbox and pages read above). */
static const char *const src_tables[] = {
    "journal",	 "courier_polls", "courier_health", "parcels",
    "poll_schedule", "probe_results", "outbox",	      "pages",
};

/* Copies the PostgreSQL store the CLI names into copy (an SQLite file in a
 * new directory under tmp): 0, or EXIT_RUNTIME having said why. */
static int pg_copy(const struct cli *cli, const char *tmp, char *copy, size_t len)
{
	struct sw_store *st = NULL;
	int status;

	snprintf(copy, len, "%s/slipwatch-replay-src.XXXXXX", tmp);
	if (!mkdtemp(copy)) {
		status = fail("replay: cannot make a directory in %s: %s", tmp, strerror(errno));
		copy[0] = '\0';
		return status;
	}
	strncat(copy, "/store.db", len - strlen(copy) - 1);
	if ((status = open_store(cli, SW_STORE_RDONLY, &st)))
		return status;
	if (sw_store_snapshot(st, copy, src_tables, sizeof(src_tables) / sizeof(src_tables[0])))
		status = fail("replay: %s", sw_store_errmsg(st));
	sw_store_close(st);
	return status;
}

int cmd_replay(const struct cli *cli, int argc, char **argv)
{
	struct replay_args a = {0};
	struct replay_counts counts;
	struct report r = {0};
	char scratch[4096], copy[4096] = "", err[2048], *src = NULL;
	const char *read_from;
	const char *tmp = getenv("TMPDIR");
	struct stat sb;
	int status;

	if ((status = parse_args(cli, argc, argv, &a)))
		return status;
	if (stat(a.conf, &sb) != 0)
		return usage_err("replay", "no configuration %s (give --config FILE or -c FILE)",
				 a.conf);
	if ((status = cli_store_path(cli, &src)))
		return status;
	if (!tmp || !*tmp)
		tmp = "/tmp";
	read_from = src;
	if (sw_db_driver_for(src)->dialect == SW_DB_POSTGRESQL) {
		status = pg_copy(cli, tmp, copy, sizeof(copy));
		read_from = copy;
	} else if (stat(src, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		status = usage_err("replay", "no store at %s", src);
	}
	if (!status && replay_run(read_from, a.conf, a.from, a.to, tmp, scratch, sizeof(scratch),
				  &counts, err, sizeof(err)) != 0)
		status = fail("replay: %s", err);
	if (status) {
		replay_scratch_remove(copy);
		free(src);
		return status;
	}
	r.src = src;
	r.conf = a.conf;
	r.from = a.from;
	r.to = a.to;
	r.c = &counts;
	status = read_items(scratch, emails_sql, a.from, a.to, &r.er);
	if (!status)
		status = read_items(read_from, emails_sql, a.from, a.to, &r.es);
	if (!status)
		status = read_items(scratch, pages_sql, a.from, a.to, &r.pr);
	if (!status)
		status = read_items(read_from, pages_sql, a.from, a.to, &r.ps);
	if (!status)
		status = a.json ? print_json(&r) : print_text(&r);
	replay_items_free(&r.er);
	replay_items_free(&r.es);
	replay_items_free(&r.pr);
	replay_items_free(&r.ps);
	replay_scratch_remove(scratch);
	replay_scratch_remove(copy);
	free(src);
	return status;
}
