/*
 * store_snapshot.c - a copy of some of a store's tables in a new SQLite
 * store file (sw_store_snapshot, store.h): for the tools that read a store
 * with SQLite's own means (slipwatch replay attaches its source) when the
 * store is on PostgreSQL.
 *
 * The copy is made at the program's schema version (both stores are
 * opened by it), so the tables and columns are the same; the columns are
 * read off the new SQLite file (PRAGMA table_info) and selected by name
 * from the source.  The source is read in one transaction (REPEATABLE
 * READ on PostgreSQL: every page of every table from one moment), in
 * pages of SNAP_PAGE rows by the table's integer key (keyset, so a large
 * journal is never one result in memory); a table without one is read
 * whole.  The copy's triggers are dropped first and its foreign keys not
 * enforced: its rows are the source's as they are, not what a trigger
 * would derive from them, and a table's parents need not be copied.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/store_int.h"
#include "lib/xmalloc.h"

#define SNAP_PAGE    5000
#define SNAP_SQL_MAX ((size_t)1 << 16)

/* Errors go to the source's handle, where the caller reads them; those of
 * the copy name it. */
struct snap {
	struct sw_store *src, *dst;
	const char *path;
};

static enum sw_err dst_err(struct snap *sn, const char *what)
{
	sw_store_int_dberr(sn->dst, what);
	return sw_store_int_err(sn->src, SW_ESTORE, "snapshot: %s", sw_store_errmsg(sn->dst));
}

static void sql_init(struct sw_buf *b)
{
	sw_buf_init(b, SNAP_SQL_MAX);
}

struct snap_table {
	const char *name;
	struct sw_buf cols;  /* "a, b, c" */
	struct sw_buf marks; /* "?1, ?2, ?3" */
	int ncols;
	char *key; /* the single integer primary key column, or NULL */
};

static void table_free(struct snap_table *t)
{
	sw_buf_free(&t->cols);
	sw_buf_free(&t->marks);
	free(t->key);
}

/* t's columns, as the copy (dst) has them. */
static enum sw_err table_columns(struct snap *sn, struct snap_table *t)
{
	struct sw_db_stmt *q = sw_store_int_prepare(sn->dst, "SELECT name, type, pk FROM "
							     "pragma_table_info(?1) ORDER BY cid",
						    "the copy's columns");
	int rc, npk = 0;

	if (!q)
		return dst_err(sn, "the copy's columns");
	sql_init(&t->cols);
	sql_init(&t->marks);
	sw_db_bind_text(q, 1, t->name, -1, SW_DB_STATIC);
	while ((rc = sw_db_step(q)) == SW_DB_ROW) {
		const char *name = (const char *)sw_db_column_text(q, 0);
		const char *type = (const char *)sw_db_column_text(q, 1);

		sw_buf_printf(&t->cols, "%s%s", t->ncols ? ", " : "", name);
		sw_buf_printf(&t->marks, "%s?%d", t->ncols ? ", " : "", t->ncols + 1);
		t->ncols++;
		if (sw_db_column_int(q, 2) > 0 && ++npk == 1 && type &&
		    strcasecmp(type, "INTEGER") == 0)
			t->key = xstrdup(name);
	}
	if (npk != 1) {
		free(t->key);
		t->key = NULL;
	}
	sw_db_finalize(q);
	if (rc != SW_DB_DONE)
		return dst_err(sn, "the copy's columns");
	if (t->ncols == 0)
		return sw_store_int_err(sn->src, SW_EINVAL, "snapshot: the store has no table %s",
					t->name);
	return SW_OK;
}

/* Binds column i of the source's row r as parameter i + 1 of w. */
static int bind_col(struct sw_db_stmt *w, struct sw_db_stmt *r, int i)
{
	switch (sw_db_column_type(r, i)) {
	case SW_DB_NULL:
		return sw_db_bind_null(w, i + 1);
	case SW_DB_INTEGER:
		return sw_db_bind_int64(w, i + 1, sw_db_column_int64(r, i));
	case SW_DB_FLOAT:
		return sw_db_bind_double(w, i + 1, sw_db_column_double(r, i));
	case SW_DB_BLOB:
		return sw_db_bind_blob(w, i + 1, sw_db_column_blob(r, i), sw_db_column_bytes(r, i),
				       SW_DB_TRANSIENT);
	default:
		return sw_db_bind_text(w, i + 1, (const char *)sw_db_column_text(r, i),
				       sw_db_column_bytes(r, i), SW_DB_TRANSIENT);
	}
}

/* Copies one page of t (rows with key > *after, or all rows for a table
 * without a key); *got: the rows copied. */
static enum sw_err copy_page(struct snap *sn, struct snap_table *t, struct sw_db_stmt *w,
			     int64_t after, int *got)
{
	struct sw_buf sql;
	struct sw_db_stmt *r;
	enum sw_err rc = SW_OK;
	int step;

	*got = 0;
	sql_init(&sql);
	sw_buf_printf(&sql, "SELECT %s FROM %s", sw_buf_str(&t->cols), t->name);
	if (t->key)
		sw_buf_printf(&sql, " WHERE %s > ?1 ORDER BY %s LIMIT %d", t->key, t->key,
			      SNAP_PAGE);
	r = sw_store_int_prepare(sn->src, sw_buf_str(&sql), t->name);
	sw_buf_free(&sql);
	if (!r)
		return SW_ESTORE;
	if (t->key)
		sw_db_bind_int64(r, 1, after);
	while (rc == SW_OK && (step = sw_db_step(r)) == SW_DB_ROW) {
		int bad = 0;

		for (int i = 0; i < t->ncols; i++)
			bad |= bind_col(w, r, i);
		if (bad || sw_db_step(w) != SW_DB_DONE)
			rc = dst_err(sn, t->name);
		sw_db_reset(w);
		sw_db_clear_bindings(w);
		(*got)++;
	}
	if (rc == SW_OK && step != SW_DB_DONE)
		rc = sw_store_int_dberr(sn->src, t->name);
	sw_db_finalize(r);
	return rc;
}

