#!/bin/sh
# Search at scale (issue 16): builds a store of N posts (default 100000) on
# SQLite and, when TRANSFEED_TEST_POSTGRES_DSN is set, PostgreSQL (schema
# search_bench_N), then measures search latency (p50, p99 in ms) with 8
# concurrent searchers for one- and two-word English and two-character
# Chinese queries, keyset list and archive pages at the newest and the
# oldest posts, and the search index's share of the database size.
#
# Up to 100,000 posts are stored a year long through the store's own write
# path (the index is kept on write). A larger store (scripts/search-bench.sh
# 1000000) is the SQLite store of 100,000 (built first if missing) copied
# into it (store.Copy, which indexes the posts again) and multiplied by SQL
# copies with new keys, dates shifted back a year per copy and the copied
# posts' index rows (store.GrowForBench): storing a million posts through
# the write path would take hours.
#
# The stores are kept (SQLite under ${TRANSFEED_SEARCH_BENCH_DIR:-/tmp}) so a
# second run only measures. Building 100,000 posts takes a few minutes per
# engine; growing to 1,000,000 some more.
set -eu
cd "$(dirname "$0")/.."
n=${1:-100000}
dir=${TRANSFEED_SEARCH_BENCH_DIR:-${TMPDIR:-/tmp}}
export TRANSFEED_SEARCH_BENCH_POSTS="$n" TRANSFEED_SEARCH_BENCH_DIR="$dir"
if [ -n "${TRANSFEED_TEST_POSTGRES_DSN:-}" ]; then
	export TRANSFEED_SEARCH_BENCH_SCHEMA="search_bench_$n"
	psql "$TRANSFEED_TEST_POSTGRES_DSN" -qc "CREATE SCHEMA IF NOT EXISTS $TRANSFEED_SEARCH_BENCH_SCHEMA"
fi
if [ "${BENCH:-1}" = 1 ]; then
	go test -run '^$' -bench 'BenchmarkSearchScale' -benchtime "${BENCHTIME:-400x}" -timeout 3h -v ./store/ |
		grep -E 'Benchmark|search index|stored|grow|copied'
fi

# HTTP=1 (BENCH=0 to skip the store benchmark): the same queries through the real binary on the SQLite store of N
# posts (`transfeed run`, reading site only: its sources point to a closed
# port, translation and channels off), wrk -t2 -c8 -d8s --latency each.
if [ "${HTTP:-0}" = 1 ]; then
	work=${WORK:-/tmp/tf-search-bench}
	port=${TF_PORT:-18296}
	mkdir -p "$work"
	go build -o "$work/transfeed" ./cmd/transfeed
	{
		echo "data_dir: $work/data"
		echo "storage: {driver: sqlite, dsn: \"$dir/search-bench-$n.db\"}"
		echo "log: {level: warn}"
		echo "server: {listen: \"127.0.0.1:$port\", base_url: \"http://127.0.0.1:$port\"}"
		echo "translation: {provider: none}"
		echo "sources:"
		for s in zhaoqing-news zhaoqing-wechat gd-gov gd-english duanzhou dinghu gaoyao sihui; do
			echo "  - {id: $s, url: \"http://127.0.0.1:9/$s.xml\", schedule: \"@every 24h\"}"
		done
	} >"$work/config.yaml"
	"$work/transfeed" run -config "$work/config.yaml" >"$work/run.out" 2>"$work/run.err" &
	pid=$!
	trap 'kill "$pid" 2>/dev/null || true' EXIT
	for _ in $(seq 1 600); do
		curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && break
		kill -0 "$pid" 2>/dev/null || { tail -5 "$work/run.err" >&2; exit 1; }
		sleep 0.5
	done
	for q in investment bay+area %E6%B9%BE%E5%8C%BA; do
		url="http://127.0.0.1:$port/search?q=$q"
		echo "wrk $url ($(curl -fsS "$url" | grep -c '<mark>') marks on the first page; load $(cut -d' ' -f1-3 /proc/loadavg))"
		wrk -t2 -c8 -d8s --latency "$url" | grep -E 'Requests/sec|^ +(50|90|99)%|Non-2xx'
	done
	kill "$pid"
	wait "$pid" 2>/dev/null || true
fi
