/* Differential test: txg_ed_verify_burst against libsodium's
 * crypto_sign_verify_detached on valid signatures and every class of
 * corruption, every burst verified by every backend (test_backends.h).
 * Default: a quick slice (unit suite) at the default table width plus a
 * smaller one at each other width. With "--slow COUNT SEED [TABLE_BITS]":
 * at least COUNT signatures from seed SEED. */
#include "ed25519.h"
#include "test_backends.h"
#include "test_sigs.h"

#include <CUnit/Basic.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NKEYS 48
#define CAP 40          /* keys beyond the cap get small tables */
#define MAXMSG 2000
#define MAXB 64

static size_t g_target = 24000;
static uint64_t g_seed = 1;
static unsigned g_bits = TXG_ED_TABLE_BITS_DEFAULT;

struct pool {
    struct txg_ed_ctx *ctx;
    struct tsig_key k[NKEYS];
    struct txg_ed_key *ek[NKEYS];
};

struct batch {
    size_t n, target;
    struct txg_ed_item it[MAXB];
    const uint8_t *pk[MAXB];
    uint8_t sig[MAXB][64];
    uint8_t msg[MAXB][MAXMSG + 1];
    int expect[MAXB];            /* -1: unknown, 0/1: generator's claim */
    int cls[MAXB];
    /* counters */
    size_t total, accepted, mismatches, claim_wrong, checks;
    size_t per_class[16];
};

enum { C_VALID, C_RFLIP, C_SFLIP, C_MFLIP, C_WRONGKEY, C_SPLUSL, C_SHIGH,
       C_SMALLR, C_MIXEDR, C_OWNR, C_FLIPKEY, C_SEDGE, C_N };
static const char *cls_name[C_N] = {
    "valid", "R bit flip", "S bit flip", "msg bit flip", "wrong enrolled key",
    "S + kL", "S high bits", "small-order R", "mixed-order R",
    "valid (chosen r)", "flipped key (enrolled)", "S = 0 / L-1 / L"
};

static void flush(struct batch *b)
{
    uint8_t ok[TB_MAX][MAXB];
    for (size_t k = 0; k < tb_n; k++) {
        tb_use(k);
        memset(ok[k], 2, sizeof ok[k]);
        txg_ed_verify_burst(b->it, b->n, ok[k]);
    }
    for (size_t i = 0; i < b->n; i++) {
        int ref = crypto_sign_verify_detached(b->sig[i], b->msg[i],
                                              b->it[i].len, b->pk[i]) == 0;
        b->total++;
        b->per_class[b->cls[i]]++;
        b->accepted += (size_t)ref;
        for (size_t k = 0; k < tb_n; k++) {
            b->checks++;
            if (ok[k][i] != ref) {
                if (b->mismatches < 10)
                    fprintf(stderr, "MISMATCH backend=%s class=%s ours=%d "
                            "sodium=%d len=%zu\n", tb_name[k],
                            cls_name[b->cls[i]], ok[k][i], ref, b->it[i].len);
                b->mismatches++;
            }
        }
        if (b->expect[i] >= 0 && b->expect[i] != ref)
            b->claim_wrong++;
    }
    b->n = 0;
}

static void add(struct batch *b, struct tsig_rng *rng,
                const struct txg_ed_key *key, const uint8_t *msg, size_t len,
                const uint8_t sig[64], int cls, int expect)
{
    size_t i = b->n++;
    memcpy(b->sig[i], sig, 64);
    if (len)
        memcpy(b->msg[i], msg, len);
    b->it[i].key = key;
    b->it[i].msg = b->msg[i];
    b->it[i].len = len;
    b->it[i].sig = b->sig[i];
    b->pk[i] = txg_ed_key_pk(key);
    b->cls[i] = cls;
    b->expect[i] = expect;
    if (b->n >= b->target || b->n == MAXB) {
        flush(b);
        b->target = 1 + (size_t)(tsig_next(rng) % MAXB);
    }
}

static void pool_init(struct pool *p, struct tsig_rng *rng, unsigned bits)
{
    p->ctx = txg_ed_ctx_new2(CAP, bits);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p->ctx);
    for (int i = 0; i < NKEYS; i++) {
        uint8_t seed[32];
        tsig_fill(rng, seed, 32);
        tsig_key_from_seed(&p->k[i], seed);
        p->ek[i] = txg_ed_enrol(p->ctx, p->k[i].pk);
        CU_ASSERT_PTR_NOT_NULL_FATAL(p->ek[i]);
        CU_ASSERT_EQUAL(txg_ed_key_has_full_table(p->ek[i]), i < CAP);
    }
}

