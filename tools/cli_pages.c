/*
 * cli_pages.c - the on-call commands of slipwatch(1): pages (what the
 * ops rules hold against each subject), ack (acknowledge a page's
 * incident) and silence add/list/expire.
 *
 * Design:
 * - pages opens the store read-only; ack and silence add/expire open it
 *   read-write but never create it (SW_STORE_NOCREATE), like unsubscribe.
 *   The CLI writes only acks and silences (lib/store_pages.h); the alert
 *   engine reads them at its next evaluation and tells receivers (an
 *   acknowledgement) or holds their notifications (a silence), so the
 *   output says "at its next evaluation", never "sent".
 * - Matchers are parsed with lib/matcher.h before anything is stored: a
 *   malformed one is a usage error naming it, and the store keeps the
 *   canonical text, the same the engine parses.
 * - Who acts (--by) defaults to $USER, then the login name; operator text
 *   (who, comments) is refused with control characters and kept short, and
 *   everything shown from the store goes through clean() (tools/cli.h).
 * - JSON follows the other commands: one object, lists under a named key,
 *   times in UTC RFC 3339 (null when absent), field names as in the store
 *   (a page's last notification is an outbox row in the shape of
 *   `slipwatch outbox --json`).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "lib/matcher.h"
#include "lib/store.h"
#include "lib/store_pages.h"
#include "lib/swtime.h"
#include "lib/xmalloc.h"
#include "lib/store_report.h"
#include "tools/cli.h"

#define MAX_WHO	       64			     /* bytes of --by */
#define MAX_COMMENT    500			     /* bytes of --comment */
#define MAX_SILENCE_MS (INT64_C(366) * 86400 * 1000) /* --duration, --until */

/* ---- arguments --------------------------------------------------------------- */

/* A page or silence id: decimal, 1..INT64_MAX. */
static int parse_id(const char *cmd, const char *what, const char *arg, int64_t *ret)
{
	char *end, *shown;
	long long v;
	int status;

	errno = 0;
	v = strtoll(arg, &end, 10);
	if (arg[0] >= '0' && arg[0] <= '9' && !*end && !errno && v > 0) {
		*ret = v;
		return 0;
	}
	shown = clean(arg, NULL);
	status = usage_err(cmd, "'%s' is not a %s id (a number from 1)", shown, what);
	free(shown);
	return status;
}

