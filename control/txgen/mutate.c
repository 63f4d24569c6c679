/* Frame and packet corruptions. */
#include "mutate.h"

#include <string.h>

int tg_frame_corrupt(uint8_t *buf, size_t *len, size_t cap, unsigned n, enum txg_frame_err err, struct tg_rng *r)
{
	/* Offsets of the records' body_len fields. */
	size_t off[8], o = TXG_FRAME_HDR_LEN;
	if (n == 0 || n > 8)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		off[i] = o;
		o += (size_t)txg_ld16(buf + o) + TXG_REC_OVERHEAD;
	}
	switch (err) {
	case TXG_FE_MAGIC:
		buf[tg_rng_below(r, 4)] ^= (uint8_t)tg_rng_range(r, 1, 255);
		break;
	case TXG_FE_VERSION:
		buf[4] = tg_rng_below(r, 2) ? 0 : (uint8_t)tg_rng_range(r, 2, 255);
		break;
	case TXG_FE_FLAGS:
		/* One of the bits still unknown (3..7) and any others, COOKIE (bit 2)
		 * included: the unknown bit is judged first, so no cookie is needed. */
		buf[5] |= (uint8_t)(1u << tg_rng_range(r, 3, 7)) | (uint8_t)(tg_rng_next(r) & 0xfc);
		break;
	case TXG_FE_COUNT:
		txg_st16(buf + 6, tg_rng_below(r, 2) ? 0 : (uint16_t)tg_rng_range(r, 256, 65535));
		break;
	case TXG_FE_BODY_SHORT:
		txg_st16(buf + off[tg_rng_below(r, n)], (uint16_t)tg_rng_below(r, TXG_BODY_MIN));
		break;
	case TXG_FE_OVERRUN:
		if (tg_rng_below(r, 2)) {
			txg_st16(buf + 6, (uint16_t)(n + 1)); /* a record more than there is */
		} else {
			uint16_t bl = txg_ld16(buf + off[n - 1]);
			uint32_t nb = bl + (uint32_t)tg_rng_range(r, 1, 64);
			txg_st16(buf + off[n - 1], (uint16_t)(nb > 0xffff ? 0xffff : nb));
		}
		break;
	case TXG_FE_TRAILING: {
		size_t extra = (size_t)tg_rng_range(r, 1, 60);
		if (*len + extra > cap)
			return -1;
		tg_rng_bytes(r, buf + *len, extra);
		*len += extra;
		break;
	}
	default:
		return -1;
	}
	struct txg_frame_view fv;
	static struct txg_rec_view rv[TXG_FRAME_MAX_RECS];
	return txg_frame_parse(buf, *len, &fv, rv) == err ? 0 : -1;
}

static void put16be(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16be(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* Recompute the IPv4 header checksum over 20 bytes. */
static void ip_csum_fix(uint8_t *ip)
{
	put16be(ip + 10, 0);
	put16be(ip + 10, txg_inet_csum(ip, 20, 0));
}

unsigned tg_pkt_bad_af(enum tg_kind k) { return k == TG_PKT_UDP6_ZERO_CSUM ? 6 : 4; }

size_t tg_pkt_build_bad(uint8_t *out, size_t cap, const struct txg_pkt_spec *s, enum tg_kind k, const uint8_t *payload,
			size_t plen, struct tg_rng *r)
{
	struct txg_pkt_spec sp = *s;
	if (tg_pkt_bad_af(k) == 6 && s->af != 6)
		return 0;
	sp.af = (uint8_t)tg_pkt_bad_af(k);
	sp.vlan = 0;
	if (k == TG_PKT_DST_PORT) {
		uint16_t d = (uint16_t)(sp.dport + tg_rng_range(r, 1, 1000));
		sp.dport = d == s->dport ? (uint16_t)(d + 1) : d;
	} else if (k == TG_PKT_DST_ADDR) {
		sp.dst[3] ^= (uint8_t)tg_rng_range(r, 1, 254);
	} else if (k == TG_PKT_VLAN_STACKED) {
		sp.vlan = (uint16_t)tg_rng_range(r, 1, 4094);
	}
	if (cap < 8)
		return 0;
	size_t len = txg_pkt_build(out, cap - 8, &sp, payload, plen);
	if (len == 0)
		return 0;
	size_t l3 = txg_pkt_l3_off(&sp), l4 = txg_pkt_l4_off(&sp);
	uint8_t *ip = out + l3, *udp = out + l4;
	switch (k) {
	case TG_PKT_IP_CSUM:
		put16be(ip + 10, get16be(ip + 10) ^ (uint16_t)tg_rng_range(r, 1, 0xfffe));
		break;
	case TG_PKT_UDP_CSUM: {
		uint16_t c = get16be(udp + 6) ^ (uint16_t)tg_rng_range(r, 1, 0xfffe);
		if (c == 0) /* 0 would mean "no checksum" */
			c = get16be(udp + 6) ^ 0x0002;
		put16be(udp + 6, c);
		break;
	}
	case TG_PKT_IP_FRAG:
		if (tg_rng_below(r, 2))
			put16be(ip + 6, 0x2000); /* MF, offset 0: a first fragment */
		else
			put16be(ip + 6, (uint16_t)tg_rng_range(r, 1, 0x1fff)); /* a last fragment */
		ip_csum_fix(ip);
		break;
	case TG_PKT_DST_PORT:
	case TG_PKT_DST_ADDR:
		break; /* built that way */
	case TG_PKT_NOT_UDP:
		ip[9] = 6;
		ip_csum_fix(ip);
		break;
	case TG_PKT_SHORT:
		len = l3 + (size_t)tg_rng_range(r, 1, 19); /* cut inside the IPv4 header */
		break;
	case TG_PKT_NOT_IP:
		put16be(out + 12, 0x0806);
		break;
	case TG_PKT_VLAN_STACKED:
		/* Insert an outer 802.1Q tag before the one built. */
		memmove(out + 16, out + 12, len - 12);
		put16be(out + 12, 0x8100);
		put16be(out + 14, (uint16_t)tg_rng_range(r, 1, 4094));
		len += 4;
		break;
	case TG_PKT_IP_BAD_HDR:
		/* Not "total length past the frame": parsers count that as pkt_short. */
		if (tg_rng_below(r, 2))
			ip[0] = (uint8_t)(0x40 | tg_rng_below(r, 5)); /* IHL 0..4 */
		else
			put16be(ip + 2, (uint16_t)tg_rng_below(r, 28)); /* under IHL*4 + 8 */
		ip_csum_fix(ip);
		break;
	case TG_PKT_UDP6_ZERO_CSUM:
		put16be(udp + 6, 0); /* "no checksum": allowed over IPv4 only */
		break;
	case TG_PKT_UDP_LEN:
		if (tg_rng_below(r, 2))
			put16be(udp + 4, (uint16_t)tg_rng_below(r, 8)); /* under the UDP header */
		else
			put16be(udp + 4, (uint16_t)(get16be(udp + 4) + tg_rng_range(r, 1, 100))); /* past the IP payload */
		break;
	default:
		return 0;
	}
	return len;
}
