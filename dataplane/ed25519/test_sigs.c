/* Test helpers for crafted Ed25519 signatures (see test_sigs.h). */
#include "test_sigs.h"

#include <sodium.h>
#include <string.h>

const uint8_t tsig_L[32] = {
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
    0xa2, 0xde, 0xf9, 0xde, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10
};

#define FF8 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
#define FF30 FF8, FF8, FF8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
#define ORD8_A 0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, \
    0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, \
    0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc
#define ORD8_B 0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, \
    0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, \
    0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03

const uint8_t tsig_small_enc[TSIG_N_SMALL][32] = {
    { 0x00 }, { [31] = 0x80 },                   /* y = 0 */
    { 0x01 }, { 0x01, [31] = 0x80 },             /* y = 1 */
    { 0xec, FF30, 0x7f }, { 0xec, FF30, 0xff },  /* y = p-1 */
    { ORD8_A, 0x05 }, { ORD8_A, 0x85 },          /* order 8 */
    { ORD8_B, 0x7a }, { ORD8_B, 0xfa },          /* order 8 */
    { 0xed, FF30, 0x7f }, { 0xed, FF30, 0xff },  /* y = p (non-canonical 0) */
    { 0xee, FF30, 0x7f }, { 0xee, FF30, 0xff },  /* y = p+1 (non-canonical 1) */
};

const uint8_t tsig_torsion[TSIG_N_TORSION][32] = {
    { 0x01 },                                    /* identity */
    { 0xec, FF30, 0x7f },                        /* order 2 */
    { 0x00 }, { [31] = 0x80 },                   /* order 4 */
    { ORD8_A, 0x05 }, { ORD8_A, 0x85 },          /* order 8 */
    { ORD8_B, 0x7a }, { ORD8_B, 0xfa },
};

uint64_t tsig_next(struct tsig_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void tsig_fill(struct tsig_rng *r, uint8_t *buf, size_t n)
{
    while (n > 0) {
        uint64_t v = tsig_next(r);
        size_t k = n < 8 ? n : 8;
        memcpy(buf, &v, k);
        buf += k;
        n -= k;
    }
}

void tsig_key_from_seed(struct tsig_key *k, const uint8_t seed[32])
{
    uint8_t h[64];
    memcpy(k->seed, seed, 32);
    crypto_sign_seed_keypair(k->pk, k->sk, seed);
    crypto_hash_sha512(h, seed, 32);
    h[0] &= 248;
    h[31] &= 127;
    h[31] |= 64;
    memset(h + 32, 0, 32);
    crypto_core_ed25519_scalar_reduce(k->a, h);
}

void tsig_sign(uint8_t sig[64], const struct tsig_key *k, const uint8_t *msg,
               size_t len)
{
    crypto_sign_detached(sig, NULL, msg, len, k->sk);
}

static void hram(uint8_t hr[32], const uint8_t R[32], const uint8_t pk[32],
                 const uint8_t *msg, size_t len)
{
    crypto_hash_sha512_state hs;
    uint8_t h[64];
    crypto_hash_sha512_init(&hs);
    crypto_hash_sha512_update(&hs, R, 32);
    crypto_hash_sha512_update(&hs, pk, 32);
    crypto_hash_sha512_update(&hs, msg, len);
    crypto_hash_sha512_final(&hs, h);
    crypto_core_ed25519_scalar_reduce(hr, h);
}

int tsig_sign_with_r(uint8_t sig[64], const struct tsig_key *k,
                     const uint8_t *msg, size_t len, const uint8_t r[32],
                     const uint8_t *T)
{
    uint8_t R[32], h[32], ha[32];
    if (crypto_scalarmult_ed25519_base_noclamp(R, r) != 0)
        return -1;
    if (T != NULL && crypto_core_ed25519_add(R, R, T) != 0)
        return -1;
    hram(h, R, k->pk, msg, len);
    crypto_core_ed25519_scalar_mul(ha, h, k->a);
    memcpy(sig, R, 32);
    crypto_core_ed25519_scalar_add(sig + 32, r, ha);
    return 0;
}

void tsig_sign_identity_eq(uint8_t sig[64], const struct tsig_key *k,
                           const uint8_t *msg, size_t len,
                           const uint8_t R[32])
{
    uint8_t h[32];
    hram(h, R, k->pk, msg, len);
    memcpy(sig, R, 32);
    crypto_core_ed25519_scalar_mul(sig + 32, h, k->a);
}

int tsig_add256(uint8_t r[32], const uint8_t a[32], const uint8_t b[32])
{
    unsigned c = 0;
    for (int i = 0; i < 32; i++) {
        c += (unsigned)a[i] + b[i];
        r[i] = (uint8_t)c;
        c >>= 8;
    }
    return (int)c;
}

void tsig_rand_scalar(struct tsig_rng *rng, uint8_t s[32])
{
    uint8_t wide[64];
    do {
        tsig_fill(rng, wide, 64);
        crypto_core_ed25519_scalar_reduce(s, wide);
    } while (sodium_is_zero(s, 32));
}
