/* The consortium members file: one member per line, "name hexkey".
 * Format and errors are documented in docs/config.md. */
#ifndef TXG_MEMBERS_FILE_H
#define TXG_MEMBERS_FILE_H

#include <stddef.h>
#include <stdint.h>

#define TXG_MEMBER_NAME_MAX 63u	   /* characters of a member name */
#define TXG_MEMBERS_LINE_MAX 1024u /* bytes of one line, without its newline */
#define TXG_MEMBERS_FILE_MAX (64u << 20) /* bytes of a whole file */

#define TXG_QUOTA_RATE_MAX 10000000u /* transactions per second */
#define TXG_QUOTA_BURST_MAX 1000000u

/* Check a quota (rate 0: unlimited, burst then ignored): 0, or -1 with the
 * reason (rate over the limit; burst 0 or over the limit while rate is set). */
int txg_quota_check(uint32_t rate, uint32_t burst, char *err, size_t errlen);

struct txg_member_entry {
	char name[64];	/* 1..63 chars of [A-Za-z0-9_.:@-], NUL-terminated */
	uint8_t pk[32]; /* Ed25519 public key */
	unsigned line;	/* 1-based line in the file */
	uint8_t has_quota;    /* the optional "rate burst" fields were given */
	uint32_t rate, burst; /* its quota (rate 0: unlimited) when has_quota */
};

/* Parse the members file at path: one member per line, `name hexkey
 * [rate burst]` (key: 64 hex digits; rate and burst: the member's own quota,
 * decimal, checked by txg_quota_check), '#' starts a comment, blank lines ignored, CRLF accepted.
 * Every key must be a valid Ed25519 point (crypto_core_ed25519_is_valid_point).
 * Returns 0 with *out a malloc'd array of *n entries in file order (caller
 * frees), or -1 with "PATH:LINE: reason" (or "PATH: reason" for the file as
 * a whole) in err. */
int txg_members_file_load(const char *path, struct txg_member_entry **out, size_t *n, char *err, size_t errlen);

/* The same on text[0..len) (need not be NUL-terminated); fname is used in
 * messages. */
int txg_members_parse(const char *text, size_t len, const char *fname, struct txg_member_entry **out, size_t *n,
		      char *err, size_t errlen);

/* Replace the members file at path with e[0..n), one "name hexkey" line
 * each (with " rate burst" when has_quota) after a header comment, atomically: a temporary file next to it
 * (PATH.tmp.PID), written and fsync'd, renamed over path, then the
 * directory fsync'd. Comments of the old file are not kept. The new file
 * keeps the old one's permission bits (0644 when there was none). 0, or -1
 * with "PATH: reason" in err (the old file is then untouched). */
int txg_members_file_save(const char *path, const struct txg_member_entry *e, size_t n, char *err, size_t errlen);

/* Keep the default quota set at run time in MEMBERS_PATH.default-quota
 * ("RATE BURST"), written atomically like the members file. 0 or -1 (err). */
int txg_quota_default_save(const char *members_path, uint32_t rate, uint32_t burst, char *err, size_t errlen);
/* Read it back: 0 with *found 0 if there is none, 0 with *found 1 and the
 * quota, or -1 with err naming the file and the reason. */
int txg_quota_default_load(const char *members_path, uint32_t *rate, uint32_t *burst, int *found, char *err,
			   size_t errlen);

#endif
