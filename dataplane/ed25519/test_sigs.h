/* Test helpers: deterministic keys and signatures, including crafted ones
 * (chosen R, mixed-order R, small-order R) built with libsodium's own
 * point and scalar operations. Used by the tests, fuzzer and benchmark. */
#ifndef TXG_ED_TEST_SIGS_H
#define TXG_ED_TEST_SIGS_H

#include <stddef.h>
#include <stdint.h>

/* splitmix64-based deterministic generator. */
struct tsig_rng { uint64_t s; };
uint64_t tsig_next(struct tsig_rng *r);
void tsig_fill(struct tsig_rng *r, uint8_t *buf, size_t n);

struct tsig_key {
    uint8_t seed[32];
    uint8_t pk[32];
    uint8_t sk[64];
    uint8_t a[32];      /* secret scalar, reduced mod L */
};

/* Key pair from a 32-byte seed (crypto_sign_seed_keypair). */
void tsig_key_from_seed(struct tsig_key *k, const uint8_t seed[32]);

/* Standard signature (crypto_sign_detached). */
void tsig_sign(uint8_t sig[64], const struct tsig_key *k, const uint8_t *msg,
               size_t len);

/* Signature with R = [r]B + T (T a 32-byte point encoding, or NULL for
 * none) and s = r + h a, h = SHA-512(R || A || M) mod L: it satisfies the
 * cofactored equation only when T != identity. r is a reduced scalar
 * (nonzero). Returns 0, -1 if libsodium rejects T. */
int tsig_sign_with_r(uint8_t sig[64], const struct tsig_key *k,
                     const uint8_t *msg, size_t len, const uint8_t r[32],
                     const uint8_t *T);

/* Signature with a given R encoding (any 32 bytes) and s = h a mod L, so
 * [s]B - [h]A is the identity. */
void tsig_sign_identity_eq(uint8_t sig[64], const struct tsig_key *k,
                           const uint8_t *msg, size_t len,
                           const uint8_t R[32]);

/* The 14 encodings libsodium blocks as small-order R: y in {0, 1, p-1, the
 * two order-8 y values, p, p+1}, each with sign bit 0 and 1. */
#define TSIG_N_SMALL 14
extern const uint8_t tsig_small_enc[TSIG_N_SMALL][32];

/* The 8 torsion points in canonical encoding; index 0 is the identity. */
#define TSIG_N_TORSION 8
extern const uint8_t tsig_torsion[TSIG_N_TORSION][32];

/* L, little-endian. */
extern const uint8_t tsig_L[32];

/* r = a + b (256-bit little-endian, carry out returned). */
int tsig_add256(uint8_t r[32], const uint8_t a[32], const uint8_t b[32]);

/* Random reduced nonzero scalar. */
void tsig_rand_scalar(struct tsig_rng *rng, uint8_t s[32]);

#endif
