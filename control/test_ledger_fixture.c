/* Test helper for tests/integration/ctl_ledger_test.sh: builds ledgers with
 * real signed records through the store API, and damages them with direct
 * LMDB writes (layout in docs/ledger.md).
 *   test_ledger_fixture build DIR CHAIN NBLOCKS NTX [PLEN]
 *       append NBLOCKS blocks of NTX records (payload PLEN bytes) after the head
 *   test_ledger_fixture corrupt DIR MODE HEIGHT [INDEX]
 *       MODE: sig (flip a signature byte), body (flip a payload byte),
 *       idx (delete the record's txidx entry), hdr (change the header's
 *       timestamp), extra (store one record too many in the block),
 *       dupidx (point the record's txidx entry at another index),
 *       head (zero the head hash in meta) */
#include <errno.h>
#include <inttypes.h>
#include <lmdb.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block.h"
#include "store.h"
#include "record.h"

#define MAXN 255

static int build(const char *dir, uint32_t chain, uint64_t nblocks, uint32_t ntx, size_t plen)
{
	uint8_t pk[32], sk[64], seed[32];
	memset(seed, 0x42, sizeof seed);
	crypto_sign_seed_keypair(pk, sk, seed);
	struct txg_store_opts o = {.path = dir, .chain_id = chain, .max_ttl_ms = 120000, .map_size = 1 << 20};
	struct txg_store *s;
	char err[512];
	if (txg_store_open(&s, &o, err, sizeof err) != 0) {
		fprintf(stderr, "fixture: %s\n", err);
		return 1;
	}
	static uint8_t recs[MAXN][2 + 65535 + 64];
	static uint8_t ids[MAXN][32], scratch[MAXN][32];
	static uint8_t payload[65535];
	struct txg_store_tx txs[MAXN];
	struct txg_store_head head;
	if (txg_store_head(s, &head) != 0) {
		fprintf(stderr, "fixture: cannot read head\n");
		txg_store_close(s);
		return 1;
	}
	for (uint64_t b = 0; b < nblocks; b++) {
		uint64_t height = head.height + 1;
		struct txg_body_fields f = {.version = 1, .kind = 1, .chain_id = chain};
		memcpy(f.sender, pk, 32);
		for (uint32_t i = 0; i < ntx; i++) {
			f.nonce = height * 1000 + i;
			f.expires_ms = 1800000000000ull + f.nonce;
			memset(payload, (int)(f.nonce & 0xff), plen);
			size_t len = txg_record_encode(recs[i], sizeof recs[i], &f, payload, plen, sk);
			struct txg_rec_view rv;
			if (len == 0 || txg_record_view(recs[i], len, &rv) != 0) {
				fprintf(stderr, "fixture: cannot encode record\n");
				txg_store_close(s);
				return 1;
			}
			txg_tx_id(rv.body, rv.body_len, ids[i]);
			txs[i] = (struct txg_store_tx){recs[i], (uint32_t)len, ids[i]};
		}
		struct txg_block_hdr h = {.version = 1, .chain_id = chain, .height = height,
					  .timestamp_ms = 1700000000000ull + height * 100, .tx_count = ntx};
		memcpy(h.prev_hash, head.hash, 32);
		txg_merkle_root((const uint8_t(*)[32])ids, ntx, scratch, h.tx_root);
		struct txg_store_block blk = {.n = ntx, .txs = txs};
		txg_hdr_encode(&h, blk.hdr);
		if (txg_store_commit(s, &blk, 1, err, sizeof err) != 0) {
			fprintf(stderr, "fixture: %s\n", err);
			txg_store_close(s);
			return 1;
		}
		head.height = height;
		head.timestamp_ms = h.timestamp_ms;
		txg_block_hash(blk.hdr, head.hash);
	}
	txg_store_close(s);
	return 0;
}


