/* libtxgate-client: records, frames, retries, receipts and cookies.
 *
 * State: a slab of transactions (indices, never pointers, so a callback may
 * submit while the slab grows), an open-addressing table tx_id -> slot for
 * receipt matching, a min-heap of retry deadlines with lazy deletion (an
 * entry counts only if its gen is the transaction's current one), and per
 * server a FIFO of slots waiting to be sent. A transaction answered while
 * it waits in a FIFO is marked dead and its slot is freed when the FIFO
 * reaches it. */
#include "txgate_client.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <fcntl.h>

#include "hex.h"
#include "receipt.h"
#include "record.h"
#include "wire.h"

#define SAME(a, b) ((int)(a) == (int)(b))
_Static_assert(SAME(TXC_COMMITTED, TXG_ST_COMMITTED) && SAME(TXC_DUPLICATE, TXG_ST_DUPLICATE) &&
		       SAME(TXC_BAD_SIGNATURE, TXG_ST_BAD_SIGNATURE) && SAME(TXC_UNKNOWN_SENDER, TXG_ST_UNKNOWN_SENDER) &&
		       SAME(TXC_EXPIRED, TXG_ST_EXPIRED) && SAME(TXC_EXPIRY_TOO_FAR, TXG_ST_EXPIRY_TOO_FAR) &&
		       SAME(TXC_WRONG_CHAIN, TXG_ST_WRONG_CHAIN) && SAME(TXC_RATE_LIMITED, TXG_ST_RATE_LIMITED) &&
		       SAME(TXC_OVERLOADED, TXG_ST_OVERLOADED) && SAME(TXC_MALFORMED, TXG_ST_MALFORMED) &&
		       SAME(TXC_ACCEPTED, TXG_ST_ACCEPTED) && SAME(TXC_LOST, TXG_ST_COUNT),
	       "client status codes are the spec's");
#undef SAME
_Static_assert(TXC_ID_LEN == TXG_ID_LEN && TXC_KEY_LEN == TXG_KEY_LEN && TXC_COOKIE_LEN == TXG_COOKIE_LEN,
	       "sizes are the spec's");

#define IP4_UDP_HDR 28u /* IPv4 header without options + UDP header */
#define IP6_UDP_HDR 48u
#define RECV_BUF 65536u
#define RECV_BURST 256 /* datagrams read per socket per txc_process */
#define SOCK_BUF (4 << 20)

enum { SLOT_FREE = 0, SLOT_LIVE, SLOT_DEAD };

struct tx {
	uint8_t id[TXC_ID_LEN];
	uint8_t *rec;
	uint32_t rec_len;
	uint32_t gen;	     /* bumped on every (re)arm and at the end: stale heap entries do not match */
	uint32_t cookie_seq; /* the server's cookie_seq at the last send; 0: sent without a cookie */
	uint32_t next_free;
	void *user;
	uint64_t expires_ms;
	uint64_t first_send_us, accepted_us;
	uint16_t server;
	uint8_t tries;
	uint8_t state;
	uint8_t queued;
	uint8_t too_big; /* no longer fits a frame (the path MTU went down): lost at its timer */
};

struct server {
	int fd; /* -1 with a send_hook */
	int family;
	char name[INET6_ADDRSTRLEN + 10];
	size_t frame_max;
	uint8_t cookie[TXC_COOKIE_LEN];
	uint32_t cookie_seq; /* 0: no cookie yet; +1 for each new one */
	uint32_t *q;	     /* slots waiting to be sent, q[qhead..qlen) */
	size_t qhead, qlen, qcap;
	size_t q_bytes; /* record bytes in the live part of q (an estimate: dead ones are subtracted when skipped) */
	int blocked;	/* the socket buffer was full: wait for POLLOUT */
};

struct timer {
	uint64_t at;
	uint32_t slot, gen;
};

struct txc_client {
	struct txc_config cfg;
	struct txc_key key;
	uint64_t nonce_next;

	struct tx *slots;
	uint32_t nslots, free_head; /* free list through next_free; UINT32_MAX = empty */
	size_t live;

	uint32_t *ht; /* slot + 1, 0 = empty */
	size_t ht_mask, ht_used;

	struct timer *heap;
	size_t nheap, heap_cap;

	struct server *srv;
	int nsrv;

	uint8_t *frame; /* one frame being built */
	uint8_t *rbuf;	/* one receipt being read */
	struct txc_stats st;
	uint64_t delivered; /* answers delivered, ever (calls return differences) */
};

static void seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

const char *txc_status_name(int status)
{
	if (status == TXC_LOST)
		return "lost";
	if (status < 0 || status >= TXC_LOST)
		return "?";
	return txg_status_name((unsigned)status);
}

/* ---- keys ---- */

void txc_key_from_seed(struct txc_key *key, const uint8_t seed[TXC_KEY_LEN])
{
	crypto_sign_seed_keypair(key->pk, key->sk, seed);
}

