/*
 * generic_int.h - what the generic adapter's files share (internal to
 * collector/courier/generic*.c; the contract is generic.h).
 *
 * generic_path.c parses and walks paths (key.key[N].key[a.b=value]) and
 * conditions ("path=v1|v2", "path!=v", "path~text", "path", "!path",
 * "@status=..."), generic_conf.c compiles a [courier NAME] description into
 * struct sw_courier_generic, generic.c builds requests and reads answers
 * with it.  Everything compiled is immutable afterwards.
 */
#ifndef SW_COURIER_GENERIC_INT_H
#define SW_COURIER_GENERIC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "collector/courier/generic.h"
#include "slipwatch/status.h"

#define GP_PATH_STEPS 16  /* steps in one path */
#define GP_NAME_MAX   64  /* keys, selector values, codes, condition values */
#define GP_CONDS_MAX  8	  /* conditions in one rule */
#define GP_VALUES_MAX 16  /* alternatives in one condition (a|b|c) */
#define GP_COND_TEXT  512 /* longest rule text */

enum gp_step_kind { GP_STEP_KEY, GP_STEP_INDEX, GP_STEP_SELECT };

struct gp_step {
	enum gp_step_kind kind;
	char *key;    /* KEY: object key; SELECT: the field compared, may be
			 dotted ("Shipment.AWB") */
	char *value;  /* SELECT: wanted value; NULL means {tracking} */
	size_t index; /* INDEX */
};

struct gp_path {
	struct gp_step steps[GP_PATH_STEPS];
	size_t n;
	bool uses_tracking; /* a selector compares with {tracking} */
};

enum gp_hit { GP_HIT, GP_NO_MATCH, GP_MISSING };

enum gp_op {
	GP_OP_PRESENT, /* path */
	GP_OP_ABSENT,  /* !path */
	GP_OP_EQ,      /* path=a|b: one of */
	GP_OP_NE,      /* path!=a|b: none of (absent counts as none) */
	GP_OP_HAS,     /* path~text: contains, ignoring case */
};

struct gp_cond {
	enum gp_op op;
	struct gp_path *path; /* NULL: @status */
	char *values[GP_VALUES_MAX];
	size_t n_values;
	enum sw_ship_status status_values[GP_VALUES_MAX]; /* @status */
};

struct gp_conds {
	struct gp_cond c[GP_CONDS_MAX];
	size_t n;
};

struct gp_rule {
	struct gp_conds when;
	enum sw_ship_status status;
};

enum gp_tfmt { GP_TF_RFC3339, GP_TF_EPOCH, GP_TF_EPOCH_MS, GP_TF_PATTERN };

enum gp_auth { GP_AUTH_HEADER, GP_AUTH_BASIC, GP_AUTH_OAUTH, GP_AUTH_LOGIN };

struct gp_map_entry {
	char *code;
	enum sw_ship_status status;
};

struct gp_header {
	char *name;
	char *value; /* template */
};

struct sw_courier_generic {
	char *url, *body, *batch_item; /* templates */
	enum sw_courier_method method;
	struct gp_header hdr[SW_GENERIC_HEADERS];
	size_t n_hdr;
	bool has_accept, has_ctype, has_auth_hdr, token_hdr, needs_key;
	struct gp_path *shipment, *status, *status_text, *events, *ev_time, *ev_code, *ev_text,
	    *ev_loc, *ev_offset, *eta, *delivered, *not_found, *error, *error_code, *rejected,
	    *token, *token_life;
	enum gp_tfmt tfmt;
	char *pattern;
	char *zone;
	long not_found_status, invalid_status;
	struct gp_map_entry *map;
	size_t n_map;
	struct gp_rule rules[SW_GENERIC_RULES];
	size_t n_rules;
	struct gp_conds *eta_unless; /* NULL: keep the ETA */
	char **invalid_codes;
	size_t n_invalid;
	enum gp_auth auth;
	bool auth_json;
	char *scope, *user_field, *separator;
	int64_t token_life_s;
	size_t batch_max;
};

/* ---- generic_path.c ---------------------------------------------------- */

/* Parses path text; NULL with *ret_what set on a syntax error. */
struct gp_path *gp_path_parse(const char *s, const char **ret_what);
void gp_path_free(struct gp_path *p);

/* Walks p from node.  GP_HIT (*ret set), GP_NO_MATCH (an array had no
 * such element) or GP_MISSING (a key is absent or of the wrong type). */
enum gp_hit gp_path_get(const struct gp_path *p, json_t *node, const char *tracking, json_t **ret);

/* The string (or integer or boolean, printed into buf) at p, or NULL. */
const char *gp_path_str(const struct gp_path *p, json_t *node, const char *tracking, char *buf,
			size_t len);

/* Parses "COND & COND ..." into c (emptied first); status_ok allows
 * @status.  SW_OK, or SW_ECONF with *ret_what and *ret_at (the bad part,
 * copied into at[atlen]). */
enum sw_err gp_conds_parse(const char *text, bool status_ok, struct gp_conds *c,
			   const char **ret_what, char *at, size_t atlen);
void gp_conds_free(struct gp_conds *c);

/* true if every condition holds for node (status: @status). */
bool gp_conds_hold(const struct gp_conds *c, json_t *node, const char *tracking,
		   enum sw_ship_status status);

/* Parses "COND & ... -> status" into r; errors as gp_conds_parse. */
enum sw_err gp_rule_parse(const char *text, struct gp_rule *r, const char **ret_what, char *at,
			  size_t atlen);

/* Length of the placeholder word at t ("{word}"), 0 if t is none;
 * *ret_word points at the word. */
size_t gp_placeholder(const char *t, const char **ret_word);

/* true if the placeholder at w of len is word. */
bool gp_is_word(const char *w, size_t len, const char *word);

/* ---- generic.c --------------------------------------------------------- */

/* true if fmt is a usable time_format pattern. */
bool gp_pattern_ok(const char *fmt);

#endif /* SW_COURIER_GENERIC_INT_H */
