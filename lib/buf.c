/*
 * buf.c - bounded growable buffer.
 *
 * Growth doubles the allocation, clamped to max + 1 (for the NUL), so a
 * buffer never allocates more than its maximum allows.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/xmalloc.h"

void sw_buf_init(struct sw_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	b->max = max;
}

static void buf_reserve(struct sw_buf *b, size_t need)
{
	size_t n = b->alloc ? b->alloc : 64;

	if (need <= b->alloc)
		return;
	while (n < need)
		n *= 2;
	if (n > b->max + 1)
		n = b->max + 1;
	b->data = xreallocarray(b->data, n, 1);
	b->alloc = n;
}

enum sw_err sw_buf_add(struct sw_buf *b, const void *data, size_t len)
{
	if (len > b->max - b->len)
		return SW_ETOOBIG;
	buf_reserve(b, b->len + len + 1);
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return SW_OK;
}

enum sw_err sw_buf_adds(struct sw_buf *b, const char *s)
{
	return sw_buf_add(b, s, strlen(s));
}

enum sw_err sw_buf_printf(struct sw_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *tmp;
	enum sw_err rc;

	va_start(ap, fmt);
	n = vasprintf(&tmp, fmt, ap);
	va_end(ap);
	if (n < 0)
		return SW_EIO;
	rc = sw_buf_add(b, tmp, (size_t)n);
	free(tmp);
	return rc;
}

const char *sw_buf_str(const struct sw_buf *b)
{
	return b->data ? b->data : "";
}

void sw_buf_reset(struct sw_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

char *sw_buf_steal(struct sw_buf *b, size_t *ret_len)
{
	char *p = b->data ? b->data : xstrdup("");

	if (ret_len)
		*ret_len = b->len;
	sw_buf_init(b, b->max);
	return p;
}

void sw_buf_free(struct sw_buf *b)
{
	free(b->data);
	sw_buf_init(b, b->max);
}