void txc_key_wipe(struct txc_key *key) { sodium_memzero(key, sizeof *key); }

int txc_key_load(const char *path, struct txc_key *key, char *err, size_t errlen)
{
	if (sodium_init() < 0) {
		seterr(err, errlen, "libsodium failed to initialise");
		return -1;
	}
	FILE *f = fopen(path, "r");
	if (!f) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	char line[256];
	int ok = fgets(line, sizeof line, f) != NULL;
	fclose(f);
	uint8_t seed[TXC_KEY_LEN];
	if (ok) {
		line[strcspn(line, "\r\n")] = 0;
		char *s = line + strspn(line, " \t");
		s[strcspn(s, " \t")] = 0;
		ok = txg_unhex(s, seed, sizeof seed) == 0;
	}
	sodium_memzero(line, sizeof line);
	if (!ok) {
		seterr(err, errlen, "%s: expected a 32-byte seed as 64 hex digits (txgen keygen)", path);
		return -1;
	}
	txc_key_from_seed(key, seed);
	sodium_memzero(seed, sizeof seed);
	return 0;
}

/* ---- clocks ---- */

static uint64_t clock_us(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t txc_now_us(const txc_client *c)
{
	return c->cfg.mono_us ? c->cfg.mono_us(c->cfg.clock_arg) : clock_us(CLOCK_MONOTONIC);
}

static uint64_t wall_ms(const txc_client *c)
{
	return c->cfg.wall_ms ? c->cfg.wall_ms(c->cfg.clock_arg) : clock_us(CLOCK_REALTIME) / 1000u;
}

/* Wait after the n-th send (n >= 1): timeout doubled n-1 times, capped. */
static uint64_t backoff_us(const txc_client *c, unsigned n)
{
	uint64_t t = c->cfg.timeout_ms;
	for (unsigned i = 1; i < n && t < c->cfg.max_timeout_ms; i++)
		t *= 2;
	if (t > c->cfg.max_timeout_ms)
		t = c->cfg.max_timeout_ms;
	return t * 1000u;
}

/* ---- configuration ---- */

void txc_config_init(struct txc_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->mtu = 1500;
	cfg->per_frame = TXG_FRAME_MAX_RECS;
	cfg->timeout_ms = 1000;
	cfg->max_timeout_ms = 8000;
	cfg->max_tries = 5;
	cfg->ttl_ms = 60000;
}

txc_client *txc_open(const struct txc_config *cfg, const struct txc_key *key, char *err, size_t errlen)
{
	if (sodium_init() < 0) {
		seterr(err, errlen, "libsodium failed to initialise");
		return NULL;
	}
	if (cfg->mtu < 576 || cfg->mtu > 65535) {
		seterr(err, errlen, "mtu %u: must be 576..65535", cfg->mtu);
		return NULL;
	}
	if (cfg->per_frame < 1 || cfg->per_frame > TXG_FRAME_MAX_RECS) {
		seterr(err, errlen, "per_frame %u: must be 1..%u", cfg->per_frame, TXG_FRAME_MAX_RECS);
		return NULL;
	}
	if (cfg->timeout_ms < 1 || cfg->max_timeout_ms < cfg->timeout_ms) {
		seterr(err, errlen, "timeout_ms must be >= 1 and max_timeout_ms >= timeout_ms");
		return NULL;
	}
	if (cfg->max_tries < 1 || cfg->max_tries > 255) {
		seterr(err, errlen, "max_tries %u: must be 1..255", cfg->max_tries);
		return NULL;
	}
	if (cfg->ttl_ms < 1) {
		seterr(err, errlen, "ttl_ms must be >= 1");
		return NULL;
	}
	txc_client *c = calloc(1, sizeof *c);
	if (c) {
		c->frame = malloc(65536);
		c->rbuf = malloc(RECV_BUF);
		c->ht_mask = 1023;
		c->ht = calloc(c->ht_mask + 1, sizeof *c->ht);
	}
	if (!c || !c->frame || !c->rbuf || !c->ht) {
		txc_close(c);
		seterr(err, errlen, "out of memory");
		return NULL;
	}
	c->cfg = *cfg;
	c->key = *key;
	c->free_head = UINT32_MAX;
	if (cfg->nonce_base_set)
		c->nonce_next = cfg->nonce_base;
	else
		randombytes_buf(&c->nonce_next, sizeof c->nonce_next);
	return c;
}

void txc_close(txc_client *c)
{
	if (!c)
		return;
	for (uint32_t i = 0; i < c->nslots; i++)
		free(c->slots[i].rec);
	for (int i = 0; i < c->nsrv; i++) {
		if (c->srv[i].fd >= 0)
			close(c->srv[i].fd);
		free(c->srv[i].q);
	}
	free(c->srv);
	free(c->slots);
	free(c->ht);
	free(c->heap);
	free(c->frame);
	free(c->rbuf);
	sodium_memzero(&c->key, sizeof c->key);
	free(c);
}

/* ---- servers ---- */

/* Split "HOST:PORT", "[V6]:PORT", "HOST" or a bare IPv6 literal. */
static int split_host_port(const char *s, char *host, size_t hcap, char *port, size_t pcap)
{
	const char *h = s, *p = NULL;
	size_t hl;
	if (s[0] == '[') {
		const char *e = strchr(s, ']');
		if (!e)
			return -1;
		h = s + 1;
		hl = (size_t)(e - h);
		if (e[1] == ':')
			p = e + 2;
		else if (e[1] != 0)
			return -1;
	} else {
		const char *colon = strchr(s, ':');
		if (colon && !strchr(colon + 1, ':')) { /* exactly one ':' */
			hl = (size_t)(colon - s);
			p = colon + 1;
		} else {
			hl = strlen(s); /* no port, or an IPv6 literal without brackets */
		}
	}
	if (hl == 0 || hl >= hcap)
		return -1;
	memcpy(host, h, hl);
	host[hl] = 0;
	if (p) {
		if (*p == 0 || strlen(p) >= pcap || strspn(p, "0123456789") != strlen(p) || atol(p) < 1 ||
		    atol(p) > 65535)
			return -1;
		snprintf(port, pcap, "%s", p);
	} else {
		snprintf(port, pcap, "%u", TXC_DEFAULT_PORT);
	}
	return 0;
}

static void addr_name(const struct sockaddr *sa, char *out, size_t cap)
{
	char a[INET6_ADDRSTRLEN] = "?";
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &in->sin_addr, a, sizeof a);
		snprintf(out, cap, "%s:%u", a, ntohs(in->sin_port));
	} else {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof a);
		snprintf(out, cap, "[%s]:%u", a, ntohs(in6->sin6_port));
	}
}

