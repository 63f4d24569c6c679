/* The appliance as one object: every stage and what joins them. */
#ifndef TXG_APP_H
#define TXG_APP_H

#include <stdint.h>

#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>

#include "committer.h"
#include "cookie.h"
#include "config.h"
#include "dedupe.h"
#include "members.h"
#include "orderer.h"
#include "store.h"
#include "worker.h"

struct txg_app {
	struct txg_config cfg;
	unsigned n_workers;
	struct txg_worker *workers; /* [n_workers], DPDK memory */
	struct txg_orderer *orderer;
	struct txg_committer committer;
	struct txg_store *store;
	struct txg_dedupe *dedupe;
	struct txg_members *members;
	struct txg_ed_ctx *ed;
	struct rte_rcu_qsbr *qsbr;
	struct rte_mempool *mbuf_pool, *txn_pool;
	uint16_t port_ids[TXG_MAX_PORTS];
	unsigned n_ports_started;
	unsigned orderer_lcore;
	/* Read by every worker poll: a cache line of their own, apart from
	 * what main writes every 10 ms below. */
	volatile int stop_workers __rte_cache_aligned;
	volatile int stop_orderer;
	uint64_t start_ms __rte_cache_aligned;
	uint64_t first_rx_ms;	   /* when the first packet was seen (10 ms resolution) */
	uint64_t last_commit_ms;   /* when the committed count last grew */
	uint64_t last_committed;   /* the committed count then */
	uint64_t announced[2];	   /* gratuitous ARPs and unsolicited NAs sent at port start */
	struct txg_cookie_state cookies;	     /* rotated by main, read by workers and the committer */
	uint8_t port_mac[RTE_MAX_ETHPORTS][6];   /* each port's MAC */
	uint16_t committer_txq[RTE_MAX_ETHPORTS]; /* the committer's TX queue per port, UINT16_MAX none */
	uint16_t orderer_txq[RTE_MAX_ETHPORTS];	  /* the orderer's likewise */
	struct txg_outbox *orderer_outbox;
};

/* Totals over every stage; status[] is each record's final status so far
 * (committed from the ledger; accepted = on its way). */
struct txg_totals {
	uint64_t rx_packets, rx_bytes, pkt_multiseg, records;
	uint64_t pkt[TXG_PKT_NUM];
	uint64_t frame[TXG_FE_NUM];
	uint64_t status[TXG_ST_COUNT];
	uint64_t blocks, height, commits, commit_us_total, commit_us_max;
	uint64_t dedupe_size, dedupe_expired, orderer_stalls;
	uint64_t known_at_commit; /* refused at commit: the ledger already held the id (also in duplicate) */
	uint64_t neigh[TXG_NC_NUM]; /* neighbour and echo answers */
	uint64_t receipts[3];	    /* receipt datagrams sent, entries, dropped (workers and committer) */
	uint64_t cookie[2];	    /* frames with a cookie: not valid, valid */
	uint64_t flood[TXG_FC_NUM]; /* flood protection; [LOADED]: workers loaded, [LOAD_PCT]: the highest */
};

/* Sum every stage's counters (relaxed reads; any thread). */
void txg_app_totals(const struct txg_app *a, struct txg_totals *t);
/* Print the one-line status (rates against prev over dt_ms) to stderr. */
void txg_app_status_line(const struct txg_totals *now, const struct txg_totals *prev, uint64_t dt_ms);
/* Print the exit summary to stderr; active_ms runs from the first packet
 * to the last commit and gives the committed rate. */
void txg_app_summary(const struct txg_totals *t, uint64_t elapsed_ms, uint64_t active_ms);
/* Register the /txgate/... telemetry commands for a. */
void txg_app_telemetry(struct txg_app *a);

#endif
