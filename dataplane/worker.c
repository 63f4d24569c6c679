/* Poll-mode worker. */
#include "worker.h"

#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>
#include <rte_random.h>

#include "clock.h"
#include "txn.h"

/* Fewest bytes a record takes: body_len field, minimal body, signature. */
#define REC_MIN (2u + TXG_BODY_MIN + TXG_SIG_LEN)
#define LOOKUP_MAX 64u
#define TXG_WORKER_ANSWER_SLOTS 4096u /* destination buckets of the answer bound */

/* A record comes from one single-segment mbuf of the pool txgate creates
 * (RTE_MBUF_DEFAULT_BUF_SIZE), so it always fits a transaction slot. */
_Static_assert(TXG_TXN_REC_MAX >= RTE_MBUF_DEFAULT_DATAROOM, "a record must fit a txn slot");

struct txg_cand {
	const uint8_t *rec;
	const uint8_t *body;
	const uint8_t *sig;
	struct txg_member *m;
	uint16_t body_len;
	uint32_t rec_len; /* up to 2 + 65535 + 64 */
	uint16_t pkt;	/* index into pinfo */
	uint8_t frame_flags;
	uint8_t status; /* TXG_ST_ACCEPTED while still in the running */
	uint8_t has_id; /* tx_id computed */
	int32_t dpos;	/* duplicate: its slot in the dedupe window */
	uint8_t cookied; /* its frame had a valid cookie */
	uint8_t silent;	/* dropped unanswered (penalty box) */
	uint8_t tagged;	/* tx_id came from the signature tag cache (a hint) */
	uint64_t tag;	/* signature tag (0: not computed) */
	uint8_t tx_id[TXG_ID_LEN];
};

