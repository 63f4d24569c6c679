/* libtxgate-client: send signed transactions to txgate appliances over UDP
 * and follow each to its final answer (wire format v1, sections 2-4 and 6 of
 * shared/spec/wire-format.md).
 *
 * Single-threaded and poll()-driven: the caller submits transactions and
 * runs the loop (txc_poll, or its own poll() on txc_fds + txc_process);
 * answers come back through one callback. Records are packed into frames
 * up to the MTU, retried with the exact same bytes after a timeout with
 * exponential back-off, and the latest cookie from each server is echoed
 * in later frames to it. No threads, no signals; nothing here blocks
 * except txc_poll for at most its timeout. A client must be used from one
 * thread at a time. */
#ifndef TXGATE_CLIENT_H
#define TXGATE_CLIENT_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TXC_KEY_LEN 32u	       /* Ed25519 public key, and the seed */
#define TXC_ID_LEN 32u	       /* tx_id = BLAKE2b-256(body) */
#define TXC_COOKIE_LEN 16u     /* spec section 6 */
#define TXC_DEFAULT_PORT 7400u /* when HOST:PORT has no port */

/* Answer statuses: the spec's wire codes (section 3), plus TXC_LOST. */
enum txc_status {
	TXC_COMMITTED = 0,
	TXC_DUPLICATE = 1,
	TXC_BAD_SIGNATURE = 2,
	TXC_UNKNOWN_SENDER = 3,
	TXC_EXPIRED = 4,
	TXC_EXPIRY_TOO_FAR = 5,
	TXC_WRONG_CHAIN = 6,
	TXC_RATE_LIMITED = 7,
	TXC_OVERLOADED = 8,
	TXC_MALFORMED = 9,
	TXC_ACCEPTED = 10, /* intermediate: queued for ordering (asked for with ADMIT) */
	TXC_LOST = 11,	   /* the library's own: no final answer after max_tries sends, or expired unanswered */
	TXC_NSTATUS = 12
};

/* Name of a status ("committed", ..., "accepted", "lost"); "?" if out of range. */
const char *txc_status_name(int status);

/* A member key: Ed25519 public key and libsodium secret key (seed || pk). */
struct txc_key {
	uint8_t pk[TXC_KEY_LEN];
	uint8_t sk[64];
};

/* Load a key file as `txgen keygen` writes it (the 32-byte seed as 64 hex
 * digits on the first line). 0, or -1 with the reason in err. */
int txc_key_load(const char *path, struct txc_key *key, char *err, size_t errlen);

/* Derive the key pair from a 32-byte seed. */
void txc_key_from_seed(struct txc_key *key, const uint8_t seed[TXC_KEY_LEN]);

/* Overwrite a key with zeros. */
void txc_key_wipe(struct txc_key *key);

/* One answer for one transaction, passed to the callback. Pointers are valid
 * only during the call. */
struct txc_answer {
	const uint8_t *tx_id; /* TXC_ID_LEN bytes */
	void *user;	      /* as given in txc_tx.user */
	int server;	      /* as returned by txc_server_add */
	int status;	      /* enum txc_status */
	int final;	      /* 0 for TXC_ACCEPTED (more follows), 1 otherwise: the transaction is done */
	uint32_t index;	      /* committed: its place in the block; duplicate: the original's, if committed */
	uint64_t height;      /* likewise the block height; 0 when the receipt gives no location */
	unsigned tries;	      /* how many times the record was sent so far */
	uint64_t first_send_us; /* client clock (txc_now_us) of the first send */
	uint64_t accepted_us;	/* when `accepted` arrived; 0 if it has not */
	uint64_t answer_us;	/* when this answer arrived (or was decided, for lost) */
};

/* The answer callback. It may call txc_submit, txc_flush and the getters;
 * not txc_close, txc_process or txc_poll. */
typedef void (*txc_answer_fn)(void *arg, const struct txc_answer *a);

