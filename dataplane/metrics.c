/* Prometheus metrics: the render and the libmicrohttpd endpoint. */
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "metrics.h"

const uint64_t txg_hist_bounds_us[TXG_HIST_NB] = {
	1,	2,	5,	10,	 20,	  50,	   100,	    200,     500,     1000,     2000,
	5000,	10000,	20000,	50000,	 100000,  200000,  500000,  1000000, 2000000, 5000000, 10000000,
};

static const char *const hist_names[TXG_H_NUM] = {
	"txgate_receive_to_decision_seconds", "txgate_admission_to_sealed_seconds",
	"txgate_sealed_to_durable_seconds",   "txgate_ledger_commit_seconds",
	"txgate_verify_batch_seconds",
};

static const char *const hist_help[TXG_H_NUM] = {
	"Time from a packet's receive burst to the admission decision on its records.",
	"Time from a transaction's admission by a worker to the sealing of its block.",
	"Time from a block's sealing to its durable commit, per transaction.",
	"Time of one LMDB write transaction, fsync included.",
	"Time of one signature verification batch.",
};

const char *txg_hist_name(unsigned id) { return id < TXG_H_NUM ? hist_names[id] : "?"; }

void txg_hist_add(struct txg_hist *dst, const struct txg_hist *src)
{
	for (unsigned i = 0; i <= TXG_HIST_NB; i++)
		dst->b[i] += __atomic_load_n(&src->b[i], __ATOMIC_ACQUIRE);
	dst->sum_us += __atomic_load_n(&src->sum_us, __ATOMIC_RELAXED);
}

/* ---- render ---- */

