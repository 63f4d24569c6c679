/* Control server: see ctl_server.h and docs/control.md.
 *
 * One thread, one poll() loop: the listening socket, a wake-up pipe (for
 * txg_ctl_stop) and up to TXG_CTL_MAX_CLIENTS connections. Commands run on
 * this thread; the only ones that wait are members.revoke (an RCU grace
 * period: workers pass a quiescent state every poll, so microseconds to
 * milliseconds) and drain (answered by txg_ctl_stop once the pipeline has
 * stopped, while the loop keeps serving everyone else). The data path
 * never waits for this thread: it reads one flag (paused) per burst. */
#include "ctl_server.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_log.h>
#include <sodium.h>

#include "app.h"
#include "clock.h"
#include "ctl_proto.h"
#include "members_file.h"
#include "pkt.h"

#define TXG_CTL_MAX_CLIENTS 64
#define TXG_CTL_STALL_MS 10000u	     /* a started line must be finished within this */
#define TXG_CTL_IDLE_MS 600000u	     /* an idle connection is closed after this */
#define TXG_CTL_OUT_MAX (64u << 20) /* answers a client has not read */

struct client {
	int fd; /* -1: free slot */
	uid_t uid;
	pid_t pid;
	char *in;
	size_t in_len;
	char *out;
	size_t out_len, out_off;
	uint64_t last_ms;  /* last byte received or sent */
	uint64_t part_ms;  /* when the unfinished line in `in` began */
	int closing;	   /* close once out is written */
	uint64_t discard_ms; /* since when input is read and dropped (after an over-long line; closed at EOF or 2 s without input),
			      * so that closing does not reset the error answer away */
	int eof;	   /* the peer closed its side */
	int drain_wait;	   /* answered by txg_ctl_stop */
	json_t *drain_id;  /* the drain request's id */
};

static struct {
	struct txg_app *a;
	int lfd, wake[2];
	int started;
	pthread_t th;
	char path[TXG_PATH_MAX];
	FILE *audit;
	int stop, drain_rc;
	int drain_req, draining;
	uint64_t sample_ms[2], sample_committed[2], sample_rx[2]; /* [0] older, [1] newer */
	struct client cl[TXG_CTL_MAX_CLIENTS];
} S = {.lfd = -1, .wake = {-1, -1}};

/* A cache line of its own: read by every worker once per burst. */
static struct {
	volatile int v;
	char pad[64 - sizeof(int)];
} paused_line __attribute__((aligned(64)));
#define paused (paused_line.v)

const volatile int *txg_ctl_paused_flag(void) { return &paused_line.v; }
int txg_ctl_drain_requested(void) { return __atomic_load_n(&S.drain_req, __ATOMIC_ACQUIRE); }
void txg_ctl_draining(void) { __atomic_store_n(&S.draining, 1, __ATOMIC_RELEASE); }

/* ---- audit log ---- */

static void iso_time(char *buf, size_t n)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	struct tm tm;
	gmtime_r(&tv.tv_sec, &tm);
	size_t k = strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + k, n - k, ".%03ldZ", (long)(tv.tv_usec / 1000));
}

/* Append one entry and make it durable before the answer goes out. */
static void audit(const struct client *c, const char *cmd, json_t *args, int ok, json_t *result, const char *error)
{
	if (!S.audit)
		return;
	char ts[64];
	iso_time(ts, sizeof(ts));
	json_t *e = json_pack("{s:s,s:I,s:I,s:s,s:O?,s:b}", "time", ts, "uid", (json_int_t)c->uid, "pid",
			      (json_int_t)c->pid, "cmd", cmd, "args", args, "ok", ok);
	if (!e)
		return;
	if (ok)
		json_object_set(e, "result", result ? result : json_null());
	else
		json_object_set_new(e, "error", json_string(error ? error : "?"));
	char *s = json_dumps(e, JSON_COMPACT);
	json_decref(e);
	if (!s)
		return;
	if (fprintf(S.audit, "%s\n", s) < 0 || fflush(S.audit) != 0 || fsync(fileno(S.audit)) != 0)
		RTE_LOG(ERR, USER1, "txgate: control: audit log: cannot write: %s\n", strerror(errno));
	free(s);
}

/* ---- output ---- */

static void client_close(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->in);
	free(c->out);
	json_decref(c->drain_id);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static void queue_out(struct client *c, char *line)
{
	if (!line) {
		c->closing = 1;
		return;
	}
	size_t n = strlen(line);
	if (c->out_len - c->out_off + n > TXG_CTL_OUT_MAX) {
		free(line);
		c->closing = 1;
		return;
	}
	if (c->out_off) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	char *nb = realloc(c->out, c->out_len + n);
	if (!nb) {
		free(line);
		c->closing = 1;
		return;
	}
	c->out = nb;
	memcpy(c->out + c->out_len, line, n);
	c->out_len += n;
	free(line);
}

