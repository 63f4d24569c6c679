/* Enrolled-key Ed25519 verifier: key tables, burst verification with one
 * shared inversion per chunk, libsodium 1.0.18's acceptance rules, and the
 * choice of backend (scalar radix 2^51, or AVX2 with four items at once). */
#include "ed25519.h"
#include "ed_internal.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct txg_ed_ctx {
    size_t max_full;
    const struct ed_kind *kind;
    atomic_size_t n_full;
    atomic_size_t n_keys;
};

#define SMALL_BYTES (sizeof(struct txg_ed_key) + 8 * sizeof(ge_precomp))

/* Items handled together: one inversion per chunk, all on the stack. */
#define CHUNK 32

const ge_precomp ed_identity_precomp = { { 1, 0, 0, 0, 0 }, { 1, 0, 0, 0, 0 },
                                         { 0, 0, 0, 0, 0 }, 0 };

/* ---- table shapes ---------------------------------------------------- */

/* G (interleaved groups) for each table_bits w; see docs/ed25519.md. */
static const int kind_groups[9] = { 0, 0, 0, 0, 4, 3, 3, 2, 2 };

/* kinds[4..8]: full tables; kinds[0]: small tables (window 0 only). */
static struct ed_kind kinds[9];
static atomic_int kind_ready[9];
static pthread_mutex_t kind_lock = PTHREAD_MUTEX_INITIALIZER;

/* Base tables, one per spacing P (window j: m * 2^(P j) * B). */
static ge_precomp *btabs[257];

static const ge_precomp *btab_get(int P)
{
    if (btabs[P] == NULL) {
        int nbwin = 248 / P + 1;
        size_t n = (size_t)nbwin * ED_B_ENTRIES;
        ge_precomp *t = aligned_alloc(64, n * sizeof *t);
        ge_p3 *pts = malloc(n * sizeof *pts);
        fe *scratch = malloc(n * sizeof *scratch);
        if (t != NULL && pts != NULL && scratch != NULL) {
            ge_build_comb(t, &ed_k.base, nbwin, ED_B_ENTRIES, P, pts, scratch);
            btabs[P] = t;
        } else {
            free(t);
        }
        free(pts);
        free(scratch);
    }
    return btabs[P];
}

/* Shape for radix 2^w and G groups. A small table is the shape with
 * G = nd: one window, a plain Horner chain of nd digits (252 doublings),
 * whose B digits all come from window 0 of a one-window base table. */
static int kind_build(struct ed_kind *k, int w, int G)
{
    int P = w * G, nd = (254 + w - 1) / w, nops = 0;
    int prev = -1;
#define EMIT(kd, dg, bs) do {                                              \
        if (nops >= ED_MAX_OPS)                                            \
            abort();                                                       \
        k->ops[nops++] = (struct ed_op){ (kd), (uint8_t)(dg), (uint16_t)(bs) }; \
    } while (0)

    k->w = w;
    k->G = G;
    k->P = P;
    k->nd = nd;
    k->nent = 1 << (w - 1);
    k->nwin = (nd + G - 1) / G;
    k->nbwin = 248 / P + 1;
    k->key_bytes = sizeof(struct txg_ed_key) +
                   (size_t)k->nwin * (size_t)k->nent * sizeof(ge_precomp);
    k->btab = btab_get(P);
    if (k->btab == NULL)
        return -1;
    k->nadds = 0;
    for (int o = P - 1; o >= 0; o--) {
        int stop = 0;
        if (o % w == 0 && o / w < G)
            for (int j = 0; j < k->nwin; j++)
                stop |= j * G + o / w < nd;
        for (int b = 0; b < 32; b++)
            stop |= (8 * b) % P == o;
        if (!stop)
            continue;
        if (prev >= 0)
            EMIT(ED_OP_DBL, prev - o, 0);
        prev = o;
        for (int j = 0; j < k->nwin; j++) {
            if (o % w == 0 && o / w < G && j * G + o / w < nd)
                EMIT(ED_OP_A, j * G + o / w, j * k->nent);
            for (int b = 0; b < 32; b++)
                if ((8 * b) % P == o && (8 * b) / P == j)
                    EMIT(ED_OP_B, b, j * ED_B_ENTRIES);
        }
        for (int b = 0; b < 32; b++) /* B windows beyond the key's */
            if ((8 * b) % P == o && (8 * b) / P >= k->nwin)
                EMIT(ED_OP_B, b, (8 * b) / P * ED_B_ENTRIES);
    }
