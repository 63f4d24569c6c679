/* Configuration loader: see config.h and docs/config.md. */
#include "config.h"
#include "members_file.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cfgfile.h>
#include <rte_config.h>

/* rte_cfgfile reads lines into a CFG_NAME_LEN + CFG_VALUE_LEN + 4 buffer
 * with fgets, so a line (without its newline) may hold this many bytes. */
#define LINE_MAX_CHARS (CFG_NAME_LEN + CFG_VALUE_LEN + 2)
#define COMMENT_CHAR ';'

struct ld {
	const char *path;
	char *err;
	size_t errlen;
	struct txg_config *c;
	int have_chain_id, have_members, have_ledger;
	int have_device; /* in the port section being read */
};

__attribute__((format(printf, 2, 3))) static int ferr(struct ld *l, const char *fmt, ...)
{
	if (l->err && l->errlen) {
		int n = snprintf(l->err, l->errlen, "%s: ", l->path);
		if (n >= 0 && (size_t)n < l->errlen) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(l->err + n, l->errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return -1;
}

/* "PATH: [sec] key: reason"; key NULL gives "PATH: [sec]: reason". */
__attribute__((format(printf, 4, 5))) static int kerr(struct ld *l, const char *sec, const char *key, const char *fmt,
						      ...)
{
	if (l->err && l->errlen) {
		int n = key ? snprintf(l->err, l->errlen, "%s: [%s] %s: ", l->path, sec, key)
			    : snprintf(l->err, l->errlen, "%s: [%s]: ", l->path, sec);
		if (n >= 0 && (size_t)n < l->errlen) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(l->err + n, l->errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return -1;
}

void txg_config_defaults(struct txg_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->metrics_listen, sizeof(c->metrics_listen), "%s", "127.0.0.1:9470");
	c->udp_port = 7400;
	c->max_ttl_ms = 120000;
	c->block_max_txs = 1024;
	c->block_max_bytes = 1048576;
	c->block_max_wait_us = 2000;
	c->durability = TXG_DUR_SYNC;
	c->map_size_mb = 1024;
	c->commit_group_max = 64;
	c->sync_interval_ms = 1000;
	c->neigh_rate = 1000;
	c->neigh_burst = 64;
	c->echo_rate = 200;
	c->echo_burst = 32;
	c->min_free_mb = 64;
	c->dedupe_capacity = 1048576;
	c->ring_size = 4096;
	c->txn_pool = 65536;
	c->mbuf_pool = 8192;
	c->burst = 32;
	c->idle_spins = 64;
	c->idle_sleep_us = 50;
	c->orderer_lcore = UINT_MAX;
	c->verifier = TXG_VERIFIER_FAST;
	c->verifier_max_keys = 4096;
	c->verifier_table_bits = 4;
	c->answer_rate = 5000;
	c->answer_burst = 10000;
	c->load = 0; /* TXG_LOAD_AUTO */
	c->load_high_pct = 95;
	c->load_low_pct = 70;
	c->load_window_ms = 100;
	c->load_windows = 3;
	c->load_hold_ms = 1000;
	c->load_full_polls = 64;
	c->fair_budget = 256;
	c->fair_share_pct = 75;
	c->fair_prefix4 = 24;
	c->fair_prefix6 = 56;
	c->penalty_threshold = 8;
	c->penalty_halflife_ms = 2000;
	c->penalty_pairs = 4096;
	c->sigcache_entries = 65536;
	snprintf(c->ctl_socket, sizeof(c->ctl_socket), "%s", TXG_CTL_SOCKET_DEFAULT);
}

void txg_config_free(struct txg_config *c)
{
	for (int i = 0; i < c->eal_argc && i < TXG_MAX_EAL_ARGS; i++) {
		free(c->eal_argv[i]);
		c->eal_argv[i] = NULL;
	}
	c->eal_argc = 0;
}

/* ---- values ---- */

/* Decimal or 0x hex, digits only (no sign, no space), whole string. */
static int num(struct ld *l, const char *sec, const char *key, const char *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
	const char *d = v;
	int base = 10;
	if (v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
		base = 16;
		d = v + 2;
	}
	if (base == 16 ? !isxdigit((unsigned char)d[0]) : !isdigit((unsigned char)d[0]))
		return kerr(l, sec, key, "'%s' is not a non-negative integer", v);
	errno = 0;
	char *end;
	unsigned long long x = strtoull(d, &end, base);
	if (*end != '\0')
		return kerr(l, sec, key, "'%s' is not a non-negative integer", v);
	if (errno == ERANGE || x < lo || x > hi)
		return kerr(l, sec, key, "%s is out of range (%llu..%llu)", v, (unsigned long long)lo,
			    (unsigned long long)hi);
	*out = x;
	return 0;
}

static int num32(struct ld *l, const char *sec, const char *key, const char *v, uint64_t lo, uint64_t hi, uint32_t *out)
{
	uint64_t x;
	if (num(l, sec, key, v, lo, hi, &x))
		return -1;
	*out = (uint32_t)x;
	return 0;
}

static int num16(struct ld *l, const char *sec, const char *key, const char *v, uint64_t lo, uint64_t hi, uint16_t *out)
{
	uint64_t x;
	if (num(l, sec, key, v, lo, hi, &x))
		return -1;
	*out = (uint16_t)x;
	return 0;
}

static int copy_str(struct ld *l, const char *sec, const char *key, const char *v, char *out, size_t cap)
{
	size_t n = strlen(v);
	if (n >= cap)
		return kerr(l, sec, key, "too long (max %zu characters)", cap - 1);
	memcpy(out, v, n + 1);
	return 0;
}

/* A relative path is taken relative to the config file's directory. */
static int path_val(struct ld *l, const char *sec, const char *key, const char *v, char out[TXG_PATH_MAX])
{
	const char *slash = strrchr(l->path, '/');
	int n;
	if (v[0] == '/' || !slash)
		n = snprintf(out, TXG_PATH_MAX, "%s", v);
	else
		n = snprintf(out, TXG_PATH_MAX, "%.*s/%s", (int)(slash - l->path), l->path, v);
	if (n < 0 || n >= TXG_PATH_MAX)
		return kerr(l, sec, key, "path too long (max %d characters after resolving)", TXG_PATH_MAX - 1);
	return 0;
}

static int is_sep(char ch) { return ch == ',' || isspace((unsigned char)ch); }

/* Addresses separated by commas and/or white space. */
static int addr_list(struct ld *l, const char *sec, const char *key, const char *v, int af, uint8_t *out,
		     size_t alen, unsigned *n)
{
	unsigned cnt = 0;
	const char *p = v;
	for (;;) {
		while (*p && is_sep(*p))
			p++;
		if (!*p)
			break;
		const char *s = p;
		while (*p && !is_sep(*p))
			p++;
		char tok[64];
		size_t tl = (size_t)(p - s);
		if (tl >= sizeof(tok))
			return kerr(l, sec, key, "'%.*s' is not an %s address", (int)tl, s, af == AF_INET ? "IPv4" : "IPv6");
		memcpy(tok, s, tl);
		tok[tl] = '\0';
		if (cnt == TXG_MAX_ADDRS)
			return kerr(l, sec, key, "more than %d addresses", TXG_MAX_ADDRS);
		if (inet_pton(af, tok, out + cnt * alen) != 1)
			return kerr(l, sec, key, "'%s' is not an %s address", tok, af == AF_INET ? "IPv4" : "IPv6");
		for (unsigned i = 0; i < cnt; i++)
			if (memcmp(out + i * alen, out + cnt * alen, alen) == 0)
				return kerr(l, sec, key, "address '%s' is listed twice", tok);
		cnt++;
	}
	if (cnt == 0)
		return kerr(l, sec, key, "no address given");
	*n = cnt;
	return 0;
}

/* ---- sections: each returns 0, -1 (error set) or 1 (unknown key) ---- */

static int sec_eal(struct ld *l, const char *sec, const char *key, const char *v)
{
	struct txg_config *c = l->c;
	if (strcmp(key, "args") != 0)
		return 1;
	const char *p = v;
	for (;;) {
		while (*p && isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		const char *s = p;
		while (*p && !isspace((unsigned char)*p))
			p++;
		if (c->eal_argc == TXG_MAX_EAL_ARGS)
			return kerr(l, sec, key, "more than %d arguments", TXG_MAX_EAL_ARGS);
		char *a = strndup(s, (size_t)(p - s));
		if (!a)
			return kerr(l, sec, key, "out of memory");
		c->eal_argv[c->eal_argc++] = a;
	}
	return 0;
}

static int sec_net(struct ld *l, const char *sec, const char *key, const char *v)
{
	struct txg_config *c = l->c;
	if (!strcmp(key, "udp_port"))
		return num16(l, sec, key, v, 1, 65535, &c->udp_port);
	if (!strcmp(key, "ipv4"))
		return addr_list(l, sec, key, v, AF_INET, &c->ipv4[0][0], 4, &c->n_ipv4);
	if (!strcmp(key, "ipv6"))
		return addr_list(l, sec, key, v, AF_INET6, &c->ipv6[0][0], 16, &c->n_ipv6);
	if (!strcmp(key, "neigh_rate"))
		return num32(l, sec, key, v, 0, 10000000, &c->neigh_rate);
	if (!strcmp(key, "neigh_burst"))
		return num32(l, sec, key, v, 0, 1000000, &c->neigh_burst);
	if (!strcmp(key, "echo_rate"))
		return num32(l, sec, key, v, 0, 10000000, &c->echo_rate);
	if (!strcmp(key, "echo_burst"))
		return num32(l, sec, key, v, 0, 1000000, &c->echo_burst);
	if (!strcmp(key, "answer_rate"))
		return num32(l, sec, key, v, 0, 100000000, &c->answer_rate);
	if (!strcmp(key, "answer_burst"))
		return num32(l, sec, key, v, 1, 100000000, &c->answer_burst);
	return 1;
}

static int sec_chain(struct ld *l, const char *sec, const char *key, const char *v)
{
	struct txg_config *c = l->c;
	if (!strcmp(key, "chain_id")) {
		l->have_chain_id = 1;
		return num32(l, sec, key, v, 0, UINT32_MAX, &c->chain_id);
	}
	if (!strcmp(key, "max_ttl_ms"))
		return num(l, sec, key, v, 1, 86400000, &c->max_ttl_ms);
	if (!strcmp(key, "members_file")) {
		l->have_members = 1;
		return path_val(l, sec, key, v, c->members_file);
	}
	if (!strcmp(key, "quota_rate"))
		return num32(l, sec, key, v, 0, TXG_QUOTA_RATE_MAX, &c->quota_rate);
	if (!strcmp(key, "quota_burst"))
		return num32(l, sec, key, v, 0, TXG_QUOTA_BURST_MAX, &c->quota_burst);
	return 1;
}

static int sec_block(struct ld *l, const char *sec, const char *key, const char *v)
{
	struct txg_config *c = l->c;
	if (!strcmp(key, "max_txs"))
		return num32(l, sec, key, v, 1, 65535, &c->block_max_txs);
	if (!strcmp(key, "max_bytes"))
		return num32(l, sec, key, v, 1024, 1u << 30, &c->block_max_bytes);
	if (!strcmp(key, "max_wait_us"))
		return num32(l, sec, key, v, 0, 10000000, &c->block_max_wait_us);
	return 1;
}

/* [control]: the control socket (docs/control.md). */
static int sec_control(struct ld *l, const char *sec, const char *key, const char *v)
{
	struct txg_config *c = l->c;
	if (!strcmp(key, "socket")) {
		c->ctl_socket_set = 1;
		if (!*v) {
			c->ctl_socket[0] = 0;
			return 0;
		}
		if (path_val(l, sec, key, v, c->ctl_socket))
			return -1;
		if (strlen(c->ctl_socket) >= TXG_CTL_SOCKET_MAX)
			return kerr(l, sec, key, "path too long for a UNIX socket (max %d characters after resolving)",
				    TXG_CTL_SOCKET_MAX - 1);
		return 0;
	}
	if (!strcmp(key, "group"))
		return copy_str(l, sec, key, v, c->ctl_group, sizeof(c->ctl_group));
	if (!strcmp(key, "audit_log"))
		return *v ? path_val(l, sec, key, v, c->ctl_audit_log) : kerr(l, sec, key, "empty path");
	return 1;
}

static int sec_ledger(struct ld *l, const char *sec, const char *key, const char *v)
{
	struct txg_config *c = l->c;
	if (!strcmp(key, "path")) {
		l->have_ledger = 1;
		return path_val(l, sec, key, v, c->ledger_path);
	}
	if (!strcmp(key, "durability")) {
		if (!strcmp(v, "sync"))
			c->durability = TXG_DUR_SYNC;
		else if (!strcmp(v, "nosync"))
			c->durability = TXG_DUR_NOSYNC;
		else
			return kerr(l, sec, key, "'%s' is not one of sync, nosync", v);
		return 0;
	}
	if (!strcmp(key, "map_size_mb"))
		return num(l, sec, key, v, 16, 1048576, &c->map_size_mb);
	if (!strcmp(key, "commit_group_max"))
		return num32(l, sec, key, v, 1, 4096, &c->commit_group_max);
	if (!strcmp(key, "sync_interval_ms"))
		return num32(l, sec, key, v, 0, 3600000, &c->sync_interval_ms);
	if (!strcmp(key, "min_free_mb"))
		return num32(l, sec, key, v, 0, 1u << 24, &c->min_free_mb);
	return 1;
}

/* A power of two in [lo, hi], or 0 if zero_ok. */
static int pow2(struct ld *l, const char *sec, const char *key, const char *v, uint64_t lo, uint64_t hi, int zero_ok,
		uint32_t *out)
{
	if (num32(l, sec, key, v, zero_ok ? 0 : lo, hi, out))
		return -1;
	if (*out == 0 && zero_ok)
		return 0;
	if (*out < lo || (*out & (*out - 1)))
		return kerr(l, sec, key, "%s is not a power of two of at least %" PRIu64 "%s", v, lo,
			    zero_ok ? " (or 0: off)" : "");
	return 0;
}

/* auto | on | off */
static int tristate(struct ld *l, const char *sec, const char *key, const char *v, int *out)
{
	if (!strcmp(v, "auto"))
		*out = 0;
	else if (!strcmp(v, "on"))
		*out = 1;
	else if (!strcmp(v, "off"))
		*out = 2;
	else
		return kerr(l, sec, key, "'%s' is not one of auto, on, off", v);
	return 0;
}

/* [dataplane] keys of flood protection (docs/flood.md). */
static int sec_flood(struct ld *l, const char *sec, const char *key, const char *v)
{
	struct txg_config *c = l->c;
	if (!strcmp(key, "load"))
		return tristate(l, sec, key, v, &c->load);
	if (!strcmp(key, "load_high_pct"))
		return num32(l, sec, key, v, 1, 1000, &c->load_high_pct);
	if (!strcmp(key, "load_low_pct"))
		return num32(l, sec, key, v, 0, 1000, &c->load_low_pct);
	if (!strcmp(key, "load_window_ms"))
		return num32(l, sec, key, v, 1, 10000, &c->load_window_ms);
	if (!strcmp(key, "load_windows"))
		return num32(l, sec, key, v, 1, 1000, &c->load_windows);
	if (!strcmp(key, "load_hold_ms"))
		return num32(l, sec, key, v, 0, 600000, &c->load_hold_ms);
	if (!strcmp(key, "load_full_polls"))
		return num32(l, sec, key, v, 0, 1000000, &c->load_full_polls);
	if (!strcmp(key, "fair_share_pct"))
		return num32(l, sec, key, v, 0, 100, &c->fair_share_pct);
	if (!strcmp(key, "fair_budget"))
		return num32(l, sec, key, v, 1, 65536, &c->fair_budget);
	if (!strcmp(key, "fair_prefix4"))
		return num32(l, sec, key, v, 0, 32, &c->fair_prefix4);
	if (!strcmp(key, "fair_prefix6"))
		return num32(l, sec, key, v, 0, 128, &c->fair_prefix6);
	if (!strcmp(key, "penalty_threshold"))
		return num32(l, sec, key, v, 1, 1000000, &c->penalty_threshold);
	if (!strcmp(key, "penalty_halflife_ms"))
		return num32(l, sec, key, v, 1, 3600000, &c->penalty_halflife_ms);
	if (!strcmp(key, "penalty_pairs"))
		return pow2(l, sec, key, v, 4, 1u << 24, 0, &c->penalty_pairs);
	if (!strcmp(key, "sigcache_entries"))
		return pow2(l, sec, key, v, 16, 1u << 26, 1, &c->sigcache_entries);
	return 1;
}

static int sec_dataplane(struct ld *l, const char *sec, const char *key, const char *v)
{
	struct txg_config *c = l->c;
	if (!strcmp(key, "dedupe_capacity"))
		return num32(l, sec, key, v, 1024, 1u << 28, &c->dedupe_capacity);
	if (!strcmp(key, "ring_size")) {
		if (num32(l, sec, key, v, 64, 1u << 20, &c->ring_size))
			return -1;
		if (c->ring_size & (c->ring_size - 1))
			return kerr(l, sec, key, "%s is not a power of two", v);
		return 0;
	}
	if (!strcmp(key, "txn_pool"))
		return num32(l, sec, key, v, 256, 1u << 24, &c->txn_pool);
	if (!strcmp(key, "mbuf_pool"))
		return num32(l, sec, key, v, 512, 1u << 22, &c->mbuf_pool);
	if (!strcmp(key, "burst"))
		return num16(l, sec, key, v, 1, 256, &c->burst);
	if (!strcmp(key, "idle_spins"))
		return num32(l, sec, key, v, 0, UINT32_MAX, &c->idle_spins);
	if (!strcmp(key, "idle_sleep_us"))
		return num32(l, sec, key, v, 0, 100000, &c->idle_sleep_us);
	if (!strcmp(key, "orderer_lcore")) {
		uint32_t x;
		if (num32(l, sec, key, v, 0, RTE_MAX_LCORE - 1, &x))
			return -1;
		c->orderer_lcore = x;
		return 0;
	}
	if (!strcmp(key, "verifier")) {
		if (!strcmp(v, "fast"))
			c->verifier = TXG_VERIFIER_FAST;
		else if (!strcmp(v, "sodium"))
			c->verifier = TXG_VERIFIER_SODIUM;
		else
			return kerr(l, sec, key, "'%s' is not one of fast, sodium", v);
		return 0;
	}
	if (!strcmp(key, "verifier_max_keys"))
		return num32(l, sec, key, v, 0, 1u << 20, &c->verifier_max_keys);
	if (!strcmp(key, "verifier_table_bits"))
		return num32(l, sec, key, v, 4, 8, &c->verifier_table_bits);
	return sec_flood(l, sec, key, v);
}

static int sec_port(struct ld *l, const char *sec, const char *key, const char *v)
{
	struct txg_port_cfg *p = &l->c->ports[l->c->n_ports];
	if (!strcmp(key, "device")) {
		l->have_device = 1;
		return copy_str(l, sec, key, v, p->device, sizeof(p->device));
	}
	if (!strcmp(key, "rx_queues"))
		return num16(l, sec, key, v, 1, 16, &p->rx_queues);
	if (!strcmp(key, "rx_desc"))
		return num16(l, sec, key, v, 16, 32768, &p->rx_desc);
	if (!strcmp(key, "tx_desc"))
		return num16(l, sec, key, v, 16, 32768, &p->tx_desc);
	if (!strcmp(key, "load"))
		return tristate(l, sec, key, v, &p->load);
	return 1;
}

/* A worker's keys are read after every port section is known. */
struct wk {
	int have_lcore;
	const char *rx; /* value of rx, or NULL */
};

static int sec_worker(struct ld *l, const char *sec, const char *key, const char *v, struct wk *w)
{
	struct txg_worker_cfg *wc = &l->c->workers[l->c->n_workers];
	if (!strcmp(key, "lcore")) {
		uint32_t x;
		if (num32(l, sec, key, v, 0, RTE_MAX_LCORE - 1, &x))
			return -1;
		wc->lcore = x;
		w->have_lcore = 1;
		return 0;
	}
	if (!strcmp(key, "rx")) {
		w->rx = v;
		return 0;
	}
	return 1;
}

/* rx = PORTSECTION:QUEUE ... (separated by white space or commas). */
static int worker_rx(struct ld *l, const char *sec, const char *v, struct txg_worker_cfg *wc, uint8_t polled[][16],
		     int8_t owner[][16])
{
	struct txg_config *c = l->c;
	const char *p = v;
	for (;;) {
		while (*p && is_sep(*p))
			p++;
		if (!*p)
			break;
		const char *s = p;
		while (*p && !is_sep(*p))
			p++;
		char tok[CFG_VALUE_LEN];
		size_t tl = (size_t)(p - s);
		memcpy(tok, s, tl); /* tl < CFG_VALUE_LEN: it comes from one value */
		tok[tl] = '\0';
		char *colon = strrchr(tok, ':');
		if (!colon || colon == tok || !colon[1])
			return kerr(l, sec, "rx", "'%s' is not PORTSECTION:QUEUE", tok);
		*colon = '\0';
		unsigned pi;
		for (pi = 0; pi < c->n_ports; pi++)
			if (!strcmp(c->ports[pi].name, tok))
				break;
		if (pi == c->n_ports)
			return kerr(l, sec, "rx", "'%s:%s': there is no port section [%s]", tok, colon + 1, tok);
		uint64_t q;
		if (num(l, sec, "rx", colon + 1, 0, 65535, &q))
			return -1;
		if (q >= c->ports[pi].rx_queues)
			return kerr(l, sec, "rx", "'%s:%s': queue %u does not exist ([%s] rx_queues = %u)", tok,
				    colon + 1, (unsigned)q, tok, c->ports[pi].rx_queues);
		if (polled[pi][q])
			return kerr(l, sec, "rx", "'%s:%s' is already polled by [%s]", tok, colon + 1,
				    c->workers[owner[pi][q]].name);
		if (wc->n_rxq == TXG_MAX_QUEUES_PER_WORKER)
			return kerr(l, sec, "rx", "more than %d queues", TXG_MAX_QUEUES_PER_WORKER);
		polled[pi][q] = 1;
		owner[pi][q] = (int8_t)c->n_workers;
		wc->rxq[wc->n_rxq].port = (uint16_t)pi;
		wc->rxq[wc->n_rxq].queue = (uint16_t)q;
		wc->n_rxq++;
	}
	if (wc->n_rxq == 0)
		return kerr(l, sec, "rx", "no queue given");
	return 0;
}

/* ---- file syntax ---- */

/* Check the lines as rte_cfgfile will read them (';' comments, [section],
 * key = value), to give a line number for what it would reject and to
 * refuse what it would silently drop or truncate. */
static int lint(struct ld *l, FILE *f)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t r;
	unsigned ln = 0;
	int in_section = 0, rc = 0;
	while ((r = getline(&line, &cap, f)) >= 0) {
		ln++;
		size_t len = (size_t)r;
		if (len && line[len - 1] == '\n')
			len--;
		if (len > LINE_MAX_CHARS) {
			rc = ferr(l, "line %u: line too long (max %d characters)", ln, LINE_MAX_CHARS);
			break;
		}
		if (memchr(line, '\0', len)) {
			rc = ferr(l, "line %u: NUL byte", ln);
			break;
		}
		line[len] = '\0';
		char *cm = strchr(line, COMMENT_CHAR);
		if (cm && (cm == line || cm[-1] != '\\'))
			*cm = '\0';
		char *s = line;
		while (isspace((unsigned char)*s))
			s++;
		char *e = s + strlen(s);
		while (e > s && isspace((unsigned char)e[-1]))
			*--e = '\0';
		if (!*s)
			continue;
		if (*s == '[') {
			char *end = strchr(s, ']');
			if (!end) {
				rc = ferr(l, "line %u: syntax error: no ']' after '['", ln);
				break;
			}
			if (end[1]) {
				rc = ferr(l, "line %u: syntax error: text after ']'", ln);
				break;
			}
			char *n0 = s + 1;
			while (isspace((unsigned char)*n0))
				n0++;
			char *n1 = end;
			while (n1 > n0 && isspace((unsigned char)n1[-1]))
				n1--;
			if (n1 == n0) {
				rc = ferr(l, "line %u: empty section name", ln);
				break;
			}
			if (n1 - n0 >= CFG_NAME_LEN) {
				rc = ferr(l, "line %u: section name too long (max %d characters)", ln, CFG_NAME_LEN - 1);
				break;
			}
			in_section = 1;
			continue;
		}
		char *eq = strchr(s, '=');
		if (!eq) {
			rc = ferr(l, "line %u: syntax error: expected '[section]' or 'key = value'", ln);
			break;
		}
		char *k1 = eq;
		while (k1 > s && isspace((unsigned char)k1[-1]))
			k1--;
		char *v0 = eq + 1;
		while (isspace((unsigned char)*v0))
			v0++;
		if (k1 == s) {
			rc = ferr(l, "line %u: syntax error: no key before '='", ln);
			break;
		}
		if (k1 - s >= CFG_NAME_LEN) {
			rc = ferr(l, "line %u: key too long (max %d characters)", ln, CFG_NAME_LEN - 1);
			break;
		}
		if (!*v0) {
			rc = ferr(l, "line %u: empty value", ln);
			break;
		}
		if (strlen(v0) >= CFG_VALUE_LEN) {
			rc = ferr(l, "line %u: value too long (max %d characters)", ln, CFG_VALUE_LEN - 1);
			break;
		}
		if (!in_section) {
			rc = ferr(l, "line %u: key outside any [section]", ln);
			break;
		}
	}
	if (rc == 0 && ferror(f))
		rc = ferr(l, "cannot read: %s", strerror(errno));
	free(line);
	return rc;
}

static int sec_metrics(struct ld *l, const char *sec, const char *key, const char *v)
{
	struct txg_config *c = l->c;
	if (strcmp(key, "listen") != 0)
		return 1;
	c->metrics_listen_set = 1;
	if (!*v || !strcmp(v, "off")) {
		c->metrics_listen[0] = 0;
		return 0;
	}
	if (!strchr(v, ':'))
		return kerr(l, sec, key, "'%s': expected host:port, [IPv6]:port or off", v);
	return copy_str(l, sec, key, v, c->metrics_listen, sizeof(c->metrics_listen));
}

/* ---- the whole file ---- */

enum sec_kind {
	SK_EAL, SK_NET, SK_CHAIN, SK_BLOCK, SK_LEDGER, SK_DATAPLANE, SK_CONTROL, SK_METRICS, SK_PORT, SK_WORKER, SK_UNKNOWN
};

typedef int (*sec_parser)(struct ld *l, const char *sec, const char *key, const char *v);

/* Key parser of each section kind but workers (read after all ports). */
static const sec_parser sec_parsers[SK_WORKER] = {
	[SK_EAL] = sec_eal,	      [SK_NET] = sec_net,	  [SK_CHAIN] = sec_chain, [SK_BLOCK] = sec_block,
	[SK_LEDGER] = sec_ledger, [SK_DATAPLANE] = sec_dataplane, [SK_PORT] = sec_port,
	[SK_CONTROL] = sec_control, [SK_METRICS] = sec_metrics,
};

static enum sec_kind kind_of(const char *s)
{
	static const char *const fixed[] = {"eal", "net", "chain", "block", "ledger", "dataplane", "control", "metrics"};
	for (int i = 0; i < 8; i++)
		if (!strcmp(s, fixed[i]))
			return (enum sec_kind)i;
	if (!strncmp(s, "port", 4))
		return SK_PORT;
	if (!strncmp(s, "worker", 6))
		return SK_WORKER;
	return SK_UNKNOWN;
}

/* Read the entries of section idx (malloc'd, caller frees). */
static int entries_of(struct ld *l, struct rte_cfgfile *cfg, int idx, char name[CFG_NAME_LEN],
		      struct rte_cfgfile_entry **ents, int *n)
{
	int ne = rte_cfgfile_section_num_entries_by_index(cfg, name, idx);
	if (ne < 0)
		return ferr(l, "cannot read section %d", idx);
	*ents = calloc((size_t)ne + 1, sizeof(**ents));
	if (!*ents)
		return ferr(l, "out of memory");
	*n = rte_cfgfile_section_entries_by_index(cfg, idx, name, *ents, ne);
	for (int i = 0; i < *n; i++)
		for (int j = 0; j < i; j++)
			if (!strcmp((*ents)[i].name, (*ents)[j].name)) {
				kerr(l, name, (*ents)[i].name, "duplicate key");
				free(*ents);
				*ents = NULL;
				return -1;
			}
	return 0;
}

static int load(struct ld *l, struct rte_cfgfile *cfg)
{
	struct txg_config *c = l->c;
	int nsec = rte_cfgfile_num_sections(cfg, "", 0);
	char (*names)[CFG_NAME_LEN] = calloc((size_t)nsec + 1, CFG_NAME_LEN);
	int *worker_idx = calloc((size_t)nsec + 1, sizeof(int));
	struct rte_cfgfile_entry *ents = NULL;
	int nw = 0, rc = -1;
	if (!names || !worker_idx) {
		ferr(l, "out of memory");
		goto out;
	}

	/* Pass 1: every section but the workers. */
	for (int si = 0; si < nsec; si++) {
		char *sec = names[si];
		int ne;
		free(ents);
		ents = NULL;
		if (entries_of(l, cfg, si, sec, &ents, &ne))
			goto out;
		for (int j = 0; j < si; j++)
			if (!strcmp(names[j], sec)) {
				kerr(l, sec, NULL, "duplicate section");
				goto out;
			}
		enum sec_kind k = kind_of(sec);
		if (k == SK_UNKNOWN) {
			kerr(l, sec, NULL, "unknown section");
			goto out;
		}
		if (k == SK_WORKER) {
			worker_idx[nw++] = si;
			continue;
		}
		struct txg_port_cfg *port = NULL;
		if (k == SK_PORT) {
			if (c->n_ports == TXG_MAX_PORTS) {
				kerr(l, sec, NULL, "more than %d port sections", TXG_MAX_PORTS);
				goto out;
			}
			port = &c->ports[c->n_ports];
			memset(port, 0, sizeof(*port));
			if (strlen(sec) >= sizeof(port->name)) {
				kerr(l, sec, NULL, "section name too long (max %zu characters)", sizeof(port->name) - 1);
				goto out;
			}
			strcpy(port->name, sec);
			port->rx_queues = 1;
			port->rx_desc = 1024;
			port->tx_desc = 1024;
			l->have_device = 0;
		}
		for (int i = 0; i < ne; i++) {
			const char *key = ents[i].name, *v = ents[i].value;
			int r = sec_parsers[k](l, sec, key, v);
			if (r > 0)
				kerr(l, sec, key, "unknown key");
			if (r)
				goto out;
		}
		if (port) {
			if (!l->have_device) {
				kerr(l, sec, "device", "missing required key");
				goto out;
			}
			for (unsigned j = 0; j < c->n_ports; j++)
				if (!strcmp(c->ports[j].device, port->device)) {
					kerr(l, sec, "device", "'%s' is also the device of [%s]", port->device,
					     c->ports[j].name);
					goto out;
				}
			c->n_ports++;
		}
	}
	if (!l->have_chain_id) {
		kerr(l, "chain", "chain_id", "missing required key");
		goto out;
	}
	if (!l->have_members) {
		kerr(l, "chain", "members_file", "missing required key");
		goto out;
	}
	if (c->quota_rate && c->quota_burst == 0) {
		kerr(l, "chain", "quota_burst", "must be at least 1 when quota_rate is set");
		goto out;
	}
	if (c->load_low_pct > c->load_high_pct) {
		kerr(l, "dataplane", "load_low_pct", "%" PRIu32 " is above load_high_pct (%" PRIu32 ")", c->load_low_pct,
		     c->load_high_pct);
		goto out;
	}
	if (!l->have_ledger) {
		kerr(l, "ledger", "path", "missing required key");
		goto out;
	}
	if (c->n_ports == 0) {
		ferr(l, "no [portN] section: at least one port is needed");
		goto out;
	}

	/* Pass 2: workers, now that every port is known. */
	uint8_t polled[TXG_MAX_PORTS][16];
	int8_t owner[TXG_MAX_PORTS][16];
	memset(polled, 0, sizeof(polled));
	memset(owner, 0, sizeof(owner));
	for (int wi = 0; wi < nw; wi++) {
		int si = worker_idx[wi];
		char *sec = names[si];
		int ne;
		free(ents);
		ents = NULL;
		if (entries_of(l, cfg, si, sec, &ents, &ne))
			goto out;
		if (c->n_workers == TXG_MAX_WORKERS) {
			kerr(l, sec, NULL, "more than %d worker sections", TXG_MAX_WORKERS);
			goto out;
		}
		struct txg_worker_cfg *wc = &c->workers[c->n_workers];
		memset(wc, 0, sizeof(*wc));
		if (strlen(sec) >= sizeof(wc->name)) {
			kerr(l, sec, NULL, "section name too long (max %zu characters)", sizeof(wc->name) - 1);
			goto out;
		}
		strcpy(wc->name, sec);
		struct wk w = {0, NULL};
		for (int i = 0; i < ne; i++) {
			int r = sec_worker(l, sec, ents[i].name, ents[i].value, &w);
			if (r > 0)
				kerr(l, sec, ents[i].name, "unknown key");
			if (r)
				goto out;
		}
		if (!w.have_lcore) {
			kerr(l, sec, "lcore", "missing required key");
			goto out;
		}
		if (!w.rx) {
			kerr(l, sec, "rx", "missing required key");
			goto out;
		}
		for (unsigned j = 0; j < c->n_workers; j++)
			if (c->workers[j].lcore == wc->lcore) {
				kerr(l, sec, "lcore", "lcore %u is also the lcore of [%s]", wc->lcore, c->workers[j].name);
				goto out;
			}
		if (c->orderer_lcore != UINT_MAX && wc->lcore == c->orderer_lcore) {
			kerr(l, sec, "lcore", "lcore %u is also [dataplane] orderer_lcore", wc->lcore);
			goto out;
		}
		if (worker_rx(l, sec, w.rx, wc, polled, owner))
			goto out;
		c->n_workers++;
	}
	if (c->n_workers == 0) {
		ferr(l, "no [workerN] section: at least one worker is needed");
		goto out;
	}
	for (unsigned pi = 0; pi < c->n_ports; pi++)
		for (unsigned q = 0; q < c->ports[pi].rx_queues; q++)
			if (!polled[pi][q]) {
				kerr(l, c->ports[pi].name, "rx_queues", "queue %u is polled by no worker (add %s:%u to a worker's rx)",
				     q, c->ports[pi].name, q);
				goto out;
			}
	rc = 0;
out:
	free(ents);
	free(names);
	free(worker_idx);
	return rc;
}

int txg_config_load(const char *path, struct txg_config *c, char *err, size_t errlen)
{
	struct ld l = {path, err, errlen, c, 0, 0, 0, 0};
	txg_config_defaults(c);
	if (err && errlen)
		err[0] = '\0';
	if (strlen(path) >= sizeof(c->path))
		return ferr(&l, "path too long (max %zu characters)", sizeof(c->path) - 1);
	strcpy(c->path, path);
	FILE *f = fopen(path, "r");
	if (!f)
		return ferr(&l, "cannot open: %s", strerror(errno));
	int rc = lint(&l, f);
	fclose(f);
	if (rc)
		return -1;
	struct rte_cfgfile *cfg = rte_cfgfile_load(path, 0);
	if (!cfg)
		return ferr(&l, "rte_cfgfile_load failed (syntax error or file changed while reading)");
	rc = load(&l, cfg);
	rte_cfgfile_close(cfg);
	if (rc == 0 && !c->ctl_audit_log[0] && c->ctl_socket[0]) {
		/* [control] audit_log defaults to txgate-audit.log next to the socket. */
		const char *slash = strrchr(c->ctl_socket, '/');
		int n = slash ? snprintf(c->ctl_audit_log, sizeof(c->ctl_audit_log), "%.*s/txgate-audit.log",
					 (int)(slash - c->ctl_socket), c->ctl_socket)
			      : snprintf(c->ctl_audit_log, sizeof(c->ctl_audit_log), "txgate-audit.log");
		if (n < 0 || (size_t)n >= sizeof(c->ctl_audit_log))
			rc = kerr(&l, "control", "audit_log", "default path too long");
	}
	if (rc)
		txg_config_free(c);
	return rc;
}
