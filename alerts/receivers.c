/*
 * receivers.c - the [receiver NAME] sections (channel.h): named
 * destinations for on-call pages, each of one channel.
 *
 *   [receiver NAME]
 *   channel = email | webhook | slack | pagerduty     required
 *   send_resolved = yes                                also tell it when a
 *                                                      page resolves
 *   to = a@x.example, b@y.example                      email only: required
 *   ...                                                the channel's own keys
 *                                                      (webhook: those of
 *                                                      [customer_webhook])
 *
 * sw_conf_apply rejects keys its table does not name, and which keys a
 * section may hold depends on its channel key.  So each section is read
 * twice: a probe with every key any channel takes (as plain strings,
 * nothing judged) finds the channel; then one combined table, the
 * receiver's own rows followed by the channel's rows with their offsets
 * moved past the receiver's struct, fills one buffer that holds both
 * structs, so the conf library's own errors ("unknown key", a bad
 * duration, a secret written in the file) name [receiver NAME] and its
 * line.  The channel's part is then moved into its own conf struct and
 * the channel's check runs with kind "receiver" and the name, so its
 * errors read "FILE:LINE: [receiver NAME] key: what: 'bad'" too.
 * Email receivers have no channel conf: they send through [smtp].
 */
#include "config.h"

#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/channel.h"
#include "alerts/mail.h"
#include "lib/xmalloc.h"

#define KIND	   "receiver"
#define MAX_TO	   32  /* addresses in one email receiver */
#define PROBE_ROWS 128 /* distinct keys over every channel */

/* The receiver's own keys. */
struct head {
	char *channel;
	bool send_resolved;
	char *to; /* email only */
};

#define H(f) offsetof(struct head, f)
static const struct sw_conf_opt head_rows[] = {
    {.name = "channel",
     .type = SW_CONF_STRING,
     .offset = H(channel),
     .help = "email, webhook, slack or pagerduty"},
    {.name = "send_resolved",
     .type = SW_CONF_BOOL,
     .offset = H(send_resolved),
     .def = "yes",
     .help = "tell this receiver when a page resolves"},
    {.name = "to",
     .type = SW_CONF_STRING,
     .offset = H(to),
     .help = "email: the addresses, comma-separated"},
    {.name = NULL},
};
#undef H
#define HEAD_ROWS_NOT_EMAIL 2 /* channel, send_resolved */

/* Where the channel's struct starts in the combined buffer. */
static size_t chan_shift(void)
{
	size_t a = alignof(max_align_t);

	return (sizeof(struct head) + a - 1) / a * a;
}

static bool is_email(const struct sw_channel_ops *ops)
{
	return strcmp(ops->name, "email") == 0;
}

/* The combined table of ops's receivers (new array; free() it). */
static struct sw_conf_opt *combined_table(const struct sw_channel_ops *ops)
{
	size_t nh = is_email(ops) ? 3 : HEAD_ROWS_NOT_EMAIL, nc = 0, i;
	struct sw_conf_opt *t;

	for (i = 0; !is_email(ops) && ops->opts[i].name; i++)
		nc++;
	t = xcalloc(nh + nc + 1, sizeof *t);
	memcpy(t, head_rows, nh * sizeof *t);
	for (i = 0; i < nc; i++) {
		t[nh + i] = ops->opts[i];
		t[nh + i].offset += chan_shift();
	}
	return t;
}

/* ---- the probe: which channel ------------------------------------------------ */

struct probe {
	struct sw_conf_opt rows[PROBE_ROWS + 1];
	char *names[PROBE_ROWS]; /* the names made here ("secret_file") */
	size_t n;
};

static void probe_add(struct probe *p, const char *name, bool made)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (strcmp(p->rows[i].name, name) == 0)
			break;
	if (i < p->n || p->n == PROBE_ROWS) {
		if (made)
			free((char *)name);
		return;
	}
	p->rows[p->n].name = name;
	p->rows[p->n].type = SW_CONF_STRING;
	p->rows[p->n].offset = p->n * sizeof(char *);
	p->names[p->n] = made ? (char *)name : NULL;
	p->n++;
}

/* Every key any receiver may hold, as strings. */
static void probe_build(struct probe *p)
{
	const struct sw_conf_opt *o;
	size_t i;

	memset(p, 0, sizeof *p);
	for (o = head_rows; o->name; o++)
		probe_add(p, o->name, false);
	for (i = 0; sw_channel_table[i]; i++) {
		if (is_email(sw_channel_table[i]))
			continue;
		for (o = sw_channel_table[i]->opts; o->name; o++) {
			probe_add(p, o->name, false);
			if (o->type == SW_CONF_SECRET) {
				probe_add(p, xasprintf("%s_file", o->name), true);
				probe_add(p, xasprintf("%s_env", o->name), true);
			}
		}
	}
}

static void probe_free(struct probe *p, char **vals)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		if (vals[i]) { /* may be a secret written in the file */
			explicit_bzero(vals[i], strlen(vals[i]));
			free(vals[i]);
		}
		free(p->names[i]);
	}
}

/* The channel of [receiver name]: SW_OK with *ret_ops, or SW_ECONF. */
static enum sw_err find_channel(struct sw_conf *file, const char *name,
				const struct sw_channel_ops **ret_ops, char *err, size_t len)
{
	struct probe p;
	char *vals[PROBE_ROWS] = {0};
	const struct sw_channel_ops *ops = NULL;
	enum sw_err rc;

	probe_build(&p);
	rc = sw_conf_apply(file, KIND, name, p.rows, vals, err, len);
	if (rc == SW_OK) {
		if (!vals[0] || !*vals[0])
			rc = sw_channel_conf_err(err, len, file, KIND, name, "channel",
						 "required but not set (email, webhook, slack or "
						 "pagerduty)",
						 NULL);
		else if (!(ops = sw_channel_find(vals[0])))
			rc = sw_channel_conf_err(err, len, file, KIND, name, "channel",
						 "not a channel (email, webhook, slack or "
						 "pagerduty)",
						 vals[0]);
	}
	probe_free(&p, vals);
	*ret_ops = ops;
	return rc ? SW_ECONF : SW_OK;
}

