/* Control protocol: see ctl_proto.h and docs/control.md. */
#include "ctl_proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	const char *args[4]; /* required string arguments, NULL-terminated */
	int changes_state;
} cmds[TXG_CMD_NUM] = {
	[TXG_CMD_STATUS] = {"status", {NULL}, 0},
	[TXG_CMD_STATS] = {"stats", {NULL}, 0},
	[TXG_CMD_MEMBERS_LIST] = {"members.list", {NULL}, 0},
	[TXG_CMD_MEMBERS_ADD] = {"members.add", {"name", "key", NULL}, 1},
	[TXG_CMD_MEMBERS_REVOKE] = {"members.revoke", {"member", NULL}, 1},
	[TXG_CMD_INGRESS_PAUSE] = {"ingress.pause", {NULL}, 1},
	[TXG_CMD_INGRESS_RESUME] = {"ingress.resume", {NULL}, 1},
	[TXG_CMD_DRAIN] = {"drain", {NULL}, 1},
	[TXG_CMD_LOG_LEVEL] = {"log-level", {"level", NULL}, 1},
	[TXG_CMD_QUOTA_SET] = {"quota.set", {"name", "rate", "burst", NULL}, 1},
	[TXG_CMD_QUOTA_DEFAULT] = {"quota.default", {"rate", "burst", NULL}, 1},
	[TXG_CMD_QUOTA_LIST] = {"quota.list", {NULL}, 0},
};

const char *txg_ctl_cmd_name(enum txg_ctl_cmd c) { return c < TXG_CMD_NUM ? cmds[c].name : "?"; }

void txg_ctl_req_free(struct txg_ctl_req *r)
{
	json_decref(r->root);
	memset(r, 0, sizeof(*r));
}

const char *txg_ctl_arg(const struct txg_ctl_req *r, const char *key)
{
	return json_string_value(json_object_get(r->args, key));
}

int txg_ctl_req_parse(const char *line, size_t len, struct txg_ctl_req *r, char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	if (len > TXG_CTL_LINE_MAX) {
		snprintf(err, errlen, "request line over %u bytes", TXG_CTL_LINE_MAX);
		return -1;
	}
	json_error_t je;
	r->root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	if (!r->root) {
		snprintf(err, errlen, "malformed JSON: %s (column %d)", je.text, je.column);
		return -1;
	}
	if (!json_is_object(r->root)) {
		snprintf(err, errlen, "a request must be a JSON object");
		return -1;
	}
	json_t *id = json_object_get(r->root, "id");
	if (id && (json_is_string(id) || json_is_integer(id) || json_is_null(id)))
		r->id = id;
	else if (id) {
		snprintf(err, errlen, "id: must be a string, an integer or null");
		return -1;
	}
	json_t *v = json_object_get(r->root, "v");
	if (!v) {
		snprintf(err, errlen, "v: missing (the protocol version, %d)", TXG_CTL_VERSION);
		return -1;
	}
	if (!json_is_integer(v) || json_integer_value(v) != TXG_CTL_VERSION) {
		snprintf(err, errlen, "v: unsupported protocol version (this txgate speaks %d)", TXG_CTL_VERSION);
		return -1;
	}
	const char *key;
	json_t *val;
	json_object_foreach(r->root, key, val)
	{
		if (strcmp(key, "id") && strcmp(key, "v") && strcmp(key, "cmd") && strcmp(key, "args")) {
			snprintf(err, errlen, "unknown request key '%.64s'", key);
			return -1;
		}
	}
	json_t *cmd = json_object_get(r->root, "cmd");
	if (!json_is_string(cmd)) {
		snprintf(err, errlen, "cmd: missing or not a string");
		return -1;
	}
	const char *name = json_string_value(cmd);
	size_t nlen = json_string_length(cmd);
	unsigned c;
	for (c = 0; c < TXG_CMD_NUM; c++)
		if (strlen(cmds[c].name) == nlen && !memcmp(cmds[c].name, name, nlen))
			break;
	if (c == TXG_CMD_NUM) {
		snprintf(err, errlen, "unknown command '%.64s'", name);
		return -1;
	}
	r->cmd = (enum txg_ctl_cmd)c;
	r->cmd_name = cmds[c].name;
	r->changes_state = cmds[c].changes_state;
	json_t *args = json_object_get(r->root, "args");
	if (!args) {
		args = json_object();
		if (!args || json_object_set_new(r->root, "args", args) != 0) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	} else if (!json_is_object(args)) {
		snprintf(err, errlen, "args: must be an object");
		return -1;
	}
	r->args = args;
	size_t want = 0;
	for (; cmds[c].args[want]; want++) {
		json_t *a = json_object_get(args, cmds[c].args[want]);
		if (!json_is_string(a)) {
			snprintf(err, errlen, "%s: args.%s: missing or not a string", cmds[c].name, cmds[c].args[want]);
			return -1;
		}
		if (strlen(json_string_value(a)) != json_string_length(a) || json_string_length(a) == 0) {
			snprintf(err, errlen, "%s: args.%s: empty or holds a NUL", cmds[c].name, cmds[c].args[want]);
			return -1;
		}
	}
	if (json_object_size(args) != want) {
		json_object_foreach(args, key, val)
		{
			size_t k;
			for (k = 0; k < want && strcmp(key, cmds[c].args[k]); k++)
				;
			if (k == want) {
				snprintf(err, errlen, "%s: unknown argument '%.64s'", cmds[c].name, key);
				return -1;
			}
		}
	}
	return 0;
}

static char *answer(json_t *o)
{
	if (!o)
		return NULL;
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!s)
		return NULL;
	size_t n = strlen(s);
	char *line = realloc(s, n + 2);
	if (!line) {
		free(s);
		return NULL;
	}
	line[n] = '\n';
	line[n + 1] = 0;
	return line;
}

char *txg_ctl_answer_ok(json_t *id, json_t *result)
{
	return answer(json_pack("{s:O?,s:i,s:b,s:o}", "id", id, "v", TXG_CTL_VERSION, "ok", 1, "result",
				result ? result : json_object()));
}

char *txg_ctl_answer_err(json_t *id, const char *msg)
{
	json_t *e = json_string(msg);
	if (!e) /* not UTF-8 (a name cut short in the message) */
		e = json_string("bad request");
	return answer(json_pack("{s:O?,s:i,s:b,s:o}", "id", id, "v", TXG_CTL_VERSION, "ok", 0, "error", e));
}
