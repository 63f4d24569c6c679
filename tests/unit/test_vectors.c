/* Known-answer tests: every line of shared/spec/vectors.txt is checked
 * against the record codec (ledger/record.h), the block hashes
 * (ledger/block.h) and the frame codec (dataplane/wire.h). Also the error
 * cases of txg_frame_parse (with and without the COOKIE flag) and the rule
 * order of txg_check_static.
 * Built twice: with TXG_VECTORS_LEDGER_ONLY it checks the ledger layer
 * alone (keys, records, tx ids, Merkle roots, blocks) and links nothing
 * of the data path. Usage: test_vectors PATH/vectors.txt */
#include <CUnit/Basic.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block.h"
#include "hex.h"
#include "record.h"
#ifndef TXG_VECTORS_LEDGER_ONLY
#include "wire.h"
#endif

#define MAX_LINES 512
#define MAX_TOK 48
#define MAX_KEYS 64
#define MAX_TXS 256

struct vline {
	int no;		/* line number in the file, from 1 */
	char *text;	/* owned copy, tokenised in place */
	int ntok;
	char *tok[MAX_TOK];
	int checked;	/* set once every check of the line has passed */
};

struct vkey {
	int have;
	uint8_t pk[TXG_KEY_LEN];
	uint8_t sk[64];
};

struct vtx {
	int have;
	uint8_t *rec;
	size_t rec_len;
	uint8_t id[TXG_ID_LEN];
};

static const char *vec_path;
static struct vline lines[MAX_LINES];
static int n_lines;	 /* non-comment, non-blank lines */
static int n_too_many;	 /* lines beyond MAX_LINES (a failure) */
static struct vkey keys[MAX_KEYS];
static struct vtx txs[MAX_TXS];

/* Value after the word name in the pairs from tok[start], or NULL. */
static const char *get(const struct vline *l, int start, const char *name)
{
	for (int i = start; i + 1 < l->ntok; i += 2)
		if (strcmp(l->tok[i], name) == 0)
			return l->tok[i + 1];
	return NULL;
}

/* 1 if the line is tok[0] [index] then name/value pairs whose names are
 * exactly those in names (NULL-terminated), each once. */
static int shape_ok(const struct vline *l, int start, const char *const *names)
{
	int n = 0;
	while (names[n])
		n++;
	if (l->ntok != start + 2 * n)
		return 0;
	for (int i = 0; i < n; i++)
		if (strcmp(l->tok[start + 2 * i], names[i]) != 0)
			return 0;
	return 1;
}

static int parse_u64(const char *s, uint64_t *out)
{
	if (!s || !*s)
		return -1;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end || s[0] == '-')
		return -1;
	*out = v;
	return 0;
}

/* Hex string of any even length into a malloc'd buffer. */
static uint8_t *unhex_alloc(const char *s, size_t *n)
{
	if (!s)
		return NULL;
	size_t l = strlen(s);
	if (l % 2 || l == 0)
		return NULL;
	uint8_t *b = malloc(l / 2);
	if (!b || txg_unhex(s, b, l / 2) != 0) {
		free(b);
		return NULL;
	}
	*n = l / 2;
	return b;
}

static int unhex_fixed(const char *s, uint8_t *out, size_t n) { return s ? txg_unhex(s, out, n) : -1; }

static int suite_init(void)
{
	if (sodium_init() < 0)
		return -1;
	FILE *f = fopen(vec_path, "r");
	if (!f)
		return -1;
	char *buf = NULL;
	size_t cap = 0;
	ssize_t r;
	int no = 0;
	while ((r = getline(&buf, &cap, f)) >= 0) {
		no++;
		while (r > 0 && (buf[r - 1] == '\n' || buf[r - 1] == '\r'))
			buf[--r] = 0;
		const char *p = buf;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == 0 || *p == '#')
			continue;
		if (n_lines == MAX_LINES) {
			n_too_many++;
			continue;
		}
		struct vline *l = &lines[n_lines++];
		l->no = no;
		l->text = strdup(p);
		if (!l->text)
			return -1;
		char *save = NULL;
		for (char *t = strtok_r(l->text, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
			if (l->ntok == MAX_TOK) {
				l->ntok = MAX_TOK + 1; /* marks an unrecognised line */
				break;
			}
			l->tok[l->ntok++] = t;
		}
	}
	free(buf);
	fclose(f);
	return 0;
}

static int suite_clean(void)
{
	for (int i = 0; i < n_lines; i++)
		free(lines[i].text);
	for (int i = 0; i < MAX_TXS; i++)
		free(txs[i].rec);
	return 0;
}

static int is(const struct vline *l, const char *kw) { return l->ntok >= 1 && l->ntok <= MAX_TOK && strcmp(l->tok[0], kw) == 0; }

/* Index in tok[1] as a number below lim, or -1. */
static int line_index(const struct vline *l, int lim)
{
	uint64_t v;
	if (l->ntok < 2 || parse_u64(l->tok[1], &v) != 0 || v >= (uint64_t)lim)
		return -1;
	return (int)v;
}

