#!/usr/bin/env bash
# Prometheus metrics of a running txgate: after a mixed replay, GET /metrics
# is accepted by `promtool check metrics` (Debian package prometheus), every
# latency histogram has data, and the counters equal the exit summary's.
. "$(dirname "$0")/lib.sh"
command -v promtool >/dev/null || { echo "skip: promtool missing (apt-get install prometheus)"; exit 77; }
keygen 8
gen t 3000 --seed 93 --mix default
PCAPS=$T/t.pcap config "$T/txgate.ini"
"$TXGATE" -c "$T/txgate.ini" --status-ms 0 2>"$T/run.log" &
pid=$!
trap 'kill -9 $pid 2>/dev/null || true; rm -rf "$T"' EXIT
want=$(manifest_committed "$T/t.tsv" | wc -l)
port=
for _ in $(seq 1 300); do
	port=$(sed -n 's/^txgate: metrics on port \([0-9]*\).*/\1/p' "$T/run.log")
	[ -n "$port" ] && grep -q '^txgate: running' "$T/run.log" && break
	sleep 0.05
done
[ -n "$port" ] || { cat "$T/run.log" >&2; fail "no metrics port"; }
scrape() { python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())' "http://127.0.0.1:$port/metrics"; }
value() { awk -v k="$1" '$1 == k { print $2 }' "$T/metrics.txt"; }
# Until the replay is committed (nothing more arrives after it).
for _ in $(seq 1 300); do
	scrape >"$T/metrics.txt"
	[ "$(value 'txgate_records_by_status_total{status="committed"}')" = "$want" ] && break
	sleep 0.1
done
sleep 0.5
scrape >"$T/metrics.txt"
promtool check metrics <"$T/metrics.txt" || fail "promtool check metrics"
for h in receive_to_decision admission_to_sealed sealed_to_durable ledger_commit verify_batch; do
	n=$(value "txgate_${h}_seconds_count")
	[ -n "$n" ] && [ "$n" -gt 0 ] || fail "histogram txgate_${h}_seconds has no data"
done
kill -TERM $pid
wait $pid || fail "txgate did not stop cleanly"
pid=
for pair in "committed:records_by_status_total{status=\"committed\"}" "duplicate:records_by_status_total{status=\"duplicate\"}" \
	"bad_signature:records_by_status_total{status=\"bad_signature\"}" "rx_packets:rx_packets_total" \
	"height:ledger_height" "blocks:blocks_committed_total" "frame_bad_magic:frames_dropped_total{reason=\"bad_magic\"}" \
	"pkt_udp_csum:packets_dropped_total{reason=\"udp_csum\"}"; do
	k=${pair%%:*} m=txgate_${pair#*:}
	[ "$(counter "$k")" = "$(value "$m")" ] || fail "summary $k=$(counter "$k"), /metrics $m=$(value "$m")"
done
echo "ok metrics: promtool accepts /metrics, five histograms have data, counters equal the summary's ($want committed)"
