/* Wall-clock milliseconds for the data path without system calls or locks:
 * the TSC, mapped to CLOCK_REALTIME by an anchor (TSC reading, wall time,
 * rate) that the main lcore re-takes every supervision pass (~10 ms) with
 * txg_clock_tick().
 *
 * What the clock guarantees and tolerates:
 * - Never backwards. txg_now_ms() is non-decreasing across all threads: a
 *   value any thread has returned is a floor for every call that happens
 *   after it, in that thread or any other.
 * - A backward step of the wall clock, of any size, is absorbed by holding:
 *   txg_now_ms() keeps returning the highest value returned so far until
 *   the wall clock catches up with it (a step back of D ms holds it for
 *   D ms, then it follows the wall clock exactly again). It never steps
 *   back: a dedupe id forgotten as expired must never look unexpired again.
 * - A forward step of any size is followed at the next tick, as a jump (it
 *   can only make records expire sooner, never let a replay through).
 *   Steps of TXG_CLOCK_STEP_REPORT_MS or more either way are reported by
 *   txg_clock_tick().
 * - Rate. Between ticks the clock runs at the estimated TSC rate, so its
 *   error is at most |rate error| x tick interval (0.5 ms for a 5% wrong hz
 *   at 10 ms ticks), and each tick re-anchors it exactly. The rate starts
 *   at the hz given at init and is re-measured against the wall clock over
 *   windows of TXG_CLOCK_RATE_WINDOW_MS; it is replaced by the mean of two
 *   consecutive windows that agree within TXG_CLOCK_RATE_AGREE_PPM, lie
 *   within TXG_CLOCK_RATE_RANGE_PCT of the hz given at init, and saw no
 *   step (no tick off by more than 1 ms + 1/8 of the time since the last
 *   one). A wrong hz is so corrected about 2 s after start.
 * Readers are lock-free and never wait for the writer: a two-slot sequence
 * latch, and one shared floor word written only when the ms changes. */
#ifndef TXG_CLOCK_H
#define TXG_CLOCK_H

#include <stdint.h>

#include <rte_common.h>
#include <rte_cycles.h>

/* Fixed point of the rate: nanoseconds per TSC cycle << TXG_CLOCK_SHIFT. */
#define TXG_CLOCK_SHIFT 40
/* The supervision loop's tick period (a recommendation; any period works,
 * the error between ticks grows with it). */
#define TXG_CLOCK_TICK_MS 10
/* txg_clock_tick() reports an offset at least this large as a step. */
#define TXG_CLOCK_STEP_REPORT_MS 100
/* Rate measurement: window length, agreement and accepted range. */
#define TXG_CLOCK_RATE_WINDOW_MS 1000
#define TXG_CLOCK_RATE_AGREE_PPM 200
#define TXG_CLOCK_RATE_RANGE_PCT 10

/* The mapping from a TSC reading to wall-clock nanoseconds. */
struct txg_clock_anchor {
	uint64_t tsc;  /* TSC reading of the anchor */
	uint64_t ns;   /* CLOCK_REALTIME at tsc, ns since the epoch */
	uint64_t mult; /* ns per cycle << TXG_CLOCK_SHIFT */
};

/* Shared state; every field is read and written with __atomic builtins. */
struct txg_clock_state {
	uint32_t seq;			   /* latch: readers use slot[seq & 1] */
	uint64_t mult;			   /* the current rate, for txg_us_since() */
	struct txg_clock_anchor slot[2];   /* both hold the anchor at rest */
	uint64_t floor_ms __rte_cache_aligned; /* highest value returned */
} __rte_cache_aligned;

extern struct txg_clock_state txg_clock;

/* Anchor to CLOCK_REALTIME and the TSC at rte_get_tsc_hz(); call once after
 * rte_eal_init and before any other thread reads the clock. */
void txg_clock_init(void);