/* Operator text: 1..max bytes, no control characters.  0 or EXIT_USAGE. */
static int text_arg(const char *cmd, const char *opt, const char *arg, size_t max)
{
	if (!*arg)
		return usage_err(cmd, "%s: may not be empty", opt);
	for (const char *p = arg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return usage_err(cmd, "%s: control characters are not allowed", opt);
	if (strlen(arg) > max)
		return usage_err(cmd, "%s: at most %zu bytes", opt, max);
	return 0;
}

/* Who acts: --by, else $USER, else the login name, else the user name of
 * the uid.  0 or EXIT_USAGE. */
static int who(const char *cmd, const char *by, const char **ret)
{
	const struct passwd *pw;

	if (!by && (by = getenv("USER")) && !*by)
		by = NULL;
	if (!by)
		by = getlogin();
	if (!by && (pw = getpwuid(getuid())))
		by = pw->pw_name;
	if (!by)
		return usage_err(cmd, "who is this? give --by WHO");
	*ret = by;
	return text_arg(cmd, "--by", by, MAX_WHO);
}

/* An instant for --start/--until: RFC 3339 with an offset. */
static int parse_instant(const char *cmd, const char *opt, const char *arg, int64_t *ret)
{
	struct sw_time t;
	char err[128], *shown;
	int status;

	if (sw_time_parse(arg, &t, err, sizeof(err)) == SW_OK && (t.flags & SW_TIME_HAS_OFFSET)) {
		*ret = t.utc_sec;
		return 0;
	}
	shown = clean(arg, NULL);
	status = usage_err(cmd,
			   "%s: '%s' is not a time with an offset, e.g. 2026-11-24T18:00:00Z "
			   "or 2026-11-24T23:30:00+05:30",
			   opt, shown);
	free(shown);
	return status;
}

/* ---- pages ------------------------------------------------------------------------ */

static const char *page_state_at(int i)
{
	return sw_page_state_name((enum sw_page_state)i);
}

static const struct choices page_states = {"a page state", page_state_at, SW_PAGE_STATE_LAST,
					   false};

/* What the listing shows of one page besides the row itself. */
struct page_extra {
	struct sw_outbox_msg *note; /* the last notification, or NULL */
	bool acked;		    /* the current incident */
	int64_t acked_at;
	char *acked_by;
};

/* The page's incident is still running: not ok, or receivers have not
 * heard that it is. */
static bool page_open(const struct sw_page *p)
{
	return p->incident > 0 && (p->state != SW_PAGE_OK || p->notified_state != SW_PAGE_OK);
}

static enum sw_err page_extra_read(struct sw_store *st, const struct sw_page *p,
				   struct page_extra *x)
{
	enum sw_err rc;

	memset(x, 0, sizeof(*x));
	rc = sw_store_page_last_note(st, p->id, &x->note);
	if (rc != SW_OK && rc != SW_ENOTFOUND)
		return rc;
	if (!page_open(p))
		return SW_OK;
	return sw_store_page_acked(st, p->id, p->incident, &x->acked, &x->acked_at, &x->acked_by);
}

static void page_extra_free(struct page_extra *x)
{
	sw_store_outbox_free(x->note, x->note ? 1 : 0);
	free(x->acked_by);
}

/* "trigger sent 5m ago" into buf[len]; "-" if none. */
static const char *note_text(const struct sw_outbox_msg *m, int64_t now, char *buf, size_t len)
{
	char span[TBUF];
	int64_t at;

	if (!m) {
		snprintf(buf, len, "-");
		return buf;
	}
	at = m->sent_at ? m->sent_at : m->created_at;
	snprintf(buf, len, "%s %s %s ago", m->slip_kind ? m->slip_kind : "?",
		 sw_store_outbox_state_name(m->state), fmt_span(now - at, span));
	return buf;
}

static void page_text_row(struct table *t, const struct sw_page *p, const struct page_extra *x,
			  int64_t now)
{
	char id[24], age[TBUF], note[TBUF + 64], when[TBUF], *receiver, *acked = NULL;
	const char *cells[10];

	snprintf(id, sizeof(id), "%" PRId64, p->id);
	receiver = p->escalated_to
		       ? xasprintf("%s -> %s", p->receiver ? p->receiver : "-", p->escalated_to)
		       : xstrdup(p->receiver ? p->receiver : "-");
	if (x->acked)
		acked = xasprintf("%s %s ago", x->acked_by ? x->acked_by : "?",
				  fmt_span(now - x->acked_at, when));
	cells[0] = id;
	cells[1] = p->rule;
	cells[2] = *p->subject ? p->subject : "(global)";
	cells[3] = sw_page_state_name(p->state);
	cells[4] = p->severity == SW_SEV_NONE ? "-" : sw_page_severity_name(p->severity);
	cells[5] = fmt_span(now - p->state_since, age);
	cells[6] = receiver;
	cells[7] = note_text(x->note, now, note, sizeof(note));
	cells[8] = acked;
	cells[9] = p->summary;
	table_row(t, cells);
	free(receiver);
	free(acked);
}

/* An outbox row as `slipwatch outbox --json` shows one. */
/* A page row in the shape of an element of `slipwatch outbox --json`. */
static json_t *note_json(const struct sw_outbox_msg *m)
{
	const struct sw_report_outbox r = {
	    .id = m->id,
	    .entity = (char *)m->entity,
	    .slip_kind = (char *)m->slip_kind,
	    .promise = (char *)m->promise,
	    .channel = (char *)m->channel,
	    .recipient = (char *)m->recipient,
	    .state = (char *)sw_store_outbox_state_name(m->state),
	    .attempts = m->attempts,
	    .next_attempt_at = m->next_attempt_at,
	    .last_error = (char *)m->last_error,
	    .created_at = m->created_at,
	    .sent_at = m->sent_at,
	    .receiver = (char *)m->receiver,
	};

	return cli_outbox_json(&r);
}

static json_t *page_json(const struct sw_page *p, const struct page_extra *x)
{
	json_t *j = json_object(), *figures = NULL;

	jset_int(j, "id", p->id);
	jset_str(j, "rule", p->rule);
	jset_str(j, "subject", p->subject);
	jset_str(j, "labels", p->labels);
	jset_str(j, "state", sw_page_state_name(p->state));
	jset_str(j, "severity", sw_page_severity_name(p->severity));
	json_object_set_new(j, "value", p->has_value ? json_real(p->value) : json_null());
	jset_str(j, "summary", p->summary);
	if (p->figures)
		figures = json_loads(p->figures, 0, NULL);
	json_object_set_new(j, "figures", figures ? figures : jstr(p->figures));
	jset_utc(j, "state_since", p->state_since);
	jset_utc(j, "active_since", p->active_since);
	jset_utc(j, "firing_since", p->firing_since);
	jset_int(j, "incident", p->incident);
	jset_utc(j, "evaluated_at", p->evaluated_at);
	jset_str(j, "receiver", p->receiver);
	jset_str(j, "escalated_to", p->escalated_to);
	jset_utc(j, "escalated_at", p->escalated_at);
	jset_str(j, "acked_by", x->acked ? x->acked_by : NULL);
	jset_utc(j, "acked_at", x->acked ? x->acked_at : 0);
	json_object_set_new(j, "last_notification", x->note ? note_json(x->note) : json_null());
	return j;
}

static bool page_shown(const struct sw_page *p, int state)
{
	return state < 0 || p->state == (enum sw_page_state)state;
}

static void pages_text(const struct sw_page *list, size_t n, int state, const struct page_extra *x,
		       int64_t now)
{
	static const char *const head[] = {"ID",       "RULE",	 "SUBJECT",  "STATE",
					   "SEVERITY", "AGE",	 "RECEIVER", "LAST NOTIFICATION",
					   "ACKED",    "SUMMARY"};
	struct table t;

	table_init(&t, 10);
	table_row(&t, head);
	for (size_t i = 0; i < n; i++)
		if (page_shown(&list[i], state))
			page_text_row(&t, &list[i], &x[i], now);
	table_print(&t, "");
}

static int pages_json(const struct sw_page *list, size_t n, int state, const struct page_extra *x)
{
	struct jlist l;

	jlist_named(&l, "pages");
	for (size_t i = 0; i < n; i++)
		if (page_shown(&list[i], state))
			jlist_add(&l, page_json(&list[i], &x[i]));
	return jlist_end(&l, "}\n");
}

/* Shows list[0..n) (those in state when state >= 0) as text or JSON,
 * each with what page_extra_read finds, all read before anything is
 * printed. */
static int pages_show(struct sw_store *st, const struct sw_page *list, size_t n, int state,
		      bool all, bool json)
{
	struct page_extra *x = xcalloc(n ? n : 1, sizeof(*x));
	size_t shown = 0;
	int status = 0;

	for (size_t i = 0; status == 0 && i < n; i++)
		if (page_shown(&list[i], state) && ++shown &&
		    page_extra_read(st, &list[i], &x[i]) != SW_OK)
			status = fail("%s", sw_store_errmsg(st));
	if (status == 0 && json)
		status = pages_json(list, n, state, x);
	else if (status == 0 && shown)
		pages_text(list, n, state, x, (int64_t)time(NULL));
	else if (status == 0)
		printf("no %spages%s%s\n", all || state >= 0 ? "" : "open ",
		       state >= 0 ? " in state " : "",
		       state >= 0 ? sw_page_state_name((enum sw_page_state)state) : "");
	for (size_t i = 0; i < n; i++)
		page_extra_free(&x[i]);
	free(x);
	return status;
}

int cmd_pages(const struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"all", no_argument, NULL, 'a'},
	    {"state", required_argument, NULL, 's'},
	    {"json", no_argument, NULL, 'j'},
	    {NULL, 0, NULL, 0},
	};
	struct sw_page *list = NULL;
	struct sw_store *st;
	bool all = false, json = false;
	int c, state = -1, status = 0;
	size_t n = 0;

	opts_begin();
	while (status == 0 && (c = next_opt("pages", argc, argv, opts)) != -1) {
		if (c == 'a')
			all = true;
		else if (c == 's' &&
			 !(status = choice_arg("pages", "--state", &page_states, optarg)))
			state = sw_page_state_parse(optarg);
		else if (c == 'j')
			json = true;
		else if (c != 's')
			status = EXIT_USAGE;
	}
	if (status || (status = no_more_args("pages", argc, argv)) ||
	    (status = open_store(cli, SW_STORE_RDONLY, &st)))
		return status;
	/* --state looks at every page: "ok" ones are not in the open list */
	if (sw_store_page_list(st, all || state >= 0, &list, &n) != SW_OK)
		status = fail("%s", sw_store_errmsg(st));
	else
		status = pages_show(st, list, n, state, all, json);
	sw_store_page_free(list, n);
	sw_store_close(st);
	return status;
}