static size_t frame_max_for(unsigned mtu, int family)
{
	return mtu - (family == AF_INET ? IP4_UDP_HDR : IP6_UDP_HDR);
}

/* Socket options, best effort: big buffers so bursts of receipts are not
 * dropped, and DF with no local fragmentation (txgate drops IPv4 fragments),
 * so a frame over the path MTU fails with EMSGSIZE instead. */
static void sock_opts(int fd, int family)
{
	int sz = SOCK_BUF;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
	int pmtu = family == AF_INET ? IP_PMTUDISC_DO : IPV6_PMTUDISC_DO;
	if (family == AF_INET)
		setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof pmtu);
	else
		setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &pmtu, sizeof pmtu);
}

int txc_server_add(txc_client *c, const char *host_port, char *err, size_t errlen)
{
	char host[256], port[8];
	if (split_host_port(host_port, host, sizeof host, port, sizeof port) != 0) {
		seterr(err, errlen, "%s: expected HOST:PORT, [IPV6]:PORT or HOST", host_port);
		return -1;
	}
	if (c->nsrv >= UINT16_MAX) {
		seterr(err, errlen, "too many servers");
		return -1;
	}
	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_protocol = IPPROTO_UDP;
	int gai = getaddrinfo(host, port, &hints, &res);
	if (gai != 0) {
		seterr(err, errlen, "%s: %s", host_port, gai_strerror(gai));
		return -1;
	}
	struct server s;
	memset(&s, 0, sizeof s);
	s.fd = -1;
	int last_errno = 0;
	const struct addrinfo *ai;
	for (ai = res; ai; ai = ai->ai_next) {
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		if (c->cfg.send_hook)
			break; /* the address only names the server and sets the frame size */
		int fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
		if (fd < 0) {
			last_errno = errno;
			continue;
		}
		sock_opts(fd, ai->ai_family);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
			last_errno = errno;
			close(fd);
			continue;
		}
		s.fd = fd;
		break;
	}
	if (!ai) {
		freeaddrinfo(res);
		seterr(err, errlen, "%s: %s", host_port, last_errno ? strerror(last_errno) : "no IPv4 or IPv6 address");
		return -1;
	}
	s.family = ai->ai_family;
	addr_name(ai->ai_addr, s.name, sizeof s.name);
	freeaddrinfo(res);
	s.frame_max = frame_max_for(c->cfg.mtu, s.family);
	struct server *ns = realloc(c->srv, (size_t)(c->nsrv + 1) * sizeof *ns);
	if (!ns) {
		if (s.fd >= 0)
			close(s.fd);
		seterr(err, errlen, "out of memory");
		return -1;
	}
	c->srv = ns;
	c->srv[c->nsrv] = s;
	return c->nsrv++;
}

static struct server *server_get(const txc_client *c, int id)
{
	return id >= 0 && id < c->nsrv ? &c->srv[id] : NULL;
}

const char *txc_server_name(const txc_client *c, int server)
{
	struct server *s = server_get(c, server);
	return s ? s->name : "";
}

size_t txc_frame_max(const txc_client *c, int server)
{
	struct server *s = server_get(c, server);
	return s ? s->frame_max : 0;
}

