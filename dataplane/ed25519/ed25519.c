/* Enrolled-key Ed25519 verifier: key tables, burst verification with one
 * shared inversion per chunk, libsodium 1.0.18's acceptance rules. */
#include "ed25519.h"
#include "ed_group.h"

#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>

struct txg_ed_ctx {
    size_t max_full;
    atomic_size_t n_full;
    atomic_size_t n_keys;
};

struct txg_ed_key {
    uint8_t pk[32];
    uint32_t full;                 /* 1: ED_A_WINDOWS windows; 0: one */
    ge_precomp tab[];              /* window j at tab[j * ED_A_ENTRIES] */
};

_Static_assert(sizeof(struct txg_ed_key) == 64, "key header is one cache line");

#define FULL_BYTES (sizeof(struct txg_ed_key) + \
                    ED_A_WINDOWS * ED_A_ENTRIES * sizeof(ge_precomp))
#define SMALL_BYTES (sizeof(struct txg_ed_key) + \
                     ED_A_ENTRIES * sizeof(ge_precomp))

/* Items handled together: one inversion per chunk, all on the stack. */
#define CHUNK 32

size_t txg_ed_key_bytes(void) { return FULL_BYTES; }
size_t txg_ed_key_small_bytes(void) { return SMALL_BYTES; }

struct txg_ed_ctx *txg_ed_ctx_new(size_t max_table_keys)
{
    struct txg_ed_ctx *ctx;

    if (sodium_init() < 0 || ed_consts_init() != 0)
        return NULL;
    ctx = malloc(sizeof *ctx);
    if (ctx == NULL)
        return NULL;
    ctx->max_full = max_table_keys;
    atomic_init(&ctx->n_full, 0);
    atomic_init(&ctx->n_keys, 0);
    return ctx;
}

void txg_ed_ctx_delete(struct txg_ed_ctx *ctx)
{
    free(ctx);
}

size_t txg_ed_ctx_full_keys(const struct txg_ed_ctx *ctx)
{
    return atomic_load(&ctx->n_full);
}

/* Claims one full-table slot below the cap; 1 on success. */
static int claim_full(struct txg_ed_ctx *ctx)
{
    size_t cur = atomic_load(&ctx->n_full);
    while (cur < ctx->max_full)
        if (atomic_compare_exchange_weak(&ctx->n_full, &cur, cur + 1))
            return 1;
    return 0;
}

struct txg_ed_key *txg_ed_enrol(struct txg_ed_ctx *ctx, const uint8_t pk[32])
{
    struct txg_ed_key *key;
    ge_p3 a, *pts;
    fe *scratch;
    uint8_t chk[32];
    int full, nwin;

    if (ctx == NULL || pk == NULL || !crypto_core_ed25519_is_valid_point(pk))
        return NULL;
    if (ge_frombytes(&a, pk) != 0)
        return NULL;
    ge_p3_tobytes(chk, &a);
    if (memcmp(chk, pk, 32) != 0) /* canonical keys round-trip exactly */
        return NULL;
    full = claim_full(ctx);
    nwin = full ? ED_A_WINDOWS : 1;
    key = aligned_alloc(64, full ? FULL_BYTES : SMALL_BYTES);
    pts = malloc((size_t)nwin * ED_A_ENTRIES * sizeof *pts);
    scratch = malloc((size_t)nwin * ED_A_ENTRIES * sizeof *scratch);
    if (key == NULL || pts == NULL || scratch == NULL) {
        free(key);
        free(pts);
        free(scratch);
        if (full)
            atomic_fetch_sub(&ctx->n_full, 1);
        return NULL;
    }
    memcpy(key->pk, pk, 32);
    key->full = (uint32_t)full;
    ge_build_comb(key->tab, &a, nwin, ED_A_ENTRIES, pts, scratch);
    free(pts);
    free(scratch);
    atomic_fetch_add(&ctx->n_keys, 1);
    return key;
}

void txg_ed_forget(struct txg_ed_ctx *ctx, struct txg_ed_key *key)
{
    if (key == NULL)
        return;
    if (key->full)
        atomic_fetch_sub(&ctx->n_full, 1);
    atomic_fetch_sub(&ctx->n_keys, 1);
    free(key);
}

const uint8_t *txg_ed_key_pk(const struct txg_ed_key *key)
{
    return key->pk;
}

int txg_ed_key_has_full_table(const struct txg_ed_key *key)
{
    return (int)key->full;
}

/* S < L (libsodium's sc25519_is_canonical). */
static int sc_is_canonical(const uint8_t s[32])
{
    static const uint8_t L[32] = {
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
        0xa2, 0xde, 0xf9, 0xde, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10
    };
    for (int i = 31; i >= 0; i--) {
        if (s[i] < L[i])
            return 1;
        if (s[i] > L[i])
            return 0;
    }
    return 0;
}

/* libsodium 1.0.18's ge25519_has_small_order: the encoding, with the sign
 * bit ignored, equals one of 7 blocked y values (0, 1, the two order-8 y,
 * p-1, p, p+1). */
static int has_small_order(const uint8_t s[32])
{
    static const uint8_t block[7][32] = {
        { 0 },
        { 0x01 },
        { 0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4,
          0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6,
          0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05 },
        { 0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b,
          0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39,
          0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a },
        { 0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
          0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
          0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },
        { 0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
          0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
          0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },
        { 0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
          0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
          0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },
    };
    for (int i = 0; i < 7; i++)
        if (memcmp(s, block[i], 31) == 0 && (s[31] & 0x7f) == block[i][31])
            return 1;
    return 0;
}

