/* Receipts on their way out: an outbox gathers receipt entries per
 * destination (a frame's source), packs them into as few datagrams as fit
 * the MTU (dataplane/receipt.h), wraps each in Ethernet (and the frame's
 * 802.1Q tag), IP and UDP with checksums, and sends them in bursts on its
 * own TX queue of each port. One outbox per thread (each worker, the
 * committer): no sharing, no locks, no allocation but mbufs from a pool. A
 * datagram that finds no mbuf or no room in the TX queue is dropped and
 * counted; the client's retry gets the answer. */
#ifndef TXG_OUTBOX_H
#define TXG_OUTBOX_H

#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "cookie.h"
#include "receipt.h"

#define TXG_OUTBOX_MTU 1500u
#define TXG_OUTBOX_OPEN 16u /* destinations with a datagram being filled */
#define TXG_OUTBOX_TX 64u   /* packets waiting for a TX burst */

/* Where a receipt goes: from the address and port the frame was sent to,
 * to the frame's source address and port, as an L2 reply. */
struct txg_reply_addr {
	uint16_t port;	       /* DPDK port it arrived on */
	uint16_t vlan;	       /* VID of its 802.1Q tag, 0 for none */
	uint8_t af;	       /* 4 or 6 */
	uint8_t peer_mac[6];   /* the frame's source MAC */
	uint8_t peer[16];      /* the frame's source address (IPv4: first 4 bytes) */
	uint8_t local[16];     /* the address it was sent to */
	uint16_t peer_port;    /* host order */
	uint16_t local_port;
};

struct txg_outbox_stats {
	uint64_t datagrams; /* receipt datagrams sent */
	uint64_t entries;   /* entries in them */
	uint64_t dropped;   /* datagrams dropped: no mbuf, no TX queue, queue full */
};

struct txg_outbox_open {
	struct txg_reply_addr to;
	struct txg_receipt_packer pk;
	uint8_t buf[TXG_OUTBOX_MTU];
};

struct txg_outbox {
	struct txg_outbox_stats stats; /* written by the owner only */
	struct rte_mempool *pool;
	const struct txg_cookie_state *cookies; /* NULL: receipts carry no cookie */
	const uint8_t (*mac)[6];		/* [RTE_MAX_ETHPORTS]: each port's MAC */
	const uint16_t *txq;			/* [RTE_MAX_ETHPORTS]: the owner's TX queue, UINT16_MAX = none */
	unsigned n_open;
	struct txg_outbox_open open[TXG_OUTBOX_OPEN];
	uint16_t n_tx;
	uint16_t tx_port[TXG_OUTBOX_TX];
	struct rte_mbuf *tx[TXG_OUTBOX_TX];
};

/* Set up ob (zeroed by the caller) to take mbufs from pool (NULL: every
 * datagram is dropped and counted), stamp cookies from cookies (may be
 * NULL) and send on txq[port] with source MAC mac[port]. */
void txg_outbox_init(struct txg_outbox *ob, struct rte_mempool *pool, const struct txg_cookie_state *cookies,
		     const uint8_t (*mac)[6], const uint16_t *txq);

/* Add one entry for destination to (a datagram that fills up is sealed
 * and queued at once). */
void txg_outbox_add(struct txg_outbox *ob, const struct txg_reply_addr *to, const struct txg_receipt_entry *e);

/* Seal every datagram being filled and send everything queued. */
void txg_outbox_flush(struct txg_outbox *ob);

#endif