int txg_worker_init(struct txg_worker *w, const struct txg_worker_params *p, unsigned id, char *err, size_t errlen)
{
	memset(w, 0, sizeof(*w));
	w->id = id;
	w->lcore = p->lcore;
	w->n_rxq = p->n_rxq;
	memcpy(w->rx_port, p->rx_port, sizeof(w->rx_port));
	memcpy(w->rx_queue, p->rx_queue, sizeof(w->rx_queue));
	w->filter = p->filter;
	w->chain_id = p->chain_id;
	w->max_ttl_ms = p->max_ttl_ms;
	w->burst = p->burst;
	w->idle_spins = p->idle_spins;
	w->idle_sleep_us = p->idle_sleep_us;
	/* A single-segment packet holds at most this many records. */
	uint32_t per_pkt = RTE_MBUF_DEFAULT_DATAROOM / REC_MIN + 1;
	w->cand_cap = (uint32_t)w->burst * per_pkt;
	if (w->cand_cap < TXG_FRAME_MAX_RECS)
		w->cand_cap = TXG_FRAME_MAX_RECS;
	int sock = (int)rte_lcore_to_socket_id(w->lcore);
	w->cands = rte_zmalloc_socket("cands", sizeof(*w->cands) * w->cand_cap, RTE_CACHE_LINE_SIZE, sock);
	w->mbufs = rte_zmalloc_socket("mbufs", sizeof(*w->mbufs) * w->burst, RTE_CACHE_LINE_SIZE, sock);
	w->pinfo = rte_zmalloc_socket("pinfo", sizeof(*w->pinfo) * w->burst, RTE_CACHE_LINE_SIZE, sock);
	w->recs = rte_zmalloc_socket("recs", sizeof(*w->recs) * TXG_FRAME_MAX_RECS, RTE_CACHE_LINE_SIZE, sock);
	w->live = rte_zmalloc_socket("live", sizeof(*w->live) * w->cand_cap, RTE_CACHE_LINE_SIZE, sock);
	w->vitems = rte_zmalloc_socket("vitems", sizeof(*w->vitems) * w->cand_cap, RTE_CACHE_LINE_SIZE, sock);
	w->vok = rte_zmalloc_socket("vok", w->cand_cap, RTE_CACHE_LINE_SIZE, sock);
	w->objs = rte_zmalloc_socket("objs", sizeof(void *) * w->cand_cap, RTE_CACHE_LINE_SIZE, sock);
	w->ports = rte_zmalloc_socket("wports", sizeof(*w->ports) * RTE_MAX_ETHPORTS, RTE_CACHE_LINE_SIZE, sock);
	w->port_mac = rte_zmalloc_socket("wmac", 6 * RTE_MAX_ETHPORTS, 0, sock);
	w->port_txq = rte_malloc_socket("wtxq", sizeof(uint16_t) * RTE_MAX_ETHPORTS, 0, sock);
	/* Flood protection. */
	w->prefix4 = p->prefix4;
	w->prefix6 = p->prefix6;
	w->seed = rte_rand();
	w->port_load = rte_zmalloc_socket("wload", RTE_MAX_ETHPORTS, 0, sock);
	w->fair = rte_zmalloc_socket("fair", sizeof(*w->fair), RTE_CACHE_LINE_SIZE, sock);
	w->pick = rte_zmalloc_socket("pick", sizeof(uint32_t) * w->cand_cap, RTE_CACHE_LINE_SIZE, sock);
	w->rest = rte_zmalloc_socket("rest", sizeof(uint32_t) * w->cand_cap, RTE_CACHE_LINE_SIZE, sock);
	w->todo = rte_zmalloc_socket("todo", sizeof(uint32_t) * w->cand_cap, RTE_CACHE_LINE_SIZE, sock);
	w->pfx = rte_zmalloc_socket("pfx", sizeof(uint64_t) * w->burst, RTE_CACHE_LINE_SIZE, sock);
	w->cookied = rte_zmalloc_socket("cookied", w->burst, RTE_CACHE_LINE_SIZE, sock);
	uint32_t pen_sets = p->penalty_pairs / TXG_PEN_WAYS ? p->penalty_pairs / TXG_PEN_WAYS : 1;
	void *pen = rte_zmalloc_socket("pen", txg_penalty_mem(pen_sets), RTE_CACHE_LINE_SIZE, sock);
	void *ans = rte_zmalloc_socket("ans", txg_answers_mem(TXG_WORKER_ANSWER_SLOTS), RTE_CACHE_LINE_SIZE, sock);
	void *sc = p->sigcache_entries
			   ? rte_zmalloc_socket("sigcache", txg_sigcache_mem(p->sigcache_entries), RTE_CACHE_LINE_SIZE, sock)
			   : NULL;
	txg_penalty_init(&w->pen, pen, pen_sets, p->penalty_threshold, p->penalty_halflife_ms);
	txg_answers_init(&w->ans, ans, TXG_WORKER_ANSWER_SLOTS, p->answer_rate, p->answer_burst, rte_get_tsc_hz(),
			 rte_rand());
	txg_sigcache_init(&w->sc, sc, p->sigcache_entries, rte_rand());
	if (w->fair)
		txg_fair_init(w->fair, p->fair_budget);
	txg_load_init(&w->load, &p->load, rte_get_tsc_hz(), rte_get_tsc_cycles());
	if (!w->cands || !w->mbufs || !w->pinfo || !w->recs || !w->live || !w->vitems || !w->vok || !w->objs ||
	    !w->ports || !w->port_mac || !w->port_txq || !w->port_load || !w->fair || !w->pick || !w->rest || !w->todo || !w->pfx ||
	    !w->cookied || !pen || !ans || (p->sigcache_entries && !sc)) {
		snprintf(err, errlen, "worker %u: out of memory for scratch", id);
		txg_worker_fini(w);
		return -1;
	}
	for (unsigned i = 0; i < RTE_MAX_ETHPORTS; i++)
		w->port_txq[i] = UINT16_MAX; /* no TX queue until txg_worker_answer_on */
	txg_outbox_init(&w->outbox, NULL, NULL, (const uint8_t(*)[6])w->port_mac, w->port_txq);
	return 0;
}

void txg_worker_set_replies(struct txg_worker *w, struct rte_mempool *pool, const struct txg_cookie_state *cookies)
{
	w->tx_pool = pool;
	w->cookies = cookies;
	txg_outbox_init(&w->outbox, pool, cookies, (const uint8_t(*)[6])w->port_mac, w->port_txq);
}

void txg_worker_port_load(struct txg_worker *w, uint16_t port, int on)
{
	if (port < RTE_MAX_ETHPORTS)
		w->port_load[port] = on ? 1 : 0;
}

void txg_worker_fini(struct txg_worker *w)
{
	rte_free(w->port_load);
	rte_free(w->fair);
	rte_free(w->pick);
	rte_free(w->rest);
	rte_free(w->todo);
	w->todo = NULL;
	rte_free(w->pfx);
	rte_free(w->cookied);
	rte_free(w->pen.e);
	rte_free(w->ans.b);
	rte_free(w->sc.e);
	w->port_load = NULL;
	w->fair = NULL;
	w->pick = w->rest = NULL;
	w->pfx = NULL;
	w->cookied = NULL;
	w->pen.e = NULL;
	w->ans.b = NULL;
	w->sc.e = NULL;
	rte_free(w->cands);
	rte_free(w->ports);
	rte_free(w->port_mac);
	rte_free(w->port_txq);
	rte_free(w->mbufs);
	rte_free(w->pinfo);
	rte_free(w->recs);
	rte_free(w->live);
	rte_free(w->vitems);
	rte_free(w->vok);
	rte_free(w->objs);
	w->cands = NULL;
	w->mbufs = NULL;
	w->pinfo = NULL;
	w->recs = NULL;
	w->live = NULL;
	w->vitems = NULL;
	w->vok = NULL;
	w->objs = NULL;
}

