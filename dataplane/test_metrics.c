/* Prometheus metrics (dataplane/metrics.h): the text of a known snapshot
 * (names, HELP and TYPE, labels, cumulative buckets), the histogram under
 * a concurrent writer, the HTTP endpoint over a real socket (status codes,
 * Content-Type), and `promtool check metrics` on the output (skipped with a
 * message when promtool is not installed). */
#include <CUnit/Basic.h>
#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "metrics.h"

static void known_snap(struct txg_metrics_snap *s)
{
	memset(s, 0, sizeof(*s));
	struct txg_totals *t = &s->t;
	t->rx_packets = 123456;
	t->rx_bytes = 98765432;
	t->pkt_multiseg = 3;
	t->records = 5000;
	for (unsigned k = 0; k < TXG_PKT_NUM; k++)
		t->pkt[k] = 100 + k;
	for (unsigned k = 0; k < TXG_FE_NUM; k++)
		t->frame[k] = 200 + k;
	for (unsigned k = 0; k < TXG_ST_COUNT; k++)
		t->status[k] = 300 + k;
	t->blocks = 42;
	t->height = 4242;
	t->commits = 40;
	t->commit_us_total = 1234567; /* 1.234567 s */
	t->commit_us_max = 250000;    /* 0.25 s */
	t->dedupe_size = 777;
	t->dedupe_expired = 55;
	t->orderer_stalls = 6;
	t->known_at_commit = 9;
	for (unsigned k = 0; k < TXG_NC_NUM; k++)
		t->neigh[k] = 400 + k;
	t->receipts[0] = 501, t->receipts[1] = 502, t->receipts[2] = 503;
	t->cookie[0] = 601, t->cookie[1] = 602;
	s->uptime_ms = 61500;
	s->workers = 2;
	s->txn_pool_used = 10, s->txn_pool_size = 8191;
	s->mbuf_pool_used = 20, s->mbuf_pool_size = 16383;
	s->n_ports = 2;
	s->ports[0] = (struct txg_metrics_port){.port_id = 0, .ipackets = 11, .ibytes = 12, .imissed = 13,
						.ierrors = 14, .rx_nombuf = 15, .opackets = 16, .obytes = 17, .oerrors = 18};
	s->ports[1] = (struct txg_metrics_port){.port_id = 3, .ipackets = 21, .imissed = 23};
	s->n_rings = 3;
	s->rings[0] = (struct txg_metrics_ring){"worker0", 5, 1024};
	s->rings[1] = (struct txg_metrics_ring){"to_commit", 1, 64};
	s->rings[2] = (struct txg_metrics_ring){"we\"ird\\", 0, 8};
	/* receive -> decision: 3 at 0.5 us, 2 at 7 us, 1 at 20 s. */
	txg_hist_observe_n(&s->hist[TXG_H_DECIDE], 0, 3);
	txg_hist_observe_n(&s->hist[TXG_H_DECIDE], 7, 2);
	txg_hist_observe(&s->hist[TXG_H_DECIDE], 20000000);
	txg_hist_observe(&s->hist[TXG_H_COMMIT], 1500);
}

static char *render(const struct txg_metrics_snap *s)
{
	size_t n = txg_metrics_render(s, NULL, 0);
	char *b = malloc(n + 1);
	CU_ASSERT_FATAL(b != NULL);
	CU_ASSERT_EQUAL(txg_metrics_render(s, b, n + 1), n);
	CU_ASSERT_EQUAL(strlen(b), n);
	return b;
}

/* The text has this exact line. */
static int has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
	return 0;
}

#define LINE(text, ...)                                                                                          \
	do {                                                                                                     \
		char l_[256];                                                                                    \
		snprintf(l_, sizeof(l_), __VA_ARGS__);                                                           \
		if (!has_line(text, l_))                                                                         \
			fprintf(stderr, "\n  missing line: %s", l_);                                             \
		CU_ASSERT(has_line(text, l_));                                                                   \
	} while (0)

