/*
 * test_db_pg.c - the PostgreSQL backend of lib/db.h: the SQL rewrite as a
 * table of cases, the TLS rule for remote hosts, then the driver against a
 * real server (tests/tools/pg_tmp.sh, a private cluster on a Unix socket):
 * parameters, types, rows, errors, transactions, persistent statements.
 * Skips the server part, saying why, only when no server can start here.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/db.h"
#include "lib/db_pg.h"
#include "lib/xmalloc.h"
#include "tests/tap.h"

/* ---- the rewrite ---- */

struct tr_case {
	const char *in;
	const char *out; /* NULL: refused */
	int nparams;
};

static const struct tr_case tr_cases[] = {
    {"SELECT 1", "SELECT 1", 0},
    {"SELECT ?1, ?2, ?1", "SELECT $1, $2, $1", 2},
    {"SELECT ?, ?", "SELECT $1, $2", 2},
    {"SELECT :a, @b, $c, :a", "SELECT $1, $2, $3, $1", 3},
    {"SELECT x::bigint FROM t WHERE y = :y", "SELECT x::bigint FROM t WHERE y = $1", 1},
    {"SELECT ':a', \"b:c\" -- :d\nFROM t", "SELECT ':a', \"b:c\" -- :d\nFROM t", 0},
    {"SELECT 'it''s :x'", "SELECT 'it''s :x'", 0},
    {"BEGIN IMMEDIATE", "BEGIN", 0},
    {"begin deferred", "BEGIN", 0},
    {"SELECT a FROM t INDEXED BY t_idx WHERE b", "SELECT a FROM t  WHERE b", 0},
    {"SELECT max(a, b, c), max(a), min(x,y)", "SELECT greatest(a, b, c), max(a), least(x,y)", 0},
    {"SELECT max(coalesce(a, -1), (b))", "SELECT greatest(coalesce(a, -1), (b))", 0},
    {"SELECT instr(:keep, ',' || k)", "SELECT strpos($1, ',' || k)", 1},
    {"SELECT ifnull(a, 0)", "SELECT coalesce(a, 0)", 0},
    {"SELECT group_concat(kind, ',')", "SELECT string_agg(kind, ',')", 0},
    {"SELECT group_concat(kind)", "SELECT string_agg(kind, ',')", 0},
    {"WHERE a IS NULL AND b IS NOT NULL", "WHERE a IS NULL AND b IS NOT NULL", 0},
    {"WHERE a IS :x", "WHERE a IS NOT DISTINCT FROM $1", 1},
    {"WHERE a IS NOT 0", "WHERE a IS DISTINCT FROM 0", 0},
    {"WHERE a IS NOT DISTINCT FROM b", "WHERE a IS NOT DISTINCT FROM b", 0},
    {"CREATE FUNCTION f() AS $$ SELECT :a $$; SELECT $q$ ?1 $q$, $x",
     "CREATE FUNCTION f() AS $$ SELECT :a $$; SELECT $q$ ?1 $q$, $1", 1},
    {"SELECT id FROM t LIMIT 5 /*pg: FOR UPDATE SKIP LOCKED */ /* kept */",
     "SELECT id FROM t LIMIT 5  FOR UPDATE SKIP LOCKED  /* kept */", 0},
    {"SELECT $q$ open", NULL, 0},
    {"SELECT 'unterminated", NULL, 0},
    {"SELECT (1", NULL, 0},
    {"SELECT 1)", NULL, 0},
    {"SELECT ?0", NULL, 0},
};

static void test_translate(void)
{
	for (size_t i = 0; i < sizeof(tr_cases) / sizeof(tr_cases[0]); i++) {
		const struct tr_case *c = &tr_cases[i];
		struct sw_pg_sql q;
		char err[128] = "";
		int rc = sw_db_pg_translate(c->in, &q, err, sizeof(err));

		if (c->out == NULL) {
			ok(rc != 0 && err[0], "refused: %s (%s)", c->in, err);
			continue;
		}
		if (!ok(rc == 0, "rewrites: %s", c->in)) {
			printf("#   %s\n", err);
			continue;
		}
		is_str(q.text, c->out, "rewrite of: %s", c->in);
		is_int(q.nparams, c->nparams, "parameters of: %s", c->in);
		sw_db_pg_sql_free(&q);
	}
}

