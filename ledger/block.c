/* Block header encoding, block hash and Merkle root (spec section 5). */
#include "block.h"

#include <sodium.h>
#include <string.h>

#include "bytes.h"

void txg_hdr_encode(const struct txg_block_hdr *h, uint8_t out[TXG_HDR_LEN])
{
	txg_st32(out, h->version);
	txg_st32(out + 4, h->chain_id);
	txg_st64(out + 8, h->height);
	txg_st64(out + 16, h->timestamp_ms);
	txg_st32(out + 24, h->tx_count);
	txg_st32(out + 28, 0);
	memcpy(out + 32, h->prev_hash, TXG_HASH_LEN);
	memcpy(out + 64, h->tx_root, TXG_HASH_LEN);
}

int txg_hdr_decode(const uint8_t in[TXG_HDR_LEN], struct txg_block_hdr *h)
{
	h->version = txg_ld32(in);
	h->chain_id = txg_ld32(in + 4);
	h->height = txg_ld64(in + 8);
	h->timestamp_ms = txg_ld64(in + 16);
	h->tx_count = txg_ld32(in + 24);
	memcpy(h->prev_hash, in + 32, TXG_HASH_LEN);
	memcpy(h->tx_root, in + 64, TXG_HASH_LEN);
	return (h->version == TXG_BLOCK_VERSION && txg_ld32(in + 28) == 0) ? 0 : -1;
}

void txg_block_hash(const uint8_t hdr[TXG_HDR_LEN], uint8_t out[TXG_HASH_LEN])
{
	crypto_generichash(out, TXG_HASH_LEN, hdr, TXG_HDR_LEN, NULL, 0);
}

static void hash_node(uint8_t tag, const uint8_t *a, const uint8_t *b, uint8_t out[TXG_HASH_LEN])
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, TXG_HASH_LEN);
	crypto_generichash_update(&st, &tag, 1);
	crypto_generichash_update(&st, a, TXG_HASH_LEN);
	if (b)
		crypto_generichash_update(&st, b, TXG_HASH_LEN);
	crypto_generichash_final(&st, out, TXG_HASH_LEN);
}

void txg_merkle_root(const uint8_t (*ids)[TXG_HASH_LEN], size_t n, uint8_t (*scratch)[TXG_HASH_LEN],
		     uint8_t root[TXG_HASH_LEN])
{
	if (n == 0) {
		memset(root, 0, TXG_HASH_LEN);
		return;
	}
	for (size_t i = 0; i < n; i++)
		hash_node(0x00, ids[i], NULL, scratch[i]);
	while (n > 1) {
		size_t m = 0;
		for (size_t i = 0; i + 1 < n; i += 2)
			hash_node(0x01, scratch[i], scratch[i + 1], scratch[m++]);
		if (n & 1)
			memmove(scratch[m++], scratch[n - 1], TXG_HASH_LEN);
		n = m;
	}
	memcpy(root, scratch[0], TXG_HASH_LEN);
}
