/* Traffic generation: picks kinds by weight, builds records, frames and
 * packets, writes the pcap and the manifest in send order. */
#include "traffic.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "mutate.h"
#include "pcap_file.h"
#include "rng.h"
#include "wire.h"

#define PAYLOAD_MAX 200u
#define REC_MAX (TXG_REC_OVERHEAD + TXG_BODY_MIN + PAYLOAD_MAX)
#define POOL 256u	/* recent valid records that dups copy */
#define PEND_MAX 64u	/* real records of forged bodies still to send */
#define PEND_DELAY 8u	/* sent 1..PEND_DELAY packets after the forgery */
#define PKT_CAP 16384u

struct rec {
	uint16_t len;
	uint8_t id[TXG_ID_LEN];
	uint8_t b[REC_MAX];
};

struct pending {
	struct rec r;
	uint64_t due; /* packet number from which it may be sent */
};

/* How a record reaches the appliance. */
enum path { PATH_V4, PATH_VLAN, PATH_V6 };

struct gen {
	const struct tg_opts *o;
	struct tg_rng rng;
	struct tg_rng src_rng; /* --src-random: its own stream, so the records stay those of the seed */
	struct tg_key *keys, *unk;
	int nkeys;
	unsigned nunk;
	FILE *pcap, *man;
	uint64_t nonce;
	uint64_t pkts, records, drops;
	uint64_t per_status[TXG_ST_COUNT];
	uint64_t per_kind[TG_KIND_NUM];
	struct rec pool[POOL];
	unsigned pool_n, pool_next;
	struct pending pend[PEND_MAX];
	unsigned npend;
	int err;
	uint8_t frame[PKT_CAP], pkt[PKT_CAP];
};

/* Body variations. */
enum variant { V_VALID, V_EXPIRED, V_TOO_FAR, V_UNKNOWN, V_WRONG_CHAIN, V_MALFORMED };

static uint64_t sat_add(uint64_t a, uint64_t b) { return a + b < a ? UINT64_MAX : a + b; }

/* A fresh signed record; plen_max caps its payload. */
static void make_rec(struct gen *g, struct rec *r, enum variant v, size_t plen_max)
{
	const struct tg_opts *o = g->o;
	struct txg_body_fields f = {.version = TXG_BODY_VERSION,
				    .kind = (uint8_t)tg_rng_next(&g->rng),
				    .flags = 0,
				    .chain_id = o->chain_id,
				    .nonce = g->nonce++,
				    .expires_ms = sat_add(o->now_ms, o->ttl_ms)};
	const struct tg_key *k = &g->keys[tg_rng_below(&g->rng, (uint64_t)g->nkeys)];
	switch (v) {
	case V_VALID:
		break;
	case V_EXPIRED:
		f.expires_ms = o->now_ms - 1 - tg_rng_below(&g->rng, o->now_ms < 3600000 ? o->now_ms : 3600000);
		break;
	case V_TOO_FAR:
		f.expires_ms = sat_add(sat_add(o->now_ms, o->max_ttl_ms), 3600000 + tg_rng_below(&g->rng, 3600000));
		break;
	case V_UNKNOWN:
		k = &g->unk[tg_rng_below(&g->rng, g->nunk)];
		break;
	case V_WRONG_CHAIN:
		f.chain_id = o->chain_id + (uint32_t)tg_rng_range(&g->rng, 1, UINT32_MAX);
		break;
	case V_MALFORMED:
		if (tg_rng_below(&g->rng, 2))
			f.version = 2;
		else
			f.flags = (uint16_t)tg_rng_range(&g->rng, 1, 0xffff);
		break;
	}
	memcpy(f.sender, k->pk, TXG_KEY_LEN);
	uint8_t payload[PAYLOAD_MAX];
	size_t plen = (size_t)tg_rng_below(&g->rng, PAYLOAD_MAX + 1);
	if (plen > plen_max)
		plen = plen_max;
	tg_rng_bytes(&g->rng, payload, plen);
	r->len = (uint16_t)txg_record_encode(r->b, sizeof r->b, &f, payload, plen, k->sk);
	txg_tx_id(r->b + 2, TXG_BODY_MIN + plen, r->id);
}

