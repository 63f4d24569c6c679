/* Hex encoding of ids, keys and records for tools, files and tests. */
#ifndef TXG_HEX_H
#define TXG_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Write in[0..n) as 2n lower-case hex digits and a NUL to out. */
void txg_hex(const uint8_t *in, size_t n, char *out /* 2n+1 */);
/* Value of one hex digit, or -1. */
int txg_hexval(int c);
/* Decode s, which must be exactly 2n hex digits, into n bytes. 0 or -1. */
int txg_unhex(const char *s, uint8_t *out, size_t n);

#endif
