/* Wire format v1 (shared/spec/wire-format.md, sections 2-3): frames,
 * transaction records, statuses and tx ids. Pure C, no DPDK: used by the
 * data path, the ledger, txgen and txgatectl alike. */
#ifndef TXG_WIRE_H
#define TXG_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define TXG_FRAME_HDR_LEN 8u
#define TXG_FRAME_MAX_RECS 255u
#define TXG_FRAME_VERSION 1u
#define TXG_FRAME_F_RECEIPT 0x01u
#define TXG_FRAME_F_ADMIT 0x02u
#define TXG_BODY_MIN 56u
#define TXG_BODY_VERSION 1u
#define TXG_SIG_LEN 64u
#define TXG_KEY_LEN 32u
#define TXG_ID_LEN 32u
#define TXG_REC_OVERHEAD (2u + TXG_SIG_LEN) /* body_len field + signature */
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
	TXG_FE_SHORT,      /* payload shorter than the 8-byte frame header */
	TXG_FE_MAGIC,      /* magic is not "TXI1" */
	TXG_FE_VERSION,    /* version is not 1 */
	TXG_FE_FLAGS,      /* a flag bit other than RECEIPT/ADMIT is set */
	TXG_FE_COUNT,      /* count is 0 */
	TXG_FE_BODY_SHORT, /* a record's body_len is under 56 */
	TXG_FE_OVERRUN,    /* a record runs past the end of the payload */
	TXG_FE_TRAILING,   /* bytes left over after the last record */
	TXG_FE_NUM
};

/* Counter name of a frame error ("frame_bad_magic", ...). */
const char *txg_frame_err_name(unsigned e);

/* One record inside a frame; pointers alias the frame's bytes. */
struct txg_rec_view {
	const uint8_t *rec;  /* start of the record (its body_len field) */
	const uint8_t *body; /* rec + 2 */
	const uint8_t *sig;  /* body + body_len */
	uint16_t body_len;
	uint32_t rec_len; /* 2 + body_len + 64 */
};

struct txg_frame_view {
	uint8_t flags;
	uint16_t count;
};

/* Check a whole frame and list its records into recs[0..count) (recs has
 * room for TXG_FRAME_MAX_RECS). Returns TXG_FE_OK or the first error; on
 * error no record may be used. Never reads outside p[0..len). */
enum txg_frame_err txg_frame_parse(const uint8_t *p, size_t len, struct txg_frame_view *fv,
				   struct txg_rec_view *recs);

/* Check one stand-alone record of exactly len bytes (as stored in the
 * ledger). Returns 0 and fills rv, or -1 if it is not a well-formed record. */
int txg_record_view(const uint8_t *p, size_t len, struct txg_rec_view *rv);

static inline uint16_t txg_ld16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t txg_ld32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t txg_ld64(const uint8_t *p) { return (uint64_t)txg_ld32(p) | ((uint64_t)txg_ld32(p + 4) << 32); }
static inline void txg_st16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}
static inline void txg_st32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline void txg_st64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Body field accessors; body must be at least TXG_BODY_MIN bytes. */
static inline uint8_t txg_body_version(const uint8_t *b) { return b[0]; }
static inline uint8_t txg_body_kind(const uint8_t *b) { return b[1]; }
static inline uint16_t txg_body_flags(const uint8_t *b) { return txg_ld16(b + 2); }
static inline uint32_t txg_body_chain(const uint8_t *b) { return txg_ld32(b + 4); }
static inline uint64_t txg_body_nonce(const uint8_t *b) { return txg_ld64(b + 8); }
static inline uint64_t txg_body_expires(const uint8_t *b) { return txg_ld64(b + 16); }
static inline const uint8_t *txg_body_sender(const uint8_t *b) { return b + 24; }

/* Fields of a body to encode. */
struct txg_body_fields {
	uint8_t version; /* 1 */
	uint8_t kind;
	uint16_t flags; /* 0 */
	uint32_t chain_id;
	uint64_t nonce;
	uint64_t expires_ms;
	uint8_t sender[TXG_KEY_LEN];
};

/* Write a body (56 + plen bytes) to out; returns its length. */
size_t txg_body_encode(uint8_t *out, const struct txg_body_fields *f, const uint8_t *payload, size_t plen);

/* Write a signed record (body_len, body, sig) to out, signing with the
 * 64-byte libsodium secret key sk. Returns its length, or 0 if cap is too
 * small or plen makes body_len exceed 65535. */
size_t txg_record_encode(uint8_t *out, size_t cap, const struct txg_body_fields *f, const uint8_t *payload,
			 size_t plen, const uint8_t sk[64]);

/* Write a frame header (magic, version 1, flags, count) to out[0..8). */
void txg_frame_header(uint8_t *out, uint8_t flags, uint16_t count);

/* tx_id = H(body) (BLAKE2b-256, unkeyed). */
void txg_tx_id(const uint8_t *body, size_t body_len, uint8_t out[TXG_ID_LEN]);

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

/* Hex helpers for tools and tests. */
void txg_hex(const uint8_t *in, size_t n, char *out /* 2n+1 */);
/* Value of one hex digit, or -1. */
int txg_hexval(int c);
/* Decode s, which must be exactly 2n hex digits, into n bytes. 0 or -1. */
int txg_unhex(const char *s, uint8_t *out, size_t n);

#endif