/* ---- ack ------------------------------------------------------------------------------ */

/* Acknowledges page p's incident as by.  0 or EXIT_RUNTIME. */
static int ack_page(struct sw_store *st, const struct sw_page *p, const char *by,
		    const char *comment)
{
	char when[TBUF], *at_by = NULL, *shown;
	int64_t at = 0;
	bool acked = false;
	enum sw_err rc = sw_store_page_ack(st, p->id, p->incident, by, comment, time(NULL));

	if (rc == SW_OK) {
		shown = clean(by, NULL);
		printf("page %" PRId64 " incident %" PRId64 " acknowledged by %s; slipwatch-alerts "
		       "tells its receivers at its next evaluation\n",
		       p->id, p->incident, shown);
		free(shown);
		return 0;
	}
	if (rc != SW_EDUP ||
	    sw_store_page_acked(st, p->id, p->incident, &acked, &at, &at_by) != SW_OK)
		return fail("%s", sw_store_errmsg(st));
	shown = clean(at_by, NULL);
	printf("page %" PRId64 " incident %" PRId64 " was already acknowledged by %s at %s\n",
	       p->id, p->incident, shown, fmt_utc(at, when));
	free(shown);
	free(at_by);
	return 0;
}

static int ack_args(int argc, char **argv, int64_t *ret_id, const char **ret_by,
		    const char **ret_comment)
{
	static const struct option opts[] = {
	    {"by", required_argument, NULL, 'b'},
	    {"comment", required_argument, NULL, 'm'},
	    {NULL, 0, NULL, 0},
	};
	const char *by = NULL;
	int c, status = 0;

	opts_begin();
	while (status == 0 && (c = next_opt("ack", argc, argv, opts)) != -1) {
		if (c == 'b')
			by = optarg;
		else if (c == 'm')
			status = text_arg("ack", "--comment", *ret_comment = optarg, MAX_COMMENT);
		else
			status = EXIT_USAGE;
	}
	if (status)
		return status;
	if (optind >= argc)
		return usage_err("ack", "missing the page's ID (see 'slipwatch pages')");
	if ((status = parse_id("ack", "page", argv[optind++], ret_id)) ||
	    (status = no_more_args("ack", argc, argv)))
		return status;
	return who("ack", by, ret_by);
}

