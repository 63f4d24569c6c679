/* Unit tests of the config loader (config.c). argv[1]: the source root,
 * to load the shipped configs/. */
#include <CUnit/Basic.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

static const char *root = ".";
static char dir[64];
static char cpath[256];
static char err[1024];
static struct txg_config cfg;

#define CHAIN "[chain]\nchain_id = 7\nmembers_file = m.txt\n"
#define LEDGER "[ledger]\npath = l\n"
#define PORT0 "[port0]\ndevice = net_null0\n"
#define WORKER0 "[worker0]\nlcore = 1\nrx = port0:0\n"
#define BASE CHAIN LEDGER PORT0 WORKER0

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	CU_ASSERT_FATAL(f != NULL);
	fputs(text, f);
	fclose(f);
}

static int load_text(const char *text)
{
	write_file(cpath, text);
	txg_config_free(&cfg);
	err[0] = '\0';
	return txg_config_load(cpath, &cfg, err, sizeof(err));
}

/* Expect failure with exactly "CPATH: " + want. */
static void expect(const char *text, const char *want)
{
	char full[1200];
	snprintf(full, sizeof(full), "%s: %s", cpath, want);
	CU_ASSERT_EQUAL(load_text(text), -1);
	if (strcmp(err, full) != 0) {
		printf("\n  got  '%s'\n  want '%s'\n", err, full);
		CU_FAIL("error message");
	}
	CU_ASSERT_EQUAL(cfg.eal_argc, 0);
}

static void test_shipped_vdev(void)
{
	char path[600], want[700];
	snprintf(path, sizeof(path), "%s/configs/txgate-vdev.ini", root);
	int rc = txg_config_load(path, &cfg, err, sizeof(err));
	if (rc)
		printf("\n  %s\n", err);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_STRING_EQUAL(cfg.path, path);
	CU_ASSERT_EQUAL(cfg.eal_argc, 8);
	CU_ASSERT_STRING_EQUAL(cfg.eal_argv[0], "--no-huge");
	CU_ASSERT_STRING_EQUAL(cfg.eal_argv[2], "1024");
	CU_ASSERT_STRING_EQUAL(cfg.eal_argv[6], "0@0,1@1,2@0");
	CU_ASSERT_STRING_EQUAL(cfg.eal_argv[7], "--vdev=net_pcap0,rx_pcap=out/traffic.pcap,tx_pcap=out/tx0.pcap,tx_pcap=out/tx1.pcap,tx_pcap=out/tx2.pcap");
	CU_ASSERT_EQUAL(cfg.chain_id, 0x4e414843u);
	CU_ASSERT_EQUAL(cfg.chain_id, 1312901187u);
	snprintf(want, sizeof(want), "%s/configs/../out/keys/members.txt", root);
	CU_ASSERT_STRING_EQUAL(cfg.members_file, want);
	snprintf(want, sizeof(want), "%s/configs/../out/ledger", root);
	CU_ASSERT_STRING_EQUAL(cfg.ledger_path, want);
	CU_ASSERT_EQUAL(cfg.udp_port, 7400);
	CU_ASSERT_EQUAL(cfg.n_ipv4, 1);
	CU_ASSERT_EQUAL(memcmp(cfg.ipv4[0], "\xc0\x00\x02\x0a", 4), 0); /* 192.0.2.10 */
	CU_ASSERT_EQUAL(cfg.n_ipv6, 1);
	CU_ASSERT_EQUAL(cfg.ipv6[0][0], 0x20);
	CU_ASSERT_EQUAL(cfg.ipv6[0][15], 0x10);
	CU_ASSERT_EQUAL(cfg.orderer_lcore, 2);
	CU_ASSERT_EQUAL(cfg.n_ports, 1);
	CU_ASSERT_STRING_EQUAL(cfg.ports[0].name, "port0");
	CU_ASSERT_STRING_EQUAL(cfg.ports[0].device, "net_pcap0");
	CU_ASSERT_EQUAL(cfg.ports[0].rx_queues, 1);
	CU_ASSERT_EQUAL(cfg.n_workers, 1);
	CU_ASSERT_EQUAL(cfg.workers[0].lcore, 1);
	CU_ASSERT_EQUAL(cfg.workers[0].n_rxq, 1);
	CU_ASSERT_EQUAL(cfg.workers[0].rxq[0].port, 0);
	CU_ASSERT_EQUAL(cfg.workers[0].rxq[0].queue, 0);
	txg_config_free(&cfg);
	CU_ASSERT_EQUAL(cfg.eal_argc, 0);
}

