/*
 * conf.h - the slipwatch.conf reader: one INI file, typed option tables.
 *
 * Every program reads the same file.  sw_conf_load() parses all of it into
 * memory (section kind, section name, key, value, line) and rejects what is
 * malformed whatever program is reading: syntax errors, keys outside a
 * section, duplicate keys, duplicate sections, bad names.  Each component
 * then fills its own struct from its section with sw_conf_apply() and a
 * const table of struct sw_conf_opt rows (redis static_configs[], collectd
 * cf_util_get_*): unknown keys and bad values are errors there.  Sections no
 * component applied or claimed can be listed, so a program may warn about
 * a section nobody reads (a typo such as [courrier dhl]).
 *
 * Syntax (libinih underneath, handed the file line by line):
 *   [kind]            e.g. [store], [mqtt]
 *   [kind name]       e.g. [courier dhl]; name is [A-Za-z0-9_.-]+, kind is
 *                     [a-z][a-z0-9_]*; at most SW_CONF_MAX_SECTION bytes
 *   key = value       key is [A-Za-z0-9_.-]+; "key: value" also works;
 *                     surrounding blanks are stripped, no quoting
 *   ; or # at the start of a line: comment; " ;" (blank then ';') starts a
 *   comment after a value.  Leading indentation is ignored (no multi-line
 *   values).  CRLF line ends and a UTF-8 byte-order mark are accepted;
 *   control characters other than tab are not.  Non-comment lines are at
 *   most SW_CONF_MAX_LINE bytes; the file at most SW_CONF_MAX_FILE bytes.
 *
 * Secrets: an option of type SW_CONF_SECRET named "password" is set only by
 * "password_file = /path" (the file's content, trailing CR/LF stripped) or
 * "password_env = VAR"; a literal "password = ..." is rejected.  Secret
 * values never appear in error texts or in sw_conf_dump() output.
 *
 * Error texts all read "WHERE: what: 'bad text'" where WHERE is FILE:LINE,
 * FILE alone (a missing section) or "built-in default".
 *
 * Nothing here prints; nothing here keeps global state (libinih's globals
 * are left untouched).  A struct sw_conf is not thread-safe; use it from
 * one thread (the daemon's loop, or before it starts).
 */
#ifndef SW_CONF_H
#define SW_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/error.h"

#define SW_CONF_MAX_FILE (1024 * 1024) /* bytes in slipwatch.conf */
#define SW_CONF_MAX_LINE 192           /* bytes in one non-comment line */
#define SW_CONF_MAX_SECTION 48         /* bytes between '[' and ']' */
#define SW_CONF_MAX_SECTIONS 4096      /* sections in one file */
#define SW_CONF_MAX_KEYS 1024          /* keys in one section */
#define SW_CONF_MAX_SECRET 65536       /* bytes in a secret file */

struct sw_conf; /* a parsed file; opaque */

/* Option types and the C type of the struct field each one fills. */
enum sw_conf_type {
	SW_CONF_BOOL,     /* bool: yes/no true/false on/off 1/0 */
	SW_CONF_INT,      /* int64_t, decimal */
	SW_CONF_DOUBLE,   /* double, finite */
	SW_CONF_STRING,   /* char *, may be empty */
	SW_CONF_PATH,     /* char *, non-empty */
	SW_CONF_DURATION, /* int64_t milliseconds: 250ms 30s 5m 2h 1d; bare = s */
	SW_CONF_SIZE,     /* int64_t bytes: 512 64k 10M 1G 2T (binary units) */
	SW_CONF_ENUM,     /* int: index into words[] */
	SW_CONF_SECRET,   /* struct sw_conf_secret: NAME_file or NAME_env */
	SW_CONF_TYPE_LAST
};

/* Flags for struct sw_conf_opt.flags. */
#define SW_CONF_REQUIRED 0x1 /* absent with no default is an error */

/* One row of an option table; a table ends with a row whose name is NULL.
 * Tables are static const data; check them in a unit test with
 * sw_conf_table_check(). */
struct sw_conf_opt {
	const char *name;         /* key; a SECRET's keys are name_file, name_env */
	enum sw_conf_type type;
	size_t offset;            /* offsetof(struct ..., field) */
	int64_t min, max;         /* INT, DURATION (ms), SIZE: inclusive; 0,0 = none */
	double dmin, dmax;        /* DOUBLE: inclusive; 0,0 = none */
	const char *const *words; /* ENUM: allowed words, NULL-terminated */
	const char *def;          /* default in file syntax ("5s"); NULL = none */
	unsigned flags;           /* SW_CONF_REQUIRED */
	const char *help;         /* one line for humans (-t -v, docs) */
};

