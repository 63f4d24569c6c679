/* Control socket client for txgatectl: see ctl_client.h. */
#include "ctl_client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define ANSWER_MAX (64u << 20)

static int connect_to(const char *path, int timeout_s, FILE *err)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(err, "txgatectl: control socket path too long: %s\n", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		fprintf(err, "txgatectl: cannot connect to txgate's control socket %s: %s%s\n", path, strerror(errno),
			errno == EACCES ? " (not in the socket's group?)"
			: errno == ENOENT || errno == ECONNREFUSED ? " (is txgate running, with that [control] socket?)"
								   : "");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	struct timeval tv = {timeout_s, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

/* One line from fd (malloc'd, without the newline), or NULL. */
static char *read_line(int fd)
{
	size_t cap = 4096, len = 0;
	char *b = malloc(cap);
	while (b) {
		if (len + 1 >= cap) {
			if (cap >= ANSWER_MAX)
				break;
			char *nb = realloc(b, cap * 2);
			if (!nb)
				break;
			b = nb;
			cap *= 2;
		}
		ssize_t r = recv(fd, b + len, cap - 1 - len, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		char *nl = memchr(b + len, '\n', (size_t)r);
		len += (size_t)r;
		if (nl) {
			*nl = 0;
			return b;
		}
	}
	free(b);
	return NULL;
}

/* "a.b[2].c: value" lines for people. */
static void print_flat(FILE *out, const char *prefix, json_t *v)
{
	char key[512];
	if (json_is_object(v)) {
		const char *k;
		json_t *x;
		json_object_foreach(v, k, x)
		{
			snprintf(key, sizeof(key), "%s%s%s", prefix, *prefix ? "." : "", k);
			print_flat(out, key, x);
		}
	} else if (json_is_array(v)) {
		size_t i;
		json_t *x;
		json_array_foreach(v, i, x)
		{
			snprintf(key, sizeof(key), "%s[%zu]", prefix, i);
			print_flat(out, key, x);
		}
	} else if (json_is_string(v)) {
		fprintf(out, "%s: %s\n", prefix, json_string_value(v));
	} else {
		char *s = json_dumps(v, JSON_ENCODE_ANY);
		fprintf(out, "%s: %s\n", prefix, s ? s : "?");
		free(s);
	}
}

static void print_human(FILE *out, const char *cmd, json_t *res)
{
	if (!strcmp(cmd, "members.list")) {
		size_t i;
		json_t *m;
		json_array_foreach(json_object_get(res, "members"), i, m)
		fprintf(out, "%s %s\n", json_string_value(json_object_get(m, "name")),
			json_string_value(json_object_get(m, "key")));
		fprintf(out, "# %" JSON_INTEGER_FORMAT " member(s)\n", json_integer_value(json_object_get(res, "count")));
		return;
	}
	if (!strcmp(cmd, "quota.list")) {
		/* "NAME RATE BURST SOURCE" lines; rate 0 = unlimited. */
		json_t *d = json_object_get(res, "default");
		fprintf(out, "# default %" JSON_INTEGER_FORMAT " %" JSON_INTEGER_FORMAT " (tx/s, burst; 0 = unlimited), split over %" JSON_INTEGER_FORMAT " worker(s)\n",
			json_integer_value(json_object_get(d, "rate")), json_integer_value(json_object_get(d, "burst")),
			json_integer_value(json_object_get(res, "workers")));
		size_t i;
		json_t *m;
		json_array_foreach(json_object_get(res, "members"), i, m)
		fprintf(out, "%s %" JSON_INTEGER_FORMAT " %" JSON_INTEGER_FORMAT " %s\n",
			json_string_value(json_object_get(m, "name")), json_integer_value(json_object_get(m, "rate")),
			json_integer_value(json_object_get(m, "burst")), json_string_value(json_object_get(m, "source")));
		return;
	}
	print_flat(out, "", res);
}

int ctl_client_call(const char *path, const char *cmd, json_t *args, int json_out, FILE *out, FILE *err)
{
	json_t *req = json_pack("{s:i,s:i,s:s,s:o}", "id", 1, "v", 1, "cmd", cmd, "args", args ? args : json_object());
	char *line = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (!line) {
		fprintf(err, "txgatectl: out of memory\n");
		return 2;
	}
	/* A drain answers once the pipeline has stopped: wait longer. */
	int fd = connect_to(path, !strcmp(cmd, "drain") ? 600 : 60, err);
	if (fd < 0) {
		free(line);
		return 2;
	}
	size_t n = strlen(line);
	line[n] = '\n'; /* json_dumps leaves room for the NUL: reuse it */
	int sent = send(fd, line, n + 1, MSG_NOSIGNAL) == (ssize_t)(n + 1);
	free(line);
	char *ans = sent ? read_line(fd) : NULL;
	close(fd);
	if (!ans) {
		fprintf(err, "txgatectl: no answer from %s\n", path);
		return 2;
	}
	json_error_t je;
	json_t *a = json_loads(ans, 0, &je);
	if (!a || !json_is_object(a) || !json_is_boolean(json_object_get(a, "ok"))) {
		fprintf(err, "txgatectl: bad answer from %s: %.200s\n", path, ans);
		free(ans);
		json_decref(a);
		return 2;
	}
	free(ans);
	int rc = 0;
	if (json_is_true(json_object_get(a, "ok"))) {
		json_t *res = json_object_get(a, "result");
		if (json_out) {
			char *s = json_dumps(res, JSON_COMPACT | JSON_ENCODE_ANY);
			fprintf(out, "%s\n", s ? s : "null");
			free(s);
		} else {
			print_human(out, cmd, res);
		}
	} else {
		fprintf(err, "txgatectl: %s: %s\n", cmd, json_string_value(json_object_get(a, "error")));
		rc = 1;
	}
	json_decref(a);
	return rc;
}
