/* Internal interfaces of the Ed25519 verifier: table kinds (comb shapes),
 * the per-item work record, and the backends' entry points. */
#ifndef TXG_ED_INTERNAL_H
#define TXG_ED_INTERNAL_H

#include "ed25519.h"
#include "ed_group.h"

/* One step of the shared Horner chain that computes [s]B + [-h]A. */
enum { ED_OP_A = 0, ED_OP_B = 1, ED_OP_DBL = 2 };
struct ed_op {
    uint8_t kind;      /* ED_OP_A / ED_OP_B: add a digit; ED_OP_DBL: double */
    uint8_t digit;     /* digit index (A: eh[], B: ds[]); DBL: count */
    uint16_t base;     /* first entry of the digit's window in the table */
};

#define ED_MAX_OPS 256
#define ED_MAX_DIGITS 64

/* A table shape. Key digits: radix 2^w, nd of them, in G interleaved
 * groups; window j of the key table holds m * 2^(P j) * A (P = w G,
 * m = 1..nent = 2^(w-1)); digit i = j G + g sits at bit P j + w g. S's
 * radix-256 digits k sit at bit 8k, in window 8k / P of the base table
 * for spacing P. The chain (ops) visits the distinct in-window offsets
 * from the highest down to 0, doubling in between (as many doublings as
 * the highest offset), and adds every digit at its offset exactly once.
 * Small tables are the shape w = 4, G = nd = 64 (one window). */
struct ed_kind {
    int w, G, P, nd, nwin, nent, nbwin;
    size_t key_bytes;               /* header + table */
    const ge_precomp *btab;         /* base table for spacing P */
    int nops, nadds;
    struct ed_op ops[ED_MAX_OPS];
};

/* The shape for table_bits w (4..8), built once with its base table
 * (thread-safe); NULL if w is unsupported or on OOM. */
const struct ed_kind *ed_kind_get(int w);

struct txg_ed_key {
    uint8_t pk[32];
    const struct ed_kind *kind;    /* table shape (full or small) */
    uint32_t full;                 /* 1: full table; 0: small */
    ge_precomp tab[];              /* window j at tab[j * nent] */
};

_Static_assert(sizeof(struct txg_ed_key) == 64, "key header is one cache line");

struct ed_work {
    int16_t ds[32];                /* radix-256 digits of S */
    int16_t eh[ED_MAX_DIGITS];     /* radix-2^w digits of -h */
    const struct txg_ed_key *key;
    size_t idx;                    /* index in the chunk */
};

/* Affine Niels form of the neutral element: (1, 1, 0). */
extern const ge_precomp ed_identity_precomp;

/* Entry for a signed digit d != 0 of window `win`. */
static inline const ge_precomp *ed_entry(const ge_precomp *win, int d)
{
    return &win[(d < 0 ? -d : d) - 1];
}

/* Prefetch distance in chain steps (key and base-table entries both:
 * without the base-table ones the scalar backend lost 9 %). */
#define ED_PF_DIST 6

/* always_inline: GCC's IPA pure-const pass otherwise judges prefetch-only
 * helpers side-effect free and deletes their calls. */
static inline __attribute__((always_inline)) void
ed_prefetch_op(const struct ed_work *w, int t)
{
    const struct ed_kind *k = w->key->kind;
    const struct ed_op *op = &k->ops[t];
    int d;
    const ge_precomp *tab;

    if (op->kind == ED_OP_DBL)
        return;
    if (op->kind == ED_OP_A) {
        d = w->eh[op->digit];
        tab = w->key->tab;
    } else {
        d = w->ds[op->digit];
        tab = k->btab;
    }
    if (d != 0) {
        const char *p = (const char *)ed_entry(tab + op->base, d);
        __builtin_prefetch(p);
        __builtin_prefetch(p + 64);
    }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define TXG_ED_HAVE_AVX2 1
/* q[l] = [s]B + [-h]A for the four items w[l], which share one kind. nxt[l] (may be NULL) are prefetched near the end. Only
 * X, Y, Z of q are written. */
void ed_avx2_chain4(ge_p3 q[4], const struct ed_work *const w[4],
                    const struct ed_work *const nxt[4]);
/* out[l] = SHA-512(r[l] || a[l] || m[l][0..len[l]-1]) for four lanes
 * (r, a: 32 bytes; m may be NULL when len is 0). */
void ed_avx2_sha512x4(uint8_t out[4][64], const uint8_t *const r[4],
                      const uint8_t *const a[4], const uint8_t *const m[4],
                      const size_t len[4]);
#endif

#endif
