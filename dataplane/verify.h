/* Signature verification behind one small interface: the fast verifier for
 * enrolled member keys (dataplane/ed25519) or libsodium, chosen in the
 * config. Both give exactly crypto_sign_verify_detached's decisions. */
#ifndef TXG_VERIFY_H
#define TXG_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "members.h"

struct txg_verify_item {
	const struct txg_member *m; /* signer */
	const uint8_t *msg;	    /* the body */
	size_t len;
	const uint8_t *sig;
};

/* ok[i] = 1 iff items[i].sig is a valid signature of msg by m->pk. Members
 * with an enrolled key go through the fast verifier, others libsodium. No
 * allocation, reentrant. */
void txg_verify_burst(const struct txg_verify_item *items, size_t n, uint8_t *ok);

#endif
