/* Members file loader: see members_file.h. */
#include "members_file.h"
#include "errbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "wire.h"

static int name_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
	       c == ':' || c == '@' || c == '-';
}

static int is_ws(char c) { return c == ' ' || c == '\t'; }

static int cmp_name(const void *a, const void *b)
{
	const struct txg_member_entry *x = *(const struct txg_member_entry *const *)a;
	const struct txg_member_entry *y = *(const struct txg_member_entry *const *)b;
	int r = strcmp(x->name, y->name);
	return r ? r : (x->line > y->line) - (x->line < y->line);
}

static int cmp_key(const void *a, const void *b)
{
	const struct txg_member_entry *x = *(const struct txg_member_entry *const *)a;
	const struct txg_member_entry *y = *(const struct txg_member_entry *const *)b;
	int r = memcmp(x->pk, y->pk, sizeof(x->pk));
	return r ? r : (x->line > y->line) - (x->line < y->line);
}

/* Find the earliest line that repeats an earlier entry under cmp's
 * equality (cmp orders equal entries by line). Sets *dup and *first. */
static void earliest_dup(const struct txg_member_entry **v, size_t n, int (*cmp)(const void *, const void *),
			 int by_name, const struct txg_member_entry **dup, const struct txg_member_entry **first)
{
	*dup = *first = NULL;
	qsort(v, n, sizeof(*v), cmp);
	for (size_t i = 1; i < n; i++) {
		int same = by_name ? strcmp(v[i]->name, v[i - 1]->name) == 0
				   : memcmp(v[i]->pk, v[i - 1]->pk, sizeof(v[i]->pk)) == 0;
		if (!same)
			continue;
		size_t g = i - 1; /* first of the group: v[i-1] if v[i] is the group's second */
		if (i >= 2) {
			int same_prev = by_name ? strcmp(v[i - 1]->name, v[i - 2]->name) == 0
						: memcmp(v[i - 1]->pk, v[i - 2]->pk, sizeof(v[i]->pk)) == 0;
			if (same_prev)
				continue; /* not the group's second entry */
		}
		if (!*dup || v[i]->line < (*dup)->line) {
			*dup = v[i];
			*first = v[g];
		}
	}
}

