/* Integration test of txgen: runs `txgen keygen` and `txgen pcap` on a
 * small count, then reads the pcap and the manifest back and checks them
 * against an independent model: the pcap format, one packet per manifest
 * seq, every packet parses (or fails) as its manifest line says, every
 * record's tx_id and expected status follow the spec's rules in send
 * order, committed tx_ids are unique, every kind appears, the same
 * seed gives the same bytes, and --src-random changes only the IPv4
 * sources. Usage: test_txgen PATH/txgen WORKDIR */
#include <CUnit/Basic.h>
#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "mix.h"
#include "wire.h"

#define CHAIN 77u
#define NOW 1893456000000ull
#define MAX_TTL 120000ull
#define COUNT 600
#define PORT 7400u

static const char *txgen, *work;

struct pkt {
	uint8_t *data;
	uint32_t len;
};

struct line {
	unsigned long seq;
	char kind[32];
	char txid[65];
	char expect[32];
};

static struct pkt *pkts;
static size_t npkts;
static struct line *lines;
static size_t nlines;
static uint8_t (*members)[32];
static size_t nmembers;

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	int st = system(cmd);
	return (st != -1 && WIFEXITED(st)) ? WEXITSTATUS(st) : -1;
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
			cap = cap ? 2 * cap : 65536;
			uint8_t *nb = realloc(b, cap);
			if (!nb) {
				free(b);
				fclose(f);
				return NULL;
			}
			b = nb;
		}
		r = fread(b + len, 1, cap - len, f);
		len += r;
	} while (r > 0);
	fclose(f);
	*n = len;
	return b;
}

static int load_members(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char l[512], name[128], hex[128];
	while (fgets(l, sizeof l, f)) {
		if (l[0] == '#' || l[0] == '\n')
			continue;
		if (sscanf(l, "%127s %127s", name, hex) != 2)
			return -1;
		members = realloc(members, (nmembers + 1) * sizeof *members);
		if (!members || txg_unhex(hex, members[nmembers], 32) != 0)
			return -1;
		nmembers++;
	}
	fclose(f);
	return 0;
}

static int load_manifest(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char l[512];
	int first = 1;
	while (fgets(l, sizeof l, f)) {
		if (first) {
			first = 0;
			if (strcmp(l, "# seq\tkind\ttx_id\texpect\n") != 0)
				return -1;
			continue;
		}
		lines = realloc(lines, (nlines + 1) * sizeof *lines);
		struct line *m = &lines[nlines];
		char tail;
		if (!lines || sscanf(l, "%lu\t%31[^\t]\t%64[^\t]\t%31[^\n]%c", &m->seq, m->kind, m->txid, m->expect, &tail) != 5 ||
		    tail != '\n')
			return -1;
		nlines++;
	}
	fclose(f);
	return 0;
}

static uint32_t ld32(const uint8_t *p) { return txg_ld32(p); }

/* Read the packets of the pcap at path into *out[0..*nout). */
static int read_pcap(const char *path, struct pkt **out, size_t *nout)
{
	struct pkt *ps = NULL;
	size_t np = 0;
	size_t n;
	uint8_t *b = slurp(path, &n);
	if (!b || n < 24)
		return -1;
	/* Checked in test_pcap_header; here only walk the records. */
	size_t off = 24;
	while (off < n) {
		if (n - off < 16)
			return -1;
		uint32_t incl = ld32(b + off + 8), orig = ld32(b + off + 12);
		if (incl != orig || incl > 65535 || n - off - 16 < incl)
			return -1;
		ps = realloc(ps, (np + 1) * sizeof *ps);
		if (!ps)
			return -1;
		ps[np].data = malloc(incl ? incl : 1);
		memcpy(ps[np].data, b + off + 16, incl);
		ps[np].len = incl;
		np++;
		off += 16 + incl;
	}
	free(b);
	*out = ps;
	*nout = np;
	return 0;
}

static int load_pcap(const char *path) { return read_pcap(path, &pkts, &npkts); }