/* Write what is queued; -1 when the connection is dead. */
static int flush_out(struct client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -1;
		}
		c->out_off += (size_t)w;
		c->last_ms = txg_now_ms();
	}
	c->out_off = c->out_len = 0;
	return 0;
}

/* ---- commands ---- */

static const char *hex32(const uint8_t *b, char out[65])
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	return out;
}

static const char *state_name(void)
{
	if (__atomic_load_n(&S.draining, __ATOMIC_ACQUIRE) || __atomic_load_n(&S.drain_req, __ATOMIC_ACQUIRE))
		return "draining";
	return paused ? "paused" : "running";
}

static void take_sample(int force)
{
	uint64_t now = txg_now_ms();
	if (!force && now - S.sample_ms[1] < 1000)
		return;
	struct txg_totals t;
	txg_app_totals(S.a, &t);
	S.sample_ms[0] = S.sample_ms[1];
	S.sample_committed[0] = S.sample_committed[1];
	S.sample_rx[0] = S.sample_rx[1];
	S.sample_ms[1] = now;
	S.sample_committed[1] = t.status[TXG_ST_COMMITTED];
	S.sample_rx[1] = t.rx_packets;
}

static json_t *port_stats(unsigned i)
{
	const struct txg_app *a = S.a;
	uint16_t pid = a->port_ids[i];
	struct rte_eth_stats es;
	memset(&es, 0, sizeof(es));
	int rc = i < a->n_ports_started ? rte_eth_stats_get(pid, &es) : -1;
	json_t *p = json_pack("{s:s,s:s,s:i,s:b}", "name", a->cfg.ports[i].name, "device", a->cfg.ports[i].device,
			      "port_id", (int)pid, "started", i < a->n_ports_started);
	if (p && rc == 0) {
		json_object_set_new(p, "ipackets", json_integer((json_int_t)es.ipackets));
		json_object_set_new(p, "opackets", json_integer((json_int_t)es.opackets));
		json_object_set_new(p, "ibytes", json_integer((json_int_t)es.ibytes));
		json_object_set_new(p, "obytes", json_integer((json_int_t)es.obytes));
		json_object_set_new(p, "imissed", json_integer((json_int_t)es.imissed));
		json_object_set_new(p, "ierrors", json_integer((json_int_t)es.ierrors));
		json_object_set_new(p, "oerrors", json_integer((json_int_t)es.oerrors));
		json_object_set_new(p, "rx_nombuf", json_integer((json_int_t)es.rx_nombuf));
	}
	return p;
}

#define U(v) json_integer((json_int_t)(v))

static json_t *cmd_status(char *err, size_t errlen)
{
	struct txg_app *a = S.a;
	struct txg_totals t;
	txg_app_totals(a, &t);
	struct txg_store_head head;
	memset(&head, 0, sizeof(head));
	if (txg_store_head(a->store, &head) != 0) {
		snprintf(err, errlen, "cannot read the ledger's head");
		return NULL;
	}
	take_sample(0);
	uint64_t dt = S.sample_ms[1] - S.sample_ms[0];
	uint64_t tps = dt && S.sample_ms[0] ? (S.sample_committed[1] - S.sample_committed[0]) * 1000u / dt : 0;
	uint64_t pps = dt && S.sample_ms[0] ? (S.sample_rx[1] - S.sample_rx[0]) * 1000u / dt : 0;
	char hh[65];
	json_t *r = json_object();
	json_object_set_new(r, "state", json_string(state_name()));
	json_object_set_new(r, "pid", U(getpid()));
	json_object_set_new(r, "uptime_ms", U(txg_now_ms() - a->start_ms));
	json_object_set_new(r, "chain_id", U(a->cfg.chain_id));
	json_object_set_new(r, "ledger", json_pack("{s:s,s:o,s:s,s:o}", "path", a->cfg.ledger_path, "height",
						   U(head.height), "head_hash", hex32(head.hash, hh),
						   "head_timestamp_ms", U(head.timestamp_ms)));
	json_object_set_new(r, "committed", U(t.status[TXG_ST_COMMITTED]));
	json_object_set_new(r, "in_flight", U(t.status[TXG_ST_ACCEPTED]));
	json_object_set_new(r, "committed_tx_per_s", U(tps));
	json_object_set_new(r, "rx_packets_per_s", U(pps));
	json_object_set_new(r, "rate_window_ms", U(S.sample_ms[0] ? dt : 0));
	json_object_set_new(r, "members", U(txg_members_count(a->members)));
	json_t *ws = json_array();
	for (unsigned i = 0; i < a->n_workers; i++) {
		const struct txg_worker_stats *s = &a->workers[i].stats;
		json_array_append_new(ws, json_pack("{s:i,s:i,s:i,s:o,s:o}", "id", (int)i, "lcore",
						    (int)a->workers[i].lcore, "rx_queues", (int)a->workers[i].n_rxq,
						    "rx_packets", U(TXG_STAT_GET(s->rx_packets)), "records",
						    U(TXG_STAT_GET(s->records))));
	}
	json_object_set_new(r, "workers", ws);
	json_object_set_new(r, "orderer_lcore", U(a->orderer_lcore));
	json_t *ps = json_array();
	for (unsigned i = 0; i < a->cfg.n_ports; i++)
		json_array_append_new(ps, port_stats(i));
	json_object_set_new(r, "ports", ps);
	return r;
}

