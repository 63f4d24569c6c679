/* Prometheus metrics (docs/metrics.md): an HTTP endpoint on a thread of its
 * own (libmicrohttpd) serving GET /metrics in the text exposition format
 * 0.0.4, and the small lock-free latency histogram the stages record into.
 *
 * A scrape only reads: it calls the app's fill callback, which sums every
 * stage's counters and histograms with relaxed loads (txg_app_totals,
 * txg_hist_add), and renders the snapshot. The data path never waits for it. */
#ifndef TXG_METRICS_H
#define TXG_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "hist.h"

/* ---- the snapshot a scrape renders ---- */

#define TXG_METRICS_MAX_PORTS 32
#define TXG_METRICS_MAX_RINGS 40

/* A port's NIC counters (rte_eth_stats). */
struct txg_metrics_port {
	uint16_t port_id;
	uint64_t ipackets, ibytes, imissed, ierrors, rx_nombuf;
	uint64_t opackets, obytes, oerrors;
};

/* A ring's occupancy. */
struct txg_metrics_ring {
	char name[32]; /* label value: "worker0", "to_commit", ... */
	uint64_t used, size;
};

struct txg_metrics_snap {
	struct txg_totals t;
	struct txg_hist hist[TXG_H_NUM]; /* summed over every writer */
	uint64_t uptime_ms;
	uint64_t workers;
	/* Mempools: objects in use and their size (size 0: not rendered). */
	uint64_t txn_pool_used, txn_pool_size;
	uint64_t mbuf_pool_used, mbuf_pool_size;
	unsigned n_ports;
	struct txg_metrics_port ports[TXG_METRICS_MAX_PORTS];
	unsigned n_rings;
	struct txg_metrics_ring rings[TXG_METRICS_MAX_RINGS];
};

/* Render s in the text exposition format 0.0.4 into buf[0..cap). Returns
 * the length of the whole text (like snprintf): if it is >= cap, the text
 * was cut and a buffer of at least the return value + 1 bytes is needed.
 * buf is always NUL-terminated when cap > 0. */
size_t txg_metrics_render(const struct txg_metrics_snap *s, char *buf, size_t cap);

/* ---- the HTTP endpoint ---- */

/* Called on the server's thread for each scrape: fill *s (already zeroed).
 * Must only read (relaxed loads); never lock what the data path holds. */
typedef void (*txg_metrics_fill_fn)(struct txg_metrics_snap *s, void *arg);

struct txg_metrics;

#define TXG_METRICS_DEFAULT_LISTEN "127.0.0.1:9470"

/* Split "host:port" / "[v6]:port" into host and port; 0 or -1 with err set. */
int txg_metrics_parse_listen(const char *listen, char *host, size_t hostlen, uint16_t *port, char *err,
			     size_t errlen);

/* Start serving GET /metrics on listen ("host:port", "[::1]:port"; port 0
 * picks a free one). NULL or "" returns NULL with err[0] == 0 (metrics off);
 * on failure NULL with the reason in err. */
struct txg_metrics *txg_metrics_start(const char *listen, txg_metrics_fill_fn fn, void *arg, char *err,
				      size_t errlen);
/* The port actually bound. */
uint16_t txg_metrics_port(const struct txg_metrics *m);
/* Stop the server (waits for its thread) and free m; NULL is a no-op. */
void txg_metrics_stop(struct txg_metrics *m);

#endif
