/* The control server (docs/control.md): a UNIX stream socket at
 * [control] socket served by a plain pthread of its own (never a polling
 * lcore), one JSON request per line, every state change audited. */
#ifndef TXG_CTL_SERVER_H
#define TXG_CTL_SERVER_H

#include <stddef.h>

struct txg_app;

/* Start serving a's [control] socket (nothing when it is ""). An unknown
 * group, an unusable audit log, or a socket path set in the config that
 * cannot be served fail: -1 with err. The default path only warns. */
int txg_ctl_start(struct txg_app *a, char *err, size_t errlen);

/* The ingress pause flag every worker reads once per burst (acquire). */
const volatile int *txg_ctl_paused_flag(void);

/* Has a client asked for a drain (supervise() polls this)? */
int txg_ctl_drain_requested(void);

/* main: the pipeline is stopping (status shows "draining"; state changes
 * are refused from now on). */
void txg_ctl_draining(void);

/* main, after the pipeline stopped: answer the drain requests with
 * pipeline_rc (0: drained and committed, else the commit failed), close
 * every connection, remove the socket, join the thread. No-op if not
 * started. */
void txg_ctl_stop(int pipeline_rc);

#endif
