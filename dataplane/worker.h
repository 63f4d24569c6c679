/* A poll-mode worker: polls its RX queues in bursts, parses packets and
 * frames, judges each record (spec section 3, rules 1-9), verifies
 * signatures in batches and moves accepted transactions to its own
 * single-producer/single-consumer ring towards the orderer. No allocation,
 * locks or system calls per packet; backs off when idle. */
#ifndef TXG_WORKER_H
#define TXG_WORKER_H

#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "bounds.h"
#include "dedupe.h"
#include "flood.h"
#include "members.h"
#include "neigh.h"
#include "hist.h"
#include "outbox.h"
#include "pkt.h"
#include "stats.h"
#include "verify.h"

struct txg_cand; /* a record awaiting judgement (worker.c) */

/* A worker's settings ([workerN], [net], [chain], [dataplane]). */
struct txg_worker_params {
	unsigned lcore;
	uint16_t n_rxq; /* RX queues it polls: DPDK port id and queue each */
	uint16_t rx_port[TXG_MAX_QUEUES_PER_WORKER];
	uint16_t rx_queue[TXG_MAX_QUEUES_PER_WORKER];
	struct txg_pkt_filter filter;
	uint32_t chain_id;
	uint64_t max_ttl_ms;
	uint16_t burst;
	uint32_t idle_spins, idle_sleep_us;
	uint32_t neigh_rate, neigh_burst; /* ARP / NS answers, per port */
	uint32_t echo_rate, echo_burst;	  /* echo answers, per port */
	/* Flood protection (docs/flood.md). */
	struct txg_load_params load;
	uint32_t fair_budget;		  /* signature checks per burst under load */
	uint8_t prefix4, prefix6;	  /* source prefix lengths for fairness and penalties */
	uint32_t penalty_threshold;	  /* failures that box a (member, prefix) pair */
	uint32_t penalty_halflife_ms;
	uint32_t penalty_pairs;		  /* pairs tracked, power of two >= 4 */
	uint32_t answer_rate, answer_burst; /* answers per destination to frames without a valid cookie; rate 0: unbounded */
	uint32_t sigcache_entries;	  /* power of two, 0: off */
};

/* A worker's side of one port for neighbour and echo answers. */
struct txg_worker_port {
	struct txg_neigh_cfg cfg;     /* the port's MAC and our addresses */
	struct txg_neigh_limiter lim; /* this worker's buckets on this port */
	uint16_t txq;		      /* this worker's TX queue on the port */
	uint8_t active;		      /* answers on: addresses known, a TX queue of its own */
};

/* Replies to send at the end of a burst. */
#define TXG_WORKER_TX_MAX 64u

struct txg_worker {
	struct txg_worker_stats stats; /* first: its own cache lines */
	struct txg_hist hist_decide;   /* receive -> admission decision, per record (us) */
	struct txg_hist hist_verify;   /* one signature batch (us) */
	unsigned id;		       /* 0.. n_workers-1, also the RCU thread id */
	unsigned lcore;
	uint16_t n_rxq;
	uint16_t rx_port[TXG_MAX_QUEUES_PER_WORKER];
	uint16_t rx_queue[TXG_MAX_QUEUES_PER_WORKER];
	struct rte_ring *ring;	     /* to the orderer (SP/SC) */
	struct rte_mempool *txn_pool; /* struct txg_txn slots */
	struct txg_members *members;
	struct txg_dedupe *dedupe;
	struct rte_rcu_qsbr *qsbr;
	struct txg_pkt_filter filter;
	struct rte_mempool *tx_pool;	/* mbufs for replies */
	const struct txg_cookie_state *cookies;
	struct rte_mbuf **mbufs_cur;   /* the burst being handled */
	uint8_t (*port_mac)[6];	       /* [RTE_MAX_ETHPORTS] */
	uint16_t *port_txq;	       /* [RTE_MAX_ETHPORTS]: this worker's TX queue, UINT16_MAX none */
	struct txg_outbox outbox;      /* receipts */
	struct txg_worker_port *ports; /* [RTE_MAX_ETHPORTS], by DPDK port id */
	uint16_t n_tx;
	struct rte_mbuf *tx[TXG_WORKER_TX_MAX];
	uint8_t tx_ctr[TXG_WORKER_TX_MAX]; /* the counter of each reply */
	uint32_t chain_id;
	uint64_t max_ttl_ms;
	uint16_t burst;
	uint32_t idle_spins;
	uint32_t idle_sleep_us;
	const volatile int *stop; /* set to end the loop */
	/* Control plane (ingress pause): when *paused (NULL: never), every
	 * record that would be queued is answered overloaded and counted.
	 * Read once per burst with an acquire load into paused_now. */
	const volatile int *paused;
	int paused_now;
	uint16_t cur_port;	  /* port of the burst being processed */
	uint64_t now_ms;	  /* clock of the burst being processed */
	uint64_t now_tsc;	  /* TSC at the burst's start (answer buckets) */

