/*
 * conf.h - slipwatch-alerts' share of slipwatch.conf: [alerts], every
 * [rule NAME], the channels' sections ([smtp], [customer_webhook]),
 * [rrd] and the on-call sections ([pages], [page NAME], [route NAME],
 * [receiver NAME]), as one part of the registry (lib/daemon.h,
 * conf/registry.h).
 *
 * Every slipwatch program applies this part on each load, so that any
 * program's -t judges these sections too; only slipwatch-alerts keeps the
 * result and reads the secrets and files they name (the channels'
 * secrets, dry_run_dir, the templates).
 */
#ifndef SW_ALERTS_CONF_H
#define SW_ALERTS_CONF_H

#include "alerts/notify.h"
#include "alerts/pages.h"
#include "alerts/rules.h"
#include "alerts/template.h"
#include "lib/daemon.h"
#include "lib/rrd.h"

/* Everything the configuration decides; swapped whole on reload. */
struct sw_alerts_state {
	struct sw_alerts_conf alerts;	  /* [alerts] */
	struct sw_rules rules;		  /* [rule NAME] */
	void *chconf[SW_NOTIFY_CHANNELS]; /* per sw_channel_table row: its
					     section, or NULL when unused */
	struct sw_rrd_conf rrd;		  /* [rrd] */
	struct sw_pages_conf pages;	  /* on-call: [pages], [page], [route],
					     [receiver] */
	void *page_smtp;		  /* [smtp] for email receivers (the
					     pager's own channel), loaded when
					     a receiver has channel = email;
					     else NULL */
	struct sw_tpl_set *tpl;		  /* the templates, loaded; NULL when
					     no channel is in use or text only */
};

/*
 * The alerts part.  configure applies [alerts] and the rules
 * (sw_rules_load), each channel in use (email when [alerts] email = yes,
 * the others when their section is present; a channel not in use has its
 * section claimed, not read), [rrd] (sw_rrd_conf_load), the on-call
 * sections (sw_pages_conf_load; [smtp] again for the pager when a
 * receiver has channel = email, whatever [alerts] email says), and loads
 * the templates when a customer channel is in use, into a struct
 * sw_alerts_state.
 */
extern const struct sw_daemon_part sw_alerts_part;

#endif /* SW_ALERTS_CONF_H */