/* ---- key lines: seed -> pk ---- */
static void test_keys(void)
{
	static const char *const names[] = {"seed", "pk", NULL};
	int n = 0;
	for (int i = 0; i < n_lines; i++) {
		struct vline *l = &lines[i];
		if (!is(l, "key"))
			continue;
		n++;
		int idx = line_index(l, MAX_KEYS);
		CU_ASSERT_FATAL(idx >= 0);
		CU_ASSERT_FATAL(shape_ok(l, 2, names));
		uint8_t seed[32], pk[32], got[32], sk[64];
		CU_ASSERT_FATAL(unhex_fixed(get(l, 2, "seed"), seed, 32) == 0);
		CU_ASSERT_FATAL(unhex_fixed(get(l, 2, "pk"), pk, 32) == 0);
		CU_ASSERT_FATAL(crypto_sign_seed_keypair(got, sk, seed) == 0);
		CU_ASSERT_FATAL(memcmp(got, pk, 32) == 0);
		CU_ASSERT_FATAL(!keys[idx].have);
		memcpy(keys[idx].pk, pk, 32);
		memcpy(keys[idx].sk, sk, 64);
		keys[idx].have = 1;
		l->checked = 1;
	}
	CU_ASSERT(n > 0);
}

/* ---- tx lines: decode, fields, re-encode, tx_id, signature ---- */
static void test_txs(void)
{
	static const char *const names[] = {"chain", "nonce", "expires_ms", "kind", "payload_len", "record", "tx_id", NULL};
	int n = 0;
	for (int i = 0; i < n_lines; i++) {
		struct vline *l = &lines[i];
		if (!is(l, "tx"))
			continue;
		n++;
		int idx = line_index(l, MAX_TXS);
		CU_ASSERT_FATAL(idx >= 0);
		CU_ASSERT_FATAL(!txs[idx].have);
		CU_ASSERT_FATAL(shape_ok(l, 2, names));
		uint64_t chain = 0, nonce = 0, exp = 0, kind = 0, plen = 0;
		CU_ASSERT_FATAL(parse_u64(get(l, 2, "chain"), &chain) == 0 && chain <= UINT32_MAX);
		CU_ASSERT_FATAL(parse_u64(get(l, 2, "nonce"), &nonce) == 0);
		CU_ASSERT_FATAL(parse_u64(get(l, 2, "expires_ms"), &exp) == 0);
		CU_ASSERT_FATAL(parse_u64(get(l, 2, "kind"), &kind) == 0 && kind <= 255);
		CU_ASSERT_FATAL(parse_u64(get(l, 2, "payload_len"), &plen) == 0);
		size_t rl = 0;
		uint8_t *rec = unhex_alloc(get(l, 2, "record"), &rl);
		CU_ASSERT_FATAL(rec != NULL);
		txs[idx].rec = rec;
		txs[idx].rec_len = rl;
		uint8_t want_id[TXG_ID_LEN];
		CU_ASSERT_FATAL(unhex_fixed(get(l, 2, "tx_id"), want_id, TXG_ID_LEN) == 0);

		struct txg_rec_view rv;
		CU_ASSERT_FATAL(txg_record_view(rec, rl, &rv) == 0);
		CU_ASSERT_EQUAL_FATAL(rv.body_len, TXG_BODY_MIN + plen);
		CU_ASSERT_EQUAL(rv.rec_len, rl);
		CU_ASSERT_EQUAL(txg_body_version(rv.body), TXG_BODY_VERSION);
		CU_ASSERT_EQUAL(txg_body_flags(rv.body), 0);
		CU_ASSERT_EQUAL(txg_body_kind(rv.body), kind);
		CU_ASSERT_EQUAL(txg_body_chain(rv.body), chain);
		CU_ASSERT_EQUAL(txg_body_nonce(rv.body), nonce);
		CU_ASSERT_EQUAL(txg_body_expires(rv.body), exp);

		uint8_t id[TXG_ID_LEN];
		txg_tx_id(rv.body, rv.body_len, id);
		CU_ASSERT_FATAL(memcmp(id, want_id, TXG_ID_LEN) == 0);
		memcpy(txs[idx].id, id, TXG_ID_LEN);
		CU_ASSERT_FATAL(crypto_sign_verify_detached(rv.sig, rv.body, rv.body_len, txg_body_sender(rv.body)) == 0);

		/* The signer is the key line whose pk is the sender. */
		int signer = -1;
		for (int k = 0; k < MAX_KEYS; k++)
			if (keys[k].have && memcmp(keys[k].pk, txg_body_sender(rv.body), 32) == 0)
				signer = k;
		CU_ASSERT_FATAL(signer >= 0);

		struct txg_body_fields bf = {.version = TXG_BODY_VERSION,
					     .kind = (uint8_t)kind,
					     .flags = 0,
					     .chain_id = (uint32_t)chain,
					     .nonce = nonce,
					     .expires_ms = exp};
		memcpy(bf.sender, keys[signer].pk, 32);
		uint8_t *re = malloc(rl);
		CU_ASSERT_FATAL(re != NULL);
		size_t got = txg_record_encode(re, rl, &bf, rv.body + TXG_BODY_MIN, plen, keys[signer].sk);
		CU_ASSERT_EQUAL(got, rl);
		int same = got == rl && memcmp(re, rec, rl) == 0;
		CU_ASSERT(same);
		/* One byte too little room is refused. */
		CU_ASSERT_EQUAL(txg_record_encode(re, rl - 1, &bf, rv.body + TXG_BODY_MIN, plen, keys[signer].sk), 0);
		free(re);
		if (!same)
			continue;
		txs[idx].have = 1;
		l->checked = 1;
	}
	CU_ASSERT(n > 0);
}

