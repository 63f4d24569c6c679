#!/usr/bin/env bash
# One flipped byte in data.mdb must never crash a reader. A ledger of a few
# hundred transactions is made by a real txgate replay; then, in TRIALS
# trials (seeded), a copy gets one byte of the used part of data.mdb XORed
# with a random non-zero mask (every other trial within the first 160 bytes
# of a page: page headers, node offsets, meta pages), and
#   - `txgatectl ledger` dump, verify, head and block 1 never die by a
#     signal (exit status < 128) and print no sanitizer report;
#   - whenever the copy's dump differs from the original's (or dump fails),
#     `verify --expect-head H:HEX` (the original's head) exits 1; it never
#     exits 0 on a copy whose dump differs, whatever the flip hit (a flip
#     of LMDB's newer meta page that rolls the ledger back included: one
#     such flip is also made on purpose first, and verify without
#     --expect-head must pass it while verify with it fails);
#   - txgate started on the copy (an empty pcap, --exit-on-drain) exits with
#     a status < 128 and no sanitizer report (FLIP_TXGATE=0 skips this).
# Environment: TRIALS (100), SEED (1), COUNT (400 records), FLIP_TXGATE (1).
# A failing trial is printed with its offset and mask; FLIP_ONLY=N runs
# trial N alone; FLIP_VERBOSE=1 prints every trial's outcome. The offsets
# and masks depend only on SEED, but the original's page layout may differ
# from run to run (commit grouping follows timing): FLIP_KEEP=DIR saves the
# original and every failing copy.
. "$(dirname "$0")/lib.sh"
TRIALS=${TRIALS:-100}
SEED=${SEED:-1}
FLIP_TXGATE=${FLIP_TXGATE:-1}
TTL=3600000 # every block is within the ttl, so the start-up walk reads them all

