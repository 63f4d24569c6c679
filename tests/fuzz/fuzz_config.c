/* libFuzzer target: txg_config_load (rte_cfgfile plus our checks) on
 * arbitrary file contents, through a memfd. Checks: no out-of-bounds
 * access or leak (ASan), no UB (UBSan), an error message naming the file,
 * and a consistent config when accepted. Seeds: the .ini files in configs/. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_log.h>

#include "config.h"

static int fd = -1;
static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fd < 0) {
		fd = memfd_create("txg_fuzz_config", 0);
		if (fd < 0)
			__builtin_trap();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		rte_log_set_global_level(0); /* keep rte_cfgfile quiet */
	}
	if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		__builtin_trap();
	struct txg_config c;
	char err[1024];
	err[0] = '\0';
	int rc = txg_config_load(path, &c, err, sizeof(err));
	if (rc == 0) {
		if (c.n_ports == 0 || c.n_ports > TXG_MAX_PORTS || c.n_workers == 0 ||
		    c.n_workers > TXG_MAX_WORKERS || c.eal_argc < 0 || c.eal_argc > TXG_MAX_EAL_ARGS)
			__builtin_trap();
		for (unsigned w = 0; w < c.n_workers; w++)
			for (unsigned q = 0; q < c.workers[w].n_rxq; q++) {
				const struct txg_rxq_ref *r = &c.workers[w].rxq[q];
				if (r->port >= c.n_ports || r->queue >= c.ports[r->port].rx_queues)
					__builtin_trap();
			}
		txg_config_free(&c);
	} else if (rc != -1 || strncmp(err, path, strlen(path)) != 0 || c.eal_argc != 0) {
		__builtin_trap();
	}
	return 0;
}
