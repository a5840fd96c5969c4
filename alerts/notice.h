/*
 * notice.h - one customer message built from the waiting outbox rows of
 * one order: the rows' template values, their re-check results, the
 * templates and the [alerts] settings make one rendered struct sw_notice
 * for a channel (channel.h).
 *
 * One message per order at a time: the slips of an order (all its
 * parcels) due together go out as one message led by the most serious
 * kind, in this order (design: what the customer most needs to know or
 * do first):
 *   returning, exception, attempt_fail, available_for_pickup, (cohort),
 *   late, stalled, no_first_scan, eta_slip, ship_late
 * and, for follow-ups (rows "resolved_KIND", their news decided by the
 * re-check): delivered, shipped, moving.  A row the sender found to be a
 * member of a firing cohort incident (struct sw_notice_cohort; notify.h)
 * ranks as kind "cohort", after available_for_pickup and before late: a
 * shared cause explains a delay better than the slip's own wording, but
 * not what the customer must do.  The lead row's template is used (the
 * cohort template for a cohort row, its cause worded from the stage that
 * ran over); every parcel of the message is listed with its own issue
 * (the Summary line of its slip kind's template, in the lead template's
 * language).
 *
 * True facts only: the delivery promise is delivery_date, the ship-by
 * promise ship_by_date (ship_late only), a courier ETA is new_date only
 * while it is today or later in the customer's zone, and {{followup}} is
 * set only when a follow-up will really be sent for the lead kind.
 * Single thread (the swtime zone cache).
 */
#ifndef SW_ALERTS_NOTICE_H
#define SW_ALERTS_NOTICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "alerts/channel.h"
#include "alerts/engine.h"
#include "alerts/rules.h"
#include "alerts/template.h"
#include "lib/matcher.h"
#include "lib/store.h"

/* The cohort incident a row's entity is a member of, when its rule says
 * customer_message = cohort and the incident is firing (notify.c decides;
 * never for a follow-up). */
struct sw_notice_cohort {
	bool on;						 /* the row is a cohort notice */
	char rule[SW_LABEL_VALUE_MAX + 1];			 /* [page NAME] */
	char subject[SW_LABEL_KEY_MAX + SW_LABEL_VALUE_MAX + 2]; /* "lane=dhl/w1/IN_560" */
	char stage[16];	  /* the page's figures "stage": "warehouse", "first_mile",
			     "line_haul", "last_mile"; "" (or another): unknown */
	int64_t incident; /* the page's incident number */
};

/* One row of a message. */
struct sw_notice_part {
	const struct sw_outbox_msg *row; /* borrowed */
	json_t *vars;			 /* its template values (owned) */
	struct sw_recheck_out chk;	 /* its re-check (news, fresh ETA) */
	struct sw_notice_cohort cohort;	 /* set by the sender; zero: none */
};

/* A built message: notice points into the rest. */
struct sw_notice_built {
	struct sw_notice notice;
	struct sw_tpl_msg msg;
	char *tracking_link, *unsub_link, *facts;
	char key[64];
};

/* Rank of a row's kind in the order above (0 most serious); unknown
 * kinds last. */
int sw_notice_rank(const struct sw_notice_part *p);

/* Sorts parts most serious first (parts[0] leads). */
void sw_notice_sort(struct sw_notice_part *parts, size_t n);

/* The template kind of a part (SW_TPL_COHORT for a cohort notice, else
 * its slip kind, or its follow-up news).  SW_OK or SW_ENOTFOUND. */
enum sw_err sw_notice_tpl_kind(const struct sw_notice_part *p, enum sw_tpl_kind *ret);

/*
 * Builds the message of parts[0..n) (sorted; parts[0] leads) at now into
 * *out (the caller's: sw_notice_built_free, also after an error).
 * default_zone is used for rows without a valid zone.  SW_OK, or
 * SW_EINVAL / SW_ETOOBIG with err saying what (a render error: the rows
 * fail).
 */
enum sw_err sw_notice_build(const struct sw_alerts_conf *conf, const struct sw_tpl_set *tpl,
			    const struct sw_notice_part *parts, size_t n, int64_t now,
			    struct sw_notice_built *out, char *err, size_t errlen);

void sw_notice_built_free(struct sw_notice_built *b);

#endif /* SW_ALERTS_NOTICE_H */
