/* Data-path clock. */
#include "clock.h"

#include <time.h>

struct txg_clock txg_clock;

void txg_clock_init(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	txg_clock.base_tsc = rte_get_tsc_cycles();
	txg_clock.base_ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
	txg_clock.hz = rte_get_tsc_hz();
	if (txg_clock.hz == 0)
		txg_clock.hz = 1;
}
