# Shared helpers for txgate's integration tests (sourced, bash).
# Each test gets its own directory, EAL file prefix and lcore map that fits
# two CPUs; nothing is sent on any network: traffic comes from pcap files.
set -euo pipefail

: "${BUILD:?BUILD must name the meson build directory}"
TXGATE=$BUILD/dataplane/txgate
TXGATECTL=$BUILD/control/txgatectl
TXGEN=$BUILD/control/txgen/txgen
CHAIN=1312901187
DST4=192.0.2.10
DST6=2001:db8::10

T=$(mktemp -d /tmp/txgate-it.XXXXXX)
trap 'rm -rf "$T"' EXIT
PREFIX=txgit$$

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "# $*" >&2; }

# keygen N: member keys in $T/keys
keygen() { "$TXGEN" keygen --out "$T/keys" --count "$1" >/dev/null; }

# gen NAME COUNT [txgen pcap options...]: $T/NAME.pcap and $T/NAME.tsv
gen() {
	local name=$1 count=$2
	shift 2
	"$TXGEN" pcap --keys "$T/keys" --chain "$CHAIN" --out "$T/$name.pcap" --manifest "$T/$name.tsv" \
		--count "$count" --dst-ip "$DST4" --dst-ip6 "$DST6" "$@" 2>"$T/$name.gen.log" ||
		{ cat "$T/$name.gen.log" >&2; fail "txgen pcap $name"; }
}

# config FILE [extra lines appended to [dataplane]]: a config for one port
# per pcap named in PCAPS (space separated) and one worker polling them all.
config() {
	local file=$1
	shift
	local vdevs="" ports="" rx="" i=0
	for p in $PCAPS; do
		vdevs+=" --vdev=net_pcap$i,rx_pcap=$p"
		ports+=$'\n'"[port$i]"$'\n'"device = net_pcap$i"$'\n'
		rx+=" port$i:0"
		i=$((i + 1))
	done
	cat >"$file" <<CFG
[eal]
args = --no-huge -m 512 --no-pci --no-shconf --file-prefix $PREFIX --lcores 0@0,1@1,2@0 $vdevs --log-level=*:warning

[net]
udp_port = 7400
ipv4 = $DST4
ipv6 = $DST6

[chain]
chain_id = $CHAIN
max_ttl_ms = 120000
members_file = $T/keys/members.txt

[block]
max_txs = 256
max_wait_us = 2000

[ledger]
path = $T/ledger

[dataplane]
txn_pool = 8192
mbuf_pool = 4096
dedupe_capacity = 65536
idle_sleep_us = 100
orderer_lcore = 2
$(printf '%s\n' "$@")

[control]
socket = $T/ctl.sock

[metrics]
listen = 127.0.0.1:0
$ports
[worker0]
lcore = 1
rx =$rx
CFG
}

# run CONFIG [txgate options]: runs txgate until its input drains; the
# summary goes to $T/run.log. Fails if txgate does.
run() {
	local cfg=$1
	shift
	local rc=0
	"$TXGATE" -c "$cfg" --exit-on-drain --drain-ms 700 --status-ms 0 "$@" 2>"$T/run.log" || rc=$?
	[ $rc = 0 ] || { cat "$T/run.log" >&2; fail "txgate exited with status $rc"; }
}

# counter NAME: its value in the last summary in $T/run.log
counter() {
	tr ' ' '\n' <"$T/run.log" | awk -F= -v k="$1" '$1 == k { v = $2 } END { print (v == "" ? "missing" : v) }'
}

# expect_counts MANIFEST...: every status and drop counter in the summary
# equals the number of manifest lines expecting it (0 when none do).
expect_counts() {
	local names
	names=$(tr ' ' '\n' <"$T/run.log" | grep -E '^(pkt_|frame_|committed=|duplicate=|bad_signature=|unknown_sender=|expired=|expiry_too_far=|wrong_chain=|overloaded=|malformed=)' | cut -d= -f1 | grep -v '^pkt_multiseg$' | sort -u)
	[ -n "$names" ] || fail "no counters in the summary"
	local bad=0
	for n in $names; do
		local want got
		want=$(cat "$@" | awk -F'\t' -v k="$n" '!/^#/ && $4 == k { c++ } END { print c + 0 }')
		got=$(counter "$n")
		if [ "$want" != "$got" ]; then
			echo "counter $n: manifest expects $want, txgate counted $got" >&2
			bad=1
		fi
	done
	[ "$(counter in_flight)" = 0 ] || { echo "in_flight is $(counter in_flight) at exit" >&2; bad=1; }
	[ $bad = 0 ] || { cat "$T/run.log" >&2; fail "counters differ from the manifest"; }
}

# ledger_ids: the tx ids in the ledger, one per line, in ledger order
ledger_ids() { "$TXGATECTL" ledger --ledger "$T/ledger" dump | awk -F'"tx_id":"' 'NF > 1 { split($2, a, "\""); print a[1] }'; }

# manifest_committed MANIFEST...: ids the manifests expect committed, sorted
manifest_committed() { cat "$@" | awk -F'\t' '!/^#/ && $4 == "committed" { print $3 }' | sort; }

