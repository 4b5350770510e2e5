#!/bin/sh
# compare.sh: stt vs quic-go encrypted-stream goodput on loopback (issue 6).
#
# Runs bench/quicstream (quic-go) and, when the main module's sttbench has a
# `stream` command, `sttbench stream` with the same workload, for 1 and 16
# streams; prints the median goodput of RUNS runs each and the ratio
# stt / quic-go (target: >= 2). Run from anywhere:  bench/compare.sh
#
# Environment: BYTES (total payload per run, default 64 MiB), RUNS (default 3),
# STREAMS (default "1 16"), TIMEOUT (per run, default 60s), STRICT=1 (exit 1
# if any ratio is below 2 or the stt side is missing), GO (default go).
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

# bench NAME N CMD...: runs CMD RUNS times, prints the median goodput_mbps.
bench() {
	name=$1 n=$2
	shift 2
	: >"$tmp/$name.$n"
	i=0
	while [ "$i" -lt "$RUNS" ]; do
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
		i=$((i + 1))
	done
	median <"$tmp/$name.$n"
}

echo "building bench/quicstream (quic-go) ..."
(cd "$here" && "$GO" build -o "$tmp/quicstream" ./quicstream)

stt=0
if (cd "$root" && "$GO" run ./cmd/sttbench help 2>&1 | grep -Eq '^[[:space:]]+stream([[:space:]]|$)'); then
	echo "building cmd/sttbench (stt) ..."
	(cd "$root" && "$GO" build -o "$tmp/sttbench" ./cmd/sttbench)
	stt=1
fi

echo "workload: one connection, loopback, $BYTES payload bytes split across the streams, median of $RUNS runs"
echo "host: $(uname -sm), $(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?') CPUs (shared machines make these noisy)"
printf '%-8s %14s %14s %10s\n' streams "quic-go MB/s" "stt MB/s" "stt/quic"
fail=0
for n in $STREAMS; do
	q=$(bench quic-go "$n" "$tmp/quicstream")
	if [ "$stt" = 1 ]; then
		s=$(bench stt "$n" "$tmp/sttbench" stream)
		r=$(awk -v s="$s" -v q="$q" 'BEGIN {printf "%.2f", s / q}')
		printf '%-8s %14.1f %14.1f %9sx\n' "$n" "$q" "$s" "$r"
		if awk -v r="$r" 'BEGIN {exit !(r < 2)}'; then
			fail=1
		fi
	else
		printf '%-8s %14.1f %14s %10s\n' "$n" "$q" "n/a" "n/a"
	fi
done

if [ "$stt" = 0 ]; then
	echo "stt side NOT IMPLEMENTED YET: cmd/sttbench has no 'stream' command, so no ratio is printed."
	echo "(the quic-go figures above are real; rerun this script once 'sttbench stream' exists)"
	[ "$STRICT" = 1 ] && exit 1
	exit 0
fi
if [ "$fail" = 1 ]; then
	echo "target (stt >= 2x quic-go goodput) NOT met for at least one stream count"
	[ "$STRICT" = 1 ] && exit 1
else
	echo "target (stt >= 2x quic-go goodput) met"
fi
exit 0
