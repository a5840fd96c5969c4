/*
 * kinds.h - the descriptors of every kind of probe, one per file
 * (probes/probe_<kind>.c), gathered here so that probes/table.c can list
 * them and the tests can run one directly.
 */
#ifndef SW_PROBES_KINDS_H
#define SW_PROBES_KINDS_H

#include "probes/probe.h"

extern const struct sw_probe_desc sw_probe_courier_api; /* probe_courier_api.c */
extern const struct sw_probe_desc sw_probe_canary;	/* probe_canary.c */
extern const struct sw_probe_desc sw_probe_broker;	/* probe_broker.c */
extern const struct sw_probe_desc sw_probe_smtp;	/* probe_smtp.c */
extern const struct sw_probe_desc sw_probe_feed;	/* probe_feed.c */

#endif /* SW_PROBES_KINDS_H */