/* Client settings; start from txc_config_init and change what you need. */
struct txc_config {
	uint32_t chain_id;	 /* put in every body */
	unsigned mtu;		 /* largest IP packet, 576..65535; default 1500 (frames = mtu - IP - UDP headers) */
	unsigned per_frame;	 /* most records in one frame, 1..255; default 255 (the MTU decides) */
	int admit;		 /* frame flag ADMIT: answer `accepted` at admission, then `committed` */
	uint32_t timeout_ms;	 /* wait after the first send before a retry; default 1000 */
	uint32_t max_timeout_ms; /* cap of the doubling wait; default 8000 */
	unsigned max_tries;	 /* sends of one transaction, first included, 1..255; default 5. An
				  * `overloaded` answer is retried too (at once when its receipt brought
				  * a cookie the record was not sent with, section 6), and is final only
				  * when the tries are used up. So is a `duplicate` without a
				  * location for a transaction sent more than once or already
				  * `accepted`: an earlier copy got in and its `committed` is
				  * still to come, so the client waits for it. */
	uint64_t ttl_ms;	 /* expiry = wall clock + ttl_ms when txc_tx.expires_ms is 0; default 60000 */
	int nonce_base_set;	 /* nonces are nonce_base + a counter; the base is random unless set */
	uint64_t nonce_base;
	txc_answer_fn on_answer; /* may be NULL */
	void *answer_arg;
	/* Injected clocks (tests): monotonic microseconds for timing, wall-clock
	 * UNIX milliseconds for expiry. NULL: CLOCK_MONOTONIC and CLOCK_REALTIME. */
	uint64_t (*mono_us)(void *arg);
	uint64_t (*wall_ms)(void *arg);
	void *clock_arg;
	/* Injected transport (tests, other transports): if set, servers get no
	 * socket, every frame goes to send_hook (return 0 if sent; -1 if not,
	 * with errno EMSGSIZE if it was too big for the path: the frame limit
	 * is then lowered and the records re-packed) and receipts come in
	 * through txc_input. */
	int (*send_hook)(void *arg, int server, const uint8_t *frame, size_t len);
	void *send_arg;
};

/* Fill cfg with the defaults above (chain_id 0, no callback). */
void txc_config_init(struct txc_config *cfg);

typedef struct txc_client txc_client;

/* Make a client that signs with key (copied). NULL with the reason in err
 * if a setting is out of range. */
txc_client *txc_open(const struct txc_config *cfg, const struct txc_key *key, char *err, size_t errlen);

/* Close every socket and free everything; outstanding transactions are
 * dropped without answers. NULL is fine. */
void txc_close(txc_client *c);

/* Add a server: "HOST:PORT", "[IPV6]:PORT" or "HOST" (port 7400), resolved
 * with getaddrinfo; a UDP socket connect()ed to the first address that
 * takes one (IPv4 or IPv6), non-blocking. Returns its id (0, 1, ...), or -1
 * with the reason in err. */
int txc_server_add(txc_client *c, const char *host_port, char *err, size_t errlen);

/* The server's resolved address as "ADDR:PORT" / "[ADDR]:PORT"; "" if id is unknown. */
const char *txc_server_name(const txc_client *c, int server);

/* Largest frame (UDP payload) sent to the server; 0 if id is unknown. */
size_t txc_frame_max(const txc_client *c, int server);

/* Largest payload one transaction may carry to the server (its record and
 * a cookie header fit one frame); 0 if id is unknown. */
size_t txc_payload_max(const txc_client *c, int server);

/* A transaction to submit. */
struct txc_tx {
	uint8_t kind;	     /* body kind, application-defined */
	const void *payload; /* may be NULL when payload_len is 0 */
	size_t payload_len;
	uint64_t expires_ms; /* 0: wall clock + cfg.ttl_ms */
	int nonce_set;	     /* 0: the next nonce of the client's sequence */
	uint64_t nonce;
	void *user; /* handed back in its answers */
};