static void free_pkts(struct pkt *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(p[i].data);
	free(p);
}

static int suite_init(void)
{
	if (sodium_init() < 0)
		return -1;
	if (mkdir(work, 0700) != 0 && errno != EEXIST)
		return -1;
	if (run("rm -rf '%s/keys' '%s/k3' && '%s' keygen --out '%s/keys' --count 4 --seed 3", work, work, txgen, work) != 0)
		return -1;
	const char *common = "--chain 77 --count 600 --now-ms 1893456000000 --per-frame 6 "
			     "--mix all=1,valid=12 --flags 1 --unknown-keys 2";
	if (run("'%s' pcap --keys '%s/keys' %s --seed 5 --out '%s/a.pcap' --manifest '%s/a.tsv' 2>'%s/a.log'", txgen,
		work, common, work, work, work) != 0 ||
	    run("'%s' pcap --keys '%s/keys' %s --seed 5 --out '%s/b.pcap' --manifest '%s/b.tsv' 2>/dev/null", txgen,
		work, common, work, work) != 0 ||
	    run("'%s' pcap --keys '%s/keys' %s --seed 6 --out '%s/c.pcap' --manifest '%s/c.tsv' 2>/dev/null", txgen,
		work, common, work, work) != 0 ||
	    run("'%s' pcap --keys '%s/keys' %s --seed 5 --src-random --out '%s/d.pcap' --manifest '%s/d.tsv' 2>/dev/null",
		txgen, work, common, work, work) != 0 ||
	    run("'%s' pcap --keys '%s/keys' %s --seed 5 --src-random --out '%s/e.pcap' --manifest '%s/e.tsv' 2>/dev/null",
		txgen, work, common, work, work) != 0)
		return -1;
	char p[4096];
	snprintf(p, sizeof p, "%s/keys/members.txt", work);
	if (load_members(p) != 0)
		return -1;
	snprintf(p, sizeof p, "%s/a.tsv", work);
	if (load_manifest(p) != 0)
		return -1;
	snprintf(p, sizeof p, "%s/a.pcap", work);
	return load_pcap(p);
}

static int suite_clean(void)
{
	free_pkts(pkts, npkts);
	free(lines);
	free(members);
	return 0;
}

static void test_keygen(void)
{
	CU_ASSERT_EQUAL(nmembers, 4);
	for (int i = 1; i <= 4; i++) {
		char p[4096];
		struct stat st;
		snprintf(p, sizeof p, "%s/keys/member%d.key", work, i);
		CU_ASSERT_FATAL(stat(p, &st) == 0);
		CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
		size_t n;
		uint8_t *b = slurp(p, &n);
		CU_ASSERT_FATAL(b != NULL);
		CU_ASSERT_EQUAL(n, 65);
		uint8_t seed[32], pk[32], sk[64];
		char hex[65];
		memcpy(hex, b, 64);
		hex[64] = 0;
		CU_ASSERT_FATAL(txg_unhex(hex, seed, 32) == 0);
		crypto_sign_seed_keypair(pk, sk, seed);
		CU_ASSERT(memcmp(pk, members[i - 1], 32) == 0);
		free(b);
	}
	/* Keys are not overwritten without --force. */
	CU_ASSERT_NOT_EQUAL(run("'%s' keygen --out '%s/keys' --count 4 2>/dev/null", txgen, work), 0);
	CU_ASSERT_EQUAL(run("'%s' keygen --out '%s/k3' --count 2 && '%s' keygen --out '%s/k3' --count 3 --force", txgen, work,
			    txgen, work),
			0);
	/* Bad usage fails. */
	CU_ASSERT_NOT_EQUAL(run("'%s' keygen --out '%s/k2' 2>/dev/null", txgen, work), 0);
	CU_ASSERT_NOT_EQUAL(run("'%s' pcap --keys '%s/keys' --chain 1 --out '%s/x.pcap' --manifest '%s/x.tsv' "
				"--mix nosuchkind=1 2>/dev/null",
				txgen, work, work, work),
			    0);
	CU_ASSERT_NOT_EQUAL(run("'%s' pcap --keys '%s/nokeys' --chain 1 --out '%s/x.pcap' --manifest '%s/x.tsv' 2>/dev/null",
				txgen, work, work, work),
			    0);
}

