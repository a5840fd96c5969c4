/*
 * conf.c - slipwatch-alerts' part of the configuration registry (see
 * conf.h).
 *
 * configure does, at load time, every check the alert engine's start
 * would otherwise make on the file's values: the channels' own checks
 * (what sw_channel_open refuses, dry_run_dir included), the RRD step, the
 * on-call sections (pages_conf.c: rules, routes, receivers and [smtp] for
 * email receivers), and loading the templates.  Errors name FILE:LINE of the key at fault, or of
 * its section when the key is not in the file.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/channel.h"
#include "alerts/conf.h"
#include "alerts/mail.h"
#include "lib/xmalloc.h"

#define WHERE_LEN 4200 /* "FILE:LINE" */

static const char *const alerts_kinds[] = {
    "alerts", "rule", "smtp", "customer_webhook", "rrd", "pages", "page", "route", "receiver",
    NULL,
};

static void conf_free(void *state)
{
	struct sw_alerts_state *c = state;

	if (!c)
		return;
	sw_alerts_conf_free(&c->alerts);
	sw_rules_free(&c->rules);
	for (size_t i = 0; i < SW_NOTIFY_CHANNELS && sw_channel_table[i]; i++)
		sw_channel_conf_free(sw_channel_table[i], c->chconf[i]);
	sw_conf_free_struct(sw_rrd_conf_table, &c->rrd);
	sw_pages_conf_free(&c->pages);
	sw_channel_conf_free(&sw_chan_email, c->page_smtp);
	sw_tpl_free(c->tpl);
	free(c);
}

/* Each channel of the table in use: email when [alerts] email = yes, the
 * others when their section is in the file.  A channel not in use has its
 * section claimed (no "unused section" error) but not read. */
static enum sw_err channels_configure(struct sw_conf *file, struct sw_alerts_state *c, char *errbuf,
				      size_t errlen)
{
	char where[WHERE_LEN];

	for (size_t i = 0; i < SW_NOTIFY_CHANNELS && sw_channel_table[i]; i++) {
		const struct sw_channel_ops *ops = sw_channel_table[i];
		bool email = strcmp(ops->name, "email") == 0;
		bool on = email ? c->alerts.email : sw_conf_has(file, ops->section, NULL);
		enum sw_err rc;

		if (!on) {
			sw_conf_claim(file, ops->section);
			continue;
		}
		if ((rc = sw_channel_conf_load(ops, file, &c->chconf[i], errbuf, errlen)))
			return rc;
		if (email && !((const struct sw_mail_conf *)c->chconf[i])->from) {
			snprintf(errbuf, errlen,
				 "%s: [smtp] from: required when [alerts] email = yes",
				 sw_conf_where(file, "smtp", NULL, "from", where, sizeof(where)));
			return SW_ECONF;
		}
		if (strcmp(ops->name, "webhook") == 0)
			c->alerts.webhook_on = true;
	}
	if (strcmp(c->alerts.channel, "webhook") == 0 && !c->alerts.webhook_on) {
		snprintf(
		    errbuf, errlen,
		    "%s: [alerts] channel: webhook needs a [customer_webhook] section: 'webhook'",
		    sw_conf_where(file, "alerts", NULL, "channel", where, sizeof(where)));
		return SW_ECONF;
	}
	return SW_OK;
}

/* The templates of a channel in use, loaded as the engine will use them
 * (not as text only: another program need not have them). */
static enum sw_err templates_load(struct sw_conf *file, struct sw_alerts_state *c, char *errbuf,
				  size_t errlen)
{
	char tplerr[512], where[WHERE_LEN];

	if (sw_conf_text_only(file) || !(c->alerts.email || c->alerts.webhook_on))
		return SW_OK;
	if (sw_tpl_load(c->alerts.templates, &c->tpl, tplerr, sizeof(tplerr)) == SW_OK)
		return SW_OK;
	snprintf(errbuf, errlen, "%s: [alerts] templates: %s",
		 sw_conf_where(file, "alerts", NULL, "templates", where, sizeof(where)), tplerr);
	return SW_ECONF;
}

/* The on-call sections and, when a receiver sends email, the [smtp]
 * settings the pager's own email channel opens with (whatever [alerts]
 * email says; the channel's check wants a from address). */
static enum sw_err pages_configure(struct sw_conf *file, struct sw_alerts_state *c, char *errbuf,
				   size_t errlen)
{
	bool email = false;
	enum sw_err rc;

	if ((rc = sw_pages_conf_load(file, &c->pages, errbuf, errlen)))
		return rc;
	for (size_t i = 0; i < c->pages.n_receivers; i++)
		email = email || c->pages.receivers[i].ops == &sw_chan_email;
	if (!email)
		return SW_OK;
	return sw_channel_conf_load(&sw_chan_email, file, &c->page_smtp, errbuf, errlen);
}

static enum sw_err alerts_configure(struct sw_conf *file, void **ret_state, char *errbuf,
				    size_t errlen)
{
	struct sw_alerts_state *c = xcalloc(1, sizeof(*c));
	enum sw_err rc;

	rc = sw_rules_load(file, &c->alerts, &c->rules, errbuf, errlen);
	if (rc == SW_OK)
		rc = channels_configure(file, c, errbuf, errlen);
	if (rc == SW_OK)
		rc = sw_rrd_conf_load(file, &c->rrd, errbuf, errlen);
	if (rc == SW_OK)
		rc = pages_configure(file, c, errbuf, errlen);
	if (rc == SW_OK)
		rc = templates_load(file, c, errbuf, errlen);
	if (rc != SW_OK) {
		conf_free(c);
		return SW_ECONF;
	}
	*ret_state = c;
	return SW_OK;
}

static void alerts_dump(const void *state, struct sw_buf *out)
{
	const struct sw_alerts_state *c = state;

	sw_rules_dump(&c->alerts, &c->rules, out);
	sw_buf_printf(out, "\n");
	for (size_t i = 0; i < SW_NOTIFY_CHANNELS && sw_channel_table[i]; i++)
		if (c->chconf[i]) {
			sw_channel_conf_dump(sw_channel_table[i], c->chconf[i], out);
			sw_buf_printf(out, "\n");
		}
	sw_conf_dump("rrd", NULL, sw_rrd_conf_table, &c->rrd, out);
	sw_buf_printf(out, "\n");
	/* [smtp] for the email receivers only: not dumped above (email is
	 * the table's first row, channel.h) */
	if (c->page_smtp && !c->chconf[0]) {
		sw_channel_conf_dump(&sw_chan_email, c->page_smtp, out);
		sw_buf_printf(out, "\n");
	}
	sw_pages_conf_dump(&c->pages, out);
}

const struct sw_daemon_part sw_alerts_part = {
    .name = "alerts",
    .kinds = alerts_kinds,
    .configure = alerts_configure,
    .dump = alerts_dump,
    .free_state = conf_free,
};
