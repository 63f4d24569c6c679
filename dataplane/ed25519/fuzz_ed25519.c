/* libFuzzer target: runs this verifier (full-table keys at table widths 4
 * and 5, and small-table keys), with every backend this CPU supports
 * (scalar, avx2: bursts of 2, 4 and 3 items, so that the AVX2 lanes run,
 * also with a padded lane), and
 * libsodium's crypto_sign_verify_detached on the same input, and aborts
 * on any disagreement, or if enrolment disagrees with
 * crypto_core_ed25519_is_valid_point.
 * Input: mode byte, then
 *   mode bit0 = 0: pk[32] || sig[64] || msg          (raw; vector seeds)
 *   mode bit0 = 1: seed[32] || mask[64] || msg: a key from seed signs msg
 *     ((mode >> 1) & 3: 0 standard, 1 mixed-order R = rB + T[(mode>>3)&7],
 *     2 small-order R encoding [(mode>>3) % 14] with s = h a, 3 chosen r),
 *     then sig ^= mask (all-zero mask keeps it valid). */
#include "ed25519.h"
#include "test_sigs.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NCTX 3

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct txg_ed_ctx *ctx[NCTX];
    static const char *const backends[] = { "scalar", "avx2" };
    uint8_t pk[32], sig[64], sig2[64];
    const uint8_t *msg;
    size_t len;
    struct txg_ed_key *k[NCTX];
    int ref, ref2, valid;

    if (ctx[0] == NULL) {
        if (sodium_init() < 0)
            abort();
        ctx[0] = txg_ed_ctx_new(1u << 20);
        ctx[1] = txg_ed_ctx_new2(1u << 20, 5);
        ctx[2] = txg_ed_ctx_new(0);
        if (ctx[0] == NULL || ctx[1] == NULL || ctx[2] == NULL ||
            txg_ed_set_backend("scalar") != 0)
            abort();
    }
    if (size < 97)
        return 0;
    msg = data + 97;
    len = size - 97;
    if ((data[0] & 1) == 0) {
        memcpy(pk, data + 1, 32);
        memcpy(sig, data + 33, 64);
    } else {
        struct tsig_key tk;
        uint8_t wide[64], r[32];
        unsigned kind = (data[0] >> 1) & 3, sel = data[0] >> 3;
        tsig_key_from_seed(&tk, data + 1);
        memcpy(pk, tk.pk, 32);
        crypto_hash_sha512(wide, data, size);
        crypto_core_ed25519_scalar_reduce(r, wide);
        if (sodium_is_zero(r, 32))
            r[0] = 1;
        if (kind == 0)
            tsig_sign(sig, &tk, msg, len);
        else if (kind == 1) {
            if (tsig_sign_with_r(sig, &tk, msg, len, r, tsig_torsion[sel & 7]) != 0)
                abort();
        } else if (kind == 2)
            tsig_sign_identity_eq(sig, &tk, msg, len, tsig_small_enc[sel % TSIG_N_SMALL]);
        else if (tsig_sign_with_r(sig, &tk, msg, len, r, NULL) != 0)
            abort();
        for (int i = 0; i < 64; i++)
            sig[i] ^= data[33 + i];
    }
    ref = crypto_sign_verify_detached(sig, msg, len, pk) == 0;
    /* a second item in the same burst: the signature with S + L */
    memcpy(sig2, sig, 64);
    tsig_add256(sig2 + 32, sig2 + 32, tsig_L);
    ref2 = crypto_sign_verify_detached(sig2, msg, len, pk) == 0;
    valid = crypto_core_ed25519_is_valid_point(pk) != 0;
    for (int c = 0; c < NCTX; c++) {
        k[c] = txg_ed_enrol(ctx[c], pk);
        if ((k[c] != NULL) != valid)
            abort();
        if (k[c] != NULL && txg_ed_key_has_full_table(k[c]) != (c < 2))
            abort();
    }
    for (size_t b = 0; valid && b < sizeof backends / sizeof backends[0]; b++) {
        if (txg_ed_set_backend(backends[b]) != 0)
            continue;
        for (int c = 0; c < NCTX; c++) {
            uint8_t ok[4] = { 2, 2, 2, 2 };
            struct txg_ed_item it[4] = { { k[c], msg, len, sig },
                                         { k[c], msg, len, sig2 },
                                         { k[c], msg, len, sig },
                                         { k[c], msg, len, sig2 } };
            txg_ed_verify_burst(it, 2, ok);
            if (ok[0] != ref || ok[1] != ref2)
                abort();
            txg_ed_verify_burst(it, 4, ok);
            if (ok[0] != ref || ok[1] != ref2 || ok[2] != ref || ok[3] != ref2)
                abort();
            memset(ok, 2, sizeof ok);          /* 3: a padded lane */
            txg_ed_verify_burst(it + 1, 3, ok);
            if (ok[0] != ref2 || ok[1] != ref || ok[2] != ref2 || ok[3] != 2)
                abort();
        }
    }
    for (int c = 0; c < NCTX; c++)
        txg_ed_forget(ctx[c], k[c]);
    return 0;
}
