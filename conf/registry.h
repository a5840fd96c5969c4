/*
 * registry.h - every slipwatch program's share of slipwatch.conf, in one
 * list: the one place that says which section kinds exist and who reads
 * them (each part's kinds), with each part's option tables and checks
 * behind its configure (lib/daemon.h, struct sw_daemon_part).
 *
 * Every program hands this list to lib/daemon (desc->registry), which
 * applies all parts on every load, so slipwatch-collector -t, slipwatch-
 * alerts -t and the slipwatch command judge a file the same way and name
 * the same first error.  Adding a program's sections is adding its part
 * here.
 */
#ifndef SW_CONF_REGISTRY_H
#define SW_CONF_REGISTRY_H

#include "lib/daemon.h"

/* The parts in the order they are checked (file errors then come in this
 * order too), NULL-terminated.  Static const data. */
extern const struct sw_daemon_part *const sw_registry[];

#endif /* SW_CONF_REGISTRY_H */
