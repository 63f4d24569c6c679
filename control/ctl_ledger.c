/* `txgatectl ledger` commands; formats documented in docs/ledger.md. */
#include "ctl_ledger.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "block.h"
#include "check.h"
#include "contain.h"
#include "hex.h"
#include "record.h"

#define DUMP_SNAP_BLOCKS 256u /* blocks dumped from one read snapshot */

void ctl_ledger_usage(FILE *f)
{
	fputs("usage: txgatectl ledger --ledger DIR [--chain ID] COMMAND [ARGS]\n"
	      "Reads the ledger read-only; safe while txgate runs.\n"
	      "commands:\n"
	      "  head         height=H hash=HEX timestamp_ms=T chain_id=C\n"
	      "  block N      header of block N as JSON, with its tx ids (exit 1 if absent)\n"
	      "  tx ID        locate a transaction by its 64-hex-digit id (exit 1 if absent)\n"
	      "  dump         every block and record as JSON lines\n"
	      "  verify [--expect-head H:HEX]\n"
	      "               check hashes, links, Merkle roots, index and signatures;\n"
	      "               prints \"ok height=H txs=N\" or the first problem (exit 1), and\n"
	      "               on stderr the head hash to record outside the machine;\n"
	      "               --expect-head: block H must exist with hash HEX (else exit 1)\n"
	      "  backup DIR   write a compacted consistent copy to DIR (created if missing)\n"
	      "options:\n"
	      "  --ledger DIR  ledger directory (holds data.mdb)\n"
	      "  --chain ID    refuse a ledger of another chain\n"
	      "Every command reads in a child process: a damaged ledger that crashes the\n"
	      "LMDB reader is reported (where, exit 1), never a crash of txgatectl.\n"
	      "exit status: 0 ok, 1 not found / check failed / damaged / error, 2 bad usage\n",
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
	txg_progress_at(TXG_AT_HEADER, height, -1);
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
	txg_progress_at(TXG_AT_HEAD, 0, -1);
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
	struct ids_ctx *c = arg;
	txg_progress_index(index);
	uint8_t id[32];
	struct txg_rec_view rv;
	char hx[65] = "";
	if (rec_id(rec, len, id, &rv) == 0)
		hex32(id, hx);
	fprintf(c->out, "%s\"%s\"", c->n++ ? "," : "", hx);
	txg_progress_index((int64_t)index + 1);
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
	txg_progress_at(TXG_AT_RECORDS, height, 0);
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
	txg_progress_index(index);
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
	txg_progress_at(TXG_AT_TXIDX, 0, -1);
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
	txg_progress_at(TXG_AT_RECORDS, height, 0);
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
	txg_progress_index(index);
	uint8_t id[32];
	struct txg_rec_view rv;
	char hx[65] = "";
	if (rec_id(rec, len, id, &rv) == 0)
		hex32(id, hx);
	fprintf(c->out, "{\"type\":\"tx\",\"height\":%" PRIu64 ",\"index\":%" PRIu32 ",\"tx_id\":\"%s\",\"record\":\"",
		height, index, hx);
	print_hex(c->out, rec, len);
	fputs("\"}\n", c->out);
	txg_progress_index((int64_t)index + 1); /* the next cursor step reads the record after this one */
	return ferror(c->out) ? -1 : 0;
}

/* Replace *sn by a new snapshot that holds block `need` (committed blocks
 * never change, so the rest of a walk may come from it). LMDB 0.9 may
 * briefly show an older state than one already seen: retried a while.
 * 0, or -1 (message printed). */
static int renew(struct txg_store *s, struct txg_store_snap **sn, uint64_t need, FILE *errf)
{
	for (int tries = 0;; tries++) {
		struct txg_store_head h;
		txg_store_snap_end(*sn);
		*sn = NULL;
		if (snap(s, sn, errf) != 0)
			return -1;
		txg_progress_at(TXG_AT_HEAD, need, -1);
		if (txg_store_snap_head(*sn, &h) != 0) {
			fprintf(errf, "txgatectl: cannot read head\n");
			return -1;
		}
		if (h.height >= need)
			return 0;
		if (tries >= 50) {
			fprintf(errf, "txgatectl: the head went back from height %" PRIu64 " to %" PRIu64
				      " while the ledger was read\n",
				need, h.height);
			return -1;
		}
		struct timespec d = {0, 2 * 1000 * 1000};
		nanosleep(&d, NULL);
	}
}

int ctl_ledger_dump(struct txg_store *s, FILE *out, FILE *errf)
{
	struct txg_store_head head;
	struct txg_store_snap *sn;
	if (snap(s, &sn, errf) != 0)
		return 1;
	int ret = 1;
	txg_progress_at(TXG_AT_HEAD, 0, -1);
	if (txg_store_snap_head(sn, &head) != 0) {
		fprintf(errf, "txgatectl: cannot read head\n");
		goto out;
	}
	struct dump_ctx c = {out};
	for (uint64_t hgt = 1; hgt <= head.height; hgt++) {
		/* A long-held snapshot pins pages (a live ledger's file grows). */
		if (hgt % DUMP_SNAP_BLOCKS == 0 && renew(s, &sn, head.height, errf) != 0)
			goto out;
		uint8_t raw[TXG_HDR_LEN];
		struct txg_block_hdr h;
		int rc = load_hdr(sn, hgt, raw, &h, errf);
		if (rc == 1)
			fprintf(errf, "txgatectl: block %" PRIu64 " missing\n", hgt);
		if (rc != 0)
			goto out;
		print_hdr_json(out, "\"type\":\"block\",", raw, &h);
		fputs("}\n", out);
		txg_progress_at(TXG_AT_RECORDS, hgt, 0);
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

int ctl_ledger_verify(struct txg_store *s, const struct txg_check_opts *o, FILE *out, FILE *errf)
{
	struct txg_check_report r;
	int rc = txg_ledger_check_opts(s, o, &r);
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
	char hx[65];
	hex32(r.head_hash, hx);
	/* stderr: stdout stays the one line scripts compare */
	fprintf(errf,
		"head=%s (record this outside the machine; verify --expect-head %" PRIu64
		":%s detects a rollback)\n",
		hx, r.height, hx);
	return finish(out, errf);
}

int ctl_ledger_backup(struct txg_store *s, const char *dir, FILE *out, FILE *errf)
{
	char err[512];
	txg_progress_at(TXG_AT_COPY, 0, -1);
	if (txg_store_backup(s, dir, err, sizeof err) != 0) {
		fprintf(errf, "txgatectl: %s\n", err);
		return 1;
	}
	fprintf(out, "backup written to %s\n", dir);
	return finish(out, errf);
}

/* One command, run in a contained child. */
struct cmd {
	const char *name;
	const char *dir;
	uint32_t chain_id;
	uint64_t height;
	uint8_t id[32];
	const char *arg; /* backup DIR */
	struct txg_check_opts vopts;
};

/* In the child: open the ledger read-only and run the command; output
 * through the pipe, diagnostics into the shared message. */
static int cmd_child(void *arg, const struct txg_contain_child *cc)
{
	const struct cmd *k = arg;
	FILE *errf = fmemopen(cc->msg, TXG_CONTAIN_MSG - 1, "w");
	if (!errf)
		errf = stderr;
	setvbuf(errf, NULL, _IONBF, 0);
	FILE *out = fdopen(cc->out, "w");
	if (!out) {
		fprintf(errf, "txgatectl: cannot write to the pipe: %s\n", strerror(errno));
		return 1;
	}
	txg_progress_at(TXG_AT_OPEN, 0, -1);
	struct txg_store_opts o = {.path = k->dir, .chain_id = k->chain_id, .readonly = 1};
	struct txg_store *s;
	char err[512];
	if (txg_store_open(&s, &o, err, sizeof err) != 0) {
		fprintf(errf, "txgatectl: %s\n", err);
		return 1;
	}
	int rc;
	if (!strcmp(k->name, "head"))
		rc = ctl_ledger_head(s, out, errf);
	else if (!strcmp(k->name, "dump"))
		rc = ctl_ledger_dump(s, out, errf);
	else if (!strcmp(k->name, "verify"))
		rc = ctl_ledger_verify(s, &k->vopts, out, errf);
	else if (!strcmp(k->name, "block"))
		rc = ctl_ledger_block(s, k->height, out, errf);
	else if (!strcmp(k->name, "tx"))
		rc = ctl_ledger_tx(s, k->id, out, errf);
	else
		rc = ctl_ledger_backup(s, k->arg, out, errf);
	txg_store_close(s);
	if (fflush(out) != 0 && rc == 0) {
		fprintf(errf, "txgatectl: write error: %s\n", strerror(errno));
		rc = 1;
	}
	return rc;
}

struct sink_out {
	FILE *out;
	int err; /* errno of a failed write */
};

static int sink_file(void *arg, const void *buf, size_t n)
{
	struct sink_out *so = arg;
	if (fwrite(buf, 1, n, so->out) == n)
		return 0;
	so->err = errno;
	return -1;
}

/* Parse "H:HEX" of --expect-head. 0 or -1. */
static int parse_expect(const char *v, struct txg_check_opts *o)
{
	const char *colon = v ? strchr(v, ':') : NULL;
	if (!colon || colon == v || colon - v > 20)
		return -1;
	char hbuf[21];
	memcpy(hbuf, v, (size_t)(colon - v));
	hbuf[colon - v] = '\0';
	if (parse_u64(hbuf, &o->expect_height) != 0 || txg_unhex(colon + 1, o->expect_hash, 32) != 0)
		return -1;
	o->expect = 1;
	return 0;
}

/* verify's arguments: none, "--expect-head H:HEX" or "--expect-head=H:HEX". 0 or 2 (message printed). */
static int parse_verify_args(int argc, char **argv, struct txg_check_opts *o, FILE *errf)
{
	const char *v = NULL;
	if (argc == 1)
		return 0;
	if (argc == 3 && !strcmp(argv[1], "--expect-head"))
		v = argv[2];
	else if (argc == 2 && !strncmp(argv[1], "--expect-head=", 14))
		v = argv[1] + 14;
	else if (argc == 2 && !strcmp(argv[1], "--expect-head")) {
		fprintf(errf, "txgatectl ledger verify: --expect-head needs a value (HEIGHT:HEX)\n");
		return 2;
	} else {
		fprintf(errf, "txgatectl ledger verify: unexpected argument '%s' (only --expect-head HEIGHT:HEX)\n",
			argv[1]);
		return 2;
	}
	if (parse_expect(v, o) != 0) {
		fprintf(errf,
			"txgatectl ledger verify: --expect-head '%s': want HEIGHT:HEX (a height and a 64-hex-digit "
			"block hash, as printed by verify or head)\n",
			v);
		return 2;
	}
	return 0;
}

int ctl_ledger_run(const char *ledger_dir, uint32_t chain_id, int argc, char **argv, FILE *out, FILE *errf)
{
	if (argc < 1) {
		fprintf(errf, "txgatectl ledger: no command given\n");
		ctl_ledger_usage(errf);
		return 2;
	}
	struct cmd k = {.name = argv[0], .dir = ledger_dir, .chain_id = chain_id};
	const char *cmd = argv[0];
	int nargs;
	if (!strcmp(cmd, "head") || !strcmp(cmd, "dump"))
		nargs = 0;
	else if (!strcmp(cmd, "block") || !strcmp(cmd, "tx") || !strcmp(cmd, "backup"))
		nargs = 1;
	else if (!strcmp(cmd, "verify"))
		nargs = -1;
	else {
		fprintf(errf, "txgatectl ledger: unknown command '%s'\n", cmd);
		ctl_ledger_usage(errf);
		return 2;
	}
	if (nargs >= 0 && argc - 1 != nargs) {
		fprintf(errf, "txgatectl ledger %s: expected %d argument%s, got %d\n", cmd, nargs, nargs == 1 ? "" : "s",
			argc - 1);
		return 2;
	}
	if (nargs < 0 && parse_verify_args(argc, argv, &k.vopts, errf) != 0)
		return 2;
	if (!strcmp(cmd, "block") && parse_u64(argv[1], &k.height) != 0) {
		fprintf(errf, "txgatectl ledger block: '%s' is not a block height\n", argv[1]);
		return 2;
	}
	if (!strcmp(cmd, "tx") && txg_unhex(argv[1], k.id, 32) != 0) {
		fprintf(errf, "txgatectl ledger tx: '%s' is not a tx id (64 hex digits)\n", argv[1]);
		return 2;
	}
	if (!strcmp(cmd, "backup") && !argv[1][0]) {
		fprintf(errf, "txgatectl ledger backup: empty directory name\n");
		return 2;
	}
	if (!strcmp(cmd, "backup"))
		k.arg = argv[1];
	if (!ledger_dir || !*ledger_dir) {
		fprintf(errf, "txgatectl ledger: no ledger directory (give --ledger DIR)\n");
		return 2;
	}
	if (sodium_init() < 0) {
		fprintf(errf, "txgatectl: libsodium failed to initialise\n");
		return 1;
	}
	/* The reading runs in a child: a damaged file may crash LMDB. */
	fflush(out);
	fflush(errf);
	struct txg_contain_result res;
	char err[512];
	struct sink_out so = {out, 0};
	if (txg_contain_run(cmd_child, &k, sink_file, &so, &res, err, sizeof err) != 0) {
		fprintf(errf, "txgatectl: %s\n", err);
		return 1;
	}
	fputs(res.msg, errf);
	if (res.sink_failed) {
		fprintf(errf, "txgatectl: write error: %s\n", strerror(so.err));
		return 1;
	}
	if (!res.exited) {
		int verify = !strcmp(cmd, "verify");
		char msg[TXG_CONTAIN_MSG + 256];
		txg_contain_crash_msg(ledger_dir, &res, verify ? "it cannot be verified; restore it from a backup"
							       : TXG_CONTAIN_ADVICE,
				      msg, sizeof msg);
		fprintf(errf, "%s: %s\n", verify ? "verify" : "txgatectl", msg);
		return 1;
	}
	if (res.status > 2) {
		fprintf(errf, "txgatectl: the ledger reader exited with status %d\n", res.status);
		return 1;
	}
	if (finish(out, errf) != 0)
		return 1;
	return res.status;
}
