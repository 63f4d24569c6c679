/* libFuzzer target: txg_pkt_parse on arbitrary bytes, and on valid packets
 * built by pkt_build then corrupted, so both shallow and deep paths run
 * without a seed corpus. Checks: no out-of-bounds access (ASan), no UB
 * (UBSan), and an accepted packet's payload lies inside it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pkt.h"
#include "pkt_build.h"

static void check(const uint8_t *p, uint32_t len, uint64_t ol, const struct txg_pkt_filter *f)
{
	struct txg_pkt_info in;
	enum txg_pkt_err e = txg_pkt_parse(p, len, ol, f, &in);
	if ((unsigned)e >= TXG_PKT_NUM)
		__builtin_trap();
	if (e == TXG_PKT_OK) {
		if (in.payload < p + 8 + 20 + 14 || in.payload + in.payload_len > p + len)
			__builtin_trap();
		if ((in.af != 4 && in.af != 6) || in.dport != f->udp_port || in.vlan > 4095)
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
	static const uint64_t ip_f[4] = {0, 1ull << 4, 1ull << 7, (1ull << 4) | (1ull << 7)};
	static const uint64_t l4_f[4] = {0, 1ull << 3, 1ull << 8, (1ull << 3) | (1ull << 8)};
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
