#!/usr/bin/env bash
# SIGTERM in the middle of a replay drains: txgate stops RX, orders and
# commits everything in flight, exits 0 with nothing left in flight, and
# the ledger holds exactly what it counted committed. While it runs,
# txgatectl stats reads its counters through DPDK telemetry.
. "$(dirname "$0")/lib.sh"
keygen 8
gen t 20000 --seed 61 --mix valid=1
PCAPS=$T/t.pcap config "$T/txgate.ini" 'verifier = sodium'
"$TXGATE" -c "$T/txgate.ini" --status-ms 200 2>"$T/run.log" &
pid=$!
wait_running $pid 3 "$T/run.log"
"$TXGATECTL" -c "$T/txgate.ini" ledger head | grep -q "chain_id=$CHAIN" || fail "txgatectl -c: no head"
grep -q "txgate: rx .* pkt/s, .* tx/s committed, height" "$T/run.log" || fail "no status line while running"
"$TXGATECTL" -c "$T/txgate.ini" stats --telemetry >"$T/stats.json" || fail "txgatectl stats"
grep -q '"/txgate/stats":{"rx_packets":[1-9]' "$T/stats.json" || { cat "$T/stats.json" >&2; fail "stats lack rx_packets"; }
grep -q '"committed":' "$T/stats.json" || fail "stats lack committed"
kill -TERM $pid
rc=0
wait $pid || rc=$?
[ $rc = 0 ] || { cat "$T/run.log" >&2; fail "txgate exited with $rc after SIGTERM"; }
grep -q "draining" "$T/run.log" || fail "no drain message"
[ "$(counter in_flight)" = 0 ] || fail "in_flight $(counter in_flight) after the drain"
n=$(ledger_ids | wc -l)
[ "$(counter committed)" = "$n" ] || fail "counted $(counter committed) committed, the ledger holds $n"
[ "$n" -lt 20000 ] || note "the replay finished before SIGTERM"
"$TXGATECTL" -c "$T/txgate.ini" ledger verify >/dev/null || fail "ledger verify after the drain"
manifest_committed "$T/t.tsv" >"$T/want"
ledger_ids | sort >"$T/have"
[ -z "$(comm -23 "$T/have" "$T/want")" ] || fail "the ledger holds ids the manifest does not commit"
echo "ok sigterm: drained with $n committed, stats read while running"