struct out {
	char *buf;
	size_t cap, len; /* len counts what did not fit too */
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t room = o->len < o->cap ? o->cap - o->len : 0;
	int n = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

/* A number of microseconds as seconds, exact and without trailing zeros. */
static const char *secs(char b[32], uint64_t us)
{
	snprintf(b, 32, "%" PRIu64 ".%06" PRIu64, us / 1000000u, us % 1000000u);
	char *e = b + strlen(b) - 1;
	while (*e == '0')
		*e-- = 0;
	if (*e == '.')
		*e = 0;
	return b;
}

static void family(struct out *o, const char *name, const char *type, const char *help)
{
	put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void one(struct out *o, const char *name, const char *type, const char *help, uint64_t v)
{
	family(o, name, type, help);
	put(o, "%s %" PRIu64 "\n", name, v);
}

/* A label value with \, " and newline escaped. */
static void put_label(struct out *o, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			put(o, "\\%c", *v);
		else if (*v == '\n')
			put(o, "\\n");
		else
			put(o, "%c", *v);
	}
}

/* Counter names without their prefix ("pkt_short" -> "short"). */
static const char *strip(const char *name, const char *prefix)
{
	size_t n = strlen(prefix);
	return strncmp(name, prefix, n) == 0 ? name + n : name;
}

static const char *const neigh_help[TXG_NC_NUM] = {
	"ARP replies sent.",
	"Solicited (and DAD) Neighbour Advertisements sent.",
	"ICMP echo replies sent.",
	"ICMPv6 echo replies sent.",
	"Gratuitous ARPs sent at port start.",
	"Unsolicited Neighbour Advertisements sent at port start.",
	"ARP and NS requests not answered: rate limit.",
	"Echo requests not answered: rate limit.",
	"Malformed neighbour or echo frames (bad length, checksum, ...).",
	"Neighbour and echo replies built but not sent (no mbuf, TX queue full).",
};
_Static_assert(TXG_NC_NUM == 10, "a neighbour counter without help text");

static void hist(struct out *o, unsigned id, const struct txg_hist *h)
{
	const char *name = hist_names[id];
	char b[32];
	family(o, name, "histogram", hist_help[id]);
	uint64_t cum = 0;
	for (unsigned i = 0; i < TXG_HIST_NB; i++) {
		cum += h->b[i];
		put(o, "%s_bucket{le=\"%s\"} %" PRIu64 "\n", name, secs(b, txg_hist_bounds_us[i]), cum);
	}
	cum += h->b[TXG_HIST_NB];
	put(o, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, cum);
	put(o, "%s_sum %s\n", name, secs(b, h->sum_us));
	put(o, "%s_count %" PRIu64 "\n", name, cum);
}

size_t txg_metrics_render(const struct txg_metrics_snap *s, char *buf, size_t cap)
{
	struct out o = {.buf = buf, .cap = cap};
	const struct txg_totals *t = &s->t;
	char b[32];
	if (cap)
		buf[0] = 0;

	one(&o, "txgate_uptime_seconds", "gauge", "Seconds since txgate started.", s->uptime_ms / 1000u);
	one(&o, "txgate_workers", "gauge", "Worker lcores.", s->workers);
	one(&o, "txgate_rx_packets_total", "counter", "Packets received by the workers.", t->rx_packets);
	one(&o, "txgate_rx_bytes_total", "counter", "Bytes received by the workers.", t->rx_bytes);
	one(&o, "txgate_packets_ok_total", "counter", "Packets that passed the packet parser.", t->pkt[0]);
	family(&o, "txgate_packets_dropped_total", "counter",
	       "Packets dropped before the frame, by reason (multiseg: larger than one mbuf).");
	for (unsigned k = 1; k < TXG_PKT_NUM; k++)
		put(&o, "txgate_packets_dropped_total{reason=\"%s\"} %" PRIu64 "\n", strip(txg_pkt_err_name(k), "pkt_"),
		    t->pkt[k]);
	put(&o, "txgate_packets_dropped_total{reason=\"multiseg\"} %" PRIu64 "\n", t->pkt_multiseg);
	one(&o, "txgate_frames_ok_total", "counter", "Frames that passed the frame parser.", t->frame[0]);
	family(&o, "txgate_frames_dropped_total", "counter", "Frames refused whole, by reason.");
	for (unsigned k = 1; k < TXG_FE_NUM; k++)
		put(&o, "txgate_frames_dropped_total{reason=\"%s\"} %" PRIu64 "\n",
		    strip(txg_frame_err_name(k), "frame_"), t->frame[k]);
	one(&o, "txgate_records_total", "counter", "Records in good frames.", t->records);
	family(&o, "txgate_records_by_status_total", "counter",
	       "Records by final status so far (committed from the ledger; in flight not included).");
	for (unsigned k = 0; k < TXG_ST_COUNT; k++)
		if (k != TXG_ST_ACCEPTED)
			put(&o, "txgate_records_by_status_total{status=\"%s\"} %" PRIu64 "\n", txg_status_name(k),
			    t->status[k]);
	one(&o, "txgate_records_in_flight", "gauge", "Records accepted by a worker and not yet committed or refused.",
	    t->status[TXG_ST_ACCEPTED]);
	one(&o, "txgate_ledger_height", "gauge", "Height of the ledger's head.", t->height);
	one(&o, "txgate_blocks_committed_total", "counter", "Blocks durably committed.", t->blocks);
	one(&o, "txgate_commits_total", "counter", "LMDB write transactions.", t->commits);
	family(&o, "txgate_commit_seconds_total", "counter", "Time spent in LMDB write transactions.");
	put(&o, "txgate_commit_seconds_total %s\n", secs(b, t->commit_us_total));
	family(&o, "txgate_commit_max_seconds", "gauge", "Longest LMDB write transaction so far.");
	put(&o, "txgate_commit_max_seconds %s\n", secs(b, t->commit_us_max));
	one(&o, "txgate_dedupe_ids", "gauge", "Transaction ids held in the dedupe window.", t->dedupe_size);
	one(&o, "txgate_dedupe_expired_total", "counter", "Ids forgotten by the dedupe window after expiry.",
	    t->dedupe_expired);
	one(&o, "txgate_orderer_stalls_total", "counter", "Orderer waits for a free block buffer (ledger behind).",
	    t->orderer_stalls);
	one(&o, "txgate_known_at_commit_total", "counter",
	    "Records left out at commit: the ledger already held their id (also counted as duplicate).",
	    t->known_at_commit);
	for (unsigned k = 0; k < TXG_NC_NUM; k++) {
		char name[64];
		snprintf(name, sizeof(name), "txgate_%s_total", txg_neigh_ctr_name(k));
		one(&o, name, "counter", neigh_help[k], t->neigh[k]);
	}
	one(&o, "txgate_receipts_sent_total", "counter", "Receipt datagrams sent.", t->receipts[0]);
	one(&o, "txgate_receipt_entries_total", "counter", "Entries in the receipt datagrams sent.", t->receipts[1]);
	one(&o, "txgate_receipts_dropped_total", "counter", "Receipt datagrams not sent (no mbuf, TX queue full).",
	    t->receipts[2]);
	family(&o, "txgate_frames_cookie_total", "counter",
	       "Frames that carried a cookie, by result (invalid ones are treated as uncookied).");
	put(&o, "txgate_frames_cookie_total{result=\"valid\"} %" PRIu64 "\n", t->cookie[1]);
	put(&o, "txgate_frames_cookie_total{result=\"invalid\"} %" PRIu64 "\n", t->cookie[0]);
	one(&o, "txgate_workers_loaded", "gauge", "Workers under load now (docs/flood.md).", t->flood[TXG_FC_LOADED]);
	one(&o, "txgate_load_percent", "gauge",
	    "Work asked of the busiest worker in its last window, percent of the window (skipped checks priced in).",
	    t->flood[TXG_FC_LOAD_PCT]);
	one(&o, "txgate_load_enters_total", "counter", "Times a worker became loaded.", t->flood[TXG_FC_LOAD_ENTERS]);
	family(&o, "txgate_flood_records_total", "counter",
	       "Records handled by flood protection, by action (docs/flood.md).");
	for (unsigned k = TXG_FC_UNCOOKIED; k <= TXG_FC_PENALTY_DROPPED; k++)
		put(&o, "txgate_flood_records_total{action=\"%s\"} %" PRIu64 "\n", txg_flood_ctr_name(k), t->flood[k]);
	one(&o, "txgate_penalty_boxed_total", "counter", "Times a (member, source prefix) pair was put in the penalty box.",
	    t->flood[TXG_FC_PENALTY_BOXED]);
	one(&o, "txgate_answers_limited_total", "counter",
	    "Answer entries not sent: their destination's bucket was empty (frames without a valid cookie).",
	    t->flood[TXG_FC_ANSWERS_LIMITED]);
	one(&o, "txgate_tag_duplicates_total", "counter", "Duplicates found through the signature tag cache.",
	    t->flood[TXG_FC_TAG_DUPLICATES]);
	one(&o, "txgate_signatures_verified_total", "counter", "Signatures checked by the workers.",
	    t->flood[TXG_FC_VERIFIED]);

	if (s->txn_pool_size) {
		one(&o, "txgate_txn_pool_used", "gauge", "Transaction slots in use.", s->txn_pool_used);
		one(&o, "txgate_txn_pool_size", "gauge", "Transaction slots in the pool.", s->txn_pool_size);
	}
	if (s->mbuf_pool_size) {
		one(&o, "txgate_mbuf_pool_used", "gauge", "Packet buffers in use.", s->mbuf_pool_used);
		one(&o, "txgate_mbuf_pool_size", "gauge", "Packet buffers in the pool.", s->mbuf_pool_size);
	}
	unsigned nr = s->n_rings < TXG_METRICS_MAX_RINGS ? s->n_rings : TXG_METRICS_MAX_RINGS;
	if (nr) {
		family(&o, "txgate_ring_used", "gauge", "Entries waiting in a ring.");
		for (unsigned i = 0; i < nr; i++) {
			put(&o, "txgate_ring_used{ring=\"");
			put_label(&o, s->rings[i].name);
			put(&o, "\"} %" PRIu64 "\n", s->rings[i].used);
		}
		family(&o, "txgate_ring_size", "gauge", "Capacity of a ring.");
		for (unsigned i = 0; i < nr; i++) {
			put(&o, "txgate_ring_size{ring=\"");
			put_label(&o, s->rings[i].name);
			put(&o, "\"} %" PRIu64 "\n", s->rings[i].size);
		}
	}
	unsigned np = s->n_ports < TXG_METRICS_MAX_PORTS ? s->n_ports : TXG_METRICS_MAX_PORTS;
	if (np) {
		static const struct {
			const char *name, *help;
			size_t off;
		} pf[] = {
#define PF(n, f, h) {"txgate_port_" n "_total", h, offsetof(struct txg_metrics_port, f)}
			PF("rx_packets", ipackets, "Packets received by the NIC port."),
			PF("rx_bytes", ibytes, "Bytes received by the NIC port."),
			PF("rx_missed", imissed, "Packets the NIC dropped: RX queues full."),
			PF("rx_errors", ierrors, "Erroneous packets received by the NIC port."),
			PF("rx_nombuf", rx_nombuf, "RX mbuf allocation failures."),
			PF("tx_packets", opackets, "Packets sent by the NIC port."),
			PF("tx_bytes", obytes, "Bytes sent by the NIC port."),
			PF("tx_errors", oerrors, "Packets the NIC port failed to send."),
#undef PF
		};
		for (unsigned f = 0; f < sizeof(pf) / sizeof(pf[0]); f++) {
			family(&o, pf[f].name, "counter", pf[f].help);
			for (unsigned i = 0; i < np; i++) {
				uint64_t v;
				memcpy(&v, (const char *)&s->ports[i] + pf[f].off, sizeof(v));
				put(&o, "%s{port=\"%u\"} %" PRIu64 "\n", pf[f].name, (unsigned)s->ports[i].port_id, v);
			}
		}
	}
	for (unsigned id = 0; id < TXG_H_NUM; id++)
		hist(&o, id, &s->hist[id]);
	if (cap && o.len >= cap)
		buf[cap - 1] = 0;
	return o.len;
}

/* ---- the endpoint ---- */

struct txg_metrics {
	struct MHD_Daemon *d;
	uint16_t port;
	txg_metrics_fill_fn fn;
	void *arg;
	struct txg_metrics_snap snap; /* one polling thread: one scrape at a time */
	char *buf;
	size_t cap;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *type, const char *body,
			     size_t len, const char *allow)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	enum MHD_Result ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			      const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	(void)version;
	(void)upload;
	(void)upload_size;
	(void)con_cls;
	struct txg_metrics *m = cls;
	static const char text[] = "text/plain; charset=utf-8";
	if (strcmp(url, "/metrics") != 0) {
		static const char nf[] = "not found: only /metrics is served\n";
		return reply(c, MHD_HTTP_NOT_FOUND, text, nf, sizeof(nf) - 1, NULL);
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
		static const char na[] = "method not allowed: use GET\n";
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, text, na, sizeof(na) - 1, "GET, HEAD");
	}
	memset(&m->snap, 0, sizeof(m->snap));
	m->fn(&m->snap, m->arg);
	size_t n = txg_metrics_render(&m->snap, m->buf, m->cap);
	if (n >= m->cap) {
		size_t cap = n + 4096;
		char *nb = realloc(m->buf, cap);
		if (!nb) {
			static const char oom[] = "out of memory\n";
			return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, text, oom, sizeof(oom) - 1, NULL);
		}
		m->buf = nb;
		m->cap = cap;
		n = txg_metrics_render(&m->snap, m->buf, m->cap);
		if (n >= m->cap)
			n = m->cap - 1;
	}
	return reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", m->buf, n, NULL);
}

