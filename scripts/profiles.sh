#!/usr/bin/env bash
# profiles.sh: issue 11's profiles of notifyd in one command (BENCHMARKS.md,
# "Profiles and where the time goes").
#
#   scripts/profiles.sh run DIR     build notifyd and notifybench from this
#                                   checkout into DIR, run the two workloads
#                                   with -profile DIR, then print the tables
#   scripts/profiles.sh table DIR   print the tables of the runs in DIR
#
# Each run starts a fresh notifyd on a fresh database of -db (notifybench's
# default: the local Postgres) and writes DIR/<workload>-*: cpu.pb.gz,
# allocs/block/mutex-{before,after}.pb.gz, goroutine.pb.gz, trace.out,
# metrics-{before,after}.txt, breakdown.txt (the latency by stage),
# connect-cpu-N.pb.gz and connect-allocs-{before,after}.pb.gz (the connect
# phase) and summary.json. "table" prints each breakdown and the CPU milliseconds
# per 1,000 requests by component, from the CPU profile (go tool pprof
# -top with a focus per component: cumulative, so the rows overlap).
# DURATION (20s) sets each run's publishing time; NOTIFYBENCH_ARGS adds
# flags to both runs (e.g. -db URL).
set -euo pipefail

# components: name, then the pprof focus regexp (matched against every
# frame of a sample's stack).
components=(
	"HTTP: a request's goroutine (net/http conn.serve)" 'net/http\.\(\*conn\)\.serve$'
	"— reading and parsing the request (net/http)" 'net/http\.\(\*conn\)\.readRequest$'
	"— gin and our middleware and handler" 'gin\.\(\*Engine\)\.ServeHTTP$'
	"— JSON: body decode, the 201 answer" 'encoding/json|decodeJSONBody|httpserver\.writeJSON$|AppendJSON'
	"— writing the response (finishRequest)" 'net/http\.\(\*response\)\.finishRequest$'
	"the committer (notify batcher)" 'notify\.\(\*batcher\)\.loop$'
	"— the transaction (store InsertBatch, pgx)" 'store\.\(\*Store\)\.InsertBatch$'
	"— the hub (Hub.Publish and the rest of notify.Hub)" 'notify\.\(\*Hub\)\.'
	"socket writers (wsserver conn.writer)" 'wsserver\.\(\*conn\)\.writer$'
	"pgx anywhere" 'jackc/pgx'
	"write syscalls (sockets, responses, pgx)" '^syscall\.write$'
	"GC background marking" 'runtime\.gcBgMarkWorker$'
	"GC assists" 'runtime\.gcAssistAlloc$'
	"mallocgc (allocation, everywhere)" 'runtime\.mallocgc$'
	"scheduler (runtime.schedule)" 'runtime\.schedule$'
)

# seconds prints a pprof duration (850ms, 1.23s, 2.5mins) in milliseconds.
ms() {
	awk -v v="$1" 'BEGIN {
		n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
		f = (u == "ns") ? 1e-6 : (u == "us" || u == "µs") ? 1e-3 : (u == "ms") ? 1 : (u == "s") ? 1e3 : (u == "mins") ? 6e4 : (u == "hrs") ? 3.6e6 : 0
		printf "%.1f", n * f
	}'
}

# focused prints the CPU milliseconds of the samples whose stack matches $2
# in profile $1 ("" focus: all of them).
focused() {
	local out
	if [[ -z $2 ]]; then
		out=$(go tool pprof -top -nodecount=1 "$1" 2>/dev/null | sed -n 's/.*of \([0-9.]*[a-zµ]*\) total.*/\1/p')
	else
		out=$(go tool pprof -top -nodecount=100000 -nodefraction=0 -edgefraction=0 -focus="$2" "$1" 2>/dev/null |
			sed -n 's/^Showing nodes accounting for \([0-9.]*[a-zµ]*\),.*/\1/p')
	fi
	ms "${out:-0ms}"
}

table() {
	local dir=$1 found=0
	for cpu in "$dir"/*-cpu.pb.gz; do
		[[ -e $cpu ]] || continue
		found=1
		local run=${cpu%-cpu.pb.gz}
		echo "## ${run##*/}"
		echo
		cat "$run-breakdown.txt"
		local reqs
		reqs=$(sed -n 's/^cpu profile: about \([0-9]*\) requests$/\1/p' "$run-breakdown.txt")
		echo
		echo "CPU ms per 1,000 requests by component (cumulative; the CPU profile saw about ${reqs:-?} requests):"
		echo
		echo "| component | ms per 1,000 requests |"
		echo "| --- | --- |"
		local all
		all=$(focused "$cpu" "")
		printf '| all of notifyd (profile total) | %s |\n' "$(per1k "$all" "$reqs")"
		for ((i = 0; i < ${#components[@]}; i += 2)); do
			printf '| %s | %s |\n' "${components[i]}" "$(per1k "$(focused "$cpu" "${components[i + 1]}")" "$reqs")"
		done
		echo
	done
	((found)) || { echo "no *-cpu.pb.gz in $dir" >&2; return 1; }
}

# per1k prints $1 ms over $2 requests per 1,000 requests.
per1k() {
	awk -v m="$1" -v r="$2" 'BEGIN { if (r > 0) printf "%.1f", m / r * 1000; else print "?" }'
}

run() {
	local dir=$1 dur=${DURATION:-20s}
	mkdir -p "$dir"
	local root
	root=$(cd "$(dirname "$0")/.." && pwd)
	(cd "$root" && go build -o "$dir/notifyd" ./cmd/notifyd && go build -o "$dir/notifybench" ./cmd/notifybench)
	echo "build $(git -C "$root" rev-parse --short HEAD), $(date -u '+%F %T') UTC" | tee "$dir/build.txt"
	local -a common=(-start 1 -notifyd-bin "$dir/notifyd" -profile "$dir" -duration "$dur" -json)
	# shellcheck disable=SC2086 # NOTIFYBENCH_ARGS is split on purpose
	"$dir/notifybench" "${common[@]}" -users 1000 -sockets 2000 -rate 0 -publishers 16 ${NOTIFYBENCH_ARGS:-} >"$dir/notifyd-b2b-u1000-s2000-summary.json"
	# shellcheck disable=SC2086
	"$dir/notifybench" "${common[@]}" -users 2500 -sockets 5000 -rate 1000 ${NOTIFYBENCH_ARGS:-} >"$dir/notifyd-r1000-u2500-s5000-summary.json"
	table "$dir"
}

case ${1:-} in
run | table)
	[[ $# -eq 2 ]] || { echo "usage: $0 run|table DIR" >&2; exit 2; }
	"$1" "$2"
	;;
*)
	echo "usage: $0 run|table DIR" >&2
	exit 2
	;;
esac