/* A record of rec_len must fit a frame with a cookie header. */
static size_t rec_max(const struct server *s) { return s->frame_max - TXG_FRAME_HDR_COOKIE_LEN; }

size_t txc_payload_max(const txc_client *c, int server)
{
	struct server *s = server_get(c, server);
	if (!s)
		return 0;
	size_t r = rec_max(s) - TXG_REC_OVERHEAD - TXG_BODY_MIN;
	size_t body_cap = 65535u - TXG_BODY_MIN;
	return r < body_cap ? r : body_cap;
}

int txc_cookie(const txc_client *c, int server, uint8_t out[TXC_COOKIE_LEN])
{
	struct server *s = server_get(c, server);
	if (!s || s->cookie_seq == 0)
		return 0;
	memcpy(out, s->cookie, TXC_COOKIE_LEN);
	return 1;
}

/* ---- tx_id table: linear probing, backward-shift deletion ---- */

static size_t ht_home(const txc_client *c, const uint8_t *id) { return (size_t)txg_ld64(id) & c->ht_mask; }

static size_t ht_find(const txc_client *c, const uint8_t *id, int *found)
{
	size_t i = ht_home(c, id);
	while (c->ht[i]) {
		if (memcmp(c->slots[c->ht[i] - 1].id, id, TXC_ID_LEN) == 0) {
			*found = 1;
			return i;
		}
		i = (i + 1) & c->ht_mask;
	}
	*found = 0;
	return i;
}

static int ht_grow(txc_client *c)
{
	size_t n = (c->ht_mask + 1) * 2;
	uint32_t *nt = calloc(n, sizeof *nt), *old = c->ht;
	if (!nt)
		return -1;
	size_t old_n = c->ht_mask + 1;
	c->ht = nt;
	c->ht_mask = n - 1;
	for (size_t i = 0; i < old_n; i++) {
		if (!old[i])
			continue;
		size_t j = ht_home(c, c->slots[old[i] - 1].id);
		while (nt[j])
			j = (j + 1) & c->ht_mask;
		nt[j] = old[i];
	}
	free(old);
	return 0;
}

static void ht_delete(txc_client *c, size_t i)
{
	c->ht[i] = 0;
	c->ht_used--;
	size_t j = i;
	for (;;) {
		j = (j + 1) & c->ht_mask;
		if (!c->ht[j])
			return;
		size_t k = ht_home(c, c->slots[c->ht[j] - 1].id);
		/* Move j back to the hole at i unless its home lies cyclically in (i, j]. */
		int stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
		if (!stays) {
			c->ht[i] = c->ht[j];
			c->ht[j] = 0;
			i = j;
		}
	}
}

/* ---- timers: a binary min-heap ---- */

/* Room for k more entries. 0, or -1 if it cannot grow. */
static int heap_reserve(txc_client *c, size_t k)
{
	if (c->nheap + k <= c->heap_cap)
		return 0;
	size_t nc = c->heap_cap ? c->heap_cap : 1024;
	while (nc < c->nheap + k)
		nc *= 2;
	struct timer *nh = realloc(c->heap, nc * sizeof *nh);
	if (!nh)
		return -1;
	c->heap = nh;
	c->heap_cap = nc;
	return 0;
}

/* Push with room reserved. */
static void heap_push(txc_client *c, uint64_t at, uint32_t slot, uint32_t gen)
{
	size_t i = c->nheap++;
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (c->heap[p].at <= at)
			break;
		c->heap[i] = c->heap[p];
		i = p;
	}
	c->heap[i] = (struct timer){at, slot, gen};
}

static void heap_pop(txc_client *c)
{
	struct timer last = c->heap[--c->nheap];
	size_t i = 0, n = c->nheap;
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		if (l >= n)
			break;
		m = (l + 1 < n && c->heap[l + 1].at < c->heap[l].at) ? l + 1 : l;
		if (c->heap[m].at >= last.at)
			break;
		c->heap[i] = c->heap[m];
		i = m;
	}
	if (n > 0)
		c->heap[i] = last;
}

/* Drop stale entries from the top so the next deadline is a real one. */
static void heap_trim(txc_client *c)
{
	while (c->nheap > 0) {
		const struct timer *t = &c->heap[0];
		const struct tx *x = &c->slots[t->slot];
		if (x->state == SLOT_LIVE && x->gen == t->gen)
			return;
		heap_pop(c);
	}
}

/* (Re)arm slot's retry timer at `at`; the previous entry goes stale. Room
 * must have been reserved (heap_reserve). */
static void arm(txc_client *c, uint32_t slot, uint64_t at)
{
	struct tx *x = &c->slots[slot];
	x->gen++;
	heap_push(c, at, slot, x->gen);
}

/* ---- slots ---- */

