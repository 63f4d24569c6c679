/* txgate configuration: an INI file read with rte_cfgfile. Every key is
 * documented in docs/config.md; unknown sections or keys, and bad values,
 * fail start with "FILE: [section] key: reason". */
#ifndef TXG_CONFIG_H
#define TXG_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "bounds.h"

#define TXG_MAX_EAL_ARGS 64
#define TXG_PATH_MAX 512
#define TXG_CTL_SOCKET_DEFAULT "/run/txgate/txgate.sock"
#define TXG_CTL_SOCKET_MAX 108 /* sizeof(sockaddr_un.sun_path) */

enum txg_durability {
	TXG_DUR_SYNC = 0,  /* fsync every commit (default) */
	TXG_DUR_NOSYNC = 1 /* MDB_NOSYNC: an OS crash or power loss may lose the last commits */
};

enum txg_verifier_kind {
	TXG_VERIFIER_FAST = 0,  /* dataplane/ed25519: precomputed tables per enrolled key */
	TXG_VERIFIER_SODIUM = 1 /* libsodium crypto_sign_verify_detached */
};

struct txg_port_cfg {
	char name[32];	 /* section name, e.g. "port0" */
	char device[128]; /* PCI address or vdev name, as rte_eth_dev_get_port_by_name takes */
	uint16_t rx_queues;
	uint16_t rx_desc;
	uint16_t tx_desc;
	int load; /* TXG_PORT_LOAD_*: does its traffic signal and obey load (docs/flood.md) */
};

enum { TXG_PORT_LOAD_AUTO = 0, TXG_PORT_LOAD_ON = 1, TXG_PORT_LOAD_OFF = 2 };

struct txg_rxq_ref {
	uint16_t port; /* index into txg_config.ports */
	uint16_t queue;
};

struct txg_worker_cfg {
	char name[32]; /* section name, e.g. "worker0" */
	unsigned lcore;
	uint16_t n_rxq;
	struct txg_rxq_ref rxq[TXG_MAX_QUEUES_PER_WORKER];
};

struct txg_config {
	char path[TXG_PATH_MAX]; /* the file it was read from */

	/* [eal] args: split on white space, argv[0] not included. */
	int eal_argc;
	char *eal_argv[TXG_MAX_EAL_ARGS]; /* owned, freed by txg_config_free */

	/* [net] */
	uint16_t udp_port; /* default 7400 */
	unsigned n_ipv4;
	uint8_t ipv4[TXG_MAX_ADDRS][4]; /* network order bytes; none = accept any */
	unsigned n_ipv6;
	uint8_t ipv6[TXG_MAX_ADDRS][16];
	uint32_t neigh_rate, neigh_burst; /* ARP / NS answers per second and burst, per worker and port: 1000, 64 */
	uint32_t echo_rate, echo_burst;	  /* ICMP / ICMPv6 echo answers likewise: 200, 32 */
	uint32_t answer_rate, answer_burst; /* answer entries per destination address to frames without a valid
					     * cookie, per second and burst, per worker: 5000, 10000 (rate 0: unbounded) */

	/* [chain] */
	uint32_t chain_id;   /* required */
	uint64_t max_ttl_ms; /* default 120000 */
	char members_file[TXG_PATH_MAX]; /* required; relative paths are relative to the config file */
	uint32_t quota_rate, quota_burst; /* default member quota: tx/s (0: unlimited) and burst */

	/* [block] */
	uint32_t block_max_txs;	  /* default 1024 */
	uint32_t block_max_bytes; /* default 1048576, records' bytes */
	uint32_t block_max_wait_us; /* default 2000 */

	/* [ledger] */
	char ledger_path[TXG_PATH_MAX]; /* required; relative to the config file */
	enum txg_durability durability;
	uint64_t map_size_mb;	/* default 1024 */
	uint32_t commit_group_max; /* blocks per LMDB write transaction, default 64 */
	uint32_t sync_interval_ms; /* nosync: flush to disk this often, default 1000 (0 = only at stop) */
	uint32_t min_free_mb;	   /* refuse to start below this much free disk, warn below twice it; default 64 */

	/* [dataplane] */
	uint32_t dedupe_capacity; /* tx ids remembered; default 1048576 */
	uint32_t ring_size;	  /* worker->orderer ring, power of two, default 4096 */
	uint32_t txn_pool;	  /* in-flight transaction slots, default 65536 */
	uint32_t mbuf_pool;	  /* mbufs, default 8192 */
	uint16_t burst;		  /* rx burst, 1..256, default 32 */
	uint32_t idle_spins;	  /* empty polls before backing off, default 64 */
	uint32_t idle_sleep_us;	  /* sleep when idle (0 = pure busy poll), default 50 */
	unsigned orderer_lcore;	  /* lcore of the orderer; UINT_MAX (unset): the first EAL lcore no worker uses */
	enum txg_verifier_kind verifier; /* "fast" (default) or "sodium" */
	uint32_t verifier_max_keys;      /* enrolled keys with full tables, default 4096 */
	uint32_t verifier_table_bits;	 /* comb table width per key, 4..8, default 4 (docs/ed25519.md) */
	/* Flood protection (docs/flood.md) */
	int load;			 /* TXG_LOAD_AUTO (default), _ON (always loaded), _OFF (never) */
	uint32_t load_high_pct, load_low_pct; /* 95, 70 */
	uint32_t load_window_ms, load_hold_ms; /* 100, 1000 */
	uint32_t load_windows;		 /* windows in a row at load_high_pct: 3 */
	uint32_t load_full_polls;	 /* 64 (0: bursts ignored) */
	uint32_t fair_budget;		 /* signature checks per burst while shared: 256 */
	uint32_t fair_share_pct;	 /* checks' share of a window that starts fair sharing: 75 */
	uint32_t fair_prefix4, fair_prefix6; /* 24, 56 */
	uint32_t penalty_threshold;	 /* failures: 8 */
	uint32_t penalty_halflife_ms;	 /* 2000 */
	uint32_t penalty_pairs;		 /* 4096, power of two */
	uint32_t sigcache_entries;	 /* 65536, power of two or 0 (off) */

	/* [metrics] (docs/metrics.md) */
	char metrics_listen[128]; /* host:port or [v6]:port; default 127.0.0.1:9470; "" = off */
	int metrics_listen_set;	  /* the key was in the file (else a failure to serve is only a warning) */

	/* [control] (docs/control.md) */
	char ctl_socket[TXG_PATH_MAX]; /* UNIX socket; default /run/txgate/txgate.sock; "" = no control socket */
	int ctl_socket_set;	       /* the key was in the file (else the default is used, and a failure to
					* serve it is only a warning) */
	char ctl_group[64];	       /* group owning the socket; "" = txgate's own */
	char ctl_audit_log[TXG_PATH_MAX]; /* default: txgate-audit.log next to the socket */

	/* [portN] sections, in file order */
	unsigned n_ports;
	struct txg_port_cfg ports[TXG_MAX_PORTS];

	/* [workerN] sections, in file order */
	unsigned n_workers;
	struct txg_worker_cfg workers[TXG_MAX_WORKERS];
};

/* Fill c with every default (no ports, workers, chain id or paths). */
void txg_config_defaults(struct txg_config *c);

/* Read and check path into c. Returns 0, or -1 with a message
 * "PATH: [section] key: reason" (or "PATH: reason") in err. */
int txg_config_load(const char *path, struct txg_config *c, char *err, size_t errlen);

/* Release what txg_config_load allocated (the EAL argument strings). */
void txg_config_free(struct txg_config *c);

#endif