static json_t *cmd_stats(void)
{
	struct txg_totals t;
	txg_app_totals(S.a, &t);
	json_t *r = json_object();
	json_object_set_new(r, "rx_packets", U(t.rx_packets));
	json_object_set_new(r, "rx_bytes", U(t.rx_bytes));
	json_object_set_new(r, "records", U(t.records));
	json_object_set_new(r, "pkt_multiseg", U(t.pkt_multiseg));
	for (unsigned k = 1; k < TXG_PKT_NUM; k++)
		json_object_set_new(r, txg_pkt_err_name(k), U(t.pkt[k]));
	for (unsigned k = 1; k < TXG_FE_NUM; k++)
		json_object_set_new(r, txg_frame_err_name(k), U(t.frame[k]));
	for (unsigned k = 0; k < TXG_ST_COUNT; k++)
		json_object_set_new(r, k == TXG_ST_ACCEPTED ? "in_flight" : txg_status_name(k), U(t.status[k]));
	json_object_set_new(r, "height", U(t.height));
	json_object_set_new(r, "blocks", U(t.blocks));
	json_object_set_new(r, "commits", U(t.commits));
	json_object_set_new(r, "commit_us_max", U(t.commit_us_max));
	json_object_set_new(r, "commit_us_avg", U(t.commits ? t.commit_us_total / t.commits : 0));
	json_object_set_new(r, "dedupe_size", U(t.dedupe_size));
	json_object_set_new(r, "dedupe_expired", U(t.dedupe_expired));
	json_object_set_new(r, "orderer_stalls", U(t.orderer_stalls));
	json_object_set_new(r, "known_at_commit", U(t.known_at_commit));
	for (unsigned k = 0; k < TXG_NC_NUM; k++)
		json_object_set_new(r, txg_neigh_ctr_name(k), U(t.neigh[k]));
	json_object_set_new(r, "receipts_sent", U(t.receipts[0]));
	json_object_set_new(r, "receipt_entries", U(t.receipts[1]));
	json_object_set_new(r, "receipts_dropped", U(t.receipts[2]));
	json_object_set_new(r, "frames_cookie_valid", U(t.cookie[1]));
	json_object_set_new(r, "frames_cookie_invalid", U(t.cookie[0]));
	for (unsigned k = 0; k < TXG_FC_NUM; k++)
		json_object_set_new(r, txg_flood_ctr_name(k), U(t.flood[k]));
	json_t *ps = json_array();
	for (unsigned i = 0; i < S.a->cfg.n_ports; i++)
		json_array_append_new(ps, port_stats(i));
	json_object_set_new(r, "ports", ps);
	return r;
}

static int cmp_ent(const void *x, const void *y)
{
	return strcmp(((const struct txg_member_entry *)x)->name, ((const struct txg_member_entry *)y)->name);
}

/* Every member of the table, sorted by name (malloc'd; this thread is the
 * table's only writer, so iterating is safe). */
static struct txg_member_entry *members_snapshot(size_t *n)
{
	struct txg_members *t = S.a->members;
	size_t cap = txg_members_count(t) + 1, k = 0;
	struct txg_member_entry *v = calloc(cap, sizeof(*v));
	if (!v)
		return NULL;
	const void *key;
	void *data;
	uint32_t it = 0;
	while (k < cap && rte_hash_iterate(t->h, &key, &data, &it) >= 0) {
		const struct txg_member *m = data;
		snprintf(v[k].name, sizeof(v[k].name), "%s", m->name);
		memcpy(v[k].pk, m->pk, 32);
		v[k].line = (unsigned)k + 1;
		v[k].has_quota = m->quota_own;
		uint64_t q = m->quota;
		v[k].rate = (uint32_t)(q >> 32);
		v[k].burst = (uint32_t)q;
		k++;
	}
	qsort(v, k, sizeof(*v), cmp_ent);
	*n = k;
	return v;
}

static json_t *cmd_members_list(char *err, size_t errlen)
{
	size_t n;
	struct txg_member_entry *v = members_snapshot(&n);
	if (!v) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	json_t *arr = json_array();
	char hx[65];
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:s,s:s}", "name", v[i].name, "key", hex32(v[i].pk, hx)));
	free(v);
	return json_pack("{s:o,s:o,s:s}", "count", U(n), "members", arr, "file", S.a->cfg.members_file);
}

static int save_members(char *err, size_t errlen)
{
	size_t n;
	struct txg_member_entry *v = members_snapshot(&n);
	if (!v) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int rc = txg_members_file_save(S.a->cfg.members_file, v, n, err, errlen);
	free(v);
	return rc;
}

