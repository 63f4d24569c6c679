/* Counters: totals, the status line, the exit summary and telemetry. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_telemetry.h>

#include "app.h"

/* Counters are read downstream first (committer, orderer, then workers),
 * each with acquire loads: a record counted by a later stage was counted
 * by the earlier one before, so the earlier stage's count read afterwards
 * is never smaller and in_flight never wraps. */
void txg_app_totals(const struct txg_app *a, struct txg_totals *t)
{
	memset(t, 0, sizeof(*t));
	const struct txg_committer_stats *c = &a->committer.stats;
	uint64_t committed = __atomic_load_n(&c->txs, __ATOMIC_ACQUIRE);
	uint64_t known = __atomic_load_n(&c->known, __ATOMIC_ACQUIRE);
	t->blocks = TXG_STAT_GET(c->blocks);
	t->height = TXG_STAT_GET(c->height);
	t->commits = TXG_STAT_GET(c->commits);
	t->commit_us_total = TXG_STAT_GET(c->commit_us_total);
	t->commit_us_max = TXG_STAT_GET(c->commit_us_max);
	uint64_t refused = 0;
	if (a->orderer) {
		const struct txg_orderer_stats *o = &a->orderer->stats;
		for (unsigned k = 0; k < TXG_ST_COUNT; k++) {
			uint64_t v = __atomic_load_n(&o->status[k], __ATOMIC_ACQUIRE);
			t->status[k] += v;
			refused += v;
		}
		t->dedupe_size = TXG_STAT_GET(o->dedupe_size);
		t->dedupe_expired = TXG_STAT_GET(o->dedupe_expired);
		t->orderer_stalls = TXG_STAT_GET(o->stall_polls);
		for (unsigned k = 0; k < 3; k++)
			t->receipts[k] += TXG_STAT_GET(o->receipts[k]);
	}
	for (unsigned i = 0; i < a->n_workers; i++) {
		const struct txg_worker_stats *s = &a->workers[i].stats;
		t->rx_packets += TXG_STAT_GET(s->rx_packets);
		t->rx_bytes += TXG_STAT_GET(s->rx_bytes);
		t->pkt_multiseg += TXG_STAT_GET(s->pkt_multiseg);
		t->records += TXG_STAT_GET(s->records);
		for (unsigned k = 0; k < TXG_PKT_NUM; k++)
			t->pkt[k] += TXG_STAT_GET(s->pkt[k]);
		for (unsigned k = 0; k < TXG_FE_NUM; k++)
			t->frame[k] += TXG_STAT_GET(s->frame[k]);
		for (unsigned k = 0; k < TXG_ST_COUNT; k++)
			t->status[k] += __atomic_load_n(&s->status[k], __ATOMIC_ACQUIRE);
		for (unsigned k = 0; k < TXG_NC_NUM; k++)
			t->neigh[k] += TXG_STAT_GET(s->neigh[k]);
		for (unsigned k = 0; k < 3; k++)
			t->receipts[k] += TXG_STAT_GET(s->receipts[k]);
		for (unsigned k = 0; k < 2; k++)
			t->cookie[k] += TXG_STAT_GET(s->cookie[k]);
		for (unsigned k = 0; k < TXG_FC_NUM; k++) {
			uint64_t v = TXG_STAT_GET(s->flood[k]);
			if (k == TXG_FC_LOAD_PCT)
				t->flood[k] = v > t->flood[k] ? v : t->flood[k];
			else
				t->flood[k] += v;
		}
	}
	for (unsigned k = 0; k < 3; k++)
		t->receipts[k] += TXG_STAT_GET(c->receipts[k]);
	t->neigh[TXG_NC_GARP_SENT] += a->announced[0];
	t->neigh[TXG_NC_UNSOL_NA_SENT] += a->announced[1];
	/* status[ACCEPTED] so far counts every record a worker queued: what is
	 * left after the orderer's refusals, the ledger's refusals and the
	 * commits is still on its way. */
	t->status[TXG_ST_DUPLICATE] += known;
	t->status[TXG_ST_COMMITTED] = committed;
	t->status[TXG_ST_ACCEPTED] -= refused + known + committed;
	t->known_at_commit = known;
}

void txg_app_status_line(const struct txg_totals *now, const struct txg_totals *prev, uint64_t dt_ms)
{
	if (dt_ms == 0)
		dt_ms = 1;
	uint64_t pps = (now->rx_packets - prev->rx_packets) * 1000u / dt_ms;
	uint64_t tps = (now->status[TXG_ST_COMMITTED] - prev->status[TXG_ST_COMMITTED]) * 1000u / dt_ms;
	char buf[1024];
	int off = snprintf(buf, sizeof(buf), "txgate: rx %" PRIu64 " pkt/s, %" PRIu64 " tx/s committed, height %" PRIu64 " |",
			   pps, tps, now->height);
	for (unsigned k = 0; k < TXG_ST_COUNT && off > 0 && (size_t)off < sizeof(buf); k++)
		if (k != TXG_ST_RATE_LIMITED)
			off += snprintf(buf + off, sizeof(buf) - (size_t)off, " %s=%" PRIu64,
					k == TXG_ST_ACCEPTED ? "in_flight" : txg_status_name(k), now->status[k]);
	fprintf(stderr, "%s\n", buf);
}

