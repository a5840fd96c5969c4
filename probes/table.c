/*
 * table.c - every kind of probe, one row each (probe.h): adding a kind is
 * adding its file and a row here.  The order is the order of -T's lines
 * and of the daemon's rounds.
 */
#include "config.h"

#include <stddef.h>

#include "probes/kinds.h"

const struct sw_probe_desc *const sw_probe_table[] = {
	&sw_probe_feed,
	NULL,
};
