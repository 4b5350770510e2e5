#!/bin/sh
# compare.sh: stt vs quic-go encrypted-stream goodput on loopback (issue 6).
#
# Runs bench/quicstream (quic-go) and `sttbench stream` with the same
# workload, for 1 and 16 streams, alternating the two tools run by run;
# prints the median goodput of RUNS runs each and the ratio stt / quic-go
# (target: >= 2). Run from anywhere:  bench/compare.sh
#
# Environment: BYTES (total payload per run, default 64 MiB), RUNS (default 3),
# STREAMS (default "1 16"), TIMEOUT (per run, default 60s), STRICT=1 (exit 1
# if any ratio is below 2), GO (default go).
set -eu

BYTES=${BYTES:-67108864}
RUNS=${RUNS:-3}
STREAMS=${STREAMS:-"1 16"}
TIMEOUT=${TIMEOUT:-60s}
STRICT=${STRICT:-0}
GO=${GO:-go}

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# goodput FILE: the top-level goodput_mbps (10^6 payload bytes/s) of a JSON report.
goodput() {
	if command -v jq >/dev/null 2>&1; then
		jq -er '.goodput_mbps' "$1"
	else
		sed -n 's/.*"goodput_mbps": *\([0-9.eE+-]*\).*/\1/p' "$1" | head -n 1 | grep .
	fi
}

# median: the median of the numbers on stdin, one a line.
median() {
	sort -g | awk '{v[NR]=$1} END {if (NR==0) exit 1; if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'
}

# once NAME N CMD...: runs CMD once and appends its goodput_mbps to $tmp/NAME.N.
once() {
	name=$1 n=$2
	shift 2
	if ! "$@" -streams "$n" -bytes "$BYTES" -timeout "$TIMEOUT" -json >"$tmp/out.json" 2>"$tmp/err"; then
		echo "compare.sh: $name -streams $n failed:" >&2
		cat "$tmp/err" >&2
		return 1
	fi
	if ! goodput "$tmp/out.json" >>"$tmp/$name.$n"; then
		echo "compare.sh: $name -streams $n: no goodput_mbps in its JSON:" >&2
		cat "$tmp/out.json" >&2
		return 1
	fi
}

echo "building bench/quicstream (quic-go) ..."
(cd "$here" && "$GO" build -o "$tmp/quicstream" ./quicstream)

echo "building cmd/sttbench (stt) ..."
(cd "$root" && "$GO" build -o "$tmp/sttbench" ./cmd/sttbench)

echo "workload: one connection, loopback, $BYTES payload bytes split across the streams, median of $RUNS runs"
echo "runs alternate quic-go and stt, so that a drift of the machine's speed hits both alike"
echo "host: $(uname -sm), $(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?') CPUs (shared machines make these noisy)"
printf '%-8s %14s %14s %10s\n' streams "quic-go MB/s" "stt MB/s" "stt/quic"
fail=0
for n in $STREAMS; do
	: >"$tmp/quic-go.$n"
	: >"$tmp/stt.$n"
	i=0
	while [ "$i" -lt "$RUNS" ]; do
		once quic-go "$n" "$tmp/quicstream"
		once stt "$n" "$tmp/sttbench" stream
		i=$((i + 1))
	done
	q=$(median <"$tmp/quic-go.$n")
	s=$(median <"$tmp/stt.$n")
	r=$(awk -v s="$s" -v q="$q" 'BEGIN {printf "%.2f", s / q}')
	printf '%-8s %14.1f %14.1f %9sx\n' "$n" "$q" "$s" "$r"
	if awk -v r="$r" 'BEGIN {exit !(r < 2)}'; then
		fail=1
	fi
done

if [ "$fail" = 1 ]; then
	echo "target (stt >= 2x quic-go goodput) NOT met for at least one stream count"
	[ "$STRICT" = 1 ] && exit 1
else
	echo "target (stt >= 2x quic-go goodput) met"
fi
exit 0