/* tx ids lo..hi (inclusive) into ids; -1 if any is missing. */
static int tx_ids(uint64_t lo, uint64_t hi, uint8_t (*ids)[TXG_ID_LEN])
{
	if (lo > hi || hi >= MAX_TXS)
		return -1;
	for (uint64_t i = lo; i <= hi; i++) {
		if (!txs[i].have)
			return -1;
		memcpy(ids[i - lo], txs[i].id, TXG_ID_LEN);
	}
	return 0;
}

/* ---- merkle_root lines ---- */
static void test_merkle(void)
{
	static const char *const names[] = {"first", "tx_ids", NULL};
	int n = 0;
	for (int i = 0; i < n_lines; i++) {
		struct vline *l = &lines[i];
		if (!is(l, "merkle_root"))
			continue;
		n++;
		CU_ASSERT_FATAL(shape_ok(l, 1, names));
		uint64_t cnt = 0;
		CU_ASSERT_FATAL(parse_u64(get(l, 1, "first"), &cnt) == 0 && cnt >= 1 && cnt <= MAX_TXS);
		uint8_t want[32], root[32];
		CU_ASSERT_FATAL(unhex_fixed(get(l, 1, "tx_ids"), want, 32) == 0);
		static uint8_t ids[MAX_TXS][TXG_ID_LEN], scratch[MAX_TXS][TXG_ID_LEN];
		CU_ASSERT_FATAL(tx_ids(0, cnt - 1, ids) == 0);
		txg_merkle_root((const uint8_t(*)[TXG_ID_LEN])ids, cnt, scratch, root);
		CU_ASSERT_FATAL(memcmp(root, want, 32) == 0);
		l->checked = 1;
	}
	CU_ASSERT(n > 0);
}

static int parse_range(const char *s, uint64_t *lo, uint64_t *hi)
{
	if (!s)
		return -1;
	const char *dd = strstr(s, "..");
	if (!dd || dd == s)
		return -1;
	char a[32];
	size_t al = (size_t)(dd - s);
	if (al >= sizeof a)
		return -1;
	memcpy(a, s, al);
	a[al] = 0;
	if (parse_u64(a, lo) != 0 || parse_u64(dd + 2, hi) != 0 || *lo > *hi)
		return -1;
	return 0;
}

/* ---- block lines: header from fields, encode, decode, hash ---- */
static void test_blocks(void)
{
	static const char *const names[] = {"height", "txs", "timestamp_ms", "header", "block_hash", NULL};
	int n = 0;
	uint8_t prev[TXG_HASH_LEN] = {0};
	uint64_t prev_height = 0;
	for (int i = 0; i < n_lines; i++) {
		struct vline *l = &lines[i];
		if (!is(l, "block"))
			continue;
		n++;
		CU_ASSERT_FATAL(shape_ok(l, 1, names));
		uint64_t height = 0, lo = 0, hi = 0, ts = 0;
		CU_ASSERT_FATAL(parse_u64(get(l, 1, "height"), &height) == 0);
		CU_ASSERT_FATAL(height == prev_height + 1);
		CU_ASSERT_FATAL(parse_range(get(l, 1, "txs"), &lo, &hi) == 0);
		CU_ASSERT_FATAL(parse_u64(get(l, 1, "timestamp_ms"), &ts) == 0);
		uint8_t want_hdr[TXG_HDR_LEN], want_hash[TXG_HASH_LEN];
		CU_ASSERT_FATAL(unhex_fixed(get(l, 1, "header"), want_hdr, TXG_HDR_LEN) == 0);
		CU_ASSERT_FATAL(unhex_fixed(get(l, 1, "block_hash"), want_hash, TXG_HASH_LEN) == 0);

		static uint8_t ids[MAX_TXS][TXG_ID_LEN], scratch[MAX_TXS][TXG_ID_LEN];
		CU_ASSERT_FATAL(tx_ids(lo, hi, ids) == 0);
		uint32_t chain = txg_body_chain(txs[lo].rec + 2);
		for (uint64_t t = lo; t <= hi; t++)
			CU_ASSERT_FATAL(txg_body_chain(txs[t].rec + 2) == chain);

		struct txg_block_hdr h = {.version = TXG_BLOCK_VERSION,
					  .chain_id = chain,
					  .height = height,
					  .timestamp_ms = ts,
					  .tx_count = (uint32_t)(hi - lo + 1)};
		memcpy(h.prev_hash, prev, TXG_HASH_LEN);
		txg_merkle_root((const uint8_t(*)[TXG_ID_LEN])ids, hi - lo + 1, scratch, h.tx_root);
		uint8_t hdr[TXG_HDR_LEN], hash[TXG_HASH_LEN];
		txg_hdr_encode(&h, hdr);
		CU_ASSERT_FATAL(memcmp(hdr, want_hdr, TXG_HDR_LEN) == 0);

		struct txg_block_hdr d;
		CU_ASSERT_FATAL(txg_hdr_decode(want_hdr, &d) == 0);
		CU_ASSERT(d.version == h.version && d.chain_id == h.chain_id && d.height == h.height &&
			  d.timestamp_ms == h.timestamp_ms && d.tx_count == h.tx_count &&
			  memcmp(d.prev_hash, h.prev_hash, 32) == 0 && memcmp(d.tx_root, h.tx_root, 32) == 0);
		uint8_t again[TXG_HDR_LEN];
		txg_hdr_encode(&d, again);
		CU_ASSERT_FATAL(memcmp(again, want_hdr, TXG_HDR_LEN) == 0);

		txg_block_hash(hdr, hash);
		CU_ASSERT_FATAL(memcmp(hash, want_hash, TXG_HASH_LEN) == 0);
		memcpy(prev, want_hash, TXG_HASH_LEN);
		prev_height = height;
		l->checked = 1;
	}
	CU_ASSERT(n > 0);
}

