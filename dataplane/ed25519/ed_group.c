/* Point encoding/decoding, batch normalisation, scalar recoding and comb
 * table construction for the Ed25519 verifier. */
#include "ed_group.h"

#include <pthread.h>
#include <stdlib.h>

struct ed_consts ed_k;

static pthread_once_t consts_once = PTHREAD_ONCE_INIT;

/* sqrt(-1) mod p, little-endian. */
static const uint8_t sqrtm1_bytes[32] = {
    0xb0, 0xa0, 0x0e, 0x4a, 0x27, 0x1b, 0xee, 0xc4, 0x78, 0xe4, 0x2f,
    0xad, 0x06, 0x18, 0x43, 0x2f, 0xa7, 0xd7, 0xfb, 0x3d, 0x99, 0x00,
    0x4d, 0x2b, 0x0b, 0xdf, 0xc1, 0x4f, 0x80, 0x24, 0x83, 0x2b
};

static void consts_compute(void)
{
    fe a, b, t;
    uint8_t enc[32];

    /* d = -121665 / 121666 */
    fe_0(a); a[0] = 121665;
    fe_0(b); b[0] = 121666;
    fe_invert(t, b);
    fe_mul(t, t, a);
    fe_neg(ed_k.d, t);
    fe_add(ed_k.d2, ed_k.d, ed_k.d);
    fe_carry(ed_k.d2);
    fe_frombytes(ed_k.sqrtm1, sqrtm1_bytes);
    /* B: y = 4/5, x even */
    memset(enc, 0x66, 32);
    enc[0] = 0x58;
    if (ge_frombytes(&ed_k.base, enc) != 0)
        abort();
    /* self-check: sqrtm1^2 = -1 */
    fe_sq(t, ed_k.sqrtm1);
    fe_1(a);
    fe_add(t, t, a);
    if (!fe_iszero(t))
        abort();
}

void ed_consts_init(void)
{
    pthread_once(&consts_once, consts_compute);
}

int ge_frombytes(ge_p3 *h, const uint8_t s[32])
{
    fe u, v, v3, vxx, chk;

    fe_frombytes(h->Y, s);
    fe_1(h->Z);
    fe_sq(u, h->Y);
    fe_mul(v, u, ed_k.d);
    fe_sub(u, u, h->Z);          /* u = y^2 - 1 */
    fe_add(v, v, h->Z);          /* v = d y^2 + 1 */
    fe_sq(v3, v);
    fe_mul(v3, v3, v);           /* v^3 */
    fe_sq(h->X, v3);
    fe_mul(h->X, h->X, v);
    fe_mul(h->X, h->X, u);       /* u v^7 */
    fe_pow22523(h->X, h->X);
    fe_mul(h->X, h->X, v3);
    fe_mul(h->X, h->X, u);       /* u v^3 (u v^7)^((p-5)/8) */
    fe_sq(vxx, h->X);
    fe_mul(vxx, vxx, v);
    fe_sub(chk, vxx, u);
    if (!fe_iszero(chk)) {
        fe_add(chk, vxx, u);
        if (!fe_iszero(chk))
            return -1;
        fe_mul(h->X, h->X, ed_k.sqrtm1);
    }
    if (fe_isnegative(h->X) != (s[31] >> 7))
        fe_neg(h->X, h->X);
    fe_mul(h->T, h->X, h->Y);
    return 0;
}

void ge_p3_tobytes(uint8_t s[32], const ge_p3 *p)
{
    fe zi, x, y;
    fe_invert(zi, p->Z);
    fe_mul(x, p->X, zi);
    fe_mul(y, p->Y, zi);
    fe_tobytes(s, y);
    s[31] ^= (uint8_t)(fe_isnegative(x) << 7);
}

void ge_batch_zinv(fe *zinv, const ge_p3 *pts, size_t n)
{
    fe inv;

    if (n == 0)
        return;
    /* Prefix products, one inversion, then back: zinv[i] holds the prefix
     * product up to i until the backward pass replaces it with 1/Z[i]. */
    fe_copy(zinv[0], pts[0].Z);
    for (size_t i = 1; i < n; i++)
        fe_mul(zinv[i], zinv[i - 1], pts[i].Z);
    fe_invert(inv, zinv[n - 1]);
    for (size_t i = n; i-- > 1;) {
        fe_mul(zinv[i], inv, zinv[i - 1]);
        fe_mul(inv, inv, pts[i].Z);
    }
    fe_copy(zinv[0], inv);
}

void ge_normalize(ge_precomp *out, const ge_p3 *pts, size_t n, fe *scratch)
{
    fe x, y;

    ge_batch_zinv(scratch, pts, n);
    for (size_t i = 0; i < n; i++) {
        fe_mul(x, pts[i].X, scratch[i]);
        fe_mul(y, pts[i].Y, scratch[i]);
        fe_add(out[i].ypx, y, x);
        fe_canon(out[i].ypx);
        fe_sub(out[i].ymx, y, x);
        fe_canon(out[i].ymx);
        fe_mul(out[i].xy2d, x, y);
        fe_mul(out[i].xy2d, out[i].xy2d, ed_k.d2);
        fe_canon(out[i].xy2d);
        out[i].pad = 0;
    }
}

void ge_recode_w(int16_t *e, int nd, const uint8_t a[32], int w, int negate)
{
    int carry = 0, half = 1 << (w - 1), mask = (1 << w) - 1;
    for (int i = 0; i < nd; i++) {
        int bit = i * w, byte = bit >> 3, v;
        unsigned win = 0;
        if (byte < 32)
            win = a[byte];
        if (byte + 1 < 32)
            win |= (unsigned)a[byte + 1] << 8;
        v = (int)((win >> (bit & 7)) & (unsigned)mask) + carry;
        if (i == nd - 1) {             /* top digit keeps the carry */
            e[i] = (int16_t)v;
            break;
        }
        carry = (v + half) >> w;
        e[i] = (int16_t)(v - (carry << w));
    }
    if (negate)
        for (int i = 0; i < nd; i++)
            e[i] = (int16_t)-e[i];
}

void ge_recode256(int16_t d[32], const uint8_t a[32])
{
    int carry = 0;
    for (int i = 0; i < 32; i++) {
        int v = a[i] + carry;
        carry = (v + 128) >> 8;
        d[i] = (int16_t)(v - carry * 256);
    }
}

void ge_build_comb(ge_precomp *tab, const ge_p3 *p, int nwin, int nent,
                   int spacing, ge_p3 *pts, fe *scratch)
{
    size_t n = (size_t)nwin * (size_t)nent;
    int lg = 0;
    ge_p3 base = *p;
    ge_cached bc;
    ge_p1p1 t;

    while ((1 << lg) < nent)
        lg++;
    for (int j = 0; j < nwin; j++) {
        ge_p3 *w = &pts[(size_t)j * (size_t)nent];
        w[0] = base;
        if (nent > 1) {
            ge_p3_dbl(&t, &base);
            ge_p1p1_to_p3(&w[1], &t);
        }
        ge_p3_to_cached(&bc, &base);
        for (int m = 2; m < nent; m++) {
            ge_add(&t, &w[m - 1], &bc);
            ge_p1p1_to_p3(&w[m], &t);
        }
        if (j + 1 < nwin) { /* next = 2^S base = 2^(S - lg) * (nent * base) */
            if (spacing > lg)
                ge_p3_dbl_n(&base, &w[nent - 1], spacing - lg);
            else
                base = w[nent - 1];
        }
    }
    ge_normalize(tab, pts, n, scratch);
}
