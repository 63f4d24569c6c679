/* Contained ledger walks: a fork()ed child per walk. */
#include "contain.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "errbuf.h"

volatile struct txg_progress *txg_progress_rec;

/* The page shared by the parent and the child. */
struct shared {
	struct txg_progress pr;
	char msg[TXG_CONTAIN_MSG];
};

/* Signals that mean the reader crashed (as opposed to being killed). */
static const int crash_sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS};

static int is_crash(int sig)
{
	for (size_t i = 0; i < sizeof crash_sigs / sizeof crash_sigs[0]; i++)
		if (crash_sigs[i] == sig)
			return 1;
	return 0;
}

/* In the child: let a crash kill it at once (no handler of the parent's,
 * e.g. a sanitizer's, turns it into something else) and without a core
 * dump, then run fn. Never returns. */
static void child(struct shared *sh, int out, txg_contain_fn fn, void *arg)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigset_t set;
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof crash_sigs / sizeof crash_sigs[0]; i++) {
		sigaction(crash_sigs[i], &sa, NULL);
		sigaddset(&set, crash_sigs[i]);
	}
	sigaction(SIGPIPE, &sa, NULL); /* the parent is gone: stop */
	sigaddset(&set, SIGPIPE);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); /* an expected crash leaves no core file */
	txg_progress_rec = &sh->pr;
	struct txg_contain_child c = {.out = out, .msg = sh->msg};
	int rc = fn(arg, &c);
	_exit(rc < 0 || rc > 125 ? 125 : rc);
}

int txg_contain_run(txg_contain_fn fn, void *arg, txg_contain_sink sink, void *sarg, struct txg_contain_result *res,
		    char *err, size_t errlen)
{
	memset(res, 0, sizeof *res);
	struct shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		txg_errf(err, errlen, "cannot map memory for the ledger reader: %s", strerror(errno));
		return -1;
	}
	memset(sh, 0, sizeof *sh);
	sh->pr.index = -1;
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) != 0) {
		txg_errf(err, errlen, "cannot make a pipe for the ledger reader: %s", strerror(errno));
		munmap(sh, sizeof *sh);
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		txg_errf(err, errlen, "cannot start the ledger reader: fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		munmap(sh, sizeof *sh);
		return -1;
	}
	if (pid == 0) {
		close(fds[0]);
		child(sh, fds[1], fn, arg);
	}
	close(fds[1]);
	char buf[32768];
	for (;;) {
		ssize_t n = read(fds[0], buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (sink && sink(sarg, buf, (size_t)n) != 0) {
			res->sink_failed = 1;
			kill(pid, SIGKILL);
			break;
		}
	}
	close(fds[0]);
	int st = 0;
	pid_t w;
	while ((w = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
		;
	int ret = 0;
	if (w != pid) {
		txg_errf(err, errlen, "cannot collect the ledger reader's exit status: %s", strerror(errno));
		ret = -1;
	} else if (WIFEXITED(st)) {
		res->exited = 1;
		res->status = WEXITSTATUS(st);
	} else {
		res->signo = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
	}
	res->at = sh->pr;
	memcpy(res->msg, sh->msg, sizeof res->msg);
	res->msg[sizeof res->msg - 1] = '\0';
	munmap(sh, sizeof *sh);
	return ret;
}

void txg_contain_where(const struct txg_progress *at, char *buf, size_t n)
{
	switch (at->stage) {
	case TXG_AT_OPEN:
		snprintf(buf, n, "opening it");
		break;
	case TXG_AT_HEAD:
		snprintf(buf, n, "reading its head");
		break;
	case TXG_AT_HEADER:
		snprintf(buf, n, "reading the header of block %" PRIu64, at->height);
		break;
	case TXG_AT_RECORDS:
		if (at->index >= 0)
			snprintf(buf, n, "reading block %" PRIu64 " (index %" PRId64 ")", at->height, at->index);
		else
			snprintf(buf, n, "reading block %" PRIu64, at->height);
		break;
	case TXG_AT_TXIDX:
		if (at->height > 0)
			snprintf(buf, n, "looking up block %" PRIu64 " index %" PRId64 " in txidx", at->height,
				 at->index);
		else
			snprintf(buf, n, "looking up a tx_id in txidx");
		break;
	case TXG_AT_COUNTS:
		snprintf(buf, n, "counting its entries (at height %" PRIu64 ")", at->height);
		break;
	case TXG_AT_COPY:
		snprintf(buf, n, "copying it");
		break;
	default:
		snprintf(buf, n, "starting to read it");
		break;
	}
}

void txg_contain_crash_msg(const char *path, const struct txg_contain_result *res, const char *advice, char *buf,
			   size_t n)
{
	char where[160];
	txg_contain_where(&res->at, where, sizeof where);
	const char *name = res->signo ? strsignal(res->signo) : "unknown";
	if (is_crash(res->signo))
		snprintf(buf, n, "ledger %s is damaged: %s crashed the LMDB reader (signal %d, %s)%s%s", path, where,
			 res->signo, name, advice ? "; " : "", advice ? advice : "");
	else
		snprintf(buf, n, "ledger %s: the reader was killed by signal %d (%s) while %s", path, res->signo, name,
			 where);
}
