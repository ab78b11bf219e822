#!/usr/bin/env bash
# The network lab: a small internet in network namespaces, with no route
# out of this machine, for testing NAT traversal with real routers.
#
#   lab/netlab.sh up ID [cone|symmetric]   build lab ID (default: cone)
#   lab/netlab.sh down ID                  tear lab ID down (idempotent)
#   lab/netlab.sh ns ID NAME               print the namespace of NAME
#   lab/netlab.sh check ID                 exit 0 if this machine can build
#                                          labs (a scratch namespace ID-chk)
#
# Needs root, ip (iproute2) and iptables. ID names this run (letters and
# digits, at most 8), so parallel runs do not collide. Lab ID has:
#
#   ID-pub  the public segment: bridge br0, 7.7.7.0/24; the bootstrap/relay
#           node runs here, on 7.7.7.10
#   ID-ra   Alice's router: wan 7.7.7.11 on br0, lan 10.1.0.1/24
#   ID-rb   Bob's router:   wan 7.7.7.12 on br0, lan 10.2.0.1/24
#   ID-a    Alice's home:   10.1.0.2, default route via ID-ra
#   ID-b    Bob's home:     10.2.0.2, default route via ID-rb
#
# Each router masquerades its home behind its wan address and drops what
# arrives on wan unasked, as home routers do. A cone router keeps a
# home's source port where it can (Linux's MASQUERADE), so a hole punch
# can meet; a symmetric one gives every connection a random port
# (--random-fully), so hole punching cannot succeed and only the relay
# carries traffic between the homes.
#
# 7.7.7.0/24 is an ordinary public range to libp2p (the documentation
# ranges are not). Nothing here has a route out of the machine: the only
# default routes are the homes' (to their router), and no namespace is
# linked to a real interface. `up` tears down what it built if a step fails.
set -euo pipefail

usage() {
	echo "usage: $0 up ID [cone|symmetric] | down ID | ns ID NAME | check ID" >&2
	exit 2
}

[ $# -ge 2 ] || usage
cmd=$1 id=$2
[[ $id =~ ^[a-z0-9]{1,8}$ ]] || { echo "netlab: ID must be 1-8 lower-case letters or digits, not '$id'" >&2; exit 2; }

names=(pub ra rb a b)

down() {
	local n
	for n in "${names[@]}"; do
		# Deleting a namespace kills nothing: end what runs in it first.
		if [ -e "/run/netns/$id-$n" ]; then
			ip netns pids "$id-$n" 2>/dev/null | xargs -r kill -TERM 2>/dev/null || true
		fi
	done
	for n in "${names[@]}"; do
		if [ -e "/run/netns/$id-$n" ]; then
			for _ in 1 2 3 4 5 6 7 8 9 10; do
				[ -z "$(ip netns pids "$id-$n" 2>/dev/null)" ] && break
				sleep 0.2
			done
			ip netns pids "$id-$n" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
			ip netns delete "$id-$n" 2>/dev/null || true
		fi
	done
}

on() { ip netns exec "$id-$1" "${@:2}"; }

router() { # router NAME LAN_PREFIX WAN_ADDR PUB_PORT MODE
	local r=$1 lan=$2 wan=$3 port=$4 mode=$5
	ip -n "$id-$r" link add wan type veth peer name "$port" netns "$id-pub"
	ip -n "$id-pub" link set "$port" master br0 up
	ip -n "$id-$r" addr add "$wan/24" dev wan
	ip -n "$id-$r" link set wan up
	ip -n "$id-$r" link add lan type veth peer name eth0 netns "$id-${r#r}"
	ip -n "$id-$r" addr add "$lan.1/24" dev lan
	ip -n "$id-$r" link set lan up
	ip -n "$id-${r#r}" addr add "$lan.2/24" dev eth0
	ip -n "$id-${r#r}" link set eth0 up
	ip -n "$id-${r#r}" route add default via "$lan.1"
	on "$r" sysctl -qw net.ipv4.ip_forward=1
	local random=()
	[ "$mode" = symmetric ] && random=(--random-fully)
	on "$r" iptables -t nat -A POSTROUTING -o wan -j MASQUERADE "${random[@]}"
	on "$r" iptables -P FORWARD DROP
	on "$r" iptables -A FORWARD -i lan -o wan -j ACCEPT
	on "$r" iptables -A FORWARD -i wan -o lan -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
	on "$r" iptables -A INPUT -i wan -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
	on "$r" iptables -A INPUT -i wan -j DROP
}

up() {
	local mode=${1:-cone}
	case $mode in cone | symmetric) ;; *) usage ;; esac
	for tool in ip iptables; do
		command -v "$tool" >/dev/null || { echo "netlab: $tool is not installed" >&2; exit 1; }
	done
	[ "$(id -u)" = 0 ] || { echo "netlab: needs root (network namespaces)" >&2; exit 1; }
	for n in "${names[@]}"; do
		if [ -e "/run/netns/$id-$n" ]; then
			echo "netlab: lab $id exists already: '$0 down $id' first" >&2
			exit 1
		fi
	done
	trap 'down' ERR
	for n in "${names[@]}"; do
		ip netns add "$id-$n"
		ip -n "$id-$n" link set lo up
	done
	ip -n "$id-pub" link add br0 type bridge
	ip -n "$id-pub" addr add 7.7.7.10/24 dev br0
	ip -n "$id-pub" link set br0 up
	router ra 10.1.0 7.7.7.11 pa "$mode"
	router rb 10.2.0 7.7.7.12 pb "$mode"
	trap - ERR
	# Each home reaches the relay through its router.
	if command -v ping >/dev/null; then
		on a ping -q -c1 -W2 7.7.7.10 >/dev/null || { down; echo "netlab: home a cannot reach 7.7.7.10" >&2; exit 1; }
		on b ping -q -c1 -W2 7.7.7.10 >/dev/null || { down; echo "netlab: home b cannot reach 7.7.7.10" >&2; exit 1; }
	fi
}

# check builds a namespace with a veth pair and a masquerading rule, and
# removes it: what a container without the right capabilities or a kernel
# without NAT cannot do.
check() {
	chk=$id-chk
	for tool in ip iptables; do
		command -v "$tool" >/dev/null || { echo "netlab: $tool is not installed" >&2; exit 1; }
	done
	trap 'ip netns delete "$chk" 2>/dev/null || true' EXIT
	ip netns add "$chk"
	ip -n "$chk" link add wan type veth peer name lan
	ip -n "$chk" link add br0 type bridge
	ip netns exec "$chk" iptables -t nat -A POSTROUTING -o wan -j MASQUERADE --random-fully
	ip netns exec "$chk" iptables -A INPUT -i wan -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
}

case $cmd in
check) check ;;
up) up "${3:-}" ;;
down) down ;;
ns)
	[ $# -eq 3 ] || usage
	echo "$id-$3"
	;;
*) usage ;;
esac
