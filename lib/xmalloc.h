/*
 * xmalloc.h - allocation that never returns NULL.
 *
 * Out of memory is not a recoverable condition for a slipwatch daemon: these
 * wrappers print one line to stderr and abort(), so call sites never check
 * for NULL (the tmux/redis convention).  Free with plain free().
 */
#ifndef SW_XMALLOC_H
#define SW_XMALLOC_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
/* Like reallocarray(3): nmemb * size, overflow-checked. */
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
/* Duplicates at most n bytes of s and NUL-terminates. */
char *xstrndup(const char *s, size_t n);
/* Formats into a new string; never NULL. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

#endif /* SW_XMALLOC_H */
