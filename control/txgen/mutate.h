/* Frame-level and packet-level corruptions for txgen's malformed kinds. */
#ifndef TXGEN_MUTATE_H
#define TXGEN_MUTATE_H

#include <stddef.h>
#include <stdint.h>

#include "mix.h"
#include "pkt_build.h"
#include "rng.h"
#include "wire.h"

/* Corrupt the well-formed frame buf[0..*len) of n (1..8) records, with
 * room for cap >= *len + 64 bytes, so that txg_frame_parse returns err
 * (not TXG_FE_OK or TXG_FE_SHORT); *len may grow. Returns 0, or -1 if the
 * result does not parse to err (a bug). */
int tg_frame_corrupt(uint8_t *buf, size_t *len, size_t cap, unsigned n, enum txg_frame_err err, struct tg_rng *r);

/* The address family of the path (spec) tg_pkt_build_bad needs for
 * packet-level kind k: 6 for TG_PKT_UDP6_ZERO_CSUM, 4 for the others. */
unsigned tg_pkt_bad_af(enum tg_kind k);

/* Build an untagged packet of family tg_pkt_bad_af(k) (s: a spec of that
 * family; an IPv4 one is used as af 4, no VLAN) around payload and spoil it
 * the way packet-level kind k (TG_PKT_*) says, with every other header field
 * and checksum right. Returns its length, or 0 if s is of the wrong family
 * or it does not fit in cap (cap should exceed the plain packet by at least 8). */
size_t tg_pkt_build_bad(uint8_t *out, size_t cap, const struct txg_pkt_spec *s, enum tg_kind k, const uint8_t *payload,
			size_t plen, struct tg_rng *r);

#endif
