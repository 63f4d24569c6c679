/* txflood: a cookie-echoing UDP load generator for txgate. Sends the
 * pre-made frames of a pcap (e.g. from `txgen pcap`) in a loop over one UDP
 * socket at a given rate, reads the receipts that come back, and once one
 * carries a cookie puts it into every frame sent after. See docs/txgen.md. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "flood.h"

#define BATCH 64u	     /* frames per sendmmsg */
#define RBATCH 16u	     /* datagrams per recvmmsg */
#define RBUF 65536u	     /* one received datagram */
#define DRAIN_NS 250000000ll /* receipts still read after the last send */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: txflood --pcap FILE --dst IP --port P [--src IP] [--src-port P]\n"
		   "               [--rate FRAMES_PER_S] [--duration S] [--quiet]\n"
		   "  --rate 0 (the default) sends as fast as it can; --duration defaults to 10 s.\n");
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static int num(const char *opt, const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (!*s || *end || s[0] == '-' || s[0] == '+' || errno || v > max) {
		fprintf(stderr, "txflood: --%s: '%s' is not a number in 0..%llu\n", opt, s, (unsigned long long)max);
		return -1;
	}
	*out = v;
	return 0;
}

static uint8_t *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	uint8_t *b = NULL;
	size_t cap = 0, len = 0, r;
	do {
		if (len == cap) {
			cap = cap ? 2 * cap : 1 << 20;
			uint8_t *nb = realloc(b, cap);
			if (!nb) {
				free(b);
				fclose(f);
				errno = ENOMEM;
				return NULL;
			}
			b = nb;
		}
		r = fread(b + len, 1, cap - len, f);
		len += r;
	} while (r > 0);
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		free(b);
		errno = EIO;
		return NULL;
	}
	*n = len;
	return b;
}

struct flood {
	struct tf_frames fr;
	int fd;
	uint64_t sent_frames, sent_records, send_errors, receipts, bad_receipts;
	uint64_t per_status[TXG_ST_COUNT];
	int have_cookie;
	uint8_t cookie[TXG_COOKIE_LEN];
	size_t next; /* next frame to send */
	/* One batch to send. */
	struct mmsghdr msg[BATCH];
	struct iovec iov[BATCH][2];
	uint8_t hdr[BATCH][TXG_FRAME_HDR_COOKIE_LEN];
	size_t idx[BATCH]; /* the frame of each message */
	/* Received datagrams. */
	struct mmsghdr rmsg[RBATCH];
	struct iovec riov[RBATCH];
	uint8_t *rbuf;
};

/* Read every receipt waiting on the socket. */
static void receive(struct flood *f)
{
	for (int rounds = 0; rounds < 64; rounds++) {
		for (unsigned i = 0; i < RBATCH; i++) {
			f->riov[i].iov_base = f->rbuf + (size_t)i * RBUF;
			f->riov[i].iov_len = RBUF;
			memset(&f->rmsg[i].msg_hdr, 0, sizeof f->rmsg[i].msg_hdr);
			f->rmsg[i].msg_hdr.msg_iov = &f->riov[i];
			f->rmsg[i].msg_hdr.msg_iovlen = 1;
		}
		int r = recvmmsg(f->fd, f->rmsg, RBATCH, MSG_DONTWAIT, NULL);
		if (r <= 0)
			return; /* EAGAIN, or an error such as ECONNREFUSED: nothing to read now */
		for (int i = 0; i < r; i++) {
			uint8_t c[TXG_COOKIE_LEN];
			int has;
			size_t len = f->rmsg[i].msg_len;
			if ((f->rmsg[i].msg_hdr.msg_flags & MSG_TRUNC) ||
			    tf_receipt_take(f->rbuf + (size_t)i * RBUF, len, f->per_status, c, &has) < 0) {
				f->bad_receipts++;
				continue;
			}
			f->receipts++;
			if (has) {
				memcpy(f->cookie, c, sizeof c);
				f->have_cookie = 1;
			}
		}
		if ((unsigned)r < RBATCH)
			return;
	}
}

/* Send up to want frames from f->next on; returns how many left the socket
 * (or failed and were counted as errors), 0 if the socket was full. */
