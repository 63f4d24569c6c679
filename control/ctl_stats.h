/* txgatectl stats: a running txgate's counters, read through DPDK's
 * telemetry socket (the /txgate/stats command). */
#ifndef TXG_CTL_STATS_H
#define TXG_CTL_STATS_H

#include <stdio.h>

/* Telemetry socket path of the EAL instance with file prefix `prefix`
 * (DPDK's default "rte" when NULL), as EAL places it for this user. */
void ctl_stats_socket_path(const char *prefix, char *out, size_t outlen);

/* Send `command` (e.g. "/txgate/stats") to the socket at path and print the
 * JSON reply on out. 0, or 1 with a message on err. */
int ctl_stats_query(const char *path, const char *command, FILE *out, FILE *err);

#endif