int cmd_ack(const struct cli *cli, int argc, char **argv)
{
	const char *by = NULL, *comment = NULL;
	struct sw_page *p = NULL;
	struct sw_store *st;
	int64_t id = 0;
	int status = ack_args(argc, argv, &id, &by, &comment);

	if (status || (status = open_store(cli, SW_STORE_NOCREATE, &st)))
		return status;
	if (sw_store_page_get_id(st, id, &p) != SW_OK)
		status = fail("%s", sw_store_errmsg(st));
	else if (p->state == SW_PAGE_OK || p->incident <= 0)
		status = fail("page %" PRId64 " is not open (state %s): nothing to acknowledge", id,
			      sw_page_state_name(p->state));
	else
		status = ack_page(st, p, by, comment);
	sw_store_page_free(p, p ? 1 : 0);
	sw_store_close(st);
	return status;
}

/* ---- silence -------------------------------------------------------------------------- */

struct silence_args {
	const char *verb;    /* add, list, expire */
	char *matchers;	     /* add: the operands joined with ',' (new) */
	const char *by;	     /* add */
	const char *comment; /* add */
	const char *duration, *until, *start;
	int64_t id; /* expire */
	bool all, json;
};

static int silence_opts(int argc, char **argv, struct silence_args *a)
{
	static const struct option opts[] = {
	    {"duration", required_argument, NULL, 'd'}, {"until", required_argument, NULL, 'u'},
	    {"start", required_argument, NULL, 's'},	{"comment", required_argument, NULL, 'm'},
	    {"by", required_argument, NULL, 'b'},	{"all", no_argument, NULL, 'a'},
	    {"json", no_argument, NULL, 'j'},		{NULL, 0, NULL, 0},
	};
	int c;

	opts_begin();
	while ((c = next_opt("silence", argc, argv, opts)) != -1) {
		if (c == 'd')
			a->duration = optarg;
		else if (c == 'u')
			a->until = optarg;
		else if (c == 's')
			a->start = optarg;
		else if (c == 'm')
			a->comment = optarg;
		else if (c == 'b')
			a->by = optarg;
		else if (c == 'a')
			a->all = true;
		else if (c == 'j')
			a->json = true;
		else
			return EXIT_USAGE;
	}
	return 0;
}

