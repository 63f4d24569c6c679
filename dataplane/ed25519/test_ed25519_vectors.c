/* Known-answer tests from /work/shared/vectors/ed25519 (Wycheproof, CCTV,
 * speccheck): this verifier must give libsodium's answer on every vector
 * whose key enrols, and refuse to enrol every key that fails
 * crypto_core_ed25519_is_valid_point. Every vector is checked with every
 * backend (test_backends.h), every table width and a small table, alone and
 * in bursts of three and four copies (the AVX2 backend's four lanes, with
 * and without a padded lane).
 * Usage: test_ed25519_vectors SHARED_DIR [--corpus OUTDIR]
 * With --corpus, also writes every vector as a fuzzer seed (fuzz_ed25519.c
 * input format: 0x00 || pk || sig || msg). */
#include "ed25519.h"
#include "test_backends.h"
#include "test_json.h"

#include <CUnit/Basic.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *g_shared;
static const char *g_corpus;
/* one context per table width, and one with cap 0 (small tables) */
#define NCTX (TXG_ED_TABLE_BITS_MAX - TXG_ED_TABLE_BITS_MIN + 2)
static struct txg_ed_ctx *g_ctxs[NCTX];

/* Hex string to bytes; returns length or -1. */
static long unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex);
    if (n % 2 != 0 || n / 2 > cap)
        return -1;
    for (size_t i = 0; i < n / 2; i++)
        if (sodium_hex2bin(&out[i], 1, hex + 2 * i, 2, NULL, NULL, NULL) != 0)
            return -1;
    return (long)(n / 2);
}

static struct tjson *load(const char *name)
{
    char path[4096];
    size_t n;
    char *text;
    struct tjson *j;

    snprintf(path, sizeof path, "%s/vectors/ed25519/%s", g_shared, name);
    text = tjson_read_file(path, &n);
    if (text == NULL) {
        fprintf(stderr, "cannot read %s\n", path);
        return NULL;
    }
    j = tjson_parse(text, n);
    free(text);
    if (j == NULL)
        fprintf(stderr, "cannot parse %s\n", path);
    return j;
}

static void write_seed(const char *tag, size_t idx, const uint8_t pk[32],
                       const uint8_t *sig, const uint8_t *msg, size_t len)
{
    char path[4096];
    FILE *f;
    uint8_t mode = 0;

    if (g_corpus == NULL)
        return;
    snprintf(path, sizeof path, "%s/%s-%04zu", g_corpus, tag, idx);
    f = fopen(path, "wb");
    if (f == NULL)
        return;
    fwrite(&mode, 1, 1, f);
    fwrite(pk, 1, 32, f);
    fwrite(sig, 1, 64, f);
    fwrite(msg, 1, len, f);
    fclose(f);
}

struct tally { size_t n, sodium_ok, enrolled, refused, mismatches; };

/* One vector: libsodium's verdict; ours if the key enrols, else the
 * refusal must agree with crypto_core_ed25519_is_valid_point. */
static int check_one(struct tally *t, const uint8_t pk[32], const uint8_t sig[64],
                     const uint8_t *msg, size_t len)
{
    int ref = crypto_sign_verify_detached(sig, msg, len, pk) == 0;
    int valid = crypto_core_ed25519_is_valid_point(pk) != 0;

    t->n++;
    t->sodium_ok += (size_t)ref;
    if (!valid)
        t->refused++;
    else
        t->enrolled++;
    for (int c = 0; c < NCTX; c++) {
        struct txg_ed_key *k = txg_ed_enrol(g_ctxs[c], pk);
        CU_ASSERT_EQUAL(k != NULL, valid);
        if (k == NULL)
            continue;
        for (size_t b = 0; b < tb_n; b++) {
            struct txg_ed_item it[8];
            uint8_t ok[8];
            tb_use(b);
            memset(ok, 2, sizeof ok);
            for (int i = 0; i < 8; i++)
                it[i] = (struct txg_ed_item){ k, msg, len, sig };
            txg_ed_verify_burst(it, 1, ok);
            txg_ed_verify_burst(it + 1, 3, ok + 1);
            txg_ed_verify_burst(it + 4, 4, ok + 4);
            for (int i = 0; i < 8; i++)
                if (ok[i] != ref) {
                    t->mismatches++;
                    fprintf(stderr, "mismatch: ours %d libsodium %d (backend %s, "
                            "context %d, item %d)\n", ok[i], ref, tb_name[b], c, i);
                }
        }
        txg_ed_forget(g_ctxs[c], k);
    }
    return ref;
}