/* ---- TLS: refused before any connection is tried ---- */

static void test_tls_rule(void)
{
	struct sw_db *db = (struct sw_db *)1;
	char err[512] = "";

	ok(sw_db_pg_open("postgresql://u@db.example.net/sw?sslmode=disable", "secret", &db, err,
			 sizeof(err)) != 0 &&
	       db == NULL,
	   "sslmode=disable to another host: refused");
	ok(strstr(err, "sslmode=disable") && strstr(err, "db.example.net") && !strstr(err, "secret"),
	   "the reason names mode and host, not the password: %s", err);
	ok(sw_db_pg_open("host=192.0.2.1,127.0.0.1 sslmode=require dbname=x", NULL, &db, err,
			 sizeof(err)) != 0,
	   "sslmode=require (no verification) to a remote host in a list: refused");
	ok(sw_db_pg_open("postgresql://%zz", NULL, &db, err, sizeof(err)) != 0 &&
	       strncmp(err, "bad url", 7) == 0,
	   "a malformed url: refused, saying so (%s)", err);
	ok(sw_db_driver_for("postgresql://h/db") == &sw_db_pg_driver &&
	       sw_db_driver_for("postgres://h/db") == &sw_db_pg_driver &&
	       sw_db_driver_for("host=/tmp dbname=x") == &sw_db_pg_driver &&
	       sw_db_driver_for("/var/lib/slipwatch/store.db") != &sw_db_pg_driver,
	   "addresses pick their driver");
}

/* ---- against a server ---- */

static char *pg_dir;

static void pg_stop(void)
{
	char *cmd;

	if (!pg_dir)
		return;
	cmd = xasprintf("'%s/tests/tools/pg_tmp.sh' stop '%s'; rm -rf '%s'", getenv("SW_SRCDIR"),
			pg_dir, pg_dir);
	if (system(cmd) != 0)
		printf("# stopping the server failed\n");
	free(cmd);
}

/* The connection string of a new private server, or NULL (why printed). */
static char *pg_start(void)
{
	char tmpl[] = "/tmp/sw-pg-test.XXXXXX", line[512] = "";
	const char *src = getenv("SW_SRCDIR");
	char *cmd;
	FILE *f;
	int st;

	if (!src || !mkdtemp(tmpl))
		return NULL;
	pg_dir = xstrdup(tmpl);
	atexit(pg_stop);
	cmd = xasprintf("'%s/tests/tools/pg_tmp.sh' start '%s'", src, pg_dir);
	f = popen(cmd, "r");
	free(cmd);
	if (!f || !fgets(line, sizeof(line), f)) {
		if (f)
			st = pclose(f);
		return NULL;
	}
	st = pclose(f);
	if (st != 0)
		return NULL;
	line[strcspn(line, "\n")] = '\0';
	return xstrdup(line);
}

static struct sw_db *connect_or_bail(const char *url)
{
	struct sw_db *db = NULL;
	char err[512] = "";

	if (sw_db_pg_open(url, NULL, &db, err, sizeof(err)) != 0)
		tap_bail("cannot connect to the test server: %s", err);
	return db;
}

