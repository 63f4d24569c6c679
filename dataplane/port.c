/* Port set-up. */
#include "port.h"

#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_log.h>

int txg_port_find(const char *cfg_path, const struct txg_port_cfg *pc, uint16_t *port_id, char *err, size_t errlen)
{
	if (rte_eth_dev_get_port_by_name(pc->device, port_id) != 0) {
		snprintf(err, errlen,
			 "%s: [%s] device: no DPDK port named '%s' (is it bound to a DPDK driver, or given with "
			 "--vdev in [eal] args?)",
			 cfg_path, pc->name, pc->device);
		return -1;
	}
	return 0;
}

int txg_port_start(uint16_t port_id, const struct txg_port_cfg *pc, struct rte_mempool *mp, char *err, size_t errlen)
{
	struct rte_eth_dev_info info;
	int rc = rte_eth_dev_info_get(port_id, &info);
	if (rc != 0) {
		snprintf(err, errlen, "port %s: rte_eth_dev_info_get: %s", pc->device, rte_strerror(-rc));
		return -1;
	}
	if (pc->rx_queues > info.max_rx_queues) {
		snprintf(err, errlen, "port %s: rx_queues = %u but the device has at most %u", pc->device,
			 pc->rx_queues, info.max_rx_queues);
		return -1;
	}
	struct rte_eth_conf conf;
	memset(&conf, 0, sizeof(conf));
	uint64_t rss = info.flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP);
	if (pc->rx_queues > 1 && rss) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = rss;
	} else if (pc->rx_queues > 1) {
		RTE_LOG(WARNING, USER1, "port %s: no RSS; queues beyond 0 only get what the device spreads\n",
			pc->device);
	}
	conf.rxmode.offloads = info.rx_offload_capa & (RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM);
	uint16_t ntx = info.max_tx_queues ? 1 : 0;
	rc = rte_eth_dev_configure(port_id, pc->rx_queues, ntx, &conf);
	if (rc != 0) {
		snprintf(err, errlen, "port %s: rte_eth_dev_configure: %s", pc->device, rte_strerror(-rc));
		return -1;
	}
	uint16_t nrx = pc->rx_desc, ntxd = pc->tx_desc;
	rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &nrx, &ntxd);
	int sock = rte_eth_dev_socket_id(port_id);
	if (sock < 0)
		sock = (int)SOCKET_ID_ANY;
	for (uint16_t q = 0; q < pc->rx_queues; q++) {
		struct rte_eth_rxconf rxc = info.default_rxconf;
		rxc.offloads = conf.rxmode.offloads;
		rc = rte_eth_rx_queue_setup(port_id, q, nrx, (unsigned)sock, &rxc, mp);
		if (rc != 0) {
			snprintf(err, errlen, "port %s: rx queue %u: %s", pc->device, q, rte_strerror(-rc));
			return -1;
		}
	}
	if (ntx) {
		rc = rte_eth_tx_queue_setup(port_id, 0, ntxd, (unsigned)sock, NULL);
		if (rc != 0) {
			snprintf(err, errlen, "port %s: tx queue: %s", pc->device, rte_strerror(-rc));
			return -1;
		}
	}
	rc = rte_eth_dev_start(port_id);
	if (rc != 0) {
		snprintf(err, errlen, "port %s: start: %s", pc->device, rte_strerror(-rc));
		return -1;
	}
	rte_eth_promiscuous_enable(port_id); /* best effort: virtual devices may refuse */
	return 0;
}

void txg_port_stop(uint16_t port_id)
{
	rte_eth_dev_stop(port_id);
	rte_eth_dev_close(port_id);
}
