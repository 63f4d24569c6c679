/* `txgatectl ledger` commands; formats documented in docs/ledger.md. */
#include "ctl_ledger.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "block.h"
#include "check.h"
#include "hex.h"
#include "record.h"

void ctl_ledger_usage(FILE *f)
{
	fputs("usage: txgatectl ledger --ledger DIR [--chain ID] COMMAND [ARGS]\n"
	      "Reads the ledger read-only; safe while txgate runs.\n"
	      "commands:\n"
	      "  head         height=H hash=HEX timestamp_ms=T chain_id=C\n"
	      "  block N      header of block N as JSON, with its tx ids (exit 1 if absent)\n"
	      "  tx ID        locate a transaction by its 64-hex-digit id (exit 1 if absent)\n"
	      "  dump         every block and record as JSON lines\n"
	      "  verify       check hashes, links, Merkle roots, index and signatures;\n"
	      "               prints \"ok height=H txs=N\" or the first problem (exit 1)\n"
	      "  backup DIR   write a compacted consistent copy to DIR (created if missing)\n"
	      "options:\n"
	      "  --ledger DIR  ledger directory (holds data.mdb)\n"
	      "  --chain ID    refuse a ledger of another chain\n"
	      "exit status: 0 ok, 1 not found / check failed / error, 2 bad usage\n",
	      f);
}

static int parse_u64(const char *s, uint64_t *v)
{
	if (!s || *s < '0' || *s > '9')
		return -1;
	char *end;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*v = x;
	return 0;
}

static void hex32(const uint8_t *b, char out[65]) { txg_hex(b, 32, out); }

/* The header's fields as JSON members after `{"type":"block",` style prefix. */
static void print_hdr_json(FILE *out, const char *prefix, const uint8_t raw[TXG_HDR_LEN],
			   const struct txg_block_hdr *h)
{
	uint8_t bh[32];
	char hh[65], ph[65], rh[65];
	txg_block_hash(raw, bh);
	hex32(bh, hh);
	hex32(h->prev_hash, ph);
	hex32(h->tx_root, rh);
	fprintf(out,
		"{%s\"height\":%" PRIu64 ",\"hash\":\"%s\",\"prev_hash\":\"%s\",\"timestamp_ms\":%" PRIu64
		",\"tx_count\":%" PRIu32 ",\"tx_root\":\"%s\",\"chain_id\":%" PRIu32,
		prefix, h->height, hh, ph, h->timestamp_ms, h->tx_count, rh, h->chain_id);
}

static void print_hex(FILE *out, const uint8_t *p, size_t n)
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		putc(d[p[i] >> 4], out);
		putc(d[p[i] & 15], out);
	}
}

/* tx id of a stored record, or -1 if it is not a well-formed record. */
static int rec_id(const uint8_t *rec, size_t len, uint8_t id[32], struct txg_rec_view *rv)
{
	if (txg_record_view(rec, len, rv) != 0)
		return -1;
	txg_tx_id(rv->body, rv->body_len, id);
	return 0;
}

/* Read and decode header `height`; 0, 1 absent, -1 (message printed). */
static int load_hdr(struct txg_store_snap *sn, uint64_t height, uint8_t raw[TXG_HDR_LEN], struct txg_block_hdr *h,
		    FILE *errf)
{
	int rc = txg_store_snap_get_header(sn, height, raw);
	if (rc < 0) {
		fprintf(errf, "txgatectl: cannot read header %" PRIu64 "\n", height);
		return -1;
	}
	if (rc == 1)
		return 1;
	if (txg_hdr_decode(raw, h) != 0) {
		fprintf(errf, "txgatectl: header %" PRIu64 " does not decode\n", height);
		return -1;
	}
	return 0;
}

