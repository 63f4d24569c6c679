/* `txgatectl ledger`: read-only inspection, verification and backup of a
 * ledger (output formats in docs/ledger.md). Each function writes its
 * normal output to out and diagnostics to errf and returns the process
 * exit status: 0 ok, 1 not found / check failed / error, 2 bad usage.
 * ctl_ledger_run runs every command in a contained child (ledger/contain.h):
 * a damaged file that crashes LMDB becomes exit 1 with a message saying
 * where. The per-command functions read through an open handle and do not
 * contain themselves. */
#ifndef TXG_CTL_LEDGER_H
#define TXG_CTL_LEDGER_H

#include <stdint.h>
#include <stdio.h>

#include "check.h"
#include "store.h"

/* Usage text of the ledger commands. */
void ctl_ledger_usage(FILE *f);

/* In a child process: open ledger_dir read-only (chain_id 0: any chain) and
 * run the command argv[0] with its arguments argv[1..argc); its output is
 * copied to out as it comes, its diagnostics to errf at the end. */
int ctl_ledger_run(const char *ledger_dir, uint32_t chain_id, int argc, char **argv, FILE *out, FILE *errf);

/* `head`: one line "height=H hash=HEX timestamp_ms=T chain_id=C". */
int ctl_ledger_head(struct txg_store *s, FILE *out, FILE *errf);
/* `block N`: the header as one JSON object plus "tx_ids"; 1 if absent. */
int ctl_ledger_block(struct txg_store *s, uint64_t height, FILE *out, FILE *errf);
/* `tx ID`: "tx_id=.. height=H index=I record=HEX"; 1 if absent. */
int ctl_ledger_tx(struct txg_store *s, const uint8_t id[32], FILE *out, FILE *errf);
/* `dump`: JSON lines, per block its header line then its records. */
int ctl_ledger_dump(struct txg_store *s, FILE *out, FILE *errf);
/* `verify`: check the whole ledger (o: snapshot renewal, --expect-head);
 * prints "ok height=H txs=N" to out and "head=HEX (record this ...)" to
 * errf, or the first problem ("verify: height H index I: what") to errf and
 * returns 1. */
int ctl_ledger_verify(struct txg_store *s, const struct txg_check_opts *o, FILE *out, FILE *errf);
/* `backup DIR`: compacted consistent copy into DIR. */
int ctl_ledger_backup(struct txg_store *s, const char *dir, FILE *out, FILE *errf);

#endif
