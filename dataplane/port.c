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

int txg_port_start(uint16_t port_id, const struct txg_port_cfg *pc, struct rte_mempool *mp, uint16_t want_txq,
		   uint16_t *got_txq, char *err, size_t errlen)
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
	uint16_t ntx = want_txq < info.max_tx_queues ? want_txq : info.max_tx_queues;
	rc = rte_eth_dev_configure(port_id, pc->rx_queues, ntx, &conf);
	if (rc != 0 && ntx != pc->rx_queues && pc->rx_queues <= info.max_tx_queues) {
		/* Some devices (net_tap) want as many TX queues as RX queues. */
		ntx = pc->rx_queues;
		rc = rte_eth_dev_configure(port_id, pc->rx_queues, ntx, &conf);
	}
	*got_txq = ntx;
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
	for (uint16_t q = 0; q < ntx; q++) {
		rc = rte_eth_tx_queue_setup(port_id, q, ntxd, (unsigned)sock, NULL);
		if (rc != 0) {
			snprintf(err, errlen, "port %s: tx queue %u: %s", pc->device, q, rte_strerror(-rc));
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

int txg_port_is_live(uint16_t port_id)
{
	struct rte_eth_dev_info info;
	if (rte_eth_dev_info_get(port_id, &info) != 0 || !info.driver_name)
		return 1;
	static const char *const replay[] = {"net_pcap", "net_null", "net_ring"};
	for (size_t i = 0; i < RTE_DIM(replay); i++)
		if (!strcmp(info.driver_name, replay[i]))
			return 0;
	return 1;
}

unsigned txg_port_announce(uint16_t port_id, uint16_t txq, const struct txg_neigh_cfg *cfg, struct rte_mempool *mp,
			   uint64_t *garp, uint64_t *una)
{
	struct rte_mbuf *m[2 * TXG_MAX_ADDRS];
	uint8_t v6[2 * TXG_MAX_ADDRS];
	unsigned n = 0;
	unsigned n4 = cfg->n_ipv4 < TXG_MAX_ADDRS ? cfg->n_ipv4 : TXG_MAX_ADDRS;
	unsigned n6 = cfg->n_ipv6 < TXG_MAX_ADDRS ? cfg->n_ipv6 : TXG_MAX_ADDRS;
	for (unsigned i = 0; i < n4 + n6; i++) {
		struct rte_mbuf *b = rte_pktmbuf_alloc(mp);
		if (!b)
			break;
		uint8_t *out = (uint8_t *)rte_pktmbuf_append(b, TXG_NEIGH_NA_LEN);
		uint32_t len = !out ? 0
			       : i < n4 ? txg_neigh_build_garp(out, TXG_NEIGH_NA_LEN, cfg, i, 0, 0)
					: txg_neigh_build_unsol_na(out, TXG_NEIGH_NA_LEN, cfg, i - n4, 0, 0);
		if (len == 0) {
			rte_pktmbuf_free(b);
			continue;
		}
		rte_pktmbuf_trim(b, (uint16_t)(TXG_NEIGH_NA_LEN - len));
		v6[n] = i >= n4;
		m[n++] = b;
	}
	uint16_t sent = n ? rte_eth_tx_burst(port_id, txq, m, (uint16_t)n) : 0;
	for (uint16_t i = 0; i < sent; i++)
		++*(v6[i] ? una : garp);
	if (sent < n)
		rte_pktmbuf_free_bulk(&m[sent], n - sent);
	return sent;
}

void txg_port_stop(uint16_t port_id)
{
	rte_eth_dev_stop(port_id);
	rte_eth_dev_close(port_id);
}