/* ---- one receiver ------------------------------------------------------------ */

/* "a@x, b@y" into r->to; SW_OK or SW_ECONF. */
static enum sw_err parse_to(const struct sw_conf *file, struct sw_receiver_conf *r, const char *to,
			    char *err, size_t len)
{
	const char *p = to, *end;
	size_t n;
	char *addr;

	if (!to || !*to)
		return sw_channel_conf_err(err, len, file, KIND, r->name, "to",
					   "required for channel = email but not set", NULL);
	r->to = xcalloc(MAX_TO, sizeof *r->to);
	while (*p) {
		p += strspn(p, " \t,");
		if (!*p)
			break;
		end = p + strcspn(p, ",");
		n = (size_t)(end - p);
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		addr = xstrndup(p, n);
		if (!sw_mail_addr_valid(addr) || r->n_to == MAX_TO) {
			sw_channel_conf_err(err, len, file, KIND, r->name, "to",
					    r->n_to == MAX_TO ? "more than 32 addresses"
							      : "not an email address",
					    addr);
			free(addr);
			return SW_ECONF;
		}
		r->to[r->n_to++] = addr;
		p = end;
	}
	if (!r->n_to)
		return sw_channel_conf_err(err, len, file, KIND, r->name, "to",
					   "required for channel = email but empty", to);
	return SW_OK;
}

/* [receiver name] into r (zeroed; r->name set); SW_OK or SW_ECONF. */
static enum sw_err load_one(struct sw_conf *file, struct sw_receiver_conf *r, char *err, size_t len)
{
	const struct sw_channel_ops *ops;
	struct sw_conf_opt *table;
	struct head *h;
	enum sw_err rc;
	char *buf;

	if ((rc = find_channel(file, r->name, &ops, err, len)))
		return rc;
	r->ops = ops;
	table = combined_table(ops);
	buf = xcalloc(1, chan_shift() + ops->conf_size);
	h = (struct head *)buf;
	rc = sw_conf_apply(file, KIND, r->name, table, buf, err, len);
	if (rc == SW_OK) {
		r->send_resolved = h->send_resolved;
		if (is_email(ops)) {
			rc = parse_to(file, r, h->to, err, len);
		} else {
			r->chconf = xcalloc(1, ops->conf_size);
			memcpy(r->chconf, buf + chan_shift(), ops->conf_size); /* owns them now */
			rc = ops->check(r->chconf, file, KIND, r->name, err, len);
		}
		sw_conf_free_struct(head_rows, buf);
	}
	free(table);
	free(buf);
	return rc ? SW_ECONF : SW_OK;
}

static void free_one(struct sw_receiver_conf *r)
{
	size_t i;

	for (i = 0; i < r->n_to; i++)
		free(r->to[i]);
	free(r->to);
	if (r->chconf && r->ops)
		sw_channel_conf_free(r->ops, r->chconf);
	free(r->name);
}

/* ---- the interface ----------------------------------------------------------- */

enum sw_err sw_receivers_load(struct sw_conf *file, struct sw_receiver_conf **ret, size_t *ret_n,
			      char *err, size_t len)
{
	struct sw_receiver_conf *r = NULL;
	const char *name;
	size_t n = 0, i;

	*ret = NULL;
	*ret_n = 0;
	while (sw_conf_named(file, KIND, n))
		n++;
	if (!n)
		return SW_OK;
	r = xcalloc(n, sizeof *r);
	for (i = 0; i < n; i++) {
		name = sw_conf_named(file, KIND, i);
		r[i].name = xstrdup(name);
		if (load_one(file, &r[i], err, len) != SW_OK) {
			sw_receivers_free(r, i + 1);
			return SW_ECONF;
		}
	}
	*ret = r;
	*ret_n = n;
	return SW_OK;
}

void sw_receivers_free(struct sw_receiver_conf *r, size_t n)
{
	size_t i;

	for (i = 0; r && i < n; i++)
		free_one(&r[i]);
	free(r);
}

void sw_receivers_dump(const struct sw_receiver_conf *r, size_t n, struct sw_buf *out)
{
	struct sw_conf_opt *table;
	struct head *h;
	struct sw_buf to;
	char *buf;
	size_t i, k;

	for (i = 0; r && i < n; i++) {
		table = combined_table(r[i].ops);
		buf = xcalloc(1, chan_shift() + r[i].ops->conf_size);
		h = (struct head *)buf; /* borrowed strings: nothing is freed */
		h->channel = (char *)r[i].ops->name;
		h->send_resolved = r[i].send_resolved;
		sw_buf_init(&to, 64 * 1024);
		for (k = 0; k < r[i].n_to; k++)
			sw_buf_printf(&to, "%s%s", k ? ", " : "", r[i].to[k]);
		h->to = (char *)sw_buf_str(&to);
		if (r[i].chconf)
			memcpy(buf + chan_shift(), r[i].chconf, r[i].ops->conf_size);
		sw_conf_dump(KIND, r[i].name, table, buf, out);
		sw_buf_printf(out, "\n");
		sw_buf_free(&to);
		free(buf);
		free(table);
	}
}