/* NAME and KEY as a members file line would give them, with the same
 * reasons for a refusal as at start. */
static int parse_member(const char *name, const char *key, struct txg_member_entry *out, char *err, size_t errlen)
{
	if (strpbrk(name, " \t\r\n#") || strpbrk(key, " \t\r\n#")) {
		snprintf(err, errlen, "a name or key holds white space or '#'");
		return -1;
	}
	char line[TXG_MEMBERS_LINE_MAX + 2];
	int k = snprintf(line, sizeof(line), "%s %s\n", name, key);
	if (k < 0 || (size_t)k >= sizeof(line)) {
		snprintf(err, errlen, "name or key too long");
		return -1;
	}
	struct txg_member_entry *e;
	size_t n;
	char e2[512];
	if (txg_members_parse(line, (size_t)k, "member", &e, &n, e2, sizeof(e2)) != 0) {
		/* "member:1: reason" -> "reason" */
		const char *r = strstr(e2, ":1: ");
		snprintf(err, errlen, "%s", r ? r + 4 : e2);
		return -1;
	}
	*out = e[0];
	free(e);
	return 0;
}

static json_t *cmd_members_add(const struct txg_ctl_req *q, char *err, size_t errlen)
{
	struct txg_member_entry m;
	if (parse_member(txg_ctl_arg(q, "name"), txg_ctl_arg(q, "key"), &m, err, errlen) != 0)
		return NULL;
	size_t n;
	struct txg_member_entry *v = members_snapshot(&n);
	if (!v) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].name, m.name)) {
			snprintf(err, errlen, "duplicate name '%s' (already a member)", m.name);
			free(v);
			return NULL;
		}
	for (size_t i = 0; i < n; i++) {
		if (!memcmp(v[i].pk, m.pk, 32)) {
			snprintf(err, errlen, "duplicate key (already the key of member '%s')", v[i].name);
			free(v);
			return NULL;
		}
	}
	free(v);
	if (txg_members_add(S.a->members, m.name, m.pk, err, errlen) != 0)
		return NULL;
	char fe[1024];
	if (save_members(fe, sizeof(fe)) != 0) {
		txg_members_revoke(S.a->members, m.pk);
		snprintf(err, errlen, "not added: the members file could not be written: %.800s", fe);
		return NULL;
	}
	char hx[65];
	RTE_LOG(NOTICE, USER1, "txgate: control: member %s added\n", m.name);
	return json_pack("{s:s,s:s,s:o}", "name", m.name, "key", hex32(m.pk, hx), "members",
			 U(txg_members_count(S.a->members)));
}

static json_t *cmd_members_revoke(const struct txg_ctl_req *q, char *err, size_t errlen)
{
	const char *who = txg_ctl_arg(q, "member");
	size_t n;
	struct txg_member_entry *v = members_snapshot(&n);
	if (!v) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	uint8_t pk[32];
	int by_key = strlen(who) == 64 && sodium_hex2bin(pk, 32, who, 64, NULL, NULL, NULL) == 0;
	size_t i;
	for (i = 0; i < n; i++)
		if (by_key ? !memcmp(v[i].pk, pk, 32) : !strcmp(v[i].name, who))
			break;
	if (i == n) {
		snprintf(err, errlen, "no member %s '%.70s'", by_key ? "with key" : "named", who);
		free(v);
		return NULL;
	}
	if (n == 1) {
		snprintf(err, errlen, "'%s' is the last member: a members file needs at least one", v[i].name);
		free(v);
		return NULL;
	}
	struct txg_member_entry m = v[i];
	free(v);
	/* Returns after an RCU grace period: no worker can accept the key any more. */
	if (txg_members_revoke(S.a->members, m.pk) != 0) {
		snprintf(err, errlen, "member '%s' vanished", m.name);
		return NULL;
	}
	char fe[1024];
	if (save_members(fe, sizeof(fe)) != 0) {
		snprintf(err, errlen, "revoked now, but the members file could not be written (a restart would bring it back): %.800s",
			 fe);
		return NULL;
	}
	char hx[65];
	RTE_LOG(NOTICE, USER1, "txgate: control: member %s revoked\n", m.name);
	return json_pack("{s:s,s:s,s:o}", "name", m.name, "key", hex32(m.pk, hx), "members",
			 U(txg_members_count(S.a->members)));
}

/* A decimal 0..UINT32_MAX argument. */
static int arg_u32(const char *v, const char *what, uint32_t *out, char *err, size_t errlen)
{
	uint64_t x = 0;
	size_t n = strlen(v);
	if (n == 0 || n > 10) {
		snprintf(err, errlen, "%s: '%.32s' is not a decimal number", what, v);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9') {
			snprintf(err, errlen, "%s: '%.32s' is not a decimal number", what, v);
			return -1;
		}
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	if (x > UINT32_MAX) {
		snprintf(err, errlen, "%s: '%.32s' is too large", what, v);
		return -1;
	}
	*out = (uint32_t)x;
	return 0;
}

