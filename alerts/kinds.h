/*
 * kinds.h - the one list of what a customer can be told about: the slip
 * kinds the engine detects (design.md "Slips"), then the good-news
 * follow-ups that a slip the customer was told about earns when it
 * resolves, then the messages that tell a cause many customers share
 * instead of a slip's own wording.
 *
 * Both enums derive from it: enum sw_slip (rules.h) is SW_SLIP_KINDS in
 * this order; enum sw_tpl_kind (template.h) is SW_SLIP_KINDS in the same
 * order, then SW_FOLLOWUP_KINDS, then SW_SHARED_KINDS.  So a slip kind
 * and its template kind have the same value, and the names, the
 * [rule NAME] keys, their built-in thresholds and help come from one row.
 * Names are stored in the outbox and written in the configuration
 * (threshold keys, off, urgent, followup) and in template file names:
 * once shipped they never change.
 *
 * Adding a slip kind is one row here; then its detection (eval.c), its
 * templates (alerts/templates, alerts/local.am) and its place in the order
 * of seriousness (notice.c, which does not compile until it has one).
 *
 * X(ID, name, ...): SW_SLIP_ID / SW_TPL_ID and the kind's name, then
 * for a slip kind its built-in threshold (ms: how long after the fact the
 * slip counts) and the help of its [rule NAME] key, for a follow-up
 * what the good news is, and for a shared message what it tells.
 */
#ifndef SW_ALERTS_KINDS_H
#define SW_ALERTS_KINDS_H

#include <stdint.h>

#define SW_KIND_HOUR_MS INT64_C(3600000)

/* available_for_pickup is not a slip but a deadline the customer must act
 * on (the parcel goes back if not collected), so it gets an email of its
 * own. */
#define SW_SLIP_KINDS(X)                                                                           \
	X(SHIP_LATE, "ship_late", 0, "not shipped this long after promised_ship_by")               \
	X(NO_FIRST_SCAN, "no_first_scan", 24 * SW_KIND_HOUR_MS,                                    \
	  "shipped, and no courier scan for this long")                                            \
	X(STALLED, "stalled", 48 * SW_KIND_HOUR_MS,                                                \
	  "in transit with no courier event for this long (healthy feed only)")                    \
	X(ATTEMPT_FAIL, "attempt_fail", 0, "a failed delivery attempt counts after this long")     \
	X(EXCEPTION, "exception", 0, "a courier exception counts after this long")                 \
	X(RETURNING, "returning", 0, "returning to sender counts after this long")                 \
	X(AVAILABLE_FOR_PICKUP, "available_for_pickup", 0,                                         \
	  "waiting at a pickup point counts after this long")                                      \
	X(ETA_SLIP, "eta_slip", 0, "courier ETA later than the promise by more than this")         \
	X(LATE, "late", 0, "not delivered this long after promised_delivery_by")

#define SW_FOLLOWUP_KINDS(X)                                                                       \
	X(SHIPPED, "shipped", "the order left the warehouse")                                      \
	X(DELIVERED, "delivered", "the parcel arrived")                                            \
	X(MOVING, "moving", "the problem cleared, the parcel is on its way again")

/* Never an outbox row's kind: the sender picks one for a message whose
 * lead row is covered by a firing incident ([page NAME] customer_message
 * = cohort, notify.h); the rows keep their slip kinds. */
#define SW_SHARED_KINDS(X)                                                                         \
	X(COHORT, "cohort", "a problem shared by many parcels or orders (a cohort incident)")

#endif /* SW_ALERTS_KINDS_H */
