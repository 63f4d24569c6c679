/* txgen: member keys and signed transaction traffic (pcap + manifest) for
 * txgate. See docs/txgen.md. */
#include <arpa/inet.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keys.h"
#include "mix.h"
#include "traffic.h"
#include "wire.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage:\n"
		"  txgen keygen --out DIR --count N [--prefix member] [--seed S] [--force]\n"
		"  txgen pcap --keys DIR --chain ID --out FILE.pcap --manifest FILE.tsv\n"
		"             [--count N] [--seed S] [--now-ms T] [--ttl-ms T] [--max-ttl-ms M]\n"
		"             [--per-frame K] [--mtu B] [--mix LIST] [--flags N] [--unknown-keys N]\n"
		"             [--dst-ip A] [--src-ip A] [--dst-ip6 A] [--src-ip6 A] [--port P] [--src-port P]\n"
		"             [--src-random]\n"
		"kinds for --mix (kind=weight,...; 'default' = the default mix):\n ");
	for (int k = 0; k < TG_KIND_NUM; k++)
		fprintf(f, " %s%s", tg_kind_name((enum tg_kind)k), (k % 6 == 5 && k + 1 < TG_KIND_NUM) ? "\n " : "");
	fprintf(f, "\n");
}

/* Decimal or 0x-hex unsigned number up to max. */
static int num(const char *opt, const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	int base = (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? 16 : 10;
	unsigned long long v = strtoull(s + (base == 16 ? 2 : 0), &end, base);
	if (!*s || *end || s[0] == '-' || s[0] == '+' || v > max || (base == 16 && !s[2])) {
		fprintf(stderr, "txgen: --%s: '%s' is not a number in 0..%llu\n", opt, s, (unsigned long long)max);
		return -1;
	}
	*out = v;
	return 0;
}

static int cmd_keygen(int argc, char **argv)
{
	static const struct option lo[] = {{"out", required_argument, 0, 'o'},	  {"count", required_argument, 0, 'n'},
					   {"prefix", required_argument, 0, 'p'}, {"seed", required_argument, 0, 's'},
					   {"force", no_argument, 0, 'f'},	  {"help", no_argument, 0, 'h'},
					   {0, 0, 0, 0}};
	const char *out = NULL, *prefix = "member";
	uint64_t count = 0, seed = 0;
	int have_count = 0, det = 0, force = 0, c;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'n':
			if (num("count", optarg, 1000000, &count) != 0)
				return 2;
			have_count = 1;
			break;
		case 'p':
			prefix = optarg;
			break;
		case 's':
			if (num("seed", optarg, UINT64_MAX, &seed) != 0)
				return 2;
			det = 1;
			break;
		case 'f':
			force = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!out || !have_count || count == 0 || optind != argc) {
		fprintf(stderr, "txgen keygen: needs --out DIR and --count N (N >= 1)\n");
		return 2;
	}
	return tg_keygen(out, (unsigned)count, prefix, force, det, seed) == 0 ? 0 : 1;
}

static int addr(const char *opt, int af, const char *s, uint8_t *out)
{
	if (inet_pton(af, s, out) != 1) {
		fprintf(stderr, "txgen: --%s: '%s' is not an IPv%d address\n", opt, s, af == AF_INET ? 4 : 6);
		return -1;
	}
	return 0;
}

