/* Ed25519 verifier for enrolled public keys, with exactly libsodium 1.0.18's
 * decisions (crypto_sign_verify_detached) for every key that enrols.
 * Each enrolled key gets a precomputed comb table (up to a cap, then a small
 * table), so [s]B - [h]A costs table look-ups and additions only. Two
 * backends, picked at run time: AVX2 (four signatures per instruction
 * stream) and portable scalar. Pure C + libsodium (SHA-512, scalar
 * reduction); no DPDK. */
#ifndef TXG_ED25519_H
#define TXG_ED25519_H

#include <stddef.h>
#include <stdint.h>

struct txg_ed_ctx;
struct txg_ed_key;

/* New context; at most max_table_keys keys get full tables at once, the rest
 * get small tables (still exact, slower). NULL on OOM. */
struct txg_ed_ctx *txg_ed_ctx_new(size_t max_table_keys);

/* Table widths for txg_ed_ctx_new2: each enrolled key's comb table uses
 * radix-2^table_bits digits. Wider tables need fewer additions per
 * verification and more memory per key (see txg_ed_table_bytes and
 * docs/ed25519.md). txg_ed_ctx_new uses the default. */
#define TXG_ED_TABLE_BITS_MIN 4
#define TXG_ED_TABLE_BITS_MAX 8
#define TXG_ED_TABLE_BITS_DEFAULT 4

/* As txg_ed_ctx_new, with full tables of table_bits (MIN..MAX). NULL if
 * table_bits is out of range or on OOM. The first context for a width
 * builds that width's shared base-point table (224-288 KB, once). */
struct txg_ed_ctx *txg_ed_ctx_new2(size_t max_table_keys, unsigned table_bits);

/* Bytes allocated for one full-table key of width table_bits (0 if out of
 * range). */
size_t txg_ed_table_bytes(unsigned table_bits);

/* The widest table_bits whose full tables for nkeys keys fit in
 * budget_bytes (TXG_ED_TABLE_BITS_MIN if none does). */
unsigned txg_ed_table_bits_for_budget(size_t budget_bytes, size_t nkeys);

/* Bytes allocated for one full-table key of ctx. */
size_t txg_ed_ctx_key_bytes(const struct txg_ed_ctx *ctx);

/* Backend: "avx2" (four signatures at once in AVX2 lanes, chosen when the
 * CPU has AVX2) or "scalar". The environment variable
 * TXG_ED25519_BACKEND=scalar, read once at the first use, forces the scalar
 * backend. Both give exactly the same decisions. */
const char *txg_ed_backend_name(void);

/* Selects the backend for all later calls: "scalar", "avx2" or "auto"
 * (NULL = "auto"). 0, or -1 if unknown or not supported by this CPU
 * (unchanged then). For tests and benchmarks; an atomic, safe at any time
 * (each chunk of up to 32 items of a burst uses one backend). */
int txg_ed_set_backend(const char *name);

/* Frees ctx; all its keys must have been forgotten first. NULL is a no-op. */
void txg_ed_ctx_delete(struct txg_ed_ctx *ctx);

/* Enrols pk: builds its table. NULL if pk fails
 * crypto_core_ed25519_is_valid_point or on OOM. Thread-safe against
 * verifiers and other enrols/forgets (lock-free). */
struct txg_ed_key *txg_ed_enrol(struct txg_ed_ctx *ctx, const uint8_t pk[32]);

/* Frees key (NULL: no-op). The caller guarantees no verifier still uses it. */
void txg_ed_forget(struct txg_ed_ctx *ctx, struct txg_ed_key *key);

/* The 32-byte public key the key was enrolled with. */
const uint8_t *txg_ed_key_pk(const struct txg_ed_key *key);

/* 1 if key has a full table, 0 if it got a small one (cap reached). */
int txg_ed_key_has_full_table(const struct txg_ed_key *key);

struct txg_ed_item {
    const struct txg_ed_key *key; /* enrolled key (NULL: item fails) */
    const uint8_t *msg;           /* len bytes (may be NULL if len == 0) */
    size_t len;
    const uint8_t *sig;           /* 64 bytes R || S */
};

/* ok[i] = 1 iff crypto_sign_verify_detached(sig, msg, len, pk) == 0, else 0.
 * Any n; reentrant; no allocation, no locks. */
void txg_ed_verify_burst(const struct txg_ed_item *items, size_t n,
                         uint8_t *ok);

/* Bytes allocated for one key with a full table of the default width. */
size_t txg_ed_key_bytes(void);

/* Bytes allocated for one key with a small table (beyond the cap). */
size_t txg_ed_key_small_bytes(void);

/* Keys currently holding full tables in ctx. */
size_t txg_ed_ctx_full_keys(const struct txg_ed_ctx *ctx);

#endif
