/* The worker's judgement of copies (spec section 3, rule 6): a copy judged
 * while another copy's acceptance is not yet visible is answered as if it
 * had come first (a valid copy is accepted and caught as duplicate at
 * ordering; a copy with a bad signature is bad_signature); once the
 * acceptance is visible, any copy, forged or not, is duplicate. Runs the
 * real worker burst on real mbufs under EAL without hugepages. */
#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <sodium.h>

#include "dedupe.h"
#include "ed25519/ed25519.h"
#include "members.h"
#include "pkt_build.h"
#include "txn.h"
#include "wire.h"
#include "worker.h"

#define CHAIN 77u
static struct rte_mempool *mbufs, *txns;
static struct rte_rcu_qsbr *qsbr;
static uint8_t pk[32], sk[64];

/* One packet to 192.0.2.1:7400 carrying the given records in one frame. */
static struct rte_mbuf *packet(const uint8_t *const *recs, const size_t *lens, int n)
{
	uint8_t frame[1400], pkt[1600];
	size_t off = TXG_FRAME_HDR_LEN;
	txg_frame_header(frame, 0, (uint16_t)n);
	for (int i = 0; i < n; i++) {
		memcpy(frame + off, recs[i], lens[i]);
		off += lens[i];
	}
	struct txg_pkt_spec s = {.af = 4, .sport = 5555, .dport = 7400};
	memcpy(s.src, (uint8_t[]){198, 51, 100, 7}, 4);
	memcpy(s.dst, (uint8_t[]){192, 0, 2, 1}, 4);
	size_t len = txg_pkt_build(pkt, sizeof pkt, &s, frame, off);
	struct rte_mbuf *m = rte_pktmbuf_alloc(mbufs);
	CU_ASSERT_FATAL(m != NULL && len > 0);
	memcpy(rte_pktmbuf_append(m, (uint16_t)len), pkt, len);
	return m;
}

static void test_rule6_visibility(void)
{
	struct txg_dedupe *d = txg_dedupe_new("t_w_dd", 1024, 120000, qsbr, 1000);
	struct txg_members *mt = txg_members_new(8, qsbr, NULL);
	char err[256];
	CU_ASSERT_FATAL(d && mt && txg_members_add(mt, "alice", pk, err, sizeof err) == 0);
	struct txg_worker_params p = {.lcore = 0, .chain_id = CHAIN, .max_ttl_ms = 120000, .burst = 8};
	p.filter.udp_port = 7400;
	static struct txg_worker w;
	CU_ASSERT_FATAL(txg_worker_init(&w, &p, 0, err, sizeof err) == 0);
	w.ring = rte_ring_create("t_w_ring", 64, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	w.txn_pool = txns;
	w.members = mt;
	w.dedupe = d;
	w.qsbr = qsbr;
	CU_ASSERT_FATAL(w.ring != NULL);

	uint8_t rec[256], forged[256];
	struct txg_body_fields f = {.version = 1, .chain_id = CHAIN, .nonce = 1, .expires_ms = 60000};
	memcpy(f.sender, pk, 32);
	size_t len = txg_record_encode(rec, sizeof rec, &f, (const uint8_t *)"pay", 3, sk);
	memcpy(forged, rec, len);
	forged[len - 1] ^= 1; /* same body, broken signature */
	const uint8_t *burst1[] = {rec, forged, rec};
	size_t lens[] = {len, len, len};

	/* The original, a forged copy and a valid copy in one burst: nothing
	 * is visible yet, so each is judged as if it came first. */
	struct rte_mbuf *m = packet(burst1, lens, 3);
	txg_worker_burst(&w, &m, 1, 0, 1000);
	CU_ASSERT_EQUAL(w.stats.status[TXG_ST_ACCEPTED], 2);
	CU_ASSERT_EQUAL(w.stats.status[TXG_ST_BAD_SIGNATURE], 1);
	CU_ASSERT_EQUAL(w.stats.status[TXG_ST_DUPLICATE], 0);
	CU_ASSERT_EQUAL(rte_ring_count(w.ring), 2);

	/* The orderer's insert makes the acceptance visible: from now on every
	 * copy, forged or not, is a duplicate. */
	uint8_t id[32];
	txg_tx_id(rec + 2, len - TXG_REC_OVERHEAD, id);
	CU_ASSERT(txg_dedupe_insert(d, id, f.expires_ms) >= 0);
	const uint8_t *burst2[] = {forged, rec};
	m = packet(burst2, lens, 2);
	txg_worker_burst(&w, &m, 1, 0, 1000);
	CU_ASSERT_EQUAL(w.stats.status[TXG_ST_DUPLICATE], 2);
	CU_ASSERT_EQUAL(w.stats.status[TXG_ST_BAD_SIGNATURE], 1);
	CU_ASSERT_EQUAL(rte_ring_count(w.ring), 2);

	void *objs[8];
	unsigned n = rte_ring_dequeue_burst(w.ring, objs, 8, NULL);
	rte_mempool_put_bulk(txns, objs, n);
	rte_ring_free(w.ring);
	txg_worker_fini(&w);
	txg_members_delete(mt);
	txg_dedupe_delete(d);
}

int main(int argc, char **argv)
{
	(void)argc;
	char *eal[] = {argv[0], "--no-huge", "-m", "256", "--no-pci", "--no-shconf", "--no-telemetry", "-l", "0",
		       "--log-level=*:error", NULL};
	if (rte_eal_init(10, eal) < 0 || sodium_init() < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	uint8_t seed[32] = {9};
	crypto_sign_seed_keypair(pk, sk, seed);
	mbufs = rte_pktmbuf_pool_create("t_w_mbufs", 64, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	txns = rte_mempool_create("t_w_txns", 64, sizeof(struct txg_txn), 0, 0, NULL, NULL, NULL, NULL,
				  SOCKET_ID_ANY, 0);
	qsbr = rte_zmalloc(NULL, rte_rcu_qsbr_get_memsize(1), RTE_CACHE_LINE_SIZE);
	if (!mbufs || !txns || !qsbr)
		return 1;
	rte_rcu_qsbr_init(qsbr, 1);
	rte_rcu_qsbr_thread_register(qsbr, 0);
	rte_rcu_qsbr_thread_online(qsbr, 0);
	CU_initialize_registry();
	CU_pSuite s = CU_add_suite("worker", NULL, NULL);
	CU_add_test(s, "rule 6: copies judged before and after the acceptance is visible", test_rule6_visibility);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned fails = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	rte_eal_cleanup();
	return fails ? 1 : 0;
}
