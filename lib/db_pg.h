/*
 * db_pg.h - the PostgreSQL backend of lib/db.h, through libpq.
 */
#ifndef SW_DB_PG_H
#define SW_DB_PG_H

#include <stddef.h>

#include "lib/db.h"

extern const struct sw_db_driver sw_db_pg_driver;

/*
 * Connects to url ("postgresql://[user@]host[:port]/db[?param=...]", or a
 * libpq "key=value" string) with password (NULL: libpq's own sources,
 * such as PGPASSFILE).  TLS: without an sslmode in url the connection is
 * sslmode=verify-full (the server's certificate checked against the
 * system's CAs, or sslrootcert, and its name); a weaker sslmode is refused
 * unless the server is on this machine (a Unix socket or a loopback
 * address), so that neither the password nor the store's data travels in
 * clear text to another host.  On failure returns nonzero with the reason
 * in errbuf (never the password) and *ret_db NULL.
 */
int sw_db_pg_open(const char *url, const char *password, struct sw_db **ret_db, char *errbuf,
		  size_t errlen);

/* url as it may be shown: "postgresql://USER@HOST:PORT/DB", never a
 * password (or "PostgreSQL (unparsable address)"). */
void sw_db_pg_describe(const char *url, char *out, size_t outlen);

/* The server's version number (150018 for 15.18), 0 if not connected. */
int sw_db_pg_server_version(struct sw_db *db);

/*
 * The SQL rewrite (db_pg_sql.c): SQLite-dialect text as the store writes it
 * into PostgreSQL's.  Parameters ?NNN, ?, :name, @name and $name become $N
 * (a name used twice is one number); names[i] is the name of $i+1 (NULL for
 * a numbered one).  Besides: BEGIN IMMEDIATE/DEFERRED -> BEGIN, "INDEXED BY
 * idx" dropped (a planner hint), max()/min() of two or more arguments ->
 * greatest()/least(), instr() -> strpos(), ifnull() -> coalesce(),
 * json_each/json_extract/json_valid/date() -> the sw_* functions the
 * store's PostgreSQL schema defines (lib/store_pg.c),
 * group_concat() -> string_agg(), "IS NOT <literal>" / "IS <literal>" ->
 * IS [NOT] DISTINCT FROM.  A comment opening with "pg:" right after its
 * slash-star becomes its text: what only PostgreSQL takes (FOR UPDATE SKIP
 * LOCKED), a comment to SQLite.
 * Nothing else inside quotes or comments is touched.
 * Returns 0, or -1 with errbuf set (unbalanced quotes or parentheses, too
 * many parameters).
 */
struct sw_pg_sql {
	char *text;
	int nparams;
	char **names;
};
int sw_db_pg_translate(const char *sql, struct sw_pg_sql *out, char *errbuf, size_t errlen);
void sw_db_pg_sql_free(struct sw_pg_sql *q);

#endif /* SW_DB_PG_H */
