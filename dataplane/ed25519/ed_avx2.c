/* AVX2 backend: four signatures at once, one per 64-bit lane. Field
 * elements mod 2^255-19 in radix 2^25.5 (ten limbs of 26, 25, 26, ... bits,
 * limb i of the four lanes in one __m256i), products with vpmuludq.
 * Compiled for AVX2 by target pragmas, so the rest of the binary still
 * runs on CPUs without it; called only when CPUID reports AVX2. No AVX-512.
 *
 * Limb bounds (R = 2^26 + 2^17):
 *   "reduced"  = output of f4_mul/f4_sq/f4_carry: every limb < R (odd
 *                limbs < 2^25 + 2^17).
 *   f4_mul/f4_sq accept limbs < 2^27.7 (so that 19 g < 2^32 and each
 *   64-bit column sum stays below 2^63.5); f4_sq's odd limbs must stay
 *   below 2^26.7 (it uses 38 f). Sums of up to three reduced values, and
 *   a + 2p - b with a, b reduced, qualify. a + 4p - b is carried before use.
 * Table entries are fully reduced radix-2^51 values (limbs < 2^51), split
 * into two limbs on load. */
#include "ed_internal.h"

#ifdef TXG_ED_HAVE_AVX2

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2")
#endif

#include <immintrin.h>
#include <string.h>

typedef struct { __m256i v[10]; } f4;
typedef struct { f4 X, Y, Z, T; } p3_4;
typedef struct { f4 X, Y, Z, T; } p1p1_4;

#define AI static inline __attribute__((always_inline))

static const uint64_t p_limbs[10] = {
    0x3ffffed, 0x1ffffff, 0x3ffffff, 0x1ffffff, 0x3ffffff,
    0x1ffffff, 0x3ffffff, 0x1ffffff, 0x3ffffff, 0x1ffffff
};

AI __m256i bc(uint64_t x) { return _mm256_set1_epi64x((long long)x); }

AI void f4_add(f4 *h, const f4 *f, const f4 *g)
{
    for (int i = 0; i < 10; i++)
        h->v[i] = _mm256_add_epi64(f->v[i], g->v[i]);
}

/* h = f + 2p - g (g reduced). */
AI void f4_sub2p(f4 *h, const f4 *f, const f4 *g)
{
    for (int i = 0; i < 10; i++)
        h->v[i] = _mm256_sub_epi64(_mm256_add_epi64(f->v[i], bc(2 * p_limbs[i])),
                                   g->v[i]);
}

/* One parallel carry round: limbs < 2^32 in, reduced out. */
AI void f4_carry(f4 *h)
{
    const __m256i m26 = bc(0x3ffffff), m25 = bc(0x1ffffff);
    __m256i c[10];
    for (int i = 0; i < 10; i++) {
        c[i] = _mm256_srli_epi64(h->v[i], (i & 1) ? 25 : 26);
        h->v[i] = _mm256_and_si256(h->v[i], (i & 1) ? m25 : m26);
    }
    for (int i = 1; i < 10; i++)
        h->v[i] = _mm256_add_epi64(h->v[i], c[i - 1]);
    h->v[0] = _mm256_add_epi64(h->v[0], _mm256_mul_epu32(c[9], bc(19)));
}

/* h = f + 4p - g, carried (g < 2R per limb). */
AI void f4_sub4p_carry(f4 *h, const f4 *f, const f4 *g)
{
    for (int i = 0; i < 10; i++)
        h->v[i] = _mm256_sub_epi64(_mm256_add_epi64(f->v[i], bc(4 * p_limbs[i])),
                                   g->v[i]);
    f4_carry(h);
}

/* Column sums (each < 2^63.5) to reduced limbs: ref10's carry order. */
AI void f4_reduce(f4 *out, __m256i h0, __m256i h1, __m256i h2, __m256i h3,
                  __m256i h4, __m256i h5, __m256i h6, __m256i h7, __m256i h8,
                  __m256i h9)
{
    const __m256i m26 = bc(0x3ffffff), m25 = bc(0x1ffffff);
    __m256i c;
#define CARRY(a, b, s, m) \
    c = _mm256_srli_epi64(a, s); b = _mm256_add_epi64(b, c); a = _mm256_and_si256(a, m)
    CARRY(h0, h1, 26, m26); CARRY(h4, h5, 26, m26);
    CARRY(h1, h2, 25, m25); CARRY(h5, h6, 25, m25);
    CARRY(h2, h3, 26, m26); CARRY(h6, h7, 26, m26);
    CARRY(h3, h4, 25, m25); CARRY(h7, h8, 25, m25);
    CARRY(h4, h5, 26, m26); CARRY(h8, h9, 26, m26);
    c = _mm256_srli_epi64(h9, 25);
    h9 = _mm256_and_si256(h9, m25);
    /* c < 2^39: 19 c = 16 c + 2 c + c, in 64 bits */
    h0 = _mm256_add_epi64(h0, _mm256_add_epi64(_mm256_slli_epi64(c, 4),
                          _mm256_add_epi64(_mm256_slli_epi64(c, 1), c)));
    CARRY(h0, h1, 26, m26);
#undef CARRY
    out->v[0] = h0; out->v[1] = h1; out->v[2] = h2; out->v[3] = h3;
    out->v[4] = h4; out->v[5] = h5; out->v[6] = h6; out->v[7] = h7;
    out->v[8] = h8; out->v[9] = h9;
}

