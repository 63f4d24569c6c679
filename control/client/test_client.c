/* Tests of libtxgate-client and txsend.
 *
 * Unit tests run the library on an injected clock and an injected transport
 * (frames captured, receipts fed with txc_input): packing (frames fill the
 * MTU, at most 255 and per_frame records, every frame re-parses with the
 * data path's txg_frame_parse), retry timing with back-off, receipt
 * matching, and cookie echo.
 *
 * Loopback tests run real UDP sockets on 127.0.0.1 and ::1 (ephemeral
 * ports; nothing leaves the host) against `responder` below, through the
 * library and through the txsend binary, and check the summary.
 *
 * Usage: test_client PATH/txsend */
#include <CUnit/Basic.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "receipt.h"
#include "record.h"
#include "tally.h"
#include "txgate_client.h"
#include "wire.h"

#define CHAIN 7u
#define WALL0 1893456000000ull /* the fake wall clock at fake time 0 */

static const char *txsend_path;
static char workdir[] = "/tmp/txc_test_XXXXXX";

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void test_key(struct txc_key *k)
{
	uint8_t seed[32];
	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)(i + 1);
	txc_key_from_seed(k, seed);
}

/* ------------------------------------------------------------------ */
/* Injected clock, transport and answer log.                           */

static uint64_t fake_us;
static uint64_t f_mono(void *a)
{
	(void)a;
	return fake_us;
}
static uint64_t f_wall(void *a)
{
	(void)a;
	return WALL0 + fake_us / 1000;
}

#define MAXCAP 4096
struct cap {
	int server;
	uint8_t *p;
	size_t len;
	uint64_t at;
};
static struct cap caps[MAXCAP];
static size_t ncap;

static size_t path_limit = SIZE_MAX; /* hook: frames over it fail with EMSGSIZE */

static int hook(void *arg, int server, const uint8_t *p, size_t len)
{
	(void)arg;
	if (len > path_limit) {
		errno = EMSGSIZE;
		return -1;
	}
	if (ncap == MAXCAP)
		return -1;
	caps[ncap].server = server;
	caps[ncap].p = malloc(len);
	memcpy(caps[ncap].p, p, len);
	caps[ncap].len = len;
	caps[ncap].at = fake_us;
	ncap++;
	return 0;
}

static void caps_clear(void)
{
	for (size_t i = 0; i < ncap; i++)
		free(caps[i].p);
	ncap = 0;
}

#define MAXANS 8192
struct ans {
	uint8_t id[32];
	void *user;
	int server, status, final;
	unsigned tries;
	uint32_t index;
	uint64_t height, first, acc, at;
};
static struct ans answers[MAXANS];
static size_t nans;
static struct txs_tally *log_tally; /* also tally answers when set */

static void on_answer(void *arg, const struct txc_answer *a)
{
	(void)arg;
	if (log_tally)
		txs_tally_add(log_tally, a);
	if (nans == MAXANS)
		return;
	struct ans *x = &answers[nans++];
	memcpy(x->id, a->tx_id, 32);
	x->user = a->user;
	x->server = a->server;
	x->status = a->status;
	x->final = a->final;
	x->tries = a->tries;
	x->index = a->index;
	x->height = a->height;
	x->first = a->first_send_us;
	x->acc = a->accepted_us;
	x->at = a->answer_us;
}

static const struct ans *answer_for(const uint8_t *id, int final)
{
	for (size_t i = 0; i < nans; i++)
		if (memcmp(answers[i].id, id, 32) == 0 && answers[i].final == final)
			return &answers[i];
	return NULL;
}

static void fake_config(struct txc_config *cfg)
{
	txc_config_init(cfg);
	cfg->chain_id = CHAIN;
	cfg->mono_us = f_mono;
	cfg->wall_ms = f_wall;
	cfg->send_hook = hook;
	cfg->on_answer = on_answer;
	cfg->nonce_base_set = 1;
	cfg->nonce_base = 1000;
}