static void test_shipped_nic(void)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/configs/txgate-nic.ini", root);
	int rc = txg_config_load(path, &cfg, err, sizeof(err));
	if (rc)
		printf("\n  %s\n", err);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL(cfg.n_ipv4, 1);
	CU_ASSERT(memcmp(cfg.ipv4[0], (uint8_t[4]){192, 0, 2, 10}, 4) == 0);
	CU_ASSERT_EQUAL(cfg.n_ipv6, 1);
	CU_ASSERT_EQUAL(cfg.ipv6[0][0], 0x20);
	CU_ASSERT_EQUAL(cfg.ipv6[0][15], 0x10);
	CU_ASSERT_STRING_EQUAL(cfg.members_file, "/etc/txgate/members.txt");
	CU_ASSERT_STRING_EQUAL(cfg.ports[0].device, "0000:01:00.0");
	CU_ASSERT_EQUAL(cfg.ports[0].rx_queues, 4);
	CU_ASSERT_EQUAL(cfg.n_workers, 2);
	CU_ASSERT_EQUAL(cfg.workers[1].lcore, 2);
	CU_ASSERT_EQUAL(cfg.workers[1].n_rxq, 2);
	CU_ASSERT_EQUAL(cfg.workers[1].rxq[1].queue, 3);
	CU_ASSERT_EQUAL(cfg.idle_sleep_us, 0);
	CU_ASSERT_EQUAL(cfg.durability, TXG_DUR_SYNC);
	txg_config_free(&cfg);
}

static void test_defaults(void)
{
	CU_ASSERT_EQUAL_FATAL(load_text(BASE), 0);
	CU_ASSERT_EQUAL(cfg.eal_argc, 0);
	CU_ASSERT_EQUAL(cfg.udp_port, 7400);
	CU_ASSERT_EQUAL(cfg.n_ipv4, 0);
	CU_ASSERT_EQUAL(cfg.n_ipv6, 0);
	CU_ASSERT_EQUAL(cfg.chain_id, 7);
	CU_ASSERT_EQUAL(cfg.max_ttl_ms, 120000);
	CU_ASSERT_EQUAL(cfg.quota_rate, 0);
	CU_ASSERT_EQUAL(cfg.quota_burst, 0);
	CU_ASSERT_EQUAL(cfg.block_max_txs, 1024);
	CU_ASSERT_EQUAL(cfg.block_max_bytes, 1048576);
	CU_ASSERT_EQUAL(cfg.block_max_wait_us, 2000);
	CU_ASSERT_EQUAL(cfg.durability, TXG_DUR_SYNC);
	CU_ASSERT_EQUAL(cfg.map_size_mb, 1024);
	CU_ASSERT_EQUAL(cfg.commit_group_max, 64);
	CU_ASSERT_EQUAL(cfg.dedupe_capacity, 1048576);
	CU_ASSERT_EQUAL(cfg.ring_size, 4096);
	CU_ASSERT_EQUAL(cfg.txn_pool, 65536);
	CU_ASSERT_EQUAL(cfg.mbuf_pool, 8192);
	CU_ASSERT_EQUAL(cfg.burst, 32);
	CU_ASSERT_EQUAL(cfg.idle_spins, 64);
	CU_ASSERT_EQUAL(cfg.idle_sleep_us, 50);
	CU_ASSERT_EQUAL(cfg.orderer_lcore, UINT_MAX);
	CU_ASSERT_EQUAL(cfg.verifier, TXG_VERIFIER_FAST);
	CU_ASSERT_EQUAL(cfg.verifier_max_keys, 4096);
	CU_ASSERT_EQUAL(cfg.ports[0].rx_queues, 1);
	CU_ASSERT_EQUAL(cfg.ports[0].rx_desc, 1024);
	CU_ASSERT_EQUAL(cfg.ports[0].tx_desc, 1024);

	/* txg_config_defaults alone. */
	struct txg_config d;
	memset(&d, 0x5a, sizeof(d));
	txg_config_defaults(&d);
	CU_ASSERT_EQUAL(d.n_ports, 0);
	CU_ASSERT_EQUAL(d.n_workers, 0);
	CU_ASSERT_EQUAL(d.eal_argc, 0);
	CU_ASSERT_EQUAL(d.udp_port, 7400);
	CU_ASSERT_EQUAL(d.orderer_lcore, UINT_MAX);
}