#undef EMIT
    k->nops = nops;
    {   /* self-check: every digit added exactly once */
        int seen_a[ED_MAX_DIGITS] = { 0 }, seen_b[32] = { 0 };
        for (int t = 0; t < nops; t++) {
            if (k->ops[t].kind == ED_OP_A)
                seen_a[k->ops[t].digit]++;
            else if (k->ops[t].kind == ED_OP_B)
                seen_b[k->ops[t].digit]++;
            k->nadds += k->ops[t].kind != ED_OP_DBL;
        }
        for (int i = 0; i < nd; i++)
            if (seen_a[i] != 1)
                abort();
        for (int i = 0; i < 32; i++)
            if (seen_b[i] != 1)
                abort();
    }
    return 0;
}

const struct ed_kind *ed_kind_get(int w)
{
    const struct ed_kind *r = NULL;

    if (w < TXG_ED_TABLE_BITS_MIN || w > TXG_ED_TABLE_BITS_MAX)
        return NULL;
    if (atomic_load_explicit(&kind_ready[w], memory_order_acquire))
        return &kinds[w];
    ed_consts_init();
    pthread_mutex_lock(&kind_lock);
    if (!atomic_load_explicit(&kind_ready[0], memory_order_relaxed) &&
        kind_build(&kinds[0], 4, 64) == 0)
        atomic_store_explicit(&kind_ready[0], 1, memory_order_release);
    if (atomic_load_explicit(&kind_ready[0], memory_order_relaxed) &&
        (atomic_load_explicit(&kind_ready[w], memory_order_relaxed) ||
         kind_build(&kinds[w], w, kind_groups[w]) == 0)) {
        atomic_store_explicit(&kind_ready[w], 1, memory_order_release);
        r = &kinds[w];
    }
    pthread_mutex_unlock(&kind_lock);
    return r;
}

/* The small-table shape (valid once any ed_kind_get succeeded). */
static const struct ed_kind *kind_small(void)
{
    return &kinds[0];
}

size_t txg_ed_table_bytes(unsigned table_bits)
{
    int w = (int)table_bits, G, nd;

    if (table_bits < TXG_ED_TABLE_BITS_MIN || table_bits > TXG_ED_TABLE_BITS_MAX)
        return 0;
    G = kind_groups[w];
    nd = (254 + w - 1) / w;
    return sizeof(struct txg_ed_key) +
           (size_t)((nd + G - 1) / G) * ((size_t)1 << (w - 1)) * sizeof(ge_precomp);
}

unsigned txg_ed_table_bits_for_budget(size_t budget_bytes, size_t nkeys)
{
    unsigned best = TXG_ED_TABLE_BITS_MIN;
    for (unsigned b = TXG_ED_TABLE_BITS_MIN; b <= TXG_ED_TABLE_BITS_MAX; b++)
        if (nkeys == 0 || txg_ed_table_bytes(b) <= budget_bytes / nkeys)
            best = b;
    return best;
}

/* ---- backends -------------------------------------------------------- */

enum { BK_SCALAR = 0, BK_AVX2 = 1 };
static atomic_int g_backend = -1;

static int avx2_usable(void)
{
#ifdef TXG_ED_HAVE_AVX2
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
#else
    return 0;
#endif
}

static int backend_default(void)
{
    const char *e = getenv("TXG_ED25519_BACKEND");
    if (e != NULL && strcmp(e, "scalar") == 0)
        return BK_SCALAR;
    return avx2_usable() ? BK_AVX2 : BK_SCALAR;
}

static int backend_get(void)
{
    int b = atomic_load_explicit(&g_backend, memory_order_relaxed);
    if (b < 0) {
        int exp = -1;
        atomic_compare_exchange_strong(&g_backend, &exp, backend_default());
        b = atomic_load(&g_backend);
    }
    return b;
}

const char *txg_ed_backend_name(void)
{
    return backend_get() == BK_AVX2 ? "avx2" : "scalar";
}

int txg_ed_set_backend(const char *name)
{
    if (name == NULL || strcmp(name, "auto") == 0) {
        atomic_store(&g_backend, avx2_usable() ? BK_AVX2 : BK_SCALAR);
        return 0;
    }
    if (strcmp(name, "scalar") == 0) {
        atomic_store(&g_backend, BK_SCALAR);
        return 0;
    }
    if (strcmp(name, "avx2") == 0 && avx2_usable()) {
        atomic_store(&g_backend, BK_AVX2);
        return 0;
    }
    return -1;
}

/* ---- context and keys ------------------------------------------------ */

size_t txg_ed_key_bytes(void) { return txg_ed_table_bytes(TXG_ED_TABLE_BITS_DEFAULT); }
size_t txg_ed_key_small_bytes(void) { return SMALL_BYTES; }

