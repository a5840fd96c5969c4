/*
 * probe.c - what every kind of probe shares (probe.h): naming an instance
 * and the samples of one run.  Nothing here reads the table (table.c has
 * sw_probe_find), so a kind's tests link this file alone.
 *
 * The latencies are kept as they come and sorted on demand: a run has at
 * most SW_PROBE_SAMPLES_MAX of them, so an insertion sort is all it takes.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "probes/probe.h"

/* A catalogue segment: [A-Za-z0-9_.-]+, not starting with '.'. */
static bool segment_ok(const char *s)
{
	if (s[0] == '\0' || s[0] == '.')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-'))
			return false;
	return true;
}

bool sw_probe_name(const char *kind, const char *id, struct sw_probe_result *out)
{
	int n;

	out->name[0] = '\0';
	if (kind == NULL || kind[0] == '\0')
		return false;
	if (id == NULL || id[0] == '\0')
		n = snprintf(out->name, sizeof(out->name), "%s", kind);
	else
		n = snprintf(out->name, sizeof(out->name), "%s-%s", kind, id);
	if (n < 0 || (size_t)n >= sizeof(out->name) || !segment_ok(out->name)) {
		out->name[0] = '\0';
		return false;
	}
	return true;
}

void sw_probe_sample(struct sw_probe_result *out, bool ok, double latency_s)
{
	out->sent++;
	if (!ok || out->n_lat >= SW_PROBE_SAMPLES_MAX || !(latency_s >= 0)) {
		out->lost++;
		return;
	}
	out->lat[out->n_lat++] = latency_s;
}

double sw_probe_median(struct sw_probe_result *out)
{
	int n = out->n_lat;

	if (n <= 0)
		return -1;
	for (int i = 1; i < n; i++) {
		double v = out->lat[i];
		int j = i;

		for (; j > 0 && out->lat[j - 1] > v; j--)
			out->lat[j] = out->lat[j - 1];
		out->lat[j] = v;
	}
	return n % 2 ? out->lat[n / 2] : (out->lat[n / 2 - 1] + out->lat[n / 2]) / 2;
}
