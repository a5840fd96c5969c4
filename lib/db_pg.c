/*
 * db_pg.c - the PostgreSQL backend of lib/db.h, through libpq.
 *
 * Design:
 * - A statement is the SQL rewritten once (db_pg_sql.c) with its
 *   parameters numbered; bindings are kept as text (binary for blobs) and
 *   sent when the statement is first stepped, which runs it whole: the
 *   rows come back in one result that later steps walk.
 * - Parameter types are the server's: the first run of a statement
 *   prepares it and reads back the types PostgreSQL settled (learn()),
 *   and every value goes as text in that type (a blob as binary).  The
 *   server statement stays prepared under a name for the connection's
 *   life, found again by its text (pg_db.cache): a statement the store
 *   prepares for one call costs one round trip after its first.
 * - Errors keep the server's text; SQLSTATE class 23 (integrity) is
 *   SW_DB_CONSTRAINT, as SQLite reports a constraint, so the store tells a
 *   refused value from a failing server the same way on both backends.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "lib/db_pg.h"
#include "lib/xmalloc.h"

#define OID_BOOL   16
#define OID_BYTEA  17
#define OID_INT8   20
#define OID_INT2   21
#define OID_INT4   23
#define OID_TEXT   25
#define OID_FLOAT4 700
#define OID_FLOAT8 701
#define OID_NUMERIC 1700

#define PG_CACHE_MAX 512 /* server statements kept per connection */
/* A kept statement is prepared again at its 1,024th run, 2,048th, ... up
 * to its 1,048,576th (see replan()). */
#define PG_REPLAN_FIRST 1024UL
#define PG_REPLAN_LAST	(1UL << 20)

struct pg_db {
	struct sw_db base;
	PGconn *c;
	char err[1024];
	int errcode;
	int changes;
	int64_t last_id;
	unsigned next_name; /* server-side statement names: sw1, sw2, ... */
	/* The statements prepared on the server, by their text: a statement
	 * the store prepares for one call (and finalizes) is prepared on the
	 * server, and its types learned, once per connection. */
	struct pg_cached {
		char *text; /* as sent (rewritten) */
		char name[16];
		Oid *types;
		unsigned long runs, replan_at; /* replan() */
	} cache[PG_CACHE_MAX];
	int ncache;
};

enum { PAR_NULL, PAR_INT, PAR_DOUBLE, PAR_TEXT, PAR_BLOB };

struct pg_param {
	int kind;	 /* PAR_*: what was bound */
	char *val;	 /* NULL: SQL NULL */
	int len;	 /* binary (blob) length */
	int binary;
	int owned;	 /* val is ours to free */
	char num[32];	 /* integers and doubles as text */
};

struct pg_stmt {
	struct sw_db_stmt base;
	struct pg_db *db;
	struct sw_pg_sql q;
	struct pg_param *par;
	int persistent;
	char name[16]; /* server-side statement ("" until prepared; one-offs: none) */
	Oid *ptypes;   /* the parameters' types, as the server settled them */
	int cached;    /* name is the connection's: cache[slot] */
	int slot;
	int *guess;    /* learn(): parameters given a type for a NULL */
	int learned;
	PGresult *res;
	int row, nrows, ran;
	unsigned char *blob; /* the last column_blob, decoded */
	size_t blob_len;
};

#define DB(d) ((struct pg_db *)(d))
#define ST(s) ((struct pg_stmt *)(s))

static int set_error(struct pg_db *db, int code, const char *what, const char *text)
{
	size_t n;

	snprintf(db->err, sizeof(db->err), "%s%s%s", what ? what : "", what ? ": " : "",
		 text ? text : "unknown error");
	n = strlen(db->err);
	while (n > 0 && (db->err[n - 1] == '\n' || db->err[n - 1] == ' '))
		db->err[--n] = '\0';
	db->errcode = code;
	return code;
}

/* ---- statements ---------------------------------------------------------- */

