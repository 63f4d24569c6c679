/* Ethernet ports: lookup by name and set-up from the config. */
#ifndef TXG_PORT_H
#define TXG_PORT_H

#include <stddef.h>
#include <stdint.h>

#include <rte_mempool.h>

#include "config.h"
#include "neigh.h"

/* DPDK port id of the device named in pc (PCI address or vdev name).
 * 0, or -1 with err naming cfg_path and the config section. */
int txg_port_find(const char *cfg_path, const struct txg_port_cfg *pc, uint16_t *port_id, char *err, size_t errlen);

/* Configure and start a port: pc->rx_queues RX queues fed from mp (RSS on
 * UDP/IP when there are several and the device can), want_txq TX queues or
 * as many as the device has (*got_txq), RX checksum offload where offered,
 * promiscuous mode. 0, or -1 with err. */
int txg_port_start(uint16_t port_id, const struct txg_port_cfg *pc, struct rte_mempool *mp, uint16_t want_txq,
		   uint16_t *got_txq, char *err, size_t errlen);

/* 1 if the port reaches a network (a NIC, net_tap, ...), 0 for the replay
 * devices (net_pcap, net_null, net_ring). */
int txg_port_is_live(uint16_t port_id);

/* Announce cfg's addresses on the port's TX queue txq: a gratuitous ARP per
 * IPv4 address and an unsolicited Neighbour Advertisement per IPv6 one,
 * mbufs from mp. Returns how many were sent; *garp and *una count them. */
unsigned txg_port_announce(uint16_t port_id, uint16_t txq, const struct txg_neigh_cfg *cfg, struct rte_mempool *mp,
			   uint64_t *garp, uint64_t *una);

/* Stop a started port. */
void txg_port_stop(uint16_t port_id);

#endif