/* Keeps the column sums in registers between rows: without it GCC's
 * reassociation defers every addition and spills all 100 products. */
#define ROW_BARRIER(h) \
    __asm__("" : "+x"(h[0]), "+x"(h[1]), "+x"(h[2]), "+x"(h[3]), "+x"(h[4]), \
            "+x"(h[5]), "+x"(h[6]), "+x"(h[7]), "+x"(h[8]), "+x"(h[9]))

#define M(a, b) _mm256_mul_epu32(a, b)
#define A(a, b) _mm256_add_epi64(a, b)

/* g19[j] = 19 g_j (j = 1..9; g_j < 2^27.7, so 19 g_j < 2^32). */
AI void f4_times19(__m256i g19[10], const f4 *g)
{
    g19[0] = _mm256_setzero_si256();
    for (int j = 1; j < 10; j++)
        g19[j] = _mm256_mul_epu32(g->v[j], bc(19));
}

/* h = f * g, with g19 from f4_times19(g): row by row, so that only the ten
 * column sums and one limb of f live in registers (g and 19 g are memory
 * operands). */
static void f4_mul19(f4 *out, const f4 *f, const f4 *g, const __m256i *g19)
{
    __m256i fi, fi2;
    __m256i h[10];
    fi = f->v[0];
    h[0] = M(fi, g->v[0]);
    h[1] = M(fi, g->v[1]);
    h[2] = M(fi, g->v[2]);
    h[3] = M(fi, g->v[3]);
    h[4] = M(fi, g->v[4]);
    h[5] = M(fi, g->v[5]);
    h[6] = M(fi, g->v[6]);
    h[7] = M(fi, g->v[7]);
    h[8] = M(fi, g->v[8]);
    h[9] = M(fi, g->v[9]);
    ROW_BARRIER(h);
    fi = f->v[1]; fi2 = A(fi, fi);
    h[1] = A(h[1], M(fi, g->v[0]));
    h[2] = A(h[2], M(fi2, g->v[1]));
    h[3] = A(h[3], M(fi, g->v[2]));
    h[4] = A(h[4], M(fi2, g->v[3]));
    h[5] = A(h[5], M(fi, g->v[4]));
    h[6] = A(h[6], M(fi2, g->v[5]));
    h[7] = A(h[7], M(fi, g->v[6]));
    h[8] = A(h[8], M(fi2, g->v[7]));
    h[9] = A(h[9], M(fi, g->v[8]));
    h[0] = A(h[0], M(fi2, g19[9]));
    ROW_BARRIER(h);
    fi = f->v[2];
    h[2] = A(h[2], M(fi, g->v[0]));
    h[3] = A(h[3], M(fi, g->v[1]));
    h[4] = A(h[4], M(fi, g->v[2]));
    h[5] = A(h[5], M(fi, g->v[3]));
    h[6] = A(h[6], M(fi, g->v[4]));
    h[7] = A(h[7], M(fi, g->v[5]));
    h[8] = A(h[8], M(fi, g->v[6]));
    h[9] = A(h[9], M(fi, g->v[7]));
    h[0] = A(h[0], M(fi, g19[8]));
    h[1] = A(h[1], M(fi, g19[9]));
    ROW_BARRIER(h);
    fi = f->v[3]; fi2 = A(fi, fi);
    h[3] = A(h[3], M(fi, g->v[0]));
    h[4] = A(h[4], M(fi2, g->v[1]));
    h[5] = A(h[5], M(fi, g->v[2]));
    h[6] = A(h[6], M(fi2, g->v[3]));
    h[7] = A(h[7], M(fi, g->v[4]));
    h[8] = A(h[8], M(fi2, g->v[5]));
    h[9] = A(h[9], M(fi, g->v[6]));
    h[0] = A(h[0], M(fi2, g19[7]));
    h[1] = A(h[1], M(fi, g19[8]));
    h[2] = A(h[2], M(fi2, g19[9]));
    ROW_BARRIER(h);
    fi = f->v[4];
    h[4] = A(h[4], M(fi, g->v[0]));
    h[5] = A(h[5], M(fi, g->v[1]));
    h[6] = A(h[6], M(fi, g->v[2]));
    h[7] = A(h[7], M(fi, g->v[3]));
    h[8] = A(h[8], M(fi, g->v[4]));
    h[9] = A(h[9], M(fi, g->v[5]));
    h[0] = A(h[0], M(fi, g19[6]));
    h[1] = A(h[1], M(fi, g19[7]));
    h[2] = A(h[2], M(fi, g19[8]));
    h[3] = A(h[3], M(fi, g19[9]));
    ROW_BARRIER(h);
    fi = f->v[5]; fi2 = A(fi, fi);
    h[5] = A(h[5], M(fi, g->v[0]));
    h[6] = A(h[6], M(fi2, g->v[1]));
    h[7] = A(h[7], M(fi, g->v[2]));
    h[8] = A(h[8], M(fi2, g->v[3]));
    h[9] = A(h[9], M(fi, g->v[4]));
    h[0] = A(h[0], M(fi2, g19[5]));
    h[1] = A(h[1], M(fi, g19[6]));
    h[2] = A(h[2], M(fi2, g19[7]));
    h[3] = A(h[3], M(fi, g19[8]));
    h[4] = A(h[4], M(fi2, g19[9]));
    ROW_BARRIER(h);
    fi = f->v[6];
    h[6] = A(h[6], M(fi, g->v[0]));
    h[7] = A(h[7], M(fi, g->v[1]));
    h[8] = A(h[8], M(fi, g->v[2]));
    h[9] = A(h[9], M(fi, g->v[3]));
    h[0] = A(h[0], M(fi, g19[4]));
    h[1] = A(h[1], M(fi, g19[5]));
    h[2] = A(h[2], M(fi, g19[6]));
    h[3] = A(h[3], M(fi, g19[7]));
    h[4] = A(h[4], M(fi, g19[8]));
    h[5] = A(h[5], M(fi, g19[9]));
    ROW_BARRIER(h);
    fi = f->v[7]; fi2 = A(fi, fi);
    h[7] = A(h[7], M(fi, g->v[0]));
    h[8] = A(h[8], M(fi2, g->v[1]));
    h[9] = A(h[9], M(fi, g->v[2]));
    h[0] = A(h[0], M(fi2, g19[3]));
    h[1] = A(h[1], M(fi, g19[4]));
    h[2] = A(h[2], M(fi2, g19[5]));
    h[3] = A(h[3], M(fi, g19[6]));
    h[4] = A(h[4], M(fi2, g19[7]));
    h[5] = A(h[5], M(fi, g19[8]));
    h[6] = A(h[6], M(fi2, g19[9]));
    ROW_BARRIER(h);
    fi = f->v[8];
    h[8] = A(h[8], M(fi, g->v[0]));
    h[9] = A(h[9], M(fi, g->v[1]));
    h[0] = A(h[0], M(fi, g19[2]));
    h[1] = A(h[1], M(fi, g19[3]));
    h[2] = A(h[2], M(fi, g19[4]));
    h[3] = A(h[3], M(fi, g19[5]));
    h[4] = A(h[4], M(fi, g19[6]));
    h[5] = A(h[5], M(fi, g19[7]));
    h[6] = A(h[6], M(fi, g19[8]));
    h[7] = A(h[7], M(fi, g19[9]));
    ROW_BARRIER(h);
    fi = f->v[9]; fi2 = A(fi, fi);
    h[9] = A(h[9], M(fi, g->v[0]));
    h[0] = A(h[0], M(fi2, g19[1]));
    h[1] = A(h[1], M(fi, g19[2]));
    h[2] = A(h[2], M(fi2, g19[3]));
    h[3] = A(h[3], M(fi, g19[4]));
    h[4] = A(h[4], M(fi2, g19[5]));
    h[5] = A(h[5], M(fi, g19[6]));
    h[6] = A(h[6], M(fi2, g19[7]));
    h[7] = A(h[7], M(fi, g19[8]));
    h[8] = A(h[8], M(fi2, g19[9]));
    f4_reduce(out, h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9]);
}