static json_t *quota_json(uint32_t rate, uint32_t burst)
{
	return json_pack("{s:o,s:o,s:b}", "rate", U(rate), "burst", U(rate ? burst : 0), "unlimited", rate == 0);
}

static json_t *cmd_quota_list(char *err, size_t errlen)
{
	size_t n;
	struct txg_member_entry *v = members_snapshot(&n);
	if (!v) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	const struct txg_members *t = S.a->members;
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *q = quota_json(v[i].rate, v[i].burst);
		json_object_set_new(q, "name", json_string(v[i].name));
		json_object_set_new(q, "source", json_string(v[i].has_quota ? "member" : "default"));
		json_array_append_new(arr, q);
	}
	free(v);
	return json_pack("{s:o,s:o,s:o}", "default", quota_json(t->def_rate, t->def_burst), "workers", U(t->n_workers),
			 "members", arr);
}

static json_t *cmd_quota_set(const struct txg_ctl_req *q, char *err, size_t errlen)
{
	const char *who = txg_ctl_arg(q, "name");
	uint32_t rate, burst;
	if (arg_u32(txg_ctl_arg(q, "rate"), "rate", &rate, err, errlen) != 0 ||
	    arg_u32(txg_ctl_arg(q, "burst"), "burst", &burst, err, errlen) != 0 ||
	    txg_quota_check(rate, burst, err, errlen) != 0)
		return NULL;
	struct txg_members *t = S.a->members;
	const void *key;
	void *data;
	uint32_t it = 0;
	struct txg_member *m = NULL;
	while (rte_hash_iterate(t->h, &key, &data, &it) >= 0)
		if (!strcmp(((struct txg_member *)data)->name, who)) {
			m = data;
			break;
		}
	if (!m) {
		snprintf(err, errlen, "no member named '%.70s'", who);
		return NULL;
	}
	int old_own = m->quota_own;
	uint64_t old = m->quota;
	txg_members_set_quota(t, m, 1, rate, burst);
	char fe[1024];
	if (save_members(fe, sizeof(fe)) != 0) {
		txg_members_set_quota(t, m, old_own, (uint32_t)(old >> 32), (uint32_t)old);
		snprintf(err, errlen, "not set: the members file could not be written: %.800s", fe);
		return NULL;
	}
	RTE_LOG(NOTICE, USER1, "txgate: control: member %s quota %u/s burst %u\n", m->name, rate, rate ? burst : 0);
	json_t *r = quota_json(rate, burst);
	json_object_set_new(r, "name", json_string(m->name));
	json_object_set_new(r, "previous", quota_json((uint32_t)(old >> 32), (uint32_t)old));
	return r;
}

static json_t *cmd_quota_default(const struct txg_ctl_req *q, char *err, size_t errlen)
{
	uint32_t rate, burst;
	if (arg_u32(txg_ctl_arg(q, "rate"), "rate", &rate, err, errlen) != 0 ||
	    arg_u32(txg_ctl_arg(q, "burst"), "burst", &burst, err, errlen) != 0 ||
	    txg_quota_check(rate, burst, err, errlen) != 0)
		return NULL;
	struct txg_members *t = S.a->members;
	/* Kept beside the members file first, so that a restart sees it. */
	if (txg_quota_default_save(S.a->cfg.members_file, rate, burst, err, errlen) != 0)
		return NULL;
	json_t *prev = quota_json(t->def_rate, t->def_burst);
	txg_members_set_default_quota(t, rate, burst);
	RTE_LOG(NOTICE, USER1, "txgate: control: default quota %u/s burst %u\n", rate, rate ? burst : 0);
	json_t *r = quota_json(rate, burst);
	json_object_set_new(r, "previous", prev);
	json_object_set_new(r, "persisted", json_true());
	return r;
}

static const struct {
	const char *name;
	uint32_t level;
} levels[] = {{"debug", RTE_LOG_DEBUG},	    {"info", RTE_LOG_INFO}, {"notice", RTE_LOG_NOTICE},
	      {"warning", RTE_LOG_WARNING}, {"error", RTE_LOG_ERR}};

static json_t *cmd_log_level(const struct txg_ctl_req *q, char *err, size_t errlen)
{
	const char *want = txg_ctl_arg(q, "level");
	uint32_t old = rte_log_get_global_level();
	const char *old_name = "other";
	for (size_t i = 0; i < RTE_DIM(levels); i++)
		if (levels[i].level == old)
			old_name = levels[i].name;
	for (size_t i = 0; i < RTE_DIM(levels); i++)
		if (!strcmp(levels[i].name, want)) {
			rte_log_set_global_level(levels[i].level);
			/* Every log type too: their own levels cap what the global one lets through. */
			rte_log_set_level_pattern("*", levels[i].level);
			return json_pack("{s:s,s:s}", "level", levels[i].name, "previous", old_name);
		}
	snprintf(err, errlen, "log-level: '%.32s' is not one of debug, info, notice, warning, error", want);
	return NULL;
}