static void test_pcap_header(void)
{
	char p[4096];
	snprintf(p, sizeof p, "%s/a.pcap", work);
	size_t n;
	uint8_t *b = slurp(p, &n);
	CU_ASSERT_FATAL(b != NULL && n >= 24);
	CU_ASSERT_EQUAL(ld32(b), 0xa1b2c3d4u);
	CU_ASSERT_EQUAL(txg_ld16(b + 4), 2);
	CU_ASSERT_EQUAL(txg_ld16(b + 6), 4);
	CU_ASSERT_EQUAL(ld32(b + 16), 65535);
	CU_ASSERT_EQUAL(ld32(b + 20), 1);
	free(b);
	CU_ASSERT(npkts > 0);
}

static int same_file(const char *a, const char *b)
{
	size_t na, nb;
	uint8_t *x = slurp(a, &na), *y = slurp(b, &nb);
	int same = x && y && na == nb && memcmp(x, y, na) == 0;
	free(x);
	free(y);
	return same;
}

static void test_deterministic(void)
{
	char a[4096], b[4096], c[4096];
	const char *ext[] = {"pcap", "tsv"};
	for (int i = 0; i < 2; i++) {
		snprintf(a, sizeof a, "%s/a.%s", work, ext[i]);
		snprintf(b, sizeof b, "%s/b.%s", work, ext[i]);
		snprintf(c, sizeof c, "%s/c.%s", work, ext[i]);
		CU_ASSERT(same_file(a, b));
		CU_ASSERT(!same_file(a, c));
	}
}

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += be16(p + i);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

/* The spec's transport rules (section 1), in the appliance parser's order.
 * Returns NULL with the UDP payload in *pl, or the drop counter name. */
static const char *parse_pkt(const uint8_t *p, uint32_t len, const uint8_t **pl, size_t *plen, int *vlan, int *af)
{
	static const uint8_t dst4[4] = {10, 0, 0, 1};
	static const uint8_t dst6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	if (len < 14)
		return "pkt_short";
	uint32_t off = 14;
	uint16_t et = be16(p + 12);
	*vlan = 0;
	if (et == 0x8100) {
		if (len < 18)
			return "pkt_short";
		*vlan = 1;
		et = be16(p + 16);
		off = 18;
		if (et == 0x8100 || et == 0x88a8)
			return "pkt_vlan_stacked";
	}
	const uint8_t *ip = p + off, *udp;
	uint32_t avail = len - off, ulen_ip;
	uint32_t ps;
	if (et == 0x0800) {
		*af = 4;
		if (avail < 20)
			return "pkt_short";
		uint32_t hl = (ip[0] & 15u) * 4;
		if (ip[0] >> 4 != 4 || hl < 20)
			return "pkt_ip_bad_hdr";
		uint32_t tot = be16(ip + 2);
		if (tot < hl + 8)
			return "pkt_ip_bad_hdr";
		if (tot > avail || hl > avail)
			return "pkt_short";
		if (sum16(ip, hl, 0) != 0xffff)
			return "pkt_ip_csum";
		if (be16(ip + 6) & 0x3fff)
			return "pkt_ip_frag";
		if (ip[9] != 17)
			return "pkt_not_udp";
		if (memcmp(ip + 16, dst4, 4) != 0)
			return "pkt_dst_addr";
		udp = ip + hl;
		ulen_ip = tot - hl;
		ps = sum16(ip + 12, 8, 17);
	} else if (et == 0x86dd) {
		*af = 6;
		if (avail < 40)
			return "pkt_short";
		if (ip[0] >> 4 != 6)
			return "pkt_ip_bad_hdr";
		ulen_ip = be16(ip + 4);
		if (ulen_ip > avail - 40)
			return "pkt_short";
		if (ip[6] != 17)
			return "pkt_not_udp";
		if (ulen_ip < 8)
			return "pkt_udp_len";
		if (memcmp(ip + 24, dst6, 16) != 0)
			return "pkt_dst_addr";
		udp = ip + 40;
		ps = sum16(ip + 8, 32, 17);
	} else {
		return "pkt_not_ip";
	}
	if (be16(udp + 2) != PORT)
		return "pkt_dst_port";
	uint32_t ulen = be16(udp + 4);
	if (ulen < 8 || ulen != ulen_ip)
		return "pkt_udp_len";
	if (*af == 6 && be16(udp + 6) == 0)
		return "pkt_udp_csum"; /* txgen always fills it in */
	if (be16(udp + 6) != 0 && sum16(udp, ulen, ps + ulen) != 0xffff)
		return "pkt_udp_csum";
	*pl = udp + 8;
	*plen = ulen - 8;
	return NULL;
}