int txg_members_parse(const char *text, size_t len, const char *fname, struct txg_member_entry **out, size_t *n,
		      char *err, size_t errlen)
{
	*out = NULL;
	*n = 0;
	if (sodium_init() < 0) {
		txg_errf(err, errlen, "%s: libsodium failed to initialise", fname);
		return -1;
	}
	struct txg_member_entry *arr = NULL;
	size_t cnt = 0, cap = 0, pos = 0;
	unsigned line = 0;

	while (pos < len) {
		line++;
		const char *s = text + pos;
		const char *nl = memchr(s, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - s) : len - pos;
		pos += ll + (nl ? 1 : 0);
		if (ll > 0 && s[ll - 1] == '\r')
			ll--;
		if (ll > TXG_MEMBERS_LINE_MAX) {
			txg_errf(err, errlen, "%s:%u: line too long (over %u bytes)", fname, line, TXG_MEMBERS_LINE_MAX);
			goto fail;
		}
		if (memchr(s, '\0', ll)) {
			txg_errf(err, errlen, "%s:%u: NUL byte in line", fname, line);
			goto fail;
		}
		const char *hash = memchr(s, '#', ll);
		if (hash)
			ll = (size_t)(hash - s);

		size_t i = 0;
		while (i < ll && is_ws(s[i]))
			i++;
		if (i == ll)
			continue; /* blank or comment */
		size_t n0 = i;
		while (i < ll && !is_ws(s[i]))
			i++;
		size_t nlen = i - n0;
		while (i < ll && is_ws(s[i]))
			i++;
		size_t k0 = i;
		while (i < ll && !is_ws(s[i]))
			i++;
		size_t klen = i - k0;
		while (i < ll && is_ws(s[i]))
			i++;
		/* Optional quota: two decimal fields. */
		size_t q0[2] = {0, 0}, qlen[2] = {0, 0};
		int nq = 0;
		while (i < ll && nq < 2) {
			q0[nq] = i;
			while (i < ll && !is_ws(s[i]))
				i++;
			qlen[nq] = i - q0[nq];
			nq++;
			while (i < ll && is_ws(s[i]))
				i++;
		}
		if (klen == 0 || i != ll || nq == 1) {
			txg_errf(err, errlen, "%s:%u: syntax error: expected 'name hexkey [rate burst]'", fname, line);
			goto fail;
		}
		uint32_t qv[2] = {0, 0};
		for (int j = 0; j < nq; j++) {
			uint64_t x = 0;
			if (qlen[j] > 10)
				x = UINT64_MAX;
			for (size_t d = 0; d < qlen[j] && x != UINT64_MAX; d++) {
				char ch = s[q0[j] + d];
				if (ch < '0' || ch > '9') {
					txg_errf(err, errlen, "%s:%u: bad quota %s: '%.*s' is not a decimal number", fname,
						 line, j ? "burst" : "rate", (int)(qlen[j] > 20 ? 20 : qlen[j]), s + q0[j]);
					goto fail;
				}
				x = x * 10 + (uint64_t)(ch - '0');
			}
			if (x > UINT32_MAX) {
				txg_errf(err, errlen, "%s:%u: bad quota %s: too large", fname, line, j ? "burst" : "rate");
				goto fail;
			}
			qv[j] = (uint32_t)x;
		}
		if (nq == 2) {
			char qe[128];
			if (txg_quota_check(qv[0], qv[1], qe, sizeof(qe)) != 0) {
				txg_errf(err, errlen, "%s:%u: bad quota: %s", fname, line, qe);
				goto fail;
			}
		}
		if (nlen > TXG_MEMBER_NAME_MAX) {
			txg_errf(err, errlen, "%s:%u: member name longer than %u characters", fname, line,
				TXG_MEMBER_NAME_MAX);
			goto fail;
		}
		for (size_t j = 0; j < nlen; j++)
			if (!name_char((unsigned char)s[n0 + j])) {
				txg_errf(err, errlen,
					"%s:%u: bad member name: character %zu is not one of A-Z a-z 0-9 _ . : @ -",
					fname, line, j + 1);
				goto fail;
			}
		if (klen != 64) {
			txg_errf(err, errlen, "%s:%u: bad hex key: %zu characters, expected 64 hex digits", fname, line,
				klen);
			goto fail;
		}
		uint8_t pk[32];
		for (size_t j = 0; j < 32; j++) {
			int hi = txg_hexval((unsigned char)s[k0 + 2 * j]), lo = txg_hexval((unsigned char)s[k0 + 2 * j + 1]);
			if (hi < 0 || lo < 0) {
				txg_errf(err, errlen, "%s:%u: bad hex key: character %zu is not a hex digit", fname, line,
					2 * j + (hi < 0 ? 1 : 2));
				goto fail;
			}
			pk[j] = (uint8_t)(hi << 4 | lo);
		}
		if (!crypto_core_ed25519_is_valid_point(pk)) {
			txg_errf(err, errlen, "%s:%u: invalid key: not a valid Ed25519 public key", fname, line);
			goto fail;
		}
		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct txg_member_entry *na = realloc(arr, ncap * sizeof(*arr));
			if (!na) {
				txg_errf(err, errlen, "%s:%u: out of memory", fname, line);
				goto fail;
			}
			arr = na;
			cap = ncap;
		}
		struct txg_member_entry *e = &arr[cnt++];
		memset(e, 0, sizeof(*e));
		memcpy(e->name, s + n0, nlen);
		memcpy(e->pk, pk, 32);
		e->line = line;
		e->has_quota = nq == 2;
		e->rate = qv[0];
		e->burst = qv[1];
	}
	if (cnt == 0) {
		txg_errf(err, errlen, "%s: no members", fname);
		goto fail;
	}

	const struct txg_member_entry **v = malloc(cnt * sizeof(*v));
	if (!v) {
		txg_errf(err, errlen, "%s: out of memory", fname);
		goto fail;
	}
	const struct txg_member_entry *dn, *fn, *dk, *fk;
	for (size_t j = 0; j < cnt; j++)
		v[j] = &arr[j];
	earliest_dup(v, cnt, cmp_name, 1, &dn, &fn);
	for (size_t j = 0; j < cnt; j++)
		v[j] = &arr[j];
	earliest_dup(v, cnt, cmp_key, 0, &dk, &fk);
	int bad = 0;
	if (dn && (!dk || dn->line <= dk->line)) {
		txg_errf(err, errlen, "%s:%u: duplicate name '%s' (first on line %u)", fname, dn->line, dn->name,
			fn->line);
		bad = 1;
	} else if (dk) {
		txg_errf(err, errlen, "%s:%u: duplicate key (first on line %u, member '%s')", fname, dk->line, fk->line,
			fk->name);
		bad = 1;
	}
	free(v);
	if (bad)
		goto fail;
	*out = arr;
	*n = cnt;
	return 0;
fail:
	free(arr);
	return -1;
}

