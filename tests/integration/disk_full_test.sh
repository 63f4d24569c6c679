#!/usr/bin/env bash
# The ledger's filesystem fills up mid-replay (a 3 MiB tmpfs): the failed
# commit is reported as "no space left", nothing waits for ever (the drain
# ends and txgate exits 3), and what was committed verifies. Needs root to
# mount; skipped (exit 77) where mounting is not allowed.
. "$(dirname "$0")/lib.sh"
mkdir -p "$T/ledger"
mount -t tmpfs -o size=3m tmpfs "$T/ledger" 2>/dev/null || { echo "skip: cannot mount a tmpfs here"; exit 77; }
trap 'umount "$T/ledger" 2>/dev/null; rm -rf "$T"' EXIT
keygen 8
gen t 30000 --seed 81 --mix valid=1
PCAPS=$T/t.pcap config "$T/txgate.ini"
sed -i 's/^path = .*/&\nmin_free_mb = 0/' "$T/txgate.ini"
rc=0
timeout 120 "$TXGATE" -c "$T/txgate.ini" --exit-on-drain --drain-ms 700 --status-ms 0 2>"$T/run.log" || rc=$?
[ $rc = 3 ] || { cat "$T/run.log" >&2; fail "exit status $rc, want 3 (a failed commit)"; }
grep -q 'no space left' "$T/run.log" || { cat "$T/run.log" >&2; fail "the failure does not say 'no space left'"; }
grep -q 'summary after' "$T/run.log" || fail "no summary"
"$TXGATECTL" ledger --ledger "$T/ledger" verify >"$T/verify.log" 2>&1 || { cat "$T/verify.log" >&2; fail "ledger verify"; }
n=$(ledger_ids | wc -l)
[ "$(counter committed)" = "$n" ] || fail "counted $(counter committed) committed, the ledger holds $n"
echo "ok disk full: $n committed, then 'no space left' and exit 3"
