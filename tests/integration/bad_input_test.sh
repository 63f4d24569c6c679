#!/usr/bin/env bash
# One kind of bad input (txgen mix kind $1) among valid traffic: each is
# counted under its own reason, nothing else is lost, the ledger verifies.
. "$(dirname "$0")/lib.sh"
kind=${1:?usage: bad_input_test.sh KIND}
keygen 4
gen k 400 --seed 31 --mix "valid=3,$kind=2"
awk -F"\t" -v k="$kind" '$2 == k { f = 1 } END { exit !f }' "$T/k.tsv" || fail "txgen made no $kind input"
PCAPS=$T/k.pcap config "$T/txgate.ini"
run "$T/txgate.ini"
expect_counts "$T/k.tsv"
expect_ledger "$T/k.tsv"
echo "ok $kind: $(awk -F'\t' -v k="$kind" '$2 == k' "$T/k.tsv" | wc -l) counted"
