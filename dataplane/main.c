/* txgate: the appliance. Reads the config and the members file, starts
 * EAL, the ports, the workers, the orderer and the committer, prints a
 * status line every second, and on SIGINT, SIGTERM or SIGHUP (or when its
 * input has drained, with --exit-on-drain) stops RX, finishes what is in
 * flight, commits the last block and exits with a summary. A second signal,
 * or a drain longer than --drain-timeout-ms, ends it at once (exit 4): what
 * was committed stays committed and the ledger verifies. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <sodium.h>

#include <pthread.h>

#include <rte_ring.h>
#include <systemd/sd-daemon.h>

#include "app.h"
#include "metrics.h"
#include "clock.h"
#include "ctl_server.h"
#include "ed25519/ed25519.h"
#include "members_file.h"
#include "port.h"
#include "restore.h"
#include "stage_params.h"
#include "txn.h"

/* The workers' stop flag, read on every poll, has a cache line of its own. */
_Static_assert(offsetof(struct txg_app, stop_workers) % RTE_CACHE_LINE_SIZE == 0 &&
		       offsetof(struct txg_app, start_ms) - offsetof(struct txg_app, stop_workers) >= RTE_CACHE_LINE_SIZE,
	       "app: the workers' stop flag shares a cache line with main's bookkeeping");

static volatile sig_atomic_t got_signal;

/* Metrics: a scrape may read port stats while main closes the ports. */
static pthread_mutex_t metrics_port_lock = PTHREAD_MUTEX_INITIALIZER;
static int metrics_ports_open;

static void ring_metric(struct txg_metrics_snap *s, const char *name, const struct rte_ring *r)
{
	if (!r || s->n_rings >= TXG_METRICS_MAX_RINGS)
		return;
	struct txg_metrics_ring *m = &s->rings[s->n_rings++];
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->used = rte_ring_count(r);
	m->size = rte_ring_get_capacity(r);
}

/* The scrape's snapshot, on the metrics thread: reads only. */
static void metrics_fill(struct txg_metrics_snap *s, void *arg)
{
	const struct txg_app *a = arg;
	txg_app_totals(a, &s->t);
	s->uptime_ms = txg_now_ms() - a->start_ms;
	s->workers = a->n_workers;
	if (a->txn_pool) {
		s->txn_pool_size = a->txn_pool->size;
		s->txn_pool_used = rte_mempool_in_use_count(a->txn_pool);
	}
	if (a->mbuf_pool) {
		s->mbuf_pool_size = a->mbuf_pool->size;
		s->mbuf_pool_used = rte_mempool_in_use_count(a->mbuf_pool);
	}
	for (unsigned i = 0; i < a->n_workers; i++) {
		char name[32];
		snprintf(name, sizeof(name), "worker%u", i);
		ring_metric(s, name, a->workers[i].ring);
		txg_hist_add(&s->hist[TXG_H_DECIDE], &a->workers[i].hist_decide);
		txg_hist_add(&s->hist[TXG_H_VERIFY], &a->workers[i].hist_verify);
	}
	if (a->orderer) {
		ring_metric(s, "to_commit", a->orderer->to_commit);
		ring_metric(s, "free_blocks", a->orderer->free_blocks);
		txg_hist_add(&s->hist[TXG_H_SEAL], &a->orderer->hist_sealed);
	}
	txg_hist_add(&s->hist[TXG_H_DURABLE], &a->committer.hist_durable);
	txg_hist_add(&s->hist[TXG_H_COMMIT], &a->committer.hist_commit);
	pthread_mutex_lock(&metrics_port_lock);
	for (unsigned i = 0; metrics_ports_open && i < a->n_ports_started && s->n_ports < TXG_METRICS_MAX_PORTS; i++) {
		struct rte_eth_stats es;
		if (rte_eth_stats_get(a->port_ids[i], &es) != 0)
			continue;
		s->ports[s->n_ports++] = (struct txg_metrics_port){
			.port_id = a->port_ids[i], .ipackets = es.ipackets, .ibytes = es.ibytes, .imissed = es.imissed,
			.ierrors = es.ierrors, .rx_nombuf = es.rx_nombuf, .opackets = es.opackets, .obytes = es.obytes,
			.oerrors = es.oerrors};
	}
	pthread_mutex_unlock(&metrics_port_lock);
}

static void say(const char *s) { (void)!write(STDERR_FILENO, s, strlen(s)); }

/* First SIGINT/SIGTERM/SIGHUP: drain. Second: stop now. Only
 * async-signal-safe calls here. */
