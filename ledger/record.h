/* Transaction records (shared/spec/wire-format.md, section 3): the record
 * (body_len | body | signature), the body's fields, and tx_id = H(body).
 * Pure C on libsodium: used by the ledger, the data path and the tools. */
#ifndef TXG_RECORD_H
#define TXG_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "bytes.h"

#define TXG_BODY_MIN 56u
#define TXG_BODY_VERSION 1u
#define TXG_SIG_LEN 64u
#define TXG_KEY_LEN 32u
#define TXG_ID_LEN 32u
#define TXG_REC_OVERHEAD (2u + TXG_SIG_LEN) /* body_len field + signature */

/* One record; pointers alias the bytes it was read from. */
struct txg_rec_view {
	const uint8_t *rec;  /* start of the record (its body_len field) */
	const uint8_t *body; /* rec + 2 */
	const uint8_t *sig;  /* body + body_len */
	uint16_t body_len;
	uint32_t rec_len; /* 2 + body_len + 64 */
};

/* Check one stand-alone record of exactly len bytes (as stored in the
 * ledger). Returns 0 and fills rv, or -1 if it is not a well-formed record. */
int txg_record_view(const uint8_t *p, size_t len, struct txg_rec_view *rv);

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

/* tx_id = H(body) (BLAKE2b-256, unkeyed). */
void txg_tx_id(const uint8_t *body, size_t body_len, uint8_t out[TXG_ID_LEN]);

#endif