static inline void judge(struct txg_worker *w, struct txg_cand *c, unsigned st)
{
	c->status = (uint8_t)st;
	TXG_STAT_INC(w->stats.status[st], 1);
}

/* Where the receipts of packet i of the burst go (its frame's source). */
static void reply_addr(const struct txg_worker *w, uint16_t i, struct txg_reply_addr *to)
{
	const struct txg_pkt_info *pi = &w->pinfo[i];
	to->port = w->cur_port;
	to->vlan = pi->vlan;
	to->af = pi->af;
	memcpy(to->peer_mac, rte_pktmbuf_mtod(w->mbufs_cur[i], const uint8_t *) + 6, 6);
	memcpy(to->peer, pi->src, 16);
	memcpy(to->local, pi->dst, 16);
	to->peer_port = pi->sport;
	to->local_port = pi->dport;
}

/* Whether an answer to packet pkt's source may go: frames with a valid
 * cookie proved their address, and a replay port reaches no one, so they
 * are always answered; the others take a token of their destination's
 * bucket (reflection bound, docs/flood.md). */
static int answer_ok(struct txg_worker *w, uint16_t pkt)
{
	if (w->cookied[pkt] || !w->port_load[w->cur_port])
		return 1;
	const struct txg_pkt_info *pi = &w->pinfo[pkt];
	if (txg_answers_take(&w->ans, pi->af, pi->src, w->now_tsc))
		return 1;
	TXG_STAT_INC(w->stats.flood[TXG_FC_ANSWERS_LIMITED], 1);
	return 0;
}

/* Queue the receipt entry of a record judged here (spec section 4):
 * rejections at once, accepted only for ADMIT frames; a duplicate of a
 * committed transaction carries its location. */
static void receipt(struct txg_worker *w, uint16_t pkt, const uint8_t *id, unsigned st, int32_t dpos)
{
	struct txg_receipt_entry e = {.status = (uint8_t)st};
	memcpy(e.tx_id, id, TXG_ID_LEN);
	if (st == TXG_ST_DUPLICATE && dpos >= 0) {
		const struct txg_dedupe_slot *s = &w->dedupe->slots[dpos];
		e.height = __atomic_load_n(&s->height, __ATOMIC_ACQUIRE);
		e.index = e.height ? s->index : 0;
	}
	struct txg_reply_addr to;
	reply_addr(w, pkt, &to);
	txg_outbox_add(&w->outbox, &to, &e);
}

/* Receipts for the judged cands[0..n) of frames that asked for them. */
static void receipts_for(struct txg_worker *w, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		struct txg_cand *c = &w->cands[i];
		if (!(c->frame_flags & TXG_FRAME_F_RECEIPT) || c->silent)
			continue;
		if (c->status == TXG_ST_ACCEPTED && !(c->frame_flags & TXG_FRAME_F_ADMIT))
			continue;
		if (!answer_ok(w, c->pkt))
			continue;
		if (!c->has_id)
			txg_tx_id(c->body, c->body_len, c->tx_id);
		receipt(w, c->pkt, c->tx_id, c->status, c->status == TXG_ST_DUPLICATE ? c->dpos : -1);
	}
}

/* CRC32C of p[0..n) from v, with unaligned loads done by memcpy (the
 * record sits at any offset of its packet). */
static inline uint32_t crc32c(const uint8_t *p, size_t n, uint32_t v)
{
	for (; n >= 8; p += 8, n -= 8) {
		uint64_t x;
		memcpy(&x, p, 8);
		v = rte_hash_crc_8byte(x, v);
	}
	if (n >= 4) {
		uint32_t x;
		memcpy(&x, p, 4);
		v = rte_hash_crc_4byte(x, v);
		p += 4;
		n -= 4;
	}
	for (; n; p++, n--)
		v = rte_hash_crc_1byte(*p, v);
	return v;
}

/* The signature tag of every cand of cands[0..n), each cache set
 * prefetched. */