static void test_render(void)
{
	struct txg_metrics_snap s;
	known_snap(&s);
	char *b = render(&s);
	LINE(b, "# HELP txgate_rx_packets_total Packets received by the workers.");
	LINE(b, "# TYPE txgate_rx_packets_total counter");
	LINE(b, "txgate_rx_packets_total 123456");
	LINE(b, "txgate_rx_bytes_total 98765432");
	LINE(b, "txgate_records_total 5000");
	LINE(b, "txgate_packets_ok_total 100");
	LINE(b, "# TYPE txgate_packets_dropped_total counter");
	for (unsigned k = 1; k < TXG_PKT_NUM; k++)
		LINE(b, "txgate_packets_dropped_total{reason=\"%s\"} %u", txg_pkt_err_name(k) + 4, 100 + k);
	LINE(b, "txgate_packets_dropped_total{reason=\"udp_csum\"} %u", 100 + TXG_PKT_UDP_CSUM);
	LINE(b, "txgate_packets_dropped_total{reason=\"multiseg\"} 3");
	LINE(b, "txgate_frames_ok_total 200");
	for (unsigned k = 1; k < TXG_FE_NUM; k++)
		LINE(b, "txgate_frames_dropped_total{reason=\"%s\"} %u", txg_frame_err_name(k) + 6, 200 + k);
	LINE(b, "txgate_frames_dropped_total{reason=\"bad_magic\"} %u", 200 + TXG_FE_MAGIC);
	for (unsigned k = 0; k < TXG_ST_COUNT; k++)
		if (k != TXG_ST_ACCEPTED)
			LINE(b, "txgate_records_by_status_total{status=\"%s\"} %u", txg_status_name(k), 300 + k);
	CU_ASSERT(strstr(b, "status=\"accepted\"") == NULL);
	LINE(b, "# TYPE txgate_records_in_flight gauge");
	LINE(b, "txgate_records_in_flight %u", 300 + TXG_ST_ACCEPTED);
	LINE(b, "# TYPE txgate_ledger_height gauge");
	LINE(b, "txgate_ledger_height 4242");
	LINE(b, "txgate_blocks_committed_total 42");
	LINE(b, "txgate_commits_total 40");
	LINE(b, "txgate_commit_seconds_total 1.234567");
	LINE(b, "txgate_commit_max_seconds 0.25");
	LINE(b, "txgate_dedupe_ids 777");
	LINE(b, "txgate_dedupe_expired_total 55");
	LINE(b, "txgate_orderer_stalls_total 6");
	LINE(b, "txgate_known_at_commit_total 9");
	for (unsigned k = 0; k < TXG_NC_NUM; k++)
		LINE(b, "txgate_%s_total %u", txg_neigh_ctr_name(k), 400 + k);
	LINE(b, "txgate_arp_replies_total 400");
	LINE(b, "txgate_receipts_sent_total 501");
	LINE(b, "txgate_receipt_entries_total 502");
	LINE(b, "txgate_receipts_dropped_total 503");
	LINE(b, "txgate_frames_cookie_total{result=\"valid\"} 602");
	LINE(b, "txgate_frames_cookie_total{result=\"invalid\"} 601");
	LINE(b, "txgate_uptime_seconds 61");
	LINE(b, "txgate_workers 2");
	LINE(b, "txgate_txn_pool_used 10");
	LINE(b, "txgate_mbuf_pool_size 16383");
	LINE(b, "txgate_ring_used{ring=\"worker0\"} 5");
	LINE(b, "txgate_ring_size{ring=\"to_commit\"} 64");
	LINE(b, "txgate_ring_used{ring=\"we\\\"ird\\\\\"} 0");
	LINE(b, "txgate_port_rx_missed_total{port=\"0\"} 13");
	LINE(b, "txgate_port_rx_missed_total{port=\"3\"} 23");
	LINE(b, "txgate_port_tx_errors_total{port=\"0\"} 18");

	/* Histograms: cumulative buckets, +Inf = count, sum in seconds. */
	LINE(b, "# TYPE txgate_receive_to_decision_seconds histogram");
	LINE(b, "txgate_receive_to_decision_seconds_bucket{le=\"0.000001\"} 3");
	LINE(b, "txgate_receive_to_decision_seconds_bucket{le=\"0.000005\"} 3");
	LINE(b, "txgate_receive_to_decision_seconds_bucket{le=\"0.00001\"} 5");
	LINE(b, "txgate_receive_to_decision_seconds_bucket{le=\"10\"} 5");
	LINE(b, "txgate_receive_to_decision_seconds_bucket{le=\"+Inf\"} 6");
	LINE(b, "txgate_receive_to_decision_seconds_count 6");
	LINE(b, "txgate_receive_to_decision_seconds_sum 20.000014");
	LINE(b, "txgate_ledger_commit_seconds_bucket{le=\"0.001\"} 0");
	LINE(b, "txgate_ledger_commit_seconds_bucket{le=\"0.002\"} 1");
	LINE(b, "txgate_ledger_commit_seconds_sum 0.0015");
	for (unsigned id = 0; id < TXG_H_NUM; id++) {
		LINE(b, "# TYPE %s histogram", txg_hist_name(id));
		LINE(b, "%s_bucket{le=\"+Inf\"} %u", txg_hist_name(id),
		     id == TXG_H_DECIDE ? 6u : id == TXG_H_COMMIT ? 1u : 0u);
	}

	/* Every sample follows its family's HELP and TYPE; counters end in
	 * _total, gauges do not; bucket counts never go down. */
	char fam[128] = "", type[16] = "";
	int help_seen = 0;
	uint64_t last_bucket = 0;
	unsigned samples = 0, families = 0;
	for (char *line = b; *line;) {
		char *nl = strchr(line, '\n');
		CU_ASSERT_FATAL(nl != NULL);
		*nl = 0;
		char name[128];
		if (sscanf(line, "# HELP %127s", name) == 1) {
			snprintf(fam, sizeof(fam), "%s", name);
			help_seen = 1;
			type[0] = 0;
			last_bucket = 0;
		} else if (sscanf(line, "# TYPE %127s %15s", name, type) == 2) {
			CU_ASSERT(help_seen && strcmp(name, fam) == 0);
			families++;
			size_t n = strlen(name);
			int total = n > 6 && strcmp(name + n - 6, "_total") == 0;
			if (strcmp(type, "counter") == 0) {
				CU_ASSERT(total);
			} else {
				CU_ASSERT(!total);
			}
			CU_ASSERT(strncmp(name, "txgate_", 7) == 0);
		} else {
			samples++;
			CU_ASSERT(type[0] != 0);
			CU_ASSERT(strncmp(line, fam, strlen(fam)) == 0);
			if (strcmp(type, "histogram") == 0 && strstr(line, "_bucket{")) {
				uint64_t v = strtoull(strrchr(line, ' ') + 1, NULL, 10);
				CU_ASSERT(v >= last_bucket);
				last_bucket = v;
			}
		}
		*nl = '\n';
		line = nl + 1;
	}
	fprintf(stderr, "\n  %u families, %u samples, %zu bytes", families, samples, strlen(b));
	CU_ASSERT(families > 40);

	/* A short buffer: cut, NUL-terminated, the full length returned. */
	char small[100];
	CU_ASSERT_EQUAL(txg_metrics_render(&s, small, sizeof(small)), strlen(b));
	CU_ASSERT_EQUAL(strlen(small), sizeof(small) - 1);
	CU_ASSERT(strncmp(small, b, sizeof(small) - 1) == 0);
	free(b);

	/* Without ports, rings or pools those families are left out. */
	memset(&s, 0, sizeof(s));
	b = render(&s);
	CU_ASSERT(strstr(b, "txgate_port_") == NULL);
	CU_ASSERT(strstr(b, "txgate_ring_") == NULL);
	CU_ASSERT(strstr(b, "pool") == NULL);
	LINE(b, "txgate_ledger_commit_seconds_count 0");
	LINE(b, "txgate_ledger_commit_seconds_sum 0");
	free(b);
}