static void test_rows(struct sw_db *db)
{
	struct sw_db_stmt *s = NULL;
	static const unsigned char blob[] = {0, 1, 2, 255, 0, 7};

	is_int(sw_db_exec(db, "CREATE TABLE t (id BIGINT GENERATED BY DEFAULT AS IDENTITY "
			      "PRIMARY KEY, k TEXT NOT NULL UNIQUE, n BIGINT, x DOUBLE PRECISION, "
			      "b BYTEA); CREATE INDEX t_n ON t (n)"),
	       SW_DB_OK, "exec: two statements");
	is_int(sw_db_prepare(db, "INSERT INTO t (k, n, x, b) VALUES (:k, :n, :x, :b) "
				 "ON CONFLICT (k) DO NOTHING",
			     &s),
	       SW_DB_OK, "prepare an insert");
	ok(sw_db_bind_parameter_index(s, ":k") == 1 && sw_db_bind_parameter_index(s, ":b") == 4 &&
	       sw_db_bind_parameter_index(s, ":nope") == 0,
	   "parameters numbered by name");
	sw_db_bind_text(s, 1, "a", -1, SW_DB_TRANSIENT);
	sw_db_bind_int64(s, 2, INT64_C(9007199254740993));
	sw_db_bind_double(s, 3, 0.1);
	sw_db_bind_blob(s, 4, blob, (int)sizeof(blob), SW_DB_TRANSIENT);
	is_int(sw_db_step(s), SW_DB_DONE, "insert runs");
	is_int(sw_db_changes(db), 1, "one row changed");
	is_int(sw_db_last_insert_rowid(db), 1, "its identity");
	sw_db_reset(s);
	is_int(sw_db_step(s), SW_DB_DONE, "the same again, conflicting: done");
	is_int(sw_db_changes(db), 0, "nothing changed");
	sw_db_reset(s);
	sw_db_clear_bindings(s);
	sw_db_bind_text(s, 1, "b", -1, SW_DB_STATIC);
	is_int(sw_db_step(s), SW_DB_DONE, "NULLs where nothing is bound");
	sw_db_finalize(s);

	is_int(sw_db_prepare(db, "SELECT k, n, x, b, n IS NULL, max(n, 5), group_concat(k) "
				 "OVER () FROM t INDEXED BY t_n ORDER BY id",
			     &s),
	       SW_DB_OK, "prepare a select in SQLite's dialect");
	is_int(sw_db_step(s), SW_DB_ROW, "first row");
	is_str((const char *)sw_db_column_text(s, 0), "a", "text column");
	ok(sw_db_column_int64(s, 1) == INT64_C(9007199254740993), "int64 exact");
	ok(sw_db_column_double(s, 2) == 0.1, "double exact");
	ok(sw_db_column_type(s, 3) == SW_DB_BLOB && sw_db_column_blob(s, 3) &&
	       memcmp(sw_db_column_blob(s, 3), blob, sizeof(blob)) == 0 &&
	       sw_db_column_bytes(s, 3) == (int)sizeof(blob),
	   "blob round trip, NULs included");
	ok(sw_db_column_type(s, 4) == SW_DB_INTEGER && sw_db_column_int(s, 4) == 0 &&
	       strcmp((const char *)sw_db_column_text(s, 4), "0") == 0,
	   "a truth value reads as SQLite's 0/1");
	ok(sw_db_column_int64(s, 5) == INT64_C(9007199254740993), "max of two: greatest");
	is_str((const char *)sw_db_column_text(s, 6), "a,b", "group_concat: string_agg");
	is_int(sw_db_step(s), SW_DB_ROW, "second row");
	ok(sw_db_column_type(s, 1) == SW_DB_NULL && sw_db_column_text(s, 1) == NULL &&
	       sw_db_column_int64(s, 1) == 0,
	   "NULL column");
	is_int(sw_db_column_int64(s, 5), 5, "greatest ignores NULL");
	is_int(sw_db_step(s), SW_DB_DONE, "then done");
	is_int(sw_db_step(s), SW_DB_DONE, "and stays done");
	sw_db_finalize(s);
}

static void test_errors(struct sw_db *db)
{
	struct sw_db_stmt *s = NULL;

	is_int(sw_db_prepare(db, "INSERT INTO t (k) VALUES (NULL)", &s), SW_DB_OK, "prepare");
	is_int(sw_db_step(s), SW_DB_CONSTRAINT, "NOT NULL: a constraint");
	ok(strstr(sw_db_errmsg(db), "null value") != NULL, "the server's text: %s",
	   sw_db_errmsg(db));
	sw_db_finalize(s);
	is_int(sw_db_prepare(db, "SELECT nosuch FROM t", &s), SW_DB_OK, "prepare (checked on run)");
	is_int(sw_db_step(s), SW_DB_ERROR, "an unknown column: an error");
	ok(strstr(sw_db_errmsg(db), "nosuch") != NULL, "naming it: %s", sw_db_errmsg(db));
	sw_db_finalize(s);
	ok(sw_db_prepare(db, "SELECT 'x", &s) != SW_DB_OK && s == NULL, "bad SQL: refused");
}