/* h = f * g */
static void f4_mul(f4 *out, const f4 *f, const f4 *g)
{
    __m256i g19[10];
    f4_times19(g19, g);
    f4_mul19(out, f, g, g19);
}

/* h = f^2 (f's odd limbs < 2^26.7: 38 f must fit 32 bits). */
static void f4_sq(f4 *out, const f4 *f)
{
    const __m256i n19 = bc(19), n38 = bc(38);
    __m256i f2[10], f19[10], f38[10], fi, fi2;
    for (int j = 0; j < 10; j++) {
        f2[j] = A(f->v[j], f->v[j]);
        f19[j] = M(f->v[j], n19);
        f38[j] = M(f->v[j], n38);
    }
    __m256i h[10];
    fi = f->v[0]; fi2 = A(fi, fi);
    h[0] = M(fi, f->v[0]);
    h[1] = M(fi2, f->v[1]);
    h[2] = M(fi2, f->v[2]);
    h[3] = M(fi2, f->v[3]);
    h[4] = M(fi2, f->v[4]);
    h[5] = M(fi2, f->v[5]);
    h[6] = M(fi2, f->v[6]);
    h[7] = M(fi2, f->v[7]);
    h[8] = M(fi2, f->v[8]);
    h[9] = M(fi2, f->v[9]);
    ROW_BARRIER(h);
    fi = f->v[1]; fi2 = A(fi, fi);
    h[2] = A(h[2], M(fi2, f->v[1]));
    h[3] = A(h[3], M(fi2, f->v[2]));
    h[4] = A(h[4], M(fi2, f2[3]));
    h[5] = A(h[5], M(fi2, f->v[4]));
    h[6] = A(h[6], M(fi2, f2[5]));
    h[7] = A(h[7], M(fi2, f->v[6]));
    h[8] = A(h[8], M(fi2, f2[7]));
    h[9] = A(h[9], M(fi2, f->v[8]));
    h[0] = A(h[0], M(fi2, f38[9]));
    ROW_BARRIER(h);
    fi = f->v[2]; fi2 = A(fi, fi);
    h[4] = A(h[4], M(fi, f->v[2]));
    h[5] = A(h[5], M(fi2, f->v[3]));
    h[6] = A(h[6], M(fi2, f->v[4]));
    h[7] = A(h[7], M(fi2, f->v[5]));
    h[8] = A(h[8], M(fi2, f->v[6]));
    h[9] = A(h[9], M(fi2, f->v[7]));
    h[0] = A(h[0], M(fi2, f19[8]));
    h[1] = A(h[1], M(fi2, f19[9]));
    ROW_BARRIER(h);
    fi = f->v[3]; fi2 = A(fi, fi);
    h[6] = A(h[6], M(fi2, f->v[3]));
    h[7] = A(h[7], M(fi2, f->v[4]));
    h[8] = A(h[8], M(fi2, f2[5]));
    h[9] = A(h[9], M(fi2, f->v[6]));
    h[0] = A(h[0], M(fi2, f38[7]));
    h[1] = A(h[1], M(fi2, f19[8]));
    h[2] = A(h[2], M(fi2, f38[9]));
    ROW_BARRIER(h);
    fi = f->v[4]; fi2 = A(fi, fi);
    h[8] = A(h[8], M(fi, f->v[4]));
    h[9] = A(h[9], M(fi2, f->v[5]));
    h[0] = A(h[0], M(fi2, f19[6]));
    h[1] = A(h[1], M(fi2, f19[7]));
    h[2] = A(h[2], M(fi2, f19[8]));
    h[3] = A(h[3], M(fi2, f19[9]));
    ROW_BARRIER(h);
    fi = f->v[5]; fi2 = A(fi, fi);
    h[0] = A(h[0], M(fi2, f19[5]));
    h[1] = A(h[1], M(fi2, f19[6]));
    h[2] = A(h[2], M(fi2, f38[7]));
    h[3] = A(h[3], M(fi2, f19[8]));
    h[4] = A(h[4], M(fi2, f38[9]));
    ROW_BARRIER(h);
    fi = f->v[6]; fi2 = A(fi, fi);
    h[2] = A(h[2], M(fi, f19[6]));
    h[3] = A(h[3], M(fi2, f19[7]));
    h[4] = A(h[4], M(fi2, f19[8]));
    h[5] = A(h[5], M(fi2, f19[9]));
    ROW_BARRIER(h);
    fi = f->v[7]; fi2 = A(fi, fi);
    h[4] = A(h[4], M(fi2, f19[7]));
    h[5] = A(h[5], M(fi2, f19[8]));
    h[6] = A(h[6], M(fi2, f38[9]));
    ROW_BARRIER(h);
    fi = f->v[8]; fi2 = A(fi, fi);
    h[6] = A(h[6], M(fi, f19[8]));
    h[7] = A(h[7], M(fi2, f19[9]));
    ROW_BARRIER(h);
    fi = f->v[9]; fi2 = A(fi, fi);
    h[8] = A(h[8], M(fi2, f19[9]));
    f4_reduce(out, h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9]);
}