static int slot_alloc(txc_client *c, uint32_t *out)
{
	if (c->free_head == UINT32_MAX) {
		uint32_t n = c->nslots ? c->nslots * 2 : 256;
		if (n <= c->nslots)
			return -1;
		struct tx *ns = realloc(c->slots, (size_t)n * sizeof *ns);
		if (!ns)
			return -1;
		memset(ns + c->nslots, 0, (size_t)(n - c->nslots) * sizeof *ns);
		for (uint32_t i = n; i-- > c->nslots;) {
			ns[i].next_free = c->free_head;
			c->free_head = i;
		}
		c->slots = ns;
		c->nslots = n;
	}
	*out = c->free_head;
	c->free_head = c->slots[*out].next_free;
	return 0;
}

static void slot_free(txc_client *c, uint32_t slot)
{
	struct tx *x = &c->slots[slot];
	free(x->rec);
	x->rec = NULL;
	x->state = SLOT_FREE;
	x->queued = 0;
	x->gen++;
	x->next_free = c->free_head;
	c->free_head = slot;
}

static int queue_push(struct server *s, uint32_t slot)
{
	if (s->qhead > 0 && s->qlen == s->qcap) {
		memmove(s->q, s->q + s->qhead, (s->qlen - s->qhead) * sizeof *s->q);
		s->qlen -= s->qhead;
		s->qhead = 0;
	}
	if (s->qlen == s->qcap) {
		size_t nc = s->qcap ? s->qcap * 2 : 256;
		uint32_t *nq = realloc(s->q, nc * sizeof *nq);
		if (!nq)
			return -1;
		s->q = nq;
		s->qcap = nc;
	}
	s->q[s->qlen++] = slot;
	return 0;
}

/* ---- answers ---- */

static void deliver(txc_client *c, const struct tx *x, int status, int final, uint32_t index, uint64_t height,
		    uint64_t now)
{
	c->st.answers++;
	c->delivered++;
	if (!c->cfg.on_answer)
		return;
	uint8_t id[TXC_ID_LEN];
	memcpy(id, x->id, sizeof id);
	struct txc_answer a = {
		.tx_id = id,
		.user = x->user,
		.server = x->server,
		.status = status,
		.final = final,
		.index = index,
		.height = height,
		.tries = x->tries,
		.first_send_us = x->first_send_us,
		.accepted_us = x->accepted_us,
		.answer_us = now,
	};
	c->cfg.on_answer(c->cfg.answer_arg, &a);
}

/* The transaction is done: out of the table, slot freed (or marked dead
 * while a send queue still holds it), then the callback. */
static void finish(txc_client *c, uint32_t slot, int status, uint32_t index, uint64_t height, uint64_t now)
{
	struct tx copy = c->slots[slot];
	int found;
	size_t hi = ht_find(c, copy.id, &found);
	if (found)
		ht_delete(c, hi);
	c->live--;
	if (status == TXC_LOST)
		c->st.lost++;
	if (copy.queued) {
		c->slots[slot].state = SLOT_DEAD;
		c->slots[slot].gen++;
	} else {
		slot_free(c, slot);
	}
	copy.rec = NULL;
	deliver(c, &copy, status, 1, index, height, now);
}

/* ---- submit and send ---- */

static int flush_server(txc_client *c, int sid, int only_full);

int txc_submit(txc_client *c, int server, const struct txc_tx *t, uint8_t tx_id[TXC_ID_LEN])
{
	struct server *s = server_get(c, server);
	if (!s || (t->payload_len > 0 && !t->payload)) {
		errno = EINVAL;
		return -1;
	}
	if (t->payload_len > txc_payload_max(c, server)) {
		errno = EMSGSIZE;
		return -1;
	}
	struct txg_body_fields f;
	memset(&f, 0, sizeof f);
	f.version = TXG_BODY_VERSION;
	f.kind = t->kind;
	f.chain_id = c->cfg.chain_id;
	f.nonce = t->nonce_set ? t->nonce : c->nonce_next;
	f.expires_ms = t->expires_ms ? t->expires_ms : wall_ms(c) + c->cfg.ttl_ms;
	memcpy(f.sender, c->key.pk, TXC_KEY_LEN);
	size_t cap = TXG_REC_OVERHEAD + TXG_BODY_MIN + t->payload_len;
	uint8_t *rec = malloc(cap);
	if (!rec) {
		errno = ENOMEM;
		return -1;
	}
	size_t rl = txg_record_encode(rec, cap, &f, t->payload, t->payload_len, c->key.sk);
	if (rl == 0) {
		free(rec);
		errno = EMSGSIZE;
		return -1;
	}
	uint8_t id[TXC_ID_LEN];
	txg_tx_id(rec + 2, rl - TXG_REC_OVERHEAD, id);
	int found;
	ht_find(c, id, &found);
	if (found) {
		free(rec);
		errno = EEXIST;
		return -1;
	}
	if ((c->ht_used + 1) * 2 > c->ht_mask + 1 && ht_grow(c) != 0) {
		free(rec);
		errno = ENOMEM;
		return -1;
	}
	uint32_t slot;
	if (slot_alloc(c, &slot) != 0) {
		free(rec);
		errno = ENOMEM;
		return -1;
	}
	if (queue_push(s, slot) != 0) {
		c->slots[slot].next_free = c->free_head;
		c->free_head = slot;
		free(rec);
		errno = ENOMEM;
		return -1;
	}
	struct tx *x = &c->slots[slot];
	uint32_t gen = x->gen;
	memset(x, 0, sizeof *x);
	x->gen = gen;
	memcpy(x->id, id, TXC_ID_LEN);
	x->rec = rec;
	x->rec_len = (uint32_t)rl;
	x->user = t->user;
	x->expires_ms = f.expires_ms;
	x->server = (uint16_t)server;
	x->state = SLOT_LIVE;
	x->queued = 1;
	size_t hi = ht_find(c, id, &found);
	c->ht[hi] = slot + 1;
	c->ht_used++;
	c->live++;
	if (!t->nonce_set)
		c->nonce_next++;
	c->st.submitted++;
	s->q_bytes += rl;
	if (tx_id)
		memcpy(tx_id, id, TXC_ID_LEN);
	/* A full frame's worth goes out now, so a burst never piles up. */
	if (s->qlen - s->qhead >= c->cfg.per_frame || s->q_bytes + TXG_FRAME_HDR_COOKIE_LEN > s->frame_max)
		flush_server(c, server, 1);
	return 0;
}