	/* Flood protection (docs/flood.md). */
	struct txg_load load;
	uint8_t *port_load;	  /* [RTE_MAX_ETHPORTS]: 1 if the port's traffic signals and obeys load,
				   * and its answers are bounded per destination */
	int loaded_now;		  /* this burst: loaded, and its port obeys load */
	uint8_t prefix4, prefix6;
	uint64_t seed;		  /* keys the prefix hash */
	struct txg_fair *fair;
	struct txg_penalty pen;
	struct txg_answers ans;
	struct txg_sigcache sc;
	uint32_t *pick, *rest;	  /* scratch for the fair scheduler */
	uint32_t *todo;		  /* scratch: cands still to judge */
	uint64_t *pfx;		  /* [burst]: source prefix key of each packet with a valid cookie */
	uint8_t *cookied;	  /* [burst]: 1 if the packet's frame had a valid cookie */

	/* Scratch, sized at creation. */
	uint32_t cand_cap;
	struct txg_cand *cands;
	struct rte_mbuf **mbufs;
	struct txg_pkt_info *pinfo;
	struct txg_rec_view *recs; /* TXG_FRAME_MAX_RECS */
	uint32_t *live;
	struct txg_verify_item *vitems;
	uint8_t *vok;
	void **objs;
};

/* Set up worker number id (also its RCU thread id) from p and allocate its
 * scratch. The caller sets ring, txn_pool, members, dedupe, qsbr and stop.
 * 0, or -1 with err. */
/* Replies (receipts, neighbour answers) take mbufs from pool; receipts
 * carry cookies from cookies (NULL: none). Call before the worker runs. */
void txg_worker_set_replies(struct txg_worker *w, struct rte_mempool *pool, const struct txg_cookie_state *cookies);

/* Turn on neighbour and echo answers on DPDK port `port` (MAC mac, TX
 * queue txq owned by this worker) for the addresses of p's filter; the
 * buckets start full at TSC time now. Call before the worker runs. */
void txg_worker_answer_on(struct txg_worker *w, const struct txg_worker_params *p, uint16_t port, const uint8_t mac[6],
			  uint16_t txq, uint64_t now);

int txg_worker_init(struct txg_worker *w, const struct txg_worker_params *p, unsigned id, char *err, size_t errlen);
/* Release the scratch. */
void txg_worker_fini(struct txg_worker *w);

/* Whether DPDK port `port`'s traffic signals and obeys load and its
 * answers are bounded per destination (default: no). Call before the
 * worker runs. */
void txg_worker_port_load(struct txg_worker *w, uint16_t port, int on);

/* Lcore entry point: arg is a struct txg_worker. Returns when *stop. */
int txg_worker_main(void *arg);

/* Process one RX burst of n packets (exposed for tests). */
void txg_worker_burst(struct txg_worker *w, struct rte_mbuf **pkts, uint16_t n, uint16_t port, uint64_t now_ms);

#endif