static void on_signal(int sig)
{
	if (got_signal) {
		say("txgate: second signal: stopping at once without draining; every committed block is durable "
		    "and the ledger verifies; what was in flight is not committed\n");
		_exit(4);
	}
	got_signal = sig;
}

static void on_drain_timeout(int sig)
{
	(void)sig;
	say("txgate: drain timed out (--drain-timeout-ms): stopping at once; every committed block is durable "
	    "and the ledger verifies; what was in flight is not committed\n");
	_exit(4);
}

static void install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = on_drain_timeout;
	sigaction(SIGALRM, &sa, NULL);
}

/* Before main() and before DPDK's own constructors: a signal from the
 * first instruction of ours on is a clean stop, not death. */
__attribute__((constructor(101))) static void early_signals(void) { install_signals(); }

/* Arm the drain watchdog (0 = none). */
static void arm_drain_timeout(unsigned ms)
{
	struct itimerval it = {.it_value = {ms / 1000, (long)(ms % 1000) * 1000}};
	if (ms)
		setitimer(ITIMER_REAL, &it, NULL);
}

struct opts {
	const char *config;
	int exit_on_drain;
	unsigned drain_ms;
	unsigned drain_timeout_ms;
	unsigned status_ms;
	int extra_argc;
	char **extra_argv;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: txgate -c CONFIG [--exit-on-drain] [--drain-ms MS] [--drain-timeout-ms MS] [--status-ms MS]\n"
		   "              [-- EAL-ARGS...]\n"
		   "  -c, --config FILE   the INI configuration (see docs/config.md)\n"
		   "  --exit-on-drain     stop (drain, commit, exit) once no packet has arrived for --drain-ms\n"
		   "                      (for pcap replays and tests)\n"
		   "  --drain-ms MS       quiet time that counts as drained (default 500)\n"
		   "  --drain-timeout-ms MS  longest a stop may take to drain and commit before txgate exits\n"
		   "                      at once with status 4 (default 60000, 0 = no limit)\n"
		   "  --status-ms MS      status line period, 0 for none (default 1000)\n"
		   "  -- EAL-ARGS         appended to [eal] args (e.g. a --vdev for a test's own pcap)\n");
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{"config", required_argument, NULL, 'c'},  {"exit-on-drain", no_argument, NULL, 'e'},
		{"drain-ms", required_argument, NULL, 'd'}, {"status-ms", required_argument, NULL, 's'},
		{"drain-timeout-ms", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},	   {NULL, 0, NULL, 0},
	};
	memset(o, 0, sizeof(*o));
	o->drain_ms = 500;
	o->drain_timeout_ms = 60000;
	o->status_ms = 1000;
	int ch;
	while ((ch = getopt_long(argc, argv, "+c:h", lo, NULL)) != -1) {
		char *end;
		switch (ch) {
		case 'c':
			o->config = optarg;
			break;
		case 'e':
			o->exit_on_drain = 1;
			break;
		case 'd':
		case 't':
		case 's': {
			errno = 0;
			unsigned long v = strtoul(optarg, &end, 10);
			const char *name = ch == 'd' ? "drain-ms" : ch == 't' ? "drain-timeout-ms" : "status-ms";
			if (errno || *end || end == optarg || v > 3600000) {
				fprintf(stderr, "txgate: bad value '%s' for --%s\n", optarg, name);
				return -1;
			}
			*(ch == 'd' ? &o->drain_ms : ch == 't' ? &o->drain_timeout_ms : &o->status_ms) = (unsigned)v;
			break;
		}
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (!o->config) {
		fprintf(stderr, "txgate: -c CONFIG is required\n");
		usage(stderr);
		return -1;
	}
	o->extra_argc = argc - optind;
	o->extra_argv = argv + optind;
	return 0;
}

static int check_lcores(struct txg_app *a, char *err, size_t errlen)
{
	const struct txg_config *c = &a->cfg;
	unsigned main_lc = rte_get_main_lcore();
	for (unsigned i = 0; i < c->n_workers; i++) {
		unsigned lc = c->workers[i].lcore;
		if (lc >= RTE_MAX_LCORE || !rte_lcore_is_enabled(lc) || lc == main_lc) {
			snprintf(err, errlen, "%s: [%s] lcore: lcore %u is not an enabled worker lcore of EAL (see -l/--lcores in [eal] args; the main lcore is %u)",
				 c->path, c->workers[i].name, lc, main_lc);
			return -1;
		}
	}
	if (c->orderer_lcore != UINT_MAX) {
		unsigned lc = c->orderer_lcore;
		if (lc >= RTE_MAX_LCORE || !rte_lcore_is_enabled(lc) || lc == main_lc) {
			snprintf(err, errlen, "%s: [dataplane] orderer_lcore: lcore %u is not an enabled worker lcore of EAL (the main lcore is %u)",
				 c->path, lc, main_lc);
			return -1;
		}
		a->orderer_lcore = lc;
		return 0;
	}
	unsigned lc;
	RTE_LCORE_FOREACH_WORKER(lc)
	{
		int used = 0;
		for (unsigned i = 0; i < c->n_workers; i++)
			used |= c->workers[i].lcore == lc;
		if (!used) {
			a->orderer_lcore = lc;
			return 0;
		}
	}
	snprintf(err, errlen, "%s: [dataplane] orderer_lcore: no enabled lcore is left for the orderer (add one to -l/--lcores)",
		 c->path);
	return -1;
}

/* The members file, read and checked before EAL starts (bad input fails
 * before anything touches a NIC); the table is built after. */
static struct txg_member_entry *member_ents;
static size_t n_member_ents;

static int load_members(struct txg_app *a, char *err, size_t errlen)
{
	struct txg_member_entry *ents = member_ents;
	size_t n = n_member_ents;
	member_ents = NULL;
	uint32_t cap = (uint32_t)(n * 2 + 1024);
	if (a->cfg.verifier == TXG_VERIFIER_FAST) {
		a->ed = txg_ed_ctx_new2(a->cfg.verifier_max_keys, a->cfg.verifier_table_bits);
		if (!a->ed) {
			snprintf(err, errlen, "verifier: out of memory");
			free(ents);
			return -1;
		}
		fprintf(stderr, "txgate: verifier: fast, %s backend, tables of width %u (%zu bytes per key, up to %u keys)\n",
			txg_ed_backend_name(), a->cfg.verifier_table_bits, txg_ed_table_bytes(a->cfg.verifier_table_bits),
			a->cfg.verifier_max_keys);
	}
	a->members = txg_members_new(cap, a->qsbr, a->ed);
	if (!a->members) {
		snprintf(err, errlen, "members: cannot create the member table");
		free(ents);
		return -1;
	}
	txg_members_set_workers(a->members, a->cfg.n_workers);
	/* The default quota: the config's, unless one was set at run time
	 * (txgatectl quota default), kept beside the members file. */
	uint32_t qr = a->cfg.quota_rate, qb = a->cfg.quota_burst;
	int qfound = 0;
	if (txg_quota_default_load(a->cfg.members_file, &qr, &qb, &qfound, err, errlen) != 0) {
		free(ents);
		return -1;
	}
	if (qfound)
		fprintf(stderr, "txgate: default quota %u/s burst %u (set at run time, from %s.default-quota)\n", qr,
			qr ? qb : 0, a->cfg.members_file);
	txg_members_set_default_quota(a->members, qr, qb);
	for (size_t i = 0; i < n; i++) {
		char e[256];
		if (txg_members_add_q(a->members, ents[i].name, ents[i].pk, ents[i].has_quota, ents[i].rate,
				      ents[i].burst, e, sizeof(e)) != 0) {
			snprintf(err, errlen, "%s:%u: %s", a->cfg.members_file, ents[i].line, e);
			free(ents);
			return -1;
		}
	}
	free(ents);
	return 0;
}

/* Open the ledger for writing (after the probe read it), check its disk
 * space and that it is what the probe saw, fill the dedupe window, and
 * give its head in *headp. 0, or -1 with err. */
static int setup_ledger(struct txg_app *a, const struct txg_store_opts *so, const struct txg_probe *probe,
			uint64_t now, struct txg_store_head *headp, char *err, size_t errlen)
{
	const struct txg_config *c = &a->cfg;
	if (txg_store_open(&a->store, so, err, errlen) != 0)
		return -1;
	/* Refuse now rather than replay and fail at the first commit. */
	char msg[512];
	int space = txg_store_space_check(a->store, (uint64_t)c->min_free_mb << 20, msg, sizeof msg);
	if (space == 1) {
		snprintf(err, errlen, "%s ([ledger] min_free_mb = %u)", msg, c->min_free_mb);
		return -1;
	}
	if (space < 0)
		fprintf(stderr, "txgate: warning: cannot tell the free space on the ledger's filesystem\n");
	struct txg_store_head head;
	if (txg_store_head(a->store, &head) != 0) {
		snprintf(err, errlen, "ledger %s: cannot read its head", c->ledger_path);
		return -1;
	}
	if (probe->exists && (head.height != probe->head.height || memcmp(head.hash, probe->head.hash, 32) != 0)) {
		snprintf(err, errlen, "ledger %s: changed while txgate started (another writer?)", c->ledger_path);
		return -1;
	}
	uint64_t ttl = c->max_ttl_ms > txg_store_max_ttl(a->store) ? c->max_ttl_ms : txg_store_max_ttl(a->store);
	a->dedupe = txg_dedupe_new("txg_dedupe", c->dedupe_capacity, ttl, a->qsbr, now);
	if (!a->dedupe) {
		snprintf(err, errlen, "cannot create the dedupe window of %u ids (raise -m, or lower [dataplane] dedupe_capacity)",
			 c->dedupe_capacity);
		return -1;
	}
	uint64_t restored = 0;
	if (txg_restore_apply(a->dedupe, probe, &restored, err, errlen) != 0)
		return -1;
	fprintf(stderr, "txgate: ledger %s: chain %" PRIu32 ", height %" PRIu64 ", %" PRIu64 " recent ids restored\n",
		c->ledger_path, c->chain_id, head.height, restored);
	*headp = head;
	return 0;
}

/* Whether config port i's traffic signals and obeys load, and its answers
 * are bounded per destination (docs/flood.md): [portN] load, where auto
 * means a live port (not a net_pcap, net_null or net_ring replay, which its
 * worker paces itself, never loses a packet, and reaches no one). */
static void load_on(struct txg_app *a, unsigned i)
{
	const struct txg_config *c = &a->cfg;
	uint16_t port = a->port_ids[i];
	int on = c->ports[i].load == TXG_PORT_LOAD_ON;
	const char *why = on ? "on" : "off";
	if (c->ports[i].load == TXG_PORT_LOAD_AUTO) {
		on = txg_port_is_live(port);
		why = on ? "on (auto: a live port)" : "off (auto: a replay, paced by its worker)";
	}
	for (unsigned w = 0; w < a->n_workers; w++)
		txg_worker_port_load(&a->workers[w], port, on);
	if (c->load != TXG_LOAD_OFF)
		fprintf(stderr, "txgate: [%s] load signal %s\n", c->ports[i].name, why);
}

/* Neighbour and echo answers on config port i (started with ntxq TX
 * queues): every worker with a TX queue of its own answers there, and main
 * announces the addresses on the last queue. A port that reaches a network
 * without any [net] address is unreachable: say so. */
static void answer_on(struct txg_app *a, unsigned i, uint16_t ntxq)
{
	const struct txg_config *c = &a->cfg;
	uint16_t port = a->port_ids[i];
	struct rte_ether_addr mac;
	if (rte_eth_macaddr_get(port, &mac) != 0)
		memset(&mac, 0, sizeof(mac));
	int live = txg_port_is_live(port);
	if (live && c->n_ipv4 == 0 && c->n_ipv6 == 0)
		fprintf(stderr, "txgate: warning: %s: [%s] is a live port but [net] lists no ipv4 or ipv6 address: "
				"ARP and Neighbour Discovery are not answered, so no client can reach it\n",
			c->path, c->ports[i].name);
	for (unsigned w = 0; w < a->n_workers; w++) {
		struct txg_worker_params wp;
		txg_params_worker(c, w, a->port_ids, &wp);
		a->workers[w].tx_pool = a->mbuf_pool;
		if (w < ntxq)
			txg_worker_answer_on(&a->workers[w], &wp, port, mac.addr_bytes, (uint16_t)w, rte_get_tsc_cycles());
	}
	memcpy(a->port_mac[port], mac.addr_bytes, 6);
	if (ntxq > a->n_workers + 1u)
		a->orderer_txq[port] = (uint16_t)(a->n_workers + 1);
	if (ntxq > a->n_workers)
		a->committer_txq[port] = (uint16_t)a->n_workers;
	else if (c->n_ipv4 || c->n_ipv6)
		fprintf(stderr, "txgate: [%s]: no TX queue left for committed receipts (%u queues for %u workers; "
				"with net_tap, give the port one more RX queue and poll it)\n",
			c->ports[i].name, ntxq, a->n_workers);
	if (live && ntxq > a->n_workers && a->n_workers > 0) {
		struct txg_neigh_cfg nc;
		txg_neigh_cfg_init(&nc, &a->workers[0].filter, mac.addr_bytes);
		txg_port_announce(port, a->n_workers, &nc, a->mbuf_pool, &a->announced[0], &a->announced[1]);
	}
	if (ntxq < a->n_workers && (c->n_ipv4 || c->n_ipv6))
		fprintf(stderr, "txgate: [%s]: %u TX queues for %u workers: workers %u.. do not answer ARP/ND/echo there\n",
			c->ports[i].name, ntxq, a->n_workers, ntxq);
}

static int setup(struct txg_app *a, char *err, size_t errlen)
{
	struct txg_config *c = &a->cfg;
	if (check_lcores(a, err, errlen) != 0)
		return -1;
	for (unsigned i = 0; i < c->n_ports; i++)
		if (txg_port_find(c->path, &c->ports[i], &a->port_ids[i], err, errlen) != 0)
			return -1;

	a->mbuf_pool = rte_pktmbuf_pool_create("txg_mbufs", c->mbuf_pool, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					       (int)rte_socket_id());
	if (!a->mbuf_pool) {
		snprintf(err, errlen, "cannot create %u mbufs: %s (raise -m, or lower [dataplane] mbuf_pool)",
			 c->mbuf_pool, rte_strerror(rte_errno));
		return -1;
	}
	a->txn_pool = rte_mempool_create("txg_txns", c->txn_pool, sizeof(struct txg_txn), 256, 0, NULL, NULL, NULL,
					 NULL, (int)rte_socket_id(), 0);
	if (!a->txn_pool) {
		snprintf(err, errlen, "cannot create %u transaction slots of %zu bytes: %s (raise -m, or lower [dataplane] txn_pool)",
			 c->txn_pool, sizeof(struct txg_txn), rte_strerror(rte_errno));
		return -1;
	}
	/* RCU readers: the workers (ids 0..n-1) and the committer (id n). */
	size_t qsz = rte_rcu_qsbr_get_memsize(c->n_workers + 1);
	a->qsbr = rte_zmalloc("txg_qsbr", qsz, RTE_CACHE_LINE_SIZE);
	if (!a->qsbr || rte_rcu_qsbr_init(a->qsbr, c->n_workers + 1) != 0) {
		snprintf(err, errlen, "cannot set up RCU for %u workers", c->n_workers);
		return -1;
	}
	if (load_members(a, err, errlen) != 0)
		return -1;

	struct txg_store_opts so;
	txg_params_store(c, &so);
	/* Read the ledger first in a contained child process (its head and the
	 * unexpired ids for the dedupe window): a damaged file is reported with
	 * where, never a crash of txgate. */
	uint64_t now = txg_now_ms();
	struct txg_probe probe;
	if (txg_ledger_probe(c->ledger_path, c->max_ttl_ms, now, c->dedupe_capacity, &probe, err, errlen) != 0)
		return -1;
	struct txg_store_head head;
	int rc = setup_ledger(a, &so, &probe, now, &head, err, errlen);
	txg_probe_free(&probe);
	if (rc != 0)
		return -1;

	a->n_workers = c->n_workers;
	a->workers = rte_zmalloc("txg_workers", sizeof(*a->workers) * a->n_workers, RTE_CACHE_LINE_SIZE);
	a->orderer = rte_zmalloc("txg_orderer", sizeof(*a->orderer), RTE_CACHE_LINE_SIZE);
	if (!a->workers || !a->orderer) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	struct txg_orderer_params op;
	txg_params_orderer(c, &op);
	if (txg_orderer_init(a->orderer, &op, &head, err, errlen) != 0)
		return -1;
	a->orderer->txn_pool = a->txn_pool;
	a->orderer->dedupe = a->dedupe;
	a->orderer->stop = &a->stop_orderer;
	for (unsigned i = 0; i < a->n_workers; i++) {
		struct txg_worker *w = &a->workers[i];
		struct txg_worker_params wp;
		txg_params_worker(c, i, a->port_ids, &wp);
		if (txg_worker_init(w, &wp, i, err, errlen) != 0)
			return -1;
		w->paused = txg_ctl_paused_flag(); /* control plane: ingress pause */
		char name[32];
		snprintf(name, sizeof(name), "txg_w%u", i);
		w->ring = rte_ring_create(name, c->ring_size, (int)rte_lcore_to_socket_id(w->lcore),
					  RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (!w->ring) {
			snprintf(err, errlen, "cannot create ring %s: %s", name, rte_strerror(rte_errno));
			return -1;
		}
		w->txn_pool = a->txn_pool;
		w->members = a->members;
		w->dedupe = a->dedupe;
		w->qsbr = a->qsbr;
		w->stop = &a->stop_workers;
		a->orderer->in[i] = w->ring;
	}
	a->orderer->n_in = a->n_workers;
	/* Replies: receipts carry cookies; the committer's tables first. */
	txg_cookie_init(&a->cookies, txg_now_ms());
	a->committer.port_mac = a->port_mac;
	a->committer.port_txq = a->committer_txq;
	for (unsigned i = 0; i < RTE_MAX_ETHPORTS; i++)
		a->committer_txq[i] = a->orderer_txq[i] = UINT16_MAX;
	a->orderer_outbox = rte_zmalloc("txg_ord_outbox", sizeof(*a->orderer_outbox), RTE_CACHE_LINE_SIZE);
	if (!a->orderer_outbox) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	txg_outbox_init(a->orderer_outbox, a->mbuf_pool, &a->cookies, (const uint8_t(*)[6])a->port_mac, a->orderer_txq);
	a->orderer->outbox = a->orderer_outbox;
	txg_committer_set_replies(&a->committer, a->mbuf_pool, &a->cookies);
	for (unsigned w = 0; w < a->n_workers; w++)
		txg_worker_set_replies(&a->workers[w], a->mbuf_pool, &a->cookies);
	for (unsigned i = 0; i < c->n_ports; i++) {
		uint16_t ntxq = 0;
		/* A TX queue per worker (its answers), one for main and the
		 * committer (announcements at start, then committed receipts) and
		 * one for the orderer (receipts of its refusals). */
		if (txg_port_start(a->port_ids[i], &c->ports[i], a->mbuf_pool, (uint16_t)(a->n_workers + 2), &ntxq, err,
				   errlen) != 0)
			return -1;
		a->n_ports_started = i + 1;
		answer_on(a, i, ntxq);
		load_on(a, i);
	}
	struct txg_committer_params cp;
	txg_params_committer(c, &cp);
	if (txg_committer_start(&a->committer, &cp, a->store, a->orderer, a->txn_pool, a->dedupe, a->qsbr, a->n_workers,
				err, errlen) != 0)
		return -1;
	return 0;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* Runs on the main lcore until a signal, a drained input or a failure. */
static void supervise(struct txg_app *a, const struct opts *o)
{
	struct txg_totals prev, now;
	txg_app_totals(a, &prev);
	uint64_t last_status = txg_now_ms(), last_rx_change = last_status;
	uint64_t last_rx = 0;
	/* Control plane: a `drain` request stops like SIGTERM. */
	while (!got_signal && !txg_ctl_drain_requested()) {
		sleep_ms(TXG_CLOCK_TICK_MS);
		int64_t step_ms = txg_clock_tick();
		txg_cookie_rotate(&a->cookies, txg_now_ms());
		if (step_ms)
			fprintf(stderr, "txgate: wall clock stepped %+" PRId64 " ms%s\n", step_ms,
				step_ms < 0 ? "; txgate time holds until the wall clock catches up" : "");
		uint64_t t = txg_now_ms();
		txg_app_totals(a, &now);
		if (__atomic_load_n(&a->committer.failed, __ATOMIC_ACQUIRE))
			return;
		if (now.rx_packets != last_rx) {
			if (last_rx == 0)
				a->first_rx_ms = t;
			last_rx = now.rx_packets;
			last_rx_change = t;
		}
		if (now.status[TXG_ST_COMMITTED] != a->last_committed) {
			a->last_committed = now.status[TXG_ST_COMMITTED];
			a->last_commit_ms = t;
		}
		if (o->status_ms && t - last_status >= o->status_ms) {
			txg_app_status_line(&now, &prev, t - last_status);
			prev = now;
			last_status = t;
		}
		if (o->exit_on_drain && t - last_rx_change >= o->drain_ms) {
			fprintf(stderr, "txgate: input drained (no packet for %u ms)\n", o->drain_ms);
			return;
		}
	}
	if (got_signal)
		fprintf(stderr, "txgate: %s: draining\n", strsignal(got_signal));
	else /* control plane */
		fprintf(stderr, "txgate: drain requested on the control socket: draining\n");
}

/* The files a --vdev reads (rx_pcap=, rx_iface is not a file) must exist:
 * otherwise DPDK's probe fails and the port just looks absent. 0, or -1
 * with err naming the argument, the file and the reason. */
static int check_vdev_files(int argc, char **argv, const char *cfg_path, char *err, size_t errlen)
{
	for (int i = 1; i < argc; i++) {
		const char *v = argv[i];
		if (!strncmp(v, "--vdev=", 7))
			v += 7;
		else if (!strcmp(v, "--vdev") && i + 1 < argc)
			v = argv[++i];
		else
			continue;
		for (const char *p = strchr(v, ','); p; p = strchr(p + 1, ',')) {
			if (strncmp(p + 1, "rx_pcap=", 8) != 0)
				continue;
			char path[TXG_PATH_MAX];
			size_t n = strcspn(p + 9, ",");
			if (n >= sizeof(path))
				n = sizeof(path) - 1;
			memcpy(path, p + 9, n);
			path[n] = 0;
			if (access(path, R_OK) != 0) {
				int e = errno;
				int vn = (int)strcspn(v, ",");
				if (vn > 64)
					vn = 64;
				if (snprintf(err, errlen, "%.512s: [eal] args: --vdev %.*s: rx_pcap file %.512s: %s", cfg_path,
					     vn, v, path, strerror(e)) < 0)
					err[0] = 0;
				return -1;
			}
		}
	}
	return 0;
}

/* Runs from the first packet to the last commit (0 when nothing committed). */
static uint64_t active_ms(const struct txg_app *a)
{
	return a->first_rx_ms && a->last_commit_ms > a->first_rx_ms ? a->last_commit_ms - a->first_rx_ms : 0;
}

/* Stop RX, let the orderer drain and seal, let the committer finish. */
static int shutdown_pipeline(struct txg_app *a)
{
	__atomic_store_n(&a->stop_workers, 1, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < a->n_workers; i++)
		rte_eal_wait_lcore(a->workers[i].lcore);
	__atomic_store_n(&a->stop_orderer, 1, __ATOMIC_RELEASE);
	rte_eal_wait_lcore(a->orderer_lcore);
	return txg_committer_stop(&a->committer);
}

int main(int argc, char **argv)
{
	struct opts o;
	if (parse_opts(argc, argv, &o) != 0)
		return 2;
	static struct txg_app app;
	struct txg_app *a = &app;
	char err[1024];
	if (txg_config_load(o.config, &a->cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "txgate: %s\n", err);
		return 1;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "txgate: libsodium failed to initialise\n");
		return 1;
	}
	if (txg_members_file_load(a->cfg.members_file, &member_ents, &n_member_ents, err, sizeof(err)) != 0) {
		fprintf(stderr, "txgate: %s\n", err);
		return 1;
	}
	const char *test_stall = getenv("TXGATE_TEST_COMMIT_STALL_MS");
	if (test_stall && *test_stall) {
		txg_committer_test_stall_ms = (uint32_t)strtoul(test_stall, NULL, 10);
		fprintf(stderr, "txgate: TEST HOOK: the first commit is held %u ms (TXGATE_TEST_COMMIT_STALL_MS)\n",
			txg_committer_test_stall_ms);
	}
	char *eal_argv[1 + TXG_MAX_EAL_ARGS + 64];
	int eal_argc = 0;
	eal_argv[eal_argc++] = argv[0];
	for (int i = 0; i < a->cfg.eal_argc; i++)
		eal_argv[eal_argc++] = a->cfg.eal_argv[i];
	for (int i = 0; i < o.extra_argc && eal_argc < (int)RTE_DIM(eal_argv) - 1; i++)
		eal_argv[eal_argc++] = o.extra_argv[i];
	eal_argv[eal_argc] = NULL;
	if (check_vdev_files(eal_argc, eal_argv, a->cfg.path, err, sizeof(err)) != 0) {
		fprintf(stderr, "txgate: %s\n", err);
		return 1;
	}
	if (got_signal) {
		fprintf(stderr, "txgate: %s during start-up: stopped before touching any port\n", strsignal(got_signal));
		return 0;
	}
	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		fprintf(stderr, "txgate: EAL initialisation failed: %s (arguments from %s [eal] args)\n",
			rte_strerror(rte_errno), a->cfg.path);
		return 1;
	}
	txg_clock_init();
	a->start_ms = txg_now_ms();
	int setup_rc = got_signal ? 0 : setup(a, err, sizeof(err));
	if (setup_rc != 0 || got_signal) {
		if (setup_rc != 0)
			fprintf(stderr, "txgate: %s\n", err);
		else
			fprintf(stderr, "txgate: %s during start-up: stopped before receiving\n", strsignal(got_signal));
		txg_committer_stop(&a->committer);
		for (unsigned i = 0; i < a->n_ports_started; i++)
			txg_port_stop(a->port_ids[i]);
		if (a->store)
			txg_store_close(a->store);
		rte_eal_cleanup();
		return setup_rc != 0 ? 1 : 0;
	}
	txg_app_telemetry(a);
	/* Prometheus metrics on their own thread (docs/metrics.md). */
	metrics_ports_open = 1;
	err[0] = 0;
	struct txg_metrics *metrics = txg_metrics_start(a->cfg.metrics_listen, metrics_fill, a, err, sizeof(err));
	/* A listen address set in the config must be served; the default may be taken. */
	int metrics_fatal = !metrics && err[0] && a->cfg.metrics_listen_set;
	if (metrics)
		fprintf(stderr, "txgate: metrics on port %u (GET /metrics)\n", (unsigned)txg_metrics_port(metrics));
	else if (err[0] && !metrics_fatal)
		fprintf(stderr, "txgate: warning: %s: no Prometheus metrics\n", err);
	/* Control plane: the control socket's thread (docs/control.md). */
	if (metrics_fatal || txg_ctl_start(a, err, sizeof(err)) != 0) {
		if (metrics_fatal)
			fprintf(stderr, "txgate: %s: %s [metrics] listen\n", err, a->cfg.path);
		else
			fprintf(stderr, "txgate: %s\n", err);
		txg_metrics_stop(metrics);
		txg_committer_stop(&a->committer);
		for (unsigned i = 0; i < a->n_ports_started; i++)
			txg_port_stop(a->port_ids[i]);
		txg_store_close(a->store);
		rte_eal_cleanup();
		return 1;
	}
	rte_eal_remote_launch(txg_orderer_main, a->orderer, a->orderer_lcore);
	for (unsigned i = 0; i < a->n_workers; i++)
		rte_eal_remote_launch(txg_worker_main, &a->workers[i], a->workers[i].lcore);
	fprintf(stderr, "txgate: running: %u worker(s), orderer on lcore %u, %u member(s)\n", a->n_workers,
		a->orderer_lcore, txg_members_count(a->members));
	/* Under systemd (Type=notify): ready once ports are up and the ledger is open. */
	sd_notifyf(0, "READY=1\nSTATUS=running: %u worker(s), ledger height %" PRIu64 "\nMAINPID=%lu", a->n_workers,
		   a->committer.stats.height, (unsigned long)getpid());

	supervise(a, &o);
	sd_notify(0, "STOPPING=1\nSTATUS=draining");
	txg_ctl_draining(); /* control plane: status says draining, changes refused */
	arm_drain_timeout(o.drain_timeout_ms);
	int failed = __atomic_load_n(&a->committer.failed, __ATOMIC_ACQUIRE);
	if (failed)
		fprintf(stderr, "txgate: stopping: ledger commit failed: %s\n", a->committer.err);
	/* After a failed commit the committer keeps handing buffers back, so
	 * the drain below always ends; nothing more is committed. */
	int rc = shutdown_pipeline(a);
	pthread_mutex_lock(&metrics_port_lock);
	metrics_ports_open = 0;
	pthread_mutex_unlock(&metrics_port_lock);
	for (unsigned i = 0; i < a->n_ports_started; i++)
		txg_port_stop(a->port_ids[i]);
	struct txg_totals t;
	txg_app_totals(a, &t);
	if (t.status[TXG_ST_COMMITTED] != a->last_committed) /* the drain committed more */
		a->last_commit_ms = txg_now_ms();
	txg_app_summary(&t, txg_now_ms() - a->start_ms, active_ms(a));
	txg_ctl_stop(rc); /* control plane: answer `drain` requests, close the socket */
	txg_metrics_stop(metrics);
	if (rc != 0) {
		fprintf(stderr, "txgate: ledger commit failed: %s\n", a->committer.err);
		_exit(3);
	}
	arm_drain_timeout(0);
	for (unsigned i = 0; i < a->n_workers; i++) {
		txg_worker_fini(&a->workers[i]);
		rte_ring_free(a->workers[i].ring);
	}
	txg_orderer_fini(a->orderer);
	txg_store_close(a->store);
	txg_dedupe_delete(a->dedupe);
	txg_members_delete(a->members);
	if (a->ed)
		txg_ed_ctx_delete(a->ed);
	rte_mempool_free(a->txn_pool);
	rte_free(a->qsbr);
	txg_config_free(&a->cfg);
	rte_eal_cleanup();
	return 0;
}