/* Copies table t's rows from src into dst. */
static enum sw_err copy_table(struct snap *sn, struct snap_table *t)
{
	struct sw_buf sql;
	struct sw_db_stmt *w, *last;
	enum sw_err rc;
	int64_t after = INT64_MIN;
	int got;

	if ((rc = table_columns(sn, t)))
		return rc;
	sql_init(&sql);
	sw_buf_printf(&sql, "INSERT INTO %s (%s) VALUES (%s)", t->name, sw_buf_str(&t->cols),
		      sw_buf_str(&t->marks));
	w = sw_store_int_prepare(sn->dst, sw_buf_str(&sql), t->name);
	sw_buf_free(&sql);
	if (!w)
		return dst_err(sn, t->name);
	do {
		rc = copy_page(sn, t, w, after, &got);
		if (rc || !t->key || got < SNAP_PAGE)
			break;
		/* the page's last key: the next page starts after it */
		sql_init(&sql);
		sw_buf_printf(&sql, "SELECT max(%s) FROM %s", t->key, t->name);
		last = sw_store_int_prepare(sn->dst, sw_buf_str(&sql), t->name);
		sw_buf_free(&sql);
		if (!last || sw_db_step(last) != SW_DB_ROW)
			rc = dst_err(sn, t->name);
		else
			after = sw_db_column_int64(last, 0);
		sw_db_finalize(last);
	} while (rc == SW_OK);
	sw_db_finalize(w);
	return rc;
}

/* Drops the copy's triggers (see the top of the file). */
static enum sw_err drop_triggers(struct snap *sn)
{
	struct sw_db_stmt *q = sw_store_int_prepare(
	    sn->dst, "SELECT name FROM sqlite_master WHERE type = 'trigger'", "the copy's triggers");
	struct sw_buf sql;
	int rc;

	if (!q)
		return dst_err(sn, "the copy's triggers");
	sql_init(&sql);
	while ((rc = sw_db_step(q)) == SW_DB_ROW)
		sw_buf_printf(&sql, "DROP TRIGGER \"%s\";", (const char *)sw_db_column_text(q, 0));
	sw_db_finalize(q);
	if (rc == SW_DB_DONE && sql.len && sw_db_exec(sw_store_int_db(sn->dst), sw_buf_str(&sql)))
		rc = SW_DB_ERROR;
	sw_buf_free(&sql);
	return rc == SW_DB_DONE ? SW_OK : dst_err(sn, "dropping the copy's triggers");
}

static enum sw_err copy_all(struct snap *sn, const char *const *tables, size_t n)
{
	struct sw_db *sdb = sw_store_int_db(sn->src), *ddb = sw_store_int_db(sn->dst);
	enum sw_err rc;

	if ((rc = drop_triggers(sn)))
		return rc;
	if (sw_db_exec(ddb, "PRAGMA foreign_keys = OFF"))
		return dst_err(sn, "foreign keys off");
	if (sw_db_exec(sdb, sw_db_dialect(sdb) == SW_DB_POSTGRESQL
				? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
				: "BEGIN"))
		return sw_store_int_dberr(sn->src, "snapshot: begin");
	if (sw_db_exec(ddb, "BEGIN IMMEDIATE")) {
		sw_db_exec(sdb, "ROLLBACK");
		return dst_err(sn, "begin");
	}
	for (size_t i = 0; i < n && rc == SW_OK; i++) {
		struct snap_table t = {.name = tables[i]};

		rc = copy_table(sn, &t);
		table_free(&t);
	}
	sw_db_exec(sdb, "ROLLBACK"); /* it only read */
	if (rc == SW_OK && sw_db_exec(ddb, "COMMIT"))
		rc = dst_err(sn, "commit");
	if (rc != SW_OK && !sw_db_get_autocommit(ddb))
		sw_db_exec(ddb, "ROLLBACK");
	return rc;
}

enum sw_err sw_store_snapshot(struct sw_store *st, const char *path, const char *const *tables,
			      size_t n)
{
	struct snap sn = {.src = st, .path = path};
	char err[1024];
	enum sw_err rc;

	if (!st || !path || !*path || (n && !tables))
		return SW_EINVAL;
	if (sw_db_driver_for(path)->dialect != SW_DB_SQLITE)
		return sw_store_int_err(st, SW_EINVAL, "snapshot: %s is not an SQLite path", path);
	if (access(path, F_OK) == 0)
		return sw_store_int_err(st, SW_EDUP, "snapshot: %s exists", path);
	if ((rc = sw_store_open(path, 0, &sn.dst, err, sizeof(err))))
		return sw_store_int_err(st, rc, "snapshot: %s", err);
	rc = copy_all(&sn, tables, n);
	sw_store_close(sn.dst);
	if (rc != SW_OK)
		unlink(path);
	return rc;
}