/* Spoil r's signature so that it certainly does not verify. */
static void spoil_sig(struct gen *g, struct rec *r)
{
	struct txg_rec_view rv;
	if (txg_record_view(r->b, r->len, &rv) != 0)
		abort();
	uint8_t *sig = r->b + 2 + rv.body_len;
	do
		sig[tg_rng_below(&g->rng, TXG_SIG_LEN)] ^= (uint8_t)(1u << tg_rng_below(&g->rng, 8));
	while (crypto_sign_verify_detached(sig, rv.body, rv.body_len, txg_body_sender(rv.body)) == 0);
}

static void manifest(struct gen *g, enum tg_kind k, const uint8_t *id, const char *expect)
{
	char hex[2 * TXG_ID_LEN + 1];
	if (id)
		txg_hex(id, TXG_ID_LEN, hex);
	if (fprintf(g->man, "%llu\t%s\t%s\t%s\n", (unsigned long long)g->pkts, tg_kind_name(k), id ? hex : "-", expect) < 0)
		g->err = 1;
}

static void write_pkt(struct gen *g, size_t len)
{
	if (len == 0 || tg_pcap_write(g->pcap, g->o->now_ms * 1000 + g->pkts * 10, g->pkt, len) != 0)
		g->err = 1;
}

/* The IPv4 packet spec for the next packet: o->v4, or with --src-random a
 * copy in *tmp with a random source address in 1.0.0.0..223.255.255.255 and
 * a random source port in 1024..65535. */
static const struct txg_pkt_spec *v4_spec(struct gen *g, struct txg_pkt_spec *tmp)
{
	if (!g->o->src_random)
		return &g->o->v4;
	*tmp = g->o->v4;
	uint32_t a = 0x01000000u + (uint32_t)tg_rng_below(&g->src_rng, 223u << 24);
	tmp->src[0] = (uint8_t)(a >> 24);
	tmp->src[1] = (uint8_t)(a >> 16);
	tmp->src[2] = (uint8_t)(a >> 8);
	tmp->src[3] = (uint8_t)a;
	tmp->sport = (uint16_t)tg_rng_range(&g->src_rng, 1024, 65535);
	return tmp;
}

/* Put recs into one frame in g->frame; returns its length. */
static size_t frame_of(struct gen *g, uint8_t flags, struct rec *const *recs, unsigned n)
{
	txg_frame_header(g->frame, flags, (uint16_t)n);
	size_t off = TXG_FRAME_HDR_LEN;
	for (unsigned i = 0; i < n; i++) {
		memcpy(g->frame + off, recs[i]->b, recs[i]->len);
		off += recs[i]->len;
	}
	return off;
}

static void remember(struct gen *g, const struct rec *r)
{
	g->pool[g->pool_next] = *r;
	g->pool_next = (g->pool_next + 1) % POOL;
	if (g->pool_n < POOL)
		g->pool_n++;
}

/* Send recs as one frame by path p; each gets a manifest line of kind k
 * and status st. Committed records sent over IPv4 can later be dup'ed. */
static void send_recs(struct gen *g, struct rec *const *recs, unsigned n, enum path p, enum tg_kind k, unsigned st)
{
	size_t flen = frame_of(g, g->o->flags, recs, n);
	struct txg_pkt_spec tmp;
	struct txg_pkt_spec s = p == PATH_V6 ? g->o->v6 : *v4_spec(g, &tmp);
	if (p == PATH_VLAN)
		s.vlan = (uint16_t)tg_rng_range(&g->rng, 1, 4094);
	g->pkts++;
	write_pkt(g, txg_pkt_build(g->pkt, sizeof g->pkt, &s, g->frame, flen));
	for (unsigned i = 0; i < n; i++) {
		manifest(g, k, recs[i]->id, txg_status_name(st));
		g->records++;
		g->per_status[st]++;
		if (st == TXG_ST_COMMITTED && p == PATH_V4)
			remember(g, recs[i]);
	}
	g->per_kind[k]++;
}

static void send_one(struct gen *g, struct rec *r, enum path p, enum tg_kind k, unsigned st)
{
	struct rec *rs[1] = {r};
	send_recs(g, rs, 1, p, k, st);
}