/* The appliance's drop counter for a packet-level kind: its name, except
 * that a zero UDP checksum over IPv6 is a bad checksum (spec section 1). */
static const char *pkt_kind_counter(const char *kind)
{
	return strcmp(kind, "pkt_udp6_zero_csum") == 0 ? "pkt_udp_csum" : kind;
}

/* A pkt_udp6_zero_csum packet is untagged IPv6 with the UDP checksum field 0
 * and nothing else wrong: with the checksum filled in it parses, and its
 * payload is a well-formed frame. */
static int udp6_zero_only(const uint8_t *p, uint32_t len)
{
	if (len < 14 + 40 + 8 || be16(p + 12) != 0x86dd)
		return 0;
	uint8_t *c = malloc(len);
	if (!c)
		return 0;
	memcpy(c, p, len);
	uint8_t *ip = c + 14, *udp = ip + 40;
	uint32_t ulen = be16(udp + 4);
	int ok = be16(udp + 6) == 0 && ulen <= len - 54;
	if (ok) {
		uint16_t sum = (uint16_t)~sum16(udp, ulen, sum16(ip + 8, 32, 17) + ulen);
		udp[6] = (uint8_t)((sum ? sum : 0xffff) >> 8);
		udp[7] = (uint8_t)(sum ? sum : 0xffff);
		const uint8_t *pl;
		size_t plen;
		int vlan, af;
		static struct txg_rec_view rv[TXG_FRAME_MAX_RECS];
		struct txg_frame_view fv;
		ok = parse_pkt(c, len, &pl, &plen, &vlan, &af) == NULL && af == 6 && !vlan &&
		     txg_frame_parse(pl, plen, &fv, rv) == TXG_FE_OK;
	}
	free(c);
	return ok;
}

/* A frame_bad_flags frame sets a flag bit that is still unknown (3..7;
 * COOKIE may come with it) and nothing else is wrong: with the flags of the
 * run (--flags 1) back it is a well-formed frame without a cookie. */
static int bad_flags_only(const uint8_t *pl, size_t plen)
{
	if (plen < TXG_FRAME_HDR_LEN || !(pl[5] & ~TXG_FRAME_F_KNOWN) || !(pl[5] & TXG_FRAME_F_RECEIPT))
		return 0;
	uint8_t *c = malloc(plen);
	if (!c)
		return 0;
	memcpy(c, pl, plen);
	c[5] = TXG_FRAME_F_RECEIPT;
	static struct txg_rec_view rv[TXG_FRAME_MAX_RECS];
	struct txg_frame_view fv;
	int ok = txg_frame_parse(c, plen, &fv, rv) == TXG_FE_OK && fv.cookie == NULL;
	free(c);
	return ok;
}

static int is_member(const uint8_t *pk)
{
	for (size_t i = 0; i < nmembers; i++)
		if (memcmp(members[i], pk, 32) == 0)
			return 1;
	return 0;
}

/* Accepted tx ids, in order (a small test: linear search is fine). */
static uint8_t (*seen)[32];
static size_t nseen;