static void cand_tags(struct txg_worker *w, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		struct txg_cand *c = &w->cands[i];
		/* CRC32C (SSE4.2 where the CPU has it) of the signature and of
		 * the body, seeded from the cache's key: cheap next to BLAKE2b.
		 * Not collision-proof, and need not be: a hit is confirmed by
		 * the dedupe window, so the worst a crafted collision gets is a
		 * forgery of a known record judged duplicate instead of
		 * bad_signature (dropped unverified either way). */
		uint32_t hs = crc32c(c->sig, TXG_SIG_LEN, (uint32_t)w->sc.seed);
		uint32_t hb = crc32c(c->body, c->body_len, (uint32_t)(w->sc.seed >> 32));
		c->tag = ((uint64_t)hs << 32 | hb) | 1u;
		rte_prefetch0(txg_sigcache_slot(&w->sc, c->tag));
	}
}

/* Exact copies first (the signature tag cache, docs/flood.md): a cand
 * whose tag the cache holds, put while no member has been revoked since
 * (gen), and whose cached tx_id the dedupe window holds is a duplicate,
 * judged without BLAKE2b or a member lookup (its sender was a member when
 * it was accepted, and still is). Other hits keep the id as a hint. */
static void judge_copies(struct txg_worker *w, uint32_t n, uint32_t gen)
{
	struct txg_cand *cands = w->cands;
	uint32_t *fast = w->rest, nf = 0;
	const void *keys[LOOKUP_MAX];
	int32_t pos[LOOKUP_MAX];
	cand_tags(w, n);
	for (uint32_t i = 0; i < n; i++) {
		struct txg_cand *c = &cands[i];
		uint32_t g;
		if (!txg_sigcache_get(&w->sc, c->tag, c->tx_id, &g))
			continue;
		c->tagged = 1;
		c->has_id = 1;
		if (g == gen)
			fast[nf++] = i;
	}
	for (uint32_t i = 0; i < nf; i += LOOKUP_MAX) {
		uint32_t k = RTE_MIN(LOOKUP_MAX, nf - i);
		for (uint32_t j = 0; j < k; j++)
			keys[j] = cands[fast[i + j]].tx_id;
		txg_dedupe_lookup(w->dedupe, keys, k, pos);
		for (uint32_t j = 0; j < k; j++) {
			if (pos[j] < 0)
				continue;
			struct txg_cand *c = &cands[fast[i + j]];
			c->dpos = pos[j];
			judge(w, c, TXG_ST_DUPLICATE);
			TXG_STAT_INC(w->stats.flood[TXG_FC_TAG_DUPLICATES], 1);
		}
	}
}

/* The tx_id of each cand of live[0..n) that has none: BLAKE2b. */
static void cand_ids(struct txg_worker *w, const uint32_t *live, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		struct txg_cand *c = &w->cands[live[i]];
		if (c->has_id)
			continue;
		txg_tx_id(c->body, c->body_len, c->tx_id);
		c->has_id = 1;
	}
}

/* Rules 5, 6, 7 and 8 (unknown_sender, duplicate, rate_limited,
 * bad_signature) and queueing (overloaded) for cands[0..n). Under load
 * (docs/flood.md) records of frames without a valid cookie are answered
 * overloaded unchecked, a boxed (member, prefix) pair's records are
 * dropped unanswered, and the checks are shared between source prefixes. */
