/*
 * sw_scenario.c - runs the alert engine, the notice sender, and the
 * on-call pages and pager on a store with a clock the script steps,
 * against real channels (the SMTP sink, the webhook sink, the on-call
 * sink): the customer-notice scenarios of tests/data/scenarios/ and the
 * on-call ones of tests/data/pages/.
 *
 *   sw_scenario CONF SCRIPT
 *
 * CONF is a slipwatch.conf ([store] path, [alerts], [rule ...], [smtp],
 * [customer_webhook], [rrd], [pages], [page ...], [route ...],
 * [receiver ...]).  SCRIPT is read line by line:
 *   # comment, or an empty line
 *   clock T        the clock: T = unix seconds, +N / -N = relative to now
 *   seed           the JSON lines up to "end" go to sw_seed STORE NOW
 *                  (env SW_SEED: its path): times in them are relative
 *                  to the scenario's clock
 *   run            the engine reads the journal, passes deadlines due, and
 *                  the sender sends every notice due, until nothing is left;
 *                  then the ops rules are evaluated once (when the file
 *                  has [page] sections) and the pager sends every page
 *                  row due, until nothing is left
 *   run_failing TEXT  as run, but the sender must fail with an error
 *                  containing TEXT (the round stops there; e.g. the store
 *                  refusing to record a notice it just sent)
 *   rrd FILE DS=V ...  one RRD update of FILE (e.g. courier/dhl) at the
 *                  clock, through the tool SW_RRDPUT (env: its path)
 *   restart        the engine and sender are freed and made again (a
 *                  restart: the start-up pass runs at the clock)
 *   sql STATEMENT  runs one SQL statement on the store (what no seed op
 *                  says, e.g. a courier feed failing)
 *   sh COMMAND     runs a shell command, which must succeed (e.g. switch
 *                  a test receiver's answers)
 * In sql and sh steps, @NOW is replaced by the clock (unix s) and
 * @NOW+N / @NOW-N by the clock plus or minus N seconds.
 * No wall clock is read: the same script does the same whatever the
 * machine's load.  Exit 0, or 1 with "SCRIPT:LINE: what" on stderr.
 */
#include "config.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "alerts/channel.h"
#include "alerts/engine.h"
#include "alerts/notify.h"
#include "alerts/pages.h"
#include "alerts/rules.h"
#include "alerts/template.h"
#include "lib/conf.h"
#include "lib/store.h"

struct scen {
	const char *script;
	long line;
	char *store_path;
	struct sw_store *st;
	struct sw_alerts_conf ac;
	struct sw_rules rules;
	struct sw_tpl_set *tpl;
	void *chconf[SW_NOTIFY_CHANNELS];
	struct sw_channel *chs[SW_NOTIFY_CHANNELS];
	size_t n_chs;
	struct sw_engine *engine;
	struct sw_notify *notify;
	int64_t now, mono_ms;
	/* on-call */
	struct sw_pages_conf pc;
	struct sw_rrd_conf rrd;
	struct sw_sig_ctx sig;
	struct sw_channel *rchs[64]; /* per pc.receivers[i]; NULL for email */
	struct sw_channel *email;    /* email receivers' [smtp] channel */
	void *email_conf;
	struct sw_pages *pages;
	struct sw_pager *pager;
};

static void die(struct scen *s, const char *what, const char *detail)
{
	fprintf(stderr, "sw_scenario: %s:%ld: %s%s%s\n", s->script, s->line, what,
		detail ? ": " : "", detail ? detail : "");
	exit(1);
}

/* The on-call part: [rrd], [pages] and the rest; each receiver's channel
 * opened (email receivers use the [smtp] channel, opened if need be). */
