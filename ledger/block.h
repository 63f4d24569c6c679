/* Blocks and hashes (shared/spec/wire-format.md, section 5): the 96-byte
 * header, block_hash = H(header), and the Merkle root over tx ids. */
#ifndef TXG_BLOCK_H
#define TXG_BLOCK_H

#include <stddef.h>
#include <stdint.h>

#define TXG_HDR_LEN 96u
#define TXG_HASH_LEN 32u
#define TXG_BLOCK_VERSION 1u

struct txg_block_hdr {
	uint32_t version; /* 1 */
	uint32_t chain_id;
	uint64_t height; /* from 1 */
	uint64_t timestamp_ms;
	uint32_t tx_count;
	uint8_t prev_hash[TXG_HASH_LEN]; /* zero for height 1 */
	uint8_t tx_root[TXG_HASH_LEN];
};

/* Serialise h into its 96 wire bytes (reserved field written as 0). */
void txg_hdr_encode(const struct txg_block_hdr *h, uint8_t out[TXG_HDR_LEN]);
/* Parse 96 wire bytes; returns 0, or -1 if version or reserved is wrong. */
int txg_hdr_decode(const uint8_t in[TXG_HDR_LEN], struct txg_block_hdr *h);
/* block_hash = H(96-byte header). */
void txg_block_hash(const uint8_t hdr[TXG_HDR_LEN], uint8_t out[TXG_HASH_LEN]);

/* Merkle root over n >= 1 tx ids (leaf H(0x00||id), node H(0x01||l||r), an
 * odd last node carried up). scratch holds n hashes and is overwritten.
 * With n == 0 the root is 32 zero bytes. */
void txg_merkle_root(const uint8_t (*ids)[TXG_HASH_LEN], size_t n, uint8_t (*scratch)[TXG_HASH_LEN],
		     uint8_t root[TXG_HASH_LEN]);

#endif
