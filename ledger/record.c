/* Transaction records: view, encoding and tx id. */
#include "record.h"

#include <sodium.h>
#include <string.h>

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

void txg_tx_id(const uint8_t *body, size_t body_len, uint8_t out[TXG_ID_LEN])
{
	crypto_generichash(out, TXG_ID_LEN, body, body_len, NULL, 0);
}