static void load_pages(struct scen *s, struct sw_conf *conf)
{
	char err[1024];

	if (sw_rrd_conf_load(conf, &s->rrd, err, sizeof(err)) ||
	    sw_pages_conf_load(conf, &s->pc, err, sizeof(err)))
		die(s, "configuration", err);
	for (size_t i = 0; i < s->pc.n_receivers && i < 64; i++) {
		const struct sw_receiver_conf *r = &s->pc.receivers[i];

		if (r->chconf) {
			if (sw_channel_open(r->ops, r->chconf, &s->rchs[i], err, sizeof(err)))
				die(s, "receiver", err);
		} else if (!s->email) { /* email receivers: an [smtp] channel of their own */
			if (sw_channel_conf_load(&sw_chan_email, conf, &s->email_conf, err,
						 sizeof(err)) ||
			    sw_channel_open(&sw_chan_email, s->email_conf, &s->email, err,
					    sizeof(err)))
				die(s, "[smtp] for email receivers", err);
		}
	}
	s->sig.st = NULL; /* set once the store is open */
	s->sig.rrd = &s->rrd;
	s->sig.cursor = SW_ENGINE_CURSOR;
	s->sig.rules = &s->rules;
	s->sig.alerts = &s->ac;
}

static void load_conf(struct scen *s, const char *path)
{
	static const struct sw_conf_opt store_table[] = {
		{ "path", SW_CONF_PATH, 0, 0, 0, 0, 0, NULL, NULL, 0, "store" },
		{ NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, 0, NULL },
	};
	struct sw_conf *conf;
	char err[1024];

	if (sw_conf_load(path, &conf, err, sizeof(err)) != SW_OK ||
	    sw_conf_apply(conf, "store", NULL, store_table, &s->store_path, err, sizeof(err)) ||
	    sw_rules_load(conf, &s->ac, &s->rules, err, sizeof(err)))
		die(s, "configuration", err);
	for (size_t i = 0; i < SW_NOTIFY_CHANNELS && sw_channel_table[i]; i++) {
		const struct sw_channel_ops *ops = sw_channel_table[i];
		bool on = strcmp(ops->name, "email") == 0 ? s->ac.email
							   : sw_conf_has(conf, ops->section, NULL);

		if (!on)
			continue;
		if (sw_channel_conf_load(ops, conf, &s->chconf[i], err, sizeof(err)) ||
		    sw_channel_open(ops, s->chconf[i], &s->chs[s->n_chs], err, sizeof(err)))
			die(s, "channel", err);
		s->n_chs++;
		if (strcmp(ops->name, "webhook") == 0)
			s->ac.webhook_on = true;
	}
	if (sw_tpl_load(s->ac.templates, &s->tpl, err, sizeof(err)) != SW_OK)
		die(s, "templates", err);
	load_pages(s, conf);
	sw_conf_free(conf);
}

static void start(struct scen *s)
{
	char err[1024];

	if (sw_engine_new(s->st, &s->ac, &s->rules, NULL, &s->engine, err, sizeof(err)) ||
	    sw_engine_scan(s->engine, s->now, err, sizeof(err)))
		die(s, "engine", err);
	s->notify = sw_notify_new(s->st, &s->ac, s->tpl, s->engine, NULL);
	sw_notify_set_channels(s->notify, s->chs, s->n_chs);
	sw_notify_set_pages(s->notify, &s->pc, &s->sig);
	s->sig.st = s->st;
	s->pages = sw_pages_new(s->st, &s->sig, &s->pc, NULL);
	s->pager = sw_pager_new(s->st, &s->pc, NULL);
	sw_pager_set_channels(s->pager, s->rchs, s->pc.n_receivers, s->email);
}

static void stop(struct scen *s)
{
	sw_notify_free(s->notify);
	sw_engine_free(s->engine);
	sw_pages_free(s->pages);
	sw_pager_free(s->pager);
	s->notify = NULL;
	s->engine = NULL;
	s->pages = NULL;
	s->pager = NULL;
}

/* One evaluation of the ops rules, then every page row due is sent (each
 * round takes one row per page and receiver, so rounds go on while rows
 * are sent). */