/* The options given that verb does not take: 0 or EXIT_USAGE. */
static int silence_misfits(const struct silence_args *a)
{
	bool add = strcmp(a->verb, "add") == 0, list = strcmp(a->verb, "list") == 0;
	const char *opt = NULL;

	if (!add && (a->duration || a->until || a->start || a->comment || a->by))
		opt = a->duration  ? "--duration"
		      : a->until   ? "--until"
		      : a->start   ? "--start"
		      : a->comment ? "--comment"
				   : "--by";
	else if (!list && a->all)
		opt = "--all";
	else if (!add && !list && a->json)
		opt = "--json";
	if (opt)
		return usage_err("silence", "%s: %s does not go with %s", a->verb, opt, a->verb);
	return 0;
}

/* The operands after the verb: add's matchers (joined), expire's id. */
static int silence_operands(int argc, char **argv, struct silence_args *a)
{
	int first = optind + 1;

	if (strcmp(a->verb, "list") == 0) {
		optind = first;
		return no_more_args("silence", argc, argv);
	}
	if (strcmp(a->verb, "expire") == 0) {
		if (first >= argc)
			return usage_err("silence", "expire: missing the silence's ID");
		optind = first + 1;
		if (parse_id("silence", "silence", argv[first], &a->id))
			return EXIT_USAGE;
		return no_more_args("silence", argc, argv);
	}
	if (first >= argc)
		return usage_err("silence", "add: missing the matchers (e.g. courier=dhl)");
	a->matchers = xstrdup(argv[first]);
	for (int i = first + 1; i < argc; i++) {
		char *t = xasprintf("%s,%s", a->matchers, argv[i]);

		free(a->matchers);
		a->matchers = t;
	}
	return 0;
}

