/* txflood's pure parts: pcap frames, cookie insertion, receipts. */
#include "flood.h"

#include <stdlib.h>
#include <string.h>

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static uint32_t pcap32(const uint8_t *p, int swap)
{
	uint32_t v = txg_ld32(p);
	return swap ? (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24) : v;
}

void tf_frames_free(struct tf_frames *fr)
{
	free(fr->data);
	free(fr->off);
	free(fr->len);
	free(fr->records);
	memset(fr, 0, sizeof *fr);
}

/* The UDP payload of one Ethernet packet p[0..len), or NULL. */
static const uint8_t *udp4_payload(const uint8_t *p, size_t len, size_t *plen)
{
	if (len < 14)
		return NULL;
	size_t off = 14;
	uint16_t et = be16(p + 12);
	if (et == 0x8100) {
		if (len < 18)
			return NULL;
		et = be16(p + 16);
		off = 18;
	}
	if (et != 0x0800 || len - off < 20)
		return NULL;
	const uint8_t *ip = p + off;
	size_t avail = len - off, hl = (size_t)(ip[0] & 15u) * 4, tot = be16(ip + 2);
	if (ip[0] >> 4 != 4 || hl < 20 || tot < hl + 8 || tot > avail || ip[9] != 17 || (be16(ip + 6) & 0x3fff) != 0)
		return NULL;
	const uint8_t *udp = ip + hl;
	size_t ulen = be16(udp + 4);
	if (ulen < 8 || ulen > tot - hl)
		return NULL;
	*plen = ulen - 8;
	return udp + 8;
}

int tf_frames_from_pcap(const uint8_t *p, size_t len, struct tf_frames *fr, const char **why)
{
	memset(fr, 0, sizeof *fr);
	*why = "not a classic pcap file";
	if (len < 24)
		return -1;
	uint32_t magic = txg_ld32(p);
	int swap;
	if (magic == 0xa1b2c3d4u || magic == 0xa1b23c4du)
		swap = 0;
	else if (magic == 0xd4c3b2a1u || magic == 0x4d3cb2a1u)
		swap = 1;
	else
		return -1;
	if (pcap32(p + 20, swap) != 1) {
		*why = "link type is not Ethernet (1)";
		return -1;
	}
	struct txg_rec_view *rv = malloc(TXG_FRAME_MAX_RECS * sizeof *rv);
	fr->data = malloc(len); /* the payloads are smaller than the file */
	size_t cap = 0;
	*why = "out of memory";
	if (!rv || !fr->data)
		goto fail;
	size_t off = 24, used = 0;
	while (off < len) {
		if (len - off < 16) {
			*why = "cut inside a packet header";
			goto fail;
		}
		uint32_t incl = pcap32(p + off + 8, swap);
		if (incl > len - off - 16) {
			*why = "cut inside a packet";
			goto fail;
		}
		const uint8_t *pkt = p + off + 16;
		off += 16 + (size_t)incl;
		size_t plen;
		const uint8_t *pl = udp4_payload(pkt, incl, &plen);
		if (!pl || plen > TF_UDP_MAX) {
			fr->skipped++;
			continue;
		}
		if (fr->n == cap) {
			size_t nc = cap ? 2 * cap : 1024;
			size_t *no = realloc(fr->off, nc * sizeof *no);
			if (no)
				fr->off = no;
			uint32_t *nl = realloc(fr->len, nc * sizeof *nl);
			if (nl)
				fr->len = nl;
			uint16_t *nr = realloc(fr->records, nc * sizeof *nr);
			if (nr)
				fr->records = nr;
			if (!no || !nl || !nr)
				goto fail;
			cap = nc;
		}
		memcpy(fr->data + used, pl, plen);
		fr->off[fr->n] = used;
		fr->len[fr->n] = (uint32_t)plen;
		struct txg_frame_view fv;
		fr->records[fr->n] = txg_frame_parse(pl, plen, &fv, rv) == TXG_FE_OK ? fv.count : 0;
		used += plen;
		fr->n++;
	}
	free(rv);
	*why = NULL;
	return 0;
fail:
	free(rv);
	tf_frames_free(fr);
	return -1;
}

size_t tf_cookie_header(uint8_t hdr[TXG_FRAME_HDR_COOKIE_LEN], const uint8_t *frame, size_t len,
			const uint8_t *cookie, size_t *rest)
{
	if (len < TXG_FRAME_HDR_LEN)
		return 0;
	size_t r = TXG_FRAME_HDR_LEN;
	if (frame[5] & TXG_FRAME_F_COOKIE) {
		if (len < TXG_FRAME_HDR_COOKIE_LEN)
			return 0;
		r = TXG_FRAME_HDR_COOKIE_LEN;
	}
	size_t out = TXG_FRAME_HDR_COOKIE_LEN + (len - r);
	if (out > TF_UDP_MAX)
		return 0;
	memcpy(hdr, frame, TXG_FRAME_HDR_LEN);
	hdr[5] |= TXG_FRAME_F_COOKIE;
	memcpy(hdr + TXG_FRAME_HDR_LEN, cookie, TXG_COOKIE_LEN);
	*rest = r;
	return out;
}

size_t tf_frame_with_cookie(uint8_t *out, size_t cap, const uint8_t *frame, size_t len, const uint8_t *cookie)
{
	uint8_t hdr[TXG_FRAME_HDR_COOKIE_LEN];
	size_t rest, n = tf_cookie_header(hdr, frame, len, cookie, &rest);
	if (n == 0 || n > cap)
		return 0;
	memcpy(out, hdr, sizeof hdr);
	memcpy(out + sizeof hdr, frame + rest, len - rest);
	return n;
}

int tf_receipt_take(const uint8_t *p, size_t len, uint64_t *per_status, uint8_t cookie[TXG_COOKIE_LEN],
		    int *has_cookie)
{
	struct txg_receipt_view v;
	*has_cookie = 0;
	if (txg_receipt_parse(p, len, &v) != TXG_RE_OK)
		return -1;
	if (per_status)
		for (unsigned i = 0; i < v.count; i++) {
			struct txg_receipt_entry e;
			txg_receipt_entry_get(&v, i, &e);
			if (e.status < TXG_ST_COUNT)
				per_status[e.status]++;
		}
	if (v.cookie) {
		memcpy(cookie, v.cookie, TXG_COOKIE_LEN);
		*has_cookie = 1;
	}
	return v.count;
}