/* The field an SW_CONF_SECRET option fills.  All NULL/false when not set. */
struct sw_conf_secret {
	char *value;         /* the secret, NUL-terminated; wiped on free */
	char *source;        /* "file /path" or "environment variable VAR" */
	bool world_readable; /* came from a file any user may read: warn */
};

/* Reads and parses the file at path.  On SW_OK *ret_conf is a new parse
 * the caller frees with sw_conf_free().  On error *ret_conf is NULL and
 * errbuf (if errlen > 0) holds one line naming path (and the line):
 *   SW_EIO     cannot open/read, or not a regular file ("PATH: cannot
 *              open: No such file or directory")
 *   SW_ETOOBIG larger than SW_CONF_MAX_FILE
 *   SW_ECONF   the content is malformed (see sw_conf_load_string)
 * Any thread; blocks on file I/O only. */
enum sw_err sw_conf_load(const char *path, struct sw_conf **ret_conf,
			 char *errbuf, size_t errlen);

/* As sw_conf_load() for text already in memory (tests, fuzzing); name is
 * used in error texts as the file name.  SW_ETOOBIG if text is longer than
 * SW_CONF_MAX_FILE, SW_ECONF for any syntax or structure error:
 *   "NAME:3: expected 'key = value': 'port 1883'"
 *   "NAME:1: key outside any section: 'port'"
 *   "NAME:7: duplicate key in [mqtt] (first on line 3): 'port'"
 *   "NAME:9: duplicate section (first on line 2): '[courier dhl]'"
 *   "NAME:4: bad section name (want [kind] or [kind name]): '[courier d/l]'"
 *   "NAME:5: line too long (max 192 bytes): 'url = https://...'" */
enum sw_err sw_conf_load_string(const char *text, const char *name,
				struct sw_conf **ret_conf, char *errbuf,
				size_t errlen);

/* Frees a parse; NULL is a no-op.  Structs filled from it stay valid: they
 * own their strings. */
void sw_conf_free(struct sw_conf *conf);

/* The file name given to sw_conf_load*; owned by conf. */
const char *sw_conf_file(const struct sw_conf *conf);

/* Fills struct s from section [kind] (name NULL) or [kind name] using
 * table, then marks the section used.  s must be zero-initialised or hold
 * what an earlier sw_conf_apply() with the same table put there (that is
 * freed first).  Keys absent from the section get the row's default,
 * parsed like a file value; absent with no default leaves the field zero
 * (NULL, false, 0) unless SW_CONF_REQUIRED.  A missing section is not an
 * error: every field gets its default.  conf may be NULL: defaults only.
 * Returns SW_OK, or SW_ECONF with errbuf holding the first problem in file
 * order, e.g.
 *   "NAME:4: unknown key 'prot' in [mqtt]"
 *   "NAME:5: [mqtt] port: '70000' is out of range (1..65535)"
 *   "NAME:6: [mqtt] password: secrets are not written in the file; use
 *    password_file or password_env"
 *   "NAME:2: [courier dhl] api_key: required but not set"
 *   "built-in default: [mqtt] port: 'x' is not an integer"
 * On error every string/secret field of the table in s is freed and NULL.
 * Strings in s are owned by s: release with sw_conf_free_struct(). */
enum sw_err sw_conf_apply(struct sw_conf *conf, const char *kind,
			  const char *name, const struct sw_conf_opt *table,
			  void *s, char *errbuf, size_t errlen);

/* Frees the STRING, PATH and SECRET fields table describes in s (secrets
 * are wiped first) and sets them to NULL.  Other fields are untouched. */
void sw_conf_free_struct(const struct sw_conf_opt *table, void *s);

/* Name of the idx-th (0-based, file order) [kind name] section, or NULL
 * when there are no more.  Owned by conf.  Loop:
 *   for (i = 0; (n = sw_conf_named(conf, "courier", i)) != NULL; i++) */
const char *sw_conf_named(const struct sw_conf *conf, const char *kind,
			  size_t idx);

