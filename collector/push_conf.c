/*
 * push_conf.c - [push] and [push NAME]: the option tables, loading and the
 * checks the tables cannot make (see push.h).
 *
 * Part of the collector's configuration (collector/conf.c), so every
 * program's -t judges these sections; nothing here needs libmicrohttpd or
 * libcrypto (the listener is push.c).
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector/push.h"
#include "dashboards/dash_conf.h"
#include "lib/xmalloc.h"

#define DAY_MS (INT64_C(86400000))

const char *const sw_push_kind_words[] = {"aftership", "easypost", NULL};

#define P(f) offsetof(struct sw_push_conf, f)
const struct sw_conf_opt sw_push_table[] = {
    {.name = "listen",
     .type = SW_CONF_STRING,
     .offset = P(listen),
     .def = "127.0.0.1:8787",
     .help = "address of the webhook listener, IPV4:PORT or [IPV6]:PORT"},
    {.name = "listen_public",
     .type = SW_CONF_BOOL,
     .offset = P(listen_public),
     .def = "no",
     .help = "allow a listen address that is not loopback (use TLS or a proxy)"},
    {.name = "tls_cert",
     .type = SW_CONF_PATH,
     .offset = P(tls_cert),
     .help = "PEM certificate (chain) to serve HTTPS; with tls_key"},
    {.name = "tls_key",
     .type = SW_CONF_PATH,
     .offset = P(tls_key),
     .help = "PEM private key of tls_cert"},
    {.name = "max_body",
     .type = SW_CONF_SIZE,
     .offset = P(max_body),
     .min = 1024,
     .max = SW_COURIER_MAX_BODY,
     .def = "1M",
     .help = "largest webhook body taken (413 above)"},
    {.name = NULL},
};
#undef P

#define H(f) offsetof(struct sw_push_hook_conf, f)
const struct sw_conf_opt sw_push_hook_table[] = {
    {.name = "kind",
     .type = SW_CONF_ENUM,
     .offset = H(kind),
     .words = sw_push_kind_words,
     .flags = SW_CONF_REQUIRED,
     .help = "who sends it: aftership or easypost"},
    {.name = "courier",
     .type = SW_CONF_STRING,
     .offset = H(courier),
     .flags = SW_CONF_REQUIRED,
     .help = "the [courier NAME] section whose parcels it updates"},
    {.name = "secret",
     .type = SW_CONF_SECRET,
     .offset = H(secret),
     .help = "webhook secret the sender signs with (secret_file or secret_env)"},
    {.name = "path",
     .type = SW_CONF_STRING,
     .offset = H(path),
     .help = "URL path it is posted to (default /push/NAME)"},
    {.name = "poll_interval_while_pushing",
     .type = SW_CONF_DURATION,
     .offset = H(poll_while_pushing),
     .min = 60000,
     .max = 30 * DAY_MS,
     .def = "24h",
     .help = "next poll of a pushed parcel (polling as a safety net)"},
    {.name = "push_silence",
     .type = SW_CONF_DURATION,
     .offset = H(silence),
     .min = 1000,
     .max = 30 * DAY_MS,
     .def = "2h",
     .help = "no push for this long: the courier's parcels are polled normally again"},
    {.name = NULL},
};
#undef H

/* "FILE:LINE: [push NAME] key: what: 'bad'" into errbuf; SW_ECONF. */
static enum sw_err bad(struct sw_conf *conf, const char *name, const char *key, const char *what,
		       const char *text, char *errbuf, size_t errlen)
{
	char where[512];

	sw_conf_where(conf, "push", name, key, where, sizeof(where));
	snprintf(errbuf, errlen, "%s: [push%s%s] %s: %s%s%s%s", where, name ? " " : "",
		 name ? name : "", key, what, text ? ": '" : "", text ? text : "", text ? "'" : "");
	return SW_ECONF;
}

static bool ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

/* The checks of one [push NAME] the table cannot make. */
static enum sw_err hook_check(struct sw_conf *conf, const struct sw_poll_conf *poll,
			      struct sw_push_conf *pc, size_t i, char *errbuf, size_t errlen)
{
	struct sw_push_hook_conf *h = &pc->hooks[i];
	const struct sw_poll_courier_conf *cf;
	const char *secret = h->secret.value;
	char why[160];

