/* txgatectl: the operator's command line tool.
 *   txgatectl [OPTIONS] ledger [OPTIONS] COMMAND [ARGS]
 * Options may come before or after the area name. To take settings from a
 * config file later, add "-c CONFIG" in parse_opt() and fill the unset
 * fields of struct ctl_opts from it in resolve_opts(). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_ledger.h"

struct ctl_opts {
	const char *ledger; /* --ledger DIR */
	uint32_t chain_id;  /* --chain ID; 0 = any */
	int help;
};

static void usage(FILE *f)
{
	fputs("usage: txgatectl [-h] AREA [OPTIONS] COMMAND [ARGS]\n"
	      "areas:\n"
	      "  ledger   inspect, verify and back up a ledger (txgatectl ledger -h)\n\n",
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

/* Fill what the command line left unset (from a config file, later). */
static int resolve_opts(struct ctl_opts *o)
{
	(void)o;
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
	if (strcmp(area, "ledger") != 0) {
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
	return ctl_ledger_run(o.ledger, o.chain_id, argc - i, argv + i, stdout, stderr);
}
