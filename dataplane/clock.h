/* Wall-clock milliseconds for the data path without system calls: a
 * CLOCK_REALTIME reading at start plus elapsed TSC cycles. */
#ifndef TXG_CLOCK_H
#define TXG_CLOCK_H

#include <stdint.h>

#include <rte_cycles.h>

struct txg_clock {
	uint64_t base_ms;  /* CLOCK_REALTIME at init */
	uint64_t base_tsc; /* TSC at init */
	uint64_t hz;	   /* TSC frequency */
};

extern struct txg_clock txg_clock;

/* Read CLOCK_REALTIME and the TSC once; call after rte_eal_init. */
void txg_clock_init(void);

/* Milliseconds since the UNIX epoch, from the TSC. */
static inline uint64_t txg_now_ms(void)
{
	uint64_t d = rte_get_tsc_cycles() - txg_clock.base_tsc;
	return txg_clock.base_ms + (uint64_t)(((unsigned __int128)d * 1000u) / txg_clock.hz);
}

/* Microseconds elapsed since the TSC reading t0. */
static inline uint64_t txg_us_since(uint64_t t0)
{
	return (uint64_t)(((unsigned __int128)(rte_get_tsc_cycles() - t0) * 1000000u) / txg_clock.hz);
}

#endif