	cf = sw_poll_conf_find((struct sw_poll_conf *)poll, h->courier);
	if (cf == NULL)
		return bad(conf, h->name, "courier", "no [courier NAME] section of that name",
			   h->courier, errbuf, errlen);
	if (h->poll_while_pushing <= cf->interval) {
		snprintf(why, sizeof(why),
			 "not longer than [courier %.40s] interval (%lld s): pushes would spare "
			 "no poll",
			 cf->name, (long long)(cf->interval / 1000));
		return bad(conf, h->name, "poll_interval_while_pushing", why, NULL, errbuf, errlen);
	}
	if (secret == NULL)
		return bad(conf, h->name, "secret",
			   "required but not set; use secret_file or secret_env (the webhook "
			   "secret of the sender's settings)",
			   NULL, errbuf, errlen);
	if (h->secret.world_readable)
		return bad(conf, h->name, "secret_file",
			   "readable by every user of this machine (chmod 600 it)", NULL, errbuf,
			   errlen);
	if (!sw_conf_text_only(conf) && h->kind == SW_PUSH_KIND_EASYPOST && !ascii(secret))
		return bad(conf, h->name, "secret",
			   "not ASCII: EasyPost signs with the NFKD form of the secret, which "
			   "is not computed here; choose an ASCII secret",
			   NULL, errbuf, errlen);
	if (h->path == NULL)
		h->path = xasprintf("/push/%s", h->name);
	if (h->path[0] != '/' || strchr(h->path, '?') || strchr(h->path, ' '))
		return bad(conf, h->name, "path", "want an absolute path such as /push/NAME",
			   h->path, errbuf, errlen);
	for (size_t j = 0; j < i; j++)
		if (strcmp(pc->hooks[j].path, h->path) == 0)
			return bad(conf, h->name, "path", "already the path of another [push NAME]",
				   h->path, errbuf, errlen);
	return SW_OK;
}

/* The checks of [push] the table cannot make. */
static enum sw_err push_check(struct sw_conf *conf, struct sw_push_conf *pc, char *errbuf,
			      size_t errlen)
{
	struct sw_dash_listen l;
	char why[256];

	if (sw_dash_listen_parse(pc->listen, true, &l, why, sizeof(why)) != SW_OK)
		return bad(conf, NULL, "listen", why, pc->listen, errbuf, errlen);
	if (!l.loopback && !pc->listen_public)
		return bad(conf, NULL, "listen",
			   "not a loopback address: set listen_public = yes to take webhooks "
			   "from other machines",
			   pc->listen, errbuf, errlen);
	if ((pc->tls_cert == NULL) != (pc->tls_key == NULL))
		return bad(conf, NULL, pc->tls_cert ? "tls_key" : "tls_cert",
			   "tls_cert and tls_key go together", NULL, errbuf, errlen);
	if (sw_conf_text_only(conf))
		return SW_OK;
	if (pc->tls_cert && access(pc->tls_cert, R_OK) != 0)
		return bad(conf, NULL, "tls_cert", "cannot read it", pc->tls_cert, errbuf, errlen);
	if (pc->tls_key && access(pc->tls_key, R_OK) != 0)
		return bad(conf, NULL, "tls_key", "cannot read it", pc->tls_key, errbuf, errlen);
	return SW_OK;
}

enum sw_err sw_push_conf_load(struct sw_conf *conf, const struct sw_poll_conf *poll,
			      struct sw_push_conf **ret, char *errbuf, size_t errlen)
{
	struct sw_push_conf *pc = xcalloc(1, sizeof(*pc));
	const char *name;
	enum sw_err rc;
	size_t n = 0;

	*ret = NULL;
	rc = sw_conf_apply(conf, "push", NULL, sw_push_table, pc, errbuf, errlen);
	if (rc == SW_OK)
		rc = push_check(conf, pc, errbuf, errlen);
	while (rc == SW_OK && conf && sw_conf_named(conf, "push", n) != NULL)
		n++;
	pc->hooks = n ? xcalloc(n, sizeof(*pc->hooks)) : NULL;
	for (size_t i = 0; rc == SW_OK && i < n; i++) {
		struct sw_push_hook_conf *h = &pc->hooks[i];

		name = sw_conf_named(conf, "push", i);
		rc = sw_conf_apply(conf, "push", name, sw_push_hook_table, h, errbuf, errlen);
		pc->n = i + 1;
		h->name = xstrdup(name);
		if (rc == SW_OK)
			rc = hook_check(conf, poll, pc, i, errbuf, errlen);
	}
	if (rc != SW_OK) {
		sw_push_conf_free(pc);
		return SW_ECONF;
	}
	*ret = pc;
	return SW_OK;
}

void sw_push_conf_free(struct sw_push_conf *pc)
{
	if (pc == NULL)
		return;
	for (size_t i = 0; i < pc->n; i++) {
		sw_conf_free_struct(sw_push_hook_table, &pc->hooks[i]);
		free(pc->hooks[i].name);
	}
	free(pc->hooks);
	sw_conf_free_struct(sw_push_table, pc);
	free(pc);
}

void sw_push_conf_dump(const struct sw_push_conf *pc, struct sw_buf *out)
{
	if (pc == NULL || pc->n == 0)
		return;
	sw_conf_dump("push", NULL, sw_push_table, pc, out);
	for (size_t i = 0; i < pc->n; i++)
		sw_conf_dump("push", pc->hooks[i].name, sw_push_hook_table, &pc->hooks[i], out);
}
