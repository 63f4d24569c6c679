/* Edwards25519 group operations in extended coordinates (-x^2 + y^2 =
 * 1 + d x^2 y^2), variable time, on top of ed_field.h. Formulas follow the
 * usual "ref10" shapes (p3 = extended, p1p1 = completed, precomp = affine
 * Niels form (y+x, y-x, 2dxy)). */
#ifndef TXG_ED_GROUP_H
#define TXG_ED_GROUP_H

#include "ed_field.h"

typedef struct { fe X, Y, Z; } ge_p2;
typedef struct { fe X, Y, Z, T; } ge_p3;
typedef struct { fe X, Y, Z, T; } ge_p1p1;
typedef struct { fe YpX, YmX, Z, T2d; } ge_cached;
/* One table entry: 120 bytes padded to two cache lines. */
typedef struct { fe ypx, ymx, xy2d; uint64_t pad; } __attribute__((aligned(64))) ge_precomp;

/* Curve constants, filled by ed_consts_init(). */
struct ed_consts { fe d, d2, sqrtm1; ge_p3 base; };
extern struct ed_consts ed_k;

/* Comb tables. Window j of a comb table for point P holds m * 2^(S j) * P
 * for m = 1..nent (S = the window spacing in bits). The base point's
 * tables use nent = 128 (radix-256 digits of S); one is built per spacing
 * in use (btab_get in ed25519.c). */
#define ED_B_ENTRIES 128

/* Computes ed_k once (thread-safe, idempotent). */
void ed_consts_init(void);

static inline void ge_p3_0(ge_p3 *h)
{
    fe_0(h->X); fe_1(h->Y); fe_1(h->Z); fe_0(h->T);
}

static inline void ge_p1p1_to_p2(ge_p2 *r, const ge_p1p1 *p)
{
    fe_mul(r->X, p->X, p->T);
    fe_mul(r->Y, p->Y, p->Z);
    fe_mul(r->Z, p->Z, p->T);
}

static inline __attribute__((always_inline)) void ge_p1p1_to_p3(ge_p3 *r, const ge_p1p1 *p)
{
    fe_mul(r->X, p->X, p->T);
    fe_mul(r->Y, p->Y, p->Z);
    fe_mul(r->Z, p->Z, p->T);
    fe_mul(r->T, p->X, p->Y);
}

/* r = 2p (p in projective X:Y:Z). */
static inline void ge_p2_dbl(ge_p1p1 *r, const ge_p2 *p)
{
    fe t0;
    fe_sq(r->X, p->X);
    fe_sq(r->Z, p->Y);
    fe_sq(r->T, p->Z);
    fe_add(r->T, r->T, r->T);
    fe_add(r->Y, p->X, p->Y);
    fe_sq(t0, r->Y);
    fe_add(r->Y, r->Z, r->X);
    fe_sub(r->Z, r->Z, r->X);
    fe_sub(r->X, t0, r->Y);
    fe_sub(r->T, r->T, r->Z);
}

static inline void ge_p3_dbl(ge_p1p1 *r, const ge_p3 *p)
{
    ge_p2 q;
    fe_copy(q.X, p->X); fe_copy(q.Y, p->Y); fe_copy(q.Z, p->Z);
    ge_p2_dbl(r, &q);
}

/* h = 2^n p for n >= 1. */
static inline void ge_p3_dbl_n(ge_p3 *h, const ge_p3 *p, int n)
{
    ge_p1p1 t;
    ge_p2 s;
    ge_p3_dbl(&t, p);
    while (--n > 0) {
        ge_p1p1_to_p2(&s, &t);
        ge_p2_dbl(&t, &s);
    }
    ge_p1p1_to_p3(h, &t);
}

static inline void ge_p3_to_cached(ge_cached *r, const ge_p3 *p)
{
    fe_add(r->YpX, p->Y, p->X);
    fe_sub(r->YmX, p->Y, p->X);
    fe_copy(r->Z, p->Z);
    fe_mul(r->T2d, p->T, ed_k.d2);
}

