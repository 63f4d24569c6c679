/* Stage settings from the config. */
#include "stage_params.h"

#include <string.h>

void txg_params_worker(const struct txg_config *c, unsigned id, const uint16_t *port_ids, struct txg_worker_params *p)
{
	const struct txg_worker_cfg *wc = &c->workers[id];
	memset(p, 0, sizeof(*p));
	p->lcore = wc->lcore;
	p->n_rxq = wc->n_rxq;
	for (uint16_t i = 0; i < wc->n_rxq; i++) {
		p->rx_port[i] = port_ids[wc->rxq[i].port];
		p->rx_queue[i] = wc->rxq[i].queue;
	}
	txg_pkt_filter_from_config(&p->filter, c);
	p->chain_id = c->chain_id;
	p->max_ttl_ms = c->max_ttl_ms;
	p->burst = c->burst;
	p->idle_spins = c->idle_spins;
	p->idle_sleep_us = c->idle_sleep_us;
	p->neigh_rate = c->neigh_rate;
	p->neigh_burst = c->neigh_burst;
	p->echo_rate = c->echo_rate;
	p->echo_burst = c->echo_burst;
	p->load = (struct txg_load_params){.high_pct = c->load_high_pct,
					   .low_pct = c->load_low_pct,
					   .window_ms = c->load_window_ms,
					   .high_windows = c->load_windows,
					   .hold_ms = c->load_hold_ms,
					   .full_polls = c->load_full_polls,
					   .share_pct = c->fair_share_pct,
					   .mode = c->load};
	p->fair_budget = c->fair_budget;
	p->prefix4 = (uint8_t)c->fair_prefix4;
	p->prefix6 = (uint8_t)c->fair_prefix6;
	p->penalty_threshold = c->penalty_threshold;
	p->penalty_halflife_ms = c->penalty_halflife_ms;
	p->penalty_pairs = c->penalty_pairs;
	p->answer_rate = c->answer_rate;
	p->answer_burst = c->answer_burst;
	p->sigcache_entries = c->sigcache_entries;
}

void txg_params_orderer(const struct txg_config *c, struct txg_orderer_params *p)
{
	*p = (struct txg_orderer_params){
		.max_txs = c->block_max_txs,
		.max_ttl_ms = c->max_ttl_ms,
		.max_bytes = c->block_max_bytes,
		.max_wait_us = c->block_max_wait_us,
		.idle_spins = c->idle_spins,
		.idle_sleep_us = c->idle_sleep_us,
		.n_blocks = 2 * c->commit_group_max + 2,
	};
}

void txg_params_committer(const struct txg_config *c, struct txg_committer_params *p)
{
	*p = (struct txg_committer_params){.group_max = c->commit_group_max,
					   .sync_interval_ms = c->sync_interval_ms,
					   .warn_free_bytes = 2 * ((uint64_t)c->min_free_mb << 20)};
}

void txg_params_store(const struct txg_config *c, struct txg_store_opts *o)
{
	*o = (struct txg_store_opts){
		.path = c->ledger_path,
		.chain_id = c->chain_id,
		.nosync = c->durability == TXG_DUR_NOSYNC,
		.map_size = c->map_size_mb << 20,
		.max_ttl_ms = c->max_ttl_ms,
	};
}
