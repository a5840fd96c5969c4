/*
 * store_stage.c - leg durations and their p90 per lane (see
 * store_stage.h), SQLite backend.
 *
 * Design: one statement per leg.  Its first CTE lists the legs that ended
 * in the window with their lane and duration; window functions then rank
 * the durations of each lane and of each warehouse / courier, and only the
 * nearest-rank p90 row of each group (rank ceil(0.9 n)) leaves SQLite, so
 * the caller gets one row per group, not one per parcel.  The destination
 * key is built by DEST_SQL here and by sw_store_stage_dest in C: keep the
 * two the same.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/store_int.h"
#include "lib/store_stage.h"
#include "lib/xmalloc.h"

static const char *const leg_names[SW_LEG_LAST] = {
    "warehouse",
    "first_mile",
    "line_haul",
    "last_mile",
};

const char *sw_leg_name(enum sw_leg leg)
{
	return (unsigned)leg < SW_LEG_LAST ? leg_names[leg] : "?";
}

static char ascii_case(char c, int upper)
{
	if (upper && c >= 'a' && c <= 'z')
		return (char)(c - 'a' + 'A');
	if (!upper && c >= 'A' && c <= 'Z')
		return (char)(c - 'A' + 'a');
	return c;
}

/* Appends up to max_chars UTF-8 characters of s (max_chars < 0: all),
 * case-mapped as SQLite's upper()/lower() do (ASCII only). */
static size_t put(char *buf, size_t len, size_t at, const char *s, int max_chars, int upper)
{
	int chars = 0;

	for (; *s && at + 1 < len; s++) {
		if (((unsigned char)*s & 0xC0) != 0x80 && max_chars >= 0 && chars++ == max_chars)
			break;
		buf[at++] = ascii_case(*s, upper);
	}
	buf[at] = '\0';
	return at;
}

void sw_store_stage_dest(const char *country, const char *postal, const char *city, char *buf,
			 size_t len)
{
	size_t at;

	if (len == 0)
		return;
	at = put(buf, len, 0, country ? country : "", -1, 1);
	if (postal && *postal) {
		at = put(buf, len, at, " ", -1, 1);
		put(buf, len, at, postal, 3, 1);
	} else if (city && *city) {
		at = put(buf, len, at, " ", -1, 1);
		put(buf, len, at, city, -1, 0);
	}
}

/* The lane's destination, as sw_store_stage_dest builds it (o: orders). */
#define DEST_SQL                                                                                   \
	"upper(coalesce(o.dest_country, '')) || CASE"                                              \
	" WHEN coalesce(o.dest_postal_code, '') <> ''"                                             \
	"  THEN ' ' || upper(substr(o.dest_postal_code, 1, 3))"                                    \
	" WHEN coalesce(o.dest_city, '') <> '' THEN ' ' || lower(o.dest_city)"                     \
	" ELSE '' END"

/* A parcel's first journal event of one canonical status (p: parcels). */
#define MARK_SQL(status)                                                                           \
	"(SELECT min(j.occurred_at) FROM journal j"                                                \
	" WHERE j.courier = p.courier AND j.tracking_number = p.tracking_number"                   \
	" AND j.kind = 'parcel.status'"                                                            \
	" AND CASE WHEN json_valid(j.payload) THEN json_extract(j.payload, '$.status') END"        \
	" = '" status "')"

/* Parcels with an event in the window, their marks and end of delivery. */
#define MARKED_SQL                                                                                 \
	"m0 AS (SELECT o.warehouse_id AS wh, " DEST_SQL " AS dest, p.courier AS courier,"          \
	" p.first_scan_at AS fs, p.delivered_at AS dl,"                                            \
	" " MARK_SQL("out_for_delivery") " AS ofd, " MARK_SQL(                                     \
	    "attempt_fail") " AS att"                                                              \
			    " FROM parcels p LEFT JOIN orders o ON o.id = p.order_ref"             \
			    " WHERE p.last_event_at >= :since AND p.first_scan_at IS NOT NULL),"   \
			    " m AS (SELECT *, CASE WHEN att IS NOT NULL AND (dl IS NULL OR att < " \
			    "dl)"                                                                  \
			    " THEN att ELSE dl END AS fin FROM m0),"

/* Per leg: d(wh, dest, courier, dur, fin) for the legs that ended. */
static const char *const leg_sql[SW_LEG_LAST] = {
    "WITH d AS (SELECT o.warehouse_id AS wh, " DEST_SQL " AS dest, NULL AS courier,"
    " o.shipped_at - o.created_at AS dur, o.shipped_at AS fin FROM orders o"
    " WHERE o.shipped_at >= :since AND o.shipped_at <= :now AND o.created_at IS NOT NULL),",

    "WITH d AS (SELECT o.warehouse_id AS wh, " DEST_SQL " AS dest, p.courier AS courier,"
    " p.first_scan_at - coalesce(p.shipped_at, o.shipped_at) AS dur,"
    " p.first_scan_at AS fin FROM parcels p LEFT JOIN orders o ON o.id = p.order_ref"
    " WHERE p.first_scan_at >= :since AND p.first_scan_at <= :now"
    " AND coalesce(p.shipped_at, o.shipped_at) IS NOT NULL),",

    "WITH " MARKED_SQL " d AS (SELECT wh, dest, courier, coalesce(ofd, fin) - fs AS dur,"
    " coalesce(ofd, fin) AS fin FROM m WHERE coalesce(ofd, fin) BETWEEN :since AND :now),",

    "WITH " MARKED_SQL " d AS (SELECT wh, dest, courier, fin - ofd AS dur, fin FROM m"
    " WHERE ofd IS NOT NULL AND fin BETWEEN :since AND :now AND fin >= ofd),",
};