#undef M
#undef A

/* Loads one radix-2^51 coordinate (5 limbs < 2^51 at r[l]) of each lane. */
AI void f4_load(f4 *h, const uint64_t *r0, const uint64_t *r1,
                const uint64_t *r2, const uint64_t *r3)
{
    const __m256i m26 = bc(0x3ffffff);
    __m256i a = _mm256_loadu_si256((const __m256i *)(const void *)r0);
    __m256i b = _mm256_loadu_si256((const __m256i *)(const void *)r1);
    __m256i c = _mm256_loadu_si256((const __m256i *)(const void *)r2);
    __m256i d = _mm256_loadu_si256((const __m256i *)(const void *)r3);
    __m256i t0 = _mm256_unpacklo_epi64(a, b), t1 = _mm256_unpackhi_epi64(a, b);
    __m256i t2 = _mm256_unpacklo_epi64(c, d), t3 = _mm256_unpackhi_epi64(c, d);
    __m256i l[5];
    l[0] = _mm256_permute2x128_si256(t0, t2, 0x20);
    l[1] = _mm256_permute2x128_si256(t1, t3, 0x20);
    l[2] = _mm256_permute2x128_si256(t0, t2, 0x31);
    l[3] = _mm256_permute2x128_si256(t1, t3, 0x31);
    l[4] = _mm256_set_epi64x((long long)r3[4], (long long)r2[4],
                             (long long)r1[4], (long long)r0[4]);
    for (int i = 0; i < 5; i++) {
        h->v[2 * i] = _mm256_and_si256(l[i], m26);
        h->v[2 * i + 1] = _mm256_srli_epi64(l[i], 26);
    }
}