static void handle_line(struct client *c, const char *line, size_t len)
{
	struct txg_ctl_req q;
	char err[1024] = "";
	json_t *res = NULL;
	if (txg_ctl_req_parse(line, len, &q, err, sizeof(err)) != 0) {
		queue_out(c, txg_ctl_answer_err(q.id, err));
		txg_ctl_req_free(&q);
		return;
	}
	int stopping = __atomic_load_n(&S.draining, __ATOMIC_ACQUIRE) || __atomic_load_n(&S.drain_req, __ATOMIC_ACQUIRE);
	if (q.changes_state && stopping && q.cmd != TXG_CMD_DRAIN) {
		snprintf(err, sizeof(err), "txgate is draining: no more changes");
		audit(c, q.cmd_name, q.args, 0, NULL, err);
		queue_out(c, txg_ctl_answer_err(q.id, err));
		txg_ctl_req_free(&q);
		return;
	}
	switch (q.cmd) {
	case TXG_CMD_STATUS:
		res = cmd_status(err, sizeof(err));
		break;
	case TXG_CMD_STATS:
		res = cmd_stats();
		break;
	case TXG_CMD_MEMBERS_LIST:
		res = cmd_members_list(err, sizeof(err));
		break;
	case TXG_CMD_MEMBERS_ADD:
		res = cmd_members_add(&q, err, sizeof(err));
		break;
	case TXG_CMD_MEMBERS_REVOKE:
		res = cmd_members_revoke(&q, err, sizeof(err));
		break;
	case TXG_CMD_INGRESS_PAUSE:
	case TXG_CMD_INGRESS_RESUME: {
		int was = paused, now = q.cmd == TXG_CMD_INGRESS_PAUSE;
		__atomic_store_n(&paused, now, __ATOMIC_RELEASE);
		res = json_pack("{s:b,s:b}", "paused", now, "was_paused", was);
		RTE_LOG(NOTICE, USER1, "txgate: control: ingress %s\n", now ? "paused" : "resumed");
		break;
	}
	case TXG_CMD_DRAIN:
		/* Answered by txg_ctl_stop once the pipeline has stopped. */
		res = json_pack("{s:b}", "draining", 1);
		audit(c, q.cmd_name, q.args, 1, res, NULL);
		json_decref(res);
		c->drain_wait = 1;
		c->drain_id = q.id ? json_incref(q.id) : NULL;
		__atomic_store_n(&S.drain_req, 1, __ATOMIC_RELEASE);
		txg_ctl_req_free(&q);
		return;
	case TXG_CMD_LOG_LEVEL:
		res = cmd_log_level(&q, err, sizeof(err));
		break;
	case TXG_CMD_QUOTA_SET:
		res = cmd_quota_set(&q, err, sizeof(err));
		break;
	case TXG_CMD_QUOTA_DEFAULT:
		res = cmd_quota_default(&q, err, sizeof(err));
		break;
	case TXG_CMD_QUOTA_LIST:
		res = cmd_quota_list(err, sizeof(err));
		break;
	case TXG_CMD_NUM:
		break;
	}
	if (!res && !err[0])
		snprintf(err, sizeof(err), "out of memory");
	if (q.changes_state)
		audit(c, q.cmd_name, q.args, res != NULL, res, err);
	queue_out(c, res ? txg_ctl_answer_ok(q.id, res) : txg_ctl_answer_err(q.id, err));
	txg_ctl_req_free(&q);
}

/* Milliseconds from t to now; 0 if t is later (t may be stamped after now
 * was read, while the same pass handles the connection). */
static uint64_t since(uint64_t now, uint64_t t) { return now > t ? now - t : 0; }

/* ---- connections ---- */

static void on_readable(struct client *c)
{
	if (!c->in && !(c->in = malloc(TXG_CTL_LINE_MAX + 2))) {
		c->closing = 1;
		return;
	}
	for (;;) {
		if (c->drain_wait || c->closing)
			return; /* nothing more is read from it */
		if (c->discard_ms)
			c->in_len = 0;
		size_t room = TXG_CTL_LINE_MAX + 2 - c->in_len;
		ssize_t r = recv(c->fd, c->in + c->in_len, room, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				c->closing = c->eof = 1;
			return;
		}
		if (r == 0) {
			c->eof = 1;
			return;
		}
		c->last_ms = txg_now_ms();
		if (c->discard_ms)
			continue;
		size_t scan = c->in_len;
		c->in_len += (size_t)r;
		/* Every complete line. */
		size_t start = 0;
		for (size_t i = scan; i < c->in_len; i++) {
			if (c->in[i] != '\n')
				continue;
			size_t len = i - start;
			if (len && c->in[start + len - 1] == '\r')
				len--;
			if (len)
				handle_line(c, c->in + start, len);
			start = i + 1;
			if (c->drain_wait || c->closing)
				break;
		}
		memmove(c->in, c->in + start, c->in_len - start);
		c->in_len -= start;
		if (!c->in_len)
			c->part_ms = 0;
		else if (!c->part_ms || start > 0)
			c->part_ms = c->last_ms;
		if (c->in_len > TXG_CTL_LINE_MAX) {
			char msg[96];
			snprintf(msg, sizeof(msg), "request line over %u bytes: connection closed", TXG_CTL_LINE_MAX);
			queue_out(c, txg_ctl_answer_err(NULL, msg));
			c->discard_ms = c->last_ms;
			c->in_len = 0;
			return;
		}
	}
}

