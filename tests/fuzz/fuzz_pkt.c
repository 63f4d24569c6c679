/* libFuzzer target: txg_pkt_parse on arbitrary bytes, and on valid packets
 * built by pkt_build then corrupted, so both shallow and deep paths run
 * without a seed corpus. Checks: no out-of-bounds access (ASan), no UB
 * (UBSan), an accepted packet's payload lies inside it, and the offload
 * flag rules of pkt.h: NONE and GOOD decide alike, BAD never accepts a
 * checksum it is about, an IPv6 UDP checksum of 0 is never accepted. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf_core.h>

#include "pkt.h"
#include "pkt_build.h"

#define IPM RTE_MBUF_F_RX_IP_CKSUM_MASK
#define L4M RTE_MBUF_F_RX_L4_CKSUM_MASK

static uint64_t none_to_good(uint64_t ol)
{
	if ((ol & IPM) == RTE_MBUF_F_RX_IP_CKSUM_NONE)
		ol = (ol & ~IPM) | RTE_MBUF_F_RX_IP_CKSUM_GOOD;
	if ((ol & L4M) == RTE_MBUF_F_RX_L4_CKSUM_NONE)
		ol = (ol & ~L4M) | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	return ol;
}

static void check(const uint8_t *p, uint32_t len, uint64_t ol, const struct txg_pkt_filter *f)
{
	struct txg_pkt_info in;
	enum txg_pkt_err e = txg_pkt_parse(p, len, ol, f, &in);
	if ((unsigned)e >= TXG_PKT_NUM)
		__builtin_trap();
	/* NONE (integrity verified, field not right) skips the check as GOOD does. */
	struct txg_pkt_info in2;
	if (txg_pkt_parse(p, len, none_to_good(ol), f, &in2) != e)
		__builtin_trap();
	if (e == TXG_PKT_OK) {
		if (in.payload < p + 8 + 20 + 14 || in.payload + in.payload_len > p + len)
			__builtin_trap();
		if ((in.af != 4 && in.af != 6) || in.dport != f->udp_port || in.vlan > 4095)
			__builtin_trap();
		const uint8_t *ucs = in.payload - 2; /* the UDP checksum field */
		int zero = ucs[0] == 0 && ucs[1] == 0;
		if (in.af == 6 && zero)
			__builtin_trap();
		if (in.af == 4 && (ol & IPM) == RTE_MBUF_F_RX_IP_CKSUM_BAD)
			__builtin_trap();
		if ((ol & L4M) == RTE_MBUF_F_RX_L4_CKSUM_BAD && !(in.af == 4 && zero))
			__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	uint8_t mode = data[0], fl = data[1];
	data += 2;
	size -= 2;
	/* Offload flags from the RX checksum bits: UNKNOWN, BAD, GOOD, NONE. */
	static const uint64_t ip_f[4] = {RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN, RTE_MBUF_F_RX_IP_CKSUM_BAD,
					 RTE_MBUF_F_RX_IP_CKSUM_GOOD, RTE_MBUF_F_RX_IP_CKSUM_NONE};
	static const uint64_t l4_f[4] = {RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN, RTE_MBUF_F_RX_L4_CKSUM_BAD,
					 RTE_MBUF_F_RX_L4_CKSUM_GOOD, RTE_MBUF_F_RX_L4_CKSUM_NONE};
	uint64_t ol = ip_f[fl & 3] | l4_f[(fl >> 2) & 3];

	struct txg_pkt_filter f;
	memset(&f, 0, sizeof(f));
	f.udp_port = 7400;
	if (fl & 0x10) {
		f.n_ipv4 = 2;
		memcpy(f.ipv4[0], (uint8_t[4]){10, 0, 0, 2}, 4);
		memcpy(f.ipv4[1], (uint8_t[4]){192, 0, 2, 1}, 4);
	}
	if (fl & 0x20) {
		f.n_ipv6 = 1;
		f.ipv6[0][0] = 0x20;
		f.ipv6[0][15] = 2;
	}
	if (fl & 0x40) { /* counts over the list's size mean the whole list */
		f.n_ipv4 = f.n_ipv4 ? 0xffffffffu : 0;
		f.n_ipv6 = f.n_ipv6 ? TXG_MAX_ADDRS + 1 : 0;
	}

	if (!(mode & 1)) {
		/* Raw bytes, in an exactly-sized buffer. */
		uint8_t *p = malloc(size ? size : 1);
		if (!p)
			return 0;
		memcpy(p, data, size);
		check(p, (uint32_t)size, ol, &f);
		free(p);
		return 0;
	}

	/* Build a valid packet: data = [plen][mutation pairs...]. */
	struct txg_pkt_spec s;
	memset(&s, 0, sizeof(s));
	s.af = (mode & 2) ? 6 : 4;
	s.vlan = (mode & 4) ? 100 : 0;
	s.no_udp_csum = (mode & 8) ? 1 : 0;
	if (s.af == 4) {
		memcpy(s.src, (uint8_t[4]){10, 0, 0, 1}, 4);
		memcpy(s.dst, (uint8_t[4]){10, 0, 0, 2}, 4);
	} else {
		s.src[0] = s.dst[0] = 0x20;
		s.src[15] = 1;
		s.dst[15] = 2;
	}
	s.sport = 1234;
	s.dport = 7400;
	size_t plen = size ? data[0] : 0;
	uint8_t payload[256];
	for (size_t i = 0; i < plen; i++)
		payload[i] = (uint8_t)(i * 31 + 7);
	uint8_t buf[512];
	size_t n = txg_pkt_build(buf, sizeof(buf), &s, payload, plen);
	if (n == 0)
		__builtin_trap();
	if (s.no_udp_csum && s.af == 6) /* pkt_build fills it for IPv6: zero it */
		buf[txg_pkt_l4_off(&s) + 6] = buf[txg_pkt_l4_off(&s) + 7] = 0;
	/* Each following pair (pos, xor) corrupts one byte; mode bits 4-7 cut the tail. */
	for (size_t i = 1; i + 1 < size; i += 2)
		buf[data[i] % n] ^= data[i + 1];
	size_t cut = (size_t)(mode >> 4);
	size_t len = cut < n ? n - cut : 0;
	uint8_t *p = malloc(len ? len : 1);
	if (!p)
		return 0;
	memcpy(p, buf, len);
	check(p, (uint32_t)len, ol, &f);
	free(p);
	return 0;
}
