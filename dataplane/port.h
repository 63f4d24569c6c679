/* Ethernet ports: lookup by name and set-up from the config. */
#ifndef TXG_PORT_H
#define TXG_PORT_H

#include <stddef.h>
#include <stdint.h>

#include <rte_mempool.h>

#include "config.h"

/* DPDK port id of the device named in pc (PCI address or vdev name).
 * 0, or -1 with err naming cfg_path and the config section. */
int txg_port_find(const char *cfg_path, const struct txg_port_cfg *pc, uint16_t *port_id, char *err, size_t errlen);

/* Configure and start a port: pc->rx_queues RX queues fed from mp (RSS on
 * UDP/IP when there are several and the device can), one TX queue, RX
 * checksum offload where offered, promiscuous mode. 0, or -1 with err. */
int txg_port_start(uint16_t port_id, const struct txg_port_cfg *pc, struct rte_mempool *mp, char *err, size_t errlen);

/* Stop a started port. */
void txg_port_stop(uint16_t port_id);

#endif
