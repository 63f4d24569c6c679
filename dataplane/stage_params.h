/* The config loader's side of each stage's settings: every stage takes a
 * small struct of its own, filled here from the whole config, so that no
 * stage reads struct txg_config. */
#ifndef TXG_STAGE_PARAMS_H
#define TXG_STAGE_PARAMS_H

#include <stdint.h>

#include "committer.h"
#include "config.h"
#include "orderer.h"
#include "store.h"
#include "worker.h"

/* Worker id's settings; port_ids maps config port index to DPDK port id. */
void txg_params_worker(const struct txg_config *c, unsigned id, const uint16_t *port_ids, struct txg_worker_params *p);
/* The orderer's settings (block buffers: two commit groups plus two). */
void txg_params_orderer(const struct txg_config *c, struct txg_orderer_params *p);
/* The committer's settings. */
void txg_params_committer(const struct txg_config *c, struct txg_committer_params *p);
/* The ledger writer's open options (path points into c). */
void txg_params_store(const struct txg_config *c, struct txg_store_opts *o);

#endif