static int cmd_pcap(int argc, char **argv)
{
	enum { O_KEYS = 256, O_CHAIN, O_OUT, O_MAN, O_COUNT, O_SEED, O_NOW, O_TTL, O_MAXTTL, O_PERFRAME, O_MTU, O_MIX,
	       O_FLAGS, O_UNK, O_DST, O_SRC, O_DST6, O_SRC6, O_PORT, O_SPORT, O_SRCRAND, O_HELP };
	static const struct option lo[] = {
		{"keys", required_argument, 0, O_KEYS},	       {"chain", required_argument, 0, O_CHAIN},
		{"out", required_argument, 0, O_OUT},	       {"manifest", required_argument, 0, O_MAN},
		{"count", required_argument, 0, O_COUNT},      {"seed", required_argument, 0, O_SEED},
		{"now-ms", required_argument, 0, O_NOW},       {"ttl-ms", required_argument, 0, O_TTL},
		{"max-ttl-ms", required_argument, 0, O_MAXTTL}, {"per-frame", required_argument, 0, O_PERFRAME},
		{"mtu", required_argument, 0, O_MTU},	       {"mix", required_argument, 0, O_MIX},
		{"flags", required_argument, 0, O_FLAGS},      {"unknown-keys", required_argument, 0, O_UNK},
		{"dst-ip", required_argument, 0, O_DST},       {"src-ip", required_argument, 0, O_SRC},
		{"dst-ip6", required_argument, 0, O_DST6},     {"src-ip6", required_argument, 0, O_SRC6},
		{"port", required_argument, 0, O_PORT},	       {"src-port", required_argument, 0, O_SPORT},
		{"src-random", no_argument, 0, O_SRCRAND},    {"help", no_argument, 0, O_HELP},
		{0, 0, 0, 0}};
	struct tg_opts o;
	memset(&o, 0, sizeof o);
	o.count = 10000;
	o.seed = 1;
	o.ttl_ms = 60000;
	o.max_ttl_ms = 120000;
	o.per_frame = 8;
	o.mtu = 1500;
	o.unknown_keys = 4;
	tg_mix_default(o.mix);
	static const uint8_t smac[6] = {0x02, 0, 0, 0, 0, 0x02}, dmac[6] = {0x02, 0, 0, 0, 0, 0x01};
	struct txg_pkt_spec *v4 = &o.v4, *v6 = &o.v6;
	memcpy(v4->src_mac, smac, 6);
	memcpy(v4->dst_mac, dmac, 6);
	v4->af = 4;
	v4->sport = 40000;
	v4->dport = TXG_DEFAULT_UDP_PORT;
	inet_pton(AF_INET, "10.0.0.2", v4->src);
	inet_pton(AF_INET, "10.0.0.1", v4->dst);
	*v6 = *v4;
	v6->af = 6;
	inet_pton(AF_INET6, "fd00::2", v6->src);
	inet_pton(AF_INET6, "fd00::1", v6->dst);
	int have_chain = 0, have_now = 0, c;
	uint64_t v;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		int bad = 0;
		switch (c) {
		case O_KEYS:
			o.keys_dir = optarg;
			break;
		case O_CHAIN:
			bad = num("chain", optarg, UINT32_MAX, &v);
			o.chain_id = (uint32_t)v;
			have_chain = 1;
			break;
		case O_OUT:
			o.pcap_path = optarg;
			break;
		case O_MAN:
			o.manifest_path = optarg;
			break;
		case O_COUNT:
			bad = num("count", optarg, 100000000, &o.count);
			break;
		case O_SEED:
			bad = num("seed", optarg, UINT64_MAX, &o.seed);
			break;
		case O_NOW:
			bad = num("now-ms", optarg, UINT64_MAX / 4, &o.now_ms);
			have_now = 1;
			break;
		case O_TTL:
			bad = num("ttl-ms", optarg, UINT64_MAX / 4, &o.ttl_ms);
			break;
		case O_MAXTTL:
			bad = num("max-ttl-ms", optarg, UINT64_MAX / 4, &o.max_ttl_ms);
			break;
		case O_PERFRAME:
			bad = num("per-frame", optarg, TXG_FRAME_MAX_RECS, &v);
			o.per_frame = (unsigned)v;
			break;
		case O_MTU:
			bad = num("mtu", optarg, 9000, &v);
			o.mtu = (unsigned)v;
			break;
		case O_MIX:
			bad = tg_mix_parse(optarg, o.mix);
			break;
		case O_FLAGS:
			bad = num("flags", optarg, 255, &v);
			o.flags = (uint8_t)v;
			break;
		case O_UNK:
			bad = num("unknown-keys", optarg, 1000, &v);
			o.unknown_keys = (unsigned)v;
			break;
		case O_DST:
			bad = addr("dst-ip", AF_INET, optarg, v4->dst);
			break;
		case O_SRC:
			bad = addr("src-ip", AF_INET, optarg, v4->src);
			break;
		case O_DST6:
			bad = addr("dst-ip6", AF_INET6, optarg, v6->dst);
			break;
		case O_SRC6:
			bad = addr("src-ip6", AF_INET6, optarg, v6->src);
			break;
		case O_PORT:
			bad = num("port", optarg, 65535, &v);
			v4->dport = v6->dport = (uint16_t)v;
			break;
		case O_SPORT:
			bad = num("src-port", optarg, 65535, &v);
			v4->sport = v6->sport = (uint16_t)v;
			break;
		case O_SRCRAND:
			o.src_random = 1;
			break;
		case O_HELP:
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
		if (bad)
			return 2;
	}
	const char *why = NULL;
	if (!o.keys_dir || !have_chain || !o.pcap_path || !o.manifest_path || optind != argc)
		why = "needs --keys DIR --chain ID --out FILE.pcap --manifest FILE.tsv";
	else if (o.count == 0)
		why = "--count must be at least 1";
	else if (o.per_frame < 2)
		why = "--per-frame must be 2..255";
	else if (o.mtu < 1280)
		why = "--mtu must be 1280..9000";
	else if (o.flags & ~(TXG_FRAME_F_RECEIPT | TXG_FRAME_F_ADMIT))
		why = "--flags may only have bits 0 (RECEIPT) and 1 (ADMIT)";
	else if (o.ttl_ms == 0 || o.ttl_ms > o.max_ttl_ms)
		why = "--ttl-ms must be 1..max-ttl-ms, or valid records would not be valid";
	else if (o.mix[TG_UNKNOWN] > 0 && o.unknown_keys == 0)
		why = "--unknown-keys 0 leaves kind 'unknown' without a key";
	else if (v4->dport == 0 || v4->sport == 0)
		why = "--port and --src-port must not be 0";
	if (why) {
		fprintf(stderr, "txgen pcap: %s\n", why);
		return 2;
	}
	if (!have_now) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		o.now_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	}
	if (o.now_ms == 0) {
		fprintf(stderr, "txgen pcap: --now-ms must be at least 1\n");
		return 2;
	}
	return tg_traffic(&o) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (sodium_init() < 0) {
		fprintf(stderr, "txgen: libsodium failed to start\n");
		return 1;
	}
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "keygen") == 0)
		return cmd_keygen(argc - 1, argv + 1);
	if (strcmp(cmd, "pcap") == 0)
		return cmd_pcap(argc - 1, argv + 1);
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "txgen: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
}
