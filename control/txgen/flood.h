/* txflood's pure parts (no sockets): reading frames out of a pcap, putting a
 * cookie into a frame, and reading a receipt datagram. See docs/txgen.md. */
#ifndef TXGEN_FLOOD_H
#define TXGEN_FLOOD_H

#include <stddef.h>
#include <stdint.h>

#include "receipt.h"
#include "wire.h"

#define TF_UDP_MAX 65507u /* largest UDP payload over IPv4 */

/* The frames of a pcap, in file order, in one buffer. */
struct tf_frames {
	uint8_t *data;	   /* all payloads back to back */
	size_t *off;	   /* frame i is data[off[i] .. off[i] + len[i]) */
	uint32_t *len;	   /* each at most TF_UDP_MAX */
	uint16_t *records; /* records in frame i if it parses (txg_frame_parse), else 0 */
	size_t n;
	size_t skipped; /* packets that are not IPv4/UDP with a usable payload */
};

/* Read every UDP payload of the IPv4/UDP packets of the classic pcap
 * p[0..len) (either byte order, micro- or nanosecond stamps; link type 1
 * Ethernet, at most one 802.1Q tag). Packets that are not IPv4/UDP, are a
 * non-first fragment, are cut, or have a UDP length under 8 or past the IP
 * payload are skipped (counted in fr->skipped). 0, or -1 with *why set (a
 * bad file or no memory). fr is zeroed first; free with tf_frames_free. */
int tf_frames_from_pcap(const uint8_t *p, size_t len, struct tf_frames *fr, const char **why);
void tf_frames_free(struct tf_frames *fr);

/* Where a frame's records start and the header to send instead of its
 * first bytes, to carry cookie[0..16):
 * hdr[0..24) = the frame's 8-byte header with flag COOKIE set, then cookie;
 * *rest = offset in the frame of the part that follows it (8, or 24 if the
 * frame already had a cookie, which is replaced). The frame to send is
 * hdr[0..24) + frame[*rest..len). Returns its length, or 0 if the frame
 * cannot take a cookie: shorter than 8 bytes, COOKIE already set but shorter
 * than 24, or the result over TF_UDP_MAX. */
size_t tf_cookie_header(uint8_t hdr[TXG_FRAME_HDR_COOKIE_LEN], const uint8_t *frame, size_t len,
			const uint8_t *cookie, size_t *rest);

/* The whole frame with cookie, written to out[0..cap) (tf_cookie_header and
 * the rest). Its length, or 0 if the frame cannot take a cookie or out is
 * too small. */
size_t tf_frame_with_cookie(uint8_t *out, size_t cap, const uint8_t *frame, size_t len, const uint8_t *cookie);

/* A receipt datagram p[0..len): -1 if it is not a valid one
 * (txg_receipt_parse); else the number of entries, with per_status[status]
 * increased for each (per_status has TXG_ST_COUNT counters, may be NULL), and
 * *has_cookie = 1 and cookie[0..16) filled if it carries a cookie, else
 * *has_cookie = 0 and cookie untouched. */
int tf_receipt_take(const uint8_t *p, size_t len, uint64_t *per_status, uint8_t cookie[TXG_COOKIE_LEN],
		    int *has_cookie);

#endif