struct work {
    int16_t ds[32];                /* radix-256 digits of S */
    int8_t eh[64];                 /* radix-16 digits of -h */
    const struct txg_ed_key *key;
    size_t idx;                    /* index in the chunk */
};

/* always_inline: GCC's IPA pure-const pass otherwise judges these
 * prefetch-only helpers side-effect free and deletes their calls. */
static inline __attribute__((always_inline)) void prefetch_entry(const ge_precomp *win, int d)
{
    if (d != 0) {
        const char *p = (const char *)&win[(d < 0 ? -d : d) - 1];
        __builtin_prefetch(p);
        __builtin_prefetch(p + 64);
    }
}

/* Prefetches the table entries group g of item w will read. */
static inline __attribute__((always_inline)) void prefetch_group(const struct work *w, int g)
{
    const ge_precomp *at = w->key->tab;
    for (int j = 0; j < ED_A_WINDOWS; j++) {
        prefetch_entry(at + j * ED_A_ENTRIES, w->eh[4 * j + g]);
        if ((g & 1) == 0)
            prefetch_entry(ed_base_comb + j * ED_B_ENTRIES, w->ds[2 * j + g / 2]);
    }
}

/* q = [s]B + [-h]A with full tables. The radix-16 digits of h fall in four
 * groups g (index mod 4), added in Horner order with 4 doublings between
 * groups; B's radix-256 digit i sits at 16^(2i), i.e. group 2i mod 4.
 * 64 + 32 table additions, 12 doublings. Prefetches nxt's entries. */
static void mul_full(ge_p3 *q, const struct work *w, const struct work *nxt)
{
    const ge_precomp *at = w->key->tab;

    ge_p3_0(q);
    for (int g = 3; g >= 0; g--) {
        if (g != 3)
            ge_p3_dbl_n(q, q, 4);
        if (nxt != NULL)
            prefetch_group(nxt, g);
        for (int j = 0; j < ED_A_WINDOWS; j++) {
            if ((g & 1) == 0)
                ge_add_digit(q, ed_base_comb + j * ED_B_ENTRIES, w->ds[2 * j + g / 2]);
            ge_add_digit(q, at + j * ED_A_ENTRIES, w->eh[4 * j + g]);
        }
    }
}

/* Same with only window 0 of A's table: Horner over 64 radix-16 digits,
 * B's radix-256 digits from window 0 of B's table at even positions. */
static void mul_small(ge_p3 *q, const struct work *w)
{
    const ge_precomp *at = w->key->tab;

    ge_p3_0(q);
    for (int m = 63; m >= 0; m--) {
        if (m != 63)
            ge_p3_dbl_n(q, q, 4);
        if ((m & 1) == 0)
            ge_add_digit(q, ed_base_comb, w->ds[m / 2]);
        ge_add_digit(q, at, w->eh[m]);
    }
}

static void verify_chunk(const struct txg_ed_item *items, size_t n,
                         uint8_t *ok)
{
    struct work w[CHUNK];
    ge_p3 q[CHUNK];
    fe zinv[CHUNK];
    size_t nlive = 0;

    for (size_t i = 0; i < n; i++) {
        const struct txg_ed_item *it = &items[i];
        crypto_hash_sha512_state hs;
        uint8_t h[64], hr[32];

        ok[i] = 0;
        if (it->key == NULL || it->sig == NULL || (it->msg == NULL && it->len))
            continue;
        if (!sc_is_canonical(it->sig + 32) || has_small_order(it->sig))
            continue;
        crypto_hash_sha512_init(&hs);
        crypto_hash_sha512_update(&hs, it->sig, 32);
        crypto_hash_sha512_update(&hs, it->key->pk, 32);
        if (it->len)
            crypto_hash_sha512_update(&hs, it->msg, it->len);
        crypto_hash_sha512_final(&hs, h);
        crypto_core_ed25519_scalar_reduce(hr, h);
        ge_recode256(w[nlive].ds, it->sig + 32);
        ge_recode16(w[nlive].eh, hr, 1);
        w[nlive].key = it->key;
        w[nlive].idx = i;
        nlive++;
    }
    if (nlive == 0)
        return;
    if (w[0].key->full)
        for (int g = 0; g < 4; g++)
            prefetch_group(&w[0], g);
    for (size_t k = 0; k < nlive; k++) {
        if (w[k].key->full)
            mul_full(&q[k], &w[k],
                     k + 1 < nlive && w[k + 1].key->full ? &w[k + 1] : NULL);
        else
            mul_small(&q[k], &w[k]);
    }
    /* Montgomery's trick: one inversion for the chunk. */
    fe x, y;
    ge_batch_zinv(zinv, q, nlive);
    for (size_t k = 0; k < nlive; k++) {
        uint8_t enc[32];
        fe_mul(x, q[k].X, zinv[k]);
        fe_mul(y, q[k].Y, zinv[k]);
        fe_tobytes(enc, y);
        enc[31] ^= (uint8_t)(fe_isnegative(x) << 7);
        ok[w[k].idx] = memcmp(enc, items[w[k].idx].sig, 32) == 0;
    }
}

void txg_ed_verify_burst(const struct txg_ed_item *items, size_t n,
                         uint8_t *ok)
{
    for (size_t off = 0; off < n; off += CHUNK)
        verify_chunk(items + off, n - off < CHUNK ? n - off : CHUNK, ok + off);
}