int txg_metrics_parse_listen(const char *where, char *host, size_t hostlen, uint16_t *port, char *err,
			     size_t errlen)
{
	const char *h = where, *he, *p;
	if (where[0] == '[') {
		h = where + 1;
		he = strchr(h, ']');
		if (!he || he[1] != ':') {
			snprintf(err, errlen, "'%s': expected [IPv6 address]:port", where);
			return -1;
		}
		p = he + 2;
	} else {
		he = strrchr(where, ':');
		if (!he) {
			snprintf(err, errlen, "'%s': expected host:port", where);
			return -1;
		}
		if (memchr(where, ':', (size_t)(he - where))) {
			snprintf(err, errlen, "'%s': write an IPv6 address in brackets, [addr]:port", where);
			return -1;
		}
		p = he + 1;
	}
	if (he == h || (size_t)(he - h) >= hostlen) {
		snprintf(err, errlen, "'%s': %s host", where, he == h ? "no" : "too long a");
		return -1;
	}
	char *end;
	errno = 0;
	unsigned long v = strtoul(p, &end, 10);
	if (!*p || *end || errno || v > 65535 || *p == '-' || *p == '+' || *p == ' ') {
		snprintf(err, errlen, "'%s': port must be a number from 0 to 65535", where);
		return -1;
	}
	memcpy(host, h, (size_t)(he - h));
	host[he - h] = 0;
	*port = (uint16_t)v;
	return 0;
}

