#!/usr/bin/env bash
# The same transactions arriving on two workers at once (two ports, each
# replaying the same pcap) are committed exactly once.
. "$(dirname "$0")/lib.sh"
keygen 8
gen t 3000 --seed 21 --mix valid=6,multi=3,dup=1
PCAPS="$T/t.pcap $T/t.pcap" config "$T/txgate.ini" 'orderer_lcore = 3'
# Two workers, one port each; four lcores on two CPUs.
sed -i -e 's/--lcores 0@0,1@1,2@0/--lcores 0@0,1@1,2@0,3@1/' -e 's/^rx = port0:0 port1:0/rx = port0:0/' \
	-e '/^orderer_lcore = 2$/d' "$T/txgate.ini"
printf '\n[worker1]\nlcore = 2\nrx = port1:0\n' >>"$T/txgate.ini"
run "$T/txgate.ini"
expect_ledger "$T/t.tsv"
c=$(awk -F'\t' '!/^#/ && $4 == "committed"' "$T/t.tsv" | wc -l)
d=$(awk -F'\t' '!/^#/ && $4 == "duplicate"' "$T/t.tsv" | wc -l)
[ "$(counter committed)" = "$c" ] || fail "committed $(counter committed), want $c"
[ "$(counter duplicate)" = $((c + 2 * d)) ] || fail "duplicate $(counter duplicate), want $((c + 2 * d))"
echo "ok two workers: $c committed once, $(counter duplicate) duplicates"