static int pg_prepare(struct sw_db *d, const char *sql, int persistent, struct sw_db_stmt **ret)
{
	struct pg_stmt *s = xcalloc(1, sizeof(*s));
	char err[128];

	*ret = NULL;
	if (sw_db_pg_translate(sql, &s->q, err, sizeof(err)) != 0) {
		free(s);
		return set_error(DB(d), SW_DB_ERROR, "prepare", err);
	}
	s->base.drv = &sw_db_pg_driver;
	s->db = DB(d);
	s->persistent = persistent;
	s->par = xcalloc((size_t)s->q.nparams + 1, sizeof(*s->par));
	s->ptypes = xcalloc((size_t)s->q.nparams + 1, sizeof(Oid));
	s->guess = xcalloc((size_t)s->q.nparams + 1, sizeof(int));
	*ret = &s->base;
	return SW_DB_OK;
}

static void clear_result(struct pg_stmt *s)
{
	PQclear(s->res);
	s->res = NULL;
	s->ran = 0;
	s->row = -1;
	s->nrows = 0;
	PQfreemem(s->blob);
	s->blob = NULL;
}

static void pg_reset(struct sw_db_stmt *x)
{
	clear_result(ST(x));
}

static void param_clear(struct pg_param *p)
{
	if (p->owned)
		free(p->val);
	memset(p, 0, sizeof(*p));
}

static void pg_clear_bindings(struct sw_db_stmt *x)
{
	struct pg_stmt *s = ST(x);
	int i;

	for (i = 0; i < s->q.nparams; i++)
		param_clear(&s->par[i]);
}

static void pg_finalize(struct sw_db_stmt *x)
{
	struct pg_stmt *s = ST(x);
	char sql[32];

	clear_result(s);
	pg_clear_bindings(x);
	if (s->name[0] && !s->cached && PQstatus(s->db->c) == CONNECTION_OK &&
	    PQtransactionStatus(s->db->c) != PQTRANS_INERROR) {
		snprintf(sql, sizeof(sql), "DEALLOCATE %s", s->name);
		PQclear(PQexec(s->db->c, sql));
	}
	sw_db_pg_sql_free(&s->q);
	free(s->par);
	free(s->ptypes);
	free(s->guess);
	free(s);
}

static int pg_param_index(struct sw_db_stmt *x, const char *name)
{
	struct pg_stmt *s = ST(x);
	int i;

	for (i = 0; i < s->q.nparams; i++)
		if (s->q.names[i] && strcmp(s->q.names[i], name) == 0)
			return i + 1;
	return 0;
}

/* The parameter i (1-based), emptied; NULL if out of range. */
static struct pg_param *param_at(struct pg_stmt *s, int i)
{
	if (i < 1 || i > s->q.nparams)
		return NULL;
	param_clear(&s->par[i - 1]);
	return &s->par[i - 1];
}

static int pg_bind_null(struct sw_db_stmt *x, int i)
{
	return param_at(ST(x), i) ? SW_DB_OK : SW_DB_RANGE;
}

static int pg_bind_int64(struct sw_db_stmt *x, int i, int64_t v)
{
	struct pg_param *p = param_at(ST(x), i);

	if (!p)
		return SW_DB_RANGE;
	snprintf(p->num, sizeof(p->num), "%" PRId64, v);
	p->val = p->num;
	p->kind = PAR_INT;
	return SW_DB_OK;
}

static int pg_bind_double(struct sw_db_stmt *x, int i, double v)
{
	struct pg_param *p = param_at(ST(x), i);

	if (!p)
		return SW_DB_RANGE;
	snprintf(p->num, sizeof(p->num), "%.17g", v);
	p->val = p->num;
	p->kind = PAR_DOUBLE;
	return SW_DB_OK;
}

static int pg_bind_text(struct sw_db_stmt *x, int i, const char *v, int n, int copy)
{
	struct pg_param *p = param_at(ST(x), i);

	if (!p)
		return SW_DB_RANGE;
	if (v == NULL)
		return SW_DB_OK;
	p->kind = PAR_TEXT;
	if (n >= 0 || copy) {
		p->val = n >= 0 ? xstrndup(v, (size_t)n) : xstrdup(v);
		p->owned = 1;
	} else {
		p->val = (char *)v;
	}
	return SW_DB_OK;
}

static int pg_bind_blob(struct sw_db_stmt *x, int i, const void *v, int n, int copy)
{
	struct pg_param *p = param_at(ST(x), i);

	(void)copy; /* always copied: a blob may hold no NUL to end it */
	if (!p || n < 0)
		return p ? SW_DB_MISUSE : SW_DB_RANGE;
	p->val = xmalloc((size_t)n + 1);
	memcpy(p->val, v, (size_t)n);
	p->len = n;
	p->binary = 1;
	p->kind = PAR_BLOB;
	p->owned = 1;
	return SW_DB_OK;
}

