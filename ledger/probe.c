/* The start-up probe, in a contained child. */
#include "probe.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "contain.h"
#include "errbuf.h"
#include "recent.h"

#define PROBE_MAGIC 0x7478707275u /* "txpr": the first thing on the pipe */
#define BATCH 256		  /* ids per write */

/* What the child sends first; then struct txg_recent_id, one per id. */
struct probe_hdr {
	uint64_t magic;
	uint64_t max_ttl_ms;
	uint32_t chain_id;
	uint32_t pad;
	struct txg_store_head head;
};

struct probe_arg {
	const char *path;
	uint64_t max_ttl_ms, now_ms;
	size_t cap;
};

/* --- the child --- */

struct collect_ctx {
	int out;
	size_t cap, n;
	uint64_t full_height; /* block at which more than cap ids were found */
	int werr;	      /* errno of a failed write */
	size_t nbuf;
	struct txg_recent_id buf[BATCH];
};

static int write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	while (n) {
		ssize_t w = write(fd, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static int flush_ids(struct collect_ctx *c)
{
	if (c->nbuf && write_all(c->out, c->buf, c->nbuf * sizeof c->buf[0]) != 0) {
		c->werr = errno;
		return -1;
	}
	c->nbuf = 0;
	return 0;
}

static int collect(void *arg, const uint8_t id[32], uint64_t expires_ms, uint64_t height, uint32_t index)
{
	struct collect_ctx *c = arg;
	if (c->n >= c->cap) {
		c->full_height = height;
		return 2;
	}
	struct txg_recent_id *r = &c->buf[c->nbuf++];
	memset(r, 0, sizeof *r);
	memcpy(r->id, id, 32);
	r->expires_ms = expires_ms;
	r->height = height;
	r->index = index;
	c->n++;
	if (c->nbuf == BATCH && flush_ids(c) != 0)
		return 3;
	return 0;
}

static int probe_child(void *arg, const struct txg_contain_child *cc)
{
	const struct probe_arg *a = arg;
	char err[512];
	txg_progress_at(TXG_AT_OPEN, 0, -1);
	struct txg_store_opts o = {.path = a->path, .readonly = 1};
	struct txg_store *s;
	if (txg_store_open(&s, &o, err, sizeof err) != 0) {
		snprintf(cc->msg, TXG_CONTAIN_MSG, "%s", err);
		return 1;
	}
	struct probe_hdr h;
	memset(&h, 0, sizeof h);
	h.magic = PROBE_MAGIC;
	h.chain_id = txg_store_chain_id(s);
	h.max_ttl_ms = txg_store_max_ttl(s);
	txg_progress_at(TXG_AT_HEAD, 0, -1);
	if (txg_store_head(s, &h.head) != 0) {
		snprintf(cc->msg, TXG_CONTAIN_MSG, "ledger at %s: cannot read its head", a->path);
		txg_store_close(s);
		return 1;
	}
	if (write_all(cc->out, &h, sizeof h) != 0) {
		snprintf(cc->msg, TXG_CONTAIN_MSG, "ledger at %s: probe: write: %s", a->path, strerror(errno));
		txg_store_close(s);
		return 1;
	}
	uint64_t ttl = a->max_ttl_ms > h.max_ttl_ms ? a->max_ttl_ms : h.max_ttl_ms;
	static struct collect_ctx c; /* the child's own copy */
	c.out = cc->out;
	c.cap = a->cap;
	err[0] = '\0';
	int r = txg_ledger_recent(s, &h.head, ttl, a->now_ms, collect, &c, err, sizeof err);
	if (r == 0 && flush_ids(&c) != 0)
		r = 3;
	if (r == 0 && txg_store_index_probe(s, err, sizeof err) != 0) {
		/* what the writer's open will read of the tx index */
		snprintf(cc->msg, TXG_CONTAIN_MSG, "%s", err);
		txg_store_close(s);
		return 1;
	}
	txg_store_close(s);
	const char *e = strncmp(err, "ledger: ", 8) == 0 ? err + 8 : err;
	if (r == 2)
		snprintf(cc->msg, TXG_CONTAIN_MSG,
			 "ledger at %s: dedupe_capacity is too small to hold the unexpired transactions of the ledger "
			 "(more than %zu, reached at block %" PRIu64 ")",
			 a->path, a->cap, c.full_height);
	else if (r == 3)
		snprintf(cc->msg, TXG_CONTAIN_MSG, "ledger at %s: probe: write: %s", a->path, strerror(c.werr));
	else if (r != 0)
		snprintf(cc->msg, TXG_CONTAIN_MSG, "ledger at %s: %s; %s", a->path, e, TXG_CONTAIN_ADVICE);
	return r == 0 ? 0 : 1;
}

/* --- the parent --- */

struct sink_ctx {
	struct txg_probe *p;
	size_t cap, alloc;
	struct probe_hdr hdr;
	size_t got_hdr;
	size_t npart; /* bytes of the id being received */
	struct txg_recent_id part;
	int too_many, oom;
};

/* Move bytes from (*b, *n) into dst until it holds want; 1 once it is full. */
static int fill(void *dst, size_t *have, size_t want, const uint8_t **b, size_t *n)
{
	size_t t = want - *have;
	t = t < *n ? t : *n;
	memcpy((uint8_t *)dst + *have, *b, t);
	*have += t;
	*b += t;
	*n -= t;
	return *have == want;
}

static int sink(void *arg, const void *buf, size_t n)
{
	struct sink_ctx *k = arg;
	const uint8_t *b = buf;
	while (n) {
		if (k->got_hdr < sizeof k->hdr) {
			fill(&k->hdr, &k->got_hdr, sizeof k->hdr, &b, &n);
			continue;
		}
		if (!fill(&k->part, &k->npart, sizeof k->part, &b, &n))
			continue;
		k->npart = 0;
		struct txg_probe *p = k->p;
		if (p->n >= k->cap) {
			k->too_many = 1;
			return -1;
		}
		if (p->n == k->alloc) {
			size_t na = k->alloc ? k->alloc * 2 : 1024;
			if (na > k->cap)
				na = k->cap;
			void *q = realloc(p->ids, na * sizeof *p->ids);
			if (!q) {
				k->oom = 1;
				return -1;
			}
			p->ids = q;
			k->alloc = na;
		}
		p->ids[p->n++] = k->part;
	}
	return 0;
}

void txg_probe_free(struct txg_probe *p)
{
	if (!p)
		return;
	free(p->ids);
	memset(p, 0, sizeof *p);
}

int txg_ledger_probe(const char *path, uint64_t max_ttl_ms, uint64_t now_ms, size_t cap, struct txg_probe *out,
		     char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	if (!path || !*path) {
		txg_errf(err, errlen, "ledger: no path given");
		return -1;
	}
	char f[4200];
	struct stat st;
	snprintf(f, sizeof f, "%s/data.mdb", path);
	if (stat(f, &st) != 0 && (errno == ENOENT || errno == ENOTDIR))
		return 0; /* a new ledger */
	struct probe_arg a = {.path = path, .max_ttl_ms = max_ttl_ms, .now_ms = now_ms, .cap = cap};
	struct sink_ctx k = {.p = out, .cap = cap};
	struct txg_contain_result res;
	if (txg_contain_run(probe_child, &a, sink, &k, &res, err, errlen) != 0)
		goto fail;
	if (res.sink_failed) {
		if (k.too_many)
			txg_errf(err, errlen,
				 "ledger at %s: dedupe_capacity is too small to hold the unexpired transactions of "
				 "the ledger (more than %zu)",
				 path, cap);
		else
			txg_errf(err, errlen, "ledger at %s: probe: out of memory for %zu ids", path, out->n);
		goto fail;
	}
	if (!res.exited) {
		char msg[TXG_CONTAIN_MSG + 256];
		txg_contain_crash_msg(path, &res, TXG_CONTAIN_ADVICE, msg, sizeof msg);
		txg_errf(err, errlen, "%s", msg);
		goto fail;
	}
	if (res.status != 0) {
		if (res.msg[0])
			txg_errf(err, errlen, "%s", res.msg);
		else
			txg_errf(err, errlen, "ledger at %s: the probe exited with status %d", path, res.status);
		goto fail;
	}
	if (k.got_hdr != sizeof k.hdr || k.hdr.magic != PROBE_MAGIC || k.npart != 0) {
		txg_errf(err, errlen, "ledger at %s: the probe's result is incomplete", path);
		goto fail;
	}
	out->exists = 1;
	out->head = k.hdr.head;
	out->max_ttl_ms = k.hdr.max_ttl_ms;
	out->chain_id = k.hdr.chain_id;
	return 0;
fail:
	txg_probe_free(out);
	return -1;
}