/* Send the oldest pending real record of a forged body. */
static void release_pending(struct gen *g)
{
	struct rec r = g->pend[0].r;
	memmove(g->pend, g->pend + 1, (g->npend - 1) * sizeof g->pend[0]);
	g->npend--;
	send_one(g, &r, PATH_V4, TG_VALID, TXG_ST_COMMITTED);
	g->per_kind[TG_VALID]--; /* counted as the forged kind's traffic, not a pick of valid */
}

static void do_multi(struct gen *g, uint64_t avail)
{
	static struct rec rs[TXG_FRAME_MAX_RECS];
	struct rec *ptrs[TXG_FRAME_MAX_RECS];
	uint64_t most = avail < g->o->per_frame ? avail : g->o->per_frame;
	unsigned n = (unsigned)tg_rng_range(&g->rng, 2, most);
	size_t room = g->o->mtu - 20 - 8 - TXG_FRAME_HDR_LEN;
	unsigned got = 0;
	const size_t rec_min = TXG_REC_OVERHEAD + TXG_BODY_MIN;
	while (got < n && room >= rec_min) {
		make_rec(g, &rs[got], V_VALID, room - rec_min);
		room -= rs[got].len;
		ptrs[got] = &rs[got];
		got++;
	}
	send_recs(g, ptrs, got, PATH_V4, TG_MULTI, TXG_ST_COMMITTED);
}

static void do_frame_bad(struct gen *g, enum tg_kind k)
{
	struct rec rs[3];
	struct rec *ptrs[3];
	unsigned n = (unsigned)tg_rng_range(&g->rng, 1, 3);
	for (unsigned i = 0; i < n; i++) {
		make_rec(g, &rs[i], V_VALID, PAYLOAD_MAX);
		ptrs[i] = &rs[i];
	}
	size_t flen = frame_of(g, g->o->flags, ptrs, n);
	if (tg_frame_corrupt(g->frame, &flen, sizeof g->frame, n, (enum txg_frame_err)tg_kind_frame_err(k), &g->rng) != 0) {
		fprintf(stderr, "txgen: internal error: %s frame does not parse as such\n", tg_kind_name(k));
		g->err = 1;
	}
	g->pkts++;
	struct txg_pkt_spec tmp;
	write_pkt(g, txg_pkt_build(g->pkt, sizeof g->pkt, v4_spec(g, &tmp), g->frame, flen));
	manifest(g, k, NULL, tg_kind_name(k));
	g->drops++;
	g->per_kind[k]++;
}

static void do_pkt_bad(struct gen *g, enum tg_kind k)
{
	struct rec r;
	struct rec *ptrs[1] = {&r};
	make_rec(g, &r, V_VALID, PAYLOAD_MAX);
	size_t flen = frame_of(g, g->o->flags, ptrs, 1);
	g->pkts++;
	struct txg_pkt_spec tmp;
	const struct txg_pkt_spec *s = tg_pkt_bad_af(k) == 6 ? &g->o->v6 : v4_spec(g, &tmp);
	write_pkt(g, tg_pkt_build_bad(g->pkt, sizeof g->pkt, s, k, g->frame, flen, &g->rng));
	manifest(g, k, NULL, tg_kind_expect(k));
	g->drops++;
	g->per_kind[k]++;
}

/* Least records kind k takes now. */
static uint64_t cost(const struct gen *g, enum tg_kind k)
{
	if (!tg_kind_is_record(k))
		return 0;
	if (k == TG_MULTI || k == TG_FORGED)
		return 2;
	if (k == TG_DUP && g->pool_n == 0)
		return 2;
	return 1;
}

