/* Wire format v1: frames and statuses. */
#include "wire.h"


static const char *const status_names[TXG_ST_COUNT] = {
	"committed", "duplicate", "bad_signature", "unknown_sender", "expired",   "expiry_too_far",
	"wrong_chain", "rate_limited", "overloaded", "malformed", "accepted",
};

const char *txg_status_name(unsigned st) { return st < TXG_ST_COUNT ? status_names[st] : "?"; }

int txg_status_from_name(const char *name)
{
	for (unsigned i = 0; i < TXG_ST_COUNT; i++)
		if (strcmp(name, status_names[i]) == 0)
			return (int)i;
	return -1;
}

static const char *const frame_err_names[TXG_FE_NUM] = {
	"frame_ok",	   "frame_short",      "frame_bad_magic", "frame_bad_version", "frame_bad_flags",
	"frame_bad_count", "frame_body_short", "frame_overrun",	  "frame_trailing",
};

const char *txg_frame_err_name(unsigned e) { return e < TXG_FE_NUM ? frame_err_names[e] : "?"; }

enum txg_frame_err txg_frame_parse(const uint8_t *p, size_t len, struct txg_frame_view *fv,
				   struct txg_rec_view *recs)
{
	if (len < TXG_FRAME_HDR_LEN)
		return TXG_FE_SHORT;
	if (memcmp(p, "TXI1", 4) != 0)
		return TXG_FE_MAGIC;
	if (p[4] != TXG_FRAME_VERSION)
		return TXG_FE_VERSION;
	if (p[5] & ~TXG_FRAME_F_KNOWN)
		return TXG_FE_FLAGS;
	uint16_t count = txg_ld16(p + 6);
	if (count == 0 || count > TXG_FRAME_MAX_RECS)
		return TXG_FE_COUNT;
	/* The cookie belongs to the header (spec section 2): a cut one is a short frame. */
	size_t off = (p[5] & TXG_FRAME_F_COOKIE) ? TXG_FRAME_HDR_COOKIE_LEN : TXG_FRAME_HDR_LEN;
	if (len < off)
		return TXG_FE_SHORT;
	for (uint16_t i = 0; i < count; i++) {
		if (len - off < 2)
			return TXG_FE_OVERRUN;
		uint16_t bl = txg_ld16(p + off);
		if (bl < TXG_BODY_MIN)
			return TXG_FE_BODY_SHORT;
		size_t rl = (size_t)bl + TXG_REC_OVERHEAD;
		if (len - off < rl)
			return TXG_FE_OVERRUN;
		recs[i].rec = p + off;
		recs[i].body = p + off + 2;
		recs[i].sig = p + off + 2 + bl;
		recs[i].body_len = bl;
		recs[i].rec_len = (uint32_t)rl;
		off += rl;
	}
	if (off != len)
		return TXG_FE_TRAILING;
	fv->flags = p[5];
	fv->count = count;
	fv->cookie = (p[5] & TXG_FRAME_F_COOKIE) ? p + TXG_FRAME_HDR_LEN : NULL;
	return TXG_FE_OK;
}

void txg_frame_header(uint8_t *out, uint8_t flags, uint16_t count)
{
	memcpy(out, "TXI1", 4);
	out[4] = TXG_FRAME_VERSION;
	out[5] = flags;
	txg_st16(out + 6, count);
}

size_t txg_frame_header_cookie(uint8_t *out, uint8_t flags, uint16_t count, const uint8_t *cookie)
{
	txg_frame_header(out, (uint8_t)(flags | TXG_FRAME_F_COOKIE), count);
	memcpy(out + TXG_FRAME_HDR_LEN, cookie, TXG_COOKIE_LEN);
	return TXG_FRAME_HDR_COOKIE_LEN;
}