static void judge_cands(struct txg_worker *w, uint32_t n)
{
	struct txg_cand *cands = w->cands;
	uint32_t *live = w->live;
	const void *keys[LOOKUP_MAX];
	struct txg_member *mem[LOOKUP_MAX];
	int32_t pos[LOOKUP_MAX];
	uint32_t nl = 0;
	const int loaded = w->loaded_now;
	uint64_t *fl = w->stats.flood;
	uint64_t skipped = 0; /* checks not done because of load */

	/* Exact copies of verified records, cheaply; then the others in order. */
	uint32_t gen = txg_members_revocations(w->members);
	uint32_t *todo = w->todo, nt = 0;
	if (w->sc.e)
		judge_copies(w, n, gen);
	for (uint32_t i = 0; i < n; i++)
		if (cands[i].status == TXG_ST_ACCEPTED)
			todo[nt++] = i;
	/* 5: sender must be an active member. */
	for (uint32_t i = 0; i < nt; i += LOOKUP_MAX) {
		uint32_t k = RTE_MIN(LOOKUP_MAX, nt - i);
		for (uint32_t j = 0; j < k; j++)
			keys[j] = txg_body_sender(cands[todo[i + j]].body);
		txg_members_lookup(w->members, keys, k, mem);
		for (uint32_t j = 0; j < k; j++) {
			struct txg_cand *c = &cands[todo[i + j]];
			if (!mem[j]) {
				judge(w, c, TXG_ST_UNKNOWN_SENDER);
				continue;
			}
			c->m = mem[j];
			if (loaded) {
				if (!c->cookied) { /* no valid cookie: not checked */
					judge(w, c, TXG_ST_OVERLOADED);
					TXG_STAT_INC(fl[TXG_FC_UNCOOKIED], 1);
					skipped++;
					continue;
				}
				if (txg_penalty_boxed(&w->pen, txg_penalty_key(c->m, w->pfx[c->pkt]), w->now_ms)) {
					judge(w, c, TXG_ST_OVERLOADED);
					c->silent = 1;
					TXG_STAT_INC(fl[TXG_FC_PENALTY_DROPPED], 1);
					skipped++;
					continue;
				}
			}
			live[nl++] = todo[i + j];
		}
	}
	cand_ids(w, live, nl);
	/* 6: not already accepted. */
	uint32_t nv = 0;
	uint64_t qnow = rte_get_tsc_cycles();
	for (uint32_t i = 0; i < nl; i += LOOKUP_MAX) {
		uint32_t k = RTE_MIN(LOOKUP_MAX, nl - i);
		for (uint32_t j = 0; j < k; j++)
			keys[j] = cands[live[i + j]].tx_id;
		txg_dedupe_lookup(w->dedupe, keys, k, pos);
		for (uint32_t j = 0; j < k; j++) {
			struct txg_cand *c = &cands[live[i + j]];
			if (pos[j] >= 0) {
				c->dpos = pos[j];
				judge(w, c, TXG_ST_DUPLICATE);
				if (c->tagged)
					TXG_STAT_INC(fl[TXG_FC_TAG_DUPLICATES], 1);
				continue;
			}
			if (unlikely(c->tagged)) { /* a hint the window did not confirm: the real id */
				txg_tx_id(c->body, c->body_len, c->tx_id);
				c->tagged = 0;
			}
			/* 7: the member's quota: this worker's bucket must hold
			 * a token (checked here, charged after rule 8). */
			struct txg_quota_bucket *qb = txg_quota_bucket(w->members, c->m, w->id, qnow);
			if (qb && qb->credit < qb->cost) {
				judge(w, c, TXG_ST_RATE_LIMITED);
				continue;
			}
			live[nv++] = live[i + j];
		}
	}
	/* Under load, while checks fill the worker, they are shared fairly
	 * between source prefixes: what is past a prefix's share of this
	 * burst is answered overloaded. */
	if (loaded && w->load.share && nv) {
		uint32_t *over = w->todo, n_over = 0, nr = 0; /* todo is free again */
		for (uint32_t i = 0; i < nv; i++) {
			struct txg_cand *c = &cands[live[i]];
			if (txg_fair_push(w->fair, w->pfx[c->pkt], live[i]) != 0)
				over[n_over++] = live[i];
		}
		uint32_t nq = txg_fair_pick(w->fair, over, n_over, w->pick, w->rest, &nr);
		for (uint32_t i = 0; i < nr; i++) {
			judge(w, &cands[w->rest[i]], TXG_ST_OVERLOADED);
			TXG_STAT_INC(fl[TXG_FC_DEFERRED], 1);
		}
		skipped += nr;
		memcpy(live, w->pick, sizeof(*live) * nq);
		nv = nq;
	}
	if (skipped)
		txg_load_work(&w->load, 0, skipped);
	/* 8: the signature. */
	for (uint32_t i = 0; i < nv; i++) {
		struct txg_cand *c = &cands[live[i]];
		w->vitems[i] = (struct txg_verify_item){.m = c->m, .msg = c->body, .len = c->body_len, .sig = c->sig};
	}
	if (nv) {
		uint64_t tv = rte_get_tsc_cycles();
		txg_verify_burst(w->vitems, nv, w->vok);
		uint64_t dt = rte_get_tsc_cycles() - tv;
		txg_hist_observe(&w->hist_verify, txg_us_since(tv));
		txg_load_sig_cost(&w->load, dt, nv);
		TXG_STAT_INC(fl[TXG_FC_VERIFIED], nv);
	}
	uint32_t na = 0;
	for (uint32_t i = 0; i < nv; i++) {
		struct txg_cand *c = &cands[live[i]];
		if (!w->vok[i]) {
			judge(w, c, TXG_ST_BAD_SIGNATURE);
			/* Only a pair whose address a cookie proved earns a
			 * penalty: a forger cannot aim one at someone else. */
			if (c->cookied &&
			    txg_penalty_fail(&w->pen, txg_penalty_key(c->m, w->pfx[c->pkt]), w->now_ms))
				TXG_STAT_INC(fl[TXG_FC_PENALTY_BOXED], 1);
			continue;
		}
		if (c->tag) /* verified: its copies may be found by tag */
			txg_sigcache_put(&w->sc, c->tag, c->tx_id, gen);
		/* 7, charged: only a verified record takes a token, in order;
		 * one whose bucket earlier records of this burst emptied is
		 * rate_limited too, so a burst never exceeds the quota. */
		struct txg_quota_bucket *qb = txg_quota_bucket(w->members, c->m, w->id, qnow);
		if (qb) {
			if (qb->credit < qb->cost) {
				judge(w, c, TXG_ST_RATE_LIMITED);
				continue;
			}
			qb->credit -= qb->cost;
		}
		live[na++] = live[i];
	}
	/* A record longer than a slot (possible only with mbufs larger than
	 * the default) cannot be queued: overloaded, never a buffer overrun. */
	uint32_t nq = 0;
	for (uint32_t i = 0; i < na; i++) {
		if (unlikely(cands[live[i]].rec_len > TXG_TXN_REC_MAX))
			judge(w, &cands[live[i]], TXG_ST_OVERLOADED);
		else
			live[nq++] = live[i];
	}
	na = nq;
	if (na == 0)
		return;
	/* Ingress paused (control plane): nothing is queued; overloaded. */
	if (unlikely(w->paused_now)) {
		for (uint32_t i = 0; i < na; i++)
			judge(w, &cands[live[i]], TXG_ST_OVERLOADED);
		return;
	}
	/* 9: a slot and room in the ring, else overloaded. */
	uint32_t got = na;
	if (rte_mempool_get_bulk(w->txn_pool, w->objs, na) != 0) {
		got = 0;
		while (got < na && rte_mempool_get(w->txn_pool, &w->objs[got]) == 0)
			got++;
	}
	uint64_t admit = rte_get_tsc_cycles();
	for (uint32_t i = 0; i < got; i++) {
		struct txg_cand *c = &cands[live[i]];
		struct txg_txn *t = w->objs[i];
		memcpy(t->tx_id, c->tx_id, TXG_ID_LEN);
		t->admit_tsc = admit;
		t->expires_ms = txg_body_expires(c->body);
		t->height = 0;
		t->index = 0;
		t->rec_len = (uint16_t)c->rec_len; /* <= TXG_TXN_REC_MAX, checked above */
		t->frame_flags = c->frame_flags;
		if (c->frame_flags & TXG_FRAME_F_RECEIPT)
			reply_addr(w, c->pkt, &t->to);
		memcpy(t->rec, c->rec, c->rec_len);
	}
	/* Only this worker enqueues, so the free count can only grow: exactly
	 * `sent` fit. They are counted accepted before they are enqueued, so a
	 * reader never sees a later stage count more than was accepted. */
	uint32_t room = rte_ring_free_count(w->ring);
	uint32_t sent = got < room ? got : room;
	for (uint32_t i = 0; i < na; i++)
		judge(w, &cands[live[i]], i < sent ? TXG_ST_ACCEPTED : TXG_ST_OVERLOADED);
	if (sent)
		rte_ring_sp_enqueue_bulk(w->ring, w->objs, sent, NULL);
	if (sent < got)
		rte_mempool_put_bulk(w->txn_pool, &w->objs[sent], got - sent);
}

