/*
 * cli_engine.c - `slipwatch engine [--json]`: which alert engine of the
 * store is the active one (alerts/role.h: the lease "alerts", held by the
 * engine that evaluates and sends; the others stand by).
 *
 * Read-only.  From the lease row and the clock (lib/clock.h, so a
 * simulated clock is honoured): held (by whom, since when, renewed when,
 * until when), run out (who held it last and when it ran out: no engine
 * is active until a standby takes it at its next try, a third of the
 * lease at most), or never taken.  Text, or one JSON object:
 *   {"lease": "alerts", "state": "held" | "expired" | "none",
 *    "holder", "acquired_at", "renewed_at", "expires_at"} (null when none).
 * The holder's name is the store's text: shown through clean() and jstr()
 * as everything else the CLI prints from the store.  Exit 0 whatever the
 * state; 1 when the store cannot be read; 2 for bad arguments.
 */
#include "config.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "alerts/role.h"
#include "lib/clock.h"
#include "lib/store.h"
#include "lib/store_lease.h"
#include "lib/swtime.h"
#include "tools/cli.h"

static const char *lease_state(enum sw_err rc, const struct sw_lease *l, int64_t now)
{
	if (rc == SW_ENOTFOUND)
		return "none";
	return now < l->expires_at ? "held" : "expired";
}

static int engine_text(const char *state, const struct sw_lease *l, int64_t now)
{
	char a[SW_TIME_STRLEN], r[SW_TIME_STRLEN], e[SW_TIME_STRLEN], span[32];
	char *who;

	if (state[0] == 'n') {
		printf("no alert engine has taken the lease '%s' on this store yet\n",
		       SW_ROLE_LEASE);
		return 0;
	}
	who = clean(l->holder, NULL);
	if (state[0] == 'h') {
		printf("active: %s holds the lease '%s' since %s\n", who, SW_ROLE_LEASE,
		       fmt_utc(l->acquired_at, a));
		printf("  renewed %s, held until %s (%s from now) unless renewed\n",
		       fmt_utc(l->renewed_at, r), fmt_utc(l->expires_at, e),
		       fmt_span(l->expires_at - now, span));
	} else {
		printf("no engine active: the lease '%s' ran out at %s (%s ago)\n", SW_ROLE_LEASE,
		       fmt_utc(l->expires_at, e), fmt_span(now - l->expires_at, span));
		printf("  last held by %s since %s; a standby takes it at its next try\n", who,
		       fmt_utc(l->acquired_at, a));
	}
	free(who);
	return 0;
}

static int engine_json(const char *state, const struct sw_lease *l)
{
	json_t *o = json_object();

	jset_str(o, "lease", SW_ROLE_LEASE);
	jset_str(o, "state", state);
	jset_str(o, "holder", l->holder);
	jset_utc(o, "acquired_at", l->acquired_at);
	jset_utc(o, "renewed_at", l->renewed_at);
	jset_utc(o, "expires_at", l->expires_at);
	return json_print(o);
}

int cmd_engine(const struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {NULL, 0, NULL, 0},
	};
	struct sw_lease l = {0};
	struct sw_store *st;
	const char *state;
	bool json = false;
	enum sw_err rc;
	int c, status = 0;

	opts_begin();
	while (status == 0 && (c = next_opt("engine", argc, argv, opts)) != -1) {
		if (c == 'j')
			json = true;
		else
			status = EXIT_USAGE;
	}
	if (status || (status = no_more_args("engine", argc, argv)) ||
	    (status = open_store(cli, SW_STORE_RDONLY, &st)))
		return status;
	rc = sw_store_lease_get(st, SW_ROLE_LEASE, &l);
	if (rc != SW_OK && rc != SW_ENOTFOUND) {
		status = fail("%s", sw_store_errmsg(st));
	} else {
		int64_t now = sw_clock_now();

		state = lease_state(rc, &l, now);
		status = json ? engine_json(state, &l) : engine_text(state, &l, now);
	}
	sw_store_lease_clear(&l);
	sw_store_close(st);
	return status;
}