/* Hand one frame to the kernel (or the hook). 0 sent, 1 would block (not
 * sent: keep the records queued), -1 not sent and dropped (counted). */
static int send_frame(txc_client *c, int sid, const uint8_t *p, size_t len)
{
	struct server *s = &c->srv[sid];
	if (c->cfg.send_hook) {
		if (c->cfg.send_hook(c->cfg.send_arg, sid, p, len) == 0)
			return 0;
		if (errno == EMSGSIZE)
			return 2;
		c->st.send_errors++;
		return -1;
	}
	for (int attempt = 0; attempt < 2; attempt++) {
		ssize_t w = send(s->fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w == (ssize_t)len)
			return 0;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
			s->blocked = 1;
			return 1;
		}
		/* An ICMP error from an earlier datagram is reported once, here;
		 * this datagram was not sent: try again once. */
		if (w < 0 && (errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == ENETUNREACH) && attempt == 0)
			continue;
		if (w < 0 && errno == EMSGSIZE)
			return 2;
		break;
	}
	c->st.send_errors++;
	return -1;
}

/* A frame of failed_len was too big for the path (EMSGSIZE: DF is set):
 * lower the server's frame limit to the kernel's path MTU, or without a
 * usable hint by an eighth, and re-pack. Each call lowers it, so a flush
 * ends: at worst records no longer fit and are reported lost. */
static void lower_mtu(txc_client *c, struct server *s, size_t failed_len)
{
	int mtu = 0;
	socklen_t ml = sizeof mtu;
	size_t hdr = s->family == AF_INET ? IP4_UDP_HDR : IP6_UDP_HDR;
	size_t nm = 0;
	if (s->fd >= 0 &&
	    getsockopt(s->fd, s->family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
		       s->family == AF_INET ? IP_MTU : IPV6_MTU, &mtu, &ml) == 0 &&
	    (size_t)mtu > hdr)
		nm = (size_t)mtu - hdr;
	if (nm == 0 || nm >= failed_len)
		nm = failed_len - failed_len / 8 - 1;
	if (nm < s->frame_max) {
		s->frame_max = nm;
		c->st.mtu_lowered++;
	}
}

/* Pack the server's queue into frames and send them. only_full: keep the
 * last frame back unless it is full (limit reached, not queue ended).
 * Returns frames sent. */
