/* Run summary: counts per status and latency percentiles. */
#include "tally.h"

#include <stdlib.h>
#include <string.h>

void txs_tally_init(struct txs_tally *t) { memset(t, 0, sizeof *t); }

void txs_tally_free(struct txs_tally *t)
{
	free(t->acc.us);
	free(t->com.us);
	memset(t, 0, sizeof *t);
}

static void sample(struct txs_tally *t, struct txs_lat *l, uint64_t us)
{
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 1024;
		uint64_t *nv = realloc(l->us, nc * sizeof *nv);
		if (!nv) {
			t->oom = 1;
			return;
		}
		l->us = nv;
		l->cap = nc;
	}
	l->us[l->n++] = us;
}

void txs_tally_add(struct txs_tally *t, const struct txc_answer *a)
{
	if (a->status == TXC_ACCEPTED && !a->final) {
		sample(t, &t->acc, a->answer_us - a->first_send_us);
		return;
	}
	if (a->status < 0 || a->status >= TXC_NSTATUS)
		return;
	t->final[a->status]++;
	t->finals++;
	if (a->tries > 1 && a->status != TXC_LOST)
		t->retried++;
	if (a->status == TXC_DUPLICATE) {
		t->dup_retried += a->tries > 1;
		t->dup_located += a->height != 0;
	}
	if (a->status == TXC_COMMITTED)
		sample(t, &t->com, a->answer_us - a->first_send_us);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

void txs_tally_finish(struct txs_tally *t)
{
	if (t->acc.n)
		qsort(t->acc.us, t->acc.n, sizeof *t->acc.us, cmp_u64);
	if (t->com.n)
		qsort(t->com.us, t->com.n, sizeof *t->com.us, cmp_u64);
}

uint64_t txs_tally_pct(const struct txs_lat *l, double p)
{
	if (l->n == 0)
		return 0;
	/* rank = ceil(p/100 * n), in tenths of a percent to stay exact */
	uint64_t pm = (uint64_t)(p * 10 + 0.5);
	uint64_t rank = (pm * l->n + 999) / 1000;
	size_t i = rank < 1 ? 0 : (size_t)rank - 1;
	return l->us[i < l->n ? i : l->n - 1];
}

static void lat_line(FILE *f, const char *name, const struct txs_lat *l)
{
	if (l->n == 0) {
		fprintf(f, "  %-14s %8zu %9s %9s %9s %9s %9s\n", name, l->n, "-", "-", "-", "-", "-");
		return;
	}
	static const double ps[] = {50, 90, 99, 99.9};
	fprintf(f, "  %-14s %8zu", name, l->n);
	for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++)
		fprintf(f, " %9.3f", (double)txs_tally_pct(l, ps[i]) / 1000.0);
	fprintf(f, " %9.3f\n", (double)l->us[l->n - 1] / 1000.0);
}

void txs_tally_print(FILE *f, const struct txs_tally *t)
{
	fprintf(f, "answers (final, per status):\n");
	for (int s = 0; s < TXC_NSTATUS; s++) {
		if (s == TXC_ACCEPTED || (t->final[s] == 0 && s != TXC_COMMITTED && s != TXC_LOST))
			continue;
		fprintf(f, "  %-14s %8llu", txc_status_name(s), (unsigned long long)t->final[s]);
		if (s == TXC_DUPLICATE)
			fprintf(f, "  (%llu answering a retry, %llu locating a committed original)",
				(unsigned long long)t->dup_retried, (unsigned long long)t->dup_located);
		fputc('\n', f);
	}
	fprintf(f, "answered after a retry: %llu\n", (unsigned long long)t->retried);
	fprintf(f, "latency from first send (ms):\n");
	fprintf(f, "  %-14s %8s %9s %9s %9s %9s %9s\n", "to", "n", "p50", "p90", "p99", "p99.9", "max");
	lat_line(f, "accepted", &t->acc);
	lat_line(f, "committed", &t->com);
	if (t->oom)
		fprintf(f, "  (out of memory: some latency samples were not kept)\n");
}