static unsigned send_batch(struct flood *f, unsigned want)
{
	if (want > BATCH)
		want = BATCH;
	size_t k = f->next;
	for (unsigned i = 0; i < want; i++) {
		const uint8_t *fp = f->fr.data + f->fr.off[k];
		size_t len = f->fr.len[k], rest = 0, n = 0;
		struct msghdr *h = &f->msg[i].msg_hdr;
		memset(h, 0, sizeof *h);
		h->msg_iov = f->iov[i];
		if (f->have_cookie)
			n = tf_cookie_header(f->hdr[i], fp, len, f->cookie, &rest);
		if (n) {
			f->iov[i][0].iov_base = f->hdr[i];
			f->iov[i][0].iov_len = TXG_FRAME_HDR_COOKIE_LEN;
			f->iov[i][1].iov_base = (void *)(uintptr_t)(fp + rest);
			f->iov[i][1].iov_len = len - rest;
			h->msg_iovlen = 2;
		} else {
			f->iov[i][0].iov_base = (void *)(uintptr_t)fp;
			f->iov[i][0].iov_len = len;
			h->msg_iovlen = 1;
		}
		f->idx[i] = k;
		k = k + 1 == f->fr.n ? 0 : k + 1;
	}
	int r = sendmmsg(f->fd, f->msg, want, 0);
	unsigned done;
	if (r > 0) {
		done = (unsigned)r;
		for (unsigned i = 0; i < done; i++) {
			f->sent_frames++;
			f->sent_records += f->fr.records[f->idx[i]];
		}
	} else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ENOBUFS)) {
		return 0;
	} else {
		/* The first message failed (e.g. ECONNREFUSED from an earlier
		 * datagram's ICMP answer): count it and go on with the next. */
		f->send_errors++;
		done = 1;
	}
	f->next = (f->next + done) % f->fr.n;
	return done;
}

/* Wait up to ns for the socket to be readable (or writable if out). */
static void wait_sock(struct flood *f, int64_t ns, int out)
{
	struct pollfd p = {.fd = f->fd, .events = (short)(POLLIN | (out ? POLLOUT : 0))};
	int ms = ns <= 0 ? 0 : (int)((ns + 999999) / 1000000);
	if (ms > 100)
		ms = 100;
	if (ms == 0 && ns > 0) {
		struct timespec ts = {0, (long)ns};
		nanosleep(&ts, NULL);
		return;
	}
	poll(&p, 1, ms);
}

static void summary(const struct flood *f)
{
	printf("txflood sent_frames=%llu sent_records=%llu send_errors=%llu receipts=%llu cookie=%s",
	       (unsigned long long)f->sent_frames, (unsigned long long)f->sent_records,
	       (unsigned long long)f->send_errors, (unsigned long long)f->receipts, f->have_cookie ? "yes" : "no");
	for (unsigned s = 0; s < TXG_ST_COUNT; s++)
		if (f->per_status[s])
			printf(" status_%s=%llu", txg_status_name(s), (unsigned long long)f->per_status[s]);
	printf("\n");
	fflush(stdout);
}