#ifndef TXG_VECTORS_LEDGER_ONLY
/* ---- frame lines: header + records, then parse ---- */
static void test_frames(void)
{
	static const char *const names[] = {"flags", "records", "bytes", NULL};
	int n = 0;
	for (int i = 0; i < n_lines; i++) {
		struct vline *l = &lines[i];
		if (!is(l, "frame"))
			continue;
		n++;
		CU_ASSERT_FATAL(shape_ok(l, 1, names));
		uint64_t flags = 0;
		CU_ASSERT_FATAL(parse_u64(get(l, 1, "flags"), &flags) == 0 && flags <= 255);
		size_t bl = 0;
		uint8_t *want = unhex_alloc(get(l, 1, "bytes"), &bl);
		CU_ASSERT_FATAL(want != NULL);

		/* records: tx0,tx1,... */
		int idx[TXG_FRAME_MAX_RECS];
		int cnt = 0, ok = 1;
		char list[1024];
		const char *rs = get(l, 1, "records");
		if (!rs || strlen(rs) >= sizeof list)
			ok = 0;
		else {
			strcpy(list, rs);
			char *save = NULL;
			for (char *t = strtok_r(list, ",", &save); t && ok; t = strtok_r(NULL, ",", &save)) {
				uint64_t v;
				if (cnt == (int)TXG_FRAME_MAX_RECS || strncmp(t, "tx", 2) != 0 || parse_u64(t + 2, &v) != 0 ||
				    v >= MAX_TXS || !txs[v].have)
					ok = 0;
				else
					idx[cnt++] = (int)v;
			}
		}
		CU_ASSERT(ok && cnt > 0);
		if (!ok || cnt == 0) {
			free(want);
			continue;
		}
		size_t len = TXG_FRAME_HDR_LEN;
		for (int k = 0; k < cnt; k++)
			len += txs[idx[k]].rec_len;
		uint8_t *fr = malloc(len);
		CU_ASSERT_FATAL(fr != NULL);
		txg_frame_header(fr, (uint8_t)flags, (uint16_t)cnt);
		size_t off = TXG_FRAME_HDR_LEN;
		for (int k = 0; k < cnt; k++) {
			memcpy(fr + off, txs[idx[k]].rec, txs[idx[k]].rec_len);
			off += txs[idx[k]].rec_len;
		}
		int same = len == bl && memcmp(fr, want, bl) == 0;
		CU_ASSERT(same);

		struct txg_frame_view fv;
		static struct txg_rec_view rv[TXG_FRAME_MAX_RECS];
		enum txg_frame_err e = txg_frame_parse(want, bl, &fv, rv);
		CU_ASSERT_EQUAL(e, TXG_FE_OK);
		int good = same && e == TXG_FE_OK && fv.count == cnt && fv.flags == flags && fv.cookie == NULL;
		CU_ASSERT(good);
		size_t roff = TXG_FRAME_HDR_LEN;
		for (int k = 0; good && k < cnt; k++) {
			int rec_ok = rv[k].rec == want + roff && rv[k].body == rv[k].rec + 2 &&
				     rv[k].rec_len == txs[idx[k]].rec_len &&
				     rv[k].body_len == txs[idx[k]].rec_len - TXG_REC_OVERHEAD &&
				     rv[k].sig == rv[k].body + rv[k].body_len &&
				     memcmp(rv[k].rec, txs[idx[k]].rec, txs[idx[k]].rec_len) == 0;
			CU_ASSERT(rec_ok);
			good = good && rec_ok;
			roff += txs[idx[k]].rec_len;
		}
		if (good)
			l->checked = 1;
		free(fr);
		free(want);
	}
	CU_ASSERT(n > 0);
}

#endif

/* Runs last: every line was recognised and fully checked (the ledger-only
 * build leaves frame lines to the full one). */
static void test_all_lines_checked(void)
{
	int checked = 0;
	CU_ASSERT_EQUAL(n_too_many, 0);
	CU_ASSERT(n_lines > 0);
	for (int i = 0; i < n_lines; i++) {
#ifdef TXG_VECTORS_LEDGER_ONLY
		if (is(&lines[i], "frame"))
			lines[i].checked = 1;
#endif
		if (lines[i].checked)
			checked++;
		else
			fprintf(stderr, "\n%s:%d: line not recognised or not checked\n", vec_path, lines[i].no);
	}
	CU_ASSERT_EQUAL(checked, n_lines);
}

#ifndef TXG_VECTORS_LEDGER_ONLY
/* ---- txg_frame_parse error cases ---- */

