/* Cookies (shared/spec/wire-format.md, section 6): 16 bytes that prove a
 * client receives datagrams at its source address and port.
 *   cookie = first 16 bytes of BLAKE2b-256 keyed with a 32-byte secret, over
 *            client addr 16 | client port 2 LE | appliance addr 16 |
 *            appliance port 2 LE | family 1        (37 bytes)
 * Addresses as struct txg_pkt_info has them (IPv4 in the first 4 bytes; the
 * other 12 are hashed as zeros whatever they hold).
 * The secret is rotated every TXG_COOKIE_PERIOD_MS; the current and the
 * previous secret are accepted, so a cookie made at time t in an epoch that
 * began at S is valid until the second rotation after it, S + 120 s when the
 * rotations come on time: 120 s - (t - S), i.e. more than 60 s, at most 120 s
 * (docs/receipts.md). One rotating thread; any number of readers, lock-free.
 * make and check neither allocate nor make system calls. Pure C, no DPDK. */
#ifndef TXG_COOKIE_H
#define TXG_COOKIE_H

#include <stdatomic.h>
#include <stdint.h>

#include "wire.h"

#define TXG_COOKIE_PERIOD_MS 60000u
#define TXG_COOKIE_KEY_LEN 32u

/* The endpoints a cookie is bound to. */
struct txg_cookie_flow {
	uint8_t af;		     /* 4 or 6 */
	uint8_t client[16];	     /* the frame's source, the receipt's destination */
	uint8_t appl[16];	     /* the appliance's address the frame was sent to */
	uint16_t client_port, appl_port; /* host order */
};

/* The secret of epoch e lives in slot[e & 1]; seq is 2e when the slot holds
 * it, odd while the rotating thread rewrites it (a seqlock per slot). */
struct txg_cookie_slot {
	_Alignas(64) _Atomic uint64_t seq;
	_Atomic uint64_t key[TXG_COOKIE_KEY_LEN / 8];
};

/* Keep it 64-byte aligned (static, aligned_alloc, rte_zmalloc). */
struct txg_cookie_state {
	_Alignas(64) _Atomic uint64_t epoch; /* current epoch, published after its slot */
	uint64_t epoch_start_ms;	      /* rotating thread only */
	struct txg_cookie_slot slot[2];
};

/* Fresh random secrets for epoch 1 (current) and 0 (previous; no cookie was
 * ever made with it), epoch started at now_ms. 0, or -1 if libsodium fails. */
int txg_cookie_init(struct txg_cookie_state *st, uint64_t now_ms);

/* From the one rotating thread, as often as it likes: if now_ms is at least
 * TXG_COOKIE_PERIOD_MS past the epoch's start, the previous secret is
 * replaced by a fresh one, which becomes current (epoch + 1, started at
 * now_ms). Returns 1 if it rotated, 0 if not. */
int txg_cookie_rotate(struct txg_cookie_state *st, uint64_t now_ms);

/* The current epoch (acquire); for tests and counters. */
uint64_t txg_cookie_epoch(const struct txg_cookie_state *st);

/* The cookie for flow under the current secret into out[0..16). Returns the
 * epoch whose secret it used. Any thread, concurrently with rotate. */
uint64_t txg_cookie_make(const struct txg_cookie_state *st, const struct txg_cookie_flow *f, uint8_t *out);

/* 1 if cookie[0..16) is flow's cookie under the current or the previous
 * secret, else 0 (also for af not 4 or 6). Constant-time compares. Any
 * thread, concurrently with rotate. */
int txg_cookie_check(const struct txg_cookie_state *st, const struct txg_cookie_flow *f, const uint8_t *cookie);

#endif