static int flush_server(txc_client *c, int sid, int only_full)
{
	int frames = 0;
	uint32_t idx[TXG_FRAME_MAX_RECS];
	for (;;) {
		struct server *s = &c->srv[sid];
		if (s->blocked)
			break;
		/* Skip transactions answered while they waited. */
		while (s->qhead < s->qlen && c->slots[s->q[s->qhead]].state != SLOT_LIVE) {
			uint32_t slot = s->q[s->qhead++];
			s->q_bytes -= c->slots[slot].rec_len;
			slot_free(c, slot);
		}
		if (s->qhead == s->qlen) {
			s->qhead = s->qlen = 0;
			s->q_bytes = 0;
			break;
		}
		uint64_t now = txc_now_us(c);
		int with_cookie = s->cookie_seq != 0;
		size_t hdr = with_cookie ? TXG_FRAME_HDR_COOKIE_LEN : TXG_FRAME_HDR_LEN;
		size_t len = hdr, n = 0, i = s->qhead;
		int full = 0;
		for (; i < s->qlen; i++) {
			const struct tx *x = &c->slots[s->q[i]];
			if (x->state != SLOT_LIVE)
				continue;
			if (n == c->cfg.per_frame || len + x->rec_len > s->frame_max) {
				full = 1;
				break;
			}
			memcpy(c->frame + len, x->rec, x->rec_len);
			len += x->rec_len;
			idx[n++] = s->q[i];
		}
		if (n == c->cfg.per_frame)
			full = 1;
		if (heap_reserve(c, n ? n : 1) != 0)
			break; /* no memory for the timers: keep them queued */
		if (n == 0) {
			/* Only after the MTU was lowered: a record that no longer fits
			 * any frame. Its timer reports it lost at once (callbacks never
			 * run inside a flush). */
			uint32_t slot = s->q[s->qhead++];
			struct tx *x = &c->slots[slot];
			s->q_bytes -= x->rec_len;
			x->queued = 0;
			x->too_big = 1;
			arm(c, slot, now);
			continue;
		}
		if (only_full && !full)
			break;
		uint8_t flags = TXG_FRAME_F_RECEIPT | (c->cfg.admit ? TXG_FRAME_F_ADMIT : 0);
		if (with_cookie)
			txg_frame_header_cookie(c->frame, flags, (uint16_t)n, s->cookie);
		else
			txg_frame_header(c->frame, flags, (uint16_t)n);
		int r = send_frame(c, sid, c->frame, len);
		if (r == 1)
			break;
		if (r == 2) {
			lower_mtu(c, s, len);
			continue;
		}
		s = &c->srv[sid];
		if (r == 0) {
			c->st.frames_sent++;
			c->st.records_sent += n;
		}
		/* Sent, or dropped by the kernel: either way a try; the timer retries. */
		for (size_t k = 0; k < n; k++) {
			struct tx *x = &c->slots[idx[k]];
			x->queued = 0;
			x->tries++;
			if (x->tries == 1)
				x->first_send_us = now;
			x->cookie_seq = with_cookie ? s->cookie_seq : 0;
			s->q_bytes -= x->rec_len;
			arm(c, idx[k], now + backoff_us(c, x->tries));
		}
		/* Everything before i was sent now or is dead: free the dead. */
		for (size_t j = s->qhead; j < i; j++) {
			struct tx *x = &c->slots[s->q[j]];
			if (x->state == SLOT_DEAD) {
				s->q_bytes -= x->rec_len;
				slot_free(c, s->q[j]);
			}
		}
		s->qhead = i;
		frames++;
	}
	return frames;
}

int txc_flush(txc_client *c)
{
	int frames = 0;
	for (int i = 0; i < c->nsrv; i++)
		frames += flush_server(c, i, 0);
	return frames;
}

/* ---- receipts and timers ---- */

/* Queue a live transaction to be sent again (its timer goes stale). */
static void requeue(txc_client *c, uint32_t slot)
{
	struct tx *x = &c->slots[slot];
	struct server *s = &c->srv[x->server];
	if (queue_push(s, slot) != 0)
		return; /* no memory: its timer stays armed and fires again */
	x->queued = 1;
	x->gen++;
	s->q_bytes += x->rec_len;
	c->st.retries++;
}

static void on_entry(txc_client *c, int server, const struct txg_receipt_entry *e, uint64_t now)
{
	int found;
	size_t hi = ht_find(c, e->tx_id, &found);
	if (!found || c->slots[c->ht[hi] - 1].server != server) {
		c->st.entries_unmatched++;
		return;
	}
	uint32_t slot = c->ht[hi] - 1;
	struct tx *x = &c->slots[slot];
	if (e->status == TXG_ST_ACCEPTED) {
		if (x->accepted_us)
			return; /* a later copy's admission tells nothing new */
		x->accepted_us = now;
		/* Give the commit a full wait from now. */
		if (!x->queued && heap_reserve(c, 1) == 0)
			arm(c, slot, now + backoff_us(c, x->tries));
		deliver(c, x, TXC_ACCEPTED, 0, 0, 0, now);
		return;
	}
	if (e->status == TXG_ST_OVERLOADED && x->tries < c->cfg.max_tries) {
		/* Not checked, not seen: the same bytes are safe to send again
		 * (section 6), at once if a cookie came that it was sent without. */
		c->st.overloaded_retried++;
		if (x->queued)
			return;
		if (c->srv[server].cookie_seq != x->cookie_seq)
			requeue(c, slot);
		else if (heap_reserve(c, 1) == 0)
			arm(c, slot, now + backoff_us(c, x->tries));
		return;
	}
	if (e->status == TXG_ST_DUPLICATE && e->height == 0 && (x->tries > 1 || x->accepted_us) &&
	    x->tries < c->cfg.max_tries) {
		/* An earlier copy of ours got in and is not committed yet: its
		 * committed receipt comes to this socket. Keep waiting. */
		c->st.dup_waits++;
		if (!x->queued && heap_reserve(c, 1) == 0)
			arm(c, slot, now + backoff_us(c, x->tries));
		return;
	}
	finish(c, slot, e->status, e->index, e->height, now);
}