/* A frame of n records of body_len 56 + i into buf; returns its length. */
static size_t make_frame(uint8_t *buf, int n)
{
	static uint8_t sk[64], pk[32];
	static int init;
	if (!init) {
		uint8_t seed[32] = {7};
		crypto_sign_seed_keypair(pk, sk, seed);
		init = 1;
	}
	txg_frame_header(buf, TXG_FRAME_F_RECEIPT, (uint16_t)n);
	size_t off = TXG_FRAME_HDR_LEN;
	for (int i = 0; i < n; i++) {
		struct txg_body_fields f = {.version = 1, .kind = (uint8_t)i, .chain_id = 5, .nonce = (uint64_t)i, .expires_ms = 99};
		memcpy(f.sender, pk, 32);
		uint8_t pl[8] = {1, 2, 3, 4, 5, 6, 7, 8};
		off += txg_record_encode(buf + off, 4096 - off, &f, pl, (size_t)i % 8, sk);
	}
	return off;
}

static enum txg_frame_err parse(const uint8_t *p, size_t len)
{
	struct txg_frame_view fv;
	static struct txg_rec_view rv[TXG_FRAME_MAX_RECS];
	/* Copy to an exact-size heap buffer so ASan catches any over-read. */
	uint8_t *c = malloc(len ? len : 1);
	CU_ASSERT_FATAL(c != NULL);
	if (len)
		memcpy(c, p, len);
	enum txg_frame_err e = txg_frame_parse(c, len, &fv, rv);
	free(c);
	return e;
}

static void test_frame_errors(void)
{
	uint8_t good[4096], b[4096];
	size_t len = make_frame(good, 3);
	CU_ASSERT_EQUAL_FATAL(parse(good, len), TXG_FE_OK);

	/* short: every length under the header */
	for (size_t l = 0; l < TXG_FRAME_HDR_LEN; l++)
		CU_ASSERT_EQUAL(parse(good, l), TXG_FE_SHORT);
	/* magic */
	for (int i = 0; i < 4; i++) {
		memcpy(b, good, len);
		b[i] ^= 0x20;
		CU_ASSERT_EQUAL(parse(b, len), TXG_FE_MAGIC);
	}
	/* version 0 and 2 */
	memcpy(b, good, len);
	b[4] = 0;
	CU_ASSERT_EQUAL(parse(b, len), TXG_FE_VERSION);
	b[4] = 2;
	CU_ASSERT_EQUAL(parse(b, len), TXG_FE_VERSION);
	/* flags: bits 3..7 alone or beside the known ones (COOKIE too); RECEIPT and ADMIT are fine */
	for (int bit = 3; bit < 8; bit++) {
		memcpy(b, good, len);
		b[5] = (uint8_t)(1u << bit);
		CU_ASSERT_EQUAL(parse(b, len), TXG_FE_FLAGS);
		b[5] = (uint8_t)(1u << bit) | TXG_FRAME_F_KNOWN;
		CU_ASSERT_EQUAL(parse(b, len), TXG_FE_FLAGS);
	}
	memcpy(b, good, len);
	b[5] = TXG_FRAME_F_RECEIPT | TXG_FRAME_F_ADMIT;
	CU_ASSERT_EQUAL(parse(b, len), TXG_FE_OK);
	/* COOKIE on a frame that has none: its first record's bytes are taken for the cookie */
	b[5] = TXG_FRAME_F_COOKIE;
	CU_ASSERT_NOT_EQUAL(parse(b, len), TXG_FE_OK);
	/* count 0 and over 255 */
	memcpy(b, good, len);
	txg_st16(b + 6, 0);
	CU_ASSERT_EQUAL(parse(b, len), TXG_FE_COUNT);
	txg_st16(b + 6, 256);
	CU_ASSERT_EQUAL(parse(b, len), TXG_FE_COUNT);
	/* body_len < 56 in the first and the last record */
	memcpy(b, good, len);
	txg_st16(b + 8, 55);
	CU_ASSERT_EQUAL(parse(b, len), TXG_FE_BODY_SHORT);
	memcpy(b, good, len);
	{
		size_t off = TXG_FRAME_HDR_LEN;
		for (int i = 0; i < 2; i++)
			off += txg_ld16(b + off) + TXG_REC_OVERHEAD;
		txg_st16(b + off, 0);
		CU_ASSERT_EQUAL(parse(b, len), TXG_FE_BODY_SHORT);
		/* overrun: last record's body_len one too big */
		memcpy(b, good, len);
		txg_st16(b + off, (uint16_t)(txg_ld16(b + off) + 1));
		CU_ASSERT_EQUAL(parse(b, len), TXG_FE_OVERRUN);
		/* overrun: a huge body_len */
		memcpy(b, good, len);
		txg_st16(b + off, 0xffff);
		CU_ASSERT_EQUAL(parse(b, len), TXG_FE_OVERRUN);
	}
	/* overrun: truncated at every length inside the records */
	for (size_t l = TXG_FRAME_HDR_LEN; l < len; l++) {
		enum txg_frame_err e = parse(good, l);
		/* Cutting exactly between records leaves a record missing: overrun too. */
		CU_ASSERT_EQUAL(e, TXG_FE_OVERRUN);
	}
	/* trailing bytes: 1 and 100 */
	memcpy(b, good, len);
	memset(b + len, 0, 100);
	CU_ASSERT_EQUAL(parse(b, len + 1), TXG_FE_TRAILING);
	CU_ASSERT_EQUAL(parse(b, len + 100), TXG_FE_TRAILING);
	/* count mismatch: count 4 for 3 records is an overrun, count 2 leaves trailing bytes */
	memcpy(b, good, len);
	txg_st16(b + 6, 4);
	CU_ASSERT_EQUAL(parse(b, len), TXG_FE_OVERRUN);
	txg_st16(b + 6, 2);
	CU_ASSERT_EQUAL(parse(b, len), TXG_FE_TRAILING);
	/* 255 records is the most */
	{
		static uint8_t big[TXG_FRAME_HDR_LEN + 255 * (TXG_BODY_MIN + TXG_REC_OVERHEAD)];
		struct txg_frame_view fv;
		static struct txg_rec_view rv[TXG_FRAME_MAX_RECS];
		txg_frame_header(big, 0, 255);
		for (int i = 0; i < 255; i++)
			txg_st16(big + TXG_FRAME_HDR_LEN + (size_t)i * (TXG_BODY_MIN + TXG_REC_OVERHEAD), TXG_BODY_MIN);
		CU_ASSERT_EQUAL(txg_frame_parse(big, sizeof big, &fv, rv), TXG_FE_OK);
		CU_ASSERT_EQUAL(fv.count, 255);
		CU_ASSERT_EQUAL(fv.flags, 0);
		CU_ASSERT_PTR_EQUAL(rv[254].rec, big + sizeof big - (TXG_BODY_MIN + TXG_REC_OVERHEAD));
	}
	/* every error has its own counter name */
	for (unsigned e = 0; e < TXG_FE_NUM; e++) {
		CU_ASSERT_STRING_NOT_EQUAL(txg_frame_err_name(e), "?");
		for (unsigned f = 0; f < e; f++)
			CU_ASSERT_STRING_NOT_EQUAL(txg_frame_err_name(e), txg_frame_err_name(f));
	}
	CU_ASSERT_STRING_EQUAL(txg_frame_err_name(TXG_FE_MAGIC), "frame_bad_magic");
	CU_ASSERT_STRING_EQUAL(txg_frame_err_name(TXG_FE_NUM), "?");
}

