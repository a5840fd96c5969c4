/*
 * error.c - descriptions for enum sw_err.
 *
 * Tables indexed by the enum, checked for completeness at compile time.
 */
#include "config.h"

#include "lib/error.h"

static const char *const err_text[] = {
	[SW_OK] = "success",
	[SW_EINVAL] = "invalid argument or input",
	[SW_EPARSE] = "parse error",
	[SW_ERANGE] = "value out of range",
	[SW_ETOOBIG] = "input too large",
	[SW_ENOTFOUND] = "not found",
	[SW_EDUP] = "duplicate",
	[SW_EIO] = "I/O error",
	[SW_ESTORE] = "store error",
	[SW_ECONF] = "configuration error",
	[SW_EAGAIN] = "temporary failure",
	[SW_ETIMEOUT] = "timed out",
	[SW_EPROTO] = "protocol error",
	[SW_EAUTH] = "authentication failed",
	[SW_EVERSION] = "incompatible version",
};

static const char *const err_names[] = {
	[SW_OK] = "SW_OK",
	[SW_EINVAL] = "SW_EINVAL",
	[SW_EPARSE] = "SW_EPARSE",
	[SW_ERANGE] = "SW_ERANGE",
	[SW_ETOOBIG] = "SW_ETOOBIG",
	[SW_ENOTFOUND] = "SW_ENOTFOUND",
	[SW_EDUP] = "SW_EDUP",
	[SW_EIO] = "SW_EIO",
	[SW_ESTORE] = "SW_ESTORE",
	[SW_ECONF] = "SW_ECONF",
	[SW_EAGAIN] = "SW_EAGAIN",
	[SW_ETIMEOUT] = "SW_ETIMEOUT",
	[SW_EPROTO] = "SW_EPROTO",
	[SW_EAUTH] = "SW_EAUTH",
	[SW_EVERSION] = "SW_EVERSION",
};

_Static_assert(sizeof(err_text) / sizeof(err_text[0]) == SW_ELAST,
	       "err_text must describe every enum sw_err value");
_Static_assert(sizeof(err_names) / sizeof(err_names[0]) == SW_ELAST,
	       "err_names must name every enum sw_err value");

const char *sw_strerror(enum sw_err err)
{
	if ((unsigned)err >= SW_ELAST)
		return "unknown error";
	return err_text[err];
}

const char *sw_err_name(enum sw_err err)
{
	if ((unsigned)err >= SW_ELAST)
		return "SW_E?";
	return err_names[err];
}
