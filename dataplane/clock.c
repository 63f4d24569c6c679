/* Data-path clock: the writer side (anchoring, rate estimation, latch
 * publication). The readers are the inlines in clock.h.
 *
 * Not rte_seqlock: in DPDK 22.11 it is experimental API (every file that
 * includes clock.h would need ALLOW_EXPERIMENTAL_API), and its readers
 * spin while a writer is inside, so a main lcore preempted mid-update
 * would stall the workers. The latch below never makes a reader wait. */
#include "clock.h"

#include <time.h>

struct txg_clock_state txg_clock;

#define CLK_NS_PER_S 1000000000ull
#define CLK_NS_PER_MS 1000000ull
/* An offset within STEP_MIN_NS + 1/8 of the time since the last anchor is
 * rate error (the rate is never more than TXG_CLOCK_RATE_RANGE_PCT off);
 * beyond that a rate window holding it is discarded as stepped. */
#define STEP_MIN_NS CLK_NS_PER_MS
/* A wall-clock reading counts only if the TSC readings around it are at
 * most this far apart (the thread was not preempted in between). */
#define SAMPLE_MAX_NS 20000ull
#define SAMPLE_TRIES 4

/* Writer-private state: touched only by the thread holding `busy`. */
static struct {
	uint64_t nominal; /* mult of the hz given at init */
	uint64_t tsc, ns, mult; /* the anchor last published */
	uint64_t win_tsc, win_ns; /* start of the current rate window */
	uint64_t win_mult;	  /* the previous window's rate, 0 = none */
} w;
static int busy;

/* Rates are rounded up: a whole number of ms of TSC maps to at least
 * that many ms, never 1 ns short of it. */
static uint64_t mult_of_hz(uint64_t hz)
{
	return (uint64_t)((((unsigned __int128)CLK_NS_PER_S << TXG_CLOCK_SHIFT) + hz - 1) / hz);
}

static uint64_t ns_of_cycles(uint64_t d, uint64_t mult)
{
	return (uint64_t)(((unsigned __int128)d * mult) >> TXG_CLOCK_SHIFT);
}

/* Two-slot latch (single writer): readers use slot[0] except while it is
 * being rewritten, when they use slot[1]; a reader never waits for a
 * writer and retries only if a flip happened during its read. */
static void publish(uint64_t tsc, uint64_t ns, uint64_t mult)
{
	struct txg_clock_state *c = &txg_clock;
	uint32_t s = __atomic_load_n(&c->seq, __ATOMIC_RELAXED); /* even */
	__atomic_store_n(&c->mult, mult, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < 2; i++) {
		__atomic_store_n(&c->seq, s + 1 + i, __ATOMIC_RELEASE);
		__atomic_thread_fence(__ATOMIC_RELEASE);
		struct txg_clock_anchor *a = &c->slot[i];
		__atomic_store_n(&a->tsc, tsc, __ATOMIC_RELAXED);
		__atomic_store_n(&a->ns, ns, __ATOMIC_RELAXED);
		__atomic_store_n(&a->mult, mult, __ATOMIC_RELAXED);
	}
	/* The last flip leaves seq even again: readers back on slot[0]. Slot 1
	 * was rewritten after seq went even, with slot 0 in use. */
}

void txg_clock_init_at(uint64_t wall_ns, uint64_t tsc, uint64_t hz)
{
	if (hz < 1000)
		hz = 1000;
	w.nominal = w.mult = mult_of_hz(hz);
	w.tsc = w.win_tsc = tsc;
	w.ns = w.win_ns = wall_ns;
	w.win_mult = 0;
	__atomic_store_n(&txg_clock.seq, 0, __ATOMIC_RELAXED);
	publish(tsc, wall_ns, w.mult);
	__atomic_store_n(&txg_clock.floor_ms, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&busy, 0, __ATOMIC_RELEASE);
}

static void window_restart(uint64_t wall_ns, uint64_t tsc)
{
	w.win_tsc = tsc;
	w.win_ns = wall_ns;
	w.win_mult = 0;
}

/* Measure the rate over windows of TXG_CLOCK_RATE_WINDOW_MS; adopt the
 * mean of two consecutive clean windows that agree. */