/* The code for a failed result: SQLSTATE class 23 is a constraint, a
 * lock waited for past lock_timeout is busy (SQLite's "locked"). */
static int result_error(struct pg_db *db, PGresult *r)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	int code = state && strncmp(state, "23", 2) == 0 ? SW_DB_CONSTRAINT : SW_DB_ERROR;

	if (state && strcmp(state, "25006") == 0) /* read_only_sql_transaction */
		code = SW_DB_READONLY;
	if (state && strcmp(state, "55P03") == 0) /* lock_not_available: lock_timeout */
		code = SW_DB_BUSY;

	return set_error(db, code, NULL, r ? PQresultErrorMessage(r) : PQerrorMessage(db->c));
}

/* The parameter number a type error names ("$N", in any language the
 * server speaks), 0 if none. */
static int error_param(PGresult *r)
{
	const char *m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);

	for (const char *p = m; p && (p = strchr(p, '$')); p++)
		if (isdigit((unsigned char)p[1]))
			return (int)strtol(p + 1, NULL, 10);
	return 0;
}

/*
 * Prepares s on the server as name ("" for the unnamed statement) and
 * learns its parameters' types.  The SQL was written for SQLite, which has
 * no parameter types: where PostgreSQL cannot settle one (a parameter
 * only tested for NULL; one an integer literal and a bigint column both
 * claim), the parameter is given text or bigint and the prepare tried
 * again, once per parameter at most.  s->ptypes then holds what the server
 * decided, which every execution sends.
 */
/*
 * The type for parameter i that PostgreSQL could not settle (42P08 in r):
 * with a detail ("integer versus bigint") the SQL gives it two integer
 * types: bigint.  Otherwise the type of the value bound now, and for a
 * NULL bigint (most NULLs the store binds are absent times), remembered
 * in s->guess so that a later clash can turn it to text.
 */
static Oid guess_type(struct pg_stmt *s, int i, PGresult *r, int *guessed)
{
	if (PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL))
		return OID_INT8;
	switch (s->par[i].kind) {
	case PAR_INT:
		return OID_INT8;
	case PAR_DOUBLE:
		return OID_FLOAT8;
	case PAR_TEXT:
		return OID_TEXT;
	case PAR_BLOB:
		return OID_BYTEA;
	default:
		s->guess[(*guessed)++] = i;
		return OID_INT8;
	}
}

/* Of the parameters given a type for a NULL, the one written nearest to
 * the place (1-based, in characters) the server's error points at; taken
 * off the list. */
static int take_guess(struct pg_stmt *s, int *guessed, PGresult *r)
{
	const char *at = PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION);
	long pos = at ? strtol(at, NULL, 10) - 1 : 0, best = -1;
	int g, pick = *guessed - 1;
	char tag[16];

	for (g = 0; at && g < *guessed; g++) {
		int len = snprintf(tag, sizeof(tag), "$%d", s->guess[g] + 1);

		for (const char *p = s->q.text; (p = strstr(p, tag)); p++) {
			long d = labs((long)(p - s->q.text) - pos);

			if (isdigit((unsigned char)p[len]))
				continue;
			if (best < 0 || d < best) {
				best = d;
				pick = g;
			}
		}
	}
	g = s->guess[pick];
	s->guess[pick] = s->guess[--*guessed];
	return g;
}

static int learn_types(struct pg_stmt *s, const char *name);

/* learn_types, inside a savepoint when a transaction is open: a failed
 * try would otherwise abort the caller's transaction (PostgreSQL ends a
 * transaction at its first error, SQLite does not). */
static int learn(struct pg_stmt *s, const char *name)
{
	PGconn *c = s->db->c;
	int in_txn = PQtransactionStatus(c) == PQTRANS_INTRANS, rc;

	if (in_txn)
		PQclear(PQexec(c, "SAVEPOINT sw_learn"));
	rc = learn_types(s, name);
	if (in_txn)
		PQclear(PQexec(c, rc == SW_DB_OK ? "RELEASE SAVEPOINT sw_learn"
						 : "ROLLBACK TO SAVEPOINT sw_learn; "
						   "RELEASE SAVEPOINT sw_learn"));
	return rc;
}

