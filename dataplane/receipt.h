/* Receipt datagrams (shared/spec/wire-format.md, section 4): a packer that
 * fills one datagram for one destination, and the parser clients use.
 * Pure C, no DPDK, no allocation. Layout (integers little-endian):
 *   header  "TXR1" | version 1 | flags (bit 0 COOKIE) | count (>= 1)   8 bytes
 *   entry   tx_id 32 | status 1 | reserved 3 (0) | index 4 | height 8  48 bytes
 *   cookie  16 bytes after the last entry, only with flag COOKIE */
#ifndef TXG_RECEIPT_H
#define TXG_RECEIPT_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define TXG_RCPT_HDR_LEN 8u
#define TXG_RCPT_ENTRY_LEN 48u
#define TXG_RCPT_VERSION 1u
#define TXG_RCPT_F_COOKIE 0x01u
#define TXG_RCPT_MAX_COUNT 65535u /* what the count field holds */

/* One entry, decoded. height/index locate the transaction for committed and
 * for a duplicate of a committed one; 0 otherwise. */
struct txg_receipt_entry {
	uint8_t tx_id[TXG_ID_LEN];
	uint8_t status; /* enum txg_status */
	uint32_t index;
	uint64_t height;
};

/* Largest UDP payload in an IP packet of mtu bytes (the IP MTU: an 802.1Q
 * tag is outside it) for af 4 (20-byte header, no options) or 6 (40);
 * 0 if af is neither or mtu is too small. */
size_t txg_receipt_payload_max(unsigned mtu, unsigned af);

/* Most entries a datagram of at most cap payload bytes holds, with room for
 * a cookie if with_cookie; 0 if not even one fits. At MTU 1500: 30 over
 * IPv4 either way, 30 over IPv6 without a cookie and 29 with one. */
unsigned txg_receipt_max_entries(size_t cap, int with_cookie);

/* Packer for one datagram to one destination. */
struct txg_receipt_packer {
	uint8_t *buf;
	size_t cap;
	uint16_t count; /* entries added */
	uint16_t max;	/* txg_receipt_max_entries(cap, with_cookie) */
};

/* Start a datagram in buf[0..cap) (cap: the payload limit, e.g.
 * txg_receipt_payload_max); room for a cookie is kept if with_cookie. */
void txg_receipt_begin(struct txg_receipt_packer *pk, uint8_t *buf, size_t cap, int with_cookie);

/* Append an entry. Returns how many more still fit (0: the datagram is full,
 * finish it), or -1 if nothing was added: no room, status not a code
 * (>= TXG_ST_COUNT), or a location where the spec wants 0 (see the entry). */
int txg_receipt_add(struct txg_receipt_packer *pk, const struct txg_receipt_entry *e);

/* Write the header (and cookie[0..16) with flag COOKIE, if cookie is not NULL)
 * and return the datagram's length; 0 if it has no entry yet, or a cookie
 * was given and does not fit in cap (begin kept no room for it and the
 * entries took it). The packer may then begin again. */
size_t txg_receipt_finish(struct txg_receipt_packer *pk, const uint8_t *cookie);

/* Why a receipt datagram was refused by txg_receipt_parse. */
enum txg_receipt_err {
	TXG_RE_OK = 0,
	TXG_RE_SHORT,	 /* under the 8-byte header */
	TXG_RE_MAGIC,	 /* not "TXR1" */
	TXG_RE_VERSION,	 /* version is not 1 */
	TXG_RE_FLAGS,	 /* a flag bit other than COOKIE */
	TXG_RE_COUNT,	 /* count is 0 */
	TXG_RE_LENGTH,	 /* length is not 8 + 48 * count (+ 16 with COOKIE) */
	TXG_RE_RESERVED, /* an entry's reserved bytes are not 0 */
	TXG_RE_STATUS,	 /* an entry's status is not a code of section 3 */
	TXG_RE_LOCATION, /* committed at height 0, or a location on a status without one */
	TXG_RE_NUM
};

/* Name of a receipt error ("receipt_bad_magic", ...); "?" if out of range. */
const char *txg_receipt_err_name(unsigned e);

/* A parsed datagram; pointers alias it. */
struct txg_receipt_view {
	uint8_t flags;
	uint16_t count;
	const uint8_t *entries; /* count * 48 bytes */
	const uint8_t *cookie;	/* 16 bytes with COOKIE, else NULL */
};

/* Check a whole datagram p[0..len) and every entry in it. TXG_RE_OK with v
 * filled, or the first error (v then unspecified). Never reads outside p. */
enum txg_receipt_err txg_receipt_parse(const uint8_t *p, size_t len, struct txg_receipt_view *v);

/* Decode entry i (< v->count) of a parsed datagram. */
void txg_receipt_entry_get(const struct txg_receipt_view *v, unsigned i, struct txg_receipt_entry *e);

#endif
