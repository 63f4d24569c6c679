/* Single-core verify benchmark: this verifier (every backend the CPU
 * supports: scalar, avx2) vs libsodium's crypto_sign_verify_detached on the
 * same pre-generated signatures, alternating in blocks of 1024 signatures,
 * several rounds; rates are per CPU-second of the benchmark thread (wall
 * clock also shown).
 * Prints ratio_<backend>=<median> for each backend, and as the last line
 * ratio=<median of the fastest backend / libsodium>.
 * TXG_ED25519_BACKEND=scalar|avx2 restricts the run to one backend.
 * Usage: bench_verify [keys=1000] [sigs=8192] [rounds=7] [burst=64]
 *                     [msglen=150] [cap=keys] [table_bits=default] */
#include "ed25519.h"
#include "test_sigs.h"

#include <sched.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* CPU time of this thread: the per-core rate, whatever else the machine
 * runs. */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#define BLOCK 1024

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static size_t arg(int argc, char **argv, int i, size_t def)
{
    return argc > i ? (size_t)strtoull(argv[i], NULL, 10) : def;
}

#define MAXBK 2

int main(int argc, char **argv)
{
    size_t nkeys = arg(argc, argv, 1, 1000), nsigs = arg(argc, argv, 2, 8192);
    size_t rounds = arg(argc, argv, 3, 7), burst = arg(argc, argv, 4, 64);
    size_t msglen = arg(argc, argv, 5, 150), cap = arg(argc, argv, 6, nkeys);
    unsigned tbits = (unsigned)arg(argc, argv, 7, TXG_ED_TABLE_BITS_DEFAULT);
    static const char *const bk_all[MAXBK] = { "scalar", "avx2" };
    const char *bk[MAXBK];
    size_t nbk = 0, best = 0;
    struct tsig_rng rng = { 42 };
    struct tsig_key *keys;
    struct txg_ed_key **ek;
    struct txg_ed_item *items;
    uint8_t *msgs, *sigs, *ok;
    double *ratio[MAXBK], med[MAXBK];
    struct txg_ed_ctx *ctx;
    cpu_set_t cs;
    double t0;

    if (sodium_init() < 0 || nkeys == 0 || nsigs == 0 || rounds == 0 || burst == 0)
        return 2;
    CPU_ZERO(&cs);
    CPU_SET(0, &cs);
    sched_setaffinity(0, sizeof cs, &cs); /* best effort: one core */

    for (size_t b = 0; b < MAXBK; b++) {
        const char *only = getenv("TXG_ED25519_BACKEND"); /* e.g. for perf */
        if (only != NULL && *only != '\0' && strcmp(only, bk_all[b]) != 0)
            continue;
        if (txg_ed_set_backend(bk_all[b]) == 0)
            bk[nbk++] = bk_all[b];
    }
    if (nbk == 0)
        return 2;
    keys = calloc(nkeys, sizeof *keys);
    ek = calloc(nkeys, sizeof *ek);
    items = calloc(nsigs, sizeof *items);
    msgs = malloc(nsigs * (msglen ? msglen : 1));
    sigs = malloc(nsigs * 64);
    ok = malloc(nsigs);
    for (size_t b = 0; b < nbk; b++)
        ratio[b] = calloc(rounds, sizeof *ratio[b]);
    ctx = txg_ed_ctx_new2(cap, tbits);
    if (!keys || !ek || !items || !msgs || !sigs || !ok || !ctx)
        return 2;
    t0 = now();
    for (size_t i = 0; i < nkeys; i++) {
        uint8_t seed[32];
        tsig_fill(&rng, seed, 32);
        tsig_key_from_seed(&keys[i], seed);
        ek[i] = txg_ed_enrol(ctx, keys[i].pk);
        if (ek[i] == NULL)
            return 2;
    }
    printf("enrolled %zu keys in %.3f s (%zu full tables, table_bits %u, %zu bytes each)\n",
           nkeys, now() - t0, txg_ed_ctx_full_keys(ctx), tbits,
           txg_ed_ctx_key_bytes(ctx));
    for (size_t i = 0; i < nsigs; i++) {
        size_t k = (size_t)(tsig_next(&rng) % nkeys);
        uint8_t *m = msgs + i * msglen;
        tsig_fill(&rng, m, msglen);
        tsig_sign(sigs + 64 * i, &keys[k], m, msglen);
        items[i] = (struct txg_ed_item){ ek[k], m, msglen, sigs + 64 * i };
    }
    printf("%zu signatures, %zu-byte messages, bursts of %zu, %zu rounds\n",
           nsigs, msglen, burst, rounds);
    for (size_t r = 0; r < rounds; r++) {
        double cpu_o[MAXBK] = { 0 }, wall_o[MAXBK] = { 0 }, cpu_s = 0, wall_s = 0;
        size_t bad = 0;
        /* alternate in blocks so that load changes hit all sides alike */
        for (size_t b0 = 0; b0 < nsigs; b0 += BLOCK) {
            size_t b1 = nsigs - b0 < BLOCK ? nsigs : b0 + BLOCK;
            double c1, w1;
            for (size_t b = 0; b < nbk; b++) {
                double c0, w0;
                txg_ed_set_backend(bk[b]);
                memset(ok + b0, 0, b1 - b0);
                c0 = cpu_now();
                w0 = now();
                for (size_t i = b0; i < b1; i += burst)
                    txg_ed_verify_burst(items + i, b1 - i < burst ? b1 - i : burst,
                                        ok + i);
                cpu_o[b] += cpu_now() - c0;
                wall_o[b] += now() - w0;
                for (size_t i = b0; i < b1; i++)
                    bad += ok[i] != 1;
            }
            c1 = cpu_now();
            w1 = now();
            for (size_t i = b0; i < b1; i++)
                bad += crypto_sign_verify_detached(items[i].sig, items[i].msg,
                                                   items[i].len,
                                                   txg_ed_key_pk(items[i].key)) != 0;
            cpu_s += cpu_now() - c1;
            wall_s += now() - w1;
        }
        if (bad) {
            fprintf(stderr, "round %zu: %zu signatures not accepted\n", r, bad);
            return 1;
        }
        printf("round %zu:", r);
        for (size_t b = 0; b < nbk; b++) {
            ratio[b][r] = cpu_s / cpu_o[b];
            printf(" %s %.0f/s (%.2f)", bk[b], (double)nsigs / cpu_o[b], ratio[b][r]);
        }
        printf("  libsodium %.0f/s  (wall clock:", (double)nsigs / cpu_s);
        for (size_t b = 0; b < nbk; b++)
            printf(" %s %.0f/s", bk[b], (double)nsigs / wall_o[b]);
        printf(" libsodium %.0f/s)\n", (double)nsigs / wall_s);
    }
    for (size_t i = 0; i < nkeys; i++)
        txg_ed_forget(ctx, ek[i]);
    txg_ed_ctx_delete(ctx);
    for (size_t b = 0; b < nbk; b++) {
        qsort(ratio[b], rounds, sizeof *ratio[b], cmp_dbl);
        med[b] = rounds % 2 ? ratio[b][rounds / 2]
                            : (ratio[b][rounds / 2 - 1] + ratio[b][rounds / 2]) / 2;
        printf("ratio_%s=%.2f\n", bk[b], med[b]);
        if (med[b] > med[best])
            best = b;
    }
    printf("fastest backend: %s\n", bk[best]);
    printf("ratio=%.2f\n", med[best]);
    return 0;
}
