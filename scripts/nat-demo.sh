#!/usr/bin/env bash
# nat-demo.sh: two sttnode nodes, each in a private network namespace
# behind its own NAT (nftables masquerade, a router's input firewall that
# drops new inbound traffic), reach each other by node id through a
# rendezvous node in a public namespace, and exchange three echoed
# datagrams over a direct session (README "Behind NATs"). Needs root, ip
# (iproute2), nft (nftables) and timeout (coreutils); builds sttnode with
# go unless STTNODE names a binary. Every process is bounded by timeout,
# and the namespaces and the temporary directory are removed on exit.
#
#	sudo scripts/nat-demo.sh
#
# Namespaces are named $STT_DEMO_PREFIX-pub, -nat1, -nat2, -priv1, -priv2
# (default prefix sttdemo); the script refuses to run if one exists.
set -euo pipefail
P=${STT_DEMO_PREFIX:-sttdemo}

fail() { echo "nat-demo: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "needs root (network namespaces and nftables)"
for tool in ip nft timeout; do
	command -v "$tool" >/dev/null || fail "$tool not found (packages iproute2, nftables, coreutils)"
done
for n in pub nat1 nat2 priv1 priv2; do
	[ ! -e "/run/netns/$P-$n" ] || fail "namespace $P-$n exists already (another run? remove it with: ip netns del $P-$n)"
done

dir=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	for n in pub nat1 nat2 priv1 priv2; do ip netns del "$P-$n" 2>/dev/null || true; done
	rm -rf "$dir"
}
trap cleanup EXIT

sttnode=${STTNODE:-}
if [ -z "$sttnode" ]; then
	(cd "$(dirname "$0")/.." && go build -o "$dir/sttnode" ./cmd/sttnode) || fail "go build ./cmd/sttnode failed"
	sttnode=$dir/sttnode
fi

# waitfor FILE TEXT: wait up to 10 s for a line containing TEXT in FILE.
waitfor() {
	for _ in $(seq 100); do
		grep -qF -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "nat-demo: no \"$2\" in $1 after 10 s:" >&2
	cat "$1" >&2
	exit 1
}

# The networks (README "Behind NATs"): a public namespace that routes
# between the NATs and holds the rendezvous address 198.18.0.1; behind
# each NAT a private host 10.200.0.2 (the same address in both, as two
# home networks would have).
ip netns add "$P-pub"
ip -n "$P-pub" link set lo up
ip -n "$P-pub" addr add 198.18.0.1/32 dev lo
ip netns exec "$P-pub" sysctl -qw net.ipv4.ip_forward=1
for i in 1 2; do
	ip netns add "$P-nat$i"
	ip netns add "$P-priv$i"
	ip link add in0 netns "$P-priv$i" type veth peer name lan0 netns "$P-nat$i"
	ip link add wan0 netns "$P-nat$i" type veth peer name "out$i" netns "$P-pub"
	ip -n "$P-priv$i" addr add 10.200.0.2/24 dev in0
	ip -n "$P-nat$i" addr add 10.200.0.1/24 dev lan0
	ip -n "$P-nat$i" addr add "198.18.$i.1/24" dev wan0
	ip -n "$P-pub" addr add "198.18.$i.254/24" dev "out$i"
	for l in lo in0; do ip -n "$P-priv$i" link set "$l" up; done
	for l in lo lan0 wan0; do ip -n "$P-nat$i" link set "$l" up; done
	ip -n "$P-pub" link set "out$i" up
	ip -n "$P-priv$i" route add default via 10.200.0.1
	ip -n "$P-nat$i" route add default via "198.18.$i.254"
	ip netns exec "$P-nat$i" sysctl -qw net.ipv4.ip_forward=1
	ip netns exec "$P-nat$i" nft 'table ip nat {
		chain post { type nat hook postrouting priority srcnat; oifname "wan0" masquerade; }
		chain in { type filter hook input priority filter; iifname "wan0" ct state new drop; }
	}'
done

# The nodes: one group seed (created by the first node in the state
# directory), a node seed each.
ip netns exec "$P-pub" timeout 60 "$sttnode" -state-dir "$dir" -node-seed "$dir/rendezvous.node" \
	-listen 198.18.0.1:4500 -rendezvous >"$dir/rendezvous.out" 2>&1 &
pids+=($!)
waitfor "$dir/rendezvous.out" "node id "
rz_id=$(awk '/^node id /{print $3; exit}' "$dir/rendezvous.out")
echo "rendezvous at 198.18.0.1:4500 (public), node id $rz_id"

ip netns exec "$P-priv2" timeout 60 "$sttnode" -state-dir "$dir" -node-seed "$dir/b.node" \
	-listen 10.200.0.2:4000 -via 198.18.0.1:4500 -via-id "$rz_id" >"$dir/b.out" 2>&1 &
pids+=($!)
waitfor "$dir/b.out" "rendezvous 198.18.0.1:4500: connected"
b_id=$(awk '/^node id /{print $3; exit}' "$dir/b.out")
echo "node B at 10.200.0.2:4000 behind NAT 2 (198.18.2.1), node id $b_id, connected to the rendezvous"

echo "node A at 10.200.0.2:4000 behind NAT 1 (198.18.1.1) dials node B by its id through the rendezvous:"
ip netns exec "$P-priv1" timeout 30 "$sttnode" -state-dir "$dir" -node-seed "$dir/a.node" \
	-listen 10.200.0.2:4000 -via 198.18.0.1:4500 -via-id "$rz_id" -dial-id "$b_id" \
	-count 3 -interval 200ms -dial-timeout 10s >"$dir/a.out" 2>"$dir/a.log" ||
	{ cat "$dir/a.out" "$dir/a.log" >&2; fail "node A failed"; }
grep -E '^(connected|echo) ' "$dir/a.out" | sed 's/^/  A: /'

# Node B logs the session it accepted (the introduction made it dial A).
waitfor "$dir/b.out" 'msg="session open"'
sed -n 's/.*msg="session open" peer=\([^ ]*\).*/  B: session from \1/p' "$dir/b.out" | head -n 1
echo "done: a direct session between the two NATs' public addresses"