/* r = p + q (q cached). */
static inline void ge_add(ge_p1p1 *r, const ge_p3 *p, const ge_cached *q)
{
    fe t0;
    fe_add(r->X, p->Y, p->X);
    fe_sub(r->Y, p->Y, p->X);
    fe_mul(r->Z, r->X, q->YpX);
    fe_mul(r->Y, r->Y, q->YmX);
    fe_mul(r->T, q->T2d, p->T);
    fe_mul(r->X, p->Z, q->Z);
    fe_add(t0, r->X, r->X);
    fe_sub(r->X, r->Z, r->Y);
    fe_add(r->Y, r->Z, r->Y);
    fe_add(r->Z, t0, r->T);
    fe_sub(r->T, t0, r->T);
}

/* r = p + q (q affine Niels). */
static inline __attribute__((always_inline)) void ge_madd(ge_p1p1 *r, const ge_p3 *p, const ge_precomp *q)
{
    fe t0;
    fe_add(r->X, p->Y, p->X);
    fe_sub(r->Y, p->Y, p->X);
    fe_mul(r->Z, r->X, q->ypx);
    fe_mul(r->Y, r->Y, q->ymx);
    fe_mul(r->T, q->xy2d, p->T);
    fe_add(t0, p->Z, p->Z);
    fe_sub(r->X, r->Z, r->Y);
    fe_add(r->Y, r->Z, r->Y);
    fe_add(r->Z, t0, r->T);
    fe_sub(r->T, t0, r->T);
}

/* r = p - q (q affine Niels). */
static inline __attribute__((always_inline)) void ge_msub(ge_p1p1 *r, const ge_p3 *p, const ge_precomp *q)
{
    fe t0;
    fe_add(r->X, p->Y, p->X);
    fe_sub(r->Y, p->Y, p->X);
    fe_mul(r->Z, r->X, q->ymx);
    fe_mul(r->Y, r->Y, q->ypx);
    fe_mul(r->T, q->xy2d, p->T);
    fe_add(t0, p->Z, p->Z);
    fe_sub(r->X, r->Z, r->Y);
    fe_add(r->Y, r->Z, r->Y);
    fe_sub(r->Z, t0, r->T);
    fe_add(r->T, t0, r->T);
}

/* h += d * tab[|d|-1] for a signed digit d in [-8, 8] (0: no-op). */
static inline void ge_add_digit(ge_p3 *h, const ge_precomp *tab, int d)
{
    ge_p1p1 t;
    if (d > 0) {
        ge_madd(&t, h, &tab[d - 1]);
        ge_p1p1_to_p3(h, &t);
    } else if (d < 0) {
        ge_msub(&t, h, &tab[-d - 1]);
        ge_p1p1_to_p3(h, &t);
    }
}

/* Decodes a 32-byte encoding (y, sign of x); 0 on success, -1 if no such
 * point. Non-canonical y (>= p) is taken mod p, like libsodium. */
int ge_frombytes(ge_p3 *h, const uint8_t s[32]);

/* Canonical encoding of p (one inversion). */
void ge_p3_tobytes(uint8_t s[32], const ge_p3 *p);

/* zinv[i] = 1/pts[i].Z for i < n, with one field inversion for all of them
 * (Montgomery's trick). Every Z must be nonzero. */
void ge_batch_zinv(fe *zinv, const ge_p3 *pts, size_t n);

/* Writes the affine Niels form of n points into out (one shared inversion;
 * scratch holds n field elements). Every Z must be nonzero. */
void ge_normalize(ge_precomp *out, const ge_p3 *pts, size_t n, fe *scratch);

/* Signed radix-256 digits d[0..31] in [-128, 127] of a scalar < 2^255 - 2^7:
 * sum d[i] 256^i = a. */
void ge_recode256(int16_t d[32], const uint8_t a[32]);

/* Signed radix-2^w digits e[0..nd-1] in [-2^(w-1), 2^(w-1)] of a scalar
 * a < 2^253 (2 <= w <= 8, nd * w >= 254): sum e[i] 2^(w i) = a. If negate,
 * the digits of -a are written instead. */
void ge_recode_w(int16_t *e, int nd, const uint8_t a[32], int w, int negate);

/* Fills tab[nwin * nent] for point p: window j holds m * 2^(spacing j) * p
 * for m = 1..nent (nent a power of two, 2^spacing >= nent). pts and scratch
 * must hold nwin * nent elements. Entries are fully reduced (limbs < 2^51). */
void ge_build_comb(ge_precomp *tab, const ge_p3 *p, int nwin, int nent,
                   int spacing, ge_p3 *pts, fe *scratch);

#endif
