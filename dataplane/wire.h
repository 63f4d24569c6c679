/* Wire format v1 (shared/spec/wire-format.md, sections 2-3): frames,
 * record statuses and the stateless judgement rules, on top of the
 * ledger's record codec (record.h). Pure C, no DPDK: used by the data path,
 * txgen and the tools. */
#ifndef TXG_WIRE_H
#define TXG_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bytes.h"
#include "hex.h"
#include "record.h"

#define TXG_FRAME_HDR_LEN 8u	     /* magic, version, flags, count */
#define TXG_COOKIE_LEN 16u	     /* a cookie (spec section 6), in frames and receipts */
#define TXG_FRAME_HDR_COOKIE_LEN 24u /* the header followed by a cookie */
#define TXG_FRAME_MAX_RECS 255u
#define TXG_FRAME_VERSION 1u
#define TXG_FRAME_F_RECEIPT 0x01u
#define TXG_FRAME_F_ADMIT 0x02u
#define TXG_FRAME_F_COOKIE 0x04u /* a 16-byte cookie follows the header; records start at 24 */
#define TXG_FRAME_F_KNOWN (TXG_FRAME_F_RECEIPT | TXG_FRAME_F_ADMIT | TXG_FRAME_F_COOKIE)
#define TXG_DEFAULT_UDP_PORT 7400u

/* Record statuses and their wire codes (spec section 3). */
enum txg_status {
	TXG_ST_COMMITTED = 0,
	TXG_ST_DUPLICATE = 1,
	TXG_ST_BAD_SIGNATURE = 2,
	TXG_ST_UNKNOWN_SENDER = 3,
	TXG_ST_EXPIRED = 4,
	TXG_ST_EXPIRY_TOO_FAR = 5,
	TXG_ST_WRONG_CHAIN = 6,
	TXG_ST_RATE_LIMITED = 7,
	TXG_ST_OVERLOADED = 8,
	TXG_ST_MALFORMED = 9,
	TXG_ST_ACCEPTED = 10,
	TXG_ST_COUNT = 11
};

/* Name of a status ("committed", "bad_signature", ...); "?" if out of range. */
const char *txg_status_name(unsigned st);
/* Status code for a name, or -1 if unknown. */
int txg_status_from_name(const char *name);

/* Why a whole frame was refused (spec section 2); each has a counter. */
enum txg_frame_err {
	TXG_FE_OK = 0,
	TXG_FE_SHORT,      /* payload shorter than the frame header: 8 bytes, or 24 with
			    * COOKIE (a cut cookie; judged after magic..count, in offset order) */
	TXG_FE_MAGIC,      /* magic is not "TXI1" */
	TXG_FE_VERSION,    /* version is not 1 */
	TXG_FE_FLAGS,      /* a flag bit other than RECEIPT/ADMIT/COOKIE (bits 3..7) is set */
	TXG_FE_COUNT,      /* count is 0 or over 255 */
	TXG_FE_BODY_SHORT, /* a record's body_len is under 56 */
	TXG_FE_OVERRUN,    /* a record runs past the end of the payload */
	TXG_FE_TRAILING,   /* bytes left over after the last record */
	TXG_FE_NUM
};

/* Counter name of a frame error ("frame_bad_magic", ...). */
const char *txg_frame_err_name(unsigned e);

struct txg_frame_view {
	uint8_t flags;
	uint16_t count;
	const uint8_t *cookie; /* the frame's 16 cookie bytes (aliasing it) with COOKIE, else NULL */
};

/* Check a whole frame and list its records into recs[0..count) (recs has
 * room for TXG_FRAME_MAX_RECS). Returns TXG_FE_OK or the first error; on
 * error no record may be used. Never reads outside p[0..len). The cookie is
 * only located, not judged: a wrong one is the caller's business (section 6). */
enum txg_frame_err txg_frame_parse(const uint8_t *p, size_t len, struct txg_frame_view *fv,
				   struct txg_rec_view *recs);

/* Write a frame header (magic, version 1, flags, count) to out[0..8);
 * flags should not have COOKIE (use txg_frame_header_cookie). */
void txg_frame_header(uint8_t *out, uint8_t flags, uint16_t count);

/* Write a header with flags | COOKIE followed by cookie[0..16) to
 * out[0..24). Returns TXG_FRAME_HDR_COOKIE_LEN (where the records go). */
size_t txg_frame_header_cookie(uint8_t *out, uint8_t flags, uint16_t count, const uint8_t *cookie);

/* Record the judgement rules 1-4 of spec section 3 that need no state:
 * malformed, wrong_chain, expired, expiry_too_far. Returns the status or
 * TXG_ST_COMMITTED if the record passes them. */
static inline unsigned txg_check_static(const uint8_t *body, uint32_t chain_id, uint64_t now_ms, uint64_t max_ttl_ms)
{
	if (txg_body_version(body) != TXG_BODY_VERSION || txg_body_flags(body) != 0)
		return TXG_ST_MALFORMED;
	if (txg_body_chain(body) != chain_id)
		return TXG_ST_WRONG_CHAIN;
	uint64_t exp = txg_body_expires(body);
	if (exp <= now_ms)
		return TXG_ST_EXPIRED;
	if (exp - now_ms > max_ttl_ms)
		return TXG_ST_EXPIRY_TOO_FAR;
	return TXG_ST_COMMITTED;
}

#endif