static void test_transactions(struct sw_db *db)
{
	struct sw_db_stmt *ins = NULL, *cnt = NULL;

	ok(sw_db_get_autocommit(db), "no transaction open");
	is_int(sw_db_exec(db, "BEGIN IMMEDIATE"), SW_DB_OK, "begin (SQLite's form)");
	ok(!sw_db_get_autocommit(db), "in a transaction");
	sw_db_prepare_persistent(db, "INSERT INTO t (k, n) VALUES (?1, ?2)", &ins);
	sw_db_prepare_persistent(db, "SELECT count(*) FROM t WHERE n IS ?1", &cnt);
	sw_db_bind_text(ins, 1, "c", -1, SW_DB_STATIC);
	sw_db_bind_int64(ins, 2, 7);
	is_int(sw_db_step(ins), SW_DB_DONE, "insert in the transaction");
	is_int(sw_db_exec(db, "SAVEPOINT sp"), SW_DB_OK, "savepoint");
	sw_db_reset(ins);
	sw_db_bind_text(ins, 1, "d", -1, SW_DB_STATIC);
	sw_db_bind_text(ins, 2, "8", -1, SW_DB_STATIC); /* another type signature */
	is_int(sw_db_step(ins), SW_DB_DONE, "the persistent statement with other types");
	is_int(sw_db_exec(db, "ROLLBACK TO sp; RELEASE sp"), SW_DB_OK, "rolled back to it");
	is_int(sw_db_exec(db, "COMMIT"), SW_DB_OK, "commit");
	sw_db_bind_int64(cnt, 1, 7);
	ok(sw_db_step(cnt) == SW_DB_ROW && sw_db_column_int(cnt, 0) == 1, "the first insert kept");
	sw_db_reset(cnt);
	sw_db_bind_int64(cnt, 1, 8);
	ok(sw_db_step(cnt) == SW_DB_ROW && sw_db_column_int(cnt, 0) == 0, "the second undone");
	sw_db_reset(cnt);
	sw_db_bind_null(cnt, 1);
	ok(sw_db_step(cnt) == SW_DB_ROW && sw_db_column_int(cnt, 0) == 1,
	   "IS with a NULL parameter: null-safe");
	sw_db_finalize(ins);
	sw_db_finalize(cnt);
	ok(sw_db_get_autocommit(db), "no transaction left open");
	/* SQLite's optional filters, first run with NULLs: the types the server
	 * cannot settle are learned from where the error points */
	is_int(sw_db_prepare(db, "SELECT count(*) FROM t WHERE (:k IS NULL OR k = :k) AND "
				 "(:n IS NULL OR n = :n) AND (CASE WHEN :x IS NOT NULL THEN :x "
				 "ELSE k END) = k",
			     &cnt),
	       SW_DB_OK, "prepare optional filters");
	ok(sw_db_step(cnt) == SW_DB_ROW && sw_db_column_int(cnt, 0) == 3,
	   "all NULL: every row (%s)", sw_db_errmsg(db));
	sw_db_reset(cnt);
	sw_db_bind_text(cnt, 1, "c", -1, SW_DB_STATIC);
	sw_db_bind_int64(cnt, 2, 7);
	ok(sw_db_step(cnt) == SW_DB_ROW && sw_db_column_int(cnt, 0) == 1,
	   "then with values: the one row (%s)", sw_db_errmsg(db));
	sw_db_finalize(cnt);
}

/* plans(db, out): the runs planned of the server statement for test_replan's
 * lookup (custom and generic plans), and its plan for one key. */