struct txg_ed_ctx *txg_ed_ctx_new2(size_t max_table_keys, unsigned table_bits)
{
    struct txg_ed_ctx *ctx;
    const struct ed_kind *kind;

    if (sodium_init() < 0)
        return NULL;
    kind = ed_kind_get((int)table_bits);
    if (kind == NULL)
        return NULL;
    (void)backend_get();
    ctx = malloc(sizeof *ctx);
    if (ctx == NULL)
        return NULL;
    ctx->max_full = max_table_keys;
    ctx->kind = kind;
    atomic_init(&ctx->n_full, 0);
    atomic_init(&ctx->n_keys, 0);
    return ctx;
}

struct txg_ed_ctx *txg_ed_ctx_new(size_t max_table_keys)
{
    return txg_ed_ctx_new2(max_table_keys, TXG_ED_TABLE_BITS_DEFAULT);
}

void txg_ed_ctx_delete(struct txg_ed_ctx *ctx)
{
    free(ctx);
}

size_t txg_ed_ctx_full_keys(const struct txg_ed_ctx *ctx)
{
    return atomic_load(&ctx->n_full);
}

size_t txg_ed_ctx_key_bytes(const struct txg_ed_ctx *ctx)
{
    return ctx->kind->key_bytes;
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
    const struct ed_kind *k;
    ge_p3 a, *pts;
    fe *scratch;
    uint8_t chk[32];
    int full, nwin, nent;

    if (ctx == NULL || pk == NULL || !crypto_core_ed25519_is_valid_point(pk))
        return NULL;
    if (ge_frombytes(&a, pk) != 0)
        return NULL;
    ge_p3_tobytes(chk, &a);
    if (memcmp(chk, pk, 32) != 0) /* canonical keys round-trip exactly */
        return NULL;
    k = ctx->kind;
    full = claim_full(ctx);
    nwin = full ? k->nwin : 1;
    nent = full ? k->nent : kind_small()->nent;
    key = aligned_alloc(64, full ? k->key_bytes : SMALL_BYTES);
    pts = malloc((size_t)nwin * (size_t)nent * sizeof *pts);
    scratch = malloc((size_t)nwin * (size_t)nent * sizeof *scratch);
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
    key->kind = full ? k : kind_small();
    ge_build_comb(key->tab, &a, nwin, nent, full ? k->P : kind_small()->P,
                  pts, scratch);
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

/* q = [s]B + [-h]A: the key's kind's chain of table additions
 * and doublings. Prefetches ED_PF_DIST steps ahead, running into nxt's
 * first steps near the end. */
static void chain_scalar(ge_p3 *q, const struct ed_work *w,
                         const struct ed_work *nxt)
{
    const struct txg_ed_key *key = w->key;
    const struct ed_kind *k = key->kind;

    ge_p3_0(q);
    for (int t = 0; t < ED_PF_DIST && t < k->nops; t++)
        ed_prefetch_op(w, t);
    for (int t = 0; t < k->nops; t++) {
        const struct ed_op *op = &k->ops[t];
        int tp = t + ED_PF_DIST;
        if (tp < k->nops)
            ed_prefetch_op(w, tp);
        else if (nxt != NULL)
            ed_prefetch_op(nxt, tp - k->nops);
        if (op->kind == ED_OP_A)
            ge_add_digit(q, key->tab + op->base, w->eh[op->digit]);
        else if (op->kind == ED_OP_B)
            ge_add_digit(q, k->btab + op->base, w->ds[op->digit]);
        else
            ge_p3_dbl_n(q, q, op->digit);
    }
}

/* Items of one kind, taken four at a time by the AVX2 backend; a tail of
 * fewer than AVX2_PAD_MIN items goes to the scalar chain, a longer one is
 * padded with repeats of its last item (four lanes cost about as much as
 * 2.2 scalar chains, and measured: 2 items are faster scalar). */
#define AVX2_PAD_MIN 3

static void run_full(ge_p3 *q, const struct ed_work *w, const size_t *lst,
                     size_t m, int backend)
{
    size_t i = 0;
#ifdef TXG_ED_HAVE_AVX2
    if (backend == BK_AVX2) {
        for (; i < m && (i + 4 <= m || m - i >= AVX2_PAD_MIN); i += 4) {
            const struct ed_work *ww[4], *nn[4];
            ge_p3 qq[4];
            for (size_t l = 0; l < 4; l++) {
                ww[l] = &w[lst[i + l < m ? i + l : m - 1]];
                nn[l] = i + 4 + l < m ? &w[lst[i + 4 + l]] : NULL;
            }
            ed_avx2_chain4(qq, ww, nn);
            for (size_t l = 0; l < 4 && i + l < m; l++)
                q[lst[i + l]] = qq[l];
        }
    }
#else
    (void)backend;
#endif
    for (; i < m; i++)
        chain_scalar(&q[lst[i]], &w[lst[i]], i + 1 < m ? &w[lst[i + 1]] : NULL);
}

static void hash_one(uint8_t h[64], const struct txg_ed_item *it)
{
    crypto_hash_sha512_state hs;
    crypto_hash_sha512_init(&hs);
    crypto_hash_sha512_update(&hs, it->sig, 32);
    crypto_hash_sha512_update(&hs, it->key->pk, 32);
    if (it->len)
        crypto_hash_sha512_update(&hs, it->msg, it->len);
    crypto_hash_sha512_final(&hs, h);
}

/* hh[k] = SHA-512(R || A || M) of live item k: four at a time with the
 * AVX2 backend (in order of block count, so that lanes finish together; a
 * last group of 3 is padded, 1-2 left over go to libsodium: four lanes
 * cost about two libsodium hashes), else with libsodium. */
static void hash_all(uint8_t hh[][64], const struct txg_ed_item *items,
                     const struct ed_work *w, size_t nlive, int backend)
{
    size_t k = 0;
#ifdef TXG_ED_HAVE_AVX2
    if (backend == BK_AVX2 && nlive >= 3) {
        size_t ord[CHUNK], nb[CHUNK];
        for (size_t i = 0; i < nlive; i++) {  /* insertion sort by blocks */
            size_t j = i, b = (items[w[i].idx].len + 80) / 128;
            while (j > 0 && nb[j - 1] > b) {
                ord[j] = ord[j - 1];
                nb[j] = nb[j - 1];
                j--;
            }
            ord[j] = i;
            nb[j] = b;
        }
        for (; k + 3 <= nlive; k += 4) {
            const uint8_t *r[4], *a[4], *m[4];
            size_t len[4];
            uint8_t out[4][64];
            for (int l = 0; l < 4; l++) {
                const struct txg_ed_item *it =
                    &items[w[ord[k + (size_t)l < nlive ? k + (size_t)l : nlive - 1]].idx];
                r[l] = it->sig;
                a[l] = it->key->pk;
                m[l] = it->msg;
                len[l] = it->len;
            }
            ed_avx2_sha512x4(out, r, a, m, len);
            for (size_t l = 0; l < 4 && k + l < nlive; l++)
                memcpy(hh[ord[k + l]], out[l], 64);
        }
        for (; k < nlive; k++) {             /* 1-2 left over */
            size_t i = ord[k];
            const struct txg_ed_item *it = &items[w[i].idx];
            hash_one(hh[i], it);
        }
        return;
    }
#else
    (void)backend;
#endif
    for (; k < nlive; k++)
        hash_one(hh[k], &items[w[k].idx]);
}

static void verify_chunk(const struct txg_ed_item *items, size_t n,
                         uint8_t *ok)
{
    struct ed_work w[CHUNK];
    ge_p3 q[CHUNK];
    fe zinv[CHUNK];
    size_t nlive = 0, lst[CHUNK];
    uint8_t done[CHUNK], hh[CHUNK][64];
    int backend = backend_get();

    for (size_t i = 0; i < n; i++) {
        const struct txg_ed_item *it = &items[i];

        ok[i] = 0;
        if (it->key == NULL || it->sig == NULL || (it->msg == NULL && it->len))
            continue;
        if (!sc_is_canonical(it->sig + 32) || has_small_order(it->sig))
            continue;
        w[nlive].key = it->key;
        w[nlive].idx = i;
        nlive++;
    }
    hash_all(hh, items, w, nlive, backend);
    for (size_t k = 0; k < nlive; k++) {
        uint8_t hr[32];
        crypto_core_ed25519_scalar_reduce(hr, hh[k]);
        ge_recode256(w[k].ds, items[w[k].idx].sig + 32);
        ge_recode_w(w[k].eh, w[k].key->kind->nd, hr, w[k].key->kind->w, 1);
    }
    if (nlive == 0)
        return;
    memset(done, 0, nlive);
    for (size_t a = 0; a < nlive; a++) {
        const struct ed_kind *k = w[a].key->kind;
        size_t m = 0;
        if (done[a])
            continue;
        for (size_t b = a; b < nlive; b++)
            if (!done[b] && w[b].key->kind == k) {
                lst[m++] = b;
                done[b] = 1;
            }
        run_full(q, w, lst, m, backend);
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
