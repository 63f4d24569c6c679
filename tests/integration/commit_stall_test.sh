#!/usr/bin/env bash
# A commit held for several seconds (test hook TXGATE_TEST_COMMIT_STALL_MS)
# while two workers receive everything over and over (net_pcap infinite_rx):
# the orderer waits for block buffers the whole time, and transactions it
# takes afterwards have expiries beyond the dedupe wheel's last sweep. Every
# transaction is committed exactly once, txgate keeps running, the ledger
# verifies; after a restart, a replay of everything commits nothing new.
. "$(dirname "$0")/lib.sh"
keygen 8
now=$(($(date +%s%3N)))
# a: acceptable at once; its first block's commit is held 10 s, and the
# orderer soon waits for block buffers. b: expiries 27.5 s ahead with
# max_ttl 20 s, acceptable only from about 7.5 s on, while the orderer still
# waits: far past the wheel's last sweep when it finally takes them.
gen a 1000 --seed 31 --mix valid=1 --ttl-ms 19500 --max-ttl-ms 20000
gen b 1000 --seed 32 --mix valid=1 --now-ms $((now + 8000)) --ttl-ms 19500 --max-ttl-ms 20000
cat "$T/a.tsv" "$T/b.tsv" >"$T/t.tsv"
want=$(manifest_committed "$T/t.tsv" | wc -l)
PCAPS="$T/a.pcap $T/b.pcap" config "$T/txgate.ini" 'orderer_lcore = 3' 'ring_size = 1024'
sed -i -e 's/--lcores 0@0,1@1,2@0/--lcores 0@0,1@1,2@0,3@1/' -e 's/^rx = port0:0 port1:0/rx = port0:0/' \
	-e '/^orderer_lcore = 2$/d' -e 's/^max_ttl_ms = .*/max_ttl_ms = 20000/' -e 's/^max_txs = .*/max_txs = 64/' \
	-e 's/rx_pcap=\([^ ]*\)/rx_pcap=\1,infinite_rx=1/g' "$T/txgate.ini"
printf '\n[worker1]\nlcore = 2\nrx = port1:0\n' >>"$T/txgate.ini"
sed -i 's/^path = .*/&\ncommit_group_max = 1/' "$T/txgate.ini"

TXGATE_TEST_COMMIT_STALL_MS=10000 "$TXGATE" -c "$T/txgate.ini" --status-ms 1000 2>"$T/run.log" &
pid=$!
# Run until everything is committed (the stall ends at about 10 s), 90 s
# at most, and at least 16 s so that replays keep coming after the stall.
committed_so_far() { grep -o ' committed=[0-9]*' "$T/run.log" | tail -1 | cut -d= -f2; }
while [ "$(("$(date +%s%3N)" - now))" -lt 16000 ] || [ "$(committed_so_far)" != "$want" ]; do
	kill -0 $pid 2>/dev/null || { cat "$T/run.log" >&2; fail "txgate exited during the run"; }
	[ "$(("$(date +%s%3N)" - now))" -lt 90000 ] || break
	sleep 0.2
done
kill -0 $pid 2>/dev/null || { cat "$T/run.log" >&2; fail "txgate exited during the run"; }
kill -TERM $pid
rc=0
wait $pid || rc=$?
[ $rc = 0 ] || { cat "$T/run.log" >&2; fail "txgate exited with status $rc"; }
grep -q 'TEST HOOK' "$T/run.log" || fail "the stall hook was not taken"
[ "$(counter known_at_commit)" = 0 ] || { cat "$T/run.log" >&2; fail "the window forgot ids: $(counter known_at_commit) refused at commit"; }
expect_ledger "$T/t.tsv"
[ "$(counter committed)" = "$want" ] || fail "committed $(counter committed), want $want"

# Restart: everything again, once; nothing new is committed.
h=$(head_height)
PCAPS="$T/a.pcap $T/b.pcap" config "$T/txgate.ini"
sed -i -e 's/^max_ttl_ms = .*/max_ttl_ms = 20000/' "$T/txgate.ini"
run "$T/txgate.ini"
[ "$(counter committed)" = 0 ] || fail "the restart committed $(counter committed) again"
[ "$(counter active_ms)" = 0 ] || fail "active_ms $(counter active_ms) with nothing committed"
grep -q "height=$h " "$T/run.log" || fail "the summary does not show the ledger's height $h"
[ "$(counter duplicate)" = "$want" ] || fail "duplicate $(counter duplicate) after restart, want $want"
[ "$(head_height)" = "$h" ] || fail "height moved from $h to $(head_height)"
expect_ledger "$T/t.tsv"
echo "ok commit stall: $want committed once across a 10 s stall, a replay and a restart"