static void test_values(void)
{
	CU_ASSERT_EQUAL_FATAL(load_text("[eal]\nargs = -l 0-3   --no-huge\t-m 512 ; comment\n"
					"[net]\nudp_port = 0x1cE8\nipv4 = 10.0.0.1, 10.0.0.2 10.0.0.3\nipv6 = ::1,fe80::1\n"
					"[chain]\nchain_id = 0xFFFFFFFF\nmembers_file = /abs/m.txt\nmax_ttl_ms = 86400000\n"
					"quota_rate = 10000000\nquota_burst = 7\n"
					"[ledger]\npath = l\ndurability = nosync\nmap_size_mb = 16\ncommit_group_max = 4096\n"
					"[block]\nmax_txs = 65535\nmax_bytes = 1024\nmax_wait_us = 0\n"
					"[dataplane]\nring_size = 1048576\nverifier = sodium\norderer_lcore = 0\n"
					"idle_spins = 4294967295\nverifier_max_keys = 0\n"
					"[port0]\ndevice = a\nrx_queues = 2\n[port1]\ndevice = b\nrx_queues = 16\n"
					"[worker0]\nlcore = 1\nrx = port0:0, port1:15\n"
					"[worker7]\nlcore = 127\nrx = port0:1 port1:0 port1:1 port1:2 port1:3 port1:4 "
					"port1:5 port1:6 port1:7 port1:8 port1:9 port1:10 port1:11 port1:12 port1:13 port1:14\n"),
			      0);
	if (err[0])
		printf("\n  %s\n", err);
	CU_ASSERT_EQUAL(cfg.eal_argc, 5);
	CU_ASSERT_EQUAL(cfg.quota_rate, 10000000);
	CU_ASSERT_EQUAL(cfg.quota_burst, 7);
	CU_ASSERT_STRING_EQUAL(cfg.eal_argv[4], "512");
	CU_ASSERT_EQUAL(cfg.udp_port, 7400);
	CU_ASSERT_EQUAL(cfg.n_ipv4, 3);
	CU_ASSERT_EQUAL(cfg.ipv4[2][3], 3);
	CU_ASSERT_EQUAL(cfg.n_ipv6, 2);
	CU_ASSERT_EQUAL(cfg.ipv6[0][15], 1);
	CU_ASSERT_EQUAL(cfg.ipv6[1][0], 0xfe);
	CU_ASSERT_EQUAL(cfg.chain_id, 0xffffffffu);
	CU_ASSERT_STRING_EQUAL(cfg.members_file, "/abs/m.txt");
	CU_ASSERT_EQUAL(cfg.durability, TXG_DUR_NOSYNC);
	CU_ASSERT_EQUAL(cfg.verifier, TXG_VERIFIER_SODIUM);
	CU_ASSERT_EQUAL(cfg.orderer_lcore, 0);
	CU_ASSERT_EQUAL(cfg.idle_spins, 4294967295u);
	CU_ASSERT_EQUAL(cfg.n_workers, 2);
	CU_ASSERT_EQUAL(cfg.workers[0].rxq[1].port, 1);
	CU_ASSERT_EQUAL(cfg.workers[0].rxq[1].queue, 15);
	CU_ASSERT_EQUAL(cfg.workers[1].n_rxq, 16);
	CU_ASSERT_STRING_EQUAL(cfg.workers[1].name, "worker7");
	txg_config_free(&cfg);
}

