/* Deterministic pseudo-random numbers for txgen (xoshiro256**, seeded by
 * splitmix64): the same seed gives the same traffic. Not for keys that
 * must be secret. */
#ifndef TXGEN_RNG_H
#define TXGEN_RNG_H

#include <stddef.h>
#include <stdint.h>

struct tg_rng {
	uint64_t s[4];
};

static inline uint64_t tg_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Seed the generator from one 64-bit value. */
static inline void tg_rng_seed(struct tg_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = tg_splitmix64(&seed);
}

static inline uint64_t tg_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* Next 64 random bits. */
static inline uint64_t tg_rng_next(struct tg_rng *r)
{
	uint64_t *s = r->s;
	uint64_t res = tg_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = tg_rotl(s[3], 45);
	return res;
}

/* Uniform-enough value in [0, n); n must be > 0. */
static inline uint64_t tg_rng_below(struct tg_rng *r, uint64_t n) { return tg_rng_next(r) % n; }

/* Value in [lo, hi], lo <= hi. */
static inline uint64_t tg_rng_range(struct tg_rng *r, uint64_t lo, uint64_t hi)
{
	return lo + (hi - lo == UINT64_MAX ? tg_rng_next(r) : tg_rng_below(r, hi - lo + 1));
}

/* Double in [0, 1). */
static inline double tg_rng_unit(struct tg_rng *r) { return (double)(tg_rng_next(r) >> 11) * (1.0 / 9007199254740992.0); }

/* Fill buf with n random bytes. */
static inline void tg_rng_bytes(struct tg_rng *r, uint8_t *buf, size_t n)
{
	while (n) {
		uint64_t v = tg_rng_next(r);
		for (int i = 0; i < 8 && n; i++, n--, v >>= 8)
			*buf++ = (uint8_t)v;
	}
}

#endif