static int learn_types(struct pg_stmt *s, const char *name)
{
	int n = s->q.nparams, i, tries, rc = SW_DB_OK, guessed = 0;
	Oid *types = xcalloc((size_t)n + 1, sizeof(Oid));
	PGresult *r = NULL;

	for (tries = 0; tries <= 3 * n; tries++) {
		const char *state;
		int k;

		PQclear(r);
		if (tries > 0 && PQtransactionStatus(s->db->c) == PQTRANS_INERROR)
			PQclear(PQexec(s->db->c, "ROLLBACK TO SAVEPOINT sw_learn"));
		r = PQprepare(s->db->c, name, s->q.text, n, types);
		if (PQresultStatus(r) == PGRES_COMMAND_OK)
			break;
		state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		k = error_param(r);
		if (state && strcmp(state, "42P08") == 0 && k >= 1 && k <= n && types[k - 1] == 0) {
			types[k - 1] = guess_type(s, k - 1, r, &guessed);
			continue;
		}
		/* a type clash naming no parameter ("CASE types bigint and
		 * text", "text < bigint"): the NULL guessed bigint nearest to
		 * it was text */
		if (state && (strcmp(state, "42804") == 0 || strcmp(state, "42883") == 0) &&
		    guessed > 0) {
			k = take_guess(s, &guessed, r);
			types[k] = types[k] == OID_INT8 ? OID_TEXT : OID_INT8;
			continue;
		}
		break;
	}
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		rc = result_error(s->db, r);
		PQclear(r);
		free(types);
		return rc;
	}
	PQclear(r);
	r = PQdescribePrepared(s->db->c, name);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		rc = result_error(s->db, r);
	} else {
		for (i = 0; i < n && i < PQnparams(r); i++)
			s->ptypes[i] = PQparamtype(r, i);
		s->learned = 1;
	}
	PQclear(r);
	free(types);
	return rc;
}

/* The server statement prepared for s's text on this connection before,
 * if any: s takes its name and types. */
static int from_cache(struct pg_stmt *s)
{
	struct pg_db *db = s->db;

	for (int i = 0; i < db->ncache; i++)
		if (strcmp(db->cache[i].text, s->q.text) == 0) {
			memcpy(s->name, db->cache[i].name, sizeof(s->name));
			memcpy(s->ptypes, db->cache[i].types, (size_t)s->q.nparams * sizeof(Oid));
			s->learned = 1;
			s->cached = 1;
			s->slot = i;
			return 1;
		}
	return 0;
}

/* Keeps s's server statement for the connection (when there is room). */
static void to_cache(struct pg_stmt *s)
{
	struct pg_db *db = s->db;
	struct pg_cached *c;

	if (db->ncache >= PG_CACHE_MAX)
		return; /* s deallocates it when finalized */
	c = &db->cache[db->ncache++];
	c->text = xstrdup(s->q.text);
	memcpy(c->name, s->name, sizeof(c->name));
	c->types = xcalloc((size_t)s->q.nparams + 1, sizeof(Oid));
	memcpy(c->types, s->ptypes, (size_t)s->q.nparams * sizeof(Oid));
	c->runs = 0;
	c->replan_at = PG_REPLAN_FIRST;
	s->cached = 1;
	s->slot = db->ncache - 1;
}

/* Prepares a kept statement again, under its name and types, at its
 * 1,024th run and each doubling after.  The server plans a statement for
 * the tables as they are when it is prepared and keeps that plan (until
 * an ANALYZE of the tables): a daemon that starts on an empty store would
 * otherwise look orders up for weeks with a plan made for no rows (a scan
 * of a warehouse's orders instead of the (warehouse_id, order_id) key;
 * bench/store-ingest.sh measured 3 times slower at 20,000 events). */
static int replan(struct pg_stmt *s)
{
	struct pg_cached *c = &s->db->cache[s->slot];
	char sql[32];
	PGresult *r;
	int rc = SW_DB_OK;

	if (++c->runs != c->replan_at)
		return SW_DB_OK;
	c->replan_at = c->replan_at < PG_REPLAN_LAST ? c->replan_at * 2 : 0;
	snprintf(sql, sizeof(sql), "DEALLOCATE %s", c->name);
	r = PQexec(s->db->c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		rc = result_error(s->db, r);
		PQclear(r);
		return rc;
	}
	PQclear(r);
	r = PQprepare(s->db->c, c->name, s->q.text, s->q.nparams, c->types);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = result_error(s->db, r);
	PQclear(r);
	return rc;
}

