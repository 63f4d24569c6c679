/* Verification dispatch. */
#include "verify.h"

#include <sodium.h>

#include "ed25519/ed25519.h"

#define CHUNK 64

void txg_verify_burst(const struct txg_verify_item *items, size_t n, uint8_t *ok)
{
	struct txg_ed_item fast[CHUNK];
	size_t idx[CHUNK];
	uint8_t res[CHUNK];
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const struct txg_verify_item *it = &items[i];
		if (!it->m->ek) {
			ok[i] = crypto_sign_verify_detached(it->sig, it->msg, it->len, it->m->pk) == 0;
			continue;
		}
		fast[k] = (struct txg_ed_item){.key = it->m->ek, .msg = it->msg, .len = it->len, .sig = it->sig};
		idx[k++] = i;
		if (k == CHUNK || i + 1 == n) {
			txg_ed_verify_burst(fast, k, res);
			for (size_t j = 0; j < k; j++)
				ok[idx[j]] = res[j];
			k = 0;
		}
	}
	if (k) {
		txg_ed_verify_burst(fast, k, res);
		for (size_t j = 0; j < k; j++)
			ok[idx[j]] = res[j];
	}
}
