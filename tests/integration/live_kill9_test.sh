#!/usr/bin/env bash
# kill -9 of a live txgate while txsend sends from a network namespace, then
# a restart on the same ledger: txsend's retries (the same bytes) reach the
# new txgate, and every transaction txsend saw committed is in the ledger
# exactly once, where its receipt said (a duplicate answer after the
# restart gives the original's place). Needs root and iproute2; skipped
# (77) where network namespaces cannot be made.
. "$(dirname "$0")/lib.sh"
TXSEND=$BUILD/control/client/txsend
ns_new k
keygen 2
tap_config "$T/tap.ini" "$IF"
tap_start "$T/tap.ini" "$T/run1.log"
ns_attach "$IF" "$NS"
# 4000 transactions at 1000/s, retried for up to ~15 s each.
ip netns exec "$NS" "$TXSEND" --server "$DST4:7400" --key "$T/keys/member1.key" --chain "$CHAIN" \
	--count 4000 --rate 1000 --timeout-ms 500 --max-timeout-ms 2000 --max-tries 12 \
	--answers "$T/answers.tsv" >"$T/txsend.out" 2>&1 &
spid=$!
for _ in $(seq 1 300); do # until something is committed
	[ "$(head_height)" -gt 2 ] && break
	sleep 0.05
done
[ "$(head_height)" -gt 2 ] || fail "nothing committed before the kill"
kill -9 $pid
wait $pid 2>/dev/null || true
pid=
h=$(head_height)
# The tap went with the process: a new txgate makes a new one.
sleep 0.5
tap_start "$T/tap.ini" "$T/run2.log"
ns_attach "$IF" "$NS"
rc=0
wait $spid || rc=$?
spid=
[ $rc = 0 ] || { cat "$T/txsend.out" "$T/run2.log" >&2; fail "txsend exit $rc: transactions lost"; }
kill -TERM $pid
wait $pid || fail "the second txgate did not stop cleanly"
pid=
"$TXGATECTL" ledger --ledger "$T/ledger" verify >/dev/null || fail "ledger verify"
"$TXGATECTL" ledger --ledger "$T/ledger" dump >"$T/dump.jsonl"
python3 - "$T/dump.jsonl" "$T/answers.tsv" <<'PY' || fail "txsend's committed transactions and the ledger differ"
import collections, json, sys
loc, n = {}, collections.Counter()
for l in open(sys.argv[1]):
    o = json.loads(l)
    if o.get("type") == "tx":
        loc[o["tx_id"]] = (o["height"], o["index"])
        n[o["tx_id"]] += 1
bad, seen = 0, 0
for l in open(sys.argv[2]):
    tid, st, h, i = l.split()
    if st == "committed" or (st == "duplicate" and int(h)):
        seen += 1
        if n[tid] != 1 or loc.get(tid) != (int(h), int(i)):
            print("%s: %s at %s/%s; ledger holds it %d times at %s" % (tid, st, h, i, n[tid], loc.get(tid)))
            bad += 1
    elif st != "committed":
        print("%s: final answer %s" % (tid, st))
        bad += 1
extra = [t for t, c in n.items() if c != 1]
print("kill -9: %d answers with a place, %d problems, %d ids more than once" % (seen, bad, len(extra)))
sys.exit(1 if bad or extra or seen != 4000 else 0)
PY
echo "ok live kill -9: killed at height $h, restarted, txsend saw all 4000 committed, each once in the ledger where its receipt said"
