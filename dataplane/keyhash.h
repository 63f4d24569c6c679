/* The rte_hash function for 32-byte keys (tx ids, public keys): CRC32-C
 * over four 8-byte words loaded with memcpy, since keys are read straight
 * from packets at any alignment (rte_hash_crc itself loads aligned words). */
#ifndef TXG_KEYHASH_H
#define TXG_KEYHASH_H

#include <stdint.h>
#include <string.h>

#include <rte_hash_crc.h>

static inline uint32_t txg_key_hash(const void *key, uint32_t len, uint32_t init)
{
	const uint8_t *p = key;
	uint32_t h = init;
	uint32_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		h = rte_hash_crc_8byte(w, h);
	}
	for (; i < len; i++)
		h = rte_hash_crc_1byte(p[i], h);
	return h;
}

#endif