static int execute(struct pg_stmt *s)
{
	int n = s->q.nparams, i, rc = SW_DB_OK;
	const char **vals = xcalloc((size_t)n + 1, sizeof(char *));
	int *lens = xcalloc((size_t)n + 1, sizeof(int));
	int *fmts = xcalloc((size_t)n + 1, sizeof(int));
	ExecStatusType st;

	if (!s->learned && !from_cache(s)) {
		snprintf(s->name, sizeof(s->name), "sw%u", ++s->db->next_name);
		if ((rc = learn(s, s->name)) != SW_DB_OK)
			s->name[0] = '\0';
		else
			to_cache(s);
	}
	if (rc == SW_DB_OK && s->cached)
		rc = replan(s);
	for (i = 0; i < n; i++) {
		vals[i] = s->par[i].val;
		lens[i] = s->par[i].len;
		fmts[i] = s->par[i].binary;
	}
	if (rc == SW_DB_OK && s->name[0])
		s->res = PQexecPrepared(s->db->c, s->name, n, vals, lens, fmts, 0);
	else if (rc == SW_DB_OK)
		s->res = PQexecParams(s->db->c, s->q.text, n, s->ptypes, vals, lens, fmts, 0);
	free(vals);
	free(lens);
	free(fmts);
	if (rc != SW_DB_OK)
		return rc;
	st = PQresultStatus(s->res);
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		rc = result_error(s->db, s->res);
		clear_result(s);
		return rc;
	}
	s->nrows = PQntuples(s->res);
	s->db->changes = (int)strtol(PQcmdTuples(s->res), NULL, 10);
	return SW_DB_OK;
}

static int pg_step(struct sw_db_stmt *x)
{
	struct pg_stmt *s = ST(x);
	int rc;

	if (!s->ran) {
		if ((rc = execute(s)) != SW_DB_OK)
			return rc;
		s->ran = 1;
		s->row = -1;
	}
	PQfreemem(s->blob);
	s->blob = NULL;
	if (s->row + 1 < s->nrows) {
		s->row++;
		return SW_DB_ROW;
	}
	s->row = s->nrows;
	return SW_DB_DONE;
}

/* ---- columns --------------------------------------------------------------- */

static int have(struct pg_stmt *s, int i)
{
	return s->res && s->row >= 0 && s->row < s->nrows && i >= 0 && i < PQnfields(s->res) &&
	       !PQgetisnull(s->res, s->row, i);
}

static int pg_column_type(struct sw_db_stmt *x, int i)
{
	struct pg_stmt *s = ST(x);

	if (!have(s, i))
		return SW_DB_NULL;
	switch (PQftype(s->res, i)) {
	case OID_BOOL:
	case OID_INT2:
	case OID_INT4:
	case OID_INT8:
		return SW_DB_INTEGER;
	case OID_FLOAT4:
	case OID_FLOAT8:
		return SW_DB_FLOAT;
	case OID_NUMERIC: /* sum() of integers: an integer unless it has a point */
		return strchr(PQgetvalue(s->res, s->row, i), '.') ? SW_DB_FLOAT : SW_DB_INTEGER;
	case OID_BYTEA:
		return SW_DB_BLOB;
	default:
		return SW_DB_TEXT;
	}
}

static int64_t pg_column_int64(struct sw_db_stmt *x, int i)
{
	struct pg_stmt *s = ST(x);
	const char *v;

	if (!have(s, i))
		return 0;
	v = PQgetvalue(s->res, s->row, i);
	if (PQftype(s->res, i) == OID_BOOL)
		return v[0] == 't';
	if (strpbrk(v, ".eE")) /* a double or numeric read as an integer: truncated */
		return (int64_t)strtod(v, NULL);
	return strtoll(v, NULL, 10);
}

static double pg_column_double(struct sw_db_stmt *x, int i)
{
	struct pg_stmt *s = ST(x);

	if (!have(s, i))
		return 0;
	if (PQftype(s->res, i) == OID_BOOL)
		return PQgetvalue(s->res, s->row, i)[0] == 't';
	return strtod(PQgetvalue(s->res, s->row, i), NULL);
}

