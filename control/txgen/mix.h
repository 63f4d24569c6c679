/* The kinds of traffic txgen makes and the weighted mix between them. */
#ifndef TXGEN_MIX_H
#define TXGEN_MIX_H

enum tg_kind {
	/* record kinds: each record counts towards --count */
	TG_VALID,	  /* one valid record in a frame: committed */
	TG_MULTI,	  /* a frame of 2..K valid records: committed */
	TG_DUP,		  /* exact copy of an earlier valid record: duplicate */
	TG_FORGED,	  /* a later valid body with a wrong signature, sent first: bad_signature */
	TG_BAD_SIG,	  /* fresh body, corrupted signature: bad_signature */
	TG_EXPIRED,	  /* expires_ms <= now: expired */
	TG_TOO_FAR,	  /* expires_ms > now + max_ttl: expiry_too_far */
	TG_UNKNOWN,	  /* signed by a non-member key: unknown_sender */
	TG_WRONG_CHAIN,	  /* another chain id: wrong_chain */
	TG_REC_MALFORMED, /* body version 2 or flags != 0, signed: malformed */
	TG_VLAN,	  /* valid, 802.1Q tagged: committed */
	TG_IPV6,	  /* valid, over IPv6: committed */
	/* frame-level malformed: the whole frame is dropped */
	TG_FRAME_BAD_MAGIC,
	TG_FRAME_BAD_VERSION,
	TG_FRAME_BAD_FLAGS,
	TG_FRAME_BAD_COUNT,
	TG_FRAME_BODY_SHORT,
	TG_FRAME_OVERRUN,
	TG_FRAME_TRAILING,
	/* packet-level: the packet is dropped by the parser */
	TG_PKT_IP_CSUM,
	TG_PKT_UDP_CSUM,
	TG_PKT_IP_FRAG,
	TG_PKT_DST_PORT,
	TG_PKT_DST_ADDR,
	TG_PKT_NOT_UDP,
	TG_PKT_SHORT,
	TG_PKT_NOT_IP,
	TG_PKT_VLAN_STACKED,
	TG_PKT_IP_BAD_HDR,
	TG_PKT_UDP_LEN,
	TG_PKT_UDP6_ZERO_CSUM, /* IPv6, UDP checksum 0 (RFC 8200): counted as pkt_udp_csum */
	TG_KIND_NUM
};

#define TG_FIRST_FRAME_KIND TG_FRAME_BAD_MAGIC
#define TG_FIRST_PKT_KIND TG_PKT_IP_CSUM

/* Name of a kind as used by --mix and the manifest ("valid", "frame_bad_magic", "pkt_ip_csum", ...). */
const char *tg_kind_name(enum tg_kind k);
/* The manifest's expect of a frame- or packet-level kind: the appliance's drop
 * counter (the kind's name; "pkt_udp_csum" for pkt_udp6_zero_csum). NULL for record kinds. */
const char *tg_kind_expect(enum tg_kind k);
/* The frame error a frame-level kind makes (TXG_FE_OK for other kinds). */
unsigned tg_kind_frame_err(enum tg_kind k);
/* 1 for kinds whose manifest lines are records (count towards --count). */
static inline int tg_kind_is_record(enum tg_kind k) { return k < TG_FIRST_FRAME_KIND; }

/* Fill w[TG_KIND_NUM] with the default mix (about 70% of records committed,
 * about 2% of frames malformed at frame or packet level). */
void tg_mix_default(double *w);

/* Set w from "item,item,...": every kind starts at 0; "default" sets the
 * default mix, "all=W" every kind, "kind=W" one kind (W >= 0, may be
 * fractional), applied left to right. 0, or -1 with a message on stderr. */
int tg_mix_parse(const char *spec, double *w);

#endif