static int silence_args(int argc, char **argv, struct silence_args *a)
{
	int status = silence_opts(argc, argv, a);

	if (status)
		return status;
	if (optind >= argc)
		return usage_err("silence", "missing add, list or expire");
	a->verb = argv[optind];
	if (strcmp(a->verb, "add") != 0 && strcmp(a->verb, "list") != 0 &&
	    strcmp(a->verb, "expire") != 0) {
		char *shown = clean(a->verb, NULL);

		status =
		    usage_err("silence", "unknown action '%s' (want add, list or expire)", shown);
		free(shown);
		return status;
	}
	if ((status = silence_misfits(a)))
		return status;
	return silence_operands(argc, argv, a);
}

/* "active", "pending" (still to start) or "expired" at now. */
static const char *silence_state(const struct sw_silence *s, int64_t now)
{
	return s->ends_at <= now ? "expired" : s->starts_at > now ? "pending" : "active";
}

static json_t *silence_json(const struct sw_silence *s, int64_t now)
{
	json_t *j = json_object();

	jset_int(j, "id", s->id);
	jset_str(j, "matchers", s->matchers);
	jset_str(j, "state", silence_state(s, now));
	jset_utc(j, "starts_at", s->starts_at);
	jset_utc(j, "ends_at", s->ends_at);
	jset_str(j, "created_by", s->created_by);
	jset_str(j, "comment", s->comment);
	jset_utc(j, "created_at", s->created_at);
	return j;
}

/* The window of a: [*ret_start, *ret_end), checked.  0 or EXIT_USAGE. */
static int silence_window(const struct silence_args *a, int64_t now, int64_t *ret_start,
			  int64_t *ret_end)
{
	int64_t span = 0;
	int status;

	*ret_start = now;
	if (a->start && (status = parse_instant("silence", "--start", a->start, ret_start)))
		return status;
	if (!a->duration == !a->until)
		return usage_err("silence", "add: give --duration D or --until TIME (one of them)");
	if (a->duration) {
		if ((status = parse_duration("silence", "--duration", a->duration, MAX_SILENCE_MS,
					     &span)))
			return status;
		if (span <= 0)
			return usage_err("silence", "--duration: must be at least 1s");
		*ret_end = *ret_start + span;
	} else {
		if ((status = parse_instant("silence", "--until", a->until, ret_end)))
			return status;
		if (*ret_end <= now)
			return usage_err("silence", "--until: '%s' is not in the future", a->until);
		if (*ret_end <= *ret_start)
			return usage_err("silence", "--until: must be after --start");
		if (*ret_end - *ret_start > MAX_SILENCE_MS / 1000)
			return usage_err("silence", "--until: at most 366d after the start");
	}
	if (*ret_end <= now)
		return usage_err("silence", "add: that silence would be over already");
	return 0;
}

/* Checks and completes a silence to add into *s (its matchers text is
 * new: free it).  0 or EXIT_USAGE. */
static int silence_build(const struct silence_args *a, int64_t now, struct sw_silence *s)
{
	struct sw_matchers *m;
	char err[512];
	int status;

	if (sw_matchers_parse(a->matchers, &m, err, sizeof(err)) != SW_OK)
		return usage_err("silence", "add: %s", err);
	s->matchers = xstrdup(sw_matchers_text(m));
	sw_matchers_free(m);
	s->created_at = now;
	if (!a->comment)
		status = usage_err("silence", "add: --comment TEXT is required (say why)");
	else if (!(status = text_arg("silence", "--comment", a->comment, MAX_COMMENT)) &&
		 !(status = who("silence", a->by, &s->created_by)))
		status = silence_window(a, now, &s->starts_at, &s->ends_at);
	s->comment = a->comment;
	return status;
}

