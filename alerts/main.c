/*
 * main.c - slipwatch-alerts: the alert engine daemon.
 *
 * Will tail the store's event journal, keep SLA deadlines, detect slips and
 * deliver notifications from a durable outbox (design.md, "alerts/").
 * Today it runs the shared daemon life cycle (lib/daemon): configuration,
 * store, loop, signals; slip detection and delivery arrive with their
 * issue and the daemon says at start that they are not there yet.
 */
#include "config.h"

#include "lib/daemon.h"

static enum sw_err alerts_start(struct sw_daemon *d, char *errbuf, size_t errlen)
{
	sw_log_notice(NULL, "slip detection and notifications are not built yet: "
			    "this engine sends nothing");
	return SW_OK;
}

static const struct sw_daemon_desc alerts_desc = {
	.name = "alerts",
	.summary = "Detect delivery slips and notify on-call staff and customers.",
	.start = alerts_start,
};

int main(int argc, char **argv)
{
	return sw_daemon_main(argc, argv, &alerts_desc);
}
