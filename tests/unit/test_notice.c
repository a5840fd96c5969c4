/*
 * test_notice.c - unit tests for alerts/notice.c: one message per order
 * from its rows, here with cohort notices (struct sw_notice_cohort, which
 * notify.c sets): where a cohort row ranks, that a follow-up never is one,
 * and the built message in every shipped locale (the cohort template, the
 * cause from the stage, each parcel with its own slip's issue, the
 * incident in the facts).  Built on the shipped templates.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "alerts/notice.h"
#include "alerts/rules.h"
#include "alerts/template.h"
#include "lib/conf.h"
#include "lib/swtime.h"
#include "lib/xmalloc.h"
#include "tap.h"

#define NOW INT64_C(1800000000) /* 2027-01-15 08:00 UTC */

static struct sw_alerts_conf conf;
static struct sw_rules rules;
static struct sw_tpl_set *tpl;

static bool setup(void)
{
	static const char text[] = "[alerts]\nemail = yes\nshop_name = Kite\n"
				   "unsubscribe_url = https://s.example/u?e={email}\n"
				   "tracking_url = https://s.example/t/{courier}/{tracking}\n";
	const char *src = getenv("SW_SRCDIR");
	char *dir = xasprintf("%s/alerts/templates", src && *src ? src : ".");
	struct sw_conf *file;
	char err[1024] = "";
	enum sw_err rc;

	rc = sw_conf_load_string(text, "t.conf", &file, err, sizeof(err));
	if (rc == SW_OK) {
		rc = sw_rules_load(file, &conf, &rules, err, sizeof(err));
		sw_conf_free(file);
	}
	if (rc == SW_OK)
		rc = sw_tpl_load(dir, &tpl, err, sizeof(err));
	free(dir);
	if (!ok(rc == SW_OK, "configuration and shipped templates load"))
		printf("#   %s\n", err);
	return rc == SW_OK;
}

/* A row of order O-1 for parcel tn of courier dhl, kind kind. */
struct row {
	struct sw_outbox_msg m;
	char entity[64], vars[512];
};

static void row(struct row *r, int64_t id, const char *kind, const char *tn, const char *locale)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->entity, sizeof(r->entity), "parcel:dhl:%s", tn);
	snprintf(r->vars, sizeof(r->vars),
		 "{\"kind\":\"%s\",\"zone\":\"Asia/Kolkata\",\"locale\":\"%s\",\"name\":\"Asha\","
		 "\"warehouse_id\":\"w1\",\"order_id\":\"O-1\",\"courier\":\"dhl\","
		 "\"tracking\":\"%s\",\"promise_kind\":\"date\",\"promise_text\":\"2027-01-20\","
		 "\"promise_at\":1800400000}",
		 kind, locale, tn);
	r->m.id = id;
	r->m.entity = r->entity;
	r->m.slip_kind = kind;
	r->m.channel = "email";
	r->m.recipient = "asha@c.example";
	r->m.template_vars = r->vars;
	r->m.grp = "order:w1:O-1";
	r->m.created_at = NOW - 600;
}

static void part(struct sw_notice_part *p, const struct row *r)
{
	memset(p, 0, sizeof(*p));
	p->row = &r->m;
	p->vars = json_loads(r->m.template_vars, 0, NULL);
}

static void cohort(struct sw_notice_part *p, const char *stage)
{
	p->cohort.on = true;
	snprintf(p->cohort.rule, sizeof(p->cohort.rule), "lane-cohort");
	snprintf(p->cohort.subject, sizeof(p->cohort.subject), "lane=dhl/w1/IN_560");
	snprintf(p->cohort.stage, sizeof(p->cohort.stage), "%s", stage);
	p->cohort.incident = 3;
}

static void test_rank(void)
{
	struct row r[4];
	struct sw_notice_part p[4];
	enum sw_tpl_kind k;

	row(&r[0], 1, "late", "L1", "en");
	row(&r[1], 2, "stalled", "S1", "en");
	row(&r[2], 3, "attempt_fail", "A1", "en");
	row(&r[3], 4, "resolved_stalled", "S2", "en");
	for (int i = 0; i < 4; i++)
		part(&p[i], &r[i]);
	cohort(&p[1], "line_haul");
	cohort(&p[3], "line_haul"); /* notify never does this; notice.c holds anyway */
	snprintf(p[3].chk.news, sizeof(p[3].chk.news), "moving");
	ok(sw_notice_tpl_kind(&p[1], &k) == SW_OK && k == SW_TPL_COHORT,
	   "a cohort row's template is the cohort template");
	ok(sw_notice_tpl_kind(&p[3], &k) == SW_OK && k == SW_TPL_MOVING,
	   "a follow-up is never a cohort notice: its news");
	sw_notice_sort(p, 4);
	ok(strcmp(p[0].row->slip_kind, "attempt_fail") == 0 &&
	       strcmp(p[1].row->slip_kind, "stalled") == 0 &&
	       strcmp(p[2].row->slip_kind, "late") == 0,
	   "a cohort row ranks after what the customer must act on, before late");
	for (int i = 0; i < 4; i++)
		json_decref(p[i].vars);
}

/* The message of one cohort row (S1, stage) with a plain late row (L1) of
 * the same order, in locale. */
