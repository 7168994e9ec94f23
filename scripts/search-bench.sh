#!/bin/sh
# Search at scale (issue 16): builds a store of N posts (default 100000) a
# year long through the store's own write path, on SQLite and, when
# TRANSFEED_TEST_POSTGRES_DSN is set, PostgreSQL (schema search_bench_N),
# then measures search latency (p50, p99 in ms) with 8 concurrent searchers
# for one- and two-word English and two-character Chinese queries, and the
# search index's share of the database size.
#
# The stores are kept (SQLite under ${TRANSFEED_SEARCH_BENCH_DIR:-/tmp}) so a
# second run only measures. Building 100,000 posts takes a few minutes per engine.
set -eu
cd "$(dirname "$0")/.."
n=${1:-100000}
dir=${TRANSFEED_SEARCH_BENCH_DIR:-${TMPDIR:-/tmp}}
export TRANSFEED_SEARCH_BENCH_POSTS="$n" TRANSFEED_SEARCH_BENCH_DIR="$dir"
if [ -n "${TRANSFEED_TEST_POSTGRES_DSN:-}" ]; then
	export TRANSFEED_SEARCH_BENCH_SCHEMA="search_bench_$n"
	psql "$TRANSFEED_TEST_POSTGRES_DSN" -qc "CREATE SCHEMA IF NOT EXISTS $TRANSFEED_SEARCH_BENCH_SCHEMA"
fi
go test -run '^$' -bench 'BenchmarkSearchScale' -benchtime "${BENCHTIME:-400x}" -timeout 3h -v ./store/ |
	grep -E 'Benchmark|search index|stored'