static void do_kind(struct gen *g, enum tg_kind k, uint64_t avail)
{
	struct rec r;
	switch (k) {
	case TG_VALID:
	case TG_VLAN:
	case TG_IPV6:
		make_rec(g, &r, V_VALID, PAYLOAD_MAX);
		send_one(g, &r, k == TG_VLAN ? PATH_VLAN : k == TG_IPV6 ? PATH_V6 : PATH_V4, k, TXG_ST_COMMITTED);
		break;
	case TG_MULTI:
		do_multi(g, avail);
		break;
	case TG_DUP:
		if (g->pool_n == 0) { /* an original first */
			make_rec(g, &r, V_VALID, PAYLOAD_MAX);
			send_one(g, &r, PATH_V4, TG_VALID, TXG_ST_COMMITTED);
			g->per_kind[TG_VALID]--;
		}
		r = g->pool[tg_rng_below(&g->rng, g->pool_n)];
		send_one(g, &r, PATH_V4, TG_DUP, TXG_ST_DUPLICATE);
		break;
	case TG_FORGED: {
		struct pending *p = &g->pend[g->npend++];
		make_rec(g, &p->r, V_VALID, PAYLOAD_MAX);
		p->due = g->pkts + 1 + tg_rng_range(&g->rng, 1, PEND_DELAY);
		r = p->r;
		spoil_sig(g, &r);
		send_one(g, &r, PATH_V4, TG_FORGED, TXG_ST_BAD_SIGNATURE);
		break;
	}
	case TG_BAD_SIG:
		make_rec(g, &r, V_VALID, PAYLOAD_MAX);
		spoil_sig(g, &r);
		send_one(g, &r, PATH_V4, k, TXG_ST_BAD_SIGNATURE);
		break;
	case TG_EXPIRED:
		make_rec(g, &r, V_EXPIRED, PAYLOAD_MAX);
		send_one(g, &r, PATH_V4, k, TXG_ST_EXPIRED);
		break;
	case TG_TOO_FAR:
		make_rec(g, &r, V_TOO_FAR, PAYLOAD_MAX);
		send_one(g, &r, PATH_V4, k, TXG_ST_EXPIRY_TOO_FAR);
		break;
	case TG_UNKNOWN:
		make_rec(g, &r, V_UNKNOWN, PAYLOAD_MAX);
		send_one(g, &r, PATH_V4, k, TXG_ST_UNKNOWN_SENDER);
		break;
	case TG_WRONG_CHAIN:
		make_rec(g, &r, V_WRONG_CHAIN, PAYLOAD_MAX);
		send_one(g, &r, PATH_V4, k, TXG_ST_WRONG_CHAIN);
		break;
	case TG_REC_MALFORMED:
		make_rec(g, &r, V_MALFORMED, PAYLOAD_MAX);
		send_one(g, &r, PATH_V4, k, TXG_ST_MALFORMED);
		break;
	default:
		if (k < TG_FIRST_PKT_KIND)
			do_frame_bad(g, k);
		else
			do_pkt_bad(g, k);
		break;
	}
}

/* Choose the next kind: by weight, but kinds not yet made come first when
 * the records left are only just enough for them; never more records
 * than avail. */
static enum tg_kind pick(struct gen *g, uint64_t avail, double total)
{
	const double *w = g->o->mix;
	uint64_t need = 0;
	int first_unseen = -1;
	for (int k = 0; k < TG_FIRST_FRAME_KIND; k++)
		if (w[k] > 0 && g->per_kind[k] == 0) {
			need += cost(g, (enum tg_kind)k);
			if (first_unseen < 0 && cost(g, (enum tg_kind)k) <= avail)
				first_unseen = k;
		}
	if (first_unseen >= 0 && avail <= need)
		return (enum tg_kind)first_unseen;
	double x = tg_rng_unit(&g->rng) * total;
	enum tg_kind k = TG_VALID;
	for (int i = 0; i < TG_KIND_NUM; i++) {
		if (w[i] <= 0)
			continue;
		k = (enum tg_kind)i;
		if (x < w[i])
			break;
		x -= w[i];
	}
	if (cost(g, k) > avail || (k == TG_FORGED && g->npend == PEND_MAX))
		k = TG_VALID;
	return k;
}

static void summary(const struct gen *g)
{
	fprintf(stderr, "txgen: %llu packets, %llu records, %llu dropped frames/packets\n", (unsigned long long)g->pkts,
		(unsigned long long)g->records, (unsigned long long)g->drops);
	for (unsigned s = 0; s < TXG_ST_COUNT; s++)
		if (g->per_status[s])
			fprintf(stderr, "  %-18s %llu\n", txg_status_name(s), (unsigned long long)g->per_status[s]);
	for (int k = TG_FIRST_FRAME_KIND; k < TG_KIND_NUM; k++)
		if (g->per_kind[k])
			fprintf(stderr, "  %-18s %llu\n", tg_kind_name((enum tg_kind)k), (unsigned long long)g->per_kind[k]);
}

