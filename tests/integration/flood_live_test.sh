#!/usr/bin/env bash
# Flood protection on a live port (docs/flood.md), with load forced on
# ([dataplane] load = on) so that the behaviour, not the timing, is tested:
# - txsend from a network namespace: its first frames (no cookie yet) are
#   answered overloaded with a cookie, it retries with the cookie, and every
#   transaction is committed exactly once: cookied records are checked;
# - flood_client.py: a (member, source prefix) pair whose signatures keep
#   failing is boxed and its records dropped unanswered, while the same
#   member from another prefix and another member from the same prefix are
#   served.
# Needs root and iproute2; skipped (77) where namespaces cannot be made.
. "$(dirname "$0")/lib.sh"
TXSEND=$BUILD/control/client/txsend
ns_new f
keygen 2
# One key directory per member, so that each pcap is signed by one member.
for i in 1 2; do
	mkdir -p "$T/k$i"
	cp "$T/keys/member$i.key" "$T/k$i/"
	{ echo "# member $i"; grep "^member$i " "$T/keys/members.txt"; } >"$T/k$i/members.txt"
	"$TXGEN" pcap --keys "$T/k$i" --chain "$CHAIN" --out "$T/m$i.pcap" --manifest "$T/m$i.tsv" --count 64 \
		--seed $((70 + i)) --flags 3 --mix valid=1 --dst-ip "$DST4" --ttl-ms 100000 --max-ttl-ms 120000 \
		2>"$T/gen$i.log" || { cat "$T/gen$i.log" >&2; fail "txgen m$i"; }
done
tap_config "$T/tap.ini" "$IF"
sed -i 's/^\[dataplane\]$/[dataplane]\nload = on\npenalty_threshold = 8\npenalty_halflife_ms = 600000/' "$T/tap.ini"
tap_start "$T/tap.ini" "$T/run.log"
ns_attach "$IF" "$NS"
ip -n "$NS" addr add 198.51.100.1/24 dev "$IF"

ip netns exec "$NS" "$TXSEND" --server "$DST4:7400" --key "$T/keys/member2.key" --chain "$CHAIN" \
	--timeout-ms 300 --max-tries 8 --count 300 --rate 2000 --admit >"$T/txsend.out" 2>&1 ||
	{ cat "$T/txsend.out" "$T/run.log" >&2; fail "txsend"; }
grep -qE '(^|[^a-z_])committed[ =:]+300([^0-9]|$)' "$T/txsend.out" || { cat "$T/txsend.out" >&2; fail "not all 300 committed"; }

ip netns exec "$NS" python3 "$(dirname "$0")/flood_client.py" "$T/m1.pcap" "$T/m2.pcap" 192.0.2.1 198.51.100.1 \
	"$DST4" 7400 30 >"$T/flood.json" 2>"$T/flood.err" || { cat "$T/flood.err" "$T/run.log" >&2; fail "flood_client"; }
cat "$T/flood.json"
python3 - "$T/flood.json" <<'PY' || fail "flood protection did not behave"
import json, sys
o = json.load(open(sys.argv[1]))
def check(ok, what):
    if not ok:
        print("FAIL:", what, file=sys.stderr)
        sys.exit(1)
check(o.get("cookie_a1") and o.get("cookie_a2"), "a frame without a cookie got no overloaded answer with a cookie")
check(o["uncookied"] == ["overloaded"], "uncookied frame: %s" % o["uncookied"])
check("committed" in o["cookied"], "the cookied frame was not committed: %s" % o["cookied"])
bad = o["bad_answers"]
check(bad and set(bad) == {"bad_signature"}, "bad signatures answered %s" % bad)
check(len(bad) == 8, "%d bad_signature answers, want 8 (the threshold), then silence" % len(bad))
check(o["boxed_valid"] == [], "the boxed pair's valid record was answered: %s" % o["boxed_valid"])
check("committed" in o["other_prefix"], "same member, other prefix: %s" % o["other_prefix"])
check("committed" in o["other_member"], "other member, same prefix: %s" % o["other_member"])
PY
kill -TERM $pid
rc=0
wait $pid || rc=$?
pid=
[ $rc = 0 ] || { cat "$T/run.log" >&2; fail "txgate exited with $rc"; }
[ "$(counter penalty_boxed)" = 1 ] || fail "penalty_boxed=$(counter penalty_boxed), want 1"
# 30 - 8 bad records and the boxed pair's valid one: dropped unverified.
[ "$(counter penalty_dropped)" = 23 ] || fail "penalty_dropped=$(counter penalty_dropped), want 23"
[ "$(counter uncookied_overloaded)" -ge 3 ] || fail "uncookied_overloaded=$(counter uncookied_overloaded)"
[ "$(counter committed)" = 303 ] || fail "committed=$(counter committed), want 303"
"$TXGATECTL" ledger --ledger "$T/ledger" verify >"$T/verify.log" 2>&1 || { cat "$T/verify.log" >&2; fail "ledger verify"; }
echo "ok: flood protection on a live port"