/* Lane l of f as a radix-2^51 field element (limbs < 2^52). */
AI void f4_lane(fe out, const f4 *f, int l)
{
    uint64_t t[10][4];
    for (int i = 0; i < 10; i++)
        _mm256_storeu_si256((__m256i *)(void *)t[i], f->v[i]);
    for (int i = 0; i < 5; i++)
        out[i] = t[2 * i][l] + (t[2 * i + 1][l] << 26);
}

AI void f4_set_small(f4 *h, uint64_t x)
{
    h->v[0] = bc(x);
    for (int i = 1; i < 10; i++)
        h->v[i] = _mm256_setzero_si256();
}

/* 19 T is computed once for the two products with T. */
AI void p1p1_to_p3(p3_4 *r, const p1p1_4 *p)
{
    __m256i t19[10];
    f4_times19(t19, &p->T);
    f4_mul19(&r->X, &p->X, &p->T, t19);
    f4_mul(&r->Y, &p->Y, &p->Z);
    f4_mul19(&r->Z, &p->Z, &p->T, t19);
    f4_mul(&r->T, &p->X, &p->Y);
}

AI void p1p1_to_p2(p3_4 *r, const p1p1_4 *p)
{
    __m256i t19[10];
    f4_times19(t19, &p->T);
    f4_mul19(&r->X, &p->X, &p->T, t19);
    f4_mul(&r->Y, &p->Y, &p->Z);
    f4_mul19(&r->Z, &p->Z, &p->T, t19);
}

/* r = 2 p (p's X, Y, Z reduced; T unused). */
AI void p2_dbl(p1p1_4 *r, const p3_4 *p)
{
    f4 xx, yy, zz, s, ss;
    f4_sq(&xx, &p->X);
    f4_sq(&yy, &p->Y);
    f4_sq(&zz, &p->Z);
    f4_add(&s, &p->X, &p->Y);
    f4_sq(&ss, &s);
    f4_add(&r->Y, &yy, &xx);             /* 2R */
    f4_sub2p(&r->Z, &yy, &xx);           /* R + 2p */
    f4_sub4p_carry(&r->X, &ss, &r->Y);   /* reduced */
    f4_add(&zz, &zz, &zz);               /* 2R */
    f4_sub4p_carry(&r->T, &zz, &r->Z);   /* reduced */
}

/* r = p + e[l] per lane, e the affine Niels entries of the lanes' digits
 * (neg: use -e). */
AI void madd4(p1p1_4 *r, const p3_4 *p, const ge_precomp *const e[4],
              const int neg[4])
{
    f4 ypx, ymx, xy, xyn, a, b, A, B, C, D;
    __m256i mask = _mm256_set_epi64x(-(long long)neg[3], -(long long)neg[2],
                                     -(long long)neg[1], -(long long)neg[0]);

    f4_load(&ypx, neg[0] ? e[0]->ymx : e[0]->ypx, neg[1] ? e[1]->ymx : e[1]->ypx,
            neg[2] ? e[2]->ymx : e[2]->ypx, neg[3] ? e[3]->ymx : e[3]->ypx);
    f4_load(&ymx, neg[0] ? e[0]->ypx : e[0]->ymx, neg[1] ? e[1]->ypx : e[1]->ymx,
            neg[2] ? e[2]->ypx : e[2]->ymx, neg[3] ? e[3]->ypx : e[3]->ymx);
    f4_load(&xy, e[0]->xy2d, e[1]->xy2d, e[2]->xy2d, e[3]->xy2d);
    for (int i = 0; i < 10; i++) {
        xyn.v[i] = _mm256_sub_epi64(bc(2 * p_limbs[i]), xy.v[i]);
        xy.v[i] = _mm256_blendv_epi8(xy.v[i], xyn.v[i], mask);
    }
    f4_add(&a, &p->Y, &p->X);            /* 2R */
    f4_sub2p(&b, &p->Y, &p->X);          /* R + 2p */
    f4_mul(&A, &a, &ypx);
    f4_mul(&B, &b, &ymx);
    f4_mul(&C, &xy, &p->T);
    f4_add(&D, &p->Z, &p->Z);            /* 2R */
    f4_sub2p(&r->X, &A, &B);             /* R + 2p */
    f4_add(&r->Y, &A, &B);               /* 2R */
    f4_add(&r->Z, &D, &C);               /* 3R */
    f4_sub4p_carry(&r->T, &D, &C);       /* reduced */
}

