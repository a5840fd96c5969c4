/*
 * fuzz_rules.c - fuzz target for the alert engine's settings
 * (alerts/rules.c): the input is a slipwatch.conf whose [alerts] and
 * [rule NAME] sections are loaded; a loaded set is then dumped, asked for
 * the rule of a few parcels, and asked about quiet hours in a few zones.
 * Nothing may crash, leak or read out of bounds; every error is one line
 * naming where; a picked rule is always one of the set.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/rules.h"
#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(const struct sw_alerts_conf *c, const struct sw_rules *r)
{
	static const char *const wh[] = { NULL, "blr1", "del2" };
	static const char *const cour[] = { NULL, "dhl", "fedex" };
	static const char *const sl[] = { NULL, "express", "standard" };
	static const char *const zones[] = { "UTC", "Asia/Kolkata", "America/New_York", NULL };
	struct sw_buf out;

	for (int i = 0; i < 27; i++) {
		const struct sw_rule *p = sw_rules_pick(r, wh[i % 3], cour[i / 3 % 3], sl[i / 9]);

		if (p < r->rules || p >= r->rules + r->n)
			abort();
	}
	for (int z = 0; z < 4; z++) {
		int64_t until;

		sw_rules_quiet_until(c, zones[z], 1795000000 + z * 7919, &until, NULL);
		if (until < 1795000000 + z * 7919 || until > 1795000000 + z * 7919 + 86400)
			abort();
	}
	sw_buf_init(&out, 1 << 16);
	sw_rules_dump(c, r, &out);
	sw_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sw_alerts_conf c;
	struct sw_rules r;
	struct sw_conf *conf;
	char *text = xstrndup((const char *)data, size);
	char err[512] = "";

	if (sw_conf_load_string(text, "fuzz.conf", &conf, err, sizeof(err)) == SW_OK) {
		if (sw_rules_load(conf, &c, &r, err, sizeof(err)) == SW_OK) {
			exercise(&c, &r);
			sw_alerts_conf_free(&c);
			sw_rules_free(&r);
		} else if (strchr(err, '\n') || strncmp(err, "fuzz.conf", 9) != 0) {
			abort(); /* one line, naming the file */
		}
		sw_conf_free(conf);
	}
	free(text);
	return 0;
}