void txg_worker_answer_on(struct txg_worker *w, const struct txg_worker_params *p, uint16_t port, const uint8_t mac[6],
			  uint16_t txq, uint64_t now)
{
	struct txg_worker_port *wp = &w->ports[port];
	txg_neigh_cfg_init(&wp->cfg, &p->filter, mac);
	uint64_t hz = rte_get_tsc_hz();
	txg_neigh_bucket_init(&wp->lim.resolve, p->neigh_rate, p->neigh_burst, hz, now);
	txg_neigh_bucket_init(&wp->lim.echo, p->echo_rate, p->echo_burst, hz, now);
	wp->txq = txq;
	wp->active = wp->cfg.n_ipv4 || wp->cfg.n_ipv6;
	memcpy(w->port_mac[port], mac, 6);
	w->port_txq[port] = txq;
}

/* A packet the UDP path did not take (not IP, or not UDP): answer it if it
 * is an ARP request, a Neighbour Solicitation or an echo request for one
 * of our addresses (rate-limited per port). 1 if it was one of those
 * (answered, limited or malformed, and counted), 0 if not. */
static int neigh_answer(struct txg_worker *w, struct rte_mbuf *m, uint16_t port)
{
	struct txg_worker_port *wp = &w->ports[port];
	if (!wp->active)
		return 0;
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	struct txg_neigh_req r;
	enum txg_neigh_kind k = txg_neigh_classify(p, m->data_len, &wp->cfg, &r);
	uint64_t *ctr = w->stats.neigh;
	if (k == TXG_NEIGH_NONE)
		return 0;
	if (k == TXG_NEIGH_BAD) {
		TXG_STAT_INC(ctr[TXG_NC_NEIGH_BAD], 1);
		return 1;
	}
	if (!txg_neigh_allow(&wp->lim, k, rte_get_tsc_cycles())) {
		int resolve = k == TXG_NEIGH_ARP || k == TXG_NEIGH_NS;
		TXG_STAT_INC(ctr[resolve ? TXG_NC_NEIGH_LIMITED : TXG_NC_ECHO_LIMITED], 1);
		return 1;
	}
	struct rte_mbuf *o = w->n_tx < TXG_WORKER_TX_MAX ? rte_pktmbuf_alloc(w->tx_pool) : NULL;
	uint8_t *out = o && r.reply_len <= rte_pktmbuf_tailroom(o) ? (uint8_t *)rte_pktmbuf_append(o, (uint16_t)r.reply_len)
							     : NULL;
	if (!out || txg_neigh_build_reply(out, r.reply_len, p, m->data_len, &r, &wp->cfg) == 0) {
		rte_pktmbuf_free(o);
		TXG_STAT_INC(ctr[TXG_NC_TX_FAIL], 1);
		return 1;
	}
	w->tx_ctr[w->n_tx] = (uint8_t)txg_neigh_reply_ctr(k);
	w->tx[w->n_tx++] = o;
	return 1;
}