static int finish(FILE *out, FILE *errf)
{
	if (fflush(out) != 0 || ferror(out)) {
		fprintf(errf, "txgatectl: write error: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}

/* Begin a read snapshot; 0 or -1 (message printed). */
static int snap(struct txg_store *s, struct txg_store_snap **sn, FILE *errf)
{
	if (txg_store_snap_begin(s, sn) != 0) {
		fprintf(errf, "txgatectl: cannot begin a read transaction\n");
		return -1;
	}
	return 0;
}

int ctl_ledger_head(struct txg_store *s, FILE *out, FILE *errf)
{
	struct txg_store_head h;
	struct txg_store_snap *sn;
	if (snap(s, &sn, errf) != 0)
		return 1;
	int rc = txg_store_snap_head(sn, &h);
	txg_store_snap_end(sn);
	if (rc != 0) {
		fprintf(errf, "txgatectl: cannot read head\n");
		return 1;
	}
	char hh[65];
	hex32(h.hash, hh);
	fprintf(out, "height=%" PRIu64 " hash=%s timestamp_ms=%" PRIu64 " chain_id=%" PRIu32 "\n", h.height, hh,
		h.timestamp_ms, txg_store_chain_id(s));
	return finish(out, errf);
}

struct ids_ctx {
	FILE *out;
	int n;
};

static int print_id_cb(void *arg, uint64_t height, uint32_t index, const uint8_t *rec, size_t len)
{
	(void)height;
	(void)index;
	struct ids_ctx *c = arg;
	uint8_t id[32];
	struct txg_rec_view rv;
	char hx[65] = "";
	if (rec_id(rec, len, id, &rv) == 0)
		hex32(id, hx);
	fprintf(c->out, "%s\"%s\"", c->n++ ? "," : "", hx);
	return 0;
}

int ctl_ledger_block(struct txg_store *s, uint64_t height, FILE *out, FILE *errf)
{
	uint8_t raw[TXG_HDR_LEN];
	struct txg_block_hdr h;
	struct txg_store_snap *sn;
	if (snap(s, &sn, errf) != 0)
		return 1;
	int rc = load_hdr(sn, height, raw, &h, errf), ret = 1;
	if (rc == 1)
		fprintf(errf, "txgatectl: no block %" PRIu64 "\n", height);
	if (rc != 0)
		goto out;
	print_hdr_json(out, "", raw, &h);
	fputs(",\"tx_ids\":[", out);
	struct ids_ctx c = {out, 0};
	rc = txg_store_snap_block_txs(sn, height, print_id_cb, &c);
	fputs("]}\n", out);
	if (rc != 0) {
		fprintf(errf, "txgatectl: cannot read records of block %" PRIu64 "\n", height);
		goto out;
	}
	ret = finish(out, errf);
out:
	txg_store_snap_end(sn);
	return ret;
}

struct find_ctx {
	uint32_t index;
	uint8_t *rec;
	size_t len;
};

static int find_rec_cb(void *arg, uint64_t height, uint32_t index, const uint8_t *rec, size_t len)
{
	(void)height;
	struct find_ctx *c = arg;
	if (index != c->index)
		return 0;
	c->rec = malloc(len ? len : 1);
	if (!c->rec)
		return -1;
	memcpy(c->rec, rec, len);
	c->len = len;
	return 2;
}

int ctl_ledger_tx(struct txg_store *s, const uint8_t id[32], FILE *out, FILE *errf)
{
	uint64_t height;
	uint32_t index;
	char hx[65];
	hex32(id, hx);
	struct txg_store_snap *sn;
	if (snap(s, &sn, errf) != 0)
		return 1;
	int rc = txg_store_snap_find_tx(sn, id, &height, &index);
	if (rc != 0) {
		txg_store_snap_end(sn);
		if (rc == 1)
			fprintf(errf, "txgatectl: tx %s not found\n", hx);
		else
			fprintf(errf, "txgatectl: cannot look up tx %s\n", hx);
		return 1;
	}
	struct find_ctx c = {.index = index};
	rc = txg_store_snap_block_txs(sn, height, find_rec_cb, &c);
	txg_store_snap_end(sn);
	if (rc != 2) {
		free(c.rec);
		fprintf(errf, "txgatectl: tx %s: index says %" PRIu64 "/%" PRIu32 " but there is no such record\n", hx,
			height, index);
		return 1;
	}
	fprintf(out, "tx_id=%s height=%" PRIu64 " index=%" PRIu32 " record=", hx, height, index);
	print_hex(out, c.rec, c.len);
	putc('\n', out);
	free(c.rec);
	return finish(out, errf);
}

struct dump_ctx {
	FILE *out;
};

static int dump_tx_cb(void *arg, uint64_t height, uint32_t index, const uint8_t *rec, size_t len)
{
	struct dump_ctx *c = arg;
	uint8_t id[32];
	struct txg_rec_view rv;
	char hx[65] = "";
	if (rec_id(rec, len, id, &rv) == 0)
		hex32(id, hx);
	fprintf(c->out, "{\"type\":\"tx\",\"height\":%" PRIu64 ",\"index\":%" PRIu32 ",\"tx_id\":\"%s\",\"record\":\"",
		height, index, hx);
	print_hex(c->out, rec, len);
	fputs("\"}\n", c->out);
	return ferror(c->out) ? -1 : 0;
}

int ctl_ledger_dump(struct txg_store *s, FILE *out, FILE *errf)
{
	struct txg_store_head head;
	struct txg_store_snap *sn;
	if (snap(s, &sn, errf) != 0)
		return 1;
	int ret = 1;
	if (txg_store_snap_head(sn, &head) != 0) {
		fprintf(errf, "txgatectl: cannot read head\n");
		goto out;
	}
	struct dump_ctx c = {out};
	for (uint64_t hgt = 1; hgt <= head.height; hgt++) {
		uint8_t raw[TXG_HDR_LEN];
		struct txg_block_hdr h;
		int rc = load_hdr(sn, hgt, raw, &h, errf);
		if (rc == 1)
			fprintf(errf, "txgatectl: block %" PRIu64 " missing\n", hgt);
		if (rc != 0)
			goto out;
		print_hdr_json(out, "\"type\":\"block\",", raw, &h);
		fputs("}\n", out);
		if (txg_store_snap_block_txs(sn, hgt, dump_tx_cb, &c) != 0) {
			fprintf(errf, "txgatectl: cannot dump records of block %" PRIu64 "\n", hgt);
			goto out;
		}
	}
	ret = finish(out, errf);
out:
	txg_store_snap_end(sn);
	return ret;
}

/* --- verify --- */

int ctl_ledger_verify(struct txg_store *s, FILE *out, FILE *errf)
{
	struct txg_check_report r;
	int rc = txg_ledger_check(s, &r);
	if (rc < 0) {
		fprintf(errf, "txgatectl: %s\n", r.what);
		return 1;
	}
	if (rc > 0) {
		if (r.index >= 0)
			fprintf(errf, "verify: height %" PRIu64 " index %" PRId64 ": %s\n", r.height, r.index, r.what);
		else
			fprintf(errf, "verify: height %" PRIu64 ": %s\n", r.height, r.what);
		return 1;
	}
	fprintf(out, "ok height=%" PRIu64 " txs=%" PRIu64 "\n", r.height, r.txs);
	return finish(out, errf);
}

int ctl_ledger_backup(struct txg_store *s, const char *dir, FILE *out, FILE *errf)
{
	char err[512];
	if (txg_store_backup(s, dir, err, sizeof err) != 0) {
		fprintf(errf, "txgatectl: %s\n", err);
		return 1;
	}
	fprintf(out, "backup written to %s\n", dir);
	return finish(out, errf);
}

int ctl_ledger_run(const char *ledger_dir, uint32_t chain_id, int argc, char **argv, FILE *out, FILE *errf)
{
	if (argc < 1) {
		fprintf(errf, "txgatectl ledger: no command given\n");
		ctl_ledger_usage(errf);
		return 2;
	}
	const char *cmd = argv[0];
	int nargs;
	if (!strcmp(cmd, "head") || !strcmp(cmd, "dump") || !strcmp(cmd, "verify"))
		nargs = 0;
	else if (!strcmp(cmd, "block") || !strcmp(cmd, "tx") || !strcmp(cmd, "backup"))
		nargs = 1;
	else {
		fprintf(errf, "txgatectl ledger: unknown command '%s'\n", cmd);
		ctl_ledger_usage(errf);
		return 2;
	}
	if (argc - 1 != nargs) {
		fprintf(errf, "txgatectl ledger %s: expected %d argument%s, got %d\n", cmd, nargs, nargs == 1 ? "" : "s",
			argc - 1);
		return 2;
	}
	uint64_t height = 0;
	uint8_t id[32];
	if (!strcmp(cmd, "block") && parse_u64(argv[1], &height) != 0) {
		fprintf(errf, "txgatectl ledger block: '%s' is not a block height\n", argv[1]);
		return 2;
	}
	if (!strcmp(cmd, "tx") && txg_unhex(argv[1], id, 32) != 0) {
		fprintf(errf, "txgatectl ledger tx: '%s' is not a tx id (64 hex digits)\n", argv[1]);
		return 2;
	}
	if (!strcmp(cmd, "backup") && !argv[1][0]) {
		fprintf(errf, "txgatectl ledger backup: empty directory name\n");
		return 2;
	}
	if (!ledger_dir || !*ledger_dir) {
		fprintf(errf, "txgatectl ledger: no ledger directory (give --ledger DIR)\n");
		return 2;
	}
	if (sodium_init() < 0) {
		fprintf(errf, "txgatectl: libsodium failed to initialise\n");
		return 1;
	}
	struct txg_store_opts o = {.path = ledger_dir, .chain_id = chain_id, .readonly = 1};
	struct txg_store *s;
	char err[512];
	if (txg_store_open(&s, &o, err, sizeof err) != 0) {
		fprintf(errf, "txgatectl: %s\n", err);
		return 1;
	}
	int rc;
	if (!strcmp(cmd, "head"))
		rc = ctl_ledger_head(s, out, errf);
	else if (!strcmp(cmd, "dump"))
		rc = ctl_ledger_dump(s, out, errf);
	else if (!strcmp(cmd, "verify"))
		rc = ctl_ledger_verify(s, out, errf);
	else if (!strcmp(cmd, "block"))
		rc = ctl_ledger_block(s, height, out, errf);
	else if (!strcmp(cmd, "tx"))
		rc = ctl_ledger_tx(s, id, out, errf);
	else
		rc = ctl_ledger_backup(s, argv[1], out, errf);
	txg_store_close(s);
	return rc;
}