static const unsigned char *pg_column_text(struct sw_db_stmt *x, int i)
{
	struct pg_stmt *s = ST(x);

	if (!have(s, i))
		return NULL;
	if (PQftype(s->res, i) == OID_BOOL) /* as SQLite shows a truth value */
		return (const unsigned char *)(PQgetvalue(s->res, s->row, i)[0] == 't' ? "1" : "0");
	return (const unsigned char *)PQgetvalue(s->res, s->row, i);
}

static const void *pg_column_blob(struct sw_db_stmt *x, int i)
{
	struct pg_stmt *s = ST(x);

	if (!have(s, i))
		return NULL;
	if (PQftype(s->res, i) != OID_BYTEA)
		return PQgetvalue(s->res, s->row, i);
	PQfreemem(s->blob);
	s->blob = PQunescapeBytea((const unsigned char *)PQgetvalue(s->res, s->row, i),
				  &s->blob_len);
	return s->blob;
}

static int pg_column_bytes(struct sw_db_stmt *x, int i)
{
	struct pg_stmt *s = ST(x);

	if (!have(s, i))
		return 0;
	if (PQftype(s->res, i) == OID_BYTEA)
		return s->blob ? (int)s->blob_len : 0;
	if (PQftype(s->res, i) == OID_BOOL)
		return 1;
	return PQgetlength(s->res, s->row, i);
}

/* ---- the connection ---------------------------------------------------------- */

