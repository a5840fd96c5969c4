/*
 * utf8.h - strict UTF-8 decoding, shared by everything that checks or
 * escapes text from outside (log lines, templates, email headers, the CLI's
 * terminal output).
 */
#ifndef SW_UTF8_H
#define SW_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * The length (1..4) of the valid UTF-8 sequence at s, where n (>= 1) bytes
 * are available, and its code point in *ret_cp (may be NULL); 0 if the
 * bytes there are not valid UTF-8: a stray continuation byte, an overlong
 * form, a surrogate, a code point above U+10FFFF, or a sequence cut short
 * by n.  Pure, safe anywhere.
 */
size_t sw_utf8_decode(const unsigned char *s, size_t n, uint32_t *ret_cp);

#endif /* SW_UTF8_H */
