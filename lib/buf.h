/*
 * buf.h - a growable byte buffer with an explicit maximum.
 *
 * Anything read from the network (HTTP bodies, MQTT payload copies, SMTP
 * replies) goes into a struct sw_buf whose max is set at init: appending past
 * it fails with SW_ETOOBIG and leaves the buffer unchanged (curl's dynbuf).
 * The content is always NUL-terminated (the NUL is not counted in len and
 * does not count against max), so text can be handed to string functions.
 * The struct is public so that it can live inside other structs; treat the
 * fields as read-only outside buf.c.
 */
#ifndef SW_BUF_H
#define SW_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "lib/error.h"

struct sw_buf {
	char *data;   /* NULL until the first append; NUL-terminated after */
	size_t len;   /* bytes used, excluding the terminating NUL */
	size_t alloc; /* bytes allocated */
	size_t max;   /* most bytes len may ever reach */
};

/* Sets up an empty buffer holding at most max bytes.  No allocation. */
void sw_buf_init(struct sw_buf *b, size_t max);

/* Appends len bytes.  SW_ETOOBIG if the result would exceed max (buffer
 * unchanged), else SW_OK. */
enum sw_err sw_buf_add(struct sw_buf *b, const void *data, size_t len);

/* Appends a C string (without its NUL).  As sw_buf_add. */
enum sw_err sw_buf_adds(struct sw_buf *b, const char *s);

/* Appends formatted text.  SW_ETOOBIG if it would not fit (unchanged). */
enum sw_err sw_buf_printf(struct sw_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Returns the content as a C string: "" for an empty buffer, never NULL.
 * Valid until the next append, reset or free. */
const char *sw_buf_str(const struct sw_buf *b);

/* Empties the buffer, keeping its allocation and max. */
void sw_buf_reset(struct sw_buf *b);

/* Hands the content to the caller (free() it; never NULL) and leaves the
 * buffer empty with the same max. */
char *sw_buf_steal(struct sw_buf *b, size_t *ret_len);

/* Releases the allocation; the buffer is empty and may be reused. */
void sw_buf_free(struct sw_buf *b);

#endif /* SW_BUF_H */