static void build(const char *locale, const char *stage, struct sw_notice_built *b, char *err,
		  size_t len, enum sw_err *rc)
{
	struct row r[2];
	struct sw_notice_part p[2];

	row(&r[0], 1, "stalled", "S1", locale);
	row(&r[1], 2, "late", "L1", locale);
	part(&p[0], &r[0]);
	part(&p[1], &r[1]);
	cohort(&p[0], stage);
	sw_notice_sort(p, 2);
	*rc = sw_notice_build(&conf, tpl, p, 2, NOW, b, err, len);
	json_decref(p[0].vars);
	json_decref(p[1].vars);
}

static void test_build_english(void)
{
	struct sw_notice_built b;
	json_t *facts, *c;
	char err[512] = "";
	enum sw_err rc;

	build("en-IN", "line_haul", &b, err, sizeof(err), &rc);
	if (!ok(rc == SW_OK, "a cohort message builds: %s", err)) {
		sw_notice_built_free(&b);
		return;
	}
	is_str(b.notice.subject, "Your order O-1 is delayed by a problem affecting many deliveries",
	       "the cohort template's subject");
	is_str(b.notice.kind, "cohort", "the notice's kind is cohort (the webhook's type)");
	ok(strstr(b.notice.text, "A problem at DHL's hubs is delaying deliveries to your area") !=
	       NULL,
	   "the cause from the stage that ran over (line haul)");
	ok(strstr(b.notice.text, "Parcel S1 (DHL) has not moved for a while.") &&
	       strstr(b.notice.text, "Parcel L1 (DHL) has not arrived by the promised date."),
	   "each parcel listed with its own slip's issue");
	if (!ok(strstr(b.notice.text, "We promised delivery by Wednesday, 20 January") != NULL,
		"the delivery promise, in the customer's English"))
		printf("# %s\n", b.notice.text);
	facts = json_loads(b.notice.facts_json, 0, NULL);
	c = json_object_get(facts, "cohort");
	ok(json_is_object(c) &&
	       strcmp(json_string_value(json_object_get(c, "rule")), "lane-cohort") == 0 &&
	       strcmp(json_string_value(json_object_get(c, "subject")), "lane=dhl/w1/IN_560") ==
		   0 &&
	       strcmp(json_string_value(json_object_get(c, "stage")), "line_haul") == 0 &&
	       json_integer_value(json_object_get(c, "incident")) == 3,
	   "the facts name the incident: rule, subject, stage, incident");
	ok(json_array_size(json_object_get(facts, "kinds")) == 2 &&
	       strcmp(json_string_value(json_array_get(json_object_get(facts, "kinds"), 0)),
		      "stalled") == 0,
	   "the facts' kinds are the slips'");
	json_decref(facts);
	sw_notice_built_free(&b);

	build("en", "courier", &b, err, sizeof(err), &rc);
	ok(rc == SW_OK && strstr(b.notice.text, "A problem affecting many deliveries like yours") &&
	       strstr(b.notice.facts_json, "\"stage\":\"unknown\""),
	   "a stage no template words (courier): the unknown cause");
	sw_notice_built_free(&b);
	build("en", "warehouse", &b, err, sizeof(err), &rc);
	ok(rc == SW_OK && strstr(b.notice.text, "Our warehouse is behind with dispatching orders"),
	   "warehouse: the warehouse's cause");
	sw_notice_built_free(&b);
}

/* Each shipped locale builds the cohort message for every stage, each in
 * its own words, and a customer's locale picks its language. */
static void test_build_locales(void)
{
	static const struct {
		const char *customer, *subject_has;
	} locs[] = {
	    {"hi-IN", "कई डिलीवरी पर असर डालने वाली एक समस्या"},
	    {"gu", "ઘણી ડિલિવરીને અસર કરતી એક સમસ્યાને"},
	    {"ne-NP", "धेरै डेलिभरीलाई असर गर्ने एउटा समस्याले"},
	    {"mr-IN", "is delayed by a problem affecting many deliveries"},
	};
	static const char *const stages[] = {"warehouse", "first_mile", "line_haul", "last_mile",
					     ""};

	for (size_t l = 0; l < sizeof(locs) / sizeof(locs[0]); l++) {
		char *seen[5] = {NULL};
		bool all = true, distinct = true;

		for (size_t s = 0; s < 5; s++) {
			struct sw_notice_built b;
			char err[512] = "";
			enum sw_err rc;

			build(locs[l].customer, stages[s], &b, err, sizeof(err), &rc);
			all = all && rc == SW_OK && strstr(b.notice.subject, locs[l].subject_has) &&
			      strstr(b.notice.text, "S1") && strstr(b.notice.text, "L1") &&
			      !strstr(b.notice.text, "{{");
			if (rc == SW_OK) {
				seen[s] = xstrdup(b.notice.text);
				for (size_t o = 0; o < s; o++)
					distinct = distinct && strcmp(seen[o], seen[s]) != 0;
			} else {
				printf("#   %s %s: %s\n", locs[l].customer, stages[s], err);
			}
			sw_notice_built_free(&b);
		}
		ok(all, "%s: the cohort message builds for every stage, in its language",
		   locs[l].customer);
		ok(distinct, "%s: each stage its own cause", locs[l].customer);
		for (size_t s = 0; s < 5; s++)
			free(seen[s]);
	}
}

int main(void)
{
	if (setup()) {
		test_rank();
		test_build_english();
		test_build_locales();
	}
	sw_tpl_free(tpl);
	sw_rules_free(&rules);
	sw_alerts_conf_free(&conf);
	sw_tz_cache_clear();
	return tap_done();
}