static void test_wycheproof(void)
{
    struct tjson *root = load("wycheproof_ed25519_test.json");
    const struct tjson *groups;
    struct tally t = { 0 };
    size_t verdicts = 0, verdict_ok = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    groups = tjson_get(root, "testGroups");
    CU_ASSERT_PTR_NOT_NULL_FATAL(groups);
    for (const struct tjson *g = groups->child; g; g = g->next) {
        const char *pkhex = tjson_str(tjson_get(g, "publicKey"), "pk");
        const struct tjson *tests = tjson_get(g, "tests");
        uint8_t pk[32];
        CU_ASSERT_FATAL(pkhex != NULL && tests != NULL);
        CU_ASSERT_EQUAL_FATAL(unhex(pkhex, pk, 32), 32);
        for (const struct tjson *v = tests->child; v; v = v->next) {
            const char *mh = tjson_str(v, "msg"), *sh = tjson_str(v, "sig");
            const char *res = tjson_str(v, "result");
            size_t cap = mh ? strlen(mh) / 2 + 1 : 1;
            uint8_t *msg = malloc(cap), sig[128];
            long mlen, slen;
            int expect, got;
            CU_ASSERT_FATAL(mh && sh && res && msg);
            mlen = unhex(mh, msg, cap);
            slen = unhex(sh, sig, sizeof sig);
            CU_ASSERT_FATAL(mlen >= 0 && slen >= 0);
            expect = strcmp(res, "valid") == 0;
            verdicts++;
            if (slen != 64) {
                /* not a 64-byte signature: no verifier can accept it */
                got = 0;
            } else {
                got = check_one(&t, pk, sig, msg, (size_t)mlen);
                write_seed("wycheproof", verdicts, pk, sig, msg, (size_t)mlen);
            }
            verdict_ok += got == expect;
            free(msg);
        }
    }
    printf("\n  wycheproof: %zu verdicts, %zu matched; %zu 64-byte sigs checked, "
           "%zu enrolled, %zu mismatches\n", verdicts, verdict_ok, t.n,
           t.enrolled, t.mismatches);
    CU_ASSERT_EQUAL(verdicts, 151);
    CU_ASSERT_EQUAL(verdict_ok, verdicts);
    CU_ASSERT_EQUAL(t.enrolled, t.n);
    CU_ASSERT_EQUAL(t.mismatches, 0);
    tjson_free(root);
}

static void test_cctv(void)
{
    struct tjson *root = load("cctv_ed25519vectors.json");
    struct tally t = { 0 };

    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    CU_ASSERT_EQUAL_FATAL(root->type, TJ_ARR);
    for (const struct tjson *v = root->child; v; v = v->next) {
        const char *kh = tjson_str(v, "key"), *sh = tjson_str(v, "sig");
        const char *msg = tjson_str(v, "msg");
        uint8_t pk[32], sig[64];
        CU_ASSERT_FATAL(kh && sh && msg);
        CU_ASSERT_EQUAL_FATAL(unhex(kh, pk, 32), 32);
        CU_ASSERT_EQUAL_FATAL(unhex(sh, sig, 64), 64);
        check_one(&t, pk, sig, (const uint8_t *)msg, strlen(msg));
        write_seed("cctv", t.n, pk, sig, (const uint8_t *)msg, strlen(msg));
    }
    printf("\n  cctv: %zu vectors, libsodium accepts %zu, %zu keys enrolled, "
           "%zu refused, %zu mismatches\n", t.n, t.sodium_ok, t.enrolled,
           t.refused, t.mismatches);
    CU_ASSERT_EQUAL(t.n, 914);
    CU_ASSERT_EQUAL(t.sodium_ok, 43);
    CU_ASSERT(t.enrolled > 0);
    CU_ASSERT_EQUAL(t.mismatches, 0);
    tjson_free(root);
}