static void run_pages(struct scen *s)
{
	struct sw_pager_stats before, after;
	char err[1024] = "";
	int64_t delay;
	int guard = 0;

	if (s->pc.n_rules == 0)
		return;
	if (sw_pages_eval(s->pages, s->now, err, sizeof(err)) != SW_OK)
		die(s, "pages", err);
	if (err[0])
		fprintf(stderr, "sw_scenario: %s:%ld: pages: %s\n", s->script, s->line, err);
	do {
		sw_pager_get_stats(s->pager, &before);
		if (sw_pager_run(s->pager, s->now, &delay, err, sizeof(err)))
			die(s, "pager", err);
		sw_pager_get_stats(s->pager, &after);
	} while ((delay == 0 || after.sent + after.failed != before.sent + before.failed) &&
		 ++guard < 10000);
}

/* expect_fail: NULL, or a text the sender's error must contain (the
 * round then ends there). */
static void run(struct scen *s, const char *expect_fail)
{
	char err[1024] = "";
	int64_t delay;
	int n, guard = 0;

	do {
		if (sw_engine_tail(s->engine, s->now, &n, err, sizeof(err)))
			die(s, "journal", err);
	} while (n == s->ac.batch);
	do {
		if (sw_engine_due(s->engine, s->now, &n, err, sizeof(err)))
			die(s, "deadlines", err);
	} while (n > 0 && sw_engine_next_due(s->engine) && sw_engine_next_due(s->engine) <= s->now);
	do {
		s->mono_ms += 60000; /* a minute of tokens per round: never rate-bound */
		if (sw_notify_run(s->notify, s->now, s->mono_ms, 1000, &delay, err, sizeof(err))) {
			if (!expect_fail || !strstr(err, expect_fail))
				die(s, "sending", err);
			return; /* the failure wanted */
		}
	} while (delay == 0 && ++guard < 10000);
	if (expect_fail)
		die(s, "run_failing: the sender did not fail with", expect_fail);
	run_pages(s);
}

static void seed(struct scen *s, FILE *in)
{
	char cmd[4096], line[8192];
	const char *tool = getenv("SW_SEED");
	FILE *p;

	if (!tool)
		die(s, "seed", "SW_SEED is not set");
	snprintf(cmd, sizeof(cmd), "'%s' '%s' %lld", tool, s->store_path, (long long)s->now);
	if (!(p = popen(cmd, "w")))
		die(s, "seed", "cannot start sw_seed");
	while (fgets(line, sizeof(line), in)) {
		s->line++;
		if (strcmp(line, "end\n") == 0 || strcmp(line, "end") == 0)
			break;
		fputs(line, p);
	}
	if (pclose(p) != 0)
		die(s, "seed", "sw_seed failed");
}

static void sql(struct scen *s, const char *stmt)
{
	sqlite3 *db;
	char *msg = NULL;

	if (sqlite3_open(s->store_path, &db) != SQLITE_OK)
		die(s, "sql", "cannot open the store");
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_exec(db, stmt, NULL, NULL, &msg) != SQLITE_OK)
		die(s, "sql", msg);
	sqlite3_close(db);
}

/* Copies in to out with @NOW, @NOW+N and @NOW-N replaced by the clock. */
static void subst(struct scen *s, const char *in, char *out, size_t len)
{
	size_t o = 0;

	while (*in && o + 32 < len) {
		if (strncmp(in, "@NOW", 4) == 0) {
			long long v = s->now;
			char *end;

			in += 4;
			if (*in == '+' || *in == '-') {
				v += strtoll(in, &end, 10);
				in = end;
			}
			o += (size_t)snprintf(out + o, len - o, "%lld", v);
		} else {
			out[o++] = *in++;
		}
	}
	if (*in)
		die(s, "step too long", NULL);
	out[o] = '\0';
}

