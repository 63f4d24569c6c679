/* txgatectl: the operator's command line tool.
 *   txgatectl [OPTIONS] ledger [OPTIONS] COMMAND [ARGS]
 *   txgatectl [OPTIONS] stats
 * Options may come before or after the area name; -c CONFIG takes the
 * ledger path, chain id and EAL file prefix from txgate's config. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ctl_ledger.h"
#include "ctl_stats.h"

struct ctl_opts {
	const char *ledger; /* --ledger DIR */
	uint32_t chain_id;  /* --chain ID; 0 = any */
	const char *config; /* -c CONFIG */
	const char *prefix; /* --prefix P: EAL file prefix of the txgate to ask */
	int help;
	struct txg_config cfg;
};

static void usage(FILE *f)
{
	fputs("usage: txgatectl [-h] AREA [OPTIONS] COMMAND [ARGS]\n"
	      "options:\n"
	      "  -c, --config FILE  take --ledger, --chain and --prefix from txgate's config\n"
	      "areas:\n"
	      "  ledger   inspect, verify and back up a ledger (txgatectl ledger -h)\n"
	      "  stats    a running txgate's counters, as JSON, from DPDK telemetry\n"
	      "           [--prefix P]: the EAL --file-prefix of that txgate (default rte)\n\n",
	      f);
	ctl_ledger_usage(f);
}

/* Option value of "--name VALUE" or "--name=VALUE" at argv[*i]; NULL if
 * argv[*i] is not that option. Sets *missing when the value is absent. */
static const char *opt_value(const char *name, int argc, char **argv, int *i, int *missing)
{
	const char *a = argv[*i];
	size_t n = strlen(name);
	if (strncmp(a, name, n) != 0)
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		*missing = 1;
		return NULL;
	}
	*i += 1;
	return argv[*i];
}

/* Parse one option at argv[*i]: 1 taken (and *i advanced past it), 0 not an
 * option, -1 bad option (message printed). */
static int parse_opt(int argc, char **argv, int *i, struct ctl_opts *o)
{
	const char *a = argv[*i];
	if (a[0] != '-')
		return 0;
	if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
		o->help = 1;
		*i += 1;
		return 1;
	}
	int missing = 0;
	const char *v;
	if ((v = opt_value("--ledger", argc, argv, i, &missing)) != NULL) {
		o->ledger = v;
	} else if ((v = opt_value("--config", argc, argv, i, &missing)) != NULL ||
		   (v = opt_value("-c", argc, argv, i, &missing)) != NULL) {
		o->config = v;
	} else if ((v = opt_value("--prefix", argc, argv, i, &missing)) != NULL) {
		o->prefix = v;
	} else if ((v = opt_value("--chain", argc, argv, i, &missing)) != NULL) {
		char *end;
		errno = 0;
		unsigned long long x = strtoull(v, &end, 0);
		if (errno || !*v || *end || *v == '-' || x > UINT32_MAX) {
			fprintf(stderr, "txgatectl: --chain: '%s' is not a chain id\n", v);
			return -1;
		}
		o->chain_id = (uint32_t)x;
	} else if (missing) {
		fprintf(stderr, "txgatectl: %s needs a value\n", a);
		return -1;
	} else {
		fprintf(stderr, "txgatectl: unknown option '%s'\n", a);
		return -1;
	}
	*i += 1;
	return 1;
}

/* Fill what the command line left unset from the config file, if any. */
static int resolve_opts(struct ctl_opts *o)
{
	if (!o->config)
		return 0;
	char err[1024];
	if (txg_config_load(o->config, &o->cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "txgatectl: %s\n", err);
		return -1;
	}
	if (!o->ledger)
		o->ledger = o->cfg.ledger_path;
	if (!o->chain_id)
		o->chain_id = o->cfg.chain_id;
	for (int k = 0; !o->prefix && k < o->cfg.eal_argc; k++) {
		const char *a = o->cfg.eal_argv[k];
		if (!strncmp(a, "--file-prefix=", 14))
			o->prefix = a + 14;
		else if (!strcmp(a, "--file-prefix") && k + 1 < o->cfg.eal_argc)
			o->prefix = o->cfg.eal_argv[k + 1];
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct ctl_opts o = {0};
	int i = 1, rc;
	while (i < argc && (rc = parse_opt(argc, argv, &i, &o)) != 0)
		if (rc < 0)
			return 2;
	if (i >= argc) {
		if (o.help) {
			usage(stdout);
			return 0;
		}
		fprintf(stderr, "txgatectl: no area given\n");
		usage(stderr);
		return 2;
	}
	const char *area = argv[i++];
	if (strcmp(area, "ledger") != 0 && strcmp(area, "stats") != 0) {
		fprintf(stderr, "txgatectl: unknown area '%s'\n", area);
		usage(stderr);
		return 2;
	}
	while (i < argc && (rc = parse_opt(argc, argv, &i, &o)) != 0)
		if (rc < 0)
			return 2;
	if (o.help) {
		ctl_ledger_usage(stdout);
		return 0;
	}
	if (resolve_opts(&o) != 0)
		return 2;
	if (!strcmp(area, "stats")) {
		if (i < argc) {
			fprintf(stderr, "txgatectl: stats takes no command ('%s')\n", argv[i]);
			return 2;
		}
		char path[256];
		ctl_stats_socket_path(o.prefix, path, sizeof(path));
		return ctl_stats_query(path, "/txgate/stats", stdout, stderr);
	}
	return ctl_ledger_run(o.ledger, o.chain_id, argc - i, argv + i, stdout, stderr);
}
