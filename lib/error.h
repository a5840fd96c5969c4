/*
 * error.h - the one error enum shared by every slipwatch module.
 *
 * Functions return enum sw_err; SW_OK is 0 so "if (rc)" reads naturally.
 * Library code never prints: it returns one of these and, where a library
 * gave a message of its own, hands that text to the caller (see each
 * module's header).  sw_strerror() gives a short fixed English phrase.
 */
#ifndef SW_ERROR_H
#define SW_ERROR_H

enum sw_err {
	SW_OK = 0,
	SW_EINVAL,    /* bad argument or malformed input */
	SW_EPARSE,    /* input could not be parsed */
	SW_ERANGE,    /* value out of its allowed range */
	SW_ETOOBIG,   /* input exceeds its explicit maximum */
	SW_ENOTFOUND, /* the thing asked for does not exist */
	SW_EDUP,      /* already present; the operation was a no-op */
	SW_EIO,       /* an I/O or system call failed (see errno) */
	SW_ESTORE,    /* the store (database) failed */
	SW_ECONF,     /* configuration is invalid */
	SW_EAGAIN,    /* temporary failure, try again later */
	SW_ETIMEOUT,  /* operation timed out */
	SW_EPROTO,    /* peer spoke the protocol wrongly */
	SW_EAUTH,     /* authentication failed or credentials missing */
	SW_EVERSION,  /* incompatible version (schema, file layout) */
	SW_ELAST      /* sentinel, not an error */
};

/* Returns a static, never-NULL description of err; unknown values give
 * "unknown error".  Safe anywhere, including signal handlers. */
const char *sw_strerror(enum sw_err err);

/* Returns the enum's identifier ("SW_EDUP") for logs and tests. */
const char *sw_err_name(enum sw_err err);

#endif /* SW_ERROR_H */