static void rrd(struct scen *s, const char *args)
{
	const char *tool = getenv("SW_RRDPUT");
	char cmd[8192];

	if (!tool)
		die(s, "rrd", "SW_RRDPUT is not set");
	snprintf(cmd, sizeof(cmd), "'%s' '%s' %.*s %lld %s", tool, s->rrd.dir,
		 (int)strcspn(args, " "), args, (long long)s->now, args + strcspn(args, " "));
	if (system(cmd) != 0)
		die(s, "rrd: sw_rrdput failed", args);
}

static void step(struct scen *s, char *line, FILE *in)
{
	char expanded[8192];
	char *arg = line + strcspn(line, " ");
	char *end;
	long long v;

	if (*arg)
		*arg++ = '\0';
	if (strcmp(line, "clock") == 0) {
		v = strtoll(arg, &end, 10);
		if (end == arg || *end)
			die(s, "clock: not a number", arg);
		s->now = *arg == '+' || *arg == '-' ? s->now + v : v;
	} else if (strcmp(line, "seed") == 0) {
		seed(s, in);
	} else if (strcmp(line, "run") == 0) {
		run(s, NULL);
	} else if (strcmp(line, "run_failing") == 0) {
		if (!*arg)
			die(s, "run_failing", "the expected error text is missing");
		run(s, arg);
	} else if (strcmp(line, "restart") == 0) {
		stop(s);
		start(s);
	} else if (strcmp(line, "sql") == 0) {
		subst(s, arg, expanded, sizeof(expanded));
		sql(s, expanded);
	} else if (strcmp(line, "sh") == 0) {
		subst(s, arg, expanded, sizeof(expanded));
		if (system(expanded) != 0)
			die(s, "sh: the command failed", expanded);
	} else if (strcmp(line, "rrd") == 0) {
		rrd(s, arg);
	} else {
		die(s, "unknown step", line);
	}
}

int main(int argc, char **argv)
{
	struct scen s = { 0 };
	char err[1024], line[8192];
	FILE *in;

	if (argc != 3) {
		fprintf(stderr, "usage: sw_scenario CONF SCRIPT\n");
		return 2;
	}
	s.script = argv[2];
	if (!(in = fopen(argv[2], "r")))
		die(&s, "cannot open the script", NULL);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	load_conf(&s, argv[1]);
	if (sw_store_open(s.store_path, 0, &s.st, err, sizeof(err)))
		die(&s, "store", err);
	s.now = 1800000000; /* until the script says */
	while (fgets(line, sizeof(line), in)) {
		s.line++;
		line[strcspn(line, "\r\n")] = '\0';
		if (!*line || *line == '#')
			continue;
		if (!s.engine && strcmp(line, "seed") != 0 && strncmp(line, "clock", 5) != 0 &&
		    strncmp(line, "sql", 3) != 0 && strncmp(line, "sh ", 3) != 0 &&
		    strncmp(line, "rrd ", 4) != 0)
			start(&s);
		step(&s, line, in);
	}
	fclose(in);
	stop(&s);
	for (size_t i = 0; i < s.n_chs; i++)
		sw_channel_close(s.chs[i]);
	for (size_t i = 0; i < 64; i++)
		sw_channel_close(s.rchs[i]);
	sw_channel_close(s.email);
	sw_channel_conf_free(&sw_chan_email, s.email_conf);
	sw_pages_conf_free(&s.pc);
	sw_conf_free_struct(sw_rrd_conf_table, &s.rrd);
	for (size_t i = 0; i < SW_NOTIFY_CHANNELS && sw_channel_table[i]; i++)
		sw_channel_conf_free(sw_channel_table[i], s.chconf[i]);
	sw_tpl_free(s.tpl);
	sw_rules_free(&s.rules);
	sw_alerts_conf_free(&s.ac);
	sw_store_close(s.st);
	free(s.store_path);
	curl_global_cleanup();
	return 0;
}