AI void prefetch_lanes(const struct ed_work *const w[4], int t)
{
    for (int l = 0; l < 4; l++)
        if (w[l] != NULL)
            ed_prefetch_op(w[l], t);
}

/* The four lanes' entries for chain step t (computed ED_PF_DIST steps
 * ahead, when they are prefetched, and kept in a ring until used). */
struct lane_ents {
    const ge_precomp *e[4];
    int neg[4];
    int any;                       /* 0: all digits zero (or a doubling) */
};

AI void lane_ents_get(struct lane_ents *r, const struct ed_work *const w[4],
                      const struct ed_kind *k, int t)
{
    const struct ed_op *op = &k->ops[t];

    r->any = 0;
    if (op->kind == ED_OP_DBL)
        return;
    for (int l = 0; l < 4; l++) {
        const ge_precomp *tab;
        int d;
        if (op->kind == ED_OP_A) {
            d = w[l]->eh[op->digit];
            tab = w[l]->key->tab + op->base;
        } else {
            d = w[l]->ds[op->digit];
            tab = k->btab + op->base;
        }
        r->neg[l] = d < 0;
        r->any |= d;
        if (d != 0) {
            r->e[l] = ed_entry(tab, d);
            __builtin_prefetch((const char *)r->e[l]);
            __builtin_prefetch((const char *)r->e[l] + 64);
        } else {
            r->e[l] = &ed_identity_precomp;
        }
    }
}

#define RING 8 /* > ED_PF_DIST, a power of two */
_Static_assert(RING > ED_PF_DIST, "prefetch ring too small");

void ed_avx2_chain4(ge_p3 q[4], const struct ed_work *const w[4],
                    const struct ed_work *const nxt[4])
{
    const struct ed_kind *k = w[0]->key->kind;
    struct lane_ents ring[RING];
    p3_4 Q;
    p1p1_4 t;

    f4_set_small(&Q.X, 0);
    f4_set_small(&Q.Y, 1);
    f4_set_small(&Q.Z, 1);
    f4_set_small(&Q.T, 0);
    for (int i = 0; i < ED_PF_DIST && i < k->nops; i++)
        lane_ents_get(&ring[i & (RING - 1)], w, k, i);
    for (int i = 0; i < k->nops; i++) {
        const struct ed_op *op = &k->ops[i];
        const struct lane_ents *le = &ring[i & (RING - 1)];
        int tp = i + ED_PF_DIST;
        if (tp < k->nops)
            lane_ents_get(&ring[tp & (RING - 1)], w, k, tp);
        else
            prefetch_lanes(nxt, tp - k->nops);
        if (op->kind == ED_OP_DBL) {
            for (int n = op->digit; n > 0; n--) {
                p2_dbl(&t, &Q);
                if (n > 1)
                    p1p1_to_p2(&Q, &t);
                else
                    p1p1_to_p3(&Q, &t);
            }
        } else if (le->any != 0) {
            madd4(&t, &Q, le->e, le->neg);
            p1p1_to_p3(&Q, &t);
        }
    }
    for (int l = 0; l < 4; l++) {
        f4_lane(q[l].X, &Q.X, l);
        f4_lane(q[l].Y, &Q.Y, l);
        f4_lane(q[l].Z, &Q.Z, l);
    }
}

/* ---- SHA-512 of R || A || M, four messages at once ------------------- */

