/* Data-path answers that keep the appliance reachable on a real L2: ARP
 * requests and IPv6 Neighbour Solicitations for our addresses, and ICMP /
 * ICMPv6 echo requests to them. Pure functions over byte buffers: no mbuf,
 * allocation, system call or lock, never a read outside [p, p + len) or a
 * write outside [out, out + cap). Workers call them per packet, on frames
 * the UDP parser did not take; the caller owns the TX buffer. See
 * docs/neighbours.md. */
#ifndef TXG_NEIGH_H
#define TXG_NEIGH_H

#include <stdint.h>

#include "bounds.h"
#include "pkt.h"

/* Every reply is zero-padded to the Ethernet minimum (without FCS). */
#define TXG_NEIGH_MIN_FRAME 60u
/* ARP reply and gratuitous ARP: 42 (46 tagged) bytes padded to 60. */
#define TXG_NEIGH_ARP_LEN 60u
/* Neighbour Advertisement with its target link-layer address option:
 * 14 + 40 + 32 bytes, 4 more with a VLAN tag. */
#define TXG_NEIGH_NA_LEN 86u
#define TXG_NEIGH_NA_LEN_TAGGED 90u
/* The largest reply any builder writes: an ICMPv6 echo reply to a tagged
 * request with a 65535-byte payload. An echo reply is never longer than
 * max(its request frame, TXG_NEIGH_MIN_FRAME); so a request held in one
 * mbuf always has a reply that fits one mbuf of the same size. */
#define TXG_NEIGH_REPLY_MAX (18u + 40u + 65535u)

/* Suggested limits (per worker per port, see txg_neigh_bucket). */
#define TXG_NEIGH_RESOLVE_RATE 1000u /* ARP / NS answers per second */
#define TXG_NEIGH_RESOLVE_BURST 64u
#define TXG_NEIGH_ECHO_RATE 200u /* echo answers per second */
#define TXG_NEIGH_ECHO_BURST 32u

/* Our side of a port: its MAC and the addresses answered for. Lists are
 * network-order bytes; a count of 0 answers nothing for that family
 * (unlike txg_pkt_filter, where 0 means any); a count over TXG_MAX_ADDRS
 * counts as TXG_MAX_ADDRS. */
struct txg_neigh_cfg {
	uint8_t mac[6];
	unsigned n_ipv4;
	uint8_t ipv4[TXG_MAX_ADDRS][4];
	unsigned n_ipv6;
	uint8_t ipv6[TXG_MAX_ADDRS][16];
};

/* What a received frame is to us. */
enum txg_neigh_kind {
	TXG_NEIGH_NONE = 0, /* none of the below: leave it to the caller's usual path */
	TXG_NEIGH_ARP,	    /* ARP request for one of our IPv4 addresses */
	TXG_NEIGH_NS,	    /* Neighbour Solicitation for one of our IPv6 addresses (incl. DAD) */
	TXG_NEIGH_ECHO4,    /* ICMP echo request to one of our IPv4 addresses */
	TXG_NEIGH_ECHO6,    /* ICMPv6 echo request to one of our IPv6 addresses */
	TXG_NEIGH_BAD,	    /* addressed to us as one of the above, but invalid (req.why says why) */
	TXG_NEIGH_KIND_NUM
};

/* Why a frame was TXG_NEIGH_BAD. */
enum txg_neigh_why {
	TXG_NW_OK = 0,
	TXG_NW_SHORT,	  /* IP / ICMP lengths exceed the frame, or leave no room for the message */
	TXG_NW_IP_HDR,	  /* IPv4 IHL < 5, or total length < IHL*4 + 8 */
	TXG_NW_IP_CSUM,	  /* IPv4 header checksum wrong */
	TXG_NW_L4_CSUM,	  /* ICMP / ICMPv6 checksum wrong */
	TXG_NW_CODE,	  /* ICMP code not 0 */
	TXG_NW_HOP_LIMIT, /* NS with IPv6 hop limit != 255 */
	TXG_NW_SRC,	  /* source unusable: group or zero MAC, sender/source IP multicast, ::, loopback... */
	TXG_NW_OPTION,	  /* NS option: zero length, overrun, bad or repeated source link-layer option, or one from :: */
	TXG_NW_TARGET,	  /* NS target ours but not the destination (or not in its solicited-node group) */
	TXG_NW_DAD_DST,	  /* NS from :: not sent to a solicited-node group */
	TXG_NW_NUM
};

/* A classified request: what the builders need. */
struct txg_neigh_req {
	enum txg_neigh_kind kind;
	enum txg_neigh_why why; /* TXG_NW_OK unless kind is TXG_NEIGH_BAD */
	uint8_t tagged;		/* one 802.1Q tag (kept in the reply) */
	uint16_t tci;		/* its TCI as received: PCP, DEI and VID */
	uint8_t dad;		/* NS from :: (duplicate address detection) */
	uint8_t addr;		/* index of the matched address in cfg's list of its family */
	uint8_t peer_mac[6];	/* destination MAC of the reply */
	uint32_t l3;		/* offset of the ARP / IP header */
	uint32_t l4;		/* offset of the ICMP / ICMPv6 message (IP kinds) */
	uint32_t l4_len;	/* its length per the IP header */
	uint32_t reply_len;	/* exact length of the reply (a request kind) */
};

