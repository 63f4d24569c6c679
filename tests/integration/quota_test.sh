#!/usr/bin/env bash
# Per-member quotas (spec rule 7, docs/control.md "Quotas"), one worker.
# Run 1 (replay once): member alpha has "1 20" in the members file (1 tx/s,
# burst 20) and floods valid records interleaved with records carrying its
# key and a bad signature (a forger); beta, unlimited, sends on another
# port. alpha commits at least 20 (the forged records never took a token:
# had they, fewer than 20 would pass) and at most 20 + elapsed seconds; the
# rest of alpha's valid records are rate_limited; a forged one is
# bad_signature, or rate_limited once the bucket is empty (the check comes
# before the signature); all of beta's records commit. Run 2 (control socket): the
# config's default quota (1, 3) limits beta; `quota set beta 0 0` lifts it
# without restart; quota list/default, refusals, the members file and the
# audit log; a restart keeps the per-member quotas and the default set at
# run time. Behaviour only: bounds, no timing asserts.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
[ -x $PY ] || { echo "skip: no /usr/bin/python3"; exit 77; }
mkdir -p "$T/keys"
"$TXGEN" keygen --out "$T/ka" --count 1 --prefix alpha >/dev/null
"$TXGEN" keygen --out "$T/kb" --count 1 --prefix beta >/dev/null
read -r A AKEY < <(grep -v '^#' "$T/ka/members.txt" | head -1)
read -r B BKEY < <(grep -v '^#' "$T/kb/members.txt" | head -1)
[ -n "$AKEY" ] && [ -n "$BKEY" ] || fail "no keys made"
BURST=20
{
	echo "# quota test: alpha with its own quota, beta the default"
	echo "$A $AKEY 1 $BURST"
	echo "$B $BKEY"
} >"$T/keys/members.txt"

genk() { # genk KEYDIR NAME COUNT SEED MIX
	"$TXGEN" pcap --keys "$T/$1" --chain "$CHAIN" --out "$T/$2.pcap" --manifest "$T/$2.tsv" --count "$3" \
		--seed "$4" --mix "$5" --dst-ip "$DST4" --dst-ip6 "$DST6" 2>"$T/$2.gen.log" ||
		{ cat "$T/$2.gen.log" >&2; fail "txgen $2"; }
}
genk ka a 150 11 valid=1,bad_sig=2
genk kb b 40 12 valid=1
a_valid=$(manifest_committed "$T/a.tsv" | wc -l)
a_forged=$(awk -F'\t' '$2 == "bad_sig"' "$T/a.tsv" | wc -l)
b_valid=$(manifest_committed "$T/b.tsv" | wc -l)
[ "$a_valid" -gt $((BURST + 15)) ] || fail "alpha's pcap has only $a_valid valid records"
[ "$a_forged" -gt 0 ] && [ "$b_valid" = 40 ] || fail "pcaps: $a_forged forged, $b_valid beta"

# ---- run 1: the file's quota, a forger, an untouched member ----
PCAPS="$T/a.pcap $T/b.pcap" config "$T/r1.ini" 'verifier = sodium'
t0=$(date +%s)
run "$T/r1.ini"
el=$(($(date +%s) - t0 + 1))
ledger_ids | sort >"$T/l1.ids"
manifest_committed "$T/a.tsv" >"$T/a.ids"
manifest_committed "$T/b.tsv" >"$T/b.ids"
a_got=$(comm -12 "$T/l1.ids" "$T/a.ids" | wc -l)
b_got=$(comm -12 "$T/l1.ids" "$T/b.ids" | wc -l)
grep -q ' rate_limited=' "$T/run.log" || fail "the summary has no rate_limited="
rl=$(counter rate_limited)
bs=$(counter bad_signature)
note "run 1: alpha $a_got of $a_valid committed (burst $BURST, 1/s, ${el}s), rate_limited=$rl bad_signature=$bs; beta $b_got of $b_valid"
[ "$b_got" = "$b_valid" ] || fail "beta (no quota) committed $b_got of $b_valid"
[ "$a_got" -ge "$BURST" ] || fail "alpha committed $a_got < burst $BURST: the forged records used its quota"
[ "$a_got" -le $((BURST + el)) ] || fail "alpha committed $a_got > $BURST + $el s"
# A forged record is bad_signature while alpha's bucket holds a token, and
# rate_limited (checked before the signature) once it is empty.
[ "$bs" -gt 0 ] && [ "$bs" -le "$a_forged" ] || fail "bad_signature=$bs, want 1..$a_forged"
[ $((bs + rl)) = $((a_forged + a_valid - a_got)) ] ||
	fail "bad_signature + rate_limited = $((bs + rl)), want $((a_forged + a_valid - a_got))"
[ "$(counter committed)" = $((a_got + b_got)) ] || fail "committed=$(counter committed)"

