#!/usr/bin/env bash
# Bad configurations, members files and ledgers fail at start with a
# message naming the file, the place and the reason, and exit 1.
. "$(dirname "$0")/lib.sh"
keygen 2
gen t 10 --seed 51 --mix valid=1
PCAPS=$T/t.pcap config "$T/good.ini"

# expect_start_error NAME CONFIG PATTERN...: txgate refuses to start and
# its message matches every pattern.
expect_start_error() {
	local name=$1 cfg=$2
	shift 2
	local rc=0
	"$TXGATE" -c "$cfg" --exit-on-drain --status-ms 0 >"$T/err.log" 2>&1 || rc=$?
	[ $rc = 1 ] || { cat "$T/err.log" >&2; fail "$name: exit status $rc, want 1"; }
	for p in "$@"; do
		grep -qF -- "$p" "$T/err.log" || { cat "$T/err.log" >&2; fail "$name: message lacks '$p'"; }
	done
	note "$name: $(grep -v '^EAL' "$T/err.log" | tail -1)"
}

sed 's/^chain_id = .*/chain_id = twelve/' "$T/good.ini" >"$T/c1.ini"
expect_start_error "bad chain_id" "$T/c1.ini" "$T/c1.ini" "[chain]" chain_id

sed "s/^\\[chain\\]\$/[chain]\\nfrobnicate = 1/" "$T/good.ini" >"$T/c2.ini"
expect_start_error "unknown key" "$T/c2.ini" "$T/c2.ini" frobnicate

sed 's/^udp_port = .*/udp_port = 70000/' "$T/good.ini" >"$T/c3.ini"
expect_start_error "port out of range" "$T/c3.ini" "$T/c3.ini" "[net]" udp_port

sed 's|^rx = .*|rx = port9:0|' "$T/good.ini" >"$T/c4.ini"
expect_start_error "unknown port in worker" "$T/c4.ini" "$T/c4.ini" "[worker0]" rx

expect_start_error "missing file" "$T/nonexistent.ini" "$T/nonexistent.ini"

# Members file: a key that is not a valid point, on line 3.
cp "$T/keys/members.txt" "$T/members-bad.txt"
printf '# bad below\nmallory %s\n' "$(printf '%064d' 0)" >>"$T/members-bad.txt"
line=$(wc -l <"$T/members-bad.txt")
sed "s|^members_file = .*|members_file = $T/members-bad.txt|" "$T/good.ini" >"$T/c5.ini"
expect_start_error "invalid member key" "$T/c5.ini" "$T/members-bad.txt:$line"

# Duplicate member key.
{ cat "$T/keys/members.txt"; tail -1 "$T/keys/members.txt" | sed 's/^[^ ]*/copycat/'; } >"$T/members-dup.txt"
sed "s|^members_file = .*|members_file = $T/members-dup.txt|" "$T/good.ini" >"$T/c6.ini"
expect_start_error "duplicate member key" "$T/c6.ini" "$T/members-dup.txt:"

# A missing rx_pcap file is named (not reported as a missing port).
sed "s|rx_pcap=$T/t.pcap|rx_pcap=$T/absent.pcap|" "$T/good.ini" >"$T/c8.ini"
expect_start_error "missing rx_pcap" "$T/c8.ini" "$T/c8.ini" "rx_pcap file $T/absent.pcap" "No such file"
# ... and it is checked before EAL starts: the members file too.
cp "$T/c5.ini" "$T/c9.ini"
sed -i "s|rx_pcap=$T/t.pcap|rx_pcap=$T/absent.pcap|" "$T/c9.ini"
expect_start_error "members before EAL" "$T/c9.ini" "$T/members-bad.txt:$line"
grep -q '^EAL' "$T/err.log" && fail "members before EAL: EAL started before the members file was checked"

# Too little free disk for the ledger: refused with the reason.
sed "s|^\[ledger\]\$|[ledger]\nmin_free_mb = 16777216|" "$T/good.ini" >"$T/c10.ini"
expect_start_error "no free disk" "$T/c10.ini" "$T/ledger" "MiB free" "min_free_mb"

# A ledger made for another chain is refused.
run "$T/good.ini"
sed 's/^chain_id = .*/chain_id = 7/' "$T/good.ini" >"$T/c7.ini"
expect_start_error "ledger of another chain" "$T/c7.ini" "$T/ledger" chain

# A second writer on the same ledger is refused, naming the holder.
PCAPS=$T/t.pcap config "$T/hold.ini"
sed -i -e "s/--file-prefix $PREFIX/--file-prefix ${PREFIX}h/" "$T/hold.ini"
"$TXGATE" -c "$T/hold.ini" --status-ms 0 2>"$T/hold.log" &
hold=$!
for _ in $(seq 1 300); do # until it holds the ledger (15 s at most)
	grep -q '^txgate: running' "$T/hold.log" && break
	kill -0 $hold 2>/dev/null || { cat "$T/hold.log" >&2; fail "the first txgate exited"; }
	sleep 0.05
done
grep -q '^txgate: running' "$T/hold.log" || fail "the first txgate did not start"
expect_start_error "second writer" "$T/good.ini" "$T/ledger" "in use by pid $hold"
kill -TERM $hold
wait $hold || fail "the first txgate did not stop cleanly"
echo "ok start errors"
