/*
 * xmalloc.c - allocation wrappers that abort on exhaustion.
 *
 * The one place in lib/ that writes to stderr: there is no caller left to
 * return an error to when memory is gone.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xmalloc.h"

static void __attribute__((noreturn)) oom(size_t nmemb, size_t size)
{
	fprintf(stderr, "slipwatch: out of memory allocating %zu x %zu bytes\n",
		nmemb, size);
	abort();
}

void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (p == NULL)
		oom(1, size);
	return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (p == NULL)
		oom(nmemb, size);
	return p;
}

void *xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	size_t total;
	void *p;

	if (size != 0 && nmemb > SIZE_MAX / size)
		oom(nmemb, size);
	total = nmemb * size;
	p = realloc(ptr, total != 0 ? total : 1);
	if (p == NULL)
		oom(nmemb, size);
	return p;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = xmalloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *xvasprintf(const char *fmt, va_list ap)
{
	char *s;

	if (vasprintf(&s, fmt, ap) < 0)
		oom(1, strlen(fmt));
	return s;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}