static void on_accept(void)
{
	for (;;) {
		int fd = accept4(S.lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		struct client *c = NULL;
		for (int i = 0; i < TXG_CTL_MAX_CLIENTS && !c; i++)
			if (S.cl[i].fd < 0)
				c = &S.cl[i];
		if (!c) {
			char *m = txg_ctl_answer_err(NULL, "too many control connections (64): try again later");
			if (m)
				(void)!send(fd, m, strlen(m), MSG_NOSIGNAL | MSG_DONTWAIT);
			free(m);
			close(fd);
			continue;
		}
		struct ucred cr;
		socklen_t cl = sizeof(cr);
		memset(&cr, 0, sizeof(cr));
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) != 0) {
			cr.uid = (uid_t)-1;
			cr.pid = 0;
		}
		memset(c, 0, sizeof(*c));
		c->fd = fd;
		c->uid = cr.uid;
		c->pid = cr.pid;
		c->last_ms = txg_now_ms();
	}
}

static void answer_drains(void)
{
	struct txg_totals t;
	txg_app_totals(S.a, &t);
	for (int i = 0; i < TXG_CTL_MAX_CLIENTS; i++) {
		struct client *c = &S.cl[i];
		if (c->fd < 0 || !c->drain_wait)
			continue;
		json_t *res = NULL;
		char err[256] = "";
		if (S.drain_rc == 0)
			res = json_pack("{s:b,s:o,s:o,s:o}", "drained", 1, "committed", U(t.status[TXG_ST_COMMITTED]),
					"height", U(t.height), "in_flight", U(t.status[TXG_ST_ACCEPTED]));
		else
			snprintf(err, sizeof(err), "drain: a ledger commit failed: %.200s", S.a->committer.err);
		audit(c, "drain", NULL, res != NULL, res, err);
		queue_out(c, res ? txg_ctl_answer_ok(c->drain_id, res) : txg_ctl_answer_err(c->drain_id, err));
		c->drain_wait = 0;
		c->closing = 1;
		/* The process exits next: write it out now (2 s at most). */
		int fl = fcntl(c->fd, F_GETFL);
		fcntl(c->fd, F_SETFL, fl & ~O_NONBLOCK);
		struct timeval tv = {2, 0};
		setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		flush_out(c);
	}
}

static void *serve(void *arg)
{
	(void)arg;
	struct pollfd pf[2 + TXG_CTL_MAX_CLIENTS];
	int idx[2 + TXG_CTL_MAX_CLIENTS];
	for (;;) {
		if (__atomic_load_n(&S.stop, __ATOMIC_ACQUIRE))
			break;
		int n = 0;
		pf[n++] = (struct pollfd){.fd = S.wake[0], .events = POLLIN};
		pf[n++] = (struct pollfd){.fd = S.lfd, .events = POLLIN};
		for (int i = 0; i < TXG_CTL_MAX_CLIENTS; i++) {
			struct client *c = &S.cl[i];
			if (c->fd < 0)
				continue;
			short ev = 0;
			if (!c->closing && !c->eof && !c->drain_wait)
				ev |= POLLIN;
			if (c->out_len > c->out_off)
				ev |= POLLOUT;
			idx[n] = i;
			/* Nothing to wait for (a drain waiting): left out, or
			 * POLLHUP would wake the loop at once, again and again. */
			pf[n++] = (struct pollfd){.fd = ev ? c->fd : -1, .events = ev};
		}
		int pr = poll(pf, (nfds_t)n, 1000);
		if (pr < 0 && errno != EINTR)
			break;
		take_sample(0);
		if (pf[1].revents & POLLIN)
			on_accept();
		uint64_t now = txg_now_ms();
		for (int k = 2; k < n; k++) {
			struct client *c = &S.cl[idx[k]];
			if (c->fd < 0)
				continue;
			if (pf[k].revents & (POLLIN | POLLHUP | POLLERR))
				on_readable(c);
			if (c->out_len > c->out_off && flush_out(c) != 0) {
				client_close(c);
				continue;
			}
			int pending = c->out_len > c->out_off;
			if (!c->drain_wait && c->in_len && since(now, c->part_ms) >= TXG_CTL_STALL_MS && !c->closing) {
				queue_out(c, txg_ctl_answer_err(NULL, "incomplete request line (no newline within 10 s): "
								     "connection closed"));
				c->closing = 1;
				flush_out(c);
				pending = 0;
			}
			if (c->discard_ms && !pending)
				shutdown(c->fd, SHUT_WR); /* the answer is out: tell the peer it ends */
			if (c->discard_ms && !pending && (c->eof || since(now, c->last_ms) >= 2000))
				client_close(c);
			else if (!c->drain_wait && !pending && (c->closing || c->eof))
				client_close(c);
			else if (!c->drain_wait && since(now, c->last_ms) >= TXG_CTL_IDLE_MS)
				client_close(c);
		}
	}
	answer_drains();
	for (int i = 0; i < TXG_CTL_MAX_CLIENTS; i++)
		if (S.cl[i].fd >= 0)
			client_close(&S.cl[i]);
	return NULL;
}

