/*
 * table.c - every kind of probe, one row each (probe.h): adding a kind is
 * adding its file and a row here.  The order is the order of -T's lines
 * and of the daemon's rounds.  sw_probe_find lives here, beside the
 * table it reads.
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "probes/kinds.h"

const struct sw_probe_desc *const sw_probe_table[] = {
    &sw_probe_courier_api, &sw_probe_canary, &sw_probe_broker, &sw_probe_smtp, &sw_probe_feed, NULL,
};

const struct sw_probe_desc *sw_probe_find(const char *kind)
{
	for (size_t i = 0; kind && sw_probe_table[i]; i++)
		if (strcmp(sw_probe_table[i]->kind, kind) == 0)
			return sw_probe_table[i];
	return NULL;
}
