/* Contained ledger walks. LMDB has no page checksums: a damaged data.mdb can
 * make its reader crash (SIGSEGV/SIGBUS inside mdb_cursor_get). So every walk
 * runs in a fork()ed child that opens its own read-only environment (never
 * one opened before the fork), sends its results through a pipe the parent
 * reads as they come, records where it is in a progress record shared with
 * the parent, and leaves with _exit. The parent turns a child killed by a
 * signal into a message that names the ledger and the place. */
#ifndef TXG_CONTAIN_H
#define TXG_CONTAIN_H

#include <stddef.h>
#include <stdint.h>

/* What a contained walk is doing (txg_progress.stage). */
enum txg_stage {
	TXG_AT_START = 0, /* not reading the ledger yet */
	TXG_AT_OPEN,	  /* opening the environment, reading meta */
	TXG_AT_HEAD,	  /* reading the head */
	TXG_AT_HEADER,	  /* reading the header of block `height` */
	TXG_AT_RECORDS,	  /* reading the records of block `height`, at record `index` */
	TXG_AT_TXIDX,	  /* looking up record `height`/`index` in txidx (height 0: an id given by the user) */
	TXG_AT_COUNTS,	  /* counting the entries of the databases (at height `height`) */
	TXG_AT_COPY,	  /* copying the environment (backup) */
};

/* Where the walk is; lives in memory shared with the parent. */
struct txg_progress {
	uint64_t height;
	int64_t index; /* -1: not at a record */
	uint32_t stage;
};

/* The progress record of this process when it is a contained child; NULL in
 * every other process (then the txg_progress_* calls do nothing). */
extern volatile struct txg_progress *txg_progress_rec;

/* Record that the walk now reads `stage` of block `height`, record `index`. */
static inline void txg_progress_at(uint32_t stage, uint64_t height, int64_t index)
{
	volatile struct txg_progress *p = txg_progress_rec;
	if (p) {
		p->stage = stage;
		p->height = height;
		p->index = index;
	}
}

/* Record that the walk moves on to record `index` of the same block. */
static inline void txg_progress_index(int64_t index)
{
	volatile struct txg_progress *p = txg_progress_rec;
	if (p)
		p->index = index;
}

#define TXG_CONTAIN_MSG 1024

/* What the child's function is given. */
struct txg_contain_child {
	int out;   /* write end of the result pipe (closed by the child's exit) */
	char *msg; /* TXG_CONTAIN_MSG bytes shared with the parent: the child's message, NUL-terminated */
};

/* Runs in the child; its return (0..125) becomes the child's exit status. */
typedef int (*txg_contain_fn)(void *arg, const struct txg_contain_child *c);
/* Called in the parent with each chunk the child wrote, as it arrives; a
 * non-zero return kills the child and drops the rest of its output. */
typedef int (*txg_contain_sink)(void *arg, const void *buf, size_t n);

/* How the child ended. */
struct txg_contain_result {
	int exited;		   /* 1: exited with `status`; 0: killed by signal `signo` */
	int status;
	int signo;
	int sink_failed;	   /* the sink refused output (the child was killed) */
	struct txg_progress at;	   /* the child's progress when it ended */
	char msg[TXG_CONTAIN_MSG]; /* the child's message ("" if none) */
};

/* Run fn(arg) in a fork()ed child (crash signals at their default action), feeding its pipe output to
 * sink(sarg) (NULL: discard) as it comes. 0 with *res however the child ended; -1 (err) if none could run. */
int txg_contain_run(txg_contain_fn fn, void *arg, txg_contain_sink sink, void *sarg, struct txg_contain_result *res,
		    char *err, size_t errlen);

/* The place in at as words, e.g. "reading block 7 (index 3)". */
void txg_contain_where(const struct txg_progress *at, char *buf, size_t n);

/* Message for a child killed by a signal: "ledger DIR is damaged: reading block 7 (index 3) crashed the
 * LMDB reader (signal 11, Segmentation fault); ADVICE" (SIGKILL, SIGTERM...: "the reader was killed"). */
void txg_contain_crash_msg(const char *path, const struct txg_contain_result *res, const char *advice, char *buf,
			   size_t n);

/* Advice for a crash outside `verify`. */
#define TXG_CONTAIN_ADVICE "run `txgatectl ledger verify`, restore from a backup"

#endif
