/* Flood protection (docs/flood.md): the pieces a worker uses so that a
 * flood costs the flooder, not the clean clients. Each object is owned by
 * one worker (no sharing, no locks), sized at creation, and allocates
 * nothing afterwards. Pure C, no DPDK: times are TSC cycles or ms given by
 * the caller.
 *
 *   txg_load      is this worker behind? (utilisation with hysteresis)
 *   txg_fair      deficit round robin of signature checks over source prefixes
 *   txg_penalty   decaying failure scores of (member, source prefix) pairs
 *   txg_answers   token buckets of answers per destination address
 *   txg_sigcache  tags of verified (signature, body) pairs and their tx_id */
#ifndef TXG_FLOOD_H
#define TXG_FLOOD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- hashing ---- */

/* 64-bit keyed mix of n bytes (not cryptographic; keyed by seed so that a
 * sender cannot aim collisions without knowing it). */
static inline uint64_t txg_flood_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

static inline uint64_t txg_flood_hash(const uint8_t *p, size_t n, uint64_t seed)
{
	uint64_t h = seed ^ (n * 0x9e3779b97f4a7c15ull);
	while (n >= 8) {
		uint64_t v;
		memcpy(&v, p, 8);
		h = txg_flood_mix64(h ^ v) + 0x9e3779b97f4a7c15ull;
		p += 8;
		n -= 8;
	}
	uint64_t v = 0;
	memcpy(&v, p, n);
	return txg_flood_mix64(h ^ v ^ ((uint64_t)n << 56));
}

/* The source prefix of an address (af 4: addr[0..4), af 6: addr[0..16)),
 * masked to bits4 / bits6, as a 64-bit key (also keyed by seed). */
uint64_t txg_flood_prefix(uint8_t af, const uint8_t *addr, unsigned bits4, unsigned bits6, uint64_t seed);

/* ---- load ---- */

/* Checks are shared fairly between source prefixes only while the worker
 * is loaded and checking took at least share_pct of the last window:
 * while a flood is being shed cheaply, every cookied record is checked.
 * A worker is loaded when the work it was asked to do in a window of time
 * (its busy time on load-signalling ports plus the signature checks it
 * skipped, priced at its measured cost per check) reaches high_pct of the
 * window for high_windows windows in a row, or when a load-signalling RX queue kept returning full bursts for
 * full_polls polls in a row. It stays loaded until the work has stayed
 * under low_pct for hold windows. */
struct txg_load_params {
	uint32_t high_pct, low_pct; /* 1..1000 (over 100: never from utilisation alone) */
	uint32_t window_ms;	    /* evaluation window */
	uint32_t high_windows;	    /* windows in a row at high_pct that make it loaded (>= 1) */
	uint32_t hold_ms;	    /* calm needed to leave the loaded state */
	uint32_t full_polls;	    /* consecutive full bursts that mean backlog (0: ignore bursts) */
	uint32_t share_pct;	    /* checks past this share of a window: shared fairly (else all done) */
	int mode;		    /* TXG_LOAD_AUTO, TXG_LOAD_ON (always loaded), TXG_LOAD_OFF (never) */
};
enum { TXG_LOAD_AUTO = 0, TXG_LOAD_ON = 1, TXG_LOAD_OFF = 2 };

struct txg_load {
	struct txg_load_params p;
	uint64_t hz;		/* TSC cycles per second */
	uint64_t win_cycles;	/* window length */
	uint64_t win_start;	/* TSC at the window's start */
	uint64_t busy;		/* cycles of work this window */
	uint64_t skipped;	/* signature checks skipped this window */
	uint64_t vbusy;		/* cycles spent checking signatures this window */
	uint64_t sig_cycles;	/* running cost of one check (cycles, EWMA 1/8) */
	uint32_t full_streak;	/* consecutive polls with a full burst */
	uint32_t calm;		/* consecutive calm windows while loaded */
	uint32_t hot;		/* consecutive windows at high_pct while not loaded */
	uint32_t hold_windows;
	uint32_t last_pct;	/* utilisation of the last window, percent */
	uint32_t last_vpct;	/* share of the last window spent checking, percent */
	uint8_t loaded;
	uint8_t share;		/* loaded, and checks took at least share_pct: share them fairly */
	uint64_t enters, exits; /* transitions */
};

/* Set up l at TSC time now (hz cycles per second). */
void txg_load_init(struct txg_load *l, const struct txg_load_params *p, uint64_t hz, uint64_t now);
/* Account cycles of work and checks skipped (on load-signalling ports). */
static inline void txg_load_work(struct txg_load *l, uint64_t cycles, uint64_t skipped)
{
	l->busy += cycles;
	l->skipped += skipped;
}
/* A batch of n signature checks took cycles: update the cost per check. */
static inline void txg_load_sig_cost(struct txg_load *l, uint64_t cycles, uint32_t n)
{
	if (n == 0)
		return;
	l->vbusy += cycles;
	uint64_t per = cycles / n;
	l->sig_cycles = l->sig_cycles - l->sig_cycles / 8 + per / 8;
}
/* After each poll: full = 1 if a load-signalling queue returned a full
 * burst. Ends the window when its time is up. Returns l->loaded. */