/* ---- frames with the COOKIE flag (spec section 2) ---- */

/* good (len bytes, n records) again with a cookie: header_cookie, then the
 * same records; returns the new length. */
static size_t with_cookie(uint8_t *out, const uint8_t *good, size_t len, uint8_t flags, uint16_t n, const uint8_t *ck)
{
	size_t off = txg_frame_header_cookie(out, flags, n, ck);
	memcpy(out + off, good + TXG_FRAME_HDR_LEN, len - TXG_FRAME_HDR_LEN);
	return off + len - TXG_FRAME_HDR_LEN;
}

static void test_frame_cookie(void)
{
	uint8_t good[4096], c[4096], b[4096], ck[TXG_COOKIE_LEN];
	size_t glen = make_frame(good, 3);
	for (unsigned i = 0; i < TXG_COOKIE_LEN; i++)
		ck[i] = (uint8_t)(0xa0 + i);
	size_t len = with_cookie(c, good, glen, TXG_FRAME_F_RECEIPT, 3, ck);
	CU_ASSERT_EQUAL_FATAL(len, glen + TXG_COOKIE_LEN);
	/* the header: magic, version, flags | COOKIE, count, then the cookie */
	CU_ASSERT(memcmp(c, "TXI1", 4) == 0 && c[4] == 1 && c[5] == (TXG_FRAME_F_RECEIPT | TXG_FRAME_F_COOKIE) &&
		  txg_ld16(c + 6) == 3 && memcmp(c + 8, ck, TXG_COOKIE_LEN) == 0);

	struct txg_frame_view fv;
	static struct txg_rec_view rv[TXG_FRAME_MAX_RECS], gv[TXG_FRAME_MAX_RECS];
	CU_ASSERT_EQUAL_FATAL(txg_frame_parse(c, len, &fv, rv), TXG_FE_OK);
	CU_ASSERT_EQUAL(fv.flags, TXG_FRAME_F_RECEIPT | TXG_FRAME_F_COOKIE);
	CU_ASSERT_EQUAL(fv.count, 3);
	CU_ASSERT_PTR_EQUAL(fv.cookie, c + TXG_FRAME_HDR_LEN);
	CU_ASSERT_PTR_EQUAL(rv[0].rec, c + TXG_FRAME_HDR_COOKIE_LEN);
	CU_ASSERT_EQUAL_FATAL(txg_frame_parse(good, glen, &fv, gv), TXG_FE_OK);
	CU_ASSERT_PTR_NULL(fv.cookie);
	for (int i = 0; i < 3; i++)
		CU_ASSERT(rv[i].rec_len == gv[i].rec_len && rv[i].rec - c == gv[i].rec - good + (long)TXG_COOKIE_LEN);
	/* every known flag at once; a cookie of any value (it is judged elsewhere) */
	memcpy(b, c, len);
	b[5] = TXG_FRAME_F_KNOWN;
	memset(b + 8, 0, TXG_COOKIE_LEN);
	CU_ASSERT_EQUAL(parse(b, len), TXG_FE_OK);

	/* short: under the header, then inside the cookie; from 24 on a record is missing: overrun */
	for (size_t l = 0; l < TXG_FRAME_HDR_COOKIE_LEN; l++)
		CU_ASSERT_EQUAL(parse(c, l), TXG_FE_SHORT);
	for (size_t l = TXG_FRAME_HDR_COOKIE_LEN; l < len; l++)
		CU_ASSERT_EQUAL(parse(c, l), TXG_FE_OVERRUN);
	/* header fields are judged before the cookie's length, in offset order */
	memcpy(b, c, len);
	b[0] = 'X';
	CU_ASSERT_EQUAL(parse(b, 12), TXG_FE_MAGIC);
	memcpy(b, c, len);
	b[4] = 2;
	CU_ASSERT_EQUAL(parse(b, 12), TXG_FE_VERSION);
	memcpy(b, c, len);
	b[5] |= 0x08;
	CU_ASSERT_EQUAL(parse(b, 12), TXG_FE_FLAGS);
	memcpy(b, c, len);
	txg_st16(b + 6, 0);
	CU_ASSERT_EQUAL(parse(b, 12), TXG_FE_COUNT);
	CU_ASSERT_EQUAL(parse(b, TXG_FRAME_HDR_COOKIE_LEN), TXG_FE_COUNT);
	/* the records' own errors, behind a cookie */
	memcpy(b, c, len);
	txg_st16(b + TXG_FRAME_HDR_COOKIE_LEN, 55);
	CU_ASSERT_EQUAL(parse(b, len), TXG_FE_BODY_SHORT);
	memcpy(b, c, len);
	memset(b + len, 0, 16);
	CU_ASSERT_EQUAL(parse(b, len + 1), TXG_FE_TRAILING);
	CU_ASSERT_EQUAL(parse(b, len + 16), TXG_FE_TRAILING);
	txg_st16(b + 6, 4);
	CU_ASSERT_EQUAL(parse(b, len), TXG_FE_OVERRUN);
	txg_st16(b + 6, 2);
	CU_ASSERT_EQUAL(parse(b, len), TXG_FE_TRAILING);
	/* the cookie cleared from a cookie frame: 16 bytes no record can start with */
	memcpy(b, c, len);
	b[5] &= (uint8_t)~TXG_FRAME_F_COOKIE;
	CU_ASSERT_NOT_EQUAL(parse(b, len), TXG_FE_OK);
	/* 255 records behind a cookie is the most */
	{
		static uint8_t big[TXG_FRAME_HDR_COOKIE_LEN + 255 * (TXG_BODY_MIN + TXG_REC_OVERHEAD)];
		txg_frame_header_cookie(big, TXG_FRAME_F_ADMIT, 255, ck);
		for (int i = 0; i < 255; i++)
			txg_st16(big + TXG_FRAME_HDR_COOKIE_LEN + (size_t)i * (TXG_BODY_MIN + TXG_REC_OVERHEAD), TXG_BODY_MIN);
		CU_ASSERT_EQUAL(txg_frame_parse(big, sizeof big, &fv, rv), TXG_FE_OK);
		CU_ASSERT_EQUAL(fv.count, 255);
		CU_ASSERT_EQUAL(fv.flags, TXG_FRAME_F_ADMIT | TXG_FRAME_F_COOKIE);
		CU_ASSERT_PTR_EQUAL(fv.cookie, big + TXG_FRAME_HDR_LEN);
		CU_ASSERT_PTR_EQUAL(rv[254].rec, big + sizeof big - (TXG_BODY_MIN + TXG_REC_OVERHEAD));
	}
}