/* True if the file has section [kind] (name NULL) or [kind name]. */
bool sw_conf_has(const struct sw_conf *conf, const char *kind,
		 const char *name);

/* Marks every section of kind as used without applying it: for kinds this
 * program knows belong to another program. */
void sw_conf_claim(struct sw_conf *conf, const char *kind);

/* The idx-th (file order) section neither applied nor claimed: SW_OK and
 * *ret_kind, *ret_name (NULL for a plain section; both owned by conf) and
 * *ret_line set, or SW_ENOTFOUND when there are no more. */
enum sw_err sw_conf_unused(const struct sw_conf *conf, size_t idx,
			   const char **ret_kind, const char **ret_name,
			   int *ret_line);

/* Line of the header [kind] (name NULL) or [kind name]; 0 when the file
 * has no such section or conf is NULL. */
int sw_conf_section_line(const struct sw_conf *conf, const char *kind,
			 const char *name);

/* Line that sets key in [kind] / [kind name]; for a SECRET option's name
 * ("password") the line of password_file or password_env.  0 when the
 * section or the key is not in the file, or conf is NULL.  For errors
 * found after sw_conf_apply (cross-key checks), so they name the line. */
int sw_conf_key_line(const struct sw_conf *conf, const char *kind,
		     const char *name, const char *key);

/* Where an error about key (NULL: the section itself) points, as error
 * texts begin: "FILE:LINE" with the key's line, else the section's
 * header line, else "FILE" alone; "built-in default" when conf is NULL.
 * Writes buf (len bytes) and returns it. */
const char *sw_conf_where(const struct sw_conf *conf, const char *kind,
			  const char *name, const char *key, char *buf,
			  size_t len);

/* For checks that see only a filled struct and complain in the form every
 * slipwatch check uses, "[kind] key: what" or "[kind name] key: what":
 * prefixes errbuf in place with sw_conf_where() of that key and ": ".
 * Another text gets the file name alone.  conf NULL: errbuf unchanged. */
void sw_conf_locate(const struct sw_conf *conf, char *errbuf, size_t errlen);

/*
 * Text-only checking, for the sections of another program: every program
 * judges the whole file, but only the reader of a section has its secrets
 * and its files.  While on, sw_conf_apply() still checks a secret's keys
 * (NAME_file path not empty, NAME_env a valid variable name, not both)
 * but reads neither: the field's value is SW_CONF_SECRET_UNREAD (a token
 * every adapter accepts as a credential: no blank, colon or control
 * character, so that checks of its shape pass) and its
 * source says where the secret would come from.  Components ask
 * sw_conf_text_only() and skip their own checks that read or stat files a
 * section names (TLS files, templates, directories).  Off after loading.
 */
#define SW_CONF_SECRET_UNREAD "not-read-checked-as-text-only"
void sw_conf_set_text_only(struct sw_conf *conf, bool on);

/* True while text-only checking is on; false for NULL. */
bool sw_conf_text_only(const struct sw_conf *conf);

/* Appends the effective settings of struct s (filled by sw_conf_apply with
 * table) to out as INI text: "[kind name]" then "key = value" per row,
 * durations and sizes in their largest exact unit, unset fields as
 * "; key is not set" comments, secrets as "key = (secret from file /p)".
 * Never writes a secret value.  SW_OK, or SW_ETOOBIG when out is full. */
/* Appends one "key = value" line for a text value, written so that it
 * loads back as the same value: "key=value" (no blanks) when the value
 * begins with ';' (after a blank that would start a comment) or when the
 * blanks would push the line over SW_CONF_MAX_LINE.  SW_OK or
 * SW_ETOOBIG. */
enum sw_err sw_conf_dump_kv(struct sw_buf *out, const char *key, const char *value);

enum sw_err sw_conf_dump(const char *kind, const char *name,
			 const struct sw_conf_opt *table, const void *s,
			 struct sw_buf *out);

/* Checks a table for programming errors: missing/duplicate names, bad
 * type, min > max, ENUM without words, SECRET with a default, a default
 * that does not parse or is out of range.  SW_OK or SW_EINVAL with errbuf
 * naming the row.  For unit tests. */
enum sw_err sw_conf_table_check(const struct sw_conf_opt *table, char *errbuf,
				size_t errlen);

/* "bool", "int", ... for help texts; "?" for out-of-range values. */
const char *sw_conf_type_name(enum sw_conf_type type);

#endif /* SW_CONF_H */
