/* Counters. Each worker, the orderer and the committer own their block of
 * counters and are its only writer (relaxed stores); readers (status line,
 * telemetry) sum them with relaxed loads. */
#ifndef TXG_STATS_H
#define TXG_STATS_H

#include <stdint.h>

#include <rte_common.h>

#include "flood.h"
#include "neigh.h"
#include "pkt.h"
#include "wire.h"

struct txg_worker_stats {
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t pkt_multiseg;		/* packets larger than one mbuf: dropped */
	uint64_t pkt[TXG_PKT_NUM];	/* packet drops by reason ([0] = good packets) */
	uint64_t frame[TXG_FE_NUM];	/* frame drops by reason ([0] = good frames) */
	uint64_t records;		/* records in good frames */
	uint64_t status[TXG_ST_COUNT];	/* records judged here, by status; [ACCEPTED] = queued */
	uint64_t neigh[TXG_NC_NUM];	/* neighbour and echo answers (dataplane/neigh.h) */
	uint64_t receipts[3];		/* receipt datagrams sent, entries in them, datagrams dropped */
	uint64_t cookie[2];		/* frames with a cookie: [0] not valid (treated as none), [1] valid */
	uint64_t flood[TXG_FC_NUM];	/* flood protection (dataplane/flood.h) */
	uint64_t polls, idle_sleeps;
} __rte_cache_aligned;

struct txg_orderer_stats {
	uint64_t received;		/* txns taken from the worker rings */
	uint64_t status[TXG_ST_COUNT];	/* duplicate, expired, overloaded found at ordering */
	uint64_t ordered;		/* txns placed in a block */
	uint64_t blocks;		/* blocks sealed */
	uint64_t dedupe_expired;	/* ids forgotten after expiry */
	uint64_t dedupe_size;		/* ids held now */
	uint64_t stall_polls;		/* waits for a free block buffer (ledger behind) */
	uint64_t receipts[3];		/* receipts of refusals: datagrams sent, entries, dropped */
} __rte_cache_aligned;

struct txg_committer_stats {
	uint64_t blocks;	/* blocks durably committed */
	uint64_t txs;		/* transactions durably committed */
	uint64_t commits;	/* LMDB write transactions */
	uint64_t height;	/* ledger height (the head's at start) */
	uint64_t known;		/* records left out at commit: the ledger already held their tx_id */
	uint64_t syncs;		/* periodic flushes of a nosync ledger */
	uint64_t receipts[3];	/* committed receipts: datagrams sent, entries, datagrams dropped */
	uint64_t commit_us_total; /* time spent in commits */
	uint64_t commit_us_max;
} __rte_cache_aligned;

#define TXG_STAT_INC(p, n) __atomic_store_n(&(p), (p) + (n), __ATOMIC_RELEASE)
#define TXG_STAT_SET(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELAXED)
#define TXG_STAT_GET(p) __atomic_load_n(&(p), __ATOMIC_RELAXED)

#endif