static void silence_added_text(const struct sw_silence *s)
{
	char from[TBUF], until[TBUF], span[TBUF];
	char *m = clean(s->matchers, NULL), *by = clean(s->created_by, NULL);

	printf("silence %" PRId64 " added: %s\n  from %s until %s (%s), by %s\n", s->id, m,
	       fmt_utc(s->starts_at, from), fmt_utc(s->ends_at, until),
	       fmt_span(s->ends_at - s->starts_at, span), by);
	printf("slipwatch-alerts holds the notifications of matching pages from its next "
	       "evaluation\n");
	free(m);
	free(by);
}

/* Stores s (built) and says so.  0 or EXIT_RUNTIME. */
static int silence_add(struct sw_store *st, struct sw_silence *s, bool json, int64_t now)
{
	json_t *o;

	if (sw_store_silence_add(st, s, &s->id) != SW_OK)
		return fail("%s", sw_store_errmsg(st));
	if (!json) {
		silence_added_text(s);
		return 0;
	}
	o = json_object();
	json_object_set_new(o, "silence", silence_json(s, now));
	return json_print(o);
}

static void silence_table(const struct sw_silence *list, size_t n, int64_t now)
{
	static const char *const head[] = {"ID",	 "STATE", "MATCHERS", "STARTS (UTC)",
					   "ENDS (UTC)", "BY",	  "COMMENT"};
	char id[24], starts[TBUF], ends[TBUF];
	struct table t;

	table_init(&t, 7);
	table_row(&t, head);
	for (size_t i = 0; i < n; i++) {
		const char *cells[7] = {id,
					silence_state(&list[i], now),
					list[i].matchers,
					fmt_utc(list[i].starts_at, starts),
					fmt_utc(list[i].ends_at, ends),
					list[i].created_by,
					list[i].comment};

		snprintf(id, sizeof(id), "%" PRId64, list[i].id);
		table_row(&t, cells);
	}
	table_print(&t, "");
}

static int silence_list(struct sw_store *st, const struct silence_args *a, int64_t now)
{
	struct sw_silence *list;
	struct jlist l;
	size_t n;
	int status = 0;

	if (sw_store_silence_list(st, now, a->all, &list, &n) != SW_OK)
		return fail("%s", sw_store_errmsg(st));
	if (a->json) {
		jlist_named(&l, "silences");
		for (size_t i = 0; i < n; i++)
			jlist_add(&l, silence_json(&list[i], now));
		status = jlist_end(&l, "}\n");
	} else if (n == 0) {
		printf("no %ssilences\n", a->all ? "" : "active or pending ");
	} else {
		silence_table(list, n, now);
	}
	sw_store_silence_free(list, n);
	return status;
}

static int silence_expire(struct sw_store *st, int64_t id, int64_t now)
{
	if (sw_store_silence_expire(st, id, now) != SW_OK)
		return fail("%s", sw_store_errmsg(st));
	printf("silence %" PRId64 " expired; slipwatch-alerts notifies matching pages again from "
	       "its next evaluation\n",
	       id);
	return 0;
}

int cmd_silence(const struct cli *cli, int argc, char **argv)
{
	struct silence_args a = {0};
	struct sw_silence s = {0};
	struct sw_store *st = NULL;
	int64_t now = (int64_t)time(NULL);
	bool list = false, add = false;
	int status = silence_args(argc, argv, &a);

	if (status == 0) {
		list = strcmp(a.verb, "list") == 0;
		add = strcmp(a.verb, "add") == 0;
	}
	/* everything checked before the store is opened */
	if (status || (add && (status = silence_build(&a, now, &s))) ||
	    (status = open_store(cli, list ? SW_STORE_RDONLY : SW_STORE_NOCREATE, &st)))
		goto out;
	if (list)
		status = silence_list(st, &a, now);
	else if (add)
		status = silence_add(st, &s, a.json, now);
	else
		status = silence_expire(st, a.id, now);
	sw_store_close(st);
out:
	free((char *)s.matchers);
	free(a.matchers);
	return status;
}
