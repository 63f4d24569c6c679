/* txsend: open-loop sender on libtxgate-client. Sends COUNT signed
 * transactions at RATE per second on a fixed schedule (sends never wait for
 * answers), follows every one to its final answer (retrying with the same
 * bytes), then prints the answers per status and the latency from first
 * send to `accepted` and to `committed`. See docs/client.md. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tally.h"
#include "txgate_client.h"

#define BURST 4096 /* most submits between two polls */

static volatile sig_atomic_t g_signals;

static void on_signal(int sig)
{
	(void)sig;
	g_signals++;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: txsend --server HOST:PORT --key FILE --chain ID [options]\n"
		"  --server HOST:PORT   txgate's address: HOST:PORT, [IPV6]:PORT or HOST (port 7400)\n"
		"  --key FILE           member seed file as txgen keygen writes it (DIR/<name>.key)\n"
		"  --chain ID           chain id put in every record\n"
		"  --rate TX/S          transactions per second, open loop (default 1000; 0 = as fast as possible)\n"
		"  --count N            transactions to send (default 1000; with --file, its line count)\n"
		"  --payload-size B     random payload bytes per transaction (default 64)\n"
		"  --file PAYLOADS      payloads from a file, one per line (cycled if --count is larger)\n"
		"  --per-frame K        most records in one frame, 1..255 (default 8; the MTU also limits)\n"
		"  --admit              ask for `accepted` at admission as well as `committed` (frame flag ADMIT)\n"
		"  --timeout-ms T       wait before the first retry, doubling after each (default 1000)\n"
		"  --max-timeout-ms T   cap of the doubling wait (default 8000)\n"
		"  --max-tries N        sends per transaction, first included (default 5)\n"
		"  --ttl-ms T           expiry = now + T (default 60000; txgate's default max_ttl is 120000)\n"
		"  --mtu B              largest IP packet (default 1500)\n"
		"  --kind K             body kind byte (default 0)\n"
		"  --progress           a status line on stderr once a second\n"
		"  --answers FILE       write each final answer as a line: tx_id, status, height, index\n"
		"exit status: 0 every transaction got a final answer; 1 some were lost or left\n"
		"unanswered; 2 bad usage or set-up error\n");
}

static int num(const char *opt, const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi) {
		fprintf(stderr, "txsend: %s %s: expected a number in %" PRIu64 "..%" PRIu64 "\n", opt, s, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

struct payloads {
	char *data;
	size_t *off, *len;
	size_t n;
};

/* Read FILE as payloads, one per line (newline and a CR before it removed). */
static int load_payloads(const char *path, size_t max, struct payloads *p)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "txsend: %s: %s\n", path, strerror(errno));
		return -1;
	}
	size_t cap = 0, size = 0;
	char buf[65536];
	size_t r;
	while ((r = fread(buf, 1, sizeof buf, f)) > 0) {
		if (size + r > cap) {
			cap = (size + r) * 2;
			char *nd = realloc(p->data, cap);
			if (!nd) {
				fclose(f);
				fprintf(stderr, "txsend: out of memory\n");
				return -1;
			}
			p->data = nd;
		}
		memcpy(p->data + size, buf, r);
		size += r;
	}
	int err = ferror(f);
	fclose(f);
	if (err) {
		fprintf(stderr, "txsend: %s: read error\n", path);
		return -1;
	}
	size_t lines = 0;
	for (size_t i = 0; i < size; i++)
		lines += p->data[i] == '\n';
	if (size > 0 && p->data[size - 1] != '\n')
		lines++;
	if (lines == 0) {
		fprintf(stderr, "txsend: %s: no lines\n", path);
		return -1;
	}
	p->off = malloc(lines * sizeof *p->off);
	p->len = malloc(lines * sizeof *p->len);
	if (!p->off || !p->len) {
		fprintf(stderr, "txsend: out of memory\n");
		return -1;
	}
	size_t start = 0;
	for (size_t i = 0; i <= size && p->n < lines; i++) {
		if (i < size && p->data[i] != '\n')
			continue;
		size_t l = i - start;
		if (l > 0 && p->data[start + l - 1] == '\r')
			l--;
		if (l > max) {
			fprintf(stderr, "txsend: %s:%zu: payload of %zu bytes, over the %zu a frame holds\n", path,
				p->n + 1, l, max);
			return -1;
		}
		p->off[p->n] = start;
		p->len[p->n++] = l;
		start = i + 1;
	}
	return 0;
}