/* Send the replies gathered in a burst on port: one TX burst; what does
 * not fit the queue is dropped and counted. */
static void flush_tx(struct txg_worker *w, uint16_t port)
{
	uint16_t sent = rte_eth_tx_burst(port, w->ports[port].txq, w->tx, w->n_tx);
	for (uint16_t i = 0; i < sent; i++)
		TXG_STAT_INC(w->stats.neigh[w->tx_ctr[i]], 1);
	if (sent < w->n_tx) {
		rte_pktmbuf_free_bulk(&w->tx[sent], w->n_tx - sent);
		TXG_STAT_INC(w->stats.neigh[TXG_NC_TX_FAIL], w->n_tx - sent);
	}
	w->n_tx = 0;
}

void txg_worker_burst(struct txg_worker *w, struct rte_mbuf **pkts, uint16_t n, uint16_t port, uint64_t now_ms)
{
	struct txg_worker_stats *st = &w->stats;
	uint32_t nc = 0;
	uint64_t bytes = 0;
	uint64_t t_rx = rte_get_tsc_cycles(), records0 = st->records;
	w->cur_port = port;
	w->mbufs_cur = pkts;
	w->paused_now = w->paused ? __atomic_load_n(w->paused, __ATOMIC_ACQUIRE) : 0;
	w->now_ms = now_ms;
	w->now_tsc = t_rx;
	const int load_port = w->port_load[port];
	w->loaded_now = load_port && w->load.loaded;
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		bytes += m->pkt_len;
		if (m->nb_segs != 1) {
			TXG_STAT_INC(st->pkt_multiseg, 1);
			continue;
		}
		struct txg_pkt_info *pi = &w->pinfo[i];
		enum txg_pkt_err pe = txg_pkt_parse(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, m->ol_flags,
						    &w->filter, pi);
		if (unlikely(pe == TXG_PKT_NOT_IP || pe == TXG_PKT_NOT_UDP) && neigh_answer(w, m, port))
			continue;
		TXG_STAT_INC(st->pkt[pe], 1);
		if (pe != TXG_PKT_OK)
			continue;
		struct txg_frame_view fv;
		enum txg_frame_err fe = txg_frame_parse(pi->payload, pi->payload_len, &fv, w->recs);
		TXG_STAT_INC(st->frame[fe], 1);
		if (fe != TXG_FE_OK)
			continue;
		TXG_STAT_INC(st->records, fv.count);
		w->cookied[i] = 0;
		if (fv.cookie) {
			struct txg_cookie_flow f = {.af = pi->af, .client_port = pi->sport, .appl_port = pi->dport};
			memcpy(f.client, pi->src, 16);
			memcpy(f.appl, pi->dst, 16);
			int ok = w->cookies && txg_cookie_check(w->cookies, &f, fv.cookie);
			TXG_STAT_INC(st->cookie[ok], 1);
			if (ok) {
				w->cookied[i] = 1;
				w->pfx[i] = txg_flood_prefix(pi->af, pi->src, w->prefix4, w->prefix6, w->seed);
			}
		}
		if (nc + fv.count > w->cand_cap) {
			judge_cands(w, nc);
			receipts_for(w, nc);
			nc = 0;
		}
		for (uint16_t r = 0; r < fv.count; r++) {
			const struct txg_rec_view *rv = &w->recs[r];
			unsigned s = txg_check_static(rv->body, w->chain_id, now_ms, w->max_ttl_ms);
			if (s != TXG_ST_COMMITTED) {
				TXG_STAT_INC(st->status[s], 1);
				if ((fv.flags & TXG_FRAME_F_RECEIPT) && answer_ok(w, i)) {
					uint8_t id[TXG_ID_LEN];
					txg_tx_id(rv->body, rv->body_len, id);
					receipt(w, i, id, s, -1);
				}
				continue;
			}
			struct txg_cand *c = &w->cands[nc++];
			c->rec = rv->rec;
			c->body = rv->body;
			c->sig = rv->sig;
			c->body_len = rv->body_len;
			c->rec_len = rv->rec_len;
			c->pkt = i;
			c->frame_flags = fv.flags;
			c->status = TXG_ST_ACCEPTED;
			c->has_id = 0;
			c->dpos = -1;
			c->m = NULL;
			c->cookied = w->cookied[i];
			c->silent = 0;
			c->tagged = 0;
			c->tag = 0;
		}
	}
	if (nc) {
		judge_cands(w, nc);
		receipts_for(w, nc);
	}
	if (w->n_tx)
		flush_tx(w, port);
	txg_outbox_flush(&w->outbox);
	const struct txg_outbox_stats *os = &w->outbox.stats;
	TXG_STAT_SET(st->receipts[0], os->datagrams);
	TXG_STAT_SET(st->receipts[1], os->entries);
	TXG_STAT_SET(st->receipts[2], os->dropped);
	if (st->records != records0) /* each record's decision, weighted */
		txg_hist_observe_n(&w->hist_decide, txg_us_since(t_rx), st->records - records0);
	if (load_port)
		txg_load_work(&w->load, rte_get_tsc_cycles() - t_rx, 0);
	TXG_STAT_INC(st->rx_packets, n);
	TXG_STAT_INC(st->rx_bytes, bytes);
	rte_pktmbuf_free_bulk(pkts, n);
}

