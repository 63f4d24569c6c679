/* Telemetry client for txgatectl stats. */
#include "ctl_stats.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

void ctl_stats_socket_path(const char *prefix, char *out, size_t outlen)
{
	/* EAL's runtime directory: /var/run/dpdk for root, else XDG_RUNTIME_DIR or /tmp. */
	const char *base = "/var/run";
	if (getuid() != 0) {
		const char *x = getenv("XDG_RUNTIME_DIR");
		base = x ? x : "/tmp";
	}
	snprintf(out, outlen, "%s/dpdk/%s/dpdk_telemetry.v2", base, prefix ? prefix : "rte");
}

int ctl_stats_query(const char *path, const char *command, FILE *out, FILE *err)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(err, "txgatectl: socket path too long: %s\n", path);
		return 1;
	}
	strcpy(sun.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		fprintf(err, "txgatectl: cannot reach txgate's telemetry at %s: %s (is txgate running, with that --file-prefix?)\n",
			path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	static char buf[1 << 16];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0); /* the greeting: version, pid, max_output_len */
	if (n <= 0 || send(fd, command, strlen(command), 0) < 0 || (n = recv(fd, buf, sizeof(buf) - 1, 0)) <= 0) {
		fprintf(err, "txgatectl: telemetry at %s: no answer\n", path);
		close(fd);
		return 1;
	}
	close(fd);
	buf[n] = 0;
	if (strstr(buf, "\"null\"") || strstr(buf, ":null}")) {
		fprintf(err, "txgatectl: telemetry at %s does not know %s (not a txgate?)\n", path, command);
		return 1;
	}
	fprintf(out, "%s\n", buf);
	return 0;
}