/* Re-anchor to CLOCK_REALTIME now; call from one thread (the main lcore's
 * supervision loop, every TXG_CLOCK_TICK_MS). Returns the step in ms
 * (wall minus txgate time, + forward / - backward) when at least
 * TXG_CLOCK_STEP_REPORT_MS, else 0 (also when it could not get a reading
 * not interrupted by preemption, or another thread was re-anchoring). */
int64_t txg_clock_tick(void);

/* Testing seam: like txg_clock_init() but with an injected reading (wall
 * ns since the epoch at TSC reading tsc) and TSC rate hz (>= 1000; a
 * smaller hz is taken as 1000). Resets the floor; no reader may run. */
void txg_clock_init_at(uint64_t wall_ns, uint64_t tsc, uint64_t hz);

/* Testing seam of txg_clock_tick(): re-anchor on the injected reading
 * (wall ns at TSC tsc). Returns wall minus txgate time before re-anchoring,
 * in ns; a tsc older than the current anchor is ignored (returns 0). */
int64_t txg_clock_update(uint64_t wall_ns, uint64_t tsc);

/* The current TSC rate estimate in Hz (what txg_us_since() uses). */
uint64_t txg_clock_hz(void);

/* A consistent copy of the current anchor (never a mix of two): lock-free,
 * retries only if the writer re-anchored during the copy. */
static inline void txg_clock_anchor_get(struct txg_clock_anchor *out)
{
	const struct txg_clock_state *c = &txg_clock;
	uint32_t s;
	do {
		s = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);
		const struct txg_clock_anchor *a = &c->slot[s & 1];
		out->tsc = __atomic_load_n(&a->tsc, __ATOMIC_RELAXED);
		out->ns = __atomic_load_n(&a->ns, __ATOMIC_RELAXED);
		out->mult = __atomic_load_n(&a->mult, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
	} while (__atomic_load_n(&c->seq, __ATOMIC_RELAXED) != s);
}

/* Milliseconds since the UNIX epoch for the TSC reading tsc, as
 * txg_now_ms() returns it (and raising the same floor). */
static inline uint64_t txg_clock_ms_at(uint64_t tsc)
{
	struct txg_clock_anchor a;
	txg_clock_anchor_get(&a);
	/* A reading taken just before a newer anchor counts as the anchor's. */
	uint64_t d = tsc > a.tsc ? tsc - a.tsc : 0;
	uint64_t ms = (a.ns + (uint64_t)(((unsigned __int128)d * a.mult) >> TXG_CLOCK_SHIFT)) / 1000000u;
	uint64_t floor = __atomic_load_n(&txg_clock.floor_ms, __ATOMIC_RELAXED);
	while (ms > floor)
		if (__atomic_compare_exchange_n(&txg_clock.floor_ms, &floor, ms, 1, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			return ms;
	return floor;
}

/* Milliseconds since the UNIX epoch, from the TSC: never decreasing, no
 * system call, no lock. */
static inline uint64_t txg_now_ms(void)
{
	return txg_clock_ms_at(rte_get_tsc_cycles());
}

/* Microseconds elapsed since the TSC reading t0 at the current rate
 * estimate (0 if t0 is in the future). */
/* Microseconds from TSC reading t0 to t1 at the current rate estimate (0
 * if t1 is earlier). */
static inline uint64_t txg_us_between(uint64_t t0, uint64_t t1)
{
	uint64_t mult = __atomic_load_n(&txg_clock.mult, __ATOMIC_RELAXED);
	uint64_t d = t1 > t0 ? t1 - t0 : 0;
	return (uint64_t)(((unsigned __int128)d * mult) >> TXG_CLOCK_SHIFT) / 1000u;
}

/* Microseconds elapsed since the TSC reading t0 (0 if t0 is in the future). */
static inline uint64_t txg_us_since(uint64_t t0) { return txg_us_between(t0, rte_get_tsc_cycles()); }

#endif