# --- the original: a replay through txgate, blocks of at most 8 records
keygen 4
gen traffic "${COUNT:-400}" --seed 31 --mix valid=1 --ttl-ms "$TTL" --max-ttl-ms "$TTL"
PCAPS=$T/traffic.pcap config "$T/txgate.ini"
sed -i "s/^max_txs = .*/max_txs = 8/; s/^max_ttl_ms = .*/max_ttl_ms = $TTL/" "$T/txgate.ini"
run "$T/txgate.ini"
expect_ledger "$T/traffic.tsv"
mkdir "$T/orig"
cp "$T/ledger/data.mdb" "$T/orig/"
ORIG=$T/orig
"$TXGATECTL" ledger --ledger "$ORIG" dump >"$T/orig.dump" || fail "dump of the original"
HEAD=$("$TXGATECTL" ledger --ledger "$ORIG" head) || fail "head of the original"
HEIGHT=$(echo "$HEAD" | sed -n 's/^height=\([0-9]*\) .*/\1/p')
HASH=$(echo "$HEAD" | sed -n 's/.* hash=\([0-9a-f]\{64\}\) .*/\1/p')
[ -n "$HEIGHT" ] && [ "$HEIGHT" -gt 1 ] && [ ${#HASH} = 64 ] || fail "original head: $HEAD"
"$TXGATECTL" ledger --ledger "$ORIG" verify --expect-head "$HEIGHT:$HASH" >/dev/null 2>&1 ||
	fail "the original does not verify against its own head"
SIZE=$(stat -c %s "$ORIG/data.mdb") # LMDB writes pages up to its last used one
note "original: height $HEIGHT, $(grep -c '"type":"tx"' "$T/orig.dump") txs, data.mdb $SIZE bytes"

# txgate on the copies: no packets, the ledger at $T/copy
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x01\x00\x00\x00' >"$T/empty.pcap"
PCAPS=$T/empty.pcap config "$T/start.ini"
sed -i "s|^path = .*|path = $T/copy|; s/^max_ttl_ms = .*/max_ttl_ms = $TTL/" "$T/start.ini"
# start_txgate: txgate on $T/copy until its (empty) input drains; status in rc_t, stderr in $T/t.err
start_txgate() {
	rc_t=0
	rm -f "$T/copy/lock.mdb"
	timeout 60 "$TXGATE" -c "$T/start.ini" --exit-on-drain --drain-ms 0 --status-ms 0 >/dev/null 2>"$T/t.err" || rc_t=$?
}
if [ "$FLIP_TXGATE" != 0 ]; then
	# an unflipped copy starts (so a refusal below is about the flip)
	mkdir "$T/copy"
	cp "$ORIG/data.mdb" "$T/copy/"
	start_txgate
	[ "$rc_t" = 0 ] || { cat "$T/t.err" >&2; fail "txgate on an unflipped copy exited $rc_t"; }
	note "txgate on an unflipped copy: $(grep -o '[0-9]* recent ids restored' "$T/t.err" || echo '(no restore line)')"
fi

# A 64-bit LCG: the same offsets and masks on every machine and shell.
RNG=$SEED
rnd() { # rnd N: a number in [0, N)
	RNG=$(((RNG * 6364136223846793005 + 1442695040888963407) & 0x7fffffffffffffff))
	R=$(((RNG >> 31) % $1))
}

# flip FILE OFFSET MASK: XOR the byte at OFFSET with MASK
flip() {
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $((b ^ $3)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

SAN_RE='Sanitizer|runtime error:|LeakSanitizer'

# First, a rollback made on purpose: clear the highest set bit of the newer
# meta page's txnid (offset 144 of page 0 or 1), so that LMDB silently uses
# the older meta page, i.e. the ledger as of the commit before the last.
# verify alone cannot tell; with the recorded head it must.
txnid() { od -An -tu8 -j $(($1 * 4096 + 144)) -N8 "$ORIG/data.mdb" | tr -d ' '; }
t0=$(txnid 0) t1=$(txnid 1)
newer=$([ "$t0" -gt "$t1" ] && echo 0 || echo 1)
tn=$([ "$newer" = 0 ] && echo "$t0" || echo "$t1")
bit=62
while [ $(((tn >> bit) & 1)) = 0 ]; do bit=$((bit - 1)); done
rm -rf "$T/rolled"
mkdir "$T/rolled"
cp "$ORIG/data.mdb" "$T/rolled/"
flip "$T/rolled/data.mdb" $((newer * 4096 + 144 + bit / 8)) $((1 << (bit % 8)))
rolled_head=$("$TXGATECTL" ledger --ledger "$T/rolled" head) || fail "head of the rolled-back copy"
case "$rolled_head" in
"height=$HEIGHT "*) fail "clearing bit $bit of txnid $tn of meta page $newer did not roll the ledger back" ;;
esac
"$TXGATECTL" ledger --ledger "$T/rolled" verify >/dev/null 2>"$T/rolled.err" ||
	{ cat "$T/rolled.err" >&2; fail "the rolled-back copy is not consistent (LMDB reused the older tree's pages?)"; }
rc=0
"$TXGATECTL" ledger --ledger "$T/rolled" verify --expect-head "$HEIGHT:$HASH" >/dev/null 2>"$T/rolled.err" || rc=$?
[ "$rc" = 1 ] && grep -q "no such block" "$T/rolled.err" ||
	{ cat "$T/rolled.err" >&2; fail "verify --expect-head on the rolled-back copy exited $rc"; }
note "rolled back on purpose to $(echo "$rolled_head" | cut -d' ' -f1): $(head -1 "$T/rolled.err")"
bad=0 differ=0 dump_failed=0 crashed=0 rolled=0 vfail=0 tx_refused=0
C=$T/copy
for trial in $(seq 1 "$TRIALS"); do
	# odd trials: any byte; even ones: one of the first 160 bytes of a
	# page (the page header and first node offsets, or a meta page's
	# fields), where a flip changes LMDB's structure rather than a value
	if [ $((trial % 2)) = 1 ]; then
		rnd "$SIZE"
		off=$R
	else
		rnd $((SIZE / 4096))
		off=$((R * 4096))
		rnd 160
		off=$((off + R))
	fi
	rnd 255
	mask=$((R + 1))
	[ -n "${FLIP_ONLY:-}" ] && [ "$FLIP_ONLY" != "$trial" ] && continue
	rm -rf "$C"
	mkdir "$C"
	cp "$ORIG/data.mdb" "$C/"
	flip "$C/data.mdb" "$off" "$mask"
	bad_before=$bad
	what="trial $trial (SEED=$SEED offset $off mask $mask, page $((off / 4096)))"

	rc_d=0 rc_v=0 rc_h=0 rc_b=0 rc_t=0
	"$TXGATECTL" ledger --ledger "$C" dump >"$T/c.dump" 2>"$T/c.dump.err" || rc_d=$?
	"$TXGATECTL" ledger --ledger "$C" verify --expect-head "$HEIGHT:$HASH" >"$T/c.verify" 2>"$T/c.verify.err" || rc_v=$?
	"$TXGATECTL" ledger --ledger "$C" head >/dev/null 2>"$T/c.head.err" || rc_h=$?
	"$TXGATECTL" ledger --ledger "$C" block 1 >/dev/null 2>"$T/c.block.err" || rc_b=$?
	for rc in $rc_d $rc_v $rc_h $rc_b; do
		if [ "$rc" -ge 128 ]; then
			echo "FAIL: $what: txgatectl died by signal $((rc - 128)) (dump $rc_d verify $rc_v head $rc_h block $rc_b)" >&2
			bad=$((bad + 1))
		fi
	done
	if grep -E -q "$SAN_RE" "$T"/c.*.err; then
		echo "FAIL: $what: sanitizer report from txgatectl:" >&2
		grep -E -h -A5 "$SAN_RE" "$T"/c.*.err | head -20 >&2
		bad=$((bad + 1))
	fi
	if [ "$rc_v" != 0 ] && [ "$rc_v" != 1 ]; then
		echo "FAIL: $what: verify exited $rc_v: $(head -c 300 "$T/c.verify.err")" >&2
		bad=$((bad + 1))
	fi
	grep -q "crashed the LMDB reader" "$T"/c.*.err && crashed=$((crashed + 1))
	[ "$rc_v" = 1 ] && vfail=$((vfail + 1))
	if [ "$rc_d" != 0 ] || ! cmp -s "$T/c.dump" "$T/orig.dump"; then
		differ=$((differ + 1))
		[ "$rc_d" != 0 ] && dump_failed=$((dump_failed + 1))
		grep -q "rolled back" "$T/c.verify.err" && rolled=$((rolled + 1))
		if [ "$rc_v" != 1 ]; then
			echo "FAIL: $what: dump differs (exit $rc_d) but verify exited $rc_v:" >&2
			cat "$T/c.verify" "$T/c.verify.err" >&2
			diff "$T/orig.dump" "$T/c.dump" | head -4 >&2
			bad=$((bad + 1))
		fi
	fi

	if [ "$FLIP_TXGATE" != 0 ]; then
		start_txgate
		if [ "$rc_t" -ge 124 ]; then
			echo "FAIL: $what: txgate exited $rc_t ($([ "$rc_t" -ge 128 ] && echo "signal $((rc_t - 128))" || echo "timeout?")):" >&2
			tail -5 "$T/t.err" >&2
			bad=$((bad + 1))
		elif grep -E -q "$SAN_RE" "$T/t.err"; then
			echo "FAIL: $what: sanitizer report from txgate:" >&2
			grep -E -A5 "$SAN_RE" "$T/t.err" | head -20 >&2
			bad=$((bad + 1))
		fi
		[ "$rc_t" = 1 ] && tx_refused=$((tx_refused + 1))
	fi
	if [ -n "${FLIP_VERBOSE:-}" ]; then
		note "$what: dump $rc_d verify $rc_v txgate $rc_t: $(head -1 "$T/c.verify.err")" \
			"$([ "$rc_t" = 1 ] && grep '^txgate: ' "$T/t.err" | tail -1)"
	fi
	if [ "$bad" != "$bad_before" ] && [ -n "${FLIP_KEEP:-}" ]; then
		mkdir -p "$FLIP_KEEP/trial$trial"
		cp "$ORIG/data.mdb" "$FLIP_KEEP/orig.data.mdb"
		cp "$ORIG/data.mdb" "$FLIP_KEEP/trial$trial/"
		flip "$FLIP_KEEP/trial$trial/data.mdb" "$off" "$mask"
	fi
done
note "$TRIALS trials: dump differed in $differ (failed in $dump_failed), verify failed in $vfail," \
	"$rolled rollbacks caught by --expect-head, $crashed contained crashes, txgate refused to start on $tx_refused"
[ "$bad" = 0 ] || fail "$bad problems in $TRIALS trials"
echo "ok ledger_flip: $TRIALS trials, $differ changed the ledger's contents, all found by verify, no crash"
