/* Flood protection: load detector, fair scheduler, penalty box, answer
 * buckets and signature tag cache (flood.h). */
#include "flood.h"

uint64_t txg_flood_prefix(uint8_t af, const uint8_t *addr, unsigned bits4, unsigned bits6, uint64_t seed)
{
	uint8_t k[17] = {af};
	unsigned len = af == 6 ? 16 : 4, bits = af == 6 ? bits6 : bits4;
	if (bits > len * 8)
		bits = len * 8;
	for (unsigned i = 0; i < len; i++) {
		unsigned keep = bits >= 8 * (i + 1) ? 8 : bits > 8 * i ? bits - 8 * i : 0;
		k[1 + i] = keep ? (uint8_t)(addr[i] & (uint8_t)(0xffu << (8 - keep))) : 0;
	}
	return txg_flood_hash(k, sizeof(k), seed);
}

/* ---- load ---- */

void txg_load_init(struct txg_load *l, const struct txg_load_params *p, uint64_t hz, uint64_t now)
{
	memset(l, 0, sizeof(*l));
	l->p = *p;
	if (l->p.window_ms == 0)
		l->p.window_ms = 1;
	l->hz = hz;
	l->win_cycles = hz / 1000 * l->p.window_ms;
	if (l->win_cycles == 0)
		l->win_cycles = 1;
	l->win_start = now;
	l->sig_cycles = hz / 40000; /* 25 us until measured */
	l->hold_windows = (l->p.hold_ms + l->p.window_ms - 1) / l->p.window_ms;
	if (l->hold_windows == 0)
		l->hold_windows = 1;
	l->loaded = p->mode == TXG_LOAD_ON;
	l->share = l->loaded;
}

int txg_load_poll(struct txg_load *l, int full, uint64_t now)
{
	if (l->p.mode != TXG_LOAD_AUTO) {
		l->share = l->loaded;
		return l->loaded;
	}
	l->full_streak = full ? l->full_streak + 1 : 0;
	int backlog = l->p.full_polls && l->full_streak >= l->p.full_polls;
	if (backlog && !l->loaded) {
		l->loaded = 1;
		l->calm = 0;
		l->enters++;
	}
	if (now - l->win_start < l->win_cycles)
		return l->loaded;
	uint64_t elapsed = now - l->win_start;
	/* Work asked of the worker, as a share of the window (skipped checks
	 * priced at what checks cost it now). */
	uint64_t asked = l->busy + l->skipped * l->sig_cycles;
	uint64_t pct = asked / (elapsed / 100 ? elapsed / 100 : 1);
	l->last_pct = pct > 100000 ? 100000 : (uint32_t)pct;
	uint64_t vpct = l->vbusy / (elapsed / 100 ? elapsed / 100 : 1);
	l->last_vpct = vpct > 100 ? 100 : (uint32_t)vpct;
	l->busy = 0;
	l->skipped = 0;
	l->vbusy = 0;
	l->win_start = now;
	if (!l->loaded) {
		l->hot = pct >= l->p.high_pct ? l->hot + 1 : 0;
		if (l->hot >= (l->p.high_windows ? l->p.high_windows : 1)) {
			l->loaded = 1;
			l->calm = 0;
			l->hot = 0;
			l->enters++;
		}
	} else if (pct < l->p.low_pct && !backlog) {
		if (++l->calm >= l->hold_windows) {
			l->loaded = 0;
			l->calm = 0;
			l->exits++;
		}
	} else {
		l->calm = 0;
	}
	l->share = l->loaded && (l->p.mode == TXG_LOAD_ON || l->last_vpct >= l->p.share_pct);
	return l->loaded;
}

/* ---- fair sharing ---- */

void txg_fair_init(struct txg_fair *f, uint32_t budget)
{
	memset(f, 0, sizeof(*f));
	f->budget = budget ? budget : 1;
}

int txg_fair_push(struct txg_fair *f, uint64_t prefix_key, uint32_t item)
{
	uint32_t b = (uint32_t)(prefix_key >> 32) % TXG_FAIR_BUCKETS;
	if (f->qlen[b] >= TXG_FAIR_QLEN)
		return -1;
	if (f->qlen[b] == 0)
		f->active[f->n_active++] = (uint16_t)b;
	f->q[b][f->qlen[b]++] = item;
	return 0;
}

