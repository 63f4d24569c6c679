/* Ledger verification. */
#include "check.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "block.h"
#include "contain.h"
#include "hex.h"
#include "record.h"

#define DEF_SNAP_BLOCKS 256u
#define DEF_SNAP_MS 1000u
#define DEF_MAX_ROUNDS 16u
#define BACK_TRIES 50 /* renewals while a snapshot shows an older head than one seen before */

struct vctx {
	uint32_t chain;
	uint32_t next;	    /* expected next index */
	uint8_t (*ids)[32]; /* ids[0..next) */
	size_t cap;
	char what[200]; /* first problem */
	uint32_t bad_index;
};

static int verify_tx_cb(void *arg, uint64_t height, uint32_t index, const uint8_t *rec, size_t len)
{
	(void)height;
	struct vctx *v = arg;
	txg_progress_index(index);
	v->bad_index = index;
	if (index != v->next) {
		snprintf(v->what, sizeof v->what, "record stored at index %" PRIu32 ", expected index %" PRIu32, index,
			 v->next);
		v->bad_index = v->next;
		return 1;
	}
	if (v->next == v->cap) {
		size_t nc = v->cap ? v->cap * 2 : 64;
		void *p = realloc(v->ids, nc * 32);
		if (!p) {
			snprintf(v->what, sizeof v->what, "out of memory");
			return 1;
		}
		v->ids = p;
		v->cap = nc;
	}
	struct txg_rec_view rv;
	if (txg_record_view(rec, len, &rv) != 0) {
		snprintf(v->what, sizeof v->what, "record is not well formed (%zu bytes)", len);
		return 1;
	}
	txg_tx_id(rv.body, rv.body_len, v->ids[v->next]);
	const uint8_t *b = rv.body;
	if (txg_body_version(b) != TXG_BODY_VERSION || txg_body_flags(b) != 0) {
		snprintf(v->what, sizeof v->what, "body version %u flags %u", txg_body_version(b),
			 txg_body_flags(b));
		return 1;
	}
	if (txg_body_chain(b) != v->chain) {
		snprintf(v->what, sizeof v->what, "record chain id %" PRIu32 ", ledger's is %" PRIu32,
			 txg_body_chain(b), v->chain);
		return 1;
	}
	if (crypto_sign_verify_detached(rv.sig, rv.body, rv.body_len, txg_body_sender(b)) != 0) {
		snprintf(v->what, sizeof v->what, "bad signature");
		return 1;
	}
	v->next++;
	txg_progress_index(v->next); /* the next cursor step reads the record after this one */
	return 0;
}