/* After each poll: the load state and its counters. */
static inline void load_poll(struct txg_worker *w, int full)
{
	struct txg_load *l = &w->load;
	uint64_t enters = l->enters;
	uint32_t pct = l->last_pct;
	txg_load_poll(l, full, rte_get_tsc_cycles());
	if (l->enters != enters)
		TXG_STAT_SET(w->stats.flood[TXG_FC_LOAD_ENTERS], l->enters);
	if (l->last_pct != pct)
		TXG_STAT_SET(w->stats.flood[TXG_FC_LOAD_PCT], l->last_pct);
	if (w->stats.flood[TXG_FC_LOADED] != l->loaded)
		TXG_STAT_SET(w->stats.flood[TXG_FC_LOADED], l->loaded);
}

int txg_worker_main(void *arg)
{
	struct txg_worker *w = arg;
	uint32_t idle = 0;
	rte_rcu_qsbr_thread_register(w->qsbr, w->id);
	rte_rcu_qsbr_thread_online(w->qsbr, w->id);
	while (!__atomic_load_n(w->stop, __ATOMIC_ACQUIRE)) {
		uint64_t now_ms = txg_now_ms();
		uint32_t got = 0;
		int full = 0;
		for (uint16_t q = 0; q < w->n_rxq; q++) {
			uint16_t n = rte_eth_rx_burst(w->rx_port[q], w->rx_queue[q], w->mbufs, w->burst);
			if (n) {
				full |= n == w->burst && w->port_load[w->rx_port[q]];
				txg_worker_burst(w, w->mbufs, n, w->rx_port[q], now_ms);
				got += n;
			}
		}
		TXG_STAT_INC(w->stats.polls, 1);
		load_poll(w, full);
		rte_rcu_qsbr_quiescent(w->qsbr, w->id);
		if (got) {
			idle = 0;
			continue;
		}
		if (++idle < w->idle_spins) {
			rte_pause();
			continue;
		}
		if (w->idle_sleep_us) {
			/* Sleeping readers are offline: RCU writers need not wait. */
			rte_rcu_qsbr_thread_offline(w->qsbr, w->id);
			rte_delay_us_sleep(w->idle_sleep_us);
			rte_rcu_qsbr_thread_online(w->qsbr, w->id);
			TXG_STAT_INC(w->stats.idle_sleeps, 1);
		}
	}
	rte_rcu_qsbr_thread_offline(w->qsbr, w->id);
	rte_rcu_qsbr_thread_unregister(w->qsbr, w->id);
	return 0;
}
