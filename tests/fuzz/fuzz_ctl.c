/* libFuzzer target: the control socket's request parser and answer
 * builder (dataplane/ctl_proto.c). Any input: no crash, no leak, and an
 * answer line that is one JSON object without a raw newline inside. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_proto.h"

static void check_line(char *line)
{
	if (!line)
		return;
	size_t n = strlen(line);
	if (n == 0 || line[n - 1] != '\n' || memchr(line, '\n', n - 1))
		abort();
	json_error_t e;
	json_t *o = json_loads(line, 0, &e);
	if (!o || !json_is_object(o))
		abort();
	json_decref(o);
	free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct txg_ctl_req r;
	char err[1024];
	if (txg_ctl_req_parse((const char *)data, size, &r, err, sizeof(err)) == 0) {
		if (r.cmd >= TXG_CMD_NUM || !r.args || !json_is_object(r.args))
			abort();
		/* Every declared argument is a non-empty string. */
		const char *keys[] = {"name", "key", "member", "level"};
		for (size_t i = 0; i < 4; i++) {
			const char *v = txg_ctl_arg(&r, keys[i]);
			if (v && !*v)
				abort();
		}
		check_line(txg_ctl_answer_ok(r.id, json_pack("{s:s}", "cmd", txg_ctl_cmd_name(r.cmd))));
	} else {
		if (strlen(err) == 0)
			abort();
		check_line(txg_ctl_answer_err(r.id, err));
	}
	txg_ctl_req_free(&r);
	return 0;
}
