/* txgatectl: the operator's command line tool.
 *   txgatectl [OPTIONS] ledger [OPTIONS] COMMAND [ARGS]
 *   txgatectl [OPTIONS] stats
 *   txgatectl [OPTIONS] status|members ...|ingress pause|resume|drain|log-level L|quota ...
 *     (txgate's control socket, docs/control.md)
 * Options may come before or after the area name; -c CONFIG takes the
 * ledger path, chain id and EAL file prefix from txgate's config. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ctl_client.h"
#include "ctl_ledger.h"
#include "ctl_stats.h"

struct ctl_opts {
	const char *ledger; /* --ledger DIR */
	uint32_t chain_id;  /* --chain ID; 0 = any */
	const char *config; /* -c CONFIG */
	const char *prefix; /* --prefix P: EAL file prefix of the txgate to ask */
	const char *socket; /* --socket PATH: txgate's control socket */
	int json;	    /* --json: the raw result */
	int telemetry;	    /* --telemetry: stats from DPDK telemetry */
	int prefix_given;   /* --prefix was on the command line */
	int resolved;	    /* the config was read */
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
	      "  stats    a running txgate's counters and per-port NIC statistics (control socket);\n"
	      "           from DPDK telemetry as JSON instead with --telemetry or --prefix P (the EAL\n"
	      "           --file-prefix of that txgate), or when no control socket is configured\n"
	      "control socket areas (txgate's [control] socket, or --socket PATH; --json: the raw result):\n"
	      "  status                      state, uptime, ledger head, rates, workers, ports\n"
	      "  members list                the members now accepted\n"
	      "  members add NAME HEXKEY     add a member now (and to the members file)\n"
	      "  members revoke NAME|HEXKEY  revoke a member now (and from the members file)\n"
	      "  ingress pause|resume        answer every record overloaded / accept again\n"
	      "  drain                       stop as on SIGTERM; answered once drained\n"
	      "  log-level LEVEL             debug, info, notice, warning or error\n"
	      "  quota list                  every member's quota (tx/s, burst) and the default\n"
	      "  quota set NAME RATE BURST   a member's own quota (0 0 = unlimited; kept in the members file)\n"
	      "  quota default RATE BURST    the quota of members without their own (until restart)\n"
	      "exit status: 0 ok, 1 txgate refused (error answer), 2 usage or connection error\n\n",
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
		o->prefix_given = 1;
	} else if ((v = opt_value("--socket", argc, argv, i, &missing)) != NULL) {
		o->socket = v;
	} else if (!strcmp(a, "--json")) {
		o->json = 1;
	} else if (!strcmp(a, "--telemetry")) {
		o->telemetry = 1;
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
	if (!o->config || o->resolved)
		return 0;
	o->resolved = 1;
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

/* The control socket areas: the rest of argv holds the command's words
 * and options in any order. */
static int control_main(struct ctl_opts *o, const char *area, int argc, char **argv, int i)
{
	const char *w[4];
	int nw = 0, rc;
	while (i < argc) {
		if ((rc = parse_opt(argc, argv, &i, o)) < 0)
			return 2;
		if (rc == 0) {
			if (nw == 4) {
				fprintf(stderr, "txgatectl: %s: too many arguments\n", area);
				return 2;
			}
			w[nw++] = argv[i++];
		}
	}
	if (o->help) {
		usage(stdout);
		return 0;
	}
	if (!o->socket && o->config && resolve_opts(o) != 0)
		return 2;
	const char *path = o->socket ? o->socket : o->config ? o->cfg.ctl_socket : TXG_CTL_SOCKET_DEFAULT;
	if (!*path) {
		fprintf(stderr, "txgatectl: %s has no control socket ([control] socket is empty)\n", o->config);
		return 2;
	}
	const char *cmd = NULL;
	json_t *args = NULL;
	if (!strcmp(area, "status") && nw == 0)
		cmd = "status";
	else if (!strcmp(area, "stats") && nw == 0)
		cmd = "stats";
	else if (!strcmp(area, "drain") && nw == 0)
		cmd = "drain";
	else if (!strcmp(area, "members") && nw == 1 && !strcmp(w[0], "list"))
		cmd = "members.list";
	else if (!strcmp(area, "members") && nw == 3 && !strcmp(w[0], "add")) {
		cmd = "members.add";
		args = json_pack("{s:s,s:s}", "name", w[1], "key", w[2]);
	} else if (!strcmp(area, "members") && nw == 2 && !strcmp(w[0], "revoke")) {
		cmd = "members.revoke";
		args = json_pack("{s:s}", "member", w[1]);
	} else if (!strcmp(area, "ingress") && nw == 1 && !strcmp(w[0], "pause"))
		cmd = "ingress.pause";
	else if (!strcmp(area, "ingress") && nw == 1 && !strcmp(w[0], "resume"))
		cmd = "ingress.resume";
	else if (!strcmp(area, "log-level") && nw == 1) {
		cmd = "log-level";
		args = json_pack("{s:s}", "level", w[0]);
	} else if (!strcmp(area, "quota") && nw == 1 && !strcmp(w[0], "list"))
		cmd = "quota.list";
	else if (!strcmp(area, "quota") && nw == 4 && !strcmp(w[0], "set")) {
		cmd = "quota.set";
		args = json_pack("{s:s,s:s,s:s}", "name", w[1], "rate", w[2], "burst", w[3]);
	} else if (!strcmp(area, "quota") && nw == 3 && !strcmp(w[0], "default")) {
		cmd = "quota.default";
		args = json_pack("{s:s,s:s}", "rate", w[1], "burst", w[2]);
	}
	if (!cmd || ((!strcmp(cmd, "members.add") || !strcmp(cmd, "members.revoke") || !strcmp(cmd, "log-level") ||
		      !strcmp(cmd, "quota.set") || !strcmp(cmd, "quota.default")) &&
		     !args)) {
		fprintf(stderr, "txgatectl: %s: bad command or arguments (txgatectl -h)\n", area);
		json_decref(args);
		return 2;
	}
	return ctl_client_call(path, cmd, args, o->json, stdout, stderr);
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
	static const char *const ctl_areas[] = {"status", "members", "ingress", "drain", "log-level", "quota"};
	for (size_t k = 0; k < sizeof(ctl_areas) / sizeof(ctl_areas[0]); k++)
		if (!strcmp(area, ctl_areas[k]))
			return control_main(&o, area, argc, argv, i);
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
	if (!strcmp(area, "stats") && !o.telemetry && !o.prefix_given && (o.socket || o.cfg.ctl_socket_set))
		return control_main(&o, area, argc, argv, i);
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
