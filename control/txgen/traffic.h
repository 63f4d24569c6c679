/* txgen pcap: signed transaction traffic with a manifest of what the
 * appliance should answer for every record, frame and packet. */
#ifndef TXGEN_TRAFFIC_H
#define TXGEN_TRAFFIC_H

#include <stdint.h>

#include "mix.h"
#include "pkt_build.h"

struct tg_opts {
	const char *keys_dir, *pcap_path, *manifest_path;
	uint32_t chain_id;
	uint64_t count;	     /* records */
	uint64_t seed;	     /* deterministic choices and payloads */
	uint64_t now_ms;     /* the clock expiry times are based on */
	uint64_t ttl_ms;     /* valid records expire at now + ttl_ms */
	uint64_t max_ttl_ms; /* the appliance's max_ttl */
	unsigned per_frame;  /* 2..255: most records in a multi frame */
	unsigned mtu;	     /* largest IP packet made (except deliberately bad ones) */
	unsigned unknown_keys;
	uint8_t flags; /* frame flags */
	int src_random; /* IPv4 packets: random source address and port per packet */
	double mix[TG_KIND_NUM];
	struct txg_pkt_spec v4, v6; /* the valid IPv4 and IPv6 paths */
};

/* Write the pcap and the manifest and print a summary to stderr.
 * 0, or -1 with a message on stderr. */
int tg_traffic(const struct tg_opts *o);

#endif