# ---- run 2: the config's default quota, changed on the control socket ----
rm -rf "$T/ledger"
genk kb b2 40 13 valid=1
PCAPS=$T/b2.pcap config "$T/txgate.ini" 'verifier = sodium'
sed -i 's/rx_pcap=\([^ ]*\)/rx_pcap=\1,infinite_rx=1/g' "$T/txgate.ini"
sed -i "s|^members_file = .*|&\nquota_rate = 1\nquota_burst = 3|" "$T/txgate.ini"
SOCK=$T/ctl.sock
sed -i "s|^socket = $SOCK\$|socket = $SOCK\naudit_log = $T/audit.log|" "$T/txgate.ini"
ctl() { "$TXGATECTL" -c "$T/txgate.ini" "$@"; }
field() { $PY -c 'import json,sys
v=json.load(sys.stdin)
for k in sys.argv[1].split("."): v=v[int(k)] if isinstance(v,list) else v[k]
print(v if not isinstance(v,bool) else str(v).lower())' "$1"; }
stat_of() { ctl stats --json | field "$1"; }
wait_for() {
	for _ in $(seq 1 200); do
		eval "$1" && return 0
		kill -0 $pid 2>/dev/null || { cat "$T/run.log" >&2; fail "txgate exited"; }
		sleep 0.1
	done
	cat "$T/run.log" >&2
	fail "timed out waiting for: $1"
}
start() {
	"$TXGATE" -c "$T/txgate.ini" --status-ms 1000 2>"$T/run.log" &
	pid=$!
	wait_for '[ -S "$SOCK" ]'
}
trap 'kill -9 $pid 2>/dev/null || true; rm -rf "$T"' EXIT

t0=$(date +%s)
start
wait_for '[ "$(stat_of rate_limited)" -gt 0 ]'
c=$(stat_of committed)
el=$(($(date +%s) - t0 + 1))
[ "$c" -ge 3 ] && [ "$c" -le $((3 + el)) ] || fail "beta under the default quota (1/s, 3) committed $c in ${el}s"
ctl quota list >"$T/ql.out" || fail "quota list"
grep -q "^# default 1 3 " "$T/ql.out" || { cat "$T/ql.out" >&2; fail "quota list: default"; }
grep -q "^$A 1 $BURST member\$" "$T/ql.out" || { cat "$T/ql.out" >&2; fail "quota list: $A"; }
grep -q "^$B 1 3 default\$" "$T/ql.out" || { cat "$T/ql.out" >&2; fail "quota list: $B"; }
[ "$(ctl quota list --json | field default.rate)" = 1 ] || fail "quota list --json"

expect_refused() {
	local why=$1
	shift
	local rc=0
	ctl "$@" 2>"$T/err" >/dev/null || rc=$?
	[ $rc = 1 ] || { cat "$T/err" >&2; fail "'$*' exited $rc, want 1"; }
	grep -q "$why" "$T/err" || { cat "$T/err" >&2; fail "'$*': no '$why'"; }
}
expect_refused "no member named" quota set nobody 1 1
expect_refused "must be 1.." quota set "$B" 5 0
expect_refused "not a decimal" quota set "$B" 1x 1
expect_refused "over 10000000" quota default 20000000 1
rc=0; ctl quota set "$B" 1 2>/dev/null || rc=$?; [ $rc = 2 ] || fail "quota set with 2 words exited $rc, want 2"

# Lifted without restart: every one of beta's records commits.
[ "$(ctl quota set "$B" 0 0 --json | field unlimited)" = true ] || fail "quota set $B 0 0"
grep -q "^$B $BKEY 0 0\$" "$T/keys/members.txt" || fail "the members file lacks $B's own quota"
grep -q "^$A $AKEY 1 $BURST\$" "$T/keys/members.txt" || fail "the members file lost $A's quota"
wait_for '[ "$(stat_of committed)" = 40 ]'
note "beta: default quota held it to $c, then all 40 committed after quota set 0 0"
[ "$(ctl quota default 7 9 --json | field persisted)" = true ] || fail "quota default"
ctl quota list | grep -q "^# default 7 9 " || fail "quota list after quota default"
ctl quota list | grep -q "^$A 1 $BURST member\$" || fail "quota default changed $A's own quota"
ctl quota set "$A" 2 4 >/dev/null || fail "quota set $A"
for cmd in quota.set quota.default; do
	grep -q "\"cmd\":\"$cmd\".*\"ok\":true" "$T/audit.log" || { cat "$T/audit.log" >&2; fail "audit log lacks $cmd"; }
done
grep -q '"cmd":"quota.set".*"ok":false' "$T/audit.log" || fail "audit log lacks the refused quota.set"
grep -q '"cmd":"quota.list"' "$T/audit.log" && fail "quota.list (no change) was audited"
ctl drain >/dev/null || fail "drain"
wait $pid || fail "txgate exited non-zero after drain"
grep -q ' rate_limited=' "$T/run.log" || fail "the summary has no rate_limited="

# Restart: per-member quotas kept, and the default set at run time too.
start
ctl quota list >"$T/ql2.out"
grep -q "^# default 7 9 " "$T/ql2.out" && grep -q "^$A 2 4 member\$" "$T/ql2.out" &&
	grep -q "^$B 0 0 member\$" "$T/ql2.out" || { cat "$T/ql2.out" >&2; fail "quotas after restart"; }
ctl drain >/dev/null || fail "second drain"
wait $pid || fail "txgate exited non-zero after the second drain"
echo "ok quota: flooder limited ($a_got of $a_valid), forger took no tokens, other member untouched, live changes kept over a restart"
