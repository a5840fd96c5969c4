/*
 * urltmpl.c - URL templates (see urltmpl.h).
 */
#include "config.h"

#include <string.h>

#include "lib/urltmpl.h"
#include "lib/xmalloc.h"

/* Percent-encodes s (RFC 3986 unreserved kept) onto out[*pos..len). */
static void url_escape(const char *s, char *out, size_t len, size_t *pos)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s && *pos + 4 < len; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			out[(*pos)++] = (char)c;
		} else {
			out[(*pos)++] = '%';
			out[(*pos)++] = hex[c >> 4];
			out[(*pos)++] = hex[c & 15];
		}
	}
}

/* Which placeholder p ("{name}...", close at its '}') names: 0..3, or -1. */
static int placeholder(const char *p, const char *close)
{
	static const char *const names[] = { "courier", "tracking", "email", "order" };

	for (int i = 0; close && i < 4; i++)
		if ((size_t)(close - p - 1) == strlen(names[i]) &&
		    strncmp(p + 1, names[i], strlen(names[i])) == 0)
			return i;
	return -1;
}

char *sw_url_expand(const char *tmpl, const char *courier, const char *tracking,
		    const char *email, const char *order)
{
	const char *vals[] = { courier, tracking, email, order };
	char out[SW_URL_MAX];
	size_t pos = 0;

	if (!tmpl || !*tmpl)
		return NULL;
	for (const char *p = tmpl; *p; p++) {
		const char *close = *p == '{' ? strchr(p, '}') : NULL;
		int which = placeholder(p, close);

		if (which >= 0) {
			if (!vals[which])
				return NULL; /* e.g. a tracking link before shipping */
			url_escape(vals[which], out, sizeof(out), &pos);
			p = close;
		} else if (pos + 1 < sizeof(out)) {
			out[pos++] = *p;
		}
		if (pos + 4 >= sizeof(out))
			return NULL;
	}
	out[pos] = '\0';
	return xstrdup(out);
}