/* ---- start and stop ---- */

static int open_socket(const struct txg_config *cfg, gid_t gid, int have_gid, char *err, size_t errlen)
{
	const char *path = cfg->ctl_socket;
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "[control] socket %s: path too long", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	/* A missing directory (such as /run/txgate outside systemd) is made. */
	char dir[TXG_PATH_MAX];
	const char *slash = strrchr(path, '/');
	if (slash && slash != path) {
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
		if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
			snprintf(err, errlen, "[control] socket %s: cannot make its directory: %s", path, strerror(errno));
			return -1;
		}
	}
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "[control] socket %s: exists and is not a socket", path);
			return -1;
		}
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			close(probe);
			snprintf(err, errlen, "[control] socket %s: another process serves it (another txgate?)", path);
			return -1;
		}
		if (probe >= 0)
			close(probe);
		unlink(path); /* stale, from a txgate that died */
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "[control] socket: %s", strerror(errno));
		return -1;
	}
	/* Mode 0660 from the start: no moment where others could connect. */
	mode_t old = umask(0117);
	int rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (rc != 0 || listen(fd, 64) != 0) {
		snprintf(err, errlen, "[control] socket %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (chmod(path, 0660) != 0 || (have_gid && chown(path, (uid_t)-1, gid) != 0)) {
		snprintf(err, errlen, "[control] socket %s: cannot set its mode or group: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

int txg_ctl_start(struct txg_app *a, char *err, size_t errlen)
{
	const struct txg_config *cfg = &a->cfg;
	for (int i = 0; i < TXG_CTL_MAX_CLIENTS; i++)
		S.cl[i].fd = -1;
	S.a = a;
	if (!cfg->ctl_socket[0])
		return 0;
	gid_t gid = 0;
	int have_gid = 0;
	if (cfg->ctl_group[0]) {
		struct group *g = getgrnam(cfg->ctl_group);
		if (!g) {
			snprintf(err, errlen, "%s: [control] group: no group named '%s'", cfg->path, cfg->ctl_group);
			return -1;
		}
		gid = g->gr_gid;
		have_gid = 1;
	}
	char e[1024];
	S.lfd = open_socket(cfg, gid, have_gid, e, sizeof(e));
	if (S.lfd < 0) {
		if (cfg->ctl_socket_set) {
			snprintf(err, errlen, "%s: %s", cfg->path, e);
			return -1;
		}
		fprintf(stderr, "txgate: warning: no control socket: %s (set [control] socket)\n", e);
		return 0;
	}
	snprintf(S.path, sizeof(S.path), "%s", cfg->ctl_socket);
	int afd = open(cfg->ctl_audit_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (afd < 0 || !(S.audit = fdopen(afd, "a"))) {
		snprintf(err, errlen, "%s: [control] audit_log %s: cannot open: %s", cfg->path, cfg->ctl_audit_log,
			 strerror(errno));
		goto fail;
	}
	if (pipe2(S.wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		snprintf(err, errlen, "control: pipe: %s", strerror(errno));
		goto fail;
	}
	take_sample(1);
	int rc = pthread_create(&S.th, NULL, serve, NULL);
	if (rc != 0) {
		snprintf(err, errlen, "control: cannot start its thread: %s", strerror(rc));
		goto fail;
	}
	pthread_setname_np(S.th, "txg-ctl");
	S.started = 1;
	fprintf(stderr, "txgate: control socket %s (audit log %s)\n", S.path, cfg->ctl_audit_log);
	return 0;
fail:
	if (afd >= 0 && !S.audit)
		close(afd);
	if (S.audit)
		fclose(S.audit);
	S.audit = NULL;
	close(S.lfd);
	S.lfd = -1;
	unlink(S.path);
	return -1;
}

void txg_ctl_stop(int pipeline_rc)
{
	if (!S.started)
		return;
	S.drain_rc = pipeline_rc;
	__atomic_store_n(&S.stop, 1, __ATOMIC_RELEASE);
	(void)!write(S.wake[1], "x", 1);
	pthread_join(S.th, NULL);
	S.started = 0;
	close(S.lfd);
	S.lfd = -1;
	unlink(S.path);
	close(S.wake[0]);
	close(S.wake[1]);
	if (S.audit)
		fclose(S.audit);
	S.audit = NULL;
}
