/* Member keys for txgen: key files (DIR/<name>.key holds the 32-byte
 * Ed25519 seed as one line of hex, mode 0600) and the members file
 * (DIR/members.txt: "name hexkey" per line, '#' comments, blank lines). */
#ifndef TXGEN_KEYS_H
#define TXGEN_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define TG_NAME_MAX 64

struct tg_key {
	char name[TG_NAME_MAX];
	uint8_t pk[32];
	uint8_t sk[64]; /* libsodium secret key (seed || pk) */
};

/* 1 if name is usable as a member and file name: 1..63 of [A-Za-z0-9_.-], not starting with '.'. */
int tg_name_ok(const char *name);

/* Create dir if missing and write count keys <prefix>1..<prefix>count and
 * members.txt; refuses if dir/members.txt exists unless force. Seeds come from libsodium's randombytes, or, if
 * deterministic is set, from seed (for tests only). 0, or -1 with a
 * message on stderr. */
int tg_keygen(const char *dir, unsigned count, const char *prefix, int force, int deterministic, uint64_t seed);

/* Load every member of dir/members.txt with its dir/<name>.key, checking
 * that the seed gives the listed public key. *keys is malloc'd. Returns
 * the number loaded (>= 1), or -1 with a message on stderr. */
int tg_load_keys(const char *dir, struct tg_key **keys);

#endif