struct txg_metrics *txg_metrics_start(const char *where, txg_metrics_fill_fn fn, void *arg, char *err,
				      size_t errlen)
{
	if (errlen)
		err[0] = 0;
	if (!where || !*where)
		return NULL;
	char host[256];
	uint16_t port;
	if (txg_metrics_parse_listen(where, host, sizeof(host), &port, err, errlen) < 0)
		return NULL;
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *ai;
	int rc = getaddrinfo(host, NULL, &hints, &ai);
	if (rc != 0) {
		snprintf(err, errlen, "metrics listen '%s': %s", where, gai_strerror(rc));
		return NULL;
	}
	int fam = ai->ai_family;
	struct sockaddr_storage ss;
	socklen_t sl = ai->ai_addrlen;
	memcpy(&ss, ai->ai_addr, sl);
	freeaddrinfo(ai);
	if (fam == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
	int fd = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	if (fd < 0) {
		snprintf(err, errlen, "metrics listen '%s': socket: %s", where, strerror(errno));
		return NULL;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fam == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 64) < 0) {
		snprintf(err, errlen, "metrics listen '%s': %s", where, strerror(errno));
		close(fd);
		return NULL;
	}
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		port = ntohs(fam == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					    : ((struct sockaddr_in6 *)&ss)->sin6_port);
	/* The snapshot's histograms are cache-line aligned: so is m. */
	size_t msz = (sizeof(struct txg_metrics) + 63) / 64 * 64;
	struct txg_metrics *m = aligned_alloc(64, msz);
	if (m)
		memset(m, 0, msz);
	if (m)
		m->buf = malloc(m->cap = 64 * 1024);
	if (!m || !m->buf) {
		snprintf(err, errlen, "metrics: out of memory");
		if (m)
			free(m);
		close(fd);
		return NULL;
	}
	m->fn = fn;
	m->arg = arg;
	m->port = port;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
	if (fam == AF_INET6)
		flags |= MHD_USE_IPv6;
	m->d = MHD_start_daemon(flags, 0, NULL, NULL, handle, m, MHD_OPTION_LISTEN_SOCKET, fd,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)64, MHD_OPTION_CONNECTION_TIMEOUT,
				(unsigned)10, MHD_OPTION_END);
	if (!m->d) {
		snprintf(err, errlen, "metrics listen '%s': cannot start the HTTP server", where);
		close(fd);
		free(m->buf);
		free(m);
		return NULL;
	}
	return m;
}

uint16_t txg_metrics_port(const struct txg_metrics *m) { return m ? m->port : 0; }

void txg_metrics_stop(struct txg_metrics *m)
{
	if (!m)
		return;
	MHD_stop_daemon(m->d); /* joins its thread and closes the listening socket */
	free(m->buf);
	free(m);
}