static int plans(struct sw_db *db, char *plan, size_t len)
{
	struct sw_db_stmt *s = NULL;
	char name[32] = "", sql[96];
	int n = -1;

	sw_db_prepare(db, "SELECT name, generic_plans + custom_plans FROM "
			  "pg_prepared_statements WHERE statement LIKE 'SELECT id FROM o WHERE%'",
		      &s);
	if (sw_db_step(s) == SW_DB_ROW) {
		snprintf(name, sizeof(name), "%s", (const char *)sw_db_column_text(s, 0));
		n = sw_db_column_int(s, 1);
	}
	sw_db_finalize(s);
	snprintf(sql, sizeof(sql), "EXPLAIN EXECUTE %s('w3', 'o77')", name);
	plan[0] = '\0';
	if (sw_db_prepare(db, sql, &s) == SW_DB_OK && sw_db_step(s) == SW_DB_ROW)
		snprintf(plan, len, "%s", (const char *)sw_db_column_text(s, 0));
	sw_db_finalize(s);
	return n;
}

/* A statement first planned on an empty table (one VACUUM knows to be
 * empty: a scan is the cheapest plan) is prepared again at its 1,024th run,
 * and then looks rows up by the key.  No autovacuum: its ANALYZE would
 * replan the statement on the server's own time. */
static void test_replan(struct sw_db *db)
{
	struct sw_db_stmt *q = NULL;
	char plan[256];
	int i, bad = 0;

	ok(sw_db_exec(db, "CREATE TABLE o (id BIGINT GENERATED BY DEFAULT AS IDENTITY "
			      "PRIMARY KEY, wh TEXT NOT NULL, oid TEXT NOT NULL, ship BIGINT, "
			      "UNIQUE (wh, oid)) WITH (autovacuum_enabled = off); "
			      "CREATE INDEX o_wh_ship ON o (wh, ship)") == SW_DB_OK &&
		   sw_db_exec(db, "VACUUM o") == SW_DB_OK,
	   "replan: a table with a key and a second index on its first column");
	sw_db_prepare_persistent(db, "SELECT id FROM o WHERE wh = ?1 AND oid = ?2", &q);
	for (i = 1; i <= 1024; i++) {
		if (i == 8)
			sw_db_exec(db, "INSERT INTO o (wh, oid) SELECT 'w' || (k % 10), 'o' || k "
				       "FROM generate_series(1, 20000) k");
		sw_db_bind_text(q, 1, "w3", -1, SW_DB_STATIC);
		sw_db_bind_text(q, 2, "o73", -1, SW_DB_STATIC);
		if (sw_db_step(q) != SW_DB_ROW || sw_db_column_int(q, 0) != 73)
			bad += i >= 8;
		sw_db_reset(q);
		if (i == 1023) {
			is_int(plans(db, plan, sizeof(plan)), 1023,
			       "replan: 1,023 runs planned of one server statement");
			ok(strstr(plan, "Seq Scan") != NULL,
			   "replan: the plan it kept scans the table: %s", plan);
		}
	}
	is_int(bad, 0, "replan: every run after the insert found its row");
	is_int(plans(db, plan, sizeof(plan)), 1, "replan: the 1,024th prepared it again");
	ok(strstr(plan, "o_wh_oid_key") != NULL, "replan: its plan uses the key: %s", plan);
	sw_db_finalize(q);
}

int main(void)
{
	char *url;
	struct sw_db *db;

	test_translate();
	test_tls_rule();
	if (!(url = pg_start())) {
		printf("# no PostgreSQL server could start here (see above): server tests skipped\n");
		ok(1, "# SKIP no PostgreSQL server");
		return tap_done();
	}
	db = connect_or_bail(url);
	test_replan(db);
	ok(sw_db_pg_server_version(db) >= 120000, "server version %d",
	   sw_db_pg_server_version(db));
	test_rows(db);
	test_errors(db);
	test_transactions(db);
	sw_db_close(db);
	free(url);
	return tap_done();
}