static void rate_update(uint64_t wall_ns, uint64_t tsc, int stepped)
{
	if (stepped || wall_ns <= w.win_ns || tsc <= w.win_tsc) {
		window_restart(wall_ns, tsc);
		return;
	}
	uint64_t dn = wall_ns - w.win_ns, dc = tsc - w.win_tsc;
	if (dn < TXG_CLOCK_RATE_WINDOW_MS * CLK_NS_PER_MS)
		return;
	uint64_t range = w.nominal / 100 * TXG_CLOCK_RATE_RANGE_PCT;
	unsigned __int128 m128 = (((unsigned __int128)dn << TXG_CLOCK_SHIFT) + dc - 1) / dc;
	if (m128 < w.nominal - range || m128 > w.nominal + range) {
		window_restart(wall_ns, tsc);
		return;
	}
	uint64_t m = (uint64_t)m128;
	if (w.win_mult) {
		uint64_t diff = m > w.win_mult ? m - w.win_mult : w.win_mult - m;
		if (diff <= w.win_mult / 1000000u * TXG_CLOCK_RATE_AGREE_PPM)
			w.mult = (uint64_t)(((unsigned __int128)m + w.win_mult + 1) / 2);
	}
	w.win_mult = m;
	w.win_tsc = tsc;
	w.win_ns = wall_ns;
}

int64_t txg_clock_update(uint64_t wall_ns, uint64_t tsc)
{
	if (__atomic_exchange_n(&busy, 1, __ATOMIC_ACQUIRE))
		return 0; /* another thread is re-anchoring */
	int64_t off = 0;
	if (tsc >= w.tsc) {
		uint64_t elapsed = ns_of_cycles(tsc - w.tsc, w.mult);
		uint64_t pred = w.ns + elapsed;
		uint64_t mag = wall_ns >= pred ? wall_ns - pred : pred - wall_ns;
		if (mag > (uint64_t)INT64_MAX)
			mag = (uint64_t)INT64_MAX;
		off = wall_ns >= pred ? (int64_t)mag : -(int64_t)mag;
		rate_update(wall_ns, tsc, mag > STEP_MIN_NS + elapsed / 8);
		w.tsc = tsc;
		w.ns = wall_ns;
		publish(tsc, wall_ns, w.mult);
	}
	__atomic_store_n(&busy, 0, __ATOMIC_RELEASE);
	return off;
}

/* A CLOCK_REALTIME reading paired with the TSC at its middle: the tightest
 * of up to SAMPLE_TRIES tries, stopping at one within max_gap cycles.
 * Returns that reading's gap in cycles, UINT64_MAX if there was none. */
static uint64_t sample(uint64_t *wall_ns, uint64_t *tsc, uint64_t max_gap)
{
	uint64_t best = UINT64_MAX;
	for (int i = 0; i < SAMPLE_TRIES && (best == UINT64_MAX || best > max_gap); i++) {
		struct timespec ts;
		uint64_t a = rte_get_tsc_cycles();
		if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
			break;
		uint64_t b = rte_get_tsc_cycles();
		if (b < a || b - a >= best || ts.tv_sec < 0)
			continue;
		best = b - a;
		*tsc = a + (b - a) / 2;
		*wall_ns = (uint64_t)ts.tv_sec * CLK_NS_PER_S + (uint64_t)ts.tv_nsec;
	}
	return best;
}

void txg_clock_init(void)
{
	uint64_t hz = rte_get_tsc_hz(), wall_ns = 0, tsc = 0;
	/* At start a loose reading beats none. */
	if (sample(&wall_ns, &tsc, 0) == UINT64_MAX) {
		tsc = rte_get_tsc_cycles();
		wall_ns = (uint64_t)time(NULL) * CLK_NS_PER_S;
	}
	txg_clock_init_at(wall_ns, tsc, hz);
}

int64_t txg_clock_tick(void)
{
	uint64_t wall_ns = 0, tsc = 0;
	if (w.nominal == 0)
		return 0; /* not initialised */
	uint64_t max_gap = (uint64_t)(((unsigned __int128)SAMPLE_MAX_NS << TXG_CLOCK_SHIFT) / w.nominal);
	if (sample(&wall_ns, &tsc, max_gap) > max_gap)
		return 0; /* preempted every time: try again next tick */
	int64_t off = txg_clock_update(wall_ns, tsc);
	int64_t lim = (int64_t)TXG_CLOCK_STEP_REPORT_MS * (int64_t)CLK_NS_PER_MS;
	return off >= lim || off <= -lim ? off / (int64_t)CLK_NS_PER_MS : 0;
}

uint64_t txg_clock_hz(void)
{
	uint64_t mult = __atomic_load_n(&txg_clock.mult, __ATOMIC_RELAXED);
	return mult ? (uint64_t)(((unsigned __int128)CLK_NS_PER_S << TXG_CLOCK_SHIFT) / mult) : 0;
}
