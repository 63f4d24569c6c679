/* Packet building for txgen and tests. */
#include "pkt_build.h"

#include <string.h>

static uint32_t csum_add(const uint8_t *p, size_t n, uint32_t sum)
{
	size_t i = 0;
	for (; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (i < n)
		sum += (uint32_t)(p[i] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

static void put16be(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

uint16_t txg_inet_csum(const uint8_t *p, size_t n, uint32_t sum)
{
	return (uint16_t)~csum_add(p, n, sum);
}

uint16_t txg_udp_csum(uint8_t af, const uint8_t *src, const uint8_t *dst, const uint8_t *udp, size_t udp_len)
{
	uint8_t ph[40];
	size_t phl;
	if (af == 4) {
		memcpy(ph, src, 4);
		memcpy(ph + 4, dst, 4);
		ph[8] = 0;
		ph[9] = 17;
		put16be(ph + 10, (uint16_t)udp_len);
		phl = 12;
	} else {
		memcpy(ph, src, 16);
		memcpy(ph + 16, dst, 16);
		ph[32] = (uint8_t)(udp_len >> 24);
		ph[33] = (uint8_t)(udp_len >> 16);
		ph[34] = (uint8_t)(udp_len >> 8);
		ph[35] = (uint8_t)udp_len;
		ph[36] = ph[37] = ph[38] = 0;
		ph[39] = 17;
		phl = 40;
	}
	uint32_t sum = csum_add(ph, phl, 0);
	/* The stored checksum field is included as-is; callers zero it first. */
	uint16_t c = (uint16_t)~csum_add(udp, udp_len, sum);
	return c == 0 ? 0xffff : c;
}

size_t txg_pkt_l3_off(const struct txg_pkt_spec *s) { return s->vlan ? 18 : 14; }

size_t txg_pkt_l4_off(const struct txg_pkt_spec *s) { return txg_pkt_l3_off(s) + (s->af == 4 ? 20 : 40); }

size_t txg_pkt_build(uint8_t *out, size_t cap, const struct txg_pkt_spec *s, const uint8_t *payload, size_t plen)
{
	size_t l3 = txg_pkt_l3_off(s), l4 = txg_pkt_l4_off(s);
	size_t udp_len = 8 + plen;
	size_t total = l4 + udp_len;
	if (total > cap || udp_len > 0xffff || (s->af == 4 && udp_len + 20 > 0xffff))
		return 0;
	memcpy(out, s->dst_mac, 6);
	memcpy(out + 6, s->src_mac, 6);
	uint16_t etype = s->af == 4 ? 0x0800 : 0x86dd;
	if (s->vlan) {
		put16be(out + 12, 0x8100);
		put16be(out + 14, (uint16_t)(s->vlan & 0x0fff));
		put16be(out + 16, etype);
	} else {
		put16be(out + 12, etype);
	}
	uint8_t *ip = out + l3;
	if (s->af == 4) {
		ip[0] = 0x45;
		ip[1] = 0;
		put16be(ip + 2, (uint16_t)(20 + udp_len));
		put16be(ip + 4, 0);	 /* id */
		put16be(ip + 6, 0x4000); /* DF, no fragment */
		ip[8] = 64;
		ip[9] = 17;
		put16be(ip + 10, 0);
		memcpy(ip + 12, s->src, 4);
		memcpy(ip + 16, s->dst, 4);
		put16be(ip + 10, txg_inet_csum(ip, 20, 0));
	} else {
		ip[0] = 0x60;
		ip[1] = ip[2] = ip[3] = 0;
		put16be(ip + 4, (uint16_t)udp_len);
		ip[6] = 17;
		ip[7] = 64;
		memcpy(ip + 8, s->src, 16);
		memcpy(ip + 24, s->dst, 16);
	}
	uint8_t *udp = out + l4;
	put16be(udp, s->sport);
	put16be(udp + 2, s->dport);
	put16be(udp + 4, (uint16_t)udp_len);
	put16be(udp + 6, 0);
	if (plen)
		memcpy(udp + 8, payload, plen);
	if (!(s->af == 4 && s->no_udp_csum))
		put16be(udp + 6, txg_udp_csum(s->af, s->src, s->dst, udp, udp_len));
	return total;
}