static void test_hist_buckets(void)
{
	struct txg_hist h, sum;
	memset(&h, 0, sizeof(h));
	memset(&sum, 0, sizeof(sum));
	/* On a bound: that bucket (le is <=); one over: the next. */
	for (unsigned i = 0; i < TXG_HIST_NB; i++) {
		txg_hist_observe(&h, txg_hist_bounds_us[i]);
		CU_ASSERT_EQUAL(h.b[i], 1);
		txg_hist_observe(&h, txg_hist_bounds_us[i] + 1);
		CU_ASSERT_EQUAL(h.b[i + 1], 1);
		memset(&h, 0, sizeof(h));
	}
	for (unsigned i = 1; i < TXG_HIST_NB; i++)
		CU_ASSERT(txg_hist_bounds_us[i] > txg_hist_bounds_us[i - 1]);
	txg_hist_observe(&h, UINT64_MAX / 4);
	CU_ASSERT_EQUAL(h.b[TXG_HIST_NB], 1);
	txg_hist_observe_n(&h, 3, 10);
	CU_ASSERT_EQUAL(h.b[2], 10);
	txg_hist_add(&sum, &h);
	txg_hist_add(&sum, &h);
	CU_ASSERT_EQUAL(sum.b[2], 20);
	CU_ASSERT_EQUAL(sum.b[TXG_HIST_NB], 2);
	CU_ASSERT_EQUAL(sum.sum_us, 2 * (UINT64_MAX / 4 + 30));
}

