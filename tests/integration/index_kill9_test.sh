#!/usr/bin/env bash
# kill -9 between blocks' commit and their indexing (the tx_id index is
# written off the commit path, docs/ledger.md "The tx_id index"): every
# block counted committed is there, and every lookup is right while the
# index lags behind the blocks (`txgatectl ledger tx` for committed ids, an
# unknown id not found, `verify` checking the index and the blocks both
# ways); a restart catches the index up and commits the rest, each
# transaction once.
. "$(dirname "$0")/lib.sh"
keygen 8
gen t 60000 --seed 43 --mix valid=1
PCAPS=$T/t.pcap config "$T/txgate.ini" 'verifier = sodium'
"$TXGATE" -c "$T/txgate.ini" --status-ms 0 2>"$T/first.log" &
pid=$!
# A small ledger's ids go to txidx with their commit; past 8192 the indexer
# waits for 128k transactions, 200 ms without a commit or 1 s:
# at height 250 of a busy replay, the last blocks are not indexed yet.
wait_running $pid 250
kill -9 $pid 2>/dev/null || true
wait $pid 2>/dev/null || true
h=$(head_height)
[ "$h" -ge 250 ] || fail "height $h after the kill"
"$TXGATECTL" ledger --ledger "$T/ledger" verify >"$T/v1.log" 2>&1 || { cat "$T/v1.log" >&2; fail "ledger does not verify after kill -9"; }
# Every committed id is found at its place (from the index or from the
# blocks above its watermark), in particular those of the last blocks.
"$TXGATECTL" ledger --ledger "$T/ledger" dump |
	awk -F'[:,"]+' '/"type":"tx"/ { for (i = 1; i < NF; i++) { if ($i == "height") h = $(i + 1); if ($i == "index") x = $(i + 1); if ($i == "tx_id") id = $(i + 1) } print h, x, id }' >"$T/locs"
n=$(wc -l <"$T/locs")
[ "$n" -gt 0 ] || fail "no transactions in the ledger after the kill"
# all of the last block, and a sample of the rest
{ awk -v h="$h" '$1 == h' "$T/locs"; awk 'NR % 97 == 1' "$T/locs"; } >"$T/probe"
checked=0
while read -r ph px pid_; do
	out=$("$TXGATECTL" ledger --ledger "$T/ledger" tx "$pid_") || fail "tx $pid_ (height $ph index $px) not found"
	case "$out" in
	"tx_id=$pid_ height=$ph index=$px "*) ;;
	*) fail "tx $pid_: got '$out', want height $ph index $px" ;;
	esac
	checked=$((checked + 1))
done <"$T/probe"
rc=0
"$TXGATECTL" ledger --ledger "$T/ledger" tx "$(printf '%064d' 7)" >/dev/null 2>&1 || rc=$?
[ $rc = 1 ] || fail "an unknown id: exit $rc, want 1"
manifest_committed "$T/t.tsv" >"$T/want"
cut -d' ' -f3 "$T/locs" | sort >"$T/have"
[ -z "$(comm -23 "$T/have" "$T/want")" ] || fail "the ledger holds ids the manifest does not commit"
# A restart reads the blocks above the watermark back, indexes them and
# commits the rest: the duplicates are refused by the dedupe window or the
# store's guard, never committed twice.
run "$T/txgate.ini"
expect_ledger "$T/t.tsv"
[ "$(counter duplicate)" = "$n" ] || fail "restart: duplicate $(counter duplicate), want $n"
echo "ok index kill -9: $n committed (height $h) before the kill, $checked lookups right; all $(wc -l <"$T/want") after the restart"
