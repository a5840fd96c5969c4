/*
 * main.c - slipwatch-collector: the ingest daemon.
 *
 * Will ingest warehouse events over MQTT and poll courier tracking APIs on
 * one event loop, committing shipment events to the store (design.md,
 * "collector/").  Today it runs the shared daemon life cycle (lib/daemon):
 * configuration, store, loop, signals; the ingest parts arrive with their
 * issues and the daemon says at start that they are not there yet.
 */
#include "config.h"

#include "lib/daemon.h"

static enum sw_err collector_start(struct sw_daemon *d, char *errbuf, size_t errlen)
{
	sw_log_notice(NULL, "MQTT ingest and courier polling are not built yet: "
			    "this collector ingests nothing");
	return SW_OK;
}

static const struct sw_daemon_desc collector_desc = {
	.name = "collector",
	.summary = "Ingest warehouse events and courier tracking into the slipwatch store.",
	.start = collector_start,
};

int main(int argc, char **argv)
{
	return sw_daemon_main(argc, argv, &collector_desc);
}