int txg_load_poll(struct txg_load *l, int full, uint64_t now);

/* ---- fair sharing of signature checks ---- */

#define TXG_FAIR_BUCKETS 256u /* prefixes hash onto these */
#define TXG_FAIR_QLEN 64u     /* records queued per bucket per burst */

struct txg_fair {
	uint32_t budget;       /* checks per burst under load */
	uint16_t rr;	       /* the bucket served first next time (rotates) */
	uint16_t n_active;
	uint16_t active[TXG_FAIR_BUCKETS];
	uint16_t qlen[TXG_FAIR_BUCKETS];
	uint32_t q[TXG_FAIR_BUCKETS][TXG_FAIR_QLEN];
};

/* Set up f (any memory; no allocation): at most budget checks per burst. */
void txg_fair_init(struct txg_fair *f, uint32_t budget);
/* Queue item for prefix key; 0, or -1 if its bucket's queue is full. */
int txg_fair_push(struct txg_fair *f, uint64_t prefix_key, uint32_t item);
/* Choose up to f->budget queued items by deficit round robin (quantum one
 * check, the first bucket rotating between calls) into out[], in the order
 * chosen; every item left over goes to rest[], then over[0..n_over) (items
 * whose bucket's queue was full, in arrival order). With at most one
 * bucket active there is no one to share with: every item is chosen, the
 * queued ones then over[], in arrival order. Empties the queues. Returns
 * the number chosen; *n_rest gets the number left over. */
uint32_t txg_fair_pick(struct txg_fair *f, const uint32_t *over, uint32_t n_over, uint32_t *out, uint32_t *rest,
		       uint32_t *n_rest);

/* ---- penalty box ---- */

#define TXG_PEN_WAYS 4u

struct txg_pen_entry {
	uint64_t key;	 /* 0: empty */
	uint32_t score;	 /* failures x 256, decayed */
	uint32_t t_ms;	 /* time of the score (low 32 bits of ms) */
	uint32_t boxed;	 /* 1 while in the box */
	uint32_t pad;
};

struct txg_penalty {
	uint32_t n_sets;	/* power of two */
	uint32_t threshold;	/* failures (x256) that put a pair in the box */
	uint32_t halflife_ms;	/* score halves in this time */
	uint64_t boxed_total;	/* pairs put in the box */
	struct txg_pen_entry *e; /* [n_sets * TXG_PEN_WAYS], caller-provided */
};

/* Bytes of entry memory for n_sets sets. */
static inline size_t txg_penalty_mem(uint32_t n_sets) { return (size_t)n_sets * TXG_PEN_WAYS * sizeof(struct txg_pen_entry); }
/* Set up p over zeroed mem (txg_penalty_mem(n_sets) bytes; n_sets a power of two). */
void txg_penalty_init(struct txg_penalty *p, void *mem, uint32_t n_sets, uint32_t threshold, uint32_t halflife_ms);
/* The key of a (member, prefix) pair. */
static inline uint64_t txg_penalty_key(const void *member, uint64_t prefix_key)
{
	return txg_flood_mix64((uint64_t)(uintptr_t)member * 0x9e3779b97f4a7c15ull ^ prefix_key) | 1u;
}
/* A signature of pair key failed at now_ms. Returns 1 if that put it in the box. */
int txg_penalty_fail(struct txg_penalty *p, uint64_t key, uint64_t now_ms);
/* 1 if pair key is in the box at now_ms (it leaves when its decayed score
 * falls under half the threshold). */
int txg_penalty_boxed(struct txg_penalty *p, uint64_t key, uint64_t now_ms);

/* ---- answers per destination ---- */

struct txg_ans_bucket {
	uint64_t tokens_milli; /* tokens x 1000 */
	uint64_t t;	       /* TSC of the last refill */
};

struct txg_answers {
	uint32_t mask;		/* slots - 1 */
	uint64_t rate, burst;	/* entries per second, bucket size; rate 0: unlimited */
	uint64_t hz;
	uint64_t seed;
	struct txg_ans_bucket *b; /* [mask + 1], caller-provided */
};

static inline size_t txg_answers_mem(uint32_t slots) { return (size_t)slots * sizeof(struct txg_ans_bucket); }
/* Set up a over zeroed mem (slots a power of two); buckets start full. */
void txg_answers_init(struct txg_answers *a, void *mem, uint32_t slots, uint64_t rate, uint64_t burst, uint64_t hz,
		      uint64_t seed);