static int addr4(const char *opt, const char *s, struct in_addr *a)
{
	if (inet_pton(AF_INET, s, a) != 1) {
		fprintf(stderr, "txflood: --%s: '%s' is not an IPv4 address\n", opt, s);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	enum { O_PCAP = 256, O_DST, O_PORT, O_SRC, O_SPORT, O_RATE, O_DUR, O_QUIET, O_HELP };
	static const struct option lo[] = {
		{"pcap", required_argument, 0, O_PCAP},	   {"dst", required_argument, 0, O_DST},
		{"port", required_argument, 0, O_PORT},	   {"src", required_argument, 0, O_SRC},
		{"src-port", required_argument, 0, O_SPORT}, {"rate", required_argument, 0, O_RATE},
		{"duration", required_argument, 0, O_DUR},   {"quiet", no_argument, 0, O_QUIET},
		{"help", no_argument, 0, O_HELP},	   {0, 0, 0, 0}};
	const char *pcap = NULL;
	struct in_addr dst = {0}, src = {htonl(INADDR_ANY)};
	uint64_t port = 0, sport = 0, rate = 0;
	double duration = 10;
	int have_dst = 0, quiet = 0, c;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		int bad = 0;
		switch (c) {
		case O_PCAP:
			pcap = optarg;
			break;
		case O_DST:
			bad = addr4("dst", optarg, &dst);
			have_dst = 1;
			break;
		case O_PORT:
			bad = num("port", optarg, 65535, &port);
			break;
		case O_SRC:
			bad = addr4("src", optarg, &src);
			break;
		case O_SPORT:
			bad = num("src-port", optarg, 65535, &sport);
			break;
		case O_RATE:
			bad = num("rate", optarg, 1000000000, &rate);
			break;
		case O_DUR: {
			char *end;
			duration = strtod(optarg, &end);
			if (!*optarg || *end || !(duration > 0 && duration <= 1e7)) {
				fprintf(stderr, "txflood: --duration: '%s' is not a number of seconds in (0, 1e7]\n",
					optarg);
				bad = 1;
			}
			break;
		}
		case O_QUIET:
			quiet = 1;
			break;
		case O_HELP:
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
		if (bad)
			return 2;
	}
	if (!pcap || !have_dst || port == 0 || optind != argc) {
		fprintf(stderr, "txflood: needs --pcap FILE --dst IP --port P (P 1..65535)%s\n",
			optind != argc ? ", and no other arguments" : "");
		usage(stderr);
		return 2;
	}

	static struct flood f;
	f.fd = -1;
	size_t flen;
	uint8_t *file = slurp(pcap, &flen);
	if (!file) {
		fprintf(stderr, "txflood: %s: %s\n", pcap, strerror(errno));
		return 1;
	}
	const char *why;
	int rc = tf_frames_from_pcap(file, flen, &f.fr, &why);
	free(file);
	if (rc != 0) {
		fprintf(stderr, "txflood: %s: %s\n", pcap, why);
		return 1;
	}
	if (f.fr.n == 0) {
		fprintf(stderr, "txflood: %s: no IPv4/UDP packet (%zu skipped)\n", pcap, f.fr.skipped);
		tf_frames_free(&f.fr);
		return 1;
	}
	f.rbuf = malloc((size_t)RBATCH * RBUF);
	if (!f.rbuf) {
		fprintf(stderr, "txflood: out of memory\n");
		tf_frames_free(&f.fr);
		return 1;
	}
	rc = 1;
	f.fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (f.fd < 0) {
		perror("txflood: socket");
		goto out;
	}
	int big = 8 << 20;
	(void)setsockopt(f.fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big); /* best effort */
	(void)setsockopt(f.fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)sport), .sin_addr = src};
	if ((sport || src.s_addr != htonl(INADDR_ANY)) && bind(f.fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		char a[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &src, a, sizeof a);
		fprintf(stderr, "txflood: bind %s:%llu: %s\n", a, (unsigned long long)sport, strerror(errno));
		goto out;
	}
	struct sockaddr_in da = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr = dst};
	if (connect(f.fd, (struct sockaddr *)&da, sizeof da) != 0) {
		fprintf(stderr, "txflood: connect %s:%llu: %s\n", inet_ntoa(dst), (unsigned long long)port,
			strerror(errno));
		goto out;
	}
	struct sigaction sig;
	memset(&sig, 0, sizeof sig);
	sig.sa_handler = on_signal;
	sigemptyset(&sig.sa_mask);
	sigaction(SIGINT, &sig, NULL);
	sigaction(SIGTERM, &sig, NULL);
	if (!quiet)
		fprintf(stderr, "txflood: %zu frames from %s (%zu packets skipped), rate %s%llu/s for %g s\n", f.fr.n,
			pcap, f.fr.skipped, rate ? "" : "unlimited ", (unsigned long long)rate, duration);

	int64_t t0 = now_ns(), end = t0 + (int64_t)(duration * 1e9);
	uint64_t attempted = 0; /* frames handed to send_batch that left or failed */
	while (!stop) {
		int64_t t = now_ns();
		if (t >= end)
			break;
		receive(&f);
		unsigned want = BATCH;
		if (rate) {
			/* Frames due by now: one at t0, then rate per second. */
			double el = (double)(t - t0) / 1e9;
			uint64_t due = (uint64_t)((double)rate * el) + 1;
			if (due <= attempted) {
				int64_t next = t0 + (int64_t)((double)attempted / (double)rate * 1e9);
				if (next > end)
					next = end;
				wait_sock(&f, next - t, 0);
				continue;
			}
			want = due - attempted < BATCH ? (unsigned)(due - attempted) : BATCH;
		}
		unsigned done = send_batch(&f, want);
		attempted += done;
		if (done == 0)
			wait_sock(&f, 1000000, 1); /* the socket is full */
	}
	/* The last receipts. */
	int64_t drain_end = now_ns() + DRAIN_NS;
	for (int64_t t = now_ns(); t < drain_end; t = now_ns()) {
		receive(&f);
		wait_sock(&f, drain_end - t, 0);
	}
	receive(&f);
	summary(&f);
	if (!quiet && f.bad_receipts)
		fprintf(stderr, "txflood: %llu datagrams that are not receipts ignored\n",
			(unsigned long long)f.bad_receipts);
	rc = 0;
out:
	if (f.fd >= 0)
		close(f.fd);
	free(f.rbuf);
	tf_frames_free(&f.fr);
	return rc;
}
