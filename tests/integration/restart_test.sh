#!/usr/bin/env bash
# Two runs on one ledger: heights continue, and everything committed by the
# first run (or a forged copy of it) is a duplicate when sent again.
. "$(dirname "$0")/lib.sh"
keygen 8
gen a 1500 --seed 11 --mix valid=6,multi=3,dup=1,forged=1,bad_sig=1
PCAPS=$T/a.pcap config "$T/txgate.ini"
run "$T/txgate.ini"
expect_counts "$T/a.tsv"
expect_ledger "$T/a.tsv"
h1=$(head_height)
[ "$h1" -gt 0 ] || fail "first run committed nothing"

# The second run replays a again beside new traffic b.
gen b 1500 --seed 12 --mix valid=6,multi=3,dup=1
manifest_committed "$T/a.tsv" >"$T/a.committed"
awk -F'\t' 'NR == FNR { c[$1] = 1; next } !/^#/ && ($3 in c) { $4 = "duplicate" } { print }' OFS='\t' \
	"$T/a.committed" "$T/a.tsv" >"$T/a2.tsv"
PCAPS="$T/a.pcap $T/b.pcap" config "$T/txgate.ini"
run "$T/txgate.ini"
grep -q "height $h1," "$T/run.log" || { cat "$T/run.log" >&2; fail "second run did not resume at height $h1"; }
expect_counts "$T/a2.tsv" "$T/b.tsv"
expect_ledger "$T/a.tsv" "$T/b.tsv"
h2=$(head_height)
[ "$h2" -gt "$h1" ] || fail "height did not grow: $h1 then $h2"
echo "ok restart: heights $h1 then $h2"