struct run {
	struct txs_tally tally;
	uint64_t answered; /* final answers */
	FILE *answers;	   /* --answers: one line per final answer, or NULL */
};

static void on_answer(void *arg, const struct txc_answer *a)
{
	struct run *r = arg;
	txs_tally_add(&r->tally, a);
	if (!a->final)
		return;
	r->answered++;
	if (r->answers) {
		char hex[2 * TXC_ID_LEN + 1];
		for (unsigned i = 0; i < TXC_ID_LEN; i++)
			snprintf(hex + 2 * i, 3, "%02x", a->tx_id[i]);
		fprintf(r->answers, "%s\t%s\t%" PRIu64 "\t%" PRIu32 "\n", hex, txc_status_name(a->status), a->height,
			a->index);
	}
}

int main(int argc, char **argv)
{
	const char *server = NULL, *key_path = NULL, *file = NULL, *answers = NULL;
	uint64_t chain = 0, rate = 1000, count = 1000, psize = 64, per_frame = 8, timeout = 1000, max_timeout = 8000,
		 tries = 5, ttl = 60000, mtu = 1500, kind = 0;
	int have_chain = 0, have_count = 0, have_psize = 0, admit = 0, progress = 0;
	static const struct option opts[] = {
		{"server", required_argument, 0, 's'},	   {"key", required_argument, 0, 'k'},
		{"chain", required_argument, 0, 'c'},	   {"rate", required_argument, 0, 'r'},
		{"count", required_argument, 0, 'n'},	   {"payload-size", required_argument, 0, 'p'},
		{"per-frame", required_argument, 0, 'K'},  {"admit", no_argument, 0, 'a'},
		{"timeout-ms", required_argument, 0, 't'}, {"max-timeout-ms", required_argument, 0, 'T'},
		{"max-tries", required_argument, 0, 'm'},  {"ttl-ms", required_argument, 0, 'l'},
		{"mtu", required_argument, 0, 'M'},	   {"kind", required_argument, 0, 'i'},
		{"file", required_argument, 0, 'f'},	   {"progress", no_argument, 0, 'P'},
		{"answers", required_argument, 0, 'A'},
		{"help", no_argument, 0, 'h'},		   {0, 0, 0, 0},
	};
	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		int bad = 0;
		switch (o) {
		case 's': server = optarg; break;
		case 'k': key_path = optarg; break;
		case 'f': file = optarg; break;
		case 'A': answers = optarg; break;
		case 'a': admit = 1; break;
		case 'P': progress = 1; break;
		case 'c': bad = num("--chain", optarg, 0, UINT32_MAX, &chain); have_chain = 1; break;
		case 'r': bad = num("--rate", optarg, 0, 100000000, &rate); break;
		case 'n': bad = num("--count", optarg, 1, 1000000000, &count); have_count = 1; break;
		case 'p': bad = num("--payload-size", optarg, 0, 65000, &psize); have_psize = 1; break;
		case 'K': bad = num("--per-frame", optarg, 1, 255, &per_frame); break;
		case 't': bad = num("--timeout-ms", optarg, 1, 3600000, &timeout); break;
		case 'T': bad = num("--max-timeout-ms", optarg, 1, 3600000, &max_timeout); break;
		case 'm': bad = num("--max-tries", optarg, 1, 255, &tries); break;
		case 'l': bad = num("--ttl-ms", optarg, 1, 86400000, &ttl); break;
		case 'M': bad = num("--mtu", optarg, 576, 65535, &mtu); break;
		case 'i': bad = num("--kind", optarg, 0, 255, &kind); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
		if (bad)
			return 2;
	}
	if (optind != argc || !server || !key_path || !have_chain) {
		fprintf(stderr, "txsend: --server, --key and --chain are required\n");
		usage(stderr);
		return 2;
	}
	if (file && have_psize) {
		fprintf(stderr, "txsend: --file and --payload-size exclude each other\n");
		return 2;
	}
	if (max_timeout < timeout)
		max_timeout = timeout;
	if (ttl > 120000)
		fprintf(stderr, "txsend: warning: --ttl-ms %" PRIu64 " is over txgate's default max_ttl_ms (120000)\n",
			ttl);

	char err[512];
	struct txc_key key;
	if (txc_key_load(key_path, &key, err, sizeof err) != 0) {
		fprintf(stderr, "txsend: %s\n", err);
		return 2;
	}
	struct run run;
	memset(&run, 0, sizeof run);
	if (answers && !(run.answers = fopen(answers, "w"))) {
		fprintf(stderr, "txsend: --answers %s: %s\n", answers, strerror(errno));
		return 2;
	}
	txs_tally_init(&run.tally);
	struct txc_config cfg;
	txc_config_init(&cfg);
	cfg.chain_id = (uint32_t)chain;
	cfg.mtu = (unsigned)mtu;
	cfg.per_frame = (unsigned)per_frame;
	cfg.admit = admit;
	cfg.timeout_ms = (uint32_t)timeout;
	cfg.max_timeout_ms = (uint32_t)max_timeout;
	cfg.max_tries = (unsigned)tries;
	cfg.ttl_ms = ttl;
	cfg.on_answer = on_answer;
	cfg.answer_arg = &run;
	txc_client *c = txc_open(&cfg, &key, err, sizeof err);
	txc_key_wipe(&key);
	if (!c) {
		fprintf(stderr, "txsend: %s\n", err);
		return 2;
	}
	int srv = txc_server_add(c, server, err, sizeof err);
	if (srv < 0) {
		fprintf(stderr, "txsend: %s\n", err);
		txc_close(c);
		return 2;
	}
	struct payloads pl;
	memset(&pl, 0, sizeof pl);
	uint8_t *rnd = NULL;
	if (file) {
		if (load_payloads(file, txc_payload_max(c, srv), &pl) != 0) {
			txc_close(c);
			return 2;
		}
		if (!have_count)
			count = pl.n;
	} else {
		if (psize > txc_payload_max(c, srv)) {
			fprintf(stderr, "txsend: --payload-size %" PRIu64 " is over the %zu bytes one frame holds (--mtu)\n",
				psize, txc_payload_max(c, srv));
			txc_close(c);
			return 2;
		}
		rnd = malloc(psize ? psize : 1);
		if (!rnd) {
			fprintf(stderr, "txsend: out of memory\n");
			return 2;
		}
	}

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	char rate_s[32];
	if (rate)
		snprintf(rate_s, sizeof rate_s, "%" PRIu64 " tx/s", rate);
	else
		snprintf(rate_s, sizeof rate_s, "unlimited rate");
	fprintf(stderr, "txsend: %" PRIu64 " transactions to %s, chain %" PRIu64 ", %s, up to %" PRIu64 " per frame%s\n",
		count, txc_server_name(c, srv), chain, rate_s, per_frame, admit ? ", admit" : "");

	uint64_t t0 = txc_now_us(c), sent = 0, next_progress = t0 + 1000000;
	int rc = 0;
	while (sent < count && g_signals == 0) {
		uint64_t now = txc_now_us(c);
		uint64_t due = count;
		if (rate) {
			double d = (double)(now - t0) * (double)rate / 1e6 + 1;
			if (d < (double)count)
				due = (uint64_t)d;
		}
		if (due > sent + BURST)
			due = sent + BURST;
		for (; sent < due; sent++) {
			struct txc_tx tx;
			memset(&tx, 0, sizeof tx);
			tx.kind = (uint8_t)kind;
			if (file) {
				size_t li = (size_t)(sent % pl.n);
				tx.payload = pl.data + pl.off[li];
				tx.payload_len = pl.len[li];
			} else {
				randombytes_buf(rnd, psize);
				tx.payload = rnd;
				tx.payload_len = psize;
			}
			if (txc_submit(c, srv, &tx, NULL) != 0) {
				fprintf(stderr, "txsend: submit: %s\n", strerror(errno));
				rc = 2;
				break;
			}
		}
		if (rc)
			break;
		int64_t wait = 0;
		if (rate && sent < count) {
			uint64_t next = t0 + (uint64_t)((double)sent * 1e6 / (double)rate);
			now = txc_now_us(c);
			wait = next > now ? (int64_t)(next - now) : 0;
		}
		if (txc_poll_us(c, wait) < 0) {
			fprintf(stderr, "txsend: socket: %s\n", strerror(errno));
			rc = 2;
			break;
		}
		if (progress && txc_now_us(c) >= next_progress) {
			fprintf(stderr, "txsend: sent %" PRIu64 " answered %" PRIu64 " outstanding %zu\n", sent,
				run.answered, txc_outstanding(c));
			next_progress += 1000000;
		}
	}
	uint64_t t_sent = txc_now_us(c);
	if (g_signals)
		fprintf(stderr, "txsend: stopped sending after %" PRIu64 "; waiting for the answers (again to stop)\n",
			sent);
	unsigned sigs_at_stop = (unsigned)g_signals;
	while (rc == 0 && txc_outstanding(c) > 0 && (unsigned)g_signals <= sigs_at_stop) {
		if (txc_poll(c, 100) < 0) {
			fprintf(stderr, "txsend: socket: %s\n", strerror(errno));
			rc = 2;
		}
		if (progress && txc_now_us(c) >= next_progress) {
			fprintf(stderr, "txsend: sent %" PRIu64 " answered %" PRIu64 " outstanding %zu\n", sent,
				run.answered, txc_outstanding(c));
			next_progress += 1000000;
		}
	}
	uint64_t t_end = txc_now_us(c);
	size_t unanswered = txc_outstanding(c);

	struct txc_stats st;
	txc_get_stats(c, &st);
	txs_tally_finish(&run.tally);
	double send_s = (double)(t_sent - t0) / 1e6, all_s = (double)(t_end - t0) / 1e6;
	printf("txsend: %" PRIu64 " transactions to %s (chain %" PRIu64 ")\n", sent, txc_server_name(c, srv), chain);
	printf("sent in %.3f s: %.1f tx/s (target %s); last answer after %.3f s\n", send_s,
	       send_s > 0 ? (double)sent / send_s : 0.0, rate_s, all_s);
	printf("frames %" PRIu64 ", records %" PRIu64 " (retries %" PRIu64 "), send errors %" PRIu64
	       "; receipts %" PRIu64 " (bad %" PRIu64 "), entries %" PRIu64 " (unmatched %" PRIu64
	       "), cookies %" PRIu64 "\n",
	       st.frames_sent, st.records_sent, st.retries, st.send_errors, st.receipts, st.receipts_bad, st.entries,
	       st.entries_unmatched, st.cookies);
	txs_tally_print(stdout, &run.tally);
	if (unanswered)
		printf("unanswered (stopped before their retries ran out): %zu\n", unanswered);
	uint64_t lost = run.tally.final[TXC_LOST];
	if (lost || unanswered)
		fprintf(stderr, "txsend: %" PRIu64 " lost, %zu unanswered\n", lost, unanswered);
	txs_tally_free(&run.tally);
	txc_close(c);
	if (run.answers && fclose(run.answers) != 0) {
		fprintf(stderr, "txsend: --answers %s: %s\n", answers, strerror(errno));
		rc = rc ? rc : 2;
	}
	free(rnd);
	free(pl.data);
	free(pl.off);
	free(pl.len);
	if (rc)
		return rc;
	return (lost || unanswered) ? 1 : 0;
}
