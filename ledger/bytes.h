/* Little-endian loads and stores of the spec's integer fields, at any
 * alignment. The one copy for every layer. */
#ifndef TXG_BYTES_H
#define TXG_BYTES_H

#include <stdint.h>

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

#endif