static txc_client *open_fake(const struct txc_config *cfg)
{
	struct txc_key k;
	test_key(&k);
	char err[256];
	txc_client *c = txc_open(cfg, &k, err, sizeof err);
	if (!c)
		fprintf(stderr, "txc_open: %s\n", err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	caps_clear();
	nans = 0;
	fake_us = 1000000;
	path_limit = SIZE_MAX;
	return c;
}

static int add_server(txc_client *c, const char *hp)
{
	char err[256];
	int s = txc_server_add(c, hp, err, sizeof err);
	if (s < 0)
		fprintf(stderr, "txc_server_add %s: %s\n", hp, err);
	return s;
}

static int submit(txc_client *c, int server, char tag, size_t plen, void *user, uint8_t id[32])
{
	uint8_t pay[65536];
	memset(pay, 'p', plen);
	if (plen)
		pay[0] = (uint8_t)tag;
	struct txc_tx tx = {.kind = 1, .payload = pay, .payload_len = plen, .user = user};
	return txc_submit(c, server, &tx, id);
}

/* Parse captured frame i; returns the record count (0 if it does not parse). */
static unsigned parse_cap(size_t i, struct txg_frame_view *fv, struct txg_rec_view *recs)
{
	if (txg_frame_parse(caps[i].p, caps[i].len, fv, recs) != TXG_FE_OK)
		return 0;
	return fv->count;
}

/* A receipt with the given entries (and cookie, if not NULL). */
static size_t mk_receipt(uint8_t *buf, const struct txg_receipt_entry *e, unsigned n, const uint8_t *cookie)
{
	struct txg_receipt_packer pk;
	txg_receipt_begin(&pk, buf, 65507, 1);
	for (unsigned i = 0; i < n; i++)
		CU_ASSERT_FATAL(txg_receipt_add(&pk, &e[i]) >= 0);
	return txg_receipt_finish(&pk, cookie);
}

static struct txg_receipt_entry ent(const uint8_t *id, uint8_t st, uint64_t height, uint32_t index)
{
	struct txg_receipt_entry e;
	memcpy(e.tx_id, id, 32);
	e.status = st;
	e.height = height;
	e.index = index;
	return e;
}

/* ------------------------------------------------------------------ */
/* Unit: keys and settings.                                            */

static void test_key_file(void)
{
	char path[256], err[256];
	snprintf(path, sizeof path, "%s/k1.key", workdir);
	FILE *f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fprintf(f, "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20\n");
	fclose(f);
	struct txc_key a, b;
	CU_ASSERT_EQUAL(txc_key_load(path, &a, err, sizeof err), 0);
	test_key(&b);
	CU_ASSERT_EQUAL(memcmp(&a, &b, sizeof a), 0);
	/* what libsodium derives from that seed */
	uint8_t pk[32], sk[64], seed[32];
	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)(i + 1);
	crypto_sign_seed_keypair(pk, sk, seed);
	CU_ASSERT_EQUAL(memcmp(a.pk, pk, 32), 0);
	f = fopen(path, "w");
	fprintf(f, "0102\n");
	fclose(f);
	CU_ASSERT_EQUAL(txc_key_load(path, &a, err, sizeof err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "64 hex digits"));
	snprintf(path, sizeof path, "%s/missing.key", workdir);
	CU_ASSERT_EQUAL(txc_key_load(path, &a, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(txc_status_name(TXC_COMMITTED), "committed");
	CU_ASSERT_STRING_EQUAL(txc_status_name(TXC_ACCEPTED), "accepted");
	CU_ASSERT_STRING_EQUAL(txc_status_name(TXC_LOST), "lost");
	CU_ASSERT_STRING_EQUAL(txc_status_name(99), "?");
}

static void test_config_and_servers(void)
{
	struct txc_config cfg;
	fake_config(&cfg);
	struct txc_key k;
	test_key(&k);
	char err[256];
	cfg.per_frame = 256;
	CU_ASSERT_PTR_NULL(txc_open(&cfg, &k, err, sizeof err));
	fake_config(&cfg);
	cfg.mtu = 500;
	CU_ASSERT_PTR_NULL(txc_open(&cfg, &k, err, sizeof err));
	fake_config(&cfg);
	cfg.max_tries = 0;
	CU_ASSERT_PTR_NULL(txc_open(&cfg, &k, err, sizeof err));
	fake_config(&cfg);
	txc_client *c = open_fake(&cfg);
	CU_ASSERT_EQUAL(add_server(c, "127.0.0.1:7400"), 0);
	CU_ASSERT_EQUAL(add_server(c, "[::1]:7401"), 1);
	CU_ASSERT_EQUAL(add_server(c, "127.0.0.1"), 2);
	CU_ASSERT_EQUAL(add_server(c, "::1"), 3);
	CU_ASSERT_STRING_EQUAL(txc_server_name(c, 0), "127.0.0.1:7400");
	CU_ASSERT_STRING_EQUAL(txc_server_name(c, 1), "[::1]:7401");
	CU_ASSERT_STRING_EQUAL(txc_server_name(c, 2), "127.0.0.1:7400");
	CU_ASSERT_STRING_EQUAL(txc_server_name(c, 3), "[::1]:7400");
	CU_ASSERT_EQUAL(txc_frame_max(c, 0), 1500 - 28);
	CU_ASSERT_EQUAL(txc_frame_max(c, 1), 1500 - 48);
	CU_ASSERT_EQUAL(txc_server_add(c, "127.0.0.1:0", err, sizeof err), -1);
	CU_ASSERT_EQUAL(txc_server_add(c, "127.0.0.1:99999", err, sizeof err), -1);
	CU_ASSERT_EQUAL(txc_server_add(c, "[::1", err, sizeof err), -1);
	CU_ASSERT_EQUAL(txc_server_add(c, "", err, sizeof err), -1);
	uint8_t id[32];
	CU_ASSERT_EQUAL(submit(c, 9, 'A', 10, NULL, id), -1);
	CU_ASSERT_EQUAL(errno, EINVAL);
	txc_close(c);
	caps_clear();
}

/* ------------------------------------------------------------------ */
/* Unit: packing.                                                      */

/* Check every captured frame: parses, flags, limits, records in submit
 * order with ids[], and each frame but the last is full (its successor's
 * first record would not have fit, or it holds per_frame records). */
static void check_frames_full(const uint8_t (*ids)[32], size_t n, size_t frame_max, unsigned per_frame,
			      uint8_t flags, int full)
{
	static struct txg_rec_view recs[TXG_FRAME_MAX_RECS];
	static struct txg_rec_view next[TXG_FRAME_MAX_RECS];
	size_t k = 0;
	for (size_t i = 0; i < ncap; i++) {
		struct txg_frame_view fv;
		unsigned cnt = parse_cap(i, &fv, recs);
		CU_ASSERT_FATAL(cnt > 0);
		CU_ASSERT(cnt <= TXG_FRAME_MAX_RECS);
		CU_ASSERT(cnt <= per_frame);
		CU_ASSERT(caps[i].len <= frame_max);
		CU_ASSERT_EQUAL(fv.flags, flags);
		for (unsigned r = 0; r < cnt; r++, k++) {
			uint8_t id[32];
			txg_tx_id(recs[r].body, recs[r].body_len, id);
			CU_ASSERT_FATAL(k < n);
			CU_ASSERT(memcmp(id, ids[k], 32) == 0);
			const uint8_t *b = recs[r].body;
			CU_ASSERT_EQUAL(txg_body_chain(b), CHAIN);
			CU_ASSERT_EQUAL(crypto_sign_verify_detached(recs[r].sig, b, recs[r].body_len, txg_body_sender(b)), 0);
		}
		if (full && i + 1 < ncap) {
			struct txg_frame_view nv;
			CU_ASSERT_FATAL(parse_cap(i + 1, &nv, next) > 0);
			CU_ASSERT(cnt == per_frame || caps[i].len + next[0].rec_len > frame_max);
		}
	}
	CU_ASSERT_EQUAL(k, n);
}

static void check_frames(const uint8_t (*ids)[32], size_t n, size_t frame_max, unsigned per_frame, uint8_t flags)
{
	check_frames_full(ids, n, frame_max, per_frame, flags, 1);
}

static void test_pack_mtu(void)
{
	struct txc_config cfg;
	fake_config(&cfg);
	txc_client *c = open_fake(&cfg);
	int s4 = add_server(c, "127.0.0.1:7400"), s6 = add_server(c, "[::1]:7400");
	static uint8_t ids[600][32];
	for (size_t i = 0; i < 200; i++)
		CU_ASSERT_EQUAL_FATAL(submit(c, s4, 'A', (i * 37) % 300, NULL, ids[i]), 0);
	CU_ASSERT_EQUAL(txc_outstanding(c), 200);
	txc_flush(c);
	CU_ASSERT(ncap > 10);
	check_frames((const uint8_t(*)[32])ids, 200, 1472, 255, TXG_FRAME_F_RECEIPT);
	caps_clear();
	/* IPv6: 20 bytes less per frame. */
	for (size_t i = 0; i < 100; i++)
		CU_ASSERT_EQUAL_FATAL(submit(c, s6, 'A', 100 + i, NULL, ids[i]), 0);
	txc_flush(c);
	check_frames((const uint8_t(*)[32])ids, 100, 1452, 255, TXG_FRAME_F_RECEIPT);
	for (size_t i = 0; i < ncap; i++)
		CU_ASSERT_EQUAL(caps[i].server, s6);
	caps_clear();
	/* The largest payload fits a frame with a cookie header; one more byte does not. */
	size_t pmax = txc_payload_max(c, s4);
	CU_ASSERT_EQUAL(pmax, 1472 - 24 - 66 - 56);
	CU_ASSERT_EQUAL(submit(c, s4, 'A', pmax + 1, NULL, ids[0]), -1);
	CU_ASSERT_EQUAL(errno, EMSGSIZE);
	CU_ASSERT_EQUAL(submit(c, s4, 'A', pmax, NULL, ids[0]), 0);
	txc_flush(c);
	CU_ASSERT_EQUAL(ncap, 1);
	CU_ASSERT_EQUAL(caps[0].len, 1472 - 16);
	txc_close(c);
	caps_clear();

	/* Records per frame: 255 at most, and per_frame. */
	fake_config(&cfg);
	cfg.mtu = 65535;
	c = open_fake(&cfg);
	s4 = add_server(c, "127.0.0.1:7400");
	for (size_t i = 0; i < 600; i++)
		CU_ASSERT_EQUAL_FATAL(submit(c, s4, 'A', 0, NULL, ids[i]), 0);
	/* Full frames went out while submitting; the rest waits for a flush. */
	CU_ASSERT_EQUAL(ncap, 2);
	txc_flush(c);
	CU_ASSERT_EQUAL_FATAL(ncap, 3);
	struct txg_frame_view fv;
	static struct txg_rec_view recs[TXG_FRAME_MAX_RECS];
	CU_ASSERT_EQUAL(parse_cap(0, &fv, recs), 255);
	CU_ASSERT_EQUAL(parse_cap(1, &fv, recs), 255);
	CU_ASSERT_EQUAL(parse_cap(2, &fv, recs), 90);
	check_frames((const uint8_t(*)[32])ids, 600, 65507, 255, TXG_FRAME_F_RECEIPT);
	txc_close(c);
	caps_clear();

	fake_config(&cfg);
	cfg.per_frame = 3;
	cfg.admit = 1;
	c = open_fake(&cfg);
	s4 = add_server(c, "127.0.0.1:7400");
	for (size_t i = 0; i < 10; i++)
		CU_ASSERT_EQUAL_FATAL(submit(c, s4, 'A', 20, NULL, ids[i]), 0);
	txc_flush(c);
	CU_ASSERT_EQUAL(ncap, 4);
	check_frames((const uint8_t(*)[32])ids, 10, 1472, 3, TXG_FRAME_F_RECEIPT | TXG_FRAME_F_ADMIT);
	/* Same body again while outstanding: refused; nonces differ per submit. */
	uint8_t pay[4] = {'A', 0, 0, 0};
	struct txc_tx tx = {.payload = pay, .payload_len = 4, .nonce_set = 1, .nonce = 5, .expires_ms = WALL0 + 9000};
	CU_ASSERT_EQUAL(txc_submit(c, s4, &tx, ids[0]), 0);
	CU_ASSERT_EQUAL(txc_submit(c, s4, &tx, ids[1]), -1);
	CU_ASSERT_EQUAL(errno, EEXIST);
	txc_close(c);
	caps_clear();
}

/* A path whose MTU is below the configured one: frames that fail with
 * EMSGSIZE lower the limit and are re-packed; a record that no longer fits
 * any frame is reported lost (at its timer, never inside a flush). */
static void test_pack_path_mtu(void)
{
	struct txc_config cfg;
	fake_config(&cfg);
	txc_client *c = open_fake(&cfg);
	int s = add_server(c, "127.0.0.1:7400");
	static uint8_t ids[60][32];
	uint8_t big[32];
	path_limit = 1000;
	CU_ASSERT_EQUAL_FATAL(submit(c, s, 'A', 900, NULL, big), 0); /* fits 1472, not 1000 */
	for (size_t i = 0; i < 60; i++)
		CU_ASSERT_EQUAL_FATAL(submit(c, s, 'A', 40 + i, NULL, ids[i]), 0);
	txc_flush(c);
	CU_ASSERT(txc_frame_max(c, s) <= 1000);
	/* Every record went out once, in order, in frames the path takes (how
	 * full each is depends on the limit it was packed under). */
	check_frames_full((const uint8_t(*)[32])ids, 60, 1000, 255, TXG_FRAME_F_RECEIPT, 0);
	struct txc_stats st;
	txc_get_stats(c, &st);
	CU_ASSERT(st.mtu_lowered >= 1);
	CU_ASSERT_EQUAL(st.records_sent, 60);
	CU_ASSERT_EQUAL(nans, 0);
	CU_ASSERT_EQUAL(txc_process(c), 1);
	const struct ans *a = answer_for(big, 1);
	CU_ASSERT_FATAL(a != NULL);
	CU_ASSERT_EQUAL(a->status, TXC_LOST);
	CU_ASSERT_EQUAL(a->tries, 0);
	CU_ASSERT_EQUAL(txc_outstanding(c), 60);
	path_limit = SIZE_MAX;
	txc_close(c);
	caps_clear();
}

/* ------------------------------------------------------------------ */
/* Unit: retry timing.                                                  */

/* The record bytes of the only record in captured frame i. */
static void cap_record(size_t i, const uint8_t **rec, size_t *len)
{
	struct txg_frame_view fv;
	static struct txg_rec_view recs[TXG_FRAME_MAX_RECS];
	CU_ASSERT_FATAL(parse_cap(i, &fv, recs) == 1);
	*rec = recs[0].rec;
	*len = recs[0].rec_len;
}

/* Run the client 1 ms at a time from now to now + ms. */
static void run_ms(txc_client *c, unsigned ms)
{
	for (unsigned i = 0; i < ms; i++) {
		fake_us += 1000;
		CU_ASSERT(txc_process(c) >= 0);
	}
}

static void test_retry_timing(void)
{
	struct txc_config cfg;
	fake_config(&cfg);
	cfg.timeout_ms = 100;
	cfg.max_timeout_ms = 400;
	cfg.max_tries = 5;
	txc_client *c = open_fake(&cfg);
	int s = add_server(c, "127.0.0.1:7400");
	uint8_t id[32];
	uint64_t t0 = fake_us;
	int user = 42;
	CU_ASSERT_EQUAL(submit(c, s, 'A', 10, &user, id), 0);
	CU_ASSERT_EQUAL(ncap, 0); /* queued, not yet sent */
	CU_ASSERT_EQUAL(txc_process(c), 0);
	CU_ASSERT_EQUAL_FATAL(ncap, 1);
	CU_ASSERT_EQUAL(txc_next_timeout_us(c), 100000);
	run_ms(c, 1600);
	/* Sends at 0, 100, 300 (100+200), 700 (+400), 1100 (+400, the cap); lost at 1500. */
	static const uint64_t want[] = {0, 100, 300, 700, 1100};
	CU_ASSERT_EQUAL_FATAL(ncap, 5);
	const uint8_t *r0, *r;
	size_t l0, l;
	cap_record(0, &r0, &l0);
	for (size_t i = 0; i < ncap; i++) {
		CU_ASSERT_EQUAL(caps[i].at - t0, want[i] * 1000);
		cap_record(i, &r, &l);
		CU_ASSERT(l == l0 && memcmp(r, r0, l) == 0); /* the exact same record bytes */
	}
	CU_ASSERT_EQUAL_FATAL(nans, 1);
	CU_ASSERT_EQUAL(answers[0].status, TXC_LOST);
	CU_ASSERT_EQUAL(answers[0].final, 1);
	CU_ASSERT_EQUAL(answers[0].tries, 5);
	CU_ASSERT_EQUAL(answers[0].at - t0, 1500000);
	CU_ASSERT_EQUAL(answers[0].first, t0);
	CU_ASSERT_PTR_EQUAL(answers[0].user, &user);
	CU_ASSERT_EQUAL(memcmp(answers[0].id, id, 32), 0);
	CU_ASSERT_EQUAL(txc_outstanding(c), 0);
	CU_ASSERT_EQUAL(txc_next_timeout_us(c), -1);
	struct txc_stats st;
	txc_get_stats(c, &st);
	CU_ASSERT_EQUAL(st.retries, 4);
	CU_ASSERT_EQUAL(st.records_sent, 5);
	CU_ASSERT_EQUAL(st.lost, 1);
	txc_close(c);
	caps_clear();

	/* ADMIT: `accepted` is intermediate, recorded with its time, and gives
	 * the commit a full wait from then; `committed` ends it. */
	fake_config(&cfg);
	cfg.timeout_ms = 100;
	cfg.max_timeout_ms = 400;
	cfg.admit = 1;
	c = open_fake(&cfg);
	s = add_server(c, "127.0.0.1:7400");
	t0 = fake_us;
	CU_ASSERT_EQUAL(submit(c, s, 'A', 10, NULL, id), 0);
	txc_process(c);
	run_ms(c, 50);
	uint8_t rb[256];
	struct txg_receipt_entry e = ent(id, TXG_ST_ACCEPTED, 0, 0);
	size_t rl = mk_receipt(rb, &e, 1, NULL);
	CU_ASSERT_EQUAL(txc_input(c, s, rb, rl), 1);
	CU_ASSERT_EQUAL(txc_input(c, s, rb, rl), 0); /* a second `accepted` adds nothing */
	CU_ASSERT_EQUAL_FATAL(nans, 1);
	CU_ASSERT_EQUAL(answers[0].status, TXC_ACCEPTED);
	CU_ASSERT_EQUAL(answers[0].final, 0);
	CU_ASSERT_EQUAL(answers[0].acc, t0 + 50000);
	CU_ASSERT_EQUAL(txc_outstanding(c), 1);
	run_ms(c, 99);
	CU_ASSERT_EQUAL(ncap, 1); /* not at 100: the wait restarted at 50 */
	run_ms(c, 1);
	CU_ASSERT_EQUAL(ncap, 2); /* at 150 */
	run_ms(c, 10);
	e = ent(id, TXG_ST_COMMITTED, 9, 4);
	rl = mk_receipt(rb, &e, 1, NULL);
	CU_ASSERT_EQUAL(txc_input(c, s, rb, rl), 1);
	CU_ASSERT_EQUAL_FATAL(nans, 2);
	CU_ASSERT_EQUAL(answers[1].status, TXC_COMMITTED);
	CU_ASSERT_EQUAL(answers[1].final, 1);
	CU_ASSERT_EQUAL(answers[1].height, 9);
	CU_ASSERT_EQUAL(answers[1].index, 4);
	CU_ASSERT_EQUAL(answers[1].tries, 2);
	CU_ASSERT_EQUAL(answers[1].acc, t0 + 50000);
	CU_ASSERT_EQUAL(answers[1].at, t0 + 160000);
	CU_ASSERT_EQUAL(txc_outstanding(c), 0);
	run_ms(c, 2000);
	CU_ASSERT_EQUAL(ncap, 2); /* nothing after the final answer */
	txc_close(c);
	caps_clear();

	/* No retry once the record has expired: lost at its timer instead. */
	fake_config(&cfg);
	cfg.timeout_ms = 100;
	cfg.max_timeout_ms = 400;
	cfg.ttl_ms = 250;
	c = open_fake(&cfg);
	s = add_server(c, "127.0.0.1:7400");
	t0 = fake_us;
	CU_ASSERT_EQUAL(submit(c, s, 'A', 10, NULL, id), 0);
	txc_process(c);
	run_ms(c, 400);
	CU_ASSERT_EQUAL(ncap, 2); /* 0 and 100; at 300 it had expired (250) */
	CU_ASSERT_EQUAL_FATAL(nans, 1);
	CU_ASSERT_EQUAL(answers[0].status, TXC_LOST);
	CU_ASSERT_EQUAL(answers[0].at - t0, 300000);
	txc_close(c);
	caps_clear();

	/* Several transactions due at once are retried together in one frame. */
	fake_config(&cfg);
	cfg.timeout_ms = 100;
	c = open_fake(&cfg);
	s = add_server(c, "127.0.0.1:7400");
	uint8_t ids[3][32];
	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(submit(c, s, 'A', 10, NULL, ids[i]), 0);
	txc_process(c);
	CU_ASSERT_EQUAL(ncap, 1);
	e = ent(ids[1], TXG_ST_COMMITTED, 1, 0);
	rl = mk_receipt(rb, &e, 1, NULL);
	CU_ASSERT_EQUAL(txc_input(c, s, rb, rl), 1);
	run_ms(c, 100);
	CU_ASSERT_EQUAL_FATAL(ncap, 2);
	struct txg_frame_view fv;
	static struct txg_rec_view recs[TXG_FRAME_MAX_RECS];
	CU_ASSERT_EQUAL(parse_cap(1, &fv, recs), 2);
	txc_close(c);
	caps_clear();
}

/* ------------------------------------------------------------------ */
/* Unit: receipt matching.                                              */

static void test_receipt_matching(void)
{
	struct txc_config cfg;
	fake_config(&cfg);
	cfg.admit = 1;
	txc_client *c = open_fake(&cfg);
	int s0 = add_server(c, "127.0.0.1:7400"), s1 = add_server(c, "127.0.0.1:7401");
	static int users[6];
	uint8_t ids[6][32], other[32];
	for (int i = 0; i < 6; i++)
		CU_ASSERT_EQUAL_FATAL(submit(c, s0, 'A', 8, &users[i], ids[i]), 0);
	txc_flush(c);
	randombytes_buf(other, 32);
	uint8_t rb[2048];
	struct txg_receipt_entry es[8];
	unsigned n = 0;
	es[n++] = ent(ids[3], TXG_ST_COMMITTED, 5, 2);
	es[n++] = ent(ids[1], TXG_ST_UNKNOWN_SENDER, 0, 0);
	es[n++] = ent(other, TXG_ST_COMMITTED, 5, 3); /* no such transaction */
	es[n++] = ent(ids[0], TXG_ST_DUPLICATE, 3, 1);
	es[n++] = ent(ids[4], TXG_ST_ACCEPTED, 0, 0);
	size_t rl = mk_receipt(rb, es, n, NULL);
	CU_ASSERT_EQUAL(txc_input(c, s0, rb, rl), 4);
	CU_ASSERT_EQUAL(txc_outstanding(c), 3); /* 2, 4 (accepted only), 5 */
	const struct ans *a = answer_for(ids[3], 1);
	CU_ASSERT_FATAL(a != NULL);
	CU_ASSERT_EQUAL(a->status, TXC_COMMITTED);
	CU_ASSERT_EQUAL(a->height, 5);
	CU_ASSERT_EQUAL(a->index, 2);
	CU_ASSERT_PTR_EQUAL(a->user, &users[3]);
	a = answer_for(ids[1], 1);
	CU_ASSERT_FATAL(a != NULL);
	CU_ASSERT_EQUAL(a->status, TXC_UNKNOWN_SENDER);
	CU_ASSERT_PTR_EQUAL(a->user, &users[1]);
	a = answer_for(ids[0], 1);
	CU_ASSERT_FATAL(a != NULL);
	CU_ASSERT_EQUAL(a->status, TXC_DUPLICATE);
	CU_ASSERT_EQUAL(a->height, 3);
	a = answer_for(ids[4], 0);
	CU_ASSERT_FATAL(a != NULL);
	CU_ASSERT_EQUAL(a->status, TXC_ACCEPTED);
	CU_ASSERT_PTR_NULL(answer_for(ids[4], 1));
	struct txc_stats st;
	txc_get_stats(c, &st);
	CU_ASSERT_EQUAL(st.entries, 5);
	CU_ASSERT_EQUAL(st.entries_unmatched, 1);
	/* A second answer for a finished transaction matches nothing. */
	n = 0;
	es[n++] = ent(ids[3], TXG_ST_DUPLICATE, 5, 2);
	rl = mk_receipt(rb, es, n, NULL);
	CU_ASSERT_EQUAL(txc_input(c, s0, rb, rl), 0);
	/* An answer from a server the transaction was not sent to matches nothing. */
	es[0] = ent(ids[2], TXG_ST_COMMITTED, 6, 0);
	rl = mk_receipt(rb, es, 1, NULL);
	CU_ASSERT_EQUAL(txc_input(c, s1, rb, rl), 0);
	CU_ASSERT_EQUAL(txc_outstanding(c), 3);
	txc_get_stats(c, &st);
	CU_ASSERT_EQUAL(st.entries_unmatched, 3);
	/* Datagrams that are not valid receipts are refused whole. */
	es[0] = ent(ids[2], TXG_ST_COMMITTED, 6, 0);
	es[1] = ent(ids[5], TXG_ST_COMMITTED, 6, 1);
	rl = mk_receipt(rb, es, 2, NULL);
	uint8_t bad[2048];
	memcpy(bad, rb, rl);
	bad[0] = 'X';
	CU_ASSERT_EQUAL(txc_input(c, s0, bad, rl), -1);
	memcpy(bad, rb, rl);
	CU_ASSERT_EQUAL(txc_input(c, s0, bad, rl - 1), -1); /* cut */
	bad[5] = 0x02;					 /* unknown flag */
	CU_ASSERT_EQUAL(txc_input(c, s0, bad, rl), -1);
	memcpy(bad, rb, rl);
	bad[6] = bad[7] = 0; /* count 0 */
	CU_ASSERT_EQUAL(txc_input(c, s0, bad, 8), -1);
	memcpy(bad, rb, rl);
	bad[8 + 32] = 77; /* status code */
	CU_ASSERT_EQUAL(txc_input(c, s0, bad, rl), -1);
	CU_ASSERT_EQUAL(txc_input(c, s0, rb, 3), -1);
	txc_get_stats(c, &st);
	CU_ASSERT_EQUAL(st.receipts_bad, 6);
	CU_ASSERT_EQUAL(txc_outstanding(c), 3);
	/* A `duplicate` without a location answering a retry: an earlier copy is
	 * in and its commit still to come, so not final; one locating the
	 * original, or answering the only copy, is. */
	run_ms(c, 1000); /* 2, 4 and 5 are sent again */
	txc_get_stats(c, &st);
	CU_ASSERT_EQUAL(st.retries, 3);
	size_t bl;
	es[0] = ent(ids[2], TXG_ST_DUPLICATE, 0, 0);
	es[1] = ent(ids[4], TXG_ST_DUPLICATE, 0, 0);
	bl = mk_receipt(bad, es, 2, NULL);
	CU_ASSERT_EQUAL(txc_input(c, s0, bad, bl), 0);
	CU_ASSERT_EQUAL(txc_outstanding(c), 3);
	txc_get_stats(c, &st);
	CU_ASSERT_EQUAL(st.dup_waits, 2);
	uint8_t once[32];
	CU_ASSERT_EQUAL(submit(c, s0, 'A', 8, NULL, once), 0);
	txc_flush(c);
	es[0] = ent(once, TXG_ST_DUPLICATE, 0, 0);
	bl = mk_receipt(bad, es, 1, NULL);
	CU_ASSERT_EQUAL(txc_input(c, s0, bad, bl), 1);
	a = answer_for(once, 1);
	CU_ASSERT_FATAL(a != NULL);
	CU_ASSERT_EQUAL(a->status, TXC_DUPLICATE);
	CU_ASSERT_EQUAL(a->tries, 1);
	/* The good one: both end, in one datagram. */
	CU_ASSERT_EQUAL(txc_input(c, s0, rb, rl), 2);
	es[0] = ent(ids[4], TXG_ST_COMMITTED, 7, 0);
	rl = mk_receipt(rb, es, 1, NULL);
	CU_ASSERT_EQUAL(txc_input(c, s0, rb, rl), 1);
	a = answer_for(ids[4], 1);
	CU_ASSERT_FATAL(a != NULL);
	CU_ASSERT_EQUAL(a->status, TXC_COMMITTED);
	CU_ASSERT_EQUAL(a->tries, 2);
	CU_ASSERT(a->acc != 0);
	a = answer_for(ids[2], 1);
	CU_ASSERT_FATAL(a != NULL);
	CU_ASSERT_EQUAL(a->status, TXC_COMMITTED);
	CU_ASSERT_EQUAL(txc_outstanding(c), 0);
	txc_close(c);
	caps_clear();
}

/* ------------------------------------------------------------------ */
/* Unit: cookies.                                                       */

static void test_cookie_echo(void)
{
	struct txc_config cfg;
	fake_config(&cfg);
	cfg.timeout_ms = 100;
	cfg.max_tries = 3;
	txc_client *c = open_fake(&cfg);
	int s0 = add_server(c, "127.0.0.1:7400"), s1 = add_server(c, "[::1]:7400");
	uint8_t a[32], b[32], cc[32], k1[16], k2[16], got[16];
	memset(k1, 0x11, 16);
	memset(k2, 0x22, 16);
	CU_ASSERT_EQUAL(txc_cookie(c, s0, got), 0);
	CU_ASSERT_EQUAL(submit(c, s0, 'A', 8, NULL, a), 0);
	txc_flush(c);
	struct txg_frame_view fv;
	static struct txg_rec_view recs[TXG_FRAME_MAX_RECS];
	CU_ASSERT_EQUAL(parse_cap(0, &fv, recs), 1);
	CU_ASSERT_PTR_NULL(fv.cookie);
	/* A receipt from s0 with cookie K1. */
	uint8_t rb[512];
	struct txg_receipt_entry e = ent(a, TXG_ST_COMMITTED, 1, 0);
	size_t rl = mk_receipt(rb, &e, 1, k1);
	CU_ASSERT_EQUAL(txc_input(c, s0, rb, rl), 1);
	CU_ASSERT_EQUAL(txc_cookie(c, s0, got), 1);
	CU_ASSERT_EQUAL(memcmp(got, k1, 16), 0);
	CU_ASSERT_EQUAL(txc_cookie(c, s1, got), 0); /* per server */
	/* Later frames to s0 carry K1; frames to s1 none. */
	caps_clear();
	CU_ASSERT_EQUAL(submit(c, s0, 'A', 8, NULL, b), 0);
	CU_ASSERT_EQUAL(submit(c, s1, 'A', 8, NULL, cc), 0);
	txc_flush(c);
	CU_ASSERT_EQUAL_FATAL(ncap, 2);
	for (size_t i = 0; i < 2; i++) {
		CU_ASSERT_EQUAL_FATAL(parse_cap(i, &fv, recs), 1);
		if (caps[i].server == s0) {
			CU_ASSERT_EQUAL(fv.flags, TXG_FRAME_F_RECEIPT | TXG_FRAME_F_COOKIE);
			CU_ASSERT_FATAL(fv.cookie != NULL);
			CU_ASSERT_EQUAL(memcmp(fv.cookie, k1, 16), 0);
		} else {
			CU_ASSERT_EQUAL(fv.flags, TXG_FRAME_F_RECEIPT);
			CU_ASSERT_PTR_NULL(fv.cookie);
		}
	}
	const uint8_t *r0, *r;
	size_t l0, l;
	size_t bi = caps[0].server == s0 ? 0 : 1;
	CU_ASSERT_EQUAL(parse_cap(bi, &fv, recs), 1);
	uint8_t brec[512];
	l0 = recs[0].rec_len;
	memcpy(brec, recs[0].rec, l0);
	r0 = brec;
	/* s1 answers its one (without a cookie: s1 still has none). */
	e = ent(cc, TXG_ST_COMMITTED, 1, 0);
	rl = mk_receipt(rb, &e, 1, NULL);
	CU_ASSERT_EQUAL(txc_input(c, s1, rb, rl), 1);
	CU_ASSERT_EQUAL(txc_cookie(c, s1, got), 0);
	/* `overloaded` with a new cookie K2 (section 6): retried at once, with K2, same bytes. */
	caps_clear();
	e = ent(b, TXG_ST_OVERLOADED, 0, 0);
	rl = mk_receipt(rb, &e, 1, k2);
	CU_ASSERT_EQUAL(txc_input(c, s0, rb, rl), 0); /* not an answer: retried */
	CU_ASSERT_EQUAL(txc_process(c), 0);
	CU_ASSERT_EQUAL_FATAL(ncap, 1);
	CU_ASSERT_EQUAL(parse_cap(0, &fv, recs), 1);
	CU_ASSERT_FATAL(fv.cookie != NULL);
	CU_ASSERT_EQUAL(memcmp(fv.cookie, k2, 16), 0);
	cap_record(0, &r, &l);
	CU_ASSERT(l == l0 && memcmp(r, r0, l) == 0);
	/* `overloaded` again with the cookie it already carried: back-off, not at once. */
	caps_clear();
	uint64_t t = fake_us;
	CU_ASSERT_EQUAL(txc_input(c, s0, rb, rl), 0);
	CU_ASSERT_EQUAL(txc_process(c), 0);
	CU_ASSERT_EQUAL(ncap, 0);
	run_ms(c, 200); /* third send after 2 tries: 100 doubled once */
	CU_ASSERT_EQUAL_FATAL(ncap, 1);
	CU_ASSERT_EQUAL(caps[0].at - t, 200000);
	cap_record(0, &r, &l);
	CU_ASSERT(l == l0 && memcmp(r, r0, l) == 0);
	/* The tries are used up: now `overloaded` is the final answer. */
	CU_ASSERT_EQUAL(txc_input(c, s0, rb, rl), 1);
	const struct ans *x = answer_for(b, 1);
	CU_ASSERT_FATAL(x != NULL);
	CU_ASSERT_EQUAL(x->status, TXC_OVERLOADED);
	CU_ASSERT_EQUAL(x->tries, 3);
	struct txc_stats st;
	txc_get_stats(c, &st);
	CU_ASSERT_EQUAL(st.cookies, 2);
	CU_ASSERT_EQUAL(st.overloaded_retried, 2);

	/* With a cookie, frames still fill the MTU exactly: 24-byte header. */
	caps_clear();
	static uint8_t ids[100][32];
	for (int i = 0; i < 100; i++)
		CU_ASSERT_EQUAL_FATAL(submit(c, s0, 'A', (size_t)(i * 13) % 200, NULL, ids[i]), 0);
	txc_flush(c);
	check_frames((const uint8_t(*)[32])ids, 100, 1472, 255, TXG_FRAME_F_RECEIPT | TXG_FRAME_F_COOKIE);
	txc_close(c);
	caps_clear();
}

/* ------------------------------------------------------------------ */
/* The responder: a TEST DOUBLE of the appliance's receipt behaviour only
 * (spec sections 4 and 6, as a client sees them). It is not txgate: no
 * judging beyond the signature and chain id, no dedupe window, no ordering,
 * no ledger. It listens on 127.0.0.1 and ::1 (ephemeral ports), parses each
 * frame with the data path's txg_frame_parse, checks each record's
 * signature, and answers by a tag, the payload's first byte (when the
 * body's kind is 1; any other kind is answered as 'A'):
 *   'A' (or anything else)  accepted (with ADMIT) at once, committed 3 ms later
 *   'R'                     unknown_sender at once
 *   'D'                     the first copy dropped unanswered; later ones as 'A'
 *   'L'                     the first copy accepted and committed, its receipts
 *                           dropped; later copies answered duplicate + location
 *   'C'                     answered overloaded with a cookie until a copy
 *                           echoes that cookie, then as 'A': committed
 *                           proves the echo'
 *   'X'                     never answered
 * Every later copy of a record must be byte-identical to the first. Once a
 * client address has a cookie, every receipt to it carries it, and any
 * frame from it that carries a cookie must carry exactly that one. */

#define COMMIT_DELAY_US 3000
#define RMAX_TX 4096
#define RMAX_PEND 4096
#define RMAX_PEERS 16

struct rpeer {
	int fd;
	struct sockaddr_storage sa;
	socklen_t salen;
	uint8_t cookie[16];
	int has_cookie;
};

struct rtx {
	uint8_t id[32];
	uint8_t rec[2048];
	uint32_t rec_len;
	int copies, accepted, committed;
	uint64_t height;
	uint32_t index;
};

struct rpend {
	int peer, drop;
	size_t tx;
	uint64_t due;
};

struct responder {
	int fd[2], nfd;
	uint16_t port[2];
	pthread_t th;
	atomic_int stop;
	uint8_t secret[32];
	struct rpeer peers[RMAX_PEERS];
	int npeers;
	struct rtx *txs;
	size_t ntx;
	struct rpend pend[RMAX_PEND];
	size_t npend;
	uint64_t height;
	/* what it saw */
	unsigned frames, frames_bad, records, max_per_frame, multi_frames, admit_frames, cookie_records;
	unsigned sig_bad, chain_bad, bytes_mismatch, cookie_missing, cookie_wrong, overflow, receipts;
};

static int peer_of(struct responder *rs, int fd, const struct sockaddr_storage *sa, socklen_t salen)
{
	for (int i = 0; i < rs->npeers; i++)
		if (rs->peers[i].fd == fd && rs->peers[i].salen == salen && memcmp(&rs->peers[i].sa, sa, salen) == 0)
			return i;
	if (rs->npeers == RMAX_PEERS)
		return -1;
	struct rpeer *p = &rs->peers[rs->npeers];
	memset(p, 0, sizeof *p);
	p->fd = fd;
	p->sa = *sa;
	p->salen = salen;
	/* The cookie: keyed BLAKE2b of the peer's address and port. */
	crypto_generichash(p->cookie, 16, (const uint8_t *)sa, salen, rs->secret, sizeof rs->secret);
	return rs->npeers++;
}

static size_t rtx_find(struct responder *rs, const uint8_t *id)
{
	for (size_t i = 0; i < rs->ntx; i++)
		if (memcmp(rs->txs[i].id, id, 32) == 0)
			return i;
	return SIZE_MAX;
}

/* A receipt being filled for one peer. */
struct rout {
	struct txg_receipt_packer pk;
	uint8_t buf[65536];
	int peer;
};

static void rout_begin(struct rout *o, int peer)
{
	o->peer = peer;
	txg_receipt_begin(&o->pk, o->buf, 1400, 1);
}

static void rout_send(struct responder *rs, struct rout *o)
{
	struct rpeer *p = &rs->peers[o->peer];
	size_t len = txg_receipt_finish(&o->pk, p->has_cookie ? p->cookie : NULL);
	if (len > 0) {
		sendto(p->fd, o->buf, len, 0, (const struct sockaddr *)&p->sa, p->salen);
		rs->receipts++;
	}
	rout_begin(o, o->peer);
}

static void rout_add(struct responder *rs, struct rout *o, const uint8_t *id, uint8_t st, uint64_t h, uint32_t i)
{
	struct txg_receipt_entry e;
	memcpy(e.tx_id, id, 32);
	e.status = st;
	e.height = h;
	e.index = i;
	if (txg_receipt_add(&o->pk, &e) == 0)
		rout_send(rs, o);
}

static void accept_or_dup(struct responder *rs, struct rout *o, size_t ti, int admit, int drop, uint64_t now)
{
	struct rtx *t = &rs->txs[ti];
	if (t->accepted) {
		if (t->committed)
			rout_add(rs, o, t->id, TXG_ST_DUPLICATE, t->height, t->index);
		else
			rout_add(rs, o, t->id, TXG_ST_DUPLICATE, 0, 0);
		return;
	}
	t->accepted = 1;
	if (admit && !drop)
		rout_add(rs, o, t->id, TXG_ST_ACCEPTED, 0, 0);
	if (rs->npend == RMAX_PEND) {
		rs->overflow++;
		return;
	}
	rs->pend[rs->npend++] = (struct rpend){o->peer, drop, ti, now + COMMIT_DELAY_US};
}

static void handle_frame(struct responder *rs, int fd, const uint8_t *p, size_t len,
			 const struct sockaddr_storage *sa, socklen_t salen)
{
	static struct txg_rec_view recs[TXG_FRAME_MAX_RECS];
	static struct rout o;
	struct txg_frame_view fv;
	if (txg_frame_parse(p, len, &fv, recs) != TXG_FE_OK) {
		rs->frames_bad++;
		return;
	}
	int peer = peer_of(rs, fd, sa, salen);
	if (peer < 0) {
		rs->overflow++;
		return;
	}
	struct rpeer *pr = &rs->peers[peer];
	rs->frames++;
	if (fv.count > rs->max_per_frame)
		rs->max_per_frame = fv.count;
	rs->multi_frames += fv.count > 1;
	rs->admit_frames += (fv.flags & TXG_FRAME_F_ADMIT) != 0;
	int cookie_ok = 0;
	if (fv.cookie) {
		rs->cookie_records += fv.count;
		cookie_ok = pr->has_cookie && memcmp(fv.cookie, pr->cookie, 16) == 0;
		rs->cookie_wrong += !cookie_ok;
	}
	int admit = (fv.flags & TXG_FRAME_F_ADMIT) != 0;
	uint64_t now = now_us();
	rout_begin(&o, peer);
	for (unsigned i = 0; i < fv.count; i++) {
		const struct txg_rec_view *r = &recs[i];
		rs->records++;
		uint8_t id[32];
		txg_tx_id(r->body, r->body_len, id);
		if (crypto_sign_verify_detached(r->sig, r->body, r->body_len, txg_body_sender(r->body)) != 0) {
			rs->sig_bad++;
			rout_add(rs, &o, id, TXG_ST_BAD_SIGNATURE, 0, 0);
			continue;
		}
		if (txg_body_chain(r->body) != CHAIN) {
			rs->chain_bad++;
			rout_add(rs, &o, id, TXG_ST_WRONG_CHAIN, 0, 0);
			continue;
		}
		size_t ti = rtx_find(rs, id);
		if (ti == SIZE_MAX) {
			if (rs->ntx == RMAX_TX || r->rec_len > sizeof rs->txs[0].rec) {
				rs->overflow++;
				continue;
			}
			ti = rs->ntx++;
			memset(&rs->txs[ti], 0, sizeof rs->txs[ti]);
			memcpy(rs->txs[ti].id, id, 32);
			memcpy(rs->txs[ti].rec, r->rec, r->rec_len);
			rs->txs[ti].rec_len = r->rec_len;
		} else if (rs->txs[ti].rec_len != r->rec_len || memcmp(rs->txs[ti].rec, r->rec, r->rec_len) != 0) {
			rs->bytes_mismatch++;
		}
		struct rtx *t = &rs->txs[ti];
		int first = ++t->copies == 1;
		char tag = txg_body_kind(r->body) == 1 && r->body_len > TXG_BODY_MIN ? (char)r->body[TXG_BODY_MIN] : 'A';
		switch (tag) {
		case 'X':
			break;
		case 'R':
			rout_add(rs, &o, id, TXG_ST_UNKNOWN_SENDER, 0, 0);
			break;
		case 'D':
			if (!first)
				accept_or_dup(rs, &o, ti, admit, 0, now);
			break;
		case 'L':
			accept_or_dup(rs, &o, ti, admit, first, now);
			break;
		case 'C':
			if (!cookie_ok) {
				/* A retry sent before the cookie reached the client (a
				 * timer under load) is counted, and refused the same way. */
				rs->cookie_missing += !first;
				pr->has_cookie = 1; /* this receipt and every later one carry it */
				rout_add(rs, &o, id, TXG_ST_OVERLOADED, 0, 0);
			} else {
				accept_or_dup(rs, &o, ti, admit, 0, now);
			}
			break;
		default:
			accept_or_dup(rs, &o, ti, admit, 0, now);
		}
	}
	rout_send(rs, &o);
}

/* Commit what is due as one block: heights and indexes, then receipts. */
static void commit_due(struct responder *rs)
{
	static struct rout o;
	uint64_t now = now_us();
	size_t keep = 0;
	uint32_t index = 0;
	int have_block = 0, cur = -1;
	for (size_t i = 0; i < rs->npend; i++) {
		struct rpend *pd = &rs->pend[i];
		if (pd->due > now) {
			rs->pend[keep++] = *pd;
			continue;
		}
		if (!have_block) {
			rs->height++;
			have_block = 1;
		}
		struct rtx *t = &rs->txs[pd->tx];
		t->committed = 1;
		t->height = rs->height;
		t->index = index++;
		if (pd->drop)
			continue;
		if (pd->peer != cur) {
			if (cur >= 0)
				rout_send(rs, &o);
			cur = pd->peer;
			rout_begin(&o, cur);
		}
		rout_add(rs, &o, t->id, TXG_ST_COMMITTED, t->height, t->index);
	}
	if (cur >= 0)
		rout_send(rs, &o);
	rs->npend = keep;
}

static void *responder_main(void *arg)
{
	struct responder *rs = arg;
	static uint8_t buf[65536];
	while (!atomic_load(&rs->stop)) {
		struct pollfd pf[2];
		for (int i = 0; i < rs->nfd; i++)
			pf[i] = (struct pollfd){.fd = rs->fd[i], .events = POLLIN};
		poll(pf, (nfds_t)rs->nfd, 1);
		for (int i = 0; i < rs->nfd; i++) {
			for (;;) {
				struct sockaddr_storage sa;
				socklen_t salen = sizeof sa;
				memset(&sa, 0, sizeof sa);
				ssize_t r = recvfrom(rs->fd[i], buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&sa, &salen);
				if (r < 0)
					break;
				handle_frame(rs, rs->fd[i], buf, (size_t)r, &sa, salen);
			}
		}
		commit_due(rs);
	}
	return NULL;
}

static int bind_loopback(int af, uint16_t *port)
{
	int fd = socket(af, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int sz = 4 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	socklen_t len;
	if (af == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof *in;
	} else {
		int one = 1;
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_addr = in6addr_loopback;
		len = sizeof *in6;
	}
	if (bind(fd, (struct sockaddr *)&ss, len) != 0 || getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(af == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port : ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

static int have_v6 = 1;

static struct responder *responder_start(void)
{
	struct responder *rs = calloc(1, sizeof *rs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
	rs->txs = calloc(RMAX_TX, sizeof *rs->txs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rs->txs);
	randombytes_buf(rs->secret, sizeof rs->secret);
	rs->fd[0] = bind_loopback(AF_INET, &rs->port[0]);
	CU_ASSERT_FATAL(rs->fd[0] >= 0);
	rs->nfd = 1;
	rs->fd[1] = bind_loopback(AF_INET6, &rs->port[1]);
	if (rs->fd[1] >= 0) {
		rs->nfd = 2;
	} else if (have_v6) {
		have_v6 = 0;
		fprintf(stderr, "\n  (no IPv6 loopback here: the ::1 parts are skipped)\n");
	}
	CU_ASSERT_FATAL(pthread_create(&rs->th, NULL, responder_main, rs) == 0);
	return rs;
}

/* Stop the thread; its findings stay readable until responder_free. */
static void responder_stop(struct responder *rs)
{
	atomic_store(&rs->stop, 1);
	pthread_join(rs->th, NULL);
	for (int i = 0; i < rs->nfd; i++)
		close(rs->fd[i]);
}

static void responder_free(struct responder *rs)
{
	free(rs->txs);
	free(rs);
}

/* ------------------------------------------------------------------ */
/* Loopback: the library against the responder.                        */

struct want {
	char tag;
	int server;
};

static void loopback_flow(int admit)
{
	struct responder *rs = responder_start();
	struct txc_config cfg;
	txc_config_init(&cfg);
	cfg.chain_id = CHAIN;
	cfg.admit = admit;
	cfg.per_frame = 8;
	cfg.timeout_ms = 40;
	cfg.max_timeout_ms = 320;
	cfg.max_tries = 4;
	cfg.on_answer = on_answer;
	struct txc_key k;
	test_key(&k);
	char err[256], hp[64];
	txc_client *c = txc_open(&cfg, &k, err, sizeof err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	int srv[2], nsrv = 1;
	snprintf(hp, sizeof hp, "127.0.0.1:%u", rs->port[0]);
	srv[0] = add_server(c, hp);
	if (rs->nfd == 2) {
		snprintf(hp, sizeof hp, "[::1]:%u", rs->port[1]);
		srv[nsrv++] = add_server(c, hp);
	}
	CU_ASSERT_FATAL(srv[0] >= 0 && srv[nsrv - 1] >= 0);

	static const struct {
		char tag;
		int n;
	} mix[] = {{'A', 40}, {'R', 10}, {'D', 10}, {'L', 10}, {'C', 10}, {'X', 3}};
	static struct want wants[2 * 83];
	static uint8_t ids[2 * 83][32];
	size_t nw = 0;
	struct txs_tally tally;
	txs_tally_init(&tally);
	log_tally = &tally;
	nans = 0;
	/* Interleaved: a tag per transaction in turn, so frames mix them. */
	for (int round = 0; round < 40; round++)
		for (size_t m = 0; m < sizeof mix / sizeof mix[0]; m++)
			for (int s = 0; s < nsrv; s++)
				if (round < mix[m].n) {
					wants[nw] = (struct want){mix[m].tag, srv[s]};
					CU_ASSERT_EQUAL_FATAL(submit(c, srv[s], mix[m].tag, 20, &wants[nw], ids[nw]), 0);
					nw++;
				}
	uint64_t deadline = now_us() + 20000000;
	while (txc_outstanding(c) > 0 && now_us() < deadline)
		CU_ASSERT(txc_poll(c, 50) >= 0);
	CU_ASSERT_EQUAL(txc_outstanding(c), 0);

	for (size_t i = 0; i < nw; i++) {
		const struct ans *a = answer_for(ids[i], 1);
		CU_ASSERT_FATAL(a != NULL);
		CU_ASSERT_PTR_EQUAL(a->user, &wants[i]);
		CU_ASSERT_EQUAL(a->server, wants[i].server);
		const struct ans *acc = answer_for(ids[i], 0);
		char tag = wants[i].tag;
		switch (tag) {
		case 'A':
		case 'D':
		case 'C':
			CU_ASSERT_EQUAL(a->status, TXC_COMMITTED);
			CU_ASSERT(a->height > 0);
			CU_ASSERT((acc != NULL) == (admit != 0));
			if (tag != 'A')
				CU_ASSERT(a->tries >= 2);
			break;
		case 'R':
			CU_ASSERT_EQUAL(a->status, TXC_UNKNOWN_SENDER);
			break;
		case 'L':
			CU_ASSERT_EQUAL(a->status, TXC_DUPLICATE);
			CU_ASSERT(a->height > 0);
			CU_ASSERT(a->tries >= 2);
			CU_ASSERT_PTR_NULL(acc);
			break;
		case 'X':
			CU_ASSERT_EQUAL(a->status, TXC_LOST);
			CU_ASSERT_EQUAL(a->tries, 4);
			break;
		}
	}
	/* Cookies: one per server, different (different addresses). */
	uint8_t k4[16], k6[16];
	CU_ASSERT_EQUAL(txc_cookie(c, srv[0], k4), 1);
	if (nsrv == 2) {
		CU_ASSERT_EQUAL(txc_cookie(c, srv[1], k6), 1);
		CU_ASSERT(memcmp(k4, k6, 16) != 0);
	}
	struct txc_stats st;
	txc_get_stats(c, &st);
	CU_ASSERT_EQUAL(st.send_errors, 0);
	CU_ASSERT_EQUAL(st.receipts_bad, 0);
	CU_ASSERT_EQUAL(st.cookies, (uint64_t)nsrv);
	txc_close(c);
	responder_stop(rs);
	/* What the responder saw: well-formed signed frames of at most per_frame
	 * records, every retry byte-identical, cookies echoed where due and
	 * never a wrong one. */
	CU_ASSERT_EQUAL(rs->frames_bad, 0);
	CU_ASSERT_EQUAL(rs->sig_bad, 0);
	CU_ASSERT_EQUAL(rs->chain_bad, 0);
	CU_ASSERT_EQUAL(rs->bytes_mismatch, 0);
	CU_ASSERT_EQUAL(rs->cookie_wrong, 0);
	CU_ASSERT_EQUAL(rs->overflow, 0);
	CU_ASSERT(rs->max_per_frame <= 8);
	CU_ASSERT(rs->multi_frames > 0);
	CU_ASSERT(rs->cookie_records >= 10 * (unsigned)nsrv);
	if (rs->cookie_missing)
		printf("\n  (%u retries went out before their cookie arrived: a loaded machine)\n", rs->cookie_missing);
	CU_ASSERT_EQUAL(rs->admit_frames, admit ? rs->frames : 0);
	for (size_t i = 0; i < nw; i++) {
		size_t ti = rtx_find(rs, ids[i]);
		CU_ASSERT_FATAL(ti != SIZE_MAX);
		char tag = wants[i].tag;
		if (tag == 'D' || tag == 'L' || tag == 'C')
			CU_ASSERT(rs->txs[ti].copies >= 2);
		if (tag == 'X')
			CU_ASSERT_EQUAL(rs->txs[ti].copies, 4);
	}
	responder_free(rs);
	log_tally = NULL;

	/* The summary: counts per status and latency samples. */
	txs_tally_finish(&tally);
	unsigned ns = (unsigned)nsrv;
	CU_ASSERT_EQUAL(tally.final[TXC_COMMITTED], 60 * ns);
	CU_ASSERT_EQUAL(tally.final[TXC_UNKNOWN_SENDER], 10 * ns);
	CU_ASSERT_EQUAL(tally.final[TXC_DUPLICATE], 10 * ns);
	CU_ASSERT_EQUAL(tally.dup_retried, 10 * ns);
	CU_ASSERT_EQUAL(tally.dup_located, 10 * ns);
	CU_ASSERT_EQUAL(tally.final[TXC_LOST], 3 * ns);
	CU_ASSERT_EQUAL(tally.finals, nw);
	CU_ASSERT_EQUAL(tally.com.n, 60 * ns);
	CU_ASSERT_EQUAL(tally.acc.n, admit ? 60 * ns : 0);
	const struct txs_lat *ls[2] = {&tally.com, &tally.acc};
	for (int i = 0; i < 2; i++) {
		const struct txs_lat *l = ls[i];
		if (l->n == 0)
			continue;
		uint64_t p50 = txs_tally_pct(l, 50), p90 = txs_tally_pct(l, 90), p99 = txs_tally_pct(l, 99),
			 p999 = txs_tally_pct(l, 99.9);
		CU_ASSERT(p50 <= p90 && p90 <= p99 && p99 <= p999 && p999 <= l->us[l->n - 1]);
		/* D and C answers came after a 40 ms retry; A ones at once. */
		CU_ASSERT(l->us[l->n - 1] >= 40000);
	}
	txs_tally_free(&tally);
}

static void test_loopback_admit(void) { loopback_flow(1); }
static void test_loopback_plain(void) { loopback_flow(0); }

/* ------------------------------------------------------------------ */
/* Loopback: the txsend binary against the responder.                   */

/* Run txsend with args; its stdout into out. Returns its exit status. */
static int run_txsend(const char *const *args, char *out, size_t cap)
{
	const char *argv[40];
	int n = 0;
	argv[n++] = txsend_path;
	for (; args[n - 1]; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	int pfd[2];
	if (pipe(pfd) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		close(pfd[1]);
		execv(txsend_path, (char *const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	size_t len = 0;
	ssize_t r;
	while ((r = read(pfd[0], out + len, cap - 1 - len)) > 0)
		len += (size_t)r;
	out[len] = 0;
	close(pfd[0]);
	int status;
	waitpid(pid, &status, 0);
	printf("%s", out);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The number after `name` on its line in the section whose header line
 * starts with `section` ("answers", "latency"); -1 if absent. */
static long section_value(const char *out, const char *section, const char *name)
{
	const char *p = out;
	int in = 0;
	while (*p) {
		const char *e = strchr(p, '\n');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		char line[512];
		snprintf(line, sizeof line, "%.*s", (int)(l < 511 ? l : 511), p);
		if (strncmp(line, section, strlen(section)) == 0)
			in = 1;
		else if (line[0] != ' ')
			in = 0;
		char w[64];
		long v;
		if (in && sscanf(line, " %63s %ld", w, &v) == 2 && strcmp(w, name) == 0)
			return v;
		p += l + (e != NULL);
	}
	return -1;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static void test_txsend(void)
{
	struct responder *rs = responder_start();
	char key[256], pay[256], pay6[256], server[64], out[65536];
	snprintf(key, sizeof key, "%s/member1.key", workdir);
	write_file(key, "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20\n", 0600);
	/* 40 payloads: tags A x20, R x5, D x5, L x5, C x5, interleaved. */
	snprintf(pay, sizeof pay, "%s/payloads.txt", workdir);
	char text[4096] = "";
	static const char order[] = "ARDLCAAA";
	for (int i = 0; i < 40; i++) {
		char line[64];
		snprintf(line, sizeof line, "%c payload line %d\n", order[i % 8], i);
		strcat(text, line);
	}
	write_file(pay, text, 0644);

	snprintf(server, sizeof server, "127.0.0.1:%u", rs->port[0]);
	const char *a1[] = {"--server", server, "--key", key, "--chain", "7", "--rate", "2000", "--file", pay,
			    "--kind", "1", "--admit", "--timeout-ms", "40", "--per-frame", "4", NULL};
	CU_ASSERT_EQUAL(run_txsend(a1, out, sizeof out), 0);
	CU_ASSERT_EQUAL(section_value(out, "answers", "committed"), 30);
	CU_ASSERT_EQUAL(section_value(out, "answers", "unknown_sender"), 5);
	CU_ASSERT_EQUAL(section_value(out, "answers", "duplicate"), 5);
	CU_ASSERT_EQUAL(section_value(out, "answers", "lost"), 0);
	CU_ASSERT_EQUAL(section_value(out, "latency", "accepted"), 30);
	CU_ASSERT_EQUAL(section_value(out, "latency", "committed"), 30);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "p99.9"));

	/* Random payloads of kind 0 (all 'A'), a count, no ADMIT, unlimited rate. */
	const char *a2[] = {"--server", server, "--key", key, "--chain", "7", "--rate", "0", "--count", "200",
			    "--payload-size", "16", "--per-frame", "16", NULL};
	CU_ASSERT_EQUAL(run_txsend(a2, out, sizeof out), 0);
	CU_ASSERT_EQUAL(section_value(out, "answers", "committed"), 200);
	CU_ASSERT_EQUAL(section_value(out, "answers", "lost"), 0);
	CU_ASSERT_EQUAL(section_value(out, "latency", "accepted"), 0);
	CU_ASSERT_EQUAL(section_value(out, "latency", "committed"), 200);

	/* Over IPv6, with transactions never answered: lost, exit status 1. */
	if (rs->nfd == 2) {
		snprintf(pay6, sizeof pay6, "%s/payloads6.txt", workdir);
		write_file(pay6, "A one\nX never\nA two\nC cookie\nX never again\nA three\n", 0644);
		snprintf(server, sizeof server, "[::1]:%u", rs->port[1]);
		const char *a3[] = {"--server", server, "--key", key, "--chain", "7", "--file", pay6, "--kind", "1",
				    "--timeout-ms", "20", "--max-tries", "2", NULL};
		CU_ASSERT_EQUAL(run_txsend(a3, out, sizeof out), 1);
		CU_ASSERT_EQUAL(section_value(out, "answers", "committed"), 4);
		CU_ASSERT_EQUAL(section_value(out, "answers", "lost"), 2);
	}
	responder_stop(rs);
	CU_ASSERT_EQUAL(rs->frames_bad, 0);
	CU_ASSERT_EQUAL(rs->sig_bad, 0);
	CU_ASSERT_EQUAL(rs->bytes_mismatch, 0);
	CU_ASSERT_EQUAL(rs->cookie_wrong, 0);
	CU_ASSERT(rs->max_per_frame <= 16);
	CU_ASSERT(rs->cookie_records > 0);
	CU_ASSERT(rs->multi_frames > 0);
	responder_free(rs);

	/* Usage and set-up errors: status 2, nothing sent. */
	const char *u1[] = {"--server", "127.0.0.1:9", "--key", key, NULL};
	CU_ASSERT_EQUAL(run_txsend(u1, out, sizeof out), 2);
	const char *u2[] = {"--server", "127.0.0.1:9", "--key", "/nonexistent/k.key", "--chain", "7", NULL};
	CU_ASSERT_EQUAL(run_txsend(u2, out, sizeof out), 2);
	const char *u3[] = {"--server", "127.0.0.1:9", "--key", key, "--chain", "7", "--per-frame", "256", NULL};
	CU_ASSERT_EQUAL(run_txsend(u3, out, sizeof out), 2);
	const char *u4[] = {"--server", "127.0.0.1:9", "--key", key, "--chain", "7", "--payload-size", "2000", NULL};
	CU_ASSERT_EQUAL(run_txsend(u4, out, sizeof out), 2);
}

static void cleanup_workdir(void)
{
	static const char *files[] = {"k1.key", "member1.key", "payloads.txt", "payloads6.txt"};
	char path[512];
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", workdir, files[i]);
		unlink(path);
	}
	rmdir(workdir);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test_client PATH/txsend\n");
		return 2;
	}
	txsend_path = argv[1];
	if (sodium_init() < 0 || !mkdtemp(workdir)) {
		fprintf(stderr, "test_client: set-up failed\n");
		return 1;
	}
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("client", NULL, NULL);
	CU_add_test(s, "key_file", test_key_file);
	CU_add_test(s, "config_and_servers", test_config_and_servers);
	CU_add_test(s, "pack_mtu", test_pack_mtu);
	CU_add_test(s, "pack_path_mtu", test_pack_path_mtu);
	CU_add_test(s, "retry_timing", test_retry_timing);
	CU_add_test(s, "receipt_matching", test_receipt_matching);
	CU_add_test(s, "cookie_echo", test_cookie_echo);
	CU_add_test(s, "loopback_admit", test_loopback_admit);
	CU_add_test(s, "loopback_plain", test_loopback_plain);
	CU_add_test(s, "txsend", test_txsend);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned fails = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	caps_clear();
	cleanup_workdir();
	return fails ? 1 : 0;
}