static void test_speccheck(void)
{
    struct tjson *root = load("speccheck_cases.json");
    struct tally t = { 0 };
    size_t idx = 0, accepted_case = 99;

    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    CU_ASSERT_EQUAL_FATAL(root->type, TJ_ARR);
    for (const struct tjson *v = root->child; v; v = v->next, idx++) {
        const char *mh = tjson_str(v, "message"), *kh = tjson_str(v, "pub_key");
        const char *sh = tjson_str(v, "signature");
        uint8_t pk[32], sig[64], msg[256];
        long mlen;
        CU_ASSERT_FATAL(mh && kh && sh);
        mlen = unhex(mh, msg, sizeof msg);
        CU_ASSERT_FATAL(mlen >= 0);
        CU_ASSERT_EQUAL_FATAL(unhex(kh, pk, 32), 32);
        CU_ASSERT_EQUAL_FATAL(unhex(sh, sig, 64), 64);
        if (check_one(&t, pk, sig, msg, (size_t)mlen))
            accepted_case = idx;
        write_seed("speccheck", idx, pk, sig, msg, (size_t)mlen);
    }
    printf("\n  speccheck: %zu cases, libsodium accepts %zu (case %zu), %zu keys "
           "enrolled, %zu refused, %zu mismatches\n", t.n, t.sodium_ok,
           accepted_case, t.enrolled, t.refused, t.mismatches);
    CU_ASSERT_EQUAL(t.n, 12);
    CU_ASSERT_EQUAL(t.sodium_ok, 1);
    CU_ASSERT_EQUAL(accepted_case, 3);
    CU_ASSERT_EQUAL(t.mismatches, 0);
    tjson_free(root);
}

/* The reader itself: escapes, nesting, and rejection of bad input. */
static void test_json_reader(void)
{
    const char *good = " {\"a\": [1, -2.5e1, true, false, null, \"x\\n\\u00e9\\\"\"],"
                       " \"b\": {\"c\": \"d\"}, \"e\": []} ";
    const char *bad[] = { "{", "[1,]", "{\"a\" 1}", "\"abc", "[1] x", "{\"a\":tru}",
                          "\"\\q\"", "" };
    struct tjson *j = tjson_parse(good, strlen(good));
    const struct tjson *a;

    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    a = tjson_get(j, "a");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL(a->len, 6);
    CU_ASSERT_EQUAL(a->child->num, 1);
    CU_ASSERT_EQUAL(a->child->next->num, -25);
    CU_ASSERT_STRING_EQUAL(a->child->next->next->next->next->next->str, "x\n\xc3\xa9\"");
    CU_ASSERT_STRING_EQUAL(tjson_str(tjson_get(j, "b"), "c"), "d");
    CU_ASSERT_EQUAL(tjson_get(j, "e")->len, 0);
    CU_ASSERT_PTR_NULL(tjson_get(j, "zz"));
    tjson_free(j);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CU_ASSERT_PTR_NULL(tjson_parse(bad[i], strlen(bad[i])));
}

int main(int argc, char **argv)
{
    CU_pSuite s;
    unsigned fails;

    if (argc < 2) {
        fprintf(stderr, "usage: %s SHARED_DIR [--corpus OUTDIR]\n", argv[0]);
        return 2;
    }
    g_shared = argv[1];
    if (argc >= 4 && strcmp(argv[2], "--corpus") == 0)
        g_corpus = argv[3];
    if (sodium_init() < 0)
        return 2;
    tb_init();
    for (int c = 0; c < NCTX; c++) {
        g_ctxs[c] = c + 1 < NCTX ? txg_ed_ctx_new2(16, (unsigned)(TXG_ED_TABLE_BITS_MIN + c))
                                 : txg_ed_ctx_new(0);
        if (g_ctxs[c] == NULL)
            return 2;
    }
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    s = CU_add_suite("ed25519_vectors", NULL, NULL);
    CU_add_test(s, "json reader", test_json_reader);
    CU_add_test(s, "wycheproof", test_wycheproof);
    CU_add_test(s, "cctv", test_cctv);
    CU_add_test(s, "speccheck", test_speccheck);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    fails = CU_get_number_of_failures();
    CU_cleanup_registry();
    for (int c = 0; c < NCTX; c++)
        txg_ed_ctx_delete(g_ctxs[c]);
    return fails ? 1 : 0;
}
