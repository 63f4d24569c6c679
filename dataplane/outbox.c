/* Receipt outbox. */
#include "outbox.h"

#include <string.h>

#include <rte_ethdev.h>

#include "pkt_build.h"

void txg_outbox_init(struct txg_outbox *ob, struct rte_mempool *pool, const struct txg_cookie_state *cookies,
		     const uint8_t (*mac)[6], const uint16_t *txq)
{
	ob->pool = pool;
	ob->cookies = cookies;
	ob->mac = mac;
	ob->txq = txq;
	ob->n_open = 0;
	ob->n_tx = 0;
}

static int same_to(const struct txg_reply_addr *a, const struct txg_reply_addr *b)
{
	return a->port == b->port && a->af == b->af && a->peer_port == b->peer_port && a->local_port == b->local_port &&
	       a->vlan == b->vlan && !memcmp(a->peer, b->peer, 16) && !memcmp(a->local, b->local, 16) &&
	       !memcmp(a->peer_mac, b->peer_mac, 6);
}

/* Send what is queued: one TX burst per run of packets for one port. */
static void send_queued(struct txg_outbox *ob)
{
	uint16_t i = 0;
	while (i < ob->n_tx) {
		uint16_t port = ob->tx_port[i], j = i;
		while (j < ob->n_tx && ob->tx_port[j] == port)
			j++;
		uint16_t sent = rte_eth_tx_burst(port, ob->txq[port], &ob->tx[i], (uint16_t)(j - i));
		if (sent < j - i) {
			rte_pktmbuf_free_bulk(&ob->tx[i + sent], (unsigned)(j - i - sent));
			ob->stats.dropped += (uint64_t)(j - i - sent);
		}
		ob->stats.datagrams += sent;
		i = j;
	}
	ob->n_tx = 0;
}

/* Seal open datagram k into a packet and queue it; the slot is freed. */
static void seal(struct txg_outbox *ob, unsigned k)
{
	struct txg_outbox_open *o = &ob->open[k];
	const struct txg_reply_addr *to = &o->to;
	uint8_t cookie[TXG_COOKIE_LEN];
	const uint8_t *ck = NULL;
	if (ob->cookies) {
		struct txg_cookie_flow f = {.af = to->af, .client_port = to->peer_port, .appl_port = to->local_port};
		memcpy(f.client, to->peer, 16);
		memcpy(f.appl, to->local, 16);
		txg_cookie_make(ob->cookies, &f, cookie);
		ck = cookie;
	}
	uint16_t entries = o->pk.count;
	size_t len = txg_receipt_finish(&o->pk, ck);
	struct rte_mbuf *m = NULL;
	if (len && ob->pool && ob->txq[to->port] != UINT16_MAX && ob->n_tx < TXG_OUTBOX_TX)
		m = rte_pktmbuf_alloc(ob->pool);
	if (m) {
		struct txg_pkt_spec s = {.vlan = to->vlan, .af = to->af, .sport = to->local_port, .dport = to->peer_port};
		memcpy(s.src_mac, ob->mac[to->port], 6);
		memcpy(s.dst_mac, to->peer_mac, 6);
		memcpy(s.src, to->local, 16);
		memcpy(s.dst, to->peer, 16);
		uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
		size_t n = txg_pkt_build(p, rte_pktmbuf_tailroom(m), &s, o->buf, len);
		if (n && rte_pktmbuf_append(m, (uint16_t)n)) {
			ob->tx_port[ob->n_tx] = to->port;
			ob->tx[ob->n_tx++] = m;
			ob->stats.entries += entries;
			m = NULL;
		} else {
			rte_pktmbuf_free(m);
			ob->stats.dropped++;
		}
	} else {
		ob->stats.dropped++;
	}
	if (k != --ob->n_open) {
		ob->open[k] = ob->open[ob->n_open]; /* the last slot moves here: its packer follows */
		ob->open[k].pk.buf = ob->open[k].buf;
	}
	if (ob->n_tx == TXG_OUTBOX_TX)
		send_queued(ob);
}

void txg_outbox_add(struct txg_outbox *ob, const struct txg_reply_addr *to, const struct txg_receipt_entry *e)
{
	unsigned k = 0;
	while (k < ob->n_open && !same_to(&ob->open[k].to, to))
		k++;
	if (k == ob->n_open) {
		if (ob->n_open == TXG_OUTBOX_OPEN)
			seal(ob, 0); /* the oldest slot makes room */
		k = ob->n_open++;
		struct txg_outbox_open *o = &ob->open[k];
		o->to = *to;
		txg_receipt_begin(&o->pk, o->buf, txg_receipt_payload_max(TXG_OUTBOX_MTU, to->af), ob->cookies != NULL);
	}
	if (txg_receipt_add(&ob->open[k].pk, e) == 0)
		seal(ob, k); /* full */
}

void txg_outbox_flush(struct txg_outbox *ob)
{
	while (ob->n_open)
		seal(ob, ob->n_open - 1);
	send_queued(ob);
}
