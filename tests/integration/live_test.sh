#!/usr/bin/env bash
# txgate as a live service: a net_tap port whose kernel end is moved into a
# network namespace this test creates. From that namespace, with no static
# neighbour entry, txsend (the client library over kernel UDP sockets) sends
# transactions over IPv4 (with ADMIT) and over IPv6 and follows each to its
# final receipt; every one is committed exactly once and the ledger
# verifies. (Receipt contents against the ledger, duplicates with their
# location included, are checked entry by entry in receipts_test.sh.)
# Needs root and iproute2;
# skipped (77) where network namespaces cannot be made.
. "$(dirname "$0")/lib.sh"
TXSEND=$BUILD/control/client/txsend
ns_new l
keygen 2
tap_config "$T/tap.ini" "$IF"
tap_start "$T/tap.ini" "$T/run.log"
ns_attach "$IF" "$NS"

# send NAME SERVER [txsend options]: txsend from the namespace; its summary in $T/NAME.out
send() {
	local name=$1 server=$2
	shift 2
	ip netns exec "$NS" "$TXSEND" --server "$server" --key "$T/keys/member1.key" --chain "$CHAIN" \
		--timeout-ms 300 --max-tries 8 "$@" >"$T/$name.out" 2>&1 ||
		{ cat "$T/$name.out" "$T/run.log" >&2; fail "txsend $name"; }
}
send v4 "$DST4:7400" --count 300 --rate 2000 --admit
send v6 "[$DST6]:7400" --count 300 --rate 2000 --per-frame 16
for n in v4 v6; do
	grep -qE '(^|[^a-z_])committed[ =:]+300([^0-9]|$)' "$T/$n.out" || { cat "$T/$n.out" >&2; fail "$n: not all 300 committed"; }
done
# A client that is not txsend: the spec and kernel UDP sockets, sending
# txgen's signed frames of every record kind (with RECEIPT|ADMIT).
gen mixed 400 --seed 61 --flags 3 --mix valid=6,multi=3,dup=1,forged=1,bad_sig=1,expired=1,too_far=1,unknown=1,wrong_chain=1,rec_malformed=1,frame_bad_magic=1,frame_overrun=1
ip netns exec "$NS" python3 "$(dirname "$0")/spec_client.py" "$T/mixed.pcap" "$T/mixed.tsv" "$DST4" "$DST6" 7400 \
	"$T/client.jsonl" >"$T/client.out" 2>&1 || { cat "$T/client.out" "$T/run.log" >&2; fail "the spec client"; }
cat "$T/client.out"
kill -TERM $pid
rc=0
wait $pid || rc=$?
pid=
[ $rc = 0 ] || { cat "$T/run.log" >&2; fail "txgate exited with $rc"; }
c=$(manifest_committed "$T/mixed.tsv" | wc -l)
[ "$(counter committed)" = $((600 + c)) ] || fail "txgate counted $(counter committed) committed, want $((600 + c))"
[ "$(counter frames_cookie_valid)" -ge 2 ] || fail "the echoed cookies were not taken as valid"
# Every committed receipt the spec client got, and every duplicate with a
# location, points where the ledger has the transaction.
"$TXGATECTL" ledger --ledger "$T/ledger" dump >"$T/dump.jsonl"
python3 - "$T/dump.jsonl" "$T/client.jsonl" <<'PY' || fail "receipt locations differ from the ledger"
import json, sys
loc = {}
for l in open(sys.argv[1]):
    o = json.loads(l)
    if o.get("type") == "tx":
        loc[o["tx_id"]] = (o["height"], o["index"])
bad = 0
for l in open(sys.argv[2]):
    r = json.loads(l)
    if r["status"] == "committed" or (r["status"] == "duplicate" and r["height"]):
        if loc.get(r["tx_id"]) != (r["height"], r["index"]):
            print("%s %s at %d/%d, ledger %s" % (r["tx_id"], r["status"], r["height"], r["index"], loc.get(r["tx_id"])))
            bad += 1
sys.exit(1 if bad else 0)
PY
[ "$(counter receipts_dropped)" = 0 ] || note "receipts dropped: $(counter receipts_dropped)"
"$TXGATECTL" ledger --ledger "$T/ledger" verify >/dev/null || fail "ledger verify"
[ "$(ledger_ids | sort -u | wc -l)" = $((600 + c)) ] || fail "the ledger does not hold $((600 + c)) distinct transactions"
echo "ok live: 300 over IPv4 (with ADMIT) and 300 over IPv6 committed by txsend; a plain spec client got every rejection code, committed receipts at the ledger's places, duplicates with the original's location, and service with an echoed cookie"