/* ---- txg_record_view ---- */
static void test_record_view(void)
{
	uint8_t f[4096];
	size_t len = make_frame(f, 1);
	const uint8_t *rec = f + TXG_FRAME_HDR_LEN;
	size_t rl = len - TXG_FRAME_HDR_LEN;
	struct txg_rec_view rv;
	CU_ASSERT_EQUAL(txg_record_view(rec, rl, &rv), 0);
	CU_ASSERT_EQUAL(rv.body_len, TXG_BODY_MIN);
	CU_ASSERT_PTR_EQUAL(rv.sig, rec + 2 + TXG_BODY_MIN);
	CU_ASSERT_EQUAL(txg_record_view(rec, rl - 1, &rv), -1);
	CU_ASSERT_EQUAL(txg_record_view(rec, 0, &rv), -1);
	uint8_t c[4096];
	memcpy(c, rec, rl);
	c[rl] = 0;
	CU_ASSERT_EQUAL(txg_record_view(c, rl + 1, &rv), -1);
	txg_st16(c, 55);
	CU_ASSERT_EQUAL(txg_record_view(c, 55 + TXG_REC_OVERHEAD, &rv), -1);
}

/* ---- txg_check_static: rules 1-4 in order ---- */
static void test_check_static(void)
{
	const uint32_t chain = 77;
	const uint64_t now = 1000000, ttl = 120000;
	struct txg_body_fields f = {.version = 1, .chain_id = chain, .expires_ms = now + 1000};
	uint8_t b[TXG_BODY_MIN];
	txg_body_encode(b, &f, NULL, 0);
	CU_ASSERT_EQUAL(txg_check_static(b, chain, now, ttl), TXG_ST_COMMITTED);

	/* Each rule alone. */
	f.version = 2;
	txg_body_encode(b, &f, NULL, 0);
	CU_ASSERT_EQUAL(txg_check_static(b, chain, now, ttl), TXG_ST_MALFORMED);
	f.version = 1;
	f.flags = 0x100;
	txg_body_encode(b, &f, NULL, 0);
	CU_ASSERT_EQUAL(txg_check_static(b, chain, now, ttl), TXG_ST_MALFORMED);
	f.flags = 0;
	f.chain_id = chain + 1;
	txg_body_encode(b, &f, NULL, 0);
	CU_ASSERT_EQUAL(txg_check_static(b, chain, now, ttl), TXG_ST_WRONG_CHAIN);
	f.chain_id = chain;
	f.expires_ms = now; /* expires_ms <= now */
	txg_body_encode(b, &f, NULL, 0);
	CU_ASSERT_EQUAL(txg_check_static(b, chain, now, ttl), TXG_ST_EXPIRED);
	f.expires_ms = 0;
	txg_body_encode(b, &f, NULL, 0);
	CU_ASSERT_EQUAL(txg_check_static(b, chain, now, ttl), TXG_ST_EXPIRED);
	f.expires_ms = now + 1;
	txg_body_encode(b, &f, NULL, 0);
	CU_ASSERT_EQUAL(txg_check_static(b, chain, now, ttl), TXG_ST_COMMITTED);
	f.expires_ms = now + ttl; /* exactly max_ttl is allowed */
	txg_body_encode(b, &f, NULL, 0);
	CU_ASSERT_EQUAL(txg_check_static(b, chain, now, ttl), TXG_ST_COMMITTED);
	f.expires_ms = now + ttl + 1;
	txg_body_encode(b, &f, NULL, 0);
	CU_ASSERT_EQUAL(txg_check_static(b, chain, now, ttl), TXG_ST_EXPIRY_TOO_FAR);
	f.expires_ms = UINT64_MAX;
	txg_body_encode(b, &f, NULL, 0);
	CU_ASSERT_EQUAL(txg_check_static(b, chain, now, ttl), TXG_ST_EXPIRY_TOO_FAR);
	CU_ASSERT_EQUAL(txg_check_static(b, chain, now, UINT64_MAX), TXG_ST_COMMITTED);

	/* Order: with all four faults the first rule wins, then the next. */
	f.version = 3;
	f.chain_id = chain + 9;
	f.expires_ms = now - 1;
	txg_body_encode(b, &f, NULL, 0);
	CU_ASSERT_EQUAL(txg_check_static(b, chain, now, ttl), TXG_ST_MALFORMED);
	f.version = 1;
	txg_body_encode(b, &f, NULL, 0);
	CU_ASSERT_EQUAL(txg_check_static(b, chain, now, ttl), TXG_ST_WRONG_CHAIN);
	f.chain_id = chain;
	txg_body_encode(b, &f, NULL, 0);
	CU_ASSERT_EQUAL(txg_check_static(b, chain, now, ttl), TXG_ST_EXPIRED);
	/* wrong chain beats too far, malformed flags beat wrong chain */
	f.chain_id = chain + 1;
	f.expires_ms = now + ttl + 5;
	txg_body_encode(b, &f, NULL, 0);
	CU_ASSERT_EQUAL(txg_check_static(b, chain, now, ttl), TXG_ST_WRONG_CHAIN);
	f.flags = 1;
	txg_body_encode(b, &f, NULL, 0);
	CU_ASSERT_EQUAL(txg_check_static(b, chain, now, ttl), TXG_ST_MALFORMED);
}