void txg_app_summary(const struct txg_totals *t, uint64_t elapsed_ms, uint64_t active_ms)
{
	fprintf(stderr, "txgate: summary after %" PRIu64 " ms\n", elapsed_ms);
	fprintf(stderr, "  rx_packets=%" PRIu64 " rx_bytes=%" PRIu64 " records=%" PRIu64 " pkt_multiseg=%" PRIu64 "\n",
		t->rx_packets, t->rx_bytes, t->records, t->pkt_multiseg);
	fprintf(stderr, " ");
	for (unsigned k = 1; k < TXG_PKT_NUM; k++)
		fprintf(stderr, " %s=%" PRIu64, txg_pkt_err_name(k), t->pkt[k]);
	fprintf(stderr, "\n ");
	for (unsigned k = 1; k < TXG_FE_NUM; k++)
		fprintf(stderr, " %s=%" PRIu64, txg_frame_err_name(k), t->frame[k]);
	fprintf(stderr, "\n ");
	for (unsigned k = 0; k < TXG_ST_COUNT; k++)
		fprintf(stderr, " %s=%" PRIu64, k == TXG_ST_ACCEPTED ? "in_flight" : txg_status_name(k), t->status[k]);
	fprintf(stderr, "\n  height=%" PRIu64 " blocks=%" PRIu64 " commits=%" PRIu64 " commit_us_avg=%" PRIu64
			" commit_us_max=%" PRIu64 " dedupe_size=%" PRIu64 " dedupe_expired=%" PRIu64
			" known_at_commit=%" PRIu64 "\n",
		t->height, t->blocks, t->commits, t->commits ? t->commit_us_total / t->commits : 0, t->commit_us_max,
		t->dedupe_size, t->dedupe_expired, t->known_at_commit);
	fprintf(stderr, " ");
	for (unsigned k = 0; k < TXG_NC_NUM; k++)
		fprintf(stderr, " %s=%" PRIu64, txg_neigh_ctr_name(k), t->neigh[k]);
	fprintf(stderr, "\n  receipts_sent=%" PRIu64 " receipt_entries=%" PRIu64 " receipts_dropped=%" PRIu64
			" frames_cookie_valid=%" PRIu64 " frames_cookie_invalid=%" PRIu64,
		t->receipts[0], t->receipts[1], t->receipts[2], t->cookie[1], t->cookie[0]);
	fprintf(stderr, "\n ");
	for (unsigned k = 0; k < TXG_FC_NUM; k++)
		fprintf(stderr, " %s=%" PRIu64, txg_flood_ctr_name(k), t->flood[k]);
	fprintf(stderr, "\n  active_ms=%" PRIu64 " committed_tx_per_s=%" PRIu64 "\n", active_ms,
		t->status[TXG_ST_COMMITTED] * 1000u / (active_ms ? active_ms : 1));
}

static struct txg_app *tel_app;

static int tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	struct txg_totals t;
	txg_app_totals(tel_app, &t);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "rx_packets", t.rx_packets);
	rte_tel_data_add_dict_u64(d, "rx_bytes", t.rx_bytes);
	rte_tel_data_add_dict_u64(d, "records", t.records);
	rte_tel_data_add_dict_u64(d, "pkt_multiseg", t.pkt_multiseg);
	for (unsigned k = 1; k < TXG_PKT_NUM; k++)
		rte_tel_data_add_dict_u64(d, txg_pkt_err_name(k), t.pkt[k]);
	for (unsigned k = 1; k < TXG_FE_NUM; k++)
		rte_tel_data_add_dict_u64(d, txg_frame_err_name(k), t.frame[k]);
	for (unsigned k = 0; k < TXG_ST_COUNT; k++)
		rte_tel_data_add_dict_u64(d, k == TXG_ST_ACCEPTED ? "in_flight" : txg_status_name(k), t.status[k]);
	rte_tel_data_add_dict_u64(d, "height", t.height);
	rte_tel_data_add_dict_u64(d, "blocks", t.blocks);
	rte_tel_data_add_dict_u64(d, "commits", t.commits);
	rte_tel_data_add_dict_u64(d, "dedupe_size", t.dedupe_size);
	rte_tel_data_add_dict_u64(d, "known_at_commit", t.known_at_commit);
	for (unsigned k = 0; k < TXG_NC_NUM; k++)
		rte_tel_data_add_dict_u64(d, txg_neigh_ctr_name(k), t.neigh[k]);
	rte_tel_data_add_dict_u64(d, "receipts_sent", t.receipts[0]);
	rte_tel_data_add_dict_u64(d, "receipt_entries", t.receipts[1]);
	rte_tel_data_add_dict_u64(d, "receipts_dropped", t.receipts[2]);
	rte_tel_data_add_dict_u64(d, "frames_cookie_valid", t.cookie[1]);
	rte_tel_data_add_dict_u64(d, "frames_cookie_invalid", t.cookie[0]);
	for (unsigned k = 0; k < TXG_FC_NUM; k++)
		rte_tel_data_add_dict_u64(d, txg_flood_ctr_name(k), t.flood[k]);
	return 0;
}

void txg_app_telemetry(struct txg_app *a)
{
	tel_app = a;
	rte_telemetry_register_cmd("/txgate/stats", tel_stats, "Returns txgate's counters. Takes no parameters");
}