static const uint64_t sha_k[80] = {
    0x428a2f98d728ae22ULL, 0x7137449123ef65cdULL, 0xb5c0fbcfec4d3b2fULL,
    0xe9b5dba58189dbbcULL, 0x3956c25bf348b538ULL, 0x59f111f1b605d019ULL,
    0x923f82a4af194f9bULL, 0xab1c5ed5da6d8118ULL, 0xd807aa98a3030242ULL,
    0x12835b0145706fbeULL, 0x243185be4ee4b28cULL, 0x550c7dc3d5ffb4e2ULL,
    0x72be5d74f27b896fULL, 0x80deb1fe3b1696b1ULL, 0x9bdc06a725c71235ULL,
    0xc19bf174cf692694ULL, 0xe49b69c19ef14ad2ULL, 0xefbe4786384f25e3ULL,
    0x0fc19dc68b8cd5b5ULL, 0x240ca1cc77ac9c65ULL, 0x2de92c6f592b0275ULL,
    0x4a7484aa6ea6e483ULL, 0x5cb0a9dcbd41fbd4ULL, 0x76f988da831153b5ULL,
    0x983e5152ee66dfabULL, 0xa831c66d2db43210ULL, 0xb00327c898fb213fULL,
    0xbf597fc7beef0ee4ULL, 0xc6e00bf33da88fc2ULL, 0xd5a79147930aa725ULL,
    0x06ca6351e003826fULL, 0x142929670a0e6e70ULL, 0x27b70a8546d22ffcULL,
    0x2e1b21385c26c926ULL, 0x4d2c6dfc5ac42aedULL, 0x53380d139d95b3dfULL,
    0x650a73548baf63deULL, 0x766a0abb3c77b2a8ULL, 0x81c2c92e47edaee6ULL,
    0x92722c851482353bULL, 0xa2bfe8a14cf10364ULL, 0xa81a664bbc423001ULL,
    0xc24b8b70d0f89791ULL, 0xc76c51a30654be30ULL, 0xd192e819d6ef5218ULL,
    0xd69906245565a910ULL, 0xf40e35855771202aULL, 0x106aa07032bbd1b8ULL,
    0x19a4c116b8d2d0c8ULL, 0x1e376c085141ab53ULL, 0x2748774cdf8eeb99ULL,
    0x34b0bcb5e19b48a8ULL, 0x391c0cb3c5c95a63ULL, 0x4ed8aa4ae3418acbULL,
    0x5b9cca4f7763e373ULL, 0x682e6ff3d6b2b8a3ULL, 0x748f82ee5defb2fcULL,
    0x78a5636f43172f60ULL, 0x84c87814a1f0ab72ULL, 0x8cc702081a6439ecULL,
    0x90befffa23631e28ULL, 0xa4506cebde82bde9ULL, 0xbef9a3f7b2c67915ULL,
    0xc67178f2e372532bULL, 0xca273eceea26619cULL, 0xd186b8c721c0c207ULL,
    0xeada7dd6cde0eb1eULL, 0xf57d4f7fee6ed178ULL, 0x06f067aa72176fbaULL,
    0x0a637dc5a2c898a6ULL, 0x113f9804bef90daeULL, 0x1b710b35131c471bULL,
    0x28db77f523047d84ULL, 0x32caab7b40c72493ULL, 0x3c9ebe0a15c9bebcULL,
    0x431d67c49c100d4cULL, 0x4cc5d4becb3e42b6ULL, 0x597f299cfc657e2aULL,
    0x5fcb6fab3ad6faecULL, 0x6c44198c4a475817ULL
};

static const uint64_t sha_iv[8] = {
    0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL,
    0xa54ff53a5f1d36f1ULL, 0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL,
    0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL
};

AI __m256i rotr(__m256i x, int n)
{
    return _mm256_or_si256(_mm256_srli_epi64(x, n), _mm256_slli_epi64(x, 64 - n));
}

/* Byte b of the padded stream R || A || M || 0x80 || 0.. || bitlen(128). */
static void sha_block(uint8_t out[128], const uint8_t *r, const uint8_t *a,
                      const uint8_t *m, size_t len, size_t blk, size_t nblk)
{
    size_t total = 64 + len, off = blk * 128;

    memset(out, 0, 128);
    if (off < 32)
        memcpy(out, r, 32);
    if (off < 64)
        memcpy(out + 32 - off, a, 32);
    if (off + 128 > 64 && off < total) {
        size_t from = off > 64 ? off - 64 : 0;           /* in M */
        size_t to = off + 128 - 64 < len ? off + 128 - 64 : len;
        size_t at = off > 64 ? 0 : 64 - off;             /* in out */
        if (to > from)
            memcpy(out + at, m + from, to - from);
    }
    if (total >= off && total < off + 128)
        out[total - off] = 0x80;
    if (blk + 1 == nblk) {
        uint64_t bits = (uint64_t)total << 3, hi = (uint64_t)(total >> 61);
        for (int i = 0; i < 8; i++) {
            out[127 - i] = (uint8_t)(bits >> (8 * i));
            out[119 - i] = (uint8_t)(hi >> (8 * i));
        }
    }
}

/* Big-endian words 4q..4q+3 of the four lanes' blocks, transposed. */
AI void sha_load4(__m256i w[4], const uint8_t *const b[4], int q)
{
    const __m256i bswap = _mm256_set_epi8(
        8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7,
        8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7);
    __m256i x[4];
    for (int l = 0; l < 4; l++)
        x[l] = _mm256_shuffle_epi8(
            _mm256_loadu_si256((const __m256i *)(const void *)(b[l] + 32 * q)), bswap);
    __m256i t0 = _mm256_unpacklo_epi64(x[0], x[1]), t1 = _mm256_unpackhi_epi64(x[0], x[1]);
    __m256i t2 = _mm256_unpacklo_epi64(x[2], x[3]), t3 = _mm256_unpackhi_epi64(x[2], x[3]);
    w[0] = _mm256_permute2x128_si256(t0, t2, 0x20);
    w[1] = _mm256_permute2x128_si256(t1, t3, 0x20);
    w[2] = _mm256_permute2x128_si256(t0, t2, 0x31);
    w[3] = _mm256_permute2x128_si256(t1, t3, 0x31);
}

