/* Single-core verify benchmark: this verifier vs libsodium's
 * crypto_sign_verify_detached on the same pre-generated signatures,
 * alternating in blocks of 1024 signatures, several rounds; rates are per
 * CPU-second of the benchmark thread (wall clock also shown).
 * Last line: ratio=<median ours/libsodium>.
 * Usage: bench_verify [keys=1000] [sigs=8192] [rounds=7] [burst=64]
 *                     [msglen=150] [cap=keys] */
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

int main(int argc, char **argv)
{
    size_t nkeys = arg(argc, argv, 1, 1000), nsigs = arg(argc, argv, 2, 8192);
    size_t rounds = arg(argc, argv, 3, 7), burst = arg(argc, argv, 4, 64);
    size_t msglen = arg(argc, argv, 5, 150), cap = arg(argc, argv, 6, nkeys);
    struct tsig_rng rng = { 42 };
    struct tsig_key *keys;
    struct txg_ed_key **ek;
    struct txg_ed_item *items;
    uint8_t *msgs, *sigs, *ok;
    double *ratio;
    struct txg_ed_ctx *ctx;
    cpu_set_t cs;
    double t0;

    if (sodium_init() < 0 || nkeys == 0 || nsigs == 0 || rounds == 0 || burst == 0)
        return 2;
    CPU_ZERO(&cs);
    CPU_SET(0, &cs);
    sched_setaffinity(0, sizeof cs, &cs); /* best effort: one core */

    keys = calloc(nkeys, sizeof *keys);
    ek = calloc(nkeys, sizeof *ek);
    items = calloc(nsigs, sizeof *items);
    msgs = malloc(nsigs * (msglen ? msglen : 1));
    sigs = malloc(nsigs * 64);
    ok = malloc(nsigs);
    ratio = calloc(rounds, sizeof *ratio);
    ctx = txg_ed_ctx_new(cap);
    if (!keys || !ek || !items || !msgs || !sigs || !ok || !ratio || !ctx)
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
    printf("enrolled %zu keys in %.3f s (%zu full tables, %zu bytes each)\n",
           nkeys, now() - t0, txg_ed_ctx_full_keys(ctx), txg_ed_key_bytes());
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
        double cpu_o = 0, cpu_s = 0, wall_o = 0, wall_s = 0;
        size_t bad = 0;
        memset(ok, 0, nsigs);
        /* alternate in blocks so that load changes hit both sides alike */
        for (size_t b0 = 0; b0 < nsigs; b0 += BLOCK) {
            size_t b1 = nsigs - b0 < BLOCK ? nsigs : b0 + BLOCK;
            double c0 = cpu_now(), w0 = now(), c1, w1;
            for (size_t i = b0; i < b1; i += burst)
                txg_ed_verify_burst(items + i, b1 - i < burst ? b1 - i : burst,
                                    ok + i);
            c1 = cpu_now();
            w1 = now();
            cpu_o += c1 - c0;
            wall_o += w1 - w0;
            for (size_t i = b0; i < b1; i++)
                bad += crypto_sign_verify_detached(items[i].sig, items[i].msg,
                                                   items[i].len,
                                                   txg_ed_key_pk(items[i].key)) != 0;
            cpu_s += cpu_now() - c1;
            wall_s += now() - w1;
        }
        for (size_t i = 0; i < nsigs; i++)
            bad += ok[i] != 1;
        if (bad) {
            fprintf(stderr, "round %zu: %zu signatures not accepted\n", r, bad);
            return 1;
        }
        ratio[r] = cpu_s / cpu_o;
        printf("round %zu: ours %.0f/s  libsodium %.0f/s  ratio %.2f"
               "  (wall clock: %.0f/s vs %.0f/s)\n", r, (double)nsigs / cpu_o,
               (double)nsigs / cpu_s, ratio[r], (double)nsigs / wall_o,
               (double)nsigs / wall_s);
    }
    qsort(ratio, rounds, sizeof *ratio, cmp_dbl);
    for (size_t i = 0; i < nkeys; i++)
        txg_ed_forget(ctx, ek[i]);
    txg_ed_ctx_delete(ctx);
    printf("ratio=%.2f\n", rounds % 2 ? ratio[rounds / 2]
                                      : (ratio[rounds / 2 - 1] + ratio[rounds / 2]) / 2);
    return 0;
}