int txc_input(txc_client *c, int server, const uint8_t *p, size_t len)
{
	struct server *s = server_get(c, server);
	struct txg_receipt_view v;
	if (!s || txg_receipt_parse(p, len, &v) != TXG_RE_OK) {
		c->st.receipts_bad++;
		return -1;
	}
	c->st.receipts++;
	/* The cookie first: an `overloaded` in this very receipt is retried with it. */
	if (v.cookie && (s->cookie_seq == 0 || memcmp(s->cookie, v.cookie, TXC_COOKIE_LEN) != 0)) {
		memcpy(s->cookie, v.cookie, TXC_COOKIE_LEN);
		s->cookie_seq++;
		c->st.cookies++;
	}
	uint64_t before = c->delivered;
	uint64_t now = txc_now_us(c);
	for (unsigned i = 0; i < v.count; i++) {
		struct txg_receipt_entry e;
		txg_receipt_entry_get(&v, i, &e);
		c->st.entries++;
		on_entry(c, server, &e, now);
	}
	return (int)(c->delivered - before);
}

static void run_timers(txc_client *c, uint64_t now)
{
	while (c->nheap > 0 && c->heap[0].at <= now) {
		struct timer t = c->heap[0];
		heap_pop(c);
		struct tx *x = &c->slots[t.slot];
		if (x->state != SLOT_LIVE || x->gen != t.gen || x->queued)
			continue;
		if (x->too_big || x->tries >= c->cfg.max_tries || wall_ms(c) >= x->expires_ms)
			finish(c, t.slot, TXC_LOST, 0, 0, now);
		else
			requeue(c, t.slot);
	}
}

/* Read what waits on every socket. 0, or -1 on an unexpected error. */
static int recv_all(txc_client *c)
{
	for (int sid = 0; sid < c->nsrv; sid++) {
		for (int k = 0; k < RECV_BURST; k++) {
			int fd = c->srv[sid].fd;
			if (fd < 0)
				break;
			ssize_t r = recv(fd, c->rbuf, RECV_BUF, MSG_DONTWAIT);
			if (r >= 0) {
				txc_input(c, sid, c->rbuf, (size_t)r);
				continue;
			}
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			/* ICMP errors for earlier frames (nobody listening yet, no
			 * route): the datagrams are lost, retries cover them. */
			if (errno == EINTR || errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == ENETUNREACH ||
			    errno == EMSGSIZE)
				continue;
			return -1;
		}
	}
	return 0;
}

int txc_process(txc_client *c)
{
	uint64_t before = c->delivered;
	for (int i = 0; i < c->nsrv; i++)
		c->srv[i].blocked = 0; /* try again; send sets it if still full */
	txc_flush(c);
	int rc = recv_all(c);
	run_timers(c, txc_now_us(c));
	txc_flush(c);
	return rc < 0 ? -1 : (int)(c->delivered - before);
}

int txc_fds(const txc_client *c, struct pollfd *fds, int n)
{
	int k = 0;
	for (int i = 0; i < c->nsrv; i++) {
		if (c->srv[i].fd < 0)
			continue;
		if (k < n) {
			fds[k].fd = c->srv[i].fd;
			fds[k].events = (short)(POLLIN | (c->srv[i].blocked ? POLLOUT : 0));
			fds[k].revents = 0;
		}
		k++;
	}
	return k;
}

int64_t txc_next_timeout_us(txc_client *c)
{
	heap_trim(c);
	if (c->nheap == 0)
		return -1;
	uint64_t now = txc_now_us(c);
	return c->heap[0].at <= now ? 0 : (int64_t)(c->heap[0].at - now);
}

int txc_poll_us(txc_client *c, int64_t timeout_us)
{
	int n = txc_process(c);
	if (n != 0 || timeout_us == 0)
		return n;
	int64_t t = txc_next_timeout_us(c);
	int64_t wait = timeout_us < 0 ? t : (t >= 0 && t < timeout_us ? t : timeout_us);
	struct pollfd stack_fds[16], *fds = stack_fds;
	int nf = txc_fds(c, NULL, 0);
	if (nf > 16 && !(fds = malloc((size_t)nf * sizeof *fds)))
		return -1;
	txc_fds(c, fds, nf);
	int r = 0;
	if (nf > 0 || wait >= 0) { /* nothing to wait for at all: do not block forever */
		struct timespec ts = {(time_t)(wait / 1000000), (long)(wait % 1000000) * 1000};
		r = ppoll(fds, (nfds_t)nf, wait < 0 ? NULL : &ts, NULL);
	}
	if (fds != stack_fds)
		free(fds);
	if (r < 0 && errno != EINTR)
		return -1;
	return txc_process(c);
}

int txc_poll(txc_client *c, int timeout_ms)
{
	return txc_poll_us(c, timeout_ms < 0 ? -1 : (int64_t)timeout_ms * 1000);
}

size_t txc_outstanding(const txc_client *c) { return c->live; }

void txc_get_stats(const txc_client *c, struct txc_stats *st) { *st = c->st; }