static void pool_free(struct pool *p)
{
    for (int i = 0; i < NKEYS; i++)
        txg_ed_forget(p->ctx, p->ek[i]);
    txg_ed_ctx_delete(p->ctx);
}

static size_t differential(size_t target, uint64_t seed, unsigned bits)
{
    static struct batch b;       /* large: keep off the stack */
    static uint8_t msg[MAXMSG + 1];
    struct tsig_rng rng = { seed };
    struct pool p;
    uint8_t sig[64], s2[64], r[32];

    memset(&b, 0, sizeof b);
    b.target = 1 + (size_t)(tsig_next(&rng) % MAXB);
    pool_init(&p, &rng, bits);
    for (size_t iter = 0; b.total + b.n < target; iter++) {
        int ki = (int)(tsig_next(&rng) % NKEYS);
        const struct tsig_key *k = &p.k[ki];
        const struct txg_ed_key *ek = p.ek[ki];
        size_t len = (iter < 2 * (MAXMSG + 1)) ? iter % (MAXMSG + 1)
                                               : tsig_next(&rng) % (MAXMSG + 1);
        unsigned bit;

        tsig_fill(&rng, msg, len);
        tsig_sign(sig, k, msg, len);
        add(&b, &rng, ek, msg, len, sig, C_VALID, 1);

        memcpy(s2, sig, 64);
        bit = (unsigned)(tsig_next(&rng) % 256);
        s2[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        add(&b, &rng, ek, msg, len, s2, C_RFLIP, -1);

        memcpy(s2, sig, 64);
        bit = 256 + (unsigned)(tsig_next(&rng) % 256);
        s2[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        add(&b, &rng, ek, msg, len, s2, C_SFLIP, -1);

        if (len > 0) {
            bit = (unsigned)(tsig_next(&rng) % (8 * len));
            msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            add(&b, &rng, ek, msg, len, sig, C_MFLIP, 0);
            msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }

        add(&b, &rng, p.ek[(ki + 1 + (int)(tsig_next(&rng) % (NKEYS - 1))) % NKEYS],
            msg, len, sig, C_WRONGKEY, 0);

        /* S + kL for k = 1..15 (all < 2^256) */
        memcpy(s2, sig, 64);
        for (unsigned m = 1 + (unsigned)(tsig_next(&rng) % 15); m > 0; m--)
            tsig_add256(s2 + 32, s2 + 32, tsig_L);
        add(&b, &rng, ek, msg, len, s2, C_SPLUSL, 0);

        memcpy(s2, sig, 64);
        s2[63] |= (uint8_t)(0x10u << (tsig_next(&rng) % 4));
        add(&b, &rng, ek, msg, len, s2, C_SHIGH, 0);

        tsig_sign_identity_eq(s2, k, msg, len, tsig_small_enc[iter % TSIG_N_SMALL]);
        add(&b, &rng, ek, msg, len, s2, C_SMALLR, 0);

        tsig_rand_scalar(&rng, r);
        CU_ASSERT_EQUAL_FATAL(tsig_sign_with_r(s2, k, msg, len, r,
                              tsig_torsion[1 + iter % (TSIG_N_TORSION - 1)]), 0);
        add(&b, &rng, ek, msg, len, s2, C_MIXEDR, 0);

        tsig_rand_scalar(&rng, r);
        CU_ASSERT_EQUAL_FATAL(tsig_sign_with_r(s2, k, msg, len, r, NULL), 0);
        add(&b, &rng, ek, msg, len, s2, C_OWNR, 1);

        memcpy(s2, sig, 64);
        switch (iter % 3) {
        case 0: memset(s2 + 32, 0, 32); break;
        case 1: memcpy(s2 + 32, tsig_L, 32); s2[32] -= 1; break;
        default: memcpy(s2 + 32, tsig_L, 32); break;
        }
        add(&b, &rng, ek, msg, len, s2, C_SEDGE, 0);

        if (iter % 8 == 0) { /* flipped key: a different key, maybe enrolable */
            uint8_t pk2[32];
            struct txg_ed_key *k2;
            memcpy(pk2, k->pk, 32);
            bit = (unsigned)(tsig_next(&rng) % 256);
            pk2[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            k2 = txg_ed_enrol(p.ctx, pk2);
            CU_ASSERT_EQUAL((k2 != NULL), crypto_core_ed25519_is_valid_point(pk2));
            if (k2 != NULL) {
                flush(&b);       /* k2 is forgotten right after */
                add(&b, &rng, k2, msg, len, sig, C_FLIPKEY, 0);
                flush(&b);
                txg_ed_forget(p.ctx, k2);
            }
        }
    }
    flush(&b);
    pool_free(&p);

    printf("\n  differential seed=%llu table_bits=%u: %zu signatures, %zu accepted, "
           "%zu backend checks, %zu mismatches\n", (unsigned long long)seed, bits,
           b.total, b.accepted, b.checks, b.mismatches);
    for (int c = 0; c < C_N; c++)
        printf("    %-24s %zu\n", cls_name[c], b.per_class[c]);
    CU_ASSERT_EQUAL(b.mismatches, 0);
    CU_ASSERT_EQUAL(b.claim_wrong, 0);
    CU_ASSERT(b.total >= target);
    CU_ASSERT_EQUAL(b.checks, b.total * tb_n);
    CU_ASSERT(b.accepted > 0);
    CU_ASSERT(b.accepted < b.total);
    return b.total;
}

static void test_differential(void)
{
    differential(g_target, g_seed, g_bits);
}

/* Every other table width: a smaller slice each. */
static void test_widths(void)
{
    for (unsigned w = TXG_ED_TABLE_BITS_MIN; w <= TXG_ED_TABLE_BITS_MAX; w++) {
        if (w == TXG_ED_TABLE_BITS_DEFAULT)
            continue;
        CU_ASSERT_PTR_NULL(txg_ed_ctx_new2(4, TXG_ED_TABLE_BITS_MIN - 1));
        CU_ASSERT_PTR_NULL(txg_ed_ctx_new2(4, TXG_ED_TABLE_BITS_MAX + 1));
        differential(3000, 100 + w, w);
    }
}

/* Enrol refuses what crypto_core_ed25519_is_valid_point refuses. */
static void test_enrol_refusals(void)
{
    struct txg_ed_ctx *ctx = txg_ed_ctx_new(4);
    struct tsig_rng rng = { 77 };
    struct tsig_key k;
    uint8_t seed[32], pk[32];
    size_t accepted = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(ctx);
    for (int i = 0; i < TSIG_N_SMALL; i++)
        CU_ASSERT_PTR_NULL(txg_ed_enrol(ctx, tsig_small_enc[i]));
    /* mixed-order keys: A + T */
    tsig_fill(&rng, seed, 32);
    tsig_key_from_seed(&k, seed);
    for (int t = 1; t < TSIG_N_TORSION; t++) {
        CU_ASSERT_EQUAL_FATAL(crypto_core_ed25519_add(pk, k.pk, tsig_torsion[t]), 0);
        CU_ASSERT_PTR_NULL(txg_ed_enrol(ctx, pk));
    }
    /* non-canonical encodings of a valid key's y are not possible for large
     * y; random 32-byte strings: refusal must match libsodium exactly */
    for (int i = 0; i < 2000; i++) {
        struct txg_ed_key *e;
        tsig_fill(&rng, pk, 32);
        if (i % 4 == 0)
            pk[31] |= 0x7f, pk[30] = 0xff; /* near p: y >= p often */
        e = txg_ed_enrol(ctx, pk);
        CU_ASSERT_EQUAL(e != NULL, crypto_core_ed25519_is_valid_point(pk));
        if (e != NULL) {
            accepted++;
            CU_ASSERT_EQUAL(memcmp(txg_ed_key_pk(e), pk, 32), 0);
            txg_ed_forget(ctx, e);
        }
    }
    CU_ASSERT(accepted > 0);
    CU_ASSERT_EQUAL(txg_ed_ctx_full_keys(ctx), 0);
    txg_ed_ctx_delete(ctx);
}

/* One burst mixing keys of contexts with different table widths, full and
 * small tables, valid and invalid signatures, in every backend. */
static void test_mixed_kinds(void)
{
    enum { NCTX = 3, KPC = 3, N = 40 };
    static const unsigned bits[NCTX] = { 4, 6, 8 };
    struct txg_ed_ctx *ctx[NCTX];
    struct txg_ed_key *ek[NCTX][KPC];
    struct tsig_key k[NCTX][KPC];
    struct tsig_rng rng = { 31337 };
    struct txg_ed_item it[N];
    uint8_t msg[N][64], sig[N][64], ok[N];
    int ref[N];

    for (int c = 0; c < NCTX; c++) {
        ctx[c] = txg_ed_ctx_new2(2, bits[c]); /* third key: small table */
        CU_ASSERT_PTR_NOT_NULL_FATAL(ctx[c]);
        CU_ASSERT_EQUAL(txg_ed_ctx_key_bytes(ctx[c]), txg_ed_table_bytes(bits[c]));
        for (int i = 0; i < KPC; i++) {
            uint8_t seed[32];
            tsig_fill(&rng, seed, 32);
            tsig_key_from_seed(&k[c][i], seed);
            ek[c][i] = txg_ed_enrol(ctx[c], k[c][i].pk);
            CU_ASSERT_PTR_NOT_NULL_FATAL(ek[c][i]);
        }
    }
    for (int i = 0; i < N; i++) {
        int c = (int)(tsig_next(&rng) % NCTX), j = (int)(tsig_next(&rng) % KPC);
        tsig_fill(&rng, msg[i], sizeof msg[i]);
        tsig_sign(sig[i], &k[c][j], msg[i], sizeof msg[i]);
        if (i % 3 == 1)
            sig[i][tsig_next(&rng) % 64] ^= 4;
        it[i] = (struct txg_ed_item){ ek[c][j], msg[i], sizeof msg[i], sig[i] };
        ref[i] = crypto_sign_verify_detached(sig[i], msg[i], sizeof msg[i],
                                             k[c][j].pk) == 0;
    }
    for (size_t b = 0; b < tb_n; b++) {
        tb_use(b);
        for (size_t n = 1; n <= N; n += 13) {
            memset(ok, 2, sizeof ok);
            txg_ed_verify_burst(it, n, ok);
            for (size_t i = 0; i < n; i++)
                CU_ASSERT_EQUAL(ok[i], ref[i]);
        }
    }
    for (int c = 0; c < NCTX; c++) {
        for (int i = 0; i < KPC; i++)
            txg_ed_forget(ctx[c], ek[c][i]);
        txg_ed_ctx_delete(ctx[c]);
    }
}

/* The cap: keys beyond it get small tables, forgetting frees a slot. */
static void cap_one(void)
{
    struct txg_ed_ctx *ctx = txg_ed_ctx_new(2);
    struct tsig_rng rng = { 5 };
    struct tsig_key k[3];
    struct txg_ed_key *e[3], *e3;
    uint8_t seed[32], sig[64], ok[3], msg[150];
    struct txg_ed_item it[3];

    CU_ASSERT_PTR_NOT_NULL_FATAL(ctx);
    CU_ASSERT(txg_ed_key_bytes() > txg_ed_key_small_bytes());
    for (int i = 0; i < 3; i++) {
        tsig_fill(&rng, seed, 32);
        tsig_key_from_seed(&k[i], seed);
        e[i] = txg_ed_enrol(ctx, k[i].pk);
        CU_ASSERT_PTR_NOT_NULL_FATAL(e[i]);
    }
    CU_ASSERT_EQUAL(txg_ed_key_has_full_table(e[0]), 1);
    CU_ASSERT_EQUAL(txg_ed_key_has_full_table(e[1]), 1);
    CU_ASSERT_EQUAL(txg_ed_key_has_full_table(e[2]), 0);
    CU_ASSERT_EQUAL(txg_ed_ctx_full_keys(ctx), 2);
    tsig_fill(&rng, msg, sizeof msg);
    for (int i = 0; i < 3; i++) {
        tsig_sign(sig, &k[i], msg, sizeof msg);
        it[0] = (struct txg_ed_item){ e[i], msg, sizeof msg, sig };
        txg_ed_verify_burst(it, 1, ok);
        CU_ASSERT_EQUAL(ok[0], 1);
    }
    txg_ed_forget(ctx, e[0]);
    CU_ASSERT_EQUAL(txg_ed_ctx_full_keys(ctx), 1);
    e3 = txg_ed_enrol(ctx, k[0].pk);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e3);
    CU_ASSERT_EQUAL(txg_ed_key_has_full_table(e3), 1);
    txg_ed_verify_burst(it, 0, ok); /* n = 0 is fine */
    it[0].key = NULL;               /* no key: rejected, not a crash */
    ok[0] = 7;
    txg_ed_verify_burst(it, 1, ok);
    CU_ASSERT_EQUAL(ok[0], 0);
    txg_ed_forget(ctx, e3);
    txg_ed_forget(ctx, e[1]);
    txg_ed_forget(ctx, e[2]);
    CU_ASSERT_EQUAL(txg_ed_ctx_full_keys(ctx), 0);
    txg_ed_ctx_delete(ctx);
}

static void test_cap(void)
{
    for (size_t k = 0; k < tb_n; k++) {
        tb_use(k);
        cap_one();
    }
}

/* Concurrent verifiers while another thread enrols and forgets. */
struct thr_arg {
    struct txg_ed_ctx *ctx;
    const struct txg_ed_key *key;
    uint8_t msg[100], sig[64], bad[64];
    atomic_int stop;
    size_t done, errors;
};

static void *verifier(void *p)
{
    struct thr_arg *a = p;
    struct txg_ed_item it[8];
    uint8_t ok[8];
    while (!atomic_load(&a->stop)) {
        for (int i = 0; i < 8; i++)
            it[i] = (struct txg_ed_item){ a->key, a->msg, sizeof a->msg,
                                          (i & 1) ? a->bad : a->sig };
        txg_ed_verify_burst(it, 8, ok);
        for (int i = 0; i < 8; i++)
            a->errors += ok[i] != !(i & 1);
        a->done += 8;
    }
    return NULL;
}

static void threads_one(void)
{
    struct thr_arg a;
    struct tsig_rng rng = { 9 };
    struct tsig_key k;
    uint8_t seed[32];
    struct txg_ed_key *ek;
    pthread_t th;
    size_t churn = 0;

    memset(&a, 0, sizeof a);
    a.ctx = txg_ed_ctx_new(8);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a.ctx);
    tsig_fill(&rng, seed, 32);
    tsig_key_from_seed(&k, seed);
    ek = txg_ed_enrol(a.ctx, k.pk);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ek);
    a.key = ek;
    tsig_fill(&rng, a.msg, sizeof a.msg);
    tsig_sign(a.sig, &k, a.msg, sizeof a.msg);
    memcpy(a.bad, a.sig, 64);
    a.bad[5] ^= 1;
    CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, verifier, &a), 0);
    for (int i = 0; i < 200; i++) {
        struct tsig_key k2;
        struct txg_ed_key *e2;
        uint8_t sig[64], ok;
        struct txg_ed_item it;
        tsig_fill(&rng, seed, 32);
        tsig_key_from_seed(&k2, seed);
        e2 = txg_ed_enrol(a.ctx, k2.pk);
        CU_ASSERT_PTR_NOT_NULL_FATAL(e2);
        tsig_sign(sig, &k2, a.msg, sizeof a.msg);
        it = (struct txg_ed_item){ e2, a.msg, sizeof a.msg, sig };
        txg_ed_verify_burst(&it, 1, &ok);
        CU_ASSERT_EQUAL(ok, 1);
        txg_ed_forget(a.ctx, e2);
        churn++;
    }
    atomic_store(&a.stop, 1);
    pthread_join(th, NULL);
    printf("\n  threads: %zu verified concurrently with %zu enrol/forget\n",
           a.done, churn);
    CU_ASSERT(a.done > 0);
    CU_ASSERT_EQUAL(a.errors, 0);
    txg_ed_forget(a.ctx, ek);
    txg_ed_ctx_delete(a.ctx);
}

static void test_threads(void)
{
    for (size_t k = 0; k < tb_n; k++) {
        tb_use(k);
        threads_one();
    }
}

int main(int argc, char **argv)
{
    CU_pSuite s;
    unsigned fails;
    int slow = 0;

    if (argc >= 4 && strcmp(argv[1], "--slow") == 0) {
        g_target = (size_t)strtoull(argv[2], NULL, 10);
        g_seed = strtoull(argv[3], NULL, 10);
        if (argc >= 5)
            g_bits = (unsigned)strtoul(argv[4], NULL, 10);
        slow = 1;
    }
    if (sodium_init() < 0)
        return 2;
    tb_init();
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    s = CU_add_suite("ed25519_diff", NULL, NULL);
    if (!slow) {
        CU_add_test(s, "enrol refusals", test_enrol_refusals);
        CU_add_test(s, "cap", test_cap);
        CU_add_test(s, "threads", test_threads);
        CU_add_test(s, "mixed table widths in one burst", test_mixed_kinds);
    }
    CU_add_test(s, "differential vs libsodium", test_differential);
    if (!slow)
        CU_add_test(s, "differential, other table widths", test_widths);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    fails = CU_get_number_of_failures();
    CU_cleanup_registry();
    return fails ? 1 : 0;
}
