/* Key files and the members file. */
#include "keys.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rng.h"
#include "wire.h"

int tg_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n >= TG_NAME_MAX || name[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		      c == '.'))
			return 0;
	}
	return 1;
}

static int write_key_file(const char *path, const uint8_t seed[32])
{
	char hex[65];
	txg_hex(seed, 32, hex);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || fchmod(fd, 0600) != 0) {
		fprintf(stderr, "txgen: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	hex[64] = '\n';
	ssize_t w = write(fd, hex, 65);
	if (w != 65 || close(fd) != 0) {
		fprintf(stderr, "txgen: %s: write failed\n", path);
		return -1;
	}
	return 0;
}

int tg_keygen(const char *dir, unsigned count, const char *prefix, int force, int deterministic, uint64_t seed)
{
	char path[4096];
	int nl = snprintf(path, sizeof path, "%s%u", prefix, count); /* the longest name */
	if (nl < 0 || (size_t)nl >= TG_NAME_MAX || !tg_name_ok(path)) {
		fprintf(stderr, "txgen: bad member name '%s'\n", path);
		return -1;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "txgen: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof path, "%s/members.txt", dir);
	if (!force && access(path, F_OK) == 0) {
		fprintf(stderr, "txgen: %s exists; not overwriting keys without --force\n", path);
		return -1;
	}
	FILE *mf = fopen(path, "w");
	if (!mf) {
		fprintf(stderr, "txgen: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(mf, "# txgate members: name, Ed25519 public key (hex)\n");
	struct tg_rng rng;
	tg_rng_seed(&rng, seed ^ 0x6b657973ull);
	int rc = 0;
	for (unsigned i = 1; i <= count && rc == 0; i++) {
		char name[TG_NAME_MAX];
		int nl = snprintf(name, sizeof name, "%s%u", prefix, i);
		if (nl < 0 || (size_t)nl >= sizeof name || !tg_name_ok(name)) {
			fprintf(stderr, "txgen: bad member name '%s%u'\n", prefix, i);
			rc = -1;
			break;
		}
		uint8_t sd[32], pk[32], sk[64];
		if (deterministic)
			tg_rng_bytes(&rng, sd, 32);
		else
			randombytes_buf(sd, 32);
		crypto_sign_seed_keypair(pk, sk, sd);
		snprintf(path, sizeof path, "%s/%s.key", dir, name);
		rc = write_key_file(path, sd);
		char hex[65];
		txg_hex(pk, 32, hex);
		fprintf(mf, "%s %s\n", name, hex);
		sodium_memzero(sd, sizeof sd);
		sodium_memzero(sk, sizeof sk);
	}
	if (fclose(mf) != 0 && rc == 0) {
		fprintf(stderr, "txgen: %s/members.txt: write failed\n", dir);
		rc = -1;
	}
	return rc;
}

/* Read the first line of path into buf without its newline. */
static int read_line(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	int ok = fgets(buf, (int)cap, f) != NULL;
	fclose(f);
	if (!ok)
		return -1;
	buf[strcspn(buf, "\r\n")] = 0;
	return 0;
}

int tg_load_keys(const char *dir, struct tg_key **out)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/members.txt", dir);
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "txgen: %s: %s\n", path, strerror(errno));
		return -1;
	}
	struct tg_key *keys = NULL;
	size_t n = 0, cap = 0;
	char line[1024];
	int lineno = 0, rc = 0;
	while (rc == 0 && fgets(line, sizeof line, f)) {
		lineno++;
		char *save = NULL;
		char *name = strtok_r(line, " \t\r\n", &save);
		if (!name || name[0] == '#')
			continue;
		char *hex = strtok_r(NULL, " \t\r\n", &save);
		char *extra = strtok_r(NULL, " \t\r\n", &save);
		uint8_t pk[32];
		if (!hex || extra || !tg_name_ok(name) || txg_unhex(hex, pk, 32) != 0) {
			fprintf(stderr, "txgen: %s:%d: expected 'name hexkey'\n", path, lineno);
			rc = -1;
			break;
		}
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			struct tg_key *nk = realloc(keys, cap * sizeof *keys);
			if (!nk) {
				rc = -1;
				break;
			}
			keys = nk;
		}
		struct tg_key *k = &keys[n];
		snprintf(k->name, sizeof k->name, "%s", name);
		char kpath[4096], shex[256];
		uint8_t seed[32];
		snprintf(kpath, sizeof kpath, "%s/%s.key", dir, name);
		if (read_line(kpath, shex, sizeof shex) != 0 || txg_unhex(shex, seed, 32) != 0) {
			fprintf(stderr, "txgen: %s: missing or not 64 hex digits\n", kpath);
			rc = -1;
			break;
		}
		crypto_sign_seed_keypair(k->pk, k->sk, seed);
		sodium_memzero(seed, sizeof seed);
		if (memcmp(k->pk, pk, 32) != 0) {
			fprintf(stderr, "txgen: %s: seed does not give the public key in members.txt\n", kpath);
			rc = -1;
			break;
		}
		n++;
	}
	fclose(f);
	if (rc == 0 && n == 0) {
		fprintf(stderr, "txgen: %s: no members\n", path);
		rc = -1;
	}
	if (rc != 0) {
		free(keys);
		return -1;
	}
	*out = keys;
	return (int)n;
}