/* After leg_sql: the p90 row of each lane, then of each warehouse (leg
 * 0) or courier (the others); :wide picks which. */
static const char p90_sql[] =
    " r AS (SELECT wh, dest, courier, dur,"
    "  row_number() OVER (PARTITION BY wh, dest, courier ORDER BY dur) AS rn,"
    "  count(*) OVER (PARTITION BY wh, dest, courier) AS n"
    "  FROM d WHERE dur >= 0 AND wh IS NOT NULL),"
    " w AS (SELECT CASE WHEN :wide = 0 THEN wh END AS wh,"
    "  CASE WHEN :wide = 1 THEN courier END AS courier, dur,"
    "  row_number() OVER (PARTITION BY CASE WHEN :wide = 0 THEN wh ELSE courier END"
    "   ORDER BY dur) AS rn,"
    "  count(*) OVER (PARTITION BY CASE WHEN :wide = 0 THEN wh ELSE courier END) AS n"
    "  FROM d WHERE dur >= 0 AND (CASE WHEN :wide = 0 THEN wh ELSE courier END) IS NOT NULL)"
    " SELECT wh, dest, courier, dur, n FROM r WHERE rn = (9 * n + 9) / 10"
    " UNION ALL SELECT wh, NULL, courier, dur, n FROM w WHERE rn = (9 * n + 9) / 10";

struct rows {
	struct sw_leg_p90 *v;
	size_t n, cap;
};

static enum sw_err leg_p90(struct sw_store *st, enum sw_leg leg, int64_t since, int64_t now,
			   struct rows *out)
{
	char *sql = xasprintf("%s%s", leg_sql[leg], p90_sql);
	struct sw_db_stmt *s = sw_store_int_prepare(st, sql, "reading leg durations");
	int rc;

	free(sql);
	if (!s)
		return SW_ESTORE;
	rc = sw_store_int_bind_int(s, ":since", since) | sw_store_int_bind_int(s, ":now", now) |
	     sw_store_int_bind_int(s, ":wide", leg == SW_LEG_WAREHOUSE ? 0 : 1);
	while (rc == SW_DB_OK && (rc = sw_db_step(s)) == SW_DB_ROW) {
		struct sw_leg_p90 *r;

		if (out->n == out->cap) {
			out->cap = out->cap ? out->cap * 2 : 32;
			out->v = xreallocarray(out->v, out->cap, sizeof(*out->v));
		}
		r = &out->v[out->n++];
		r->leg = leg;
		r->warehouse_id = sw_store_int_col_str(s, 0);
		r->dest = sw_store_int_col_str(s, 1);
		r->courier = sw_store_int_col_str(s, 2);
		r->p90_s = sw_db_column_int64(s, 3);
		r->samples = sw_db_column_int64(s, 4);
		rc = SW_DB_OK;
	}
	if (rc != SW_DB_DONE) {
		sw_store_int_dberr(st, "reading leg durations");
		sw_db_finalize(s);
		return SW_ESTORE;
	}
	sw_db_finalize(s);
	return SW_OK;
}

enum sw_err sw_store_stage_p90(struct sw_store *st, int64_t since, int64_t now,
			       struct sw_leg_p90 **ret_rows, size_t *ret_n)
{
	struct rows out = {0};
	enum sw_err rc = SW_OK;

	*ret_rows = NULL;
	*ret_n = 0;
	if (now <= 0 || since > now)
		return sw_store_int_err(st, SW_EINVAL, "leg p90: bad window %lld..%lld",
					(long long)since, (long long)now);
	for (int leg = 0; leg < SW_LEG_LAST && rc == SW_OK; leg++)
		rc = leg_p90(st, (enum sw_leg)leg, since, now, &out);
	if (rc != SW_OK) {
		sw_store_stage_p90_free(out.v, out.n);
		return rc;
	}
	*ret_rows = out.v;
	*ret_n = out.n;
	return SW_OK;
}

void sw_store_stage_p90_free(struct sw_leg_p90 *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(rows[i].warehouse_id);
		free(rows[i].dest);
		free(rows[i].courier);
	}
	free(rows);
}

enum sw_err sw_store_stage_marks(struct sw_store *st, const char *courier,
				 const char *tracking_number, struct sw_leg_marks *ret_marks)
{
	static const char sql[] = "SELECT " MARK_SQL("out_for_delivery") ", " MARK_SQL(
	    "attempt_fail") " FROM (SELECT :courier AS courier, :tn AS tracking_number) p";
	struct sw_db_stmt *s;
	int rc;

	memset(ret_marks, 0, sizeof(*ret_marks));
	if (!courier || !*courier || !tracking_number || !*tracking_number)
		return sw_store_int_err(st, SW_EINVAL, "leg marks: empty parcel key");
	if (!(s = sw_store_int_prepare(st, sql, "reading a parcel's marks")))
		return SW_ESTORE;
	rc = sw_store_int_bind_text(s, ":courier", courier) |
	     sw_store_int_bind_text(s, ":tn", tracking_number);
	if (rc != SW_DB_OK || sw_db_step(s) != SW_DB_ROW) {
		sw_store_int_dberr(st, "reading a parcel's marks");
		sw_db_finalize(s);
		return SW_ESTORE;
	}
	ret_marks->out_for_delivery_at = sw_db_column_int64(s, 0);
	ret_marks->attempt_at = sw_db_column_int64(s, 1);
	sw_db_finalize(s);
	return SW_OK;
}
