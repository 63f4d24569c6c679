/* Field arithmetic mod p = 2^255-19, radix 2^51 (five 64-bit limbs), with
 * unsigned __int128 products. Variable time is fine: all inputs are public.
 *
 * Limb bounds (kept by every caller in ed_group.h):
 *   "tight"  = output of fe_mul/fe_sq/fe_sub/fe_carry: limbs < 2^51 + 2^18.
 *   fe_add of two tight values: limbs < 2^52 + 2^19.
 *   fe_mul/fe_sq accept limbs < 2^54; fe_sub's second operand must have
 *   limbs < 2^53 - 76 (it adds 4p before subtracting). */
#ifndef TXG_ED_FIELD_H
#define TXG_ED_FIELD_H

#include <stdint.h>
#include <string.h>

__extension__ typedef unsigned __int128 txg_u128;
typedef uint64_t fe[5];

#define FE_MASK51 ((uint64_t)0x7ffffffffffffULL)

/* h = 0 / 1 / f */
static inline void fe_0(fe h) { h[0] = h[1] = h[2] = h[3] = h[4] = 0; }
static inline void fe_1(fe h) { h[0] = 1; h[1] = h[2] = h[3] = h[4] = 0; }
static inline void fe_copy(fe h, const fe f) { memcpy(h, f, sizeof(fe)); }

/* h = f + g, no carry. */
static inline void fe_add(fe h, const fe f, const fe g)
{
    h[0] = f[0] + g[0]; h[1] = f[1] + g[1]; h[2] = f[2] + g[2];
    h[3] = f[3] + g[3]; h[4] = f[4] + g[4];
}

/* Weak reduction in place: limbs < 2^51 + 2^17 afterwards (input < 2^63). */
static inline void fe_carry(fe h)
{
    uint64_t c0 = h[0] >> 51, c1 = h[1] >> 51, c2 = h[2] >> 51,
             c3 = h[3] >> 51, c4 = h[4] >> 51;
    h[0] = (h[0] & FE_MASK51) + 19 * c4;
    h[1] = (h[1] & FE_MASK51) + c0;
    h[2] = (h[2] & FE_MASK51) + c1;
    h[3] = (h[3] & FE_MASK51) + c2;
    h[4] = (h[4] & FE_MASK51) + c3;
}

/* h = f - g (computed as f + 4p - g), weakly reduced: tight output. */
static inline void fe_sub(fe h, const fe f, const fe g)
{
    h[0] = f[0] + 0x1fffffffffffb4ULL - g[0];
    h[1] = f[1] + 0x1ffffffffffffcULL - g[1];
    h[2] = f[2] + 0x1ffffffffffffcULL - g[2];
    h[3] = f[3] + 0x1ffffffffffffcULL - g[3];
    h[4] = f[4] + 0x1ffffffffffffcULL - g[4];
    fe_carry(h);
}

/* h = -f (f tight or sum of two tights). */
static inline void fe_neg(fe h, const fe f)
{
    fe z;
    fe_0(z);
    fe_sub(h, z, f);
}

/* Carry the five 128-bit column sums into a tight result. */
static inline void fe_reduce128(fe h, txg_u128 r0, txg_u128 r1, txg_u128 r2,
                                txg_u128 r3, txg_u128 r4)
{
    uint64_t c, h0, h1, h2, h3, h4;
    c = (uint64_t)(r0 >> 51); h0 = (uint64_t)r0 & FE_MASK51; r1 += c;
    c = (uint64_t)(r1 >> 51); h1 = (uint64_t)r1 & FE_MASK51; r2 += c;
    c = (uint64_t)(r2 >> 51); h2 = (uint64_t)r2 & FE_MASK51; r3 += c;
    c = (uint64_t)(r3 >> 51); h3 = (uint64_t)r3 & FE_MASK51; r4 += c;
    c = (uint64_t)(r4 >> 51); h4 = (uint64_t)r4 & FE_MASK51;
    h0 += c * 19;
    c = h0 >> 51; h0 &= FE_MASK51; h1 += c;
    h[0] = h0; h[1] = h1; h[2] = h2; h[3] = h3; h[4] = h4;
}

