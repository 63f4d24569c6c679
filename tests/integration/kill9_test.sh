#!/usr/bin/env bash
# kill -9 in the middle of a replay loses no committed block: the ledger
# verifies, and a restart commits the rest, each transaction once.
. "$(dirname "$0")/lib.sh"
keygen 8
gen t 20000 --seed 41 --mix valid=1
PCAPS=$T/t.pcap config "$T/txgate.ini" 'verifier = sodium'
"$TXGATE" -c "$T/txgate.ini" --status-ms 0 2>"$T/first.log" &
pid=$!
wait_running $pid 3
kill -9 $pid 2>/dev/null || true
wait $pid 2>/dev/null || true
"$TXGATECTL" ledger --ledger "$T/ledger" verify >"$T/v1.log" 2>&1 || { cat "$T/v1.log" >&2; fail "ledger does not verify after kill -9"; }
before=$(ledger_ids | wc -l)
manifest_committed "$T/t.tsv" >"$T/want"
ledger_ids | sort >"$T/have"
[ -z "$(comm -23 "$T/have" "$T/want")" ] || fail "the ledger holds ids the manifest does not commit"
# A restart resumes and commits the rest.
run "$T/txgate.ini"
expect_ledger "$T/t.tsv"
[ "$(counter duplicate)" = "$before" ] || fail "restart: duplicate $(counter duplicate), want $before"
echo "ok kill -9: $before committed before the kill, all $(wc -l <"$T/want") after the restart"