/* Record the first problem in r; returns 1. */
static int fail(struct txg_check_report *r, uint64_t height, int64_t index, const char *what)
{
	r->height = height;
	r->index = index;
	snprintf(r->what, sizeof r->what, "%s", what);
	return 1;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The walk's current read snapshot. */
struct walk {
	struct txg_store *s;
	struct txg_store_snap *sn;
	uint32_t blocks;   /* blocks read in sn */
	uint64_t began_ms; /* when sn began */
};

/* Replace w->sn by a new snapshot whose head (*h) is at least min_height:
 * committed blocks never change, so a newer snapshot serves the rest of the
 * walk. LMDB 0.9 may briefly show a state older than one already seen, so
 * an older head is retried for a while. 0; 1 the head stays below
 * min_height (problem in r); -1 cannot read (r->what). */
static int renew(struct walk *w, uint64_t min_height, struct txg_store_head *h, struct txg_check_report *r)
{
	for (int tries = 0;; tries++) {
		txg_store_snap_end(w->sn);
		w->sn = NULL;
		txg_progress_at(TXG_AT_HEAD, min_height, -1);
		if (txg_store_snap_begin(w->s, &w->sn) != 0) {
			snprintf(r->what, sizeof r->what, "cannot begin a read transaction");
			return -1;
		}
		w->blocks = 0;
		w->began_ms = mono_ms();
		if (txg_store_snap_head(w->sn, h) != 0) {
			snprintf(r->what, sizeof r->what, "cannot read the head");
			return -1;
		}
		if (h->height >= min_height)
			return 0;
		if (tries >= BACK_TRIES) {
			char msg[200];
			snprintf(msg, sizeof msg,
				 "the head went back from height %" PRIu64 " to %" PRIu64
				 " while the ledger was read (was it replaced or rolled back?)",
				 min_height, h->height);
			return fail(r, h->height, -1, msg);
		}
		struct timespec d = {0, 2 * 1000 * 1000};
		nanosleep(&d, NULL);
	}
}

/* The running state of the chain walk. */
struct chain {
	struct vctx v;
	uint8_t (*scratch)[32];
	uint8_t prev[32]; /* hash of the last block checked */
	uint64_t prev_ts;
	uint64_t total; /* records checked */
};

/* Check block hgt in sn against the chain so far and advance it. 0, 1 a
 * problem (r), -1 cannot read (r, as a located problem). */
static int check_block(struct txg_store_snap *sn, uint64_t hgt, struct chain *c, struct txg_check_report *r)
{
	uint8_t raw[TXG_HDR_LEN];
	struct txg_block_hdr h;
	char msg[256];
	struct vctx *v = &c->v;
	txg_progress_at(TXG_AT_HEADER, hgt, -1);
	int rc = txg_store_snap_get_header(sn, hgt, raw);
	if (rc != 0)
		return fail(r, hgt, -1, rc == 1 ? "header missing" : "cannot read header (LMDB read error)");
	if (txg_hdr_decode(raw, &h) != 0)
		return fail(r, hgt, -1, "header does not decode");
	if (h.chain_id != v->chain) {
		snprintf(msg, sizeof msg, "header chain id %" PRIu32 ", ledger's is %" PRIu32, h.chain_id, v->chain);
		return fail(r, hgt, -1, msg);
	}
	if (h.height != hgt) {
		snprintf(msg, sizeof msg, "header says height %" PRIu64, h.height);
		return fail(r, hgt, -1, msg);
	}
	if (memcmp(h.prev_hash, c->prev, 32) != 0)
		return fail(r, hgt, -1, "prev_hash is not the hash of the previous block");
	if (h.timestamp_ms < c->prev_ts) {
		snprintf(msg, sizeof msg, "timestamp %" PRIu64 " before parent's %" PRIu64, h.timestamp_ms,
			 c->prev_ts);
		return fail(r, hgt, -1, msg);
	}
	if (h.tx_count == 0)
		return fail(r, hgt, -1, "tx_count is 0");
	v->next = 0;
	v->what[0] = 0;
	txg_progress_at(TXG_AT_RECORDS, hgt, 0);
	rc = txg_store_snap_block_txs(sn, hgt, verify_tx_cb, v);
	if (rc != 0) {
		if (v->what[0])
			return fail(r, hgt, v->bad_index, v->what);
		return fail(r, hgt, -1, "cannot read records (LMDB read error)");
	}
	if (v->next != h.tx_count) {
		snprintf(msg, sizeof msg, "tx_count %" PRIu32 " but %" PRIu32 " records stored", h.tx_count, v->next);
		return fail(r, hgt, -1, msg);
	}
	for (uint32_t i = 0; i < v->next; i++) {
		uint64_t ih;
		uint32_t ii;
		txg_progress_at(TXG_AT_TXIDX, hgt, i);
		rc = txg_store_snap_find_tx(sn, v->ids[i], &ih, &ii);
		if (rc == 1)
			return fail(r, hgt, i, "tx_id missing from txidx");
		if (rc != 0)
			return fail(r, hgt, i, "cannot read txidx (LMDB read error)");
		if (ih != hgt || ii != i) {
			snprintf(msg, sizeof msg,
				 "txidx points to %" PRIu64 "/%" PRIu32 " (tx_id stored twice or index wrong)", ih, ii);
			return fail(r, hgt, i, msg);
		}
	}
	void *p = realloc(c->scratch, v->cap * 32);
	if (!p)
		return fail(r, hgt, -1, "out of memory");
	c->scratch = p;
	uint8_t root[32];
	txg_merkle_root((const uint8_t(*)[32])v->ids, v->next, c->scratch, root);
	if (memcmp(root, h.tx_root, 32) != 0)
		return fail(r, hgt, -1, "tx_root does not match the records");
	txg_block_hash(raw, c->prev);
	c->prev_ts = h.timestamp_ms;
	c->total += v->next;
	r->txs = c->total;
	return 0;
}

/* A block hash that is not the expected one; returns 1. */
static int fail_expect(struct txg_check_report *r, uint64_t height, const uint8_t got[32], const uint8_t want[32])
{
	char g[65], w[65], msg[256];
	txg_hex(got, 32, g);
	txg_hex(want, 32, w);
	snprintf(msg, sizeof msg, "block hash is %s, expected %s (the ledger was rolled back or rewritten)", g, w);
	return fail(r, height, -1, msg);
}

int txg_ledger_check_opts(struct txg_store *s, const struct txg_check_opts *o, struct txg_check_report *r)
{
	static const struct txg_check_opts defaults;
	if (!o)
		o = &defaults;
	uint32_t snap_blocks = o->snap_blocks ? o->snap_blocks : DEF_SNAP_BLOCKS;
	uint32_t snap_ms = o->snap_ms ? o->snap_ms : DEF_SNAP_MS;
	uint32_t max_rounds = o->max_rounds ? o->max_rounds : DEF_MAX_ROUNDS;
	memset(r, 0, sizeof(*r));
	r->index = -1;
	struct walk w = {.s = s};
	struct chain c = {.v = {.chain = txg_store_chain_id(s)}};
	struct txg_store_head head;
	struct txg_store_stats st;
	char msg[256];
	int ret = renew(&w, 0, &head, r);
	if (ret != 0)
		goto out;
	ret = 1;
	if (o->expect && o->expect_height == 0 && !sodium_is_zero(o->expect_hash, 32)) {
		fail_expect(r, 0, c.prev, o->expect_hash);
		goto out;
	}
	uint64_t target = head.height, hgt = 1;
	for (uint32_t rounds = 0;;) {
		for (; hgt <= target; hgt++) {
			if (w.blocks >= snap_blocks || mono_ms() - w.began_ms >= snap_ms) {
				int rc = renew(&w, target, &head, r);
				if (rc != 0) {
					ret = rc;
					goto out;
				}
			}
			w.blocks++;
			int rc = check_block(w.sn, hgt, &c, r);
			if (rc != 0)
				goto out;
			if (o->expect && hgt == o->expect_height && memcmp(c.prev, o->expect_hash, 32) != 0) {
				fail_expect(r, hgt, c.prev, o->expect_hash);
				goto out;
			}
		}
		/* The counts and the head must come from a snapshot whose head
		 * is the walked height. */
		txg_progress_at(TXG_AT_COUNTS, target, -1);
		if (txg_store_snap_stats(w.sn, &st) != 0) {
			snprintf(r->what, sizeof r->what, "cannot read ledger statistics");
			ret = -1;
			goto out;
		}
		if (st.head.height == target)
			break;
		if (++rounds > max_rounds) {
			snprintf(msg, sizeof msg,
				 "the head moved on to height %" PRIu64 " after the walk reached it %" PRIu32
				 " times; not verified to the end (verify again when fewer blocks are committed)",
				 st.head.height, max_rounds);
			fail(r, target, -1, msg);
			ret = -1;
			goto out;
		}
		if (st.head.height > target) {
			target = st.head.height; /* the current snapshot holds the new blocks */
			continue;
		}
		int rc = renew(&w, target, &head, r); /* a snapshot older than one seen before */
		if (rc != 0) {
			ret = rc;
			goto out;
		}
	}
	if (memcmp(c.prev, st.head.hash, 32) != 0 || c.prev_ts != st.head.timestamp_ms) {
		fail(r, target, -1, "head in meta is not the last block");
		goto out;
	}
	if (st.headers != target) {
		snprintf(msg, sizeof msg, "%" PRIu64 " headers stored for %" PRIu64 " blocks", st.headers, target);
		fail(r, target, -1, msg);
		goto out;
	}
	if (st.txs != c.total || st.txidx != c.total) {
		snprintf(msg, sizeof msg,
			 "%" PRIu64 " records and %" PRIu64 " txidx entries stored for %" PRIu64 " transactions",
			 st.txs, st.txidx, c.total);
		fail(r, target, -1, msg);
		goto out;
	}
	/* The other way: every index entry points to its record. */
	struct txg_index_problem ip;
	int irc = txg_store_snap_index_check(w.sn, c.total, &ip);
	if (irc != 0) {
		if (irc < 0) {
			snprintf(r->what, sizeof r->what, "%s", ip.what);
			ret = -1;
		} else {
			fail(r, ip.height, ip.index, ip.what);
		}
		goto out;
	}
	if (o->expect && o->expect_height > target) {
		snprintf(msg, sizeof msg,
			 "no such block: the ledger ends at height %" PRIu64 " (it was rolled back, or the expected "
			 "head is not of this ledger)",
			 target);
		fail(r, o->expect_height, -1, msg);
		goto out;
	}
	r->height = target;
	r->txs = c.total;
	memcpy(r->head_hash, c.prev, 32);
	ret = 0;
out:
	txg_store_snap_end(w.sn);
	free(c.v.ids);
	free(c.scratch);
	return ret;
}

int txg_ledger_check(struct txg_store *s, struct txg_check_report *r) { return txg_ledger_check_opts(s, NULL, r); }