/* h = f * g (h may alias f or g). */
static inline __attribute__((always_inline)) void fe_mul(fe h, const fe f, const fe g)
{
    uint64_t f0 = f[0], f1 = f[1], f2 = f[2], f3 = f[3], f4 = f[4];
    uint64_t g0 = g[0], g1 = g[1], g2 = g[2], g3 = g[3], g4 = g[4];
    uint64_t g1_19 = 19 * g1, g2_19 = 19 * g2, g3_19 = 19 * g3, g4_19 = 19 * g4;
    txg_u128 r0, r1, r2, r3, r4;

    r0 = (txg_u128)f0 * g0 + (txg_u128)f1 * g4_19 + (txg_u128)f2 * g3_19 +
         (txg_u128)f3 * g2_19 + (txg_u128)f4 * g1_19;
    r1 = (txg_u128)f0 * g1 + (txg_u128)f1 * g0 + (txg_u128)f2 * g4_19 +
         (txg_u128)f3 * g3_19 + (txg_u128)f4 * g2_19;
    r2 = (txg_u128)f0 * g2 + (txg_u128)f1 * g1 + (txg_u128)f2 * g0 +
         (txg_u128)f3 * g4_19 + (txg_u128)f4 * g3_19;
    r3 = (txg_u128)f0 * g3 + (txg_u128)f1 * g2 + (txg_u128)f2 * g1 +
         (txg_u128)f3 * g0 + (txg_u128)f4 * g4_19;
    r4 = (txg_u128)f0 * g4 + (txg_u128)f1 * g3 + (txg_u128)f2 * g2 +
         (txg_u128)f3 * g1 + (txg_u128)f4 * g0;
    fe_reduce128(h, r0, r1, r2, r3, r4);
}

/* h = f^2 (h may alias f). */
static inline __attribute__((always_inline)) void fe_sq(fe h, const fe f)
{
    uint64_t f0 = f[0], f1 = f[1], f2 = f[2], f3 = f[3], f4 = f[4];
    uint64_t f0_2 = 2 * f0, f1_2 = 2 * f1, f2_2 = 2 * f2;
    uint64_t f3_19 = 19 * f3, f4_19 = 19 * f4;
    txg_u128 r0, r1, r2, r3, r4;

    r0 = (txg_u128)f0 * f0 + (txg_u128)f1_2 * f4_19 + (txg_u128)f2_2 * f3_19;
    r1 = (txg_u128)f0_2 * f1 + (txg_u128)f2_2 * f4_19 + (txg_u128)f3 * f3_19;
    r2 = (txg_u128)f0_2 * f2 + (txg_u128)f1 * f1 + (txg_u128)(2 * f3) * f4_19;
    r3 = (txg_u128)f0_2 * f3 + (txg_u128)f1_2 * f2 + (txg_u128)f4 * f4_19;
    r4 = (txg_u128)f0_2 * f4 + (txg_u128)f1_2 * f3 + (txg_u128)f2 * f2;
    fe_reduce128(h, r0, r1, r2, r3, r4);
}

/* h = f^(2^n) for n >= 1. */
static inline void fe_sqn(fe h, const fe f, int n)
{
    fe_sq(h, f);
    while (--n > 0)
        fe_sq(h, h);
}