/* One writer records flat out while this thread sums: what a reader sees
 * only grows, and at the end it is exact. */
static struct txg_hist shared;
static volatile int writer_done;
#define WRITES 2000000u

static void *writer(void *arg)
{
	(void)arg;
	for (uint64_t i = 0; i < WRITES; i++)
		txg_hist_observe(&shared, i % 3000);
	__atomic_store_n(&writer_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void test_hist_concurrent(void)
{
	pthread_t th;
	CU_ASSERT_FATAL(pthread_create(&th, NULL, writer, NULL) == 0);
	uint64_t last = 0, reads = 0;
	int monotonic = 1;
	while (!__atomic_load_n(&writer_done, __ATOMIC_ACQUIRE)) {
		struct txg_hist s;
		memset(&s, 0, sizeof(s));
		txg_hist_add(&s, &shared);
		uint64_t c = 0;
		for (unsigned i = 0; i <= TXG_HIST_NB; i++)
			c += s.b[i];
		if (c < last)
			monotonic = 0;
		last = c;
		reads++;
	}
	pthread_join(th, NULL);
	struct txg_hist s;
	memset(&s, 0, sizeof(s));
	txg_hist_add(&s, &shared);
	uint64_t c = 0, want_sum = 0;
	for (unsigned i = 0; i <= TXG_HIST_NB; i++)
		c += s.b[i];
	for (uint64_t i = 0; i < WRITES; i++)
		want_sum += i % 3000;
	fprintf(stderr, "\n  %" PRIu64 " reads during the writes", reads);
	CU_ASSERT(monotonic);
	CU_ASSERT_EQUAL(c, WRITES);
	CU_ASSERT_EQUAL(s.sum_us, want_sum);
}

/* ---- the endpoint ---- */

static unsigned fills;

static void fill(struct txg_metrics_snap *s, void *arg)
{
	known_snap(s);
	s->t.rx_packets = *(uint64_t *)arg + fills++;
}

/* One request over a fresh connection; returns the status code (-1 on a
 * socket error) and the whole response in resp (malloc'd). */
static int http(uint16_t port, const char *method, const char *path, char **resp)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	char req[256];
	int n = snprintf(req, sizeof(req),
			 "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", method,
			 path);
	if (write(fd, req, (size_t)n) != n) {
		close(fd);
		return -1;
	}
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (len + 1 >= cap)
			buf = realloc(buf, cap *= 2);
		ssize_t r = read(fd, buf + len, cap - len - 1);
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	buf[len] = 0;
	close(fd);
	int code = -1;
	if (sscanf(buf, "HTTP/1.%*d %d", &code) != 1)
		code = -1;
	*resp = buf;
	return code;
}

static void test_server(void)
{
	char err[256];
	uint64_t base = 1000;
	struct txg_metrics *m = txg_metrics_start("127.0.0.1:0", fill, &base, err, sizeof(err));
	if (!m)
		fprintf(stderr, "\n  start: %s", err);
	CU_ASSERT_FATAL(m != NULL);
	uint16_t port = txg_metrics_port(m);
	CU_ASSERT(port != 0);

	char *r;
	CU_ASSERT_EQUAL(http(port, "GET", "/metrics", &r), 200);
	CU_ASSERT(strstr(r, "\r\nContent-Type: text/plain; version=0.0.4") != NULL);
	char *body = strstr(r, "\r\n\r\n");
	CU_ASSERT_FATAL(body != NULL);
	body += 4;
	CU_ASSERT(strncmp(body, "# HELP txgate_", 14) == 0);
	CU_ASSERT(has_line(body, "txgate_rx_packets_total 1000"));
	CU_ASSERT(has_line(body, "txgate_receive_to_decision_seconds_count 6"));
	/* The same as the render of the same snapshot. */
	struct txg_metrics_snap s;
	known_snap(&s);
	s.t.rx_packets = 1000;
	char *want = render(&s);
	CU_ASSERT_STRING_EQUAL(body, want);
	free(want);
	free(r);
	/* A second scrape calls the callback again. */
	CU_ASSERT_EQUAL(http(port, "GET", "/metrics", &r), 200);
	CU_ASSERT(strstr(r, "\ntxgate_rx_packets_total 1001\n") != NULL);
	free(r);
	CU_ASSERT_EQUAL(fills, 2);

	CU_ASSERT_EQUAL(http(port, "GET", "/other", &r), 404);
	free(r);
	CU_ASSERT_EQUAL(http(port, "GET", "/", &r), 404);
	free(r);
	CU_ASSERT_EQUAL(http(port, "GET", "/metrics/", &r), 404);
	free(r);
	CU_ASSERT_EQUAL(http(port, "POST", "/metrics", &r), 405);
	CU_ASSERT(strstr(r, "\r\nAllow: GET, HEAD\r\n") != NULL);
	free(r);
	CU_ASSERT_EQUAL(http(port, "PUT", "/metrics", &r), 405);
	free(r);
	CU_ASSERT_EQUAL(http(port, "DELETE", "/metrics", &r), 405);
	free(r);
	CU_ASSERT_EQUAL(http(port, "HEAD", "/metrics", &r), 200);
	CU_ASSERT(strstr(r, "# HELP") == NULL);
	free(r);
	/* A query string is not part of the path. */
	CU_ASSERT_EQUAL(http(port, "GET", "/metrics?x=1", &r), 200);
	free(r);
	CU_ASSERT_EQUAL(fills, 4);

	/* The port is taken: a second server says so. */
	char addr[64];
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", (unsigned)port);
	CU_ASSERT(txg_metrics_start(addr, fill, &base, err, sizeof(err)) == NULL);
	fprintf(stderr, "\n  port taken: %s", err);
	CU_ASSERT(strstr(err, "in use") != NULL);

	txg_metrics_stop(m);
	CU_ASSERT_EQUAL(http(port, "GET", "/metrics", &r), -1);
	txg_metrics_stop(NULL);

	/* IPv6 loopback, where the machine has it. */
	m = txg_metrics_start("[::1]:0", fill, &base, err, sizeof(err));
	if (m) {
		CU_ASSERT(txg_metrics_port(m) != 0);
		txg_metrics_stop(m);
	} else {
		fprintf(stderr, "\n  no IPv6 loopback (%s): skipped", err);
	}
}

static void test_listen_strings(void)
{
	char err[256], host[64];
	uint16_t port;
	CU_ASSERT(txg_metrics_parse_listen("127.0.0.1:9470", host, sizeof(host), &port, err, sizeof(err)) == 0);
	CU_ASSERT_STRING_EQUAL(host, "127.0.0.1");
	CU_ASSERT_EQUAL(port, 9470);
	CU_ASSERT(txg_metrics_parse_listen("[::1]:80", host, sizeof(host), &port, err, sizeof(err)) == 0);
	CU_ASSERT_STRING_EQUAL(host, "::1");
	CU_ASSERT_EQUAL(port, 80);
	CU_ASSERT(txg_metrics_parse_listen("localhost:0", host, sizeof(host), &port, err, sizeof(err)) == 0);
	CU_ASSERT_EQUAL(port, 0);
	static const char *const bad[] = {"127.0.0.1", "127.0.0.1:", ":9470", "127.0.0.1:65536", "127.0.0.1:-1",
					  "127.0.0.1:9x", "::1:9470", "[::1]9470", "[::1", "[]:1", "h:+1"};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		CU_ASSERT(txg_metrics_parse_listen(bad[i], host, sizeof(host), &port, err, sizeof(err)) < 0);
		CU_ASSERT(err[0] != 0);
		err[0] = 0;
		CU_ASSERT(txg_metrics_start(bad[i], fill, NULL, err, sizeof(err)) == NULL);
		CU_ASSERT(err[0] != 0);
	}
	/* Off: no server and no error. */
	strcpy(err, "x");
	CU_ASSERT(txg_metrics_start("", fill, NULL, err, sizeof(err)) == NULL);
	CU_ASSERT_EQUAL(err[0], 0);
	strcpy(err, "x");
	CU_ASSERT(txg_metrics_start(NULL, fill, NULL, err, sizeof(err)) == NULL);
	CU_ASSERT_EQUAL(err[0], 0);
	CU_ASSERT(txg_metrics_start("no-such-host.invalid:1", fill, NULL, err, sizeof(err)) == NULL);
	CU_ASSERT(err[0] != 0);
}

