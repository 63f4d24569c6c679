/* Ledger test helpers. */
#include "test_util.h"

#include <ftw.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint8_t tu_pk[32], tu_sk[64];
uint64_t tu_nonce = 1;
static char tu_root[64];
static int tu_dirno;

int tu_init(const char *prog)
{
	if (sodium_init() < 0)
		return -1;
	uint8_t seed[32];
	memset(seed, 7, sizeof seed);
	crypto_sign_seed_keypair(tu_pk, tu_sk, seed);
	snprintf(tu_root, sizeof tu_root, "/tmp/txg_%s.XXXXXX", prog);
	if (!mkdtemp(tu_root)) {
		perror("mkdtemp");
		return -1;
	}
	return 0;
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

void tu_cleanup(void)
{
	if (tu_root[0])
		nftw(tu_root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

void tu_newdir(char *out, size_t n) { snprintf(out, n, "%s/led%d", tu_root, tu_dirno++); }

void tu_block(struct tblock *tb, uint32_t chain, uint64_t height, const uint8_t prev[32], uint64_t ts, uint32_t n,
	      size_t plen, uint64_t exp_base)
{
	uint8_t payload[256];
	memset(payload, 0xab, sizeof payload);
	if (plen > sizeof payload)
		plen = sizeof payload;
	if (n > TU_MAXN)
		n = TU_MAXN;
	struct txg_body_fields f = {.version = 1, .kind = 3, .flags = 0, .chain_id = chain};
	memcpy(f.sender, tu_pk, 32);
	for (uint32_t i = 0; i < n; i++) {
		f.nonce = tu_nonce++;
		f.expires_ms = exp_base + f.nonce;
		size_t len = txg_record_encode(tb->recs[i], TU_RECCAP, &f, payload, plen, tu_sk);
		struct txg_rec_view rv;
		if (len == 0 || txg_record_view(tb->recs[i], len, &rv) != 0)
			abort(); /* a test bug: the sizes above always fit */
		txg_tx_id(rv.body, rv.body_len, tb->ids[i]);
		tb->txs[i].rec = tb->recs[i];
		tb->txs[i].len = (uint32_t)len;
		tb->txs[i].tx_id = tb->ids[i];
	}
	uint8_t scratch[TU_MAXN][32];
	struct txg_block_hdr h = {.version = 1, .chain_id = chain, .height = height, .timestamp_ms = ts, .tx_count = n};
	memcpy(h.prev_hash, prev, 32);
	txg_merkle_root((const uint8_t(*)[32])tb->ids, n, scratch, h.tx_root);
	txg_hdr_encode(&h, tb->b.hdr);
	tb->b.n = n;
	tb->b.txs = tb->txs;
	txg_block_hash(tb->b.hdr, tb->hash);
	tb->height = height;
	tb->ts = ts;
}
