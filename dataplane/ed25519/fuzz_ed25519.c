/* libFuzzer target: runs this verifier (full-table and small-table keys)
 * and libsodium's crypto_sign_verify_detached on the same input and aborts
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct txg_ed_ctx *full, *small;
    uint8_t pk[32], sig[64], okf[2] = { 2, 2 }, oks[2] = { 2, 2 }, sig2[64];
    const uint8_t *msg;
    size_t len;
    struct txg_ed_key *kf, *ks;
    int ref, ref2;

    if (full == NULL) {
        if (sodium_init() < 0)
            abort();
        full = txg_ed_ctx_new(1u << 20);
        small = txg_ed_ctx_new(0);
        if (full == NULL || small == NULL)
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
        struct tsig_key k;
        uint8_t wide[64], r[32];
        unsigned kind = (data[0] >> 1) & 3, sel = data[0] >> 3;
        tsig_key_from_seed(&k, data + 1);
        memcpy(pk, k.pk, 32);
        crypto_hash_sha512(wide, data, size);
        crypto_core_ed25519_scalar_reduce(r, wide);
        if (sodium_is_zero(r, 32))
            r[0] = 1;
        if (kind == 0)
            tsig_sign(sig, &k, msg, len);
        else if (kind == 1) {
            if (tsig_sign_with_r(sig, &k, msg, len, r, tsig_torsion[sel & 7]) != 0)
                abort();
        } else if (kind == 2)
            tsig_sign_identity_eq(sig, &k, msg, len, tsig_small_enc[sel % TSIG_N_SMALL]);
        else if (tsig_sign_with_r(sig, &k, msg, len, r, NULL) != 0)
            abort();
        for (int i = 0; i < 64; i++)
            sig[i] ^= data[33 + i];
    }
    ref = crypto_sign_verify_detached(sig, msg, len, pk) == 0;
    /* a second item in the same burst: the signature with S + L */
    memcpy(sig2, sig, 64);
    tsig_add256(sig2 + 32, sig2 + 32, tsig_L);
    ref2 = crypto_sign_verify_detached(sig2, msg, len, pk) == 0;
    kf = txg_ed_enrol(full, pk);
    ks = txg_ed_enrol(small, pk);
    if ((kf != NULL) != (crypto_core_ed25519_is_valid_point(pk) != 0) ||
        (ks != NULL) != (kf != NULL))
        abort();
    if (kf != NULL) {
        struct txg_ed_item it[2] = { { kf, msg, len, sig }, { kf, msg, len, sig2 } };
        txg_ed_verify_burst(it, 2, okf);
        it[0].key = it[1].key = ks;
        txg_ed_verify_burst(it, 2, oks);
        if (okf[0] != ref || oks[0] != ref || okf[1] != ref2 || oks[1] != ref2)
            abort();
        if (txg_ed_key_has_full_table(kf) != 1 || txg_ed_key_has_full_table(ks) != 0)
            abort();
    }
    txg_ed_forget(full, kf);
    txg_ed_forget(small, ks);
    return 0;
}
