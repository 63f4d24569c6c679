# Shared by scripts/live-demo and scripts/bench-latency (sourced, bash):
# txgate on the net_tap port of configs/txgate-tap.ini, the tap's kernel
# end in a network namespace as a real client stack. Needs root.
B=build
NS=${NS:-txgate-demo}
IF=txgate0
CHAIN=1312901187 # 0x4e414843, as in configs/txgate-tap.ini
pid=
live_cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	ip netns del "$NS" 2>/dev/null || true
}

# live_start: keys, txgate running, the namespace set up (addresses
# 192.0.2.1/24 and 2001:db8::1/64, no static neighbour entry).
live_start() {
	trap live_cleanup EXIT
	ip netns del "$NS" 2>/dev/null || true
	mkdir -p out/live
	rm -rf out/live/ledger out/live/keys
	"$B/control/txgen/txgen" keygen --out out/live/keys --count 4 >/dev/null
	"$B/dataplane/txgate" -c configs/txgate-tap.ini --status-ms 1000 2>out/live/txgate.log &
	pid=$!
	for _ in $(seq 1 300); do
		grep -q '^txgate: running' out/live/txgate.log && break
		kill -0 "$pid" 2>/dev/null || { cat out/live/txgate.log >&2; exit 1; }
		sleep 0.05
	done
	ip netns add "$NS"
	ip link set "$IF" netns "$NS"
	# net_tap gives the kernel end txgate's MAC as well; the client takes its own.
	ip -n "$NS" link set "$IF" address 02:00:5e:00:53:01
	ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.accept_dad=0 "net.ipv6.conf.$IF.accept_dad=0"
	ip -n "$NS" link set lo up
	ip -n "$NS" addr add 192.0.2.1/24 dev "$IF"
	ip -n "$NS" addr add 2001:db8::1/64 dev "$IF" nodad
	ip -n "$NS" link set "$IF" up
}

# live_txsend SERVER [txsend options]: txsend from the namespace
live_txsend() {
	local server=$1
	shift
	ip netns exec "$NS" "$B/control/client/txsend" --server "$server" --key out/live/keys/member1.key \
		--chain "$CHAIN" "$@"
}

# live_stop: drain txgate; its log is out/live/txgate.log
live_stop() {
	kill -TERM "$pid"
	wait "$pid"
	pid=
}