/* Build and sign the record, queue it for the server and return its tx_id
 * in tx_id (may be NULL). Queued records go out at the next txc_flush /
 * txc_process / txc_poll, or at once when they fill a frame. 0, or -1 with
 * errno: EINVAL (bad server id), EMSGSIZE (over txc_payload_max), EEXIST
 * (the same body is still outstanding), ENOMEM. */
int txc_submit(txc_client *c, int server, const struct txc_tx *tx, uint8_t tx_id[TXC_ID_LEN]);

/* Send every queued record now, packed into as few frames as the MTU and
 * per_frame allow. Returns the number of frames sent. */
int txc_flush(txc_client *c);

/* Everything that is due, without blocking: send queued records, read every
 * receipt waiting on the sockets, run the retry timers. Returns the number
 * of answers delivered to the callback, or -1 on a socket error other than
 * a lost datagram. */
int txc_process(txc_client *c);

/* txc_process, then, if no answer came, wait up to timeout_ms (-1: until
 * something happens) for a receipt or the next retry time, and process
 * again. Returns answers delivered, or -1. */
int txc_poll(txc_client *c, int timeout_ms);

/* txc_poll with a timeout in microseconds (for callers with finer schedules). */
int txc_poll_us(txc_client *c, int64_t timeout_us);

/* For the caller's own loop: fill fds[0..n) with the sockets and the events
 * to wait for; returns how many there are (call with n = 0 to ask). */
int txc_fds(const txc_client *c, struct pollfd *fds, int n);

/* Microseconds until the next retry timer (0 if one is due now), or -1 if
 * none is armed. */
int64_t txc_next_timeout_us(txc_client *c);

/* Feed one receipt datagram that came from the server (for send_hook
 * transports and tests; txc_process does this for sockets). Returns the
 * answers delivered, or -1 if the datagram is not a valid receipt. */
int txc_input(txc_client *c, int server, const uint8_t *dgram, size_t len);

/* Transactions submitted and not yet finally answered. */
size_t txc_outstanding(const txc_client *c);

/* Copy the latest cookie received from the server into out; 1 if there is
 * one, 0 if not (or no such server). */
int txc_cookie(const txc_client *c, int server, uint8_t out[TXC_COOKIE_LEN]);

/* The client's clock (cfg.mono_us, else CLOCK_MONOTONIC), microseconds. */
uint64_t txc_now_us(const txc_client *c);

/* Counters since txc_open. */
struct txc_stats {
	uint64_t submitted;	   /* txc_submit calls that succeeded */
	uint64_t frames_sent;	   /* datagrams handed to the kernel (or send_hook) */
	uint64_t records_sent;	   /* records in them, retries included */
	uint64_t retries;	   /* records sent again after a timeout or `overloaded` */
	uint64_t send_errors;	   /* frames the kernel refused (counted as lost on the way) */
	uint64_t receipts;	   /* valid receipt datagrams */
	uint64_t receipts_bad;	   /* datagrams that were not valid receipts */
	uint64_t entries;	   /* receipt entries */
	uint64_t entries_unmatched; /* entries for no outstanding transaction (e.g. a late second answer) */
	uint64_t cookies;	   /* receipts that brought a new cookie */
	uint64_t overloaded_retried; /* `overloaded` answers retried rather than reported */
	uint64_t dup_waits;	   /* unlocated `duplicate` answers to a retry, waited past (see max_tries) */
	uint64_t answers;	   /* answers delivered, accepted included */
	uint64_t lost;		   /* transactions that ended TXC_LOST */
	uint64_t mtu_lowered;	   /* times a server's frame limit was lowered after EMSGSIZE */
};

/* Copy the counters into st. */
void txc_get_stats(const txc_client *c, struct txc_stats *st);

#ifdef __cplusplus
}
#endif

#endif