/* Take one token for destination address (af, addr) at TSC now: 1 if the
 * answer may go, 0 if the destination's bucket is empty. */
int txg_answers_take(struct txg_answers *a, uint8_t af, const uint8_t *addr, uint64_t now);

/* ---- signature tag cache ---- */

#define TXG_SIG_WAYS 4u

/* One set: the tags first (one cache line to probe), then their ids. */
struct txg_sig_set {
	uint64_t tag[TXG_SIG_WAYS]; /* 0: empty */
	uint32_t gen[TXG_SIG_WAYS]; /* the caller's generation when it was put */
	uint8_t tx_id[TXG_SIG_WAYS][32];
};

struct txg_sigcache {
	uint32_t mask; /* sets - 1 */
	uint64_t seed;
	struct txg_sig_set *e; /* [mask + 1], caller-provided; NULL: off */
};

/* Bytes for `entries` entries (a power of two >= TXG_SIG_WAYS). */
static inline size_t txg_sigcache_mem(uint32_t entries)
{
	return (size_t)(entries / TXG_SIG_WAYS) * sizeof(struct txg_sig_set);
}
/* Set up c over zeroed mem (entries a power of two >= 4, or 0: off). */
void txg_sigcache_init(struct txg_sigcache *c, void *mem, uint32_t entries, uint64_t seed);
/* The tag of a record: keyed over its 64 signature bytes and its body
 * (portable; the worker uses a CRC32C of the same bytes). Never 0. */
static inline uint64_t txg_sigcache_tag(const struct txg_sigcache *c, const uint8_t *sig, const uint8_t *body,
					size_t body_len)
{
	uint64_t a = txg_flood_hash(sig, 64, c->seed);
	return txg_flood_hash(body, body_len, a) | 1u;
}
/* The set of tag (to prefetch). */
static inline const void *txg_sigcache_slot(const struct txg_sigcache *c, uint64_t tag)
{
	return &c->e[(tag >> 8) & c->mask];
}
/* 1, the cached tx_id and the generation it was put with if tag is held,
 * else 0. A hit is a hint, never a proof: the caller confirms it (the
 * dedupe window) before relying on it. */
static inline int txg_sigcache_get(const struct txg_sigcache *c, uint64_t tag, uint8_t id[32], uint32_t *gen)
{
	if (!c->e)
		return 0;
	const struct txg_sig_set *st = &c->e[(tag >> 8) & c->mask];
	for (unsigned w = 0; w < TXG_SIG_WAYS; w++)
		if (st->tag[w] == tag) {
			memcpy(id, st->tx_id[w], 32);
			*gen = st->gen[w];
			return 1;
		}
	return 0;
}
/* Remember tag -> id (call only after the record's signature verified):
 * an empty way, else the way the tag's low bits name. */
static inline void txg_sigcache_put(struct txg_sigcache *c, uint64_t tag, const uint8_t id[32], uint32_t gen)
{
	if (!c->e)
		return;
	struct txg_sig_set *st = &c->e[(tag >> 8) & c->mask];
	unsigned w = (unsigned)(tag >> 1) & (TXG_SIG_WAYS - 1);
	for (unsigned k = 0; k < TXG_SIG_WAYS; k++)
		if (st->tag[k] == 0 || st->tag[k] == tag) {
			w = k;
			break;
		}
	st->tag[w] = tag;
	st->gen[w] = gen;
	memcpy(st->tx_id[w], id, 32);
}

/* ---- counters (struct txg_worker_stats.flood) ---- */
enum txg_flood_ctr {
	TXG_FC_LOADED = 0,	 /* gauge: 1 while the worker is loaded */
	TXG_FC_LOAD_PCT,	 /* gauge: work asked in the last window, percent of it */
	TXG_FC_LOAD_ENTERS,	 /* times the worker became loaded */
	TXG_FC_UNCOOKIED,	 /* records answered overloaded under load: no valid cookie */
	TXG_FC_DEFERRED,	 /* cookied records past their prefix's fair share: overloaded */
	TXG_FC_PENALTY_DROPPED,	 /* records of a boxed (member, prefix) pair: dropped, unanswered */
	TXG_FC_PENALTY_BOXED,	 /* times a pair was put in the box */
	TXG_FC_ANSWERS_LIMITED,	 /* answer entries not sent: destination's bucket empty */
	TXG_FC_TAG_DUPLICATES,	 /* duplicates found through the signature tag cache (no BLAKE2b) */
	TXG_FC_VERIFIED,	 /* signatures checked */
	TXG_FC_NUM
};
/* Counter name ("loaded", "load_pct", ...), "?" if out of range. */
const char *txg_flood_ctr_name(unsigned k);

#endif
