/* Receipt datagrams: packer and parser (spec section 4). */
#include "receipt.h"

#define IPV4_HDR 20u
#define IPV6_HDR 40u
#define UDP_HDR 8u

size_t txg_receipt_payload_max(unsigned mtu, unsigned af)
{
	unsigned ip = af == 4 ? IPV4_HDR : af == 6 ? IPV6_HDR : 0;
	if (ip == 0 || mtu < ip + UDP_HDR)
		return 0;
	return mtu - ip - UDP_HDR;
}

unsigned txg_receipt_max_entries(size_t cap, int with_cookie)
{
	size_t fixed = TXG_RCPT_HDR_LEN + (with_cookie ? TXG_COOKIE_LEN : 0);
	if (cap < fixed)
		return 0;
	size_t n = (cap - fixed) / TXG_RCPT_ENTRY_LEN;
	return n > TXG_RCPT_MAX_COUNT ? TXG_RCPT_MAX_COUNT : (unsigned)n;
}

/* The spec's rule for height and index: they locate a committed transaction
 * (height >= 1), or the committed original of a duplicate; 0 otherwise. */
static int location_ok(unsigned status, uint32_t index, uint64_t height)
{
	if (status == TXG_ST_COMMITTED)
		return height != 0;
	if (status == TXG_ST_DUPLICATE)
		return height != 0 || index == 0;
	return height == 0 && index == 0;
}

void txg_receipt_begin(struct txg_receipt_packer *pk, uint8_t *buf, size_t cap, int with_cookie)
{
	pk->buf = buf;
	pk->cap = cap;
	pk->count = 0;
	pk->max = (uint16_t)txg_receipt_max_entries(cap, with_cookie);
}

int txg_receipt_add(struct txg_receipt_packer *pk, const struct txg_receipt_entry *e)
{
	if (pk->count >= pk->max || e->status >= TXG_ST_COUNT || !location_ok(e->status, e->index, e->height))
		return -1;
	uint8_t *p = pk->buf + TXG_RCPT_HDR_LEN + (size_t)pk->count * TXG_RCPT_ENTRY_LEN;
	memcpy(p, e->tx_id, TXG_ID_LEN);
	p[32] = e->status;
	p[33] = p[34] = p[35] = 0;
	txg_st32(p + 36, e->index);
	txg_st64(p + 40, e->height);
	pk->count++;
	return pk->max - pk->count;
}

size_t txg_receipt_finish(struct txg_receipt_packer *pk, const uint8_t *cookie)
{
	if (pk->count == 0)
		return 0;
	size_t len = TXG_RCPT_HDR_LEN + (size_t)pk->count * TXG_RCPT_ENTRY_LEN;
	uint8_t flags = 0;
	if (cookie) {
		if (pk->cap - len < TXG_COOKIE_LEN)
			return 0;
		memcpy(pk->buf + len, cookie, TXG_COOKIE_LEN);
		len += TXG_COOKIE_LEN;
		flags = TXG_RCPT_F_COOKIE;
	}
	memcpy(pk->buf, "TXR1", 4);
	pk->buf[4] = TXG_RCPT_VERSION;
	pk->buf[5] = flags;
	txg_st16(pk->buf + 6, pk->count);
	return len;
}

static const char *const err_names[TXG_RE_NUM] = {
	"receipt_ok",	     "receipt_short",	     "receipt_bad_magic",     "receipt_bad_version",
	"receipt_bad_flags", "receipt_bad_count",    "receipt_bad_length",    "receipt_bad_reserved",
	"receipt_bad_status", "receipt_bad_location",
};

const char *txg_receipt_err_name(unsigned e) { return e < TXG_RE_NUM ? err_names[e] : "?"; }

enum txg_receipt_err txg_receipt_parse(const uint8_t *p, size_t len, struct txg_receipt_view *v)
{
	if (len < TXG_RCPT_HDR_LEN)
		return TXG_RE_SHORT;
	if (memcmp(p, "TXR1", 4) != 0)
		return TXG_RE_MAGIC;
	if (p[4] != TXG_RCPT_VERSION)
		return TXG_RE_VERSION;
	if (p[5] & ~TXG_RCPT_F_COOKIE)
		return TXG_RE_FLAGS;
	uint16_t count = txg_ld16(p + 6);
	if (count == 0)
		return TXG_RE_COUNT;
	size_t body = (size_t)count * TXG_RCPT_ENTRY_LEN, ck = (p[5] & TXG_RCPT_F_COOKIE) ? TXG_COOKIE_LEN : 0;
	if (len - TXG_RCPT_HDR_LEN != body + ck)
		return TXG_RE_LENGTH;
	const uint8_t *ents = p + TXG_RCPT_HDR_LEN;
	for (unsigned i = 0; i < count; i++) {
		const uint8_t *e = ents + (size_t)i * TXG_RCPT_ENTRY_LEN;
		if (e[33] | e[34] | e[35])
			return TXG_RE_RESERVED;
		if (e[32] >= TXG_ST_COUNT)
			return TXG_RE_STATUS;
		if (!location_ok(e[32], txg_ld32(e + 36), txg_ld64(e + 40)))
			return TXG_RE_LOCATION;
	}
	v->flags = p[5];
	v->count = count;
	v->entries = ents;
	v->cookie = ck ? ents + body : NULL;
	return TXG_RE_OK;
}

void txg_receipt_entry_get(const struct txg_receipt_view *v, unsigned i, struct txg_receipt_entry *e)
{
	const uint8_t *p = v->entries + (size_t)i * TXG_RCPT_ENTRY_LEN;
	memcpy(e->tx_id, p, TXG_ID_LEN);
	e->status = p[32];
	e->index = txg_ld32(p + 36);
	e->height = txg_ld64(p + 40);
}