/* Load 32 little-endian bytes; bit 255 is ignored (value may be >= p). */
static inline void fe_frombytes(fe h, const uint8_t s[32])
{
    uint64_t w0, w1, w2, w3;
    memcpy(&w0, s, 8); memcpy(&w1, s + 8, 8);
    memcpy(&w2, s + 16, 8); memcpy(&w3, s + 24, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w0 = __builtin_bswap64(w0); w1 = __builtin_bswap64(w1);
    w2 = __builtin_bswap64(w2); w3 = __builtin_bswap64(w3);
#endif
    h[0] = w0 & FE_MASK51;
    h[1] = ((w0 >> 51) | (w1 << 13)) & FE_MASK51;
    h[2] = ((w1 >> 38) | (w2 << 26)) & FE_MASK51;
    h[3] = ((w2 >> 25) | (w3 << 39)) & FE_MASK51;
    h[4] = (w3 >> 12) & FE_MASK51;
}

/* Canonical 32-byte encoding (value fully reduced mod p, bit 255 clear).
 * Input limbs < 2^63. */
static inline void fe_tobytes(uint8_t s[32], const fe f)
{
    uint64_t t0 = f[0], t1 = f[1], t2 = f[2], t3 = f[3], t4 = f[4], q;

    for (int pass = 0; pass < 2; pass++) {
        t1 += t0 >> 51; t0 &= FE_MASK51;
        t2 += t1 >> 51; t1 &= FE_MASK51;
        t3 += t2 >> 51; t2 &= FE_MASK51;
        t4 += t3 >> 51; t3 &= FE_MASK51;
        t0 += 19 * (t4 >> 51); t4 &= FE_MASK51;
    }
    /* now 0 <= t < 2^255 with limbs < 2^51; q = 1 iff t >= p */
    q = (t0 + 19) >> 51;
    q = (t1 + q) >> 51;
    q = (t2 + q) >> 51;
    q = (t3 + q) >> 51;
    q = (t4 + q) >> 51;
    t0 += 19 * q;
    t1 += t0 >> 51; t0 &= FE_MASK51;
    t2 += t1 >> 51; t1 &= FE_MASK51;
    t3 += t2 >> 51; t2 &= FE_MASK51;
    t4 += t3 >> 51; t3 &= FE_MASK51;
    t4 &= FE_MASK51;

    uint64_t w[4] = { t0 | (t1 << 51), (t1 >> 13) | (t2 << 38),
                      (t2 >> 26) | (t3 << 25), (t3 >> 39) | (t4 << 12) };
    for (int i = 0; i < 4; i++)
        for (int b = 0; b < 8; b++)
            s[8 * i + b] = (uint8_t)(w[i] >> (8 * b));
}

/* Fully reduces f in place: limbs < 2^51, value < p (input limbs < 2^63). */
static inline void fe_canon(fe f)
{
    uint8_t s[32];
    fe_tobytes(s, f);
    fe_frombytes(f, s);
}

/* 1 iff f mod p is odd (the "negative" sign of an x coordinate). */
static inline int fe_isnegative(const fe f)
{
    uint8_t s[32];
    fe_tobytes(s, f);
    return s[0] & 1;
}

/* 1 iff f == 0 mod p. */
static inline int fe_iszero(const fe f)
{
    uint8_t s[32], z = 0;
    fe_tobytes(s, f);
    for (int i = 0; i < 32; i++)
        z |= s[i];
    return z == 0;
}

/* 1 iff f == g mod p. */
static inline int fe_equal(const fe f, const fe g)
{
    uint8_t a[32], b[32];
    fe_tobytes(a, f);
    fe_tobytes(b, g);
    return memcmp(a, b, 32) == 0;
}

/* out = z^(2^250 - 1), and z^11 in *z11: the shared prefix of the
 * inversion and square-root addition chains. */
static inline void fe_pow2_250_1(fe out, fe z11, const fe z)
{
    fe t0, t1, t2, t3;
    fe_sq(t0, z);            /* 2 */
    fe_sqn(t1, t0, 2);       /* 8 */
    fe_mul(t1, z, t1);       /* 9 */
    fe_mul(t0, t0, t1);      /* 11 */
    fe_copy(z11, t0);
    fe_sq(t2, t0);           /* 22 */
    fe_mul(t1, t1, t2);      /* 2^5 - 1 */
    fe_sqn(t2, t1, 5);
    fe_mul(t1, t2, t1);      /* 2^10 - 1 */
    fe_sqn(t2, t1, 10);
    fe_mul(t2, t2, t1);      /* 2^20 - 1 */
    fe_sqn(t3, t2, 20);
    fe_mul(t2, t3, t2);      /* 2^40 - 1 */
    fe_sqn(t2, t2, 10);
    fe_mul(t1, t2, t1);      /* 2^50 - 1 */
    fe_sqn(t2, t1, 50);
    fe_mul(t2, t2, t1);      /* 2^100 - 1 */
    fe_sqn(t3, t2, 100);
    fe_mul(t2, t3, t2);      /* 2^200 - 1 */
    fe_sqn(t2, t2, 50);
    fe_mul(out, t2, t1);     /* 2^250 - 1 */
}

/* out = z^(p-2) = 1/z (0 for z == 0). */
static inline void fe_invert(fe out, const fe z)
{
    fe t, z11;
    fe_pow2_250_1(t, z11, z);
    fe_sqn(t, t, 5);         /* 2^255 - 2^5 */
    fe_mul(out, t, z11);     /* 2^255 - 21 = p - 2 */
}

/* out = z^((p-5)/8) = z^(2^252 - 3). */
static inline void fe_pow22523(fe out, const fe z)
{
    fe t, z11;
    fe_pow2_250_1(t, z11, z);
    fe_sqn(t, t, 2);         /* 2^252 - 4 */
    fe_mul(out, t, z);       /* 2^252 - 3 */
}

#endif