static void gen_unknown_keys(struct gen *g)
{
	struct tg_rng kr;
	tg_rng_seed(&kr, g->o->seed ^ 0x756e6b6e6f776eull);
	for (unsigned i = 0; i < g->nunk; i++) {
		uint8_t seed[32];
		int clash;
		do {
			tg_rng_bytes(&kr, seed, 32);
			crypto_sign_seed_keypair(g->unk[i].pk, g->unk[i].sk, seed);
			clash = 0;
			for (int m = 0; m < g->nkeys; m++)
				clash |= memcmp(g->keys[m].pk, g->unk[i].pk, 32) == 0;
		} while (clash);
		snprintf(g->unk[i].name, sizeof g->unk[i].name, "unknown%u", i + 1);
	}
}

int tg_traffic(const struct tg_opts *o)
{
	struct gen *g = calloc(1, sizeof *g);
	if (!g)
		return -1;
	g->o = o;
	int rc = -1;
	tg_rng_seed(&g->rng, o->seed);
	tg_rng_seed(&g->src_rng, o->seed ^ 0x7372632d72616e64ull);
	g->nonce = tg_rng_next(&g->rng);
	g->nkeys = tg_load_keys(o->keys_dir, &g->keys);
	if (g->nkeys < 0)
		goto out;
	g->nunk = o->unknown_keys ? o->unknown_keys : 1;
	g->unk = calloc(g->nunk, sizeof *g->unk);
	if (!g->unk)
		goto out;
	gen_unknown_keys(g);

	double total = 0, rec_total = 0;
	for (int k = 0; k < TG_KIND_NUM; k++) {
		total += o->mix[k];
		if (tg_kind_is_record((enum tg_kind)k))
			rec_total += o->mix[k];
	}
	if (rec_total <= 0) {
		fprintf(stderr, "txgen: --mix: give at least one record kind a weight\n");
		goto out;
	}
	g->pcap = tg_pcap_open(o->pcap_path);
	if (!g->pcap) {
		perror(o->pcap_path);
		goto out;
	}
	g->man = fopen(o->manifest_path, "w");
	if (!g->man) {
		perror(o->manifest_path);
		goto out;
	}
	setvbuf(g->man, NULL, _IOFBF, 1 << 20);
	fprintf(g->man, "# seq\tkind\ttx_id\texpect\n");

	while (!g->err) {
		while (g->npend && g->pend[0].due <= g->pkts + 1)
			release_pending(g);
		uint64_t used = g->records + g->npend;
		if (used >= o->count) {
			if (!g->npend)
				break;
			release_pending(g);
			continue;
		}
		uint64_t avail = o->count - used;
		do_kind(g, pick(g, avail, total), avail);
	}
	/* Every frame- or packet-level kind asked for appears at least once. */
	for (int k = TG_FIRST_FRAME_KIND; k < TG_KIND_NUM && !g->err; k++)
		if (o->mix[k] > 0 && g->per_kind[k] == 0)
			do_kind(g, (enum tg_kind)k, 0);
	for (int k = 0; k < TG_FIRST_FRAME_KIND; k++)
		if (o->mix[k] > 0 && g->per_kind[k] == 0)
			fprintf(stderr, "txgen: warning: --count too small for any '%s'\n", tg_kind_name((enum tg_kind)k));
	if (g->err)
		fprintf(stderr, "txgen: write error\n");
	else
		rc = 0;
	summary(g);
out:
	if (g->pcap && tg_pcap_close(g->pcap) != 0 && rc == 0) {
		fprintf(stderr, "txgen: %s: write failed\n", o->pcap_path);
		rc = -1;
	}
	if (g->man && fclose(g->man) != 0 && rc == 0) {
		fprintf(stderr, "txgen: %s: write failed\n", o->manifest_path);
		rc = -1;
	}
	if (g->keys)
		sodium_memzero(g->keys, sizeof *g->keys * (size_t)(g->nkeys > 0 ? g->nkeys : 0));
	free(g->keys);
	free(g->unk);
	free(g);
	return rc;
}