static void sha_compress4(__m256i st[8], const uint8_t *const b[4])
{
    __m256i w[16], a = st[0], bb = st[1], c = st[2], d = st[3], e = st[4],
            f = st[5], g = st[6], h = st[7];
    for (int q = 0; q < 4; q++)
        sha_load4(w + 4 * q, b, q);
    /* rolled: fully unrolled it spills and measured 1.5x slower */
#if defined(__clang__)
#pragma clang loop unroll(disable)
#else
#pragma GCC unroll 1
#endif
    for (int i = 0; i < 80; i++) {
        __m256i wi, t1, t2;
        if (i < 16) {
            wi = w[i];
        } else {
            __m256i w15 = w[(i - 15) & 15], w2 = w[(i - 2) & 15];
            __m256i s0 = _mm256_xor_si256(_mm256_xor_si256(rotr(w15, 1), rotr(w15, 8)),
                                          _mm256_srli_epi64(w15, 7));
            __m256i s1 = _mm256_xor_si256(_mm256_xor_si256(rotr(w2, 19), rotr(w2, 61)),
                                          _mm256_srli_epi64(w2, 6));
            wi = _mm256_add_epi64(_mm256_add_epi64(w[i & 15], s0),
                                  _mm256_add_epi64(w[(i - 7) & 15], s1));
            w[i & 15] = wi;
        }
        t1 = _mm256_add_epi64(h, _mm256_xor_si256(_mm256_xor_si256(rotr(e, 14), rotr(e, 18)),
                                                  rotr(e, 41)));
        t1 = _mm256_add_epi64(t1, _mm256_xor_si256(_mm256_and_si256(e, f),
                                                   _mm256_andnot_si256(e, g)));
        t1 = _mm256_add_epi64(t1, _mm256_add_epi64(wi, bc(sha_k[i])));
        t2 = _mm256_add_epi64(_mm256_xor_si256(_mm256_xor_si256(rotr(a, 28), rotr(a, 34)),
                                               rotr(a, 39)),
                              _mm256_or_si256(_mm256_and_si256(a, bb),
                                              _mm256_and_si256(c, _mm256_or_si256(a, bb))));
        h = g; g = f; f = e;
        e = _mm256_add_epi64(d, t1);
        d = c; c = bb; bb = a;
        a = _mm256_add_epi64(t1, t2);
    }
    st[0] = _mm256_add_epi64(st[0], a); st[1] = _mm256_add_epi64(st[1], bb);
    st[2] = _mm256_add_epi64(st[2], c); st[3] = _mm256_add_epi64(st[3], d);
    st[4] = _mm256_add_epi64(st[4], e); st[5] = _mm256_add_epi64(st[5], f);
    st[6] = _mm256_add_epi64(st[6], g); st[7] = _mm256_add_epi64(st[7], h);
}

void ed_avx2_sha512x4(uint8_t out[4][64], const uint8_t *const r[4],
                      const uint8_t *const a[4], const uint8_t *const m[4],
                      const size_t len[4])
{
    uint8_t buf[4][128];
    const uint8_t *bp[4] = { buf[0], buf[1], buf[2], buf[3] };
    size_t nblk[4], maxblk = 0;
    __m256i st[8];
    uint64_t fin[8][4];

    for (int l = 0; l < 4; l++) {
        nblk[l] = (64 + len[l] + 16) / 128 + 1;
        if (nblk[l] > maxblk)
            maxblk = nblk[l];
    }
    for (int i = 0; i < 8; i++)
        st[i] = bc(sha_iv[i]);
    for (size_t blk = 0; blk < maxblk; blk++) {
        __m256i keep[8], done;
        for (int l = 0; l < 4; l++)
            if (blk < nblk[l])
                sha_block(buf[l], r[l], a[l], m[l], len[l], blk, nblk[l]);
        done = _mm256_set_epi64x(-(long long)(blk >= nblk[3]), -(long long)(blk >= nblk[2]),
                                 -(long long)(blk >= nblk[1]), -(long long)(blk >= nblk[0]));
        for (int i = 0; i < 8; i++)
            keep[i] = st[i];
        sha_compress4(st, bp);
        for (int i = 0; i < 8; i++) /* finished lanes keep their state */
            st[i] = _mm256_blendv_epi8(st[i], keep[i], done);
    }
    for (int i = 0; i < 8; i++)
        _mm256_storeu_si256((__m256i *)(void *)fin[i], st[i]);
    for (int l = 0; l < 4; l++)
        for (int i = 0; i < 8; i++)
            for (int j = 0; j < 8; j++)
                out[l][8 * i + j] = (uint8_t)(fin[i][l] >> (56 - 8 * j));
}

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#else
typedef int ed_avx2_not_built; /* ISO C: no empty translation unit */
#endif /* TXG_ED_HAVE_AVX2 */