static int corrupt(const char *dir, const char *mode, uint64_t height, uint32_t index)
{
	MDB_env *env;
	MDB_txn *t;
	MDB_dbi meta, hdrs, txs, idx;
	int rc;
	if ((rc = mdb_env_create(&env)) != 0 || (rc = mdb_env_set_maxdbs(env, 8)) != 0 ||
	    (rc = mdb_env_open(env, dir, 0, 0644)) != 0 || (rc = mdb_txn_begin(env, NULL, 0, &t)) != 0 ||
	    (rc = mdb_dbi_open(t, "meta", 0, &meta)) != 0 || (rc = mdb_dbi_open(t, "headers", 0, &hdrs)) != 0 ||
	    (rc = mdb_dbi_open(t, "txs", 0, &txs)) != 0 || (rc = mdb_dbi_open(t, "txidx", 0, &idx)) != 0) {
		fprintf(stderr, "fixture: %s: %s\n", dir, mdb_strerror(rc));
		return 1;
	}
	uint8_t tk[12], hk[8], buf[2 + 65535 + 64 + 1];
	txg_store_tx_key(tk, height, index);
	txg_store_height_key(hk, height);
	MDB_val k = {12, tk}, v;
	if (!strcmp(mode, "hdr")) {
		k = (MDB_val){8, hk};
		if ((rc = mdb_get(t, hdrs, &k, &v)) != 0)
			goto fail;
		memcpy(buf, v.mv_data, 96);
		buf[16] ^= 1; /* timestamp_ms low byte */
		v = (MDB_val){96, buf};
		rc = mdb_put(t, hdrs, &k, &v, 0);
	} else if (!strcmp(mode, "head")) {
		k = (MDB_val){4, "head"};
		if ((rc = mdb_get(t, meta, &k, &v)) != 0 || v.mv_size != 48)
			goto fail;
		memcpy(buf, v.mv_data, 48);
		memset(buf + 8, 0, 32);
		v = (MDB_val){48, buf};
		rc = mdb_put(t, meta, &k, &v, 0);
	} else {
		if ((rc = mdb_get(t, txs, &k, &v)) != 0 || v.mv_size > sizeof buf)
			goto fail;
		size_t len = v.mv_size;
		memcpy(buf, v.mv_data, len);
		struct txg_rec_view rv;
		if (txg_record_view(buf, len, &rv) != 0) {
			fprintf(stderr, "fixture: stored record does not parse\n");
			goto fail;
		}
		uint8_t id[32];
		txg_tx_id(rv.body, rv.body_len, id);
		MDB_val ik = {32, id};
		if (!strcmp(mode, "sig")) {
			buf[len - 1] ^= 0x80;
			v = (MDB_val){len, buf};
			rc = mdb_put(t, txs, &k, &v, 0);
		} else if (!strcmp(mode, "body")) {
			buf[len - 65] ^= 0x01; /* last body byte */
			v = (MDB_val){len, buf};
			rc = mdb_put(t, txs, &k, &v, 0);
		} else if (!strcmp(mode, "idx")) {
			rc = mdb_del(t, idx, &ik, NULL);
		} else if (!strcmp(mode, "dupidx")) {
			uint8_t loc[12];
			txg_st64(loc, height);
			txg_st32(loc + 8, index + 1);
			v = (MDB_val){12, loc};
			rc = mdb_put(t, idx, &ik, &v, 0);
		} else if (!strcmp(mode, "extra")) {
			uint8_t tk2[12];
			txg_store_tx_key(tk2, height, 1000);
			MDB_val k2 = {12, tk2};
			v = (MDB_val){len, buf};
			rc = mdb_put(t, txs, &k2, &v, 0);
		} else {
			fprintf(stderr, "fixture: unknown mode %s\n", mode);
			rc = EINVAL;
		}
	}
	if (rc != 0)
		goto fail;
	if ((rc = mdb_txn_commit(t)) != 0) {
		fprintf(stderr, "fixture: commit: %s\n", mdb_strerror(rc));
		mdb_env_close(env);
		return 1;
	}
	mdb_env_close(env);
	return 0;
fail:
	fprintf(stderr, "fixture: corrupt %s at %" PRIu64 "/%" PRIu32 " failed: %s\n", mode, height, index,
		mdb_strerror(rc));
	mdb_txn_abort(t);
	mdb_env_close(env);
	return 1;
}

int main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	if (argc >= 6 && !strcmp(argv[1], "build")) {
		uint32_t ntx = (uint32_t)strtoul(argv[5], NULL, 10);
		size_t plen = argc >= 7 ? strtoul(argv[6], NULL, 10) : 16;
		if (ntx < 1 || ntx > MAXN || plen > 65535 - 56) {
			fprintf(stderr, "fixture: NTX 1..255, PLEN <= 65479\n");
			return 2;
		}
		return build(argv[2], (uint32_t)strtoul(argv[3], NULL, 0), strtoull(argv[4], NULL, 10), ntx, plen);
	}
	if (argc >= 5 && !strcmp(argv[1], "corrupt"))
		return corrupt(argv[2], argv[3], strtoull(argv[4], NULL, 10),
			       argc >= 6 ? (uint32_t)strtoul(argv[5], NULL, 10) : 0);
	fprintf(stderr, "usage: test_ledger_fixture build DIR CHAIN NBLOCKS NTX [PLEN]\n"
			"       test_ledger_fixture corrupt DIR MODE HEIGHT [INDEX]\n");
	return 2;
}