/* ---- status names ---- */
static void test_status_names(void)
{
	static const char *const want[TXG_ST_COUNT] = {
		"committed", "duplicate", "bad_signature", "unknown_sender", "expired",  "expiry_too_far",
		"wrong_chain", "rate_limited", "overloaded", "malformed", "accepted"};
	for (unsigned i = 0; i < TXG_ST_COUNT; i++) {
		CU_ASSERT_STRING_EQUAL(txg_status_name(i), want[i]);
		CU_ASSERT_EQUAL(txg_status_from_name(want[i]), (int)i);
	}
	CU_ASSERT_STRING_EQUAL(txg_status_name(TXG_ST_COUNT), "?");
	CU_ASSERT_EQUAL(txg_status_from_name("nope"), -1);
}

#endif

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH/vectors.txt\n", argv[0]);
		return 2;
	}
	vec_path = argv[1];
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("vectors", suite_init, suite_clean);
	if (!s || !CU_add_test(s, "key lines", test_keys) || !CU_add_test(s, "tx lines", test_txs) ||
	    !CU_add_test(s, "merkle_root lines", test_merkle) || !CU_add_test(s, "block lines", test_blocks)) {
		CU_cleanup_registry();
		return 1;
	}
#ifndef TXG_VECTORS_LEDGER_ONLY
	CU_pSuite e = CU_add_suite("codec", NULL, NULL);
	if (!CU_add_test(s, "frame lines", test_frames) || !e ||
	    !CU_add_test(e, "frame parse errors", test_frame_errors) ||
	    !CU_add_test(e, "frames with a cookie", test_frame_cookie) ||
	    !CU_add_test(e, "record view", test_record_view) ||
	    !CU_add_test(e, "check_static order", test_check_static) ||
	    !CU_add_test(e, "status names", test_status_names)) {
		CU_cleanup_registry();
		return 1;
	}
#endif
	if (!CU_add_test(s, "every line checked", test_all_lines_checked)) {
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned fails = CU_get_number_of_failures();
	unsigned init_fail = CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	return (fails || init_fail) ? 1 : 0;
}