uint32_t txg_fair_pick(struct txg_fair *f, const uint32_t *over, uint32_t n_over, uint32_t *out, uint32_t *rest,
		       uint32_t *n_rest)
{
	uint32_t n = 0, nr = 0;
	uint16_t head[TXG_FAIR_BUCKETS]; /* next item of each active bucket */
	uint32_t na = f->n_active;
	if (na == 0) {
		if (n_over)
			memcpy(out, over, sizeof(*over) * n_over);
		*n_rest = 0;
		return n_over;
	}
	/* Serve the active buckets in bucket order, starting at the first at
	 * or after rr, which moves past the last bucket served each time. */
	for (uint32_t i = 1; i < na; i++) { /* insertion sort: na is small */
		uint16_t b = f->active[i];
		uint32_t j = i;
		for (; j > 0 && f->active[j - 1] > b; j--)
			f->active[j] = f->active[j - 1];
		f->active[j] = b;
	}
	uint32_t start = 0;
	while (start < na && f->active[start] < f->rr)
		start++;
	if (start == na)
		start = 0;
	for (uint32_t i = 0; i < na; i++)
		head[i] = 0;
	/* DRR with a quantum of one check: one item per active bucket per
	 * round, until the budget is spent or every queue is empty. */
	const uint32_t budget = na > 1 ? f->budget : UINT32_MAX;
	uint32_t left = na;
	uint16_t last = f->active[start];
	while (n < budget && left) {
		left = 0;
		for (uint32_t k = 0; k < na && n < budget; k++) {
			uint32_t i = (start + k) % na;
			uint16_t b = f->active[i];
			if (head[i] < f->qlen[b]) {
				out[n++] = f->q[b][head[i]++];
				last = b;
				if (head[i] < f->qlen[b])
					left++;
			}
		}
	}
	for (uint32_t i = 0; i < na; i++) {
		uint16_t b = f->active[i];
		for (uint32_t j = head[i]; j < f->qlen[b]; j++)
			rest[nr++] = f->q[b][j];
		f->qlen[b] = 0;
	}
	f->rr = (uint16_t)((last + 1u) % TXG_FAIR_BUCKETS);
	f->n_active = 0;
	if (n_over && na == 1) { /* alone: past the queue too */
		memcpy(out + n, over, sizeof(*over) * n_over);
		n += n_over;
	} else if (n_over) {
		memcpy(rest + nr, over, sizeof(*over) * n_over);
		nr += n_over;
	}
	*n_rest = nr;
	return n;
}

/* ---- penalty box ---- */

void txg_penalty_init(struct txg_penalty *p, void *mem, uint32_t n_sets, uint32_t threshold, uint32_t halflife_ms)
{
	p->n_sets = n_sets;
	p->threshold = threshold * 256u;
	p->halflife_ms = halflife_ms ? halflife_ms : 1;
	p->boxed_total = 0;
	p->e = mem;
}

/* Decay e's score to now_ms: halve per half-life, linear in between. */
static void decay(const struct txg_penalty *p, struct txg_pen_entry *e, uint64_t now_ms)
{
	uint32_t dt = (uint32_t)now_ms - e->t_ms; /* wraps correctly over 2^32 ms */
	e->t_ms = (uint32_t)now_ms;
	if (dt == 0 || e->score == 0)
		return;
	uint32_t halves = dt / p->halflife_ms;
	uint32_t s = halves >= 32 ? 0 : e->score >> halves;
	uint64_t frac = dt % p->halflife_ms;
	s -= (uint32_t)((uint64_t)s * frac / (2u * p->halflife_ms));
	e->score = s;
	if (e->boxed && e->score < p->threshold / 2)
		e->boxed = 0;
}