int txg_members_file_load(const char *path, struct txg_member_entry **out, size_t *n, char *err, size_t errlen)
{
	*out = NULL;
	*n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		txg_errf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	if (!buf) {
		close(fd);
		txg_errf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	for (;;) {
		if (len == cap) {
			if (cap >= TXG_MEMBERS_FILE_MAX) {
				txg_errf(err, errlen, "%s: file too large (limit %u bytes)", path, TXG_MEMBERS_FILE_MAX);
				goto fail;
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				txg_errf(err, errlen, "%s: out of memory", path);
				goto fail;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			txg_errf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	int rc = txg_members_parse(buf, len, path, out, n, err, errlen);
	free(buf);
	return rc;
fail:
	close(fd);
	free(buf);
	return -1;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Replace path with text[0..len) atomically: a temporary file next to it,
 * written and fsync'd, renamed over path, then its directory fsync'd. The
 * file keeps path's mode (0644 when new). 0, or -1 with err. */
static int atomic_write(const char *path, const char *text, size_t len, char *err, size_t errlen)
{
	char tmp[4096], dir[4096];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp)) {
		txg_errf(err, errlen, "%s: path too long", path);
		return -1;
	}
	const char *slash = strrchr(path, '/');
	if (slash)
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	else
		snprintf(dir, sizeof(dir), ".");
	struct stat st;
	mode_t mode = stat(path, &st) == 0 ? (st.st_mode & 07777) : 0644;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		txg_errf(err, errlen, "%s: cannot create: %s", tmp, strerror(errno));
		return -1;
	}
	(void)fchmod(fd, mode); /* not narrowed by the umask */
	if (write_all(fd, text, len) != 0 || fsync(fd) != 0) {
		txg_errf(err, errlen, "%s: cannot write: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (close(fd) != 0) {
		txg_errf(err, errlen, "%s: cannot write: %s", tmp, strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) != 0) {
		txg_errf(err, errlen, "%s: cannot rename %s over it: %s", path, tmp, strerror(errno));
		unlink(tmp);
		return -1;
	}
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) != 0) {
		txg_errf(err, errlen, "%s: written, but its directory %s could not be synced: %s", path, dir,
			 strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return -1;
	}
	close(dfd);
	return 0;
}

int txg_members_file_save(const char *path, const struct txg_member_entry *e, size_t n, char *err, size_t errlen)
{
	enum { LINE = TXG_MEMBER_NAME_MAX + 1 + 64 + 2 + 24 };
	const char *hdr = "# txgate members: name hexkey [rate burst] (rewritten by txgate's control socket)\n";
	size_t cap = strlen(hdr) + n * LINE + 1, k = 0;
	char *text = malloc(cap);
	if (!text) {
		txg_errf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	k += (size_t)snprintf(text, cap, "%s", hdr);
	for (size_t i = 0; i < n; i++) {
		k += (size_t)snprintf(text + k, cap - k, "%s ", e[i].name);
		for (unsigned j = 0; j < 32; j++)
			k += (size_t)snprintf(text + k, cap - k, "%02x", e[i].pk[j]);
		if (e[i].has_quota)
			k += (size_t)snprintf(text + k, cap - k, " %u %u", e[i].rate, e[i].burst);
		text[k++] = '\n';
	}
	int rc = atomic_write(path, text, k, err, errlen);
	free(text);
	return rc;
}

/* The file beside the members file that keeps the default quota set at run time. */
static int default_path(const char *members_path, char *out, size_t cap)
{
	return snprintf(out, cap, "%s.default-quota", members_path) < (int)cap ? 0 : -1;
}

int txg_quota_default_save(const char *members_path, uint32_t rate, uint32_t burst, char *err, size_t errlen)
{
	char path[4096], text[64];
	if (default_path(members_path, path, sizeof(path)) != 0) {
		txg_errf(err, errlen, "%s: path too long", members_path);
		return -1;
	}
	int n = snprintf(text, sizeof(text), "%u %u\n", rate, burst);
	return atomic_write(path, text, (size_t)n, err, errlen);
}

int txg_quota_default_load(const char *members_path, uint32_t *rate, uint32_t *burst, int *found, char *err,
			   size_t errlen)
{
	char path[4096];
	*found = 0;
	if (default_path(members_path, path, sizeof(path)) != 0) {
		txg_errf(err, errlen, "%s: path too long", members_path);
		return -1;
	}
	FILE *f = fopen(path, "r");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		txg_errf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	unsigned long r, b;
	char extra;
	char line[128];
	int ok = fgets(line, sizeof(line), f) && sscanf(line, "%lu %lu %c", &r, &b, &extra) == 2 && r <= UINT32_MAX &&
		 b <= UINT32_MAX;
	fclose(f);
	if (!ok) {
		txg_errf(err, errlen, "%s: expected one line \"RATE BURST\"", path);
		return -1;
	}
	if (txg_quota_check((uint32_t)r, (uint32_t)b, err, errlen) != 0) {
		char why[256];
		snprintf(why, sizeof(why), "%s", err);
		txg_errf(err, errlen, "%s: %s", path, why);
		return -1;
	}
	*rate = (uint32_t)r;
	*burst = (uint32_t)b;
	*found = 1;
	return 0;
}

int txg_quota_check(uint32_t rate, uint32_t burst, char *err, size_t errlen)
{
	if (rate > TXG_QUOTA_RATE_MAX) {
		snprintf(err, errlen, "quota rate %u over %u per second", rate, TXG_QUOTA_RATE_MAX);
		return -1;
	}
	if (rate && (burst == 0 || burst > TXG_QUOTA_BURST_MAX)) {
		snprintf(err, errlen, "quota burst %u: must be 1..%u when the rate is set", burst, TXG_QUOTA_BURST_MAX);
		return -1;
	}
	return 0;
}
