/* libFuzzer target: txg_frame_parse and txg_record_view (dataplane/wire.h)
 * on arbitrary bytes. Checks: no out-of-bounds access (ASan), no UB
 * (UBSan), and an accepted frame's records tile the payload exactly, after
 * the 16-byte cookie when the COOKIE flag is set. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct txg_rec_view recs[TXG_FRAME_MAX_RECS];
	struct txg_frame_view fv;
	enum txg_frame_err e = txg_frame_parse(data, size, &fv, recs);
	if ((unsigned)e >= TXG_FE_NUM)
		__builtin_trap();
	if (e == TXG_FE_OK) {
		if (fv.count == 0 || fv.count > TXG_FRAME_MAX_RECS || (fv.flags & ~TXG_FRAME_F_KNOWN))
			__builtin_trap();
		/* With COOKIE the cookie is bytes 8..24 and records start at 24. */
		int ck = (fv.flags & TXG_FRAME_F_COOKIE) != 0;
		if (fv.cookie != (ck ? data + TXG_FRAME_HDR_LEN : NULL))
			__builtin_trap();
		const uint8_t *at = data + (ck ? TXG_FRAME_HDR_COOKIE_LEN : TXG_FRAME_HDR_LEN);
		for (unsigned i = 0; i < fv.count; i++) {
			const struct txg_rec_view *r = &recs[i];
			if (r->rec != at || r->body != at + 2 || r->body_len < TXG_BODY_MIN ||
			    r->sig != r->body + r->body_len || r->rec_len != 2u + r->body_len + TXG_SIG_LEN)
				__builtin_trap();
			/* Each record of a good frame is a good stand-alone record. */
			struct txg_rec_view rv;
			if (txg_record_view(r->rec, r->rec_len, &rv) != 0 || rv.body_len != r->body_len)
				__builtin_trap();
			at += r->rec_len;
		}
		if (at != data + size)
			__builtin_trap();
	}
	struct txg_rec_view rv;
	if (txg_record_view(data, size, &rv) == 0) {
		if (rv.body_len < TXG_BODY_MIN || (size_t)rv.body_len + TXG_REC_OVERHEAD != size ||
		    rv.sig + TXG_SIG_LEN != data + size)
			__builtin_trap();
		if (size <= 0xffff && rv.rec_len != size)
			__builtin_trap();
	}
	return 0;
}
