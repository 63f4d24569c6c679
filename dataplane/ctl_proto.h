/* The control socket's protocol (docs/control.md): one JSON object per
 * line each way. Request parsing and answer building only, with jansson;
 * no DPDK, so the fuzz target (tests/fuzz/fuzz_ctl.c) links it alone. */
#ifndef TXG_CTL_PROTO_H
#define TXG_CTL_PROTO_H

#include <stddef.h>

#include <jansson.h>

#define TXG_CTL_VERSION 1
#define TXG_CTL_LINE_MAX 65536u /* bytes of one request line, without its newline */

enum txg_ctl_cmd {
	TXG_CMD_STATUS,
	TXG_CMD_STATS,
	TXG_CMD_MEMBERS_LIST,
	TXG_CMD_MEMBERS_ADD,	/* args: name, key */
	TXG_CMD_MEMBERS_REVOKE, /* args: member (a name or a hex key) */
	TXG_CMD_INGRESS_PAUSE,
	TXG_CMD_INGRESS_RESUME,
	TXG_CMD_DRAIN,
	TXG_CMD_LOG_LEVEL, /* args: level */
	TXG_CMD_QUOTA_SET,     /* args: name, rate, burst */
	TXG_CMD_QUOTA_DEFAULT, /* args: rate, burst */
	TXG_CMD_QUOTA_LIST,
	TXG_CMD_NUM
};

struct txg_ctl_req {
	json_t *root;	       /* owned */
	json_t *id;	       /* borrowed from root; NULL when absent */
	enum txg_ctl_cmd cmd;
	const char *cmd_name;  /* the protocol name, e.g. "members.add" */
	json_t *args;	       /* borrowed; an object (empty when absent) */
	int changes_state;     /* audited */
};

/* Parse and check one request line (no newline; need not be
 * NUL-terminated): a JSON object with "v": 1, a known "cmd", and "args"
 * holding exactly the command's string arguments. 0, or -1 with the reason
 * in err; r->id is then still set when the line was an object with an
 * "id", so that the error answer can carry it (free r in both cases). */
int txg_ctl_req_parse(const char *line, size_t len, struct txg_ctl_req *r, char *err, size_t errlen);
void txg_ctl_req_free(struct txg_ctl_req *r);
/* The string argument key of r (checked present by the parser). */
const char *txg_ctl_arg(const struct txg_ctl_req *r, const char *key);
/* Protocol name of a command. */
const char *txg_ctl_cmd_name(enum txg_ctl_cmd c);

/* Answer lines, malloc'd, newline-terminated, NUL-terminated; NULL only
 * when out of memory. id may be NULL (answered as null). result is stolen. */
char *txg_ctl_answer_ok(json_t *id, json_t *result);
char *txg_ctl_answer_err(json_t *id, const char *msg);

#endif