/* ---- promtool ---- */

static int promtool_check(const char *text, const char *what)
{
	char path[] = "/tmp/txg_metrics_XXXXXX";
	int fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	size_t n = strlen(text);
	CU_ASSERT_FATAL(write(fd, text, n) == (ssize_t)n);
	close(fd);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s 2>&1", path);
	FILE *p = popen(cmd, "r");
	CU_ASSERT_FATAL(p != NULL);
	char line[512];
	while (fgets(line, sizeof(line), p))
		fprintf(stderr, "\n  promtool (%s): %s", what, line);
	int rc = pclose(p);
	unlink(path);
	return rc;
}

static void test_promtool(void)
{
	if (system("command -v promtool >/dev/null 2>&1") != 0) {
		fprintf(stderr, "\n  SKIPPED: promtool not found (apt-get install prometheus)");
		return;
	}
	struct txg_metrics_snap s;
	known_snap(&s);
	char *b = render(&s);
	CU_ASSERT_EQUAL(promtool_check(b, "known snapshot"), 0);
	free(b);
	memset(&s, 0, sizeof(s));
	b = render(&s);
	CU_ASSERT_EQUAL(promtool_check(b, "empty snapshot"), 0);
	free(b);
	/* And what the server sends. */
	char err[256];
	uint64_t base = 7;
	struct txg_metrics *m = txg_metrics_start("127.0.0.1:0", fill, &base, err, sizeof(err));
	CU_ASSERT_FATAL(m != NULL);
	char *r;
	CU_ASSERT_EQUAL(http(txg_metrics_port(m), "GET", "/metrics", &r), 200);
	char *body = strstr(r, "\r\n\r\n");
	CU_ASSERT_FATAL(body != NULL);
	CU_ASSERT_EQUAL(promtool_check(body + 4, "served"), 0);
	free(r);
	txg_metrics_stop(m);
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("metrics", NULL, NULL);
	if (!s || !CU_add_test(s, "render a known snapshot", test_render) ||
	    !CU_add_test(s, "histogram buckets", test_hist_buckets) ||
	    !CU_add_test(s, "histogram read while written", test_hist_concurrent) ||
	    !CU_add_test(s, "listen strings", test_listen_strings) ||
	    !CU_add_test(s, "HTTP endpoint", test_server) ||
	    !CU_add_test(s, "promtool check metrics", test_promtool)) {
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned fails = CU_get_number_of_failures();
	CU_cleanup_registry();
	return fails ? 1 : 0;
}