static int was_seen(const uint8_t *id)
{
	for (size_t i = 0; i < nseen; i++)
		if (memcmp(seen[i], id, 32) == 0)
			return 1;
	return 0;
}

/* Spec section 3 in order (no rate limits, no overload). */
static unsigned judge(const struct txg_rec_view *r, const uint8_t *id)
{
	unsigned st = txg_check_static(r->body, CHAIN, NOW, MAX_TTL);
	if (st != TXG_ST_COMMITTED)
		return st;
	if (!is_member(txg_body_sender(r->body)))
		return TXG_ST_UNKNOWN_SENDER;
	if (was_seen(id))
		return TXG_ST_DUPLICATE;
	if (crypto_sign_verify_detached(r->sig, r->body, r->body_len, txg_body_sender(r->body)) != 0)
		return TXG_ST_BAD_SIGNATURE;
	seen = realloc(seen, (nseen + 1) * sizeof *seen);
	memcpy(seen[nseen++], id, 32);
	return TXG_ST_COMMITTED;
}

static void test_manifest_matches(void)
{
	CU_ASSERT_FATAL(nlines > 0);
	size_t li = 0, records = 0, bad_lines = 0;
	unsigned kinds[TG_KIND_NUM] = {0};
	static struct txg_rec_view rv[TXG_FRAME_MAX_RECS];
	for (size_t pi = 0; pi < npkts; pi++) {
		/* This packet's lines: seq == pi + 1. */
		size_t first = li;
		while (li < nlines && lines[li].seq == pi + 1)
			li++;
		size_t nl = li - first;
		CU_ASSERT_FATAL(nl >= 1);
		const struct line *l0 = &lines[first];
		int k = -1;
		for (int i = 0; i < TG_KIND_NUM; i++)
			if (strcmp(l0->kind, tg_kind_name((enum tg_kind)i)) == 0)
				k = i;
		CU_ASSERT_FATAL(k >= 0);
		kinds[k]++;
		const uint8_t *pl = NULL;
		size_t plen = 0;
		int vlan = 0, af = 0;
		const char *drop = parse_pkt(pkts[pi].data, pkts[pi].len, &pl, &plen, &vlan, &af);
		if (pkts[pi].len > 1514)
			bad_lines++; /* over the MTU */
		if (k >= TG_FIRST_PKT_KIND) {
			int ok = nl == 1 && drop && strcmp(drop, l0->expect) == 0 &&
				 strcmp(pkt_kind_counter(l0->kind), l0->expect) == 0 && strcmp(l0->txid, "-") == 0;
			if (k == TG_PKT_UDP6_ZERO_CSUM && !udp6_zero_only(pkts[pi].data, pkts[pi].len)) {
				fprintf(stderr, "\npacket %zu: not IPv6 with only the UDP checksum zeroed\n", pi + 1);
				ok = 0;
			}
			if (!ok)
				fprintf(stderr, "\npacket %zu: %s but parsed as %s\n", pi + 1, l0->expect, drop ? drop : "ok");
			CU_ASSERT(ok);
			continue;
		}
		CU_ASSERT_FATAL(drop == NULL);
		CU_ASSERT_EQUAL(vlan, k == TG_VLAN);
		CU_ASSERT_EQUAL(af, k == TG_IPV6 ? 6 : 4);
		struct txg_frame_view fv;
		enum txg_frame_err fe = txg_frame_parse(pl, plen, &fv, rv);
		if (k >= TG_FIRST_FRAME_KIND) {
			CU_ASSERT(nl == 1 && fe != TXG_FE_OK && strcmp(txg_frame_err_name(fe), l0->expect) == 0 &&
				  strcmp(l0->kind, l0->expect) == 0 && strcmp(l0->txid, "-") == 0);
			if (k == TG_FRAME_BAD_FLAGS)
				CU_ASSERT(bad_flags_only(pl, plen));
			continue;
		}
		CU_ASSERT_FATAL(fe == TXG_FE_OK);
		CU_ASSERT_EQUAL(fv.flags, 1);
		CU_ASSERT_FATAL(fv.count == nl);
		CU_ASSERT(k == TG_MULTI ? (nl >= 2 && nl <= 6) : nl == 1);
		for (size_t r = 0; r < nl; r++) {
			const struct line *m = &lines[first + r];
			uint8_t id[32];
			char hex[65];
			txg_tx_id(rv[r].body, rv[r].body_len, id);
			txg_hex(id, 32, hex);
			CU_ASSERT(strcmp(hex, m->txid) == 0);
			CU_ASSERT(strcmp(m->kind, l0->kind) == 0);
			CU_ASSERT(rv[r].body_len - TXG_BODY_MIN <= 200);
			unsigned st = judge(&rv[r], id);
			if (strcmp(txg_status_name(st), m->expect) != 0) {
				fprintf(stderr, "\npacket %zu (%s): expect %s, model says %s\n", pi + 1, m->kind, m->expect,
					txg_status_name(st));
				bad_lines++;
			}
			records++;
		}
	}
	CU_ASSERT_EQUAL(li, nlines); /* no lines for packets that are not there */
	CU_ASSERT_EQUAL(bad_lines, 0);
	CU_ASSERT_EQUAL(records, COUNT);
	for (int i = 0; i < TG_KIND_NUM; i++) {
		if (!kinds[i])
			fprintf(stderr, "\nkind %s never made\n", tg_kind_name((enum tg_kind)i));
		CU_ASSERT(kinds[i] > 0);
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static size_t distinct_u32(uint32_t *v, size_t n)
{
	qsort(v, n, sizeof *v, cmp_u32);
	size_t d = 0;
	for (size_t i = 0; i < n; i++)
		d += i == 0 || v[i] != v[i - 1];
	return d;
}

/* --src-random: the same records, manifest and parse results as without it
 * (so every checksum is right but where the kind breaks it), with random
 * IPv4 sources in 1.0.0.0..223.255.255.255 and ports 1024..65535; IPv6
 * keeps its fixed source; the same seed gives the same bytes. */
static void test_src_random(void)
{
	char a[4096], b[4096];
	snprintf(a, sizeof a, "%s/d.pcap", work);
	snprintf(b, sizeof b, "%s/e.pcap", work);
	CU_ASSERT(same_file(a, b));
	snprintf(b, sizeof b, "%s/a.pcap", work);
	CU_ASSERT(!same_file(a, b));
	snprintf(a, sizeof a, "%s/d.tsv", work);
	snprintf(b, sizeof b, "%s/a.tsv", work);
	CU_ASSERT(same_file(a, b));
	struct pkt *d = NULL;
	size_t nd = 0;
	snprintf(a, sizeof a, "%s/d.pcap", work);
	CU_ASSERT_FATAL(read_pcap(a, &d, &nd) == 0);
	CU_ASSERT_FATAL(nd == npkts);
	uint32_t *addrs = calloc(nd, sizeof *addrs), *ports = calloc(nd, sizeof *ports);
	CU_ASSERT_FATAL(addrs && ports);
	size_t n4 = 0, ok4 = 0, n6 = 0;
	static const uint8_t src6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
	for (size_t i = 0; i < nd; i++) {
		const uint8_t *pa = NULL, *pd = NULL;
		size_t la = 0, ld = 0;
		int va = 0, vd = 0, fa = 0, fd = 0;
		const char *ea = parse_pkt(pkts[i].data, pkts[i].len, &pa, &la, &va, &fa);
		const char *ed = parse_pkt(d[i].data, d[i].len, &pd, &ld, &vd, &fd);
		int same = d[i].len == pkts[i].len && ((!ea && !ed) || (ea && ed && strcmp(ea, ed) == 0));
		if (!same)
			fprintf(stderr, "\npacket %zu: %s without --src-random, %s with it\n", i + 1, ea ? ea : "ok",
				ed ? ed : "ok");
		CU_ASSERT(same);
		if (!ea && !ed) {
			CU_ASSERT(va == vd && fa == fd && la == ld && memcmp(pa, pd, la) == 0);
		}
		const uint8_t *p = d[i].data;
		size_t l3 = 14;
		if (d[i].len >= 18 && be16(p + 12) == 0x8100)
			l3 = 18;
		if (d[i].len < l3 + 28)
			continue;
		uint16_t et = be16(p + l3 - 2);
		const uint8_t *ip = p + l3;
		if (et == 0x0800 && (ip[0] & 15) == 5) {
			uint32_t src = (uint32_t)ip[12] << 24 | (uint32_t)ip[13] << 16 | (uint32_t)ip[14] << 8 | ip[15];
			uint16_t sport = be16(ip + 20);
			CU_ASSERT(src >= 0x01000000u && src <= 0xdfffffffu);
			CU_ASSERT(sport >= 1024);
			addrs[n4] = src;
			ports[n4] = sport;
			n4++;
			ok4 += !ed;
		} else if (et == 0x86dd && d[i].len >= l3 + 48) {
			CU_ASSERT(memcmp(ip + 8, src6, 16) == 0);
			CU_ASSERT_EQUAL(be16(ip + 40), 40000);
			n6++;
		}
	}
	size_t da = distinct_u32(addrs, n4), dp = distinct_u32(ports, n4);
	CU_ASSERT(n4 > 400 && ok4 > 400 && n6 > 0);
	CU_ASSERT(da * 100 >= n4 * 98); /* collisions in 2^32 * 7/8 are rare */
	CU_ASSERT(dp * 100 >= n4 * 90);
	free(addrs);
	free(ports);
	free_pkts(d, nd);
}

static void test_committed_unique(void)
{
	size_t committed = 0, dups = 0;
	for (size_t i = 0; i < nlines; i++) {
		if (strcmp(lines[i].expect, "committed") != 0)
			continue;
		committed++;
		for (size_t j = 0; j < i; j++)
			if (strcmp(lines[j].expect, "committed") == 0 && strcmp(lines[i].txid, lines[j].txid) == 0)
				dups++;
	}
	CU_ASSERT(committed > COUNT / 3);
	CU_ASSERT_EQUAL(dups, 0);
	/* Each forged body's real record comes later and commits. */
	for (size_t i = 0; i < nlines; i++) {
		if (strcmp(lines[i].kind, "forged") != 0)
			continue;
		int later = 0;
		for (size_t j = i + 1; j < nlines; j++)
			if (strcmp(lines[j].txid, lines[i].txid) == 0 && strcmp(lines[j].expect, "committed") == 0 &&
			    lines[j].seq > lines[i].seq)
				later = 1;
		CU_ASSERT(later);
	}
	/* Each dup follows its committed original in an earlier packet. */
	for (size_t i = 0; i < nlines; i++) {
		if (strcmp(lines[i].kind, "dup") != 0)
			continue;
		int earlier = 0;
		for (size_t j = 0; j < i; j++)
			if (strcmp(lines[j].txid, lines[i].txid) == 0 && strcmp(lines[j].expect, "committed") == 0 &&
			    lines[j].seq < lines[i].seq)
				earlier = 1;
		CU_ASSERT(earlier);
	}
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s PATH/txgen WORKDIR\n", argv[0]);
		return 2;
	}
	txgen = argv[1];
	work = argv[2];
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("txgen", suite_init, suite_clean);
	if (!s || !CU_add_test(s, "keygen", test_keygen) || !CU_add_test(s, "pcap header", test_pcap_header) ||
	    !CU_add_test(s, "same seed, same bytes", test_deterministic) ||
	    !CU_add_test(s, "packets match the manifest and the rules", test_manifest_matches) ||
	    !CU_add_test(s, "committed ids unique, forged/dup order", test_committed_unique) ||
	    !CU_add_test(s, "--src-random: random IPv4 sources, right checksums", test_src_random)) {
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned fails = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	free(seen);
	return fails ? 1 : 0;
}