/* Counter names of kind / why ("none", "arp", ... / "ok", "short", ...); "?" out of range. */
const char *txg_neigh_kind_name(unsigned k);
const char *txg_neigh_why_name(unsigned w);

/* Classify the frame p[0..len) (Ethernet II, at most one 802.1Q tag) for
 * cfg. Fills *r (r->kind is the result); checks every checksum in software. */
enum txg_neigh_kind txg_neigh_classify(const uint8_t *p, uint32_t len, const struct txg_neigh_cfg *cfg,
				       struct txg_neigh_req *r);

/* Write the reply to the request p[0..len) that r classified (for the same
 * cfg) into out (not overlapping p). Returns r->reply_len, or 0 if r is not
 * a request kind, does not fit p[0..len), or cap < r->reply_len. */
uint32_t txg_neigh_build_reply(uint8_t *out, uint32_t cap, const uint8_t *p, uint32_t len,
			       const struct txg_neigh_req *r, const struct txg_neigh_cfg *cfg);

/* Gratuitous ARP (RFC 5227 announcement: a broadcast request with sender =
 * target = cfg's IPv4 address i) with an 802.1Q tag of tci if tagged.
 * Returns TXG_NEIGH_ARP_LEN, or 0 if i is not in the list or cap is short. */
uint32_t txg_neigh_build_garp(uint8_t *out, uint32_t cap, const struct txg_neigh_cfg *cfg, unsigned i, int tagged,
			      uint16_t tci);

/* Unsolicited Neighbour Advertisement of cfg's IPv6 address i to ff02::1
 * (Override set, Solicited and Router clear). Returns TXG_NEIGH_NA_LEN(_TAGGED),
 * or 0 if i is not in the list or cap is short. */
uint32_t txg_neigh_build_unsol_na(uint8_t *out, uint32_t cap, const struct txg_neigh_cfg *cfg, unsigned i,
				  int tagged, uint16_t tci);

/* Fill c with mac and the addresses of f (the [net] lists). */
void txg_neigh_cfg_init(struct txg_neigh_cfg *c, const struct txg_pkt_filter *f, const uint8_t mac[6]);

/* A token bucket of rate tokens per second, holding at most burst. Each
 * worker owns the buckets of each port it answers on (one per worker per
 * port, never shared), so it takes no lock or atomic. Credit is kept in
 * 1/hz token units: exact integer arithmetic, no drift. */
struct txg_neigh_bucket {
	uint64_t hz;	     /* units of `now` per second: rte_get_tsc_hz(), or 1000 for ms */
	uint64_t rate;	     /* tokens per second */
	uint64_t cap;	     /* burst * hz */
	uint64_t credit;     /* tokens * hz */
	uint64_t last;	     /* time of the last refill */
	uint64_t full_after; /* a gap this long refills the bucket whatever it held */
};

/* Set b up full at time now. rate or burst 0: b never gives a token.
 * 0, or -1 if hz is 0 or burst * hz does not fit in 63 bits. */
int txg_neigh_bucket_init(struct txg_neigh_bucket *b, uint32_t rate, uint32_t burst, uint64_t hz, uint64_t now);

/* Take one token at time now (same units as hz; a now before the last
 * one refills nothing): 1 if taken (answer), 0 if empty (count limited). */
int txg_neigh_take(struct txg_neigh_bucket *b, uint64_t now);

/* A worker's limits on one port: address resolution and echo apart, so a
 * ping flood never starves ARP / NS answers. */
struct txg_neigh_limiter {
	struct txg_neigh_bucket resolve; /* ARP, NS */
	struct txg_neigh_bucket echo;	 /* ICMP / ICMPv6 echo */
};

/* txg_neigh_take on the bucket of kind k: 1 answer, 0 limited (or k is not a request kind). */
int txg_neigh_allow(struct txg_neigh_limiter *l, enum txg_neigh_kind k, uint64_t now);

/* Counters of the answers (one array per worker, like the pkt counters). */
enum txg_neigh_ctr {
	TXG_NC_ARP_REPLIES = 0, /* ARP replies sent */
	TXG_NC_NA_REPLIES,	/* solicited (and DAD) Neighbour Advertisements sent */
	TXG_NC_ECHO_REPLIES,	/* ICMP echo replies sent */
	TXG_NC_ECHO6_REPLIES,	/* ICMPv6 echo replies sent */
	TXG_NC_GARP_SENT,	/* gratuitous ARPs sent at port start */
	TXG_NC_UNSOL_NA_SENT,	/* unsolicited NAs sent at port start */
	TXG_NC_NEIGH_LIMITED,	/* ARP / NS requests not answered: resolve bucket empty */
	TXG_NC_ECHO_LIMITED,	/* echo requests not answered: echo bucket empty */
	TXG_NC_NEIGH_BAD,	/* TXG_NEIGH_BAD frames (malformed, bad checksum, ...) */
	TXG_NC_TX_FAIL,		/* replies built but not sent: no mbuf, no room, TX queue full */
	TXG_NC_NUM
};

/* Counter name of c ("arp_replies", ...); "?" if out of range. */
const char *txg_neigh_ctr_name(unsigned c);

/* The counter of a sent reply to kind k (TXG_NC_NUM for non-request kinds). */
enum txg_neigh_ctr txg_neigh_reply_ctr(enum txg_neigh_kind k);

#endif
