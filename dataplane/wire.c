/* Wire format v1: frame and record parsing and encoding. */
#include "wire.h"

#include <sodium.h>

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
	if (p[5] & ~(TXG_FRAME_F_RECEIPT | TXG_FRAME_F_ADMIT))
		return TXG_FE_FLAGS;
	uint16_t count = txg_ld16(p + 6);
	if (count == 0 || count > TXG_FRAME_MAX_RECS)
		return TXG_FE_COUNT;
	size_t off = TXG_FRAME_HDR_LEN;
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
	return TXG_FE_OK;
}

int txg_record_view(const uint8_t *p, size_t len, struct txg_rec_view *rv)
{
	if (len < 2 + TXG_BODY_MIN + TXG_SIG_LEN)
		return -1;
	uint16_t bl = txg_ld16(p);
	if (bl < TXG_BODY_MIN || (size_t)bl + TXG_REC_OVERHEAD != len)
		return -1;
	rv->rec = p;
	rv->body = p + 2;
	rv->sig = p + 2 + bl;
	rv->body_len = bl;
	rv->rec_len = (uint32_t)len;
	return 0;
}

size_t txg_body_encode(uint8_t *out, const struct txg_body_fields *f, const uint8_t *payload, size_t plen)
{
	out[0] = f->version;
	out[1] = f->kind;
	txg_st16(out + 2, f->flags);
	txg_st32(out + 4, f->chain_id);
	txg_st64(out + 8, f->nonce);
	txg_st64(out + 16, f->expires_ms);
	memcpy(out + 24, f->sender, TXG_KEY_LEN);
	if (plen)
		memcpy(out + TXG_BODY_MIN, payload, plen);
	return TXG_BODY_MIN + plen;
}

size_t txg_record_encode(uint8_t *out, size_t cap, const struct txg_body_fields *f, const uint8_t *payload,
			 size_t plen, const uint8_t sk[64])
{
	size_t bl = TXG_BODY_MIN + plen;
	if (bl > 0xffff || cap < bl + TXG_REC_OVERHEAD)
		return 0;
	txg_st16(out, (uint16_t)bl);
	txg_body_encode(out + 2, f, payload, plen);
	crypto_sign_detached(out + 2 + bl, NULL, out + 2, bl, sk);
	return bl + TXG_REC_OVERHEAD;
}

void txg_frame_header(uint8_t *out, uint8_t flags, uint16_t count)
{
	memcpy(out, "TXI1", 4);
	out[4] = TXG_FRAME_VERSION;
	out[5] = flags;
	txg_st16(out + 6, count);
}

void txg_tx_id(const uint8_t *body, size_t body_len, uint8_t out[TXG_ID_LEN])
{
	crypto_generichash(out, TXG_ID_LEN, body, body_len, NULL, 0);
}

void txg_hex(const uint8_t *in, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[in[i] >> 4];
		out[2 * i + 1] = d[in[i] & 15];
	}
	out[2 * n] = 0;
}

int txg_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int txg_unhex(const char *s, uint8_t *out, size_t n)
{
	if (strlen(s) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = txg_hexval((unsigned char)s[2 * i]), lo = txg_hexval((unsigned char)s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}