static struct txg_pen_entry *find(struct txg_penalty *p, uint64_t key, int make, uint64_t now_ms)
{
	struct txg_pen_entry *set = &p->e[((key >> 20) & (p->n_sets - 1)) * TXG_PEN_WAYS];
	struct txg_pen_entry *victim = &set[0];
	for (unsigned w = 0; w < TXG_PEN_WAYS; w++) {
		if (set[w].key == key) {
			decay(p, &set[w], now_ms);
			return &set[w];
		}
		if (!make)
			continue;
		if (set[w].key)
			decay(p, &set[w], now_ms);
		if (set[w].key == 0 || set[w].score < victim->score)
			victim = &set[w];
		if (victim->key == 0)
			break;
	}
	if (!make)
		return NULL;
	/* Replace the entry with the lowest score (a boxed pair scores high). */
	*victim = (struct txg_pen_entry){.key = key, .t_ms = (uint32_t)now_ms};
	return victim;
}

int txg_penalty_fail(struct txg_penalty *p, uint64_t key, uint64_t now_ms)
{
	if (!p->e)
		return 0;
	struct txg_pen_entry *e = find(p, key, 1, now_ms);
	e->score = e->score > UINT32_MAX - 256u ? UINT32_MAX : e->score + 256u;
	if (!e->boxed && e->score >= p->threshold) {
		e->boxed = 1;
		p->boxed_total++;
		return 1;
	}
	return 0;
}

int txg_penalty_boxed(struct txg_penalty *p, uint64_t key, uint64_t now_ms)
{
	if (!p->e)
		return 0;
	struct txg_pen_entry *e = find(p, key, 0, now_ms);
	return e && e->boxed;
}

/* ---- answers per destination ---- */

void txg_answers_init(struct txg_answers *a, void *mem, uint32_t slots, uint64_t rate, uint64_t burst, uint64_t hz,
		      uint64_t seed)
{
	a->mask = slots ? slots - 1 : 0;
	a->rate = rate;
	a->burst = burst ? burst : 1;
	a->hz = hz ? hz : 1;
	a->seed = seed;
	a->b = mem;
	for (uint32_t i = 0; mem && i < slots; i++)
		a->b[i] = (struct txg_ans_bucket){.tokens_milli = a->burst * 1000u, .t = 0};
}

int txg_answers_take(struct txg_answers *a, uint8_t af, const uint8_t *addr, uint64_t now)
{
	if (a->rate == 0 || !a->b)
		return 1;
	uint8_t k[17] = {af};
	memcpy(k + 1, addr, af == 6 ? 16 : 4);
	struct txg_ans_bucket *b = &a->b[txg_flood_hash(k, sizeof(k), a->seed) & a->mask];
	uint64_t cap = a->burst * 1000u;
	if (b->t == 0) {
		b->t = now;
	} else if (now > b->t) {
		uint64_t dt = now - b->t;
		/* milli-tokens earned: rate * dt / hz * 1000, without overflow for
		 * gaps up to many seconds (dt capped at the time to fill). */
		uint64_t fill = a->hz / a->rate * a->burst + a->hz;
		if (dt > fill)
			dt = fill;
		uint64_t add = (dt * a->rate / a->hz) * 1000u + (dt * a->rate % a->hz) * 1000u / a->hz;
		b->tokens_milli = b->tokens_milli + add > cap ? cap : b->tokens_milli + add;
		b->t = now;
	}
	if (b->tokens_milli < 1000u)
		return 0;
	b->tokens_milli -= 1000u;
	return 1;
}

/* ---- signature tag cache ---- */

void txg_sigcache_init(struct txg_sigcache *c, void *mem, uint32_t entries, uint64_t seed)
{
	uint32_t sets = entries / TXG_SIG_WAYS;
	c->mask = sets ? sets - 1 : 0;
	c->seed = seed;
	c->e = sets ? mem : NULL;
}

const char *txg_flood_ctr_name(unsigned k)
{
	static const char *const n[TXG_FC_NUM] = {"loaded",	      "load_pct",	   "load_enters",
						  "uncookied_overloaded", "fair_deferred",   "penalty_dropped",
						  "penalty_boxed",	      "answers_limited", "tag_duplicates",
						  "verified"};
	return k < TXG_FC_NUM ? n[k] : "?";
}