static void test_relative_paths(void)
{
	char sub[128], path[256], want[300];
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	mkdir(sub, 0700);
	snprintf(path, sizeof(path), "%s/c.ini", sub);
	write_file(path, "[chain]\nchain_id = 1\nmembers_file = keys/m.txt\n[ledger]\npath = ../db\n" PORT0 WORKER0);
	CU_ASSERT_EQUAL_FATAL(txg_config_load(path, &cfg, err, sizeof(err)), 0);
	snprintf(want, sizeof(want), "%s/keys/m.txt", sub);
	CU_ASSERT_STRING_EQUAL(cfg.members_file, want);
	snprintf(want, sizeof(want), "%s/../db", sub);
	CU_ASSERT_STRING_EQUAL(cfg.ledger_path, want);
	txg_config_free(&cfg);

	/* A config path without a directory: paths stay relative to ".". */
	char cwd[512];
	CU_ASSERT_FATAL(getcwd(cwd, sizeof(cwd)) != NULL);
	CU_ASSERT_FATAL(chdir(sub) == 0);
	CU_ASSERT_EQUAL(txg_config_load("c.ini", &cfg, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(cfg.members_file, "keys/m.txt");
	CU_ASSERT_STRING_EQUAL(cfg.ledger_path, "../db");
	txg_config_free(&cfg);
	CU_ASSERT_FATAL(chdir(cwd) == 0);
	unlink(path);
	rmdir(sub);
}

static void test_unknown(void)
{
	expect(BASE "[nett]\nudp_port = 1\n", "[nett]: unknown section");
	expect(BASE "[net]\nudp = 1\n", "[net] udp: unknown key");
	expect("[eal]\nargv = x\n" BASE, "[eal] argv: unknown key");
	expect(CHAIN LEDGER "[port0]\ndevice = x\nqueues = 2\n" WORKER0, "[port0] queues: unknown key");
	expect(CHAIN LEDGER PORT0 "[worker0]\nlcore = 1\nrx = port0:0\ncpu = 3\n", "[worker0] cpu: unknown key");
	expect(BASE "[net]\nudp_port = 1\nudp_port = 2\n", "[net] udp_port: duplicate key");
	expect(BASE "[block]\nmax_txs = 1\n[block]\nmax_bytes = 2000\n", "[block]: duplicate section");
}

static void test_missing(void)
{
	expect("[chain]\nmembers_file = m\n" LEDGER PORT0 WORKER0, "[chain] chain_id: missing required key");
	expect("[chain]\nchain_id = 1\n" LEDGER PORT0 WORKER0, "[chain] members_file: missing required key");
	expect(CHAIN PORT0 WORKER0, "[ledger] path: missing required key");
	expect(CHAIN LEDGER "[port0]\nrx_queues = 1\n" WORKER0, "[port0] device: missing required key");
	expect(CHAIN LEDGER PORT0 "[worker0]\nrx = port0:0\n", "[worker0] lcore: missing required key");
	expect(CHAIN LEDGER PORT0 "[worker0]\nlcore = 1\n", "[worker0] rx: missing required key");
	expect(CHAIN LEDGER WORKER0, "no [portN] section: at least one port is needed");
	expect(CHAIN LEDGER PORT0, "no [workerN] section: at least one worker is needed");
}

static void test_bad_numbers(void)
{
	expect(BASE "[net]\nudp_port = 0\n", "[net] udp_port: 0 is out of range (1..65535)");
	expect(BASE "[net]\nudp_port = 65536\n", "[net] udp_port: 65536 is out of range (1..65535)");
	expect(BASE "[net]\nudp_port = -1\n", "[net] udp_port: '-1' is not a non-negative integer");
	expect(BASE "[net]\nudp_port = +5\n", "[net] udp_port: '+5' is not a non-negative integer");
	expect(BASE "[net]\nudp_port = 12ab\n", "[net] udp_port: '12ab' is not a non-negative integer");
	expect(BASE "[net]\nudp_port = 0x\n", "[net] udp_port: '0x' is not a non-negative integer");
	expect(BASE "[net]\nudp_port = 1 2\n", "[net] udp_port: '1 2' is not a non-negative integer");
	expect(BASE "[block]\nmax_txs = 99999999999999999999999\n",
	       "[block] max_txs: 99999999999999999999999 is out of range (1..65535)");
	expect(BASE "[block]\nmax_bytes = 1023\n", "[block] max_bytes: 1023 is out of range (1024..1073741824)");
	expect(BASE "[block]\nmax_wait_us = 10000001\n", "[block] max_wait_us: 10000001 is out of range (0..10000000)");
	expect("[chain]\nchain_id = 0x100000000\nmembers_file = m\n" LEDGER PORT0 WORKER0,
	       "[chain] chain_id: 0x100000000 is out of range (0..4294967295)");
	expect("[chain]\nchain_id = 1\nmembers_file = m\nmax_ttl_ms = 0\n" LEDGER PORT0 WORKER0,
	       "[chain] max_ttl_ms: 0 is out of range (1..86400000)");
	expect("[chain]\nchain_id = 1\nmembers_file = m\nquota_rate = 10000001\n" LEDGER PORT0 WORKER0,
	       "[chain] quota_rate: 10000001 is out of range (0..10000000)");
	expect("[chain]\nchain_id = 1\nmembers_file = m\nquota_burst = 1000001\n" LEDGER PORT0 WORKER0,
	       "[chain] quota_burst: 1000001 is out of range (0..1000000)");
	expect("[chain]\nchain_id = 1\nmembers_file = m\nquota_rate = 5\n" LEDGER PORT0 WORKER0,
	       "[chain] quota_burst: must be at least 1 when quota_rate is set");
	expect(CHAIN "[ledger]\npath = l\nmap_size_mb = 15\n" PORT0 WORKER0,
	       "[ledger] map_size_mb: 15 is out of range (16..1048576)");
	expect(CHAIN "[ledger]\npath = l\ncommit_group_max = 4097\n" PORT0 WORKER0,
	       "[ledger] commit_group_max: 4097 is out of range (1..4096)");
	expect(BASE "[dataplane]\nring_size = 1000\n", "[dataplane] ring_size: 1000 is not a power of two");
	expect(BASE "[dataplane]\nring_size = 32\n", "[dataplane] ring_size: 32 is out of range (64..1048576)");
	expect(BASE "[dataplane]\ndedupe_capacity = 1023\n",
	       "[dataplane] dedupe_capacity: 1023 is out of range (1024..268435456)");
	expect(BASE "[dataplane]\ntxn_pool = 255\n", "[dataplane] txn_pool: 255 is out of range (256..16777216)");
	expect(BASE "[dataplane]\nmbuf_pool = 511\n", "[dataplane] mbuf_pool: 511 is out of range (512..4194304)");
	expect(BASE "[dataplane]\nburst = 257\n", "[dataplane] burst: 257 is out of range (1..256)");
	expect(BASE "[dataplane]\nidle_sleep_us = 100001\n",
	       "[dataplane] idle_sleep_us: 100001 is out of range (0..100000)");
	expect(BASE "[dataplane]\norderer_lcore = 128\n", "[dataplane] orderer_lcore: 128 is out of range (0..127)");
	expect(BASE "[dataplane]\nverifier_max_keys = 1048577\n",
	       "[dataplane] verifier_max_keys: 1048577 is out of range (0..1048576)");
	expect(CHAIN LEDGER "[port0]\ndevice = x\nrx_queues = 17\n" WORKER0,
	       "[port0] rx_queues: 17 is out of range (1..16)");
	expect(CHAIN LEDGER "[port0]\ndevice = x\nrx_desc = 8\n" WORKER0,
	       "[port0] rx_desc: 8 is out of range (16..32768)");
	expect(CHAIN LEDGER PORT0 "[worker0]\nlcore = 128\nrx = port0:0\n",
	       "[worker0] lcore: 128 is out of range (0..127)");
}

static void test_bad_values(void)
{
	expect(BASE "[net]\nipv4 = 10.0.0.256\n", "[net] ipv4: '10.0.0.256' is not an IPv4 address");
	expect(BASE "[net]\nipv4 = 10.0.0.1,::1\n", "[net] ipv4: '::1' is not an IPv4 address");
	expect(BASE "[net]\nipv6 = 2001:db8::1 10.0.0.1\n", "[net] ipv6: '10.0.0.1' is not an IPv6 address");
	expect(BASE "[net]\nipv4 = ,\n", "[net] ipv4: no address given");
	expect(BASE "[net]\nipv4 = 1.1.1.1 1.1.1.1\n", "[net] ipv4: address '1.1.1.1' is listed twice");
	expect(BASE "[net]\nipv4 = 1.1.1.1 1.1.1.2 1.1.1.3 1.1.1.4 1.1.1.5 1.1.1.6 1.1.1.7 1.1.1.8 1.1.1.9\n",
	       "[net] ipv4: more than 8 addresses");
	expect(CHAIN "[ledger]\npath = l\ndurability = fsync\n" PORT0 WORKER0,
	       "[ledger] durability: 'fsync' is not one of sync, nosync");
	expect(BASE "[dataplane]\nverifier = slow\n", "[dataplane] verifier: 'slow' is not one of fast, sodium");
	expect(CHAIN LEDGER "[port0]\ndevice = x\n[port1]\ndevice = x\n" WORKER0,
	       "[port1] device: 'x' is also the device of [port0]");
}

static void test_workers(void)
{
	expect(CHAIN LEDGER PORT0 "[worker0]\nlcore = 1\nrx = port1:0\n",
	       "[worker0] rx: 'port1:0': there is no port section [port1]");
	expect(CHAIN LEDGER PORT0 "[worker0]\nlcore = 1\nrx = port0\n", "[worker0] rx: 'port0' is not PORTSECTION:QUEUE");
	expect(CHAIN LEDGER PORT0 "[worker0]\nlcore = 1\nrx = port0:\n",
	       "[worker0] rx: 'port0:' is not PORTSECTION:QUEUE");
	expect(CHAIN LEDGER PORT0 "[worker0]\nlcore = 1\nrx = port0:x\n",
	       "[worker0] rx: 'x' is not a non-negative integer");
	expect(CHAIN LEDGER PORT0 "[worker0]\nlcore = 1\nrx = port0:1\n",
	       "[worker0] rx: 'port0:1': queue 1 does not exist ([port0] rx_queues = 1)");
	expect(CHAIN LEDGER PORT0 "[worker0]\nlcore = 1\nrx = port0:0 port0:0\n",
	       "[worker0] rx: 'port0:0' is already polled by [worker0]");
	expect(CHAIN LEDGER PORT0 WORKER0 "[worker1]\nlcore = 2\nrx = port0:0\n",
	       "[worker1] rx: 'port0:0' is already polled by [worker0]");
	expect(CHAIN LEDGER "[port0]\ndevice = x\nrx_queues = 2\n" WORKER0 "[worker1]\nlcore = 1\nrx = port0:1\n",
	       "[worker1] lcore: lcore 1 is also the lcore of [worker0]");
	expect(BASE "[dataplane]\norderer_lcore = 1\n", "[worker0] lcore: lcore 1 is also [dataplane] orderer_lcore");
	expect(CHAIN LEDGER "[port0]\ndevice = x\nrx_queues = 3\n[worker0]\nlcore = 1\nrx = port0:0 port0:2\n",
	       "[port0] rx_queues: queue 1 is polled by no worker (add port0:1 to a worker's rx)");
	expect(CHAIN LEDGER PORT0 "[port1]\ndevice = y\n" WORKER0,
	       "[port1] rx_queues: queue 0 is polled by no worker (add port1:0 to a worker's rx)");
	/* Workers may come before the ports they poll. */
	CU_ASSERT_EQUAL(load_text(WORKER0 CHAIN LEDGER PORT0), 0);
	txg_config_free(&cfg);
	/* Too many sections. */
	char text[8192];
	int k = snprintf(text, sizeof(text), "%s", CHAIN LEDGER PORT0 WORKER0);
	for (int i = 1; i <= TXG_MAX_PORTS; i++)
		k += snprintf(text + k, sizeof(text) - (size_t)k, "[port%d]\ndevice = d%d\n", i, i);
	expect(text, "[port8]: more than 8 port sections");
	k = snprintf(text, sizeof(text), "%s", CHAIN LEDGER "[port0]\ndevice = x\nrx_queues = 16\n[port1]\ndevice = y\n");
	for (int i = 0; i < TXG_MAX_WORKERS; i++)
		k += snprintf(text + k, sizeof(text) - (size_t)k, "[worker%d]\nlcore = %d\nrx = port0:%d\n", i, i + 1, i);
	k += snprintf(text + k, sizeof(text) - (size_t)k, "[worker16]\nlcore = 20\nrx = port1:0\n");
	expect(text, "[worker16]: more than 16 worker sections");
	expect(BASE "[port_with_a_name_that_is_too_long]\ndevice = z\n",
	       "[port_with_a_name_that_is_too_long]: section name too long (max 31 characters)");
}

static void test_syntax(void)
{
	expect(BASE "[net]\nudp_port 7400\n", "line 12: syntax error: expected '[section]' or 'key = value'");
	expect("[net\nudp_port = 1\n", "line 1: syntax error: no ']' after '['");
	expect("[net] x\n", "line 1: syntax error: text after ']'");
	expect("[ ]\n", "line 1: empty section name");
	expect("udp_port = 1\n[net]\n", "line 1: key outside any [section]");
	expect("[net]\nudp_port =\n", "line 2: empty value");
	expect("[net]\nudp_port = ; comment only\n", "line 2: empty value");
	expect("[net]\n = 5\n", "line 2: syntax error: no key before '='");
	char text[2048];
	memset(text, 0, sizeof(text));
	strcpy(text, "[eal]\nargs = ");
	memset(text + strlen(text), 'a', 300);
	strcat(text, "\n");
	expect(text, "line 2: value too long (max 255 characters)");
	memset(text, 0, sizeof(text));
	strcpy(text, "[eal]\n; ");
	memset(text + strlen(text), 'a', 400);
	expect(text, "line 2: line too long (max 322 characters)");
	/* Comments with ';', blank lines and CRLF are fine. */
	CU_ASSERT_EQUAL(load_text("; c\r\n\r\n[chain] ; c\r\nchain_id = 5 ; five\r\nmembers_file = m\r\n" LEDGER PORT0
				  WORKER0),
			0);
	CU_ASSERT_EQUAL(cfg.chain_id, 5);
	txg_config_free(&cfg);
	/* A file with a NUL byte. */
	FILE *f = fopen(cpath, "w");
	fwrite("[net]\nudp_port = 1\0\n", 1, 20, f);
	fclose(f);
	CU_ASSERT_EQUAL(txg_config_load(cpath, &cfg, err, sizeof(err)), -1);
	CU_ASSERT(strstr(err, "line 2: NUL byte") != NULL);
}

static void test_unreadable(void)
{
	char p[300], want[400];
	snprintf(p, sizeof(p), "%s/missing.ini", dir);
	CU_ASSERT_EQUAL(txg_config_load(p, &cfg, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: cannot open: No such file or directory", p);
	CU_ASSERT_STRING_EQUAL(err, want);
	CU_ASSERT_EQUAL(txg_config_load(dir, &cfg, err, sizeof(err)), -1);
	CU_ASSERT(strncmp(err, dir, strlen(dir)) == 0 && strstr(err, "Is a directory") != NULL);
	/* A tiny error buffer is still terminated. */
	char small[6];
	CU_ASSERT_EQUAL(txg_config_load(p, &cfg, small, sizeof(small)), -1);
	CU_ASSERT_EQUAL(strlen(small), 5);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		root = argv[1];
	snprintf(dir, sizeof(dir), "/tmp/txg_config_XXXXXX");
	if (!mkdtemp(dir))
		return 2;
	snprintf(cpath, sizeof(cpath), "%s/c.ini", dir);
	txg_config_defaults(&cfg);
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	CU_pSuite s = CU_add_suite("config", NULL, NULL);
	CU_add_test(s, "shipped_vdev", test_shipped_vdev);
	CU_add_test(s, "shipped_nic", test_shipped_nic);
	CU_add_test(s, "defaults", test_defaults);
	CU_add_test(s, "values", test_values);
	CU_add_test(s, "relative_paths", test_relative_paths);
	CU_add_test(s, "unknown", test_unknown);
	CU_add_test(s, "missing", test_missing);
	CU_add_test(s, "bad_numbers", test_bad_numbers);
	CU_add_test(s, "bad_values", test_bad_values);
	CU_add_test(s, "workers", test_workers);
	CU_add_test(s, "syntax", test_syntax);
	CU_add_test(s, "unreadable", test_unreadable);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned fails = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	txg_config_free(&cfg);
	unlink(cpath);
	rmdir(dir);
	return fails ? 1 : 0;
}