static int pg_exec(struct sw_db *d, const char *sql)
{
	struct pg_db *db = DB(d);
	struct sw_pg_sql q;
	PGresult *r;
	char err[128];
	int rc = SW_DB_OK;

	if (sw_db_pg_translate(sql, &q, err, sizeof(err)) != 0)
		return set_error(db, SW_DB_ERROR, "exec", err);
	r = PQexec(db->c, q.text);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		rc = result_error(db, r);
	else
		db->changes = (int)strtol(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	sw_db_pg_sql_free(&q);
	return rc;
}

static int pg_changes(struct sw_db *d)
{
	return DB(d)->changes;
}

static int64_t pg_last_insert_id(struct sw_db *d)
{
	struct pg_db *db = DB(d);
	PGresult *r = PQexec(db->c, "SELECT lastval()");
	int64_t v = 0;

	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return v;
}

static int pg_autocommit(struct sw_db *d)
{
	return PQtransactionStatus(DB(d)->c) == PQTRANS_IDLE;
}

static const char *pg_errmsg(struct sw_db *d)
{
	return DB(d)->err;
}

static int pg_errcode(struct sw_db *d)
{
	return DB(d)->errcode;
}

static void pg_close(struct sw_db *d)
{
	struct pg_db *db = DB(d);

	for (int i = 0; i < db->ncache; i++) {
		free(db->cache[i].text);
		free(db->cache[i].types);
	}
	PQfinish(db->c);
	free(d);
}

const struct sw_db_driver sw_db_pg_driver = {
    .name = "postgresql",
    .dialect = SW_DB_POSTGRESQL,
    .prepare = pg_prepare,
    .step = pg_step,
    .reset = pg_reset,
    .clear_bindings = pg_clear_bindings,
    .finalize = pg_finalize,
    .param_index = pg_param_index,
    .bind_null = pg_bind_null,
    .bind_int64 = pg_bind_int64,
    .bind_double = pg_bind_double,
    .bind_text = pg_bind_text,
    .bind_blob = pg_bind_blob,
    .column_type = pg_column_type,
    .column_int64 = pg_column_int64,
    .column_double = pg_column_double,
    .column_text = pg_column_text,
    .column_blob = pg_column_blob,
    .column_bytes = pg_column_bytes,
    .exec = pg_exec,
    .changes = pg_changes,
    .last_insert_id = pg_last_insert_id,
    .autocommit = pg_autocommit,
    .errmsg = pg_errmsg,
    .errcode = pg_errcode,
    .close = pg_close,
};

/* ---- opening: TLS unless the server is on this machine ---------------------- */

/* Whether host (a name, an address or a socket directory) is this machine:
 * a Unix socket directory, "localhost" or a loopback address. */
static int host_is_local(const char *host)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (host == NULL || *host == '\0' || *host == '/' || *host == '@')
		return 1;
	if (strcmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

/* The TLS mode a connection to url gets, or NULL (errbuf set) when its
 * own is too weak for its host. */
static const char *tls_mode(const char *url, char *errbuf, size_t errlen)
{
	PQconninfoOption *opts, *o;
	char *perr = NULL;
	const char *host = NULL, *mode = NULL, *ret = "verify-full";
	int local = 1;

	if (!(opts = PQconninfoParse(url, &perr))) {
		/* libpq's text names the fault, never the password */
		snprintf(errbuf, errlen, "bad url: %s", perr ? perr : "cannot parse");
		if (perr)
			PQfreemem(perr);
		return NULL;
	}
	for (o = opts; o->keyword; o++) {
		if (strcmp(o->keyword, "host") == 0 || strcmp(o->keyword, "hostaddr") == 0)
			host = o->val ? o->val : host;
		else if (strcmp(o->keyword, "sslmode") == 0)
			mode = o->val;
	}
	/* host may list several, comma-separated: all must be local */
	if (host) {
		char *h = xstrdup(host), *save = NULL, *t;

		for (t = strtok_r(h, ",", &save); t; t = strtok_r(NULL, ",", &save))
			local = local && host_is_local(t);
		free(h);
	}
	if (mode && *mode) {
		int verified = strcmp(mode, "verify-full") == 0 || strcmp(mode, "verify-ca") == 0;

		if (!verified && !local) {
			snprintf(errbuf, errlen,
				 "sslmode=%s to %s would let the password and the store's data "
				 "travel unverified or in clear text; use verify-full (the "
				 "default) or verify-ca",
				 mode, host);
			ret = NULL;
		} else {
			ret = "";
		}
	} else if (local) {
		ret = "prefer"; /* a socket or loopback: libpq's own default */
	}
	PQconninfoFree(opts);
	return ret;
}

static void quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

int sw_db_pg_open(const char *url, const char *password, struct sw_db **ret_db, char *errbuf,
		  size_t errlen)
{
	const char *keys[6], *vals[6];
	const char *mode;
	struct pg_db *db;
	int n = 0;

	*ret_db = NULL;
	if (!(mode = tls_mode(url, errbuf, errlen)))
		return -1;
	keys[n] = "dbname";
	vals[n++] = url;
	if (password) {
		keys[n] = "password";
		vals[n++] = password;
	}
	if (*mode) {
		keys[n] = "sslmode";
		vals[n++] = mode;
	}
	keys[n] = "application_name";
	vals[n++] = "slipwatch";
	keys[n] = NULL;
	vals[n] = NULL;
	db = xcalloc(1, sizeof(*db));
	db->base.drv = &sw_db_pg_driver;
	db->c = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(db->c) != CONNECTION_OK) {
		set_error(db, SW_DB_ERROR, NULL, PQerrorMessage(db->c));
		snprintf(errbuf, errlen, "cannot connect: %s", db->err);
		pg_close(&db->base);
		return -1;
	}
	/* Notices (an index that already exists, ...) are not for stderr. */
	PQsetNoticeProcessor(db->c, quiet, NULL);
	*ret_db = &db->base;
	return 0;
}

void sw_db_pg_describe(const char *url, char *out, size_t outlen)
{
	PQconninfoOption *opts = PQconninfoParse(url, NULL), *o;
	const char *host = "", *port = "", *user = "", *dbname = "";

	if (!opts) {
		snprintf(out, outlen, "PostgreSQL (unparsable address)");
		return;
	}
	for (o = opts; o->keyword; o++) {
		const char *v = o->val ? o->val : "";

		if (strcmp(o->keyword, "host") == 0)
			host = v;
		else if (strcmp(o->keyword, "port") == 0)
			port = v;
		else if (strcmp(o->keyword, "user") == 0)
			user = v;
		else if (strcmp(o->keyword, "dbname") == 0)
			dbname = v;
	}
	snprintf(out, outlen, "postgresql://%s%s%s%s%s/%s", user, *user ? "@" : "", host,
		 *port ? ":" : "", port, dbname);
	PQconninfoFree(opts);
}

int sw_db_pg_server_version(struct sw_db *d)
{
	return d && d->drv == &sw_db_pg_driver ? PQserverVersion(DB(d)->c) : 0;
}