# expect_ledger MANIFEST...: the ledger holds exactly the manifests'
# committed set, each once, and its chain verifies.
expect_ledger() {
	ledger_ids >"$T/ledger.ids"
	sort "$T/ledger.ids" >"$T/ledger.sorted"
	local dups
	dups=$(uniq -d "$T/ledger.sorted" | wc -l)
	[ "$dups" = 0 ] || fail "$dups tx ids are in the ledger more than once"
	manifest_committed "$@" >"$T/want.sorted"
	if ! cmp -s "$T/ledger.sorted" "$T/want.sorted"; then
		echo "ledger: $(wc -l <"$T/ledger.sorted") ids, manifest: $(wc -l <"$T/want.sorted") committed" >&2
		diff "$T/want.sorted" "$T/ledger.sorted" | head -5 >&2
		fail "the ledger's transactions differ from the manifest's committed set"
	fi
	"$TXGATECTL" ledger --ledger "$T/ledger" verify >"$T/verify.log" 2>&1 || { cat "$T/verify.log" >&2; fail "ledger verify"; }
}

# head_height: the ledger's height (0 while it has none)
head_height() {
	local h
	h=$("$TXGATECTL" ledger --ledger "$T/ledger" head 2>/dev/null | tr ' ' '\n' | awk -F= '$1 == "height" { print $2 }') || true
	echo "${h:-0}"
}

# wait_running PID N [LOG]: wait (15 s at most) while txgate PID runs until
# the ledger reaches height N and, if LOG is given, a status line is in it.
# Fails if that does not happen.
wait_running() {
	local pid=$1 n=$2 log=${3:-}
	for _ in $(seq 1 300); do
		if [ "$(head_height)" -ge "$n" ] && { [ -z "$log" ] || grep -q "tx/s committed" "$log"; }; then
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -9 "$pid" 2>/dev/null || true
	[ -z "$log" ] || cat "$log" >&2
	fail "txgate did not reach height $n while running"
}

# tap_config FILE IF: txgate on a net_tap port (interface IF) with three
# queues (net_tap ties TX queues to RX queues: the worker's, the
# committer's and the orderer's TX queues), the worker polling all three.
tap_config() {
	cat >"$1" <<CFG
[eal]
args = --no-huge -m 512 --no-pci --no-shconf --file-prefix $PREFIX --lcores 0@0,1@1,2@0 --vdev=net_tap0,iface=$2 --log-level=*:warning

[net]
ipv4 = $DST4
ipv6 = $DST6

[chain]
chain_id = $CHAIN
members_file = $T/keys/members.txt

[block]
max_wait_us = 1000

[ledger]
path = $T/ledger

[dataplane]
txn_pool = 8192
mbuf_pool = 4096
dedupe_capacity = 65536
idle_sleep_us = 100
orderer_lcore = 2

[control]
socket = $T/ctl.sock

[metrics]
listen = 127.0.0.1:0

[port0]
device = net_tap0
rx_queues = 3

[worker0]
lcore = 1
rx = port0:0 port0:1 port0:2
CFG
}

# tap_start CONFIG LOG: txgate in the background (pid in $pid) until it runs.
tap_start() {
	"$TXGATE" -c "$1" --status-ms 0 2>"$2" &
	pid=$!
	for _ in $(seq 1 300); do
		grep -q '^txgate: running' "$2" && return 0
		kill -0 $pid 2>/dev/null || { cat "$2" >&2; fail "txgate exited at start"; }
		sleep 0.05
	done
	fail "txgate did not start"
}

# ns_attach IF NS: move the tap's kernel end IF into namespace NS as a client
# stack: its own MAC (net_tap gives both ends the port's), 192.0.2.1/24 and
# 2001:db8::1/64, no DAD, no static neighbour entry.
ns_attach() {
	ip link set "$1" netns "$2"
	ip -n "$2" link set "$1" address 02:00:5e:00:53:01
	ip netns exec "$2" sysctl -qw net.ipv6.conf.all.accept_dad=0 "net.ipv6.conf.$1.accept_dad=0"
	ip -n "$2" link set lo up
	ip -n "$2" addr add 192.0.2.1/24 dev "$1"
	ip -n "$2" addr add 2001:db8::1/64 dev "$1" nodad
	ip -n "$2" link set "$1" up
}

# ns_new TAG: a network namespace (NS) and a tap interface name (IF) of this
# test; exits 77 (skipped) where namespaces cannot be made. On exit txgate
# ($pid) and a client ($spid) are killed and the namespace removed.
ns_new() {
	command -v ip >/dev/null || { echo "skip: no ip command"; exit 77; }
	NS=txns$1$$
	IF=txif$1$$
	ip netns add "$NS" 2>/dev/null || { echo "skip: cannot create a network namespace"; exit 77; }
	trap 'ns_cleanup' EXIT
}
ns_cleanup() {
	[ -z "${pid:-}" ] || kill -9 "$pid" 2>/dev/null || true
	[ -z "${spid:-}" ] || kill -9 "$spid" 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$T"
}
