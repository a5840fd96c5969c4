/*
 * urltmpl.h - links built from a configured URL template, the one way the
 * customer emails ([alerts] tracking_url, unsubscribe_url) and the
 * dashboard's tables (tracking links) fill them in.
 *
 * A template is any text with placeholders {courier}, {tracking},
 * {email} and {order}; each is replaced by its value percent-encoded
 * (RFC 3986: only unreserved characters A-Z a-z 0-9 - . _ ~ are kept), so
 * no value can add a path segment, a query or markup.  Any other brace
 * text is copied as written.  Pure, thread-safe.
 */
#ifndef SW_URLTMPL_H
#define SW_URLTMPL_H

#define SW_URL_MAX 2048 /* longest expanded link, bytes with the NUL */

/*
 * The link of tmpl with the values (each may be NULL: not known) as a new
 * string; NULL when tmpl is NULL or "", when it names a value that is not
 * known (a tracking link before the parcel shipped), or when the result
 * would not fit SW_URL_MAX.
 */
char *sw_url_expand(const char *tmpl, const char *courier, const char *tracking,
		    const char *email, const char *order);

#endif /* SW_URLTMPL_H */
