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

# search_paths TSV: the distinct request paths of the HTTP run, from the
# bench corpus's phrases (server/testdata/search-phrases.tsv, the sentences
# store/search_bench_test.go writes): every English word of three letters or
# more, each pair of adjacent English words, each pair of adjacent Han
# characters; each query plain and once more by date or within a source.
search_paths() {
	LC_ALL=C awk -F'\t' '
	BEGIN {
		for (c = 0; c < 256; c++) ord[sprintf("%c", c)] = c
		split("zhaoqing-news zhaoqing-wechat gd-gov gd-english duanzhou dinghu gaoyao sihui", src, " ")
	}
	function enc(s,   out, k, ch) {
		out = ""
		for (k = 1; k <= length(s); k++) {
			ch = substr(s, k, 1)
			if (ch ~ /[A-Za-z0-9]/) out = out ch
			else if (ch == " ") out = out "+"
			else out = out sprintf("%%%02X", ord[ch])
		}
		return out
	}
	function add(q) { if (!(q in seen)) { seen[q] = 1; qs[++nq] = q } }
	{
		en = tolower($1); gsub(/[^a-z]+/, " ", en)
		nw = split(en, w, " ")
		for (k = 1; k <= nw; k++) if (length(w[k]) >= 3) add(w[k])
		for (k = 1; k < nw; k++) add(w[k] " " w[k+1])
		# Han characters are three bytes in UTF-8; "，" and "。" are not words.
		zh = $2; prev = ""
		for (k = 1; k + 2 <= length(zh); k += 3) {
			ch = substr(zh, k, 3)
			if (ch == "，" || ch == "。") { prev = ""; continue }
			if (prev != "") add(prev ch)
			prev = ch
		}
	}
	END {
		for (k = 1; k <= nq; k++) {
			p = "/search?q=" enc(qs[k])
			print p
			if (k % 2) print p "&sort=date"
			else print p "&source=" src[k % 8 + 1]
		}
	}' server/testdata/search-phrases.tsv
}

# HTTP=1 (BENCH=0 to skip the store benchmark): the same queries through the real binary on the SQLite store of N
# posts (`transfeed run`, reading site only: its sources point to a closed
# port, translation and channels off): distinct queries cycled by wrk
# (scripts/search-queries.lua, after a curl pass over them), then the three
# fixed queries of earlier runs, wrk -t2 -c8 -d8s --latency each.
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
	# Distinct queries: each path fetched once by curl (sequential, the
	# server's page cache cold for it: the uncached figures), every tenth
	# path's "More results" link added as a later page (a real keyset
	# cursor), then wrk cycling through them all (scripts/search-queries.lua):
	# more paths than the server keeps rendered pages (512), so in order
	# they miss its cache.
	search_paths >"$work/first.txt"
	: >"$work/paths.txt"
	: >"$work/times.txt"
	k=0
	while read -r p; do
		k=$((k + 1))
		out=$(curl -sS -o "$work/page.html" -w '%{http_code} %{time_total}' "http://127.0.0.1:$port$p")
		code=${out% *}
		echo "${out#* }" >>"$work/times.txt"
		if [ "$code" != 200 ]; then
			echo "HTTP $code: $p"
		elif grep -q 'No posts match' "$work/page.html"; then
			echo "EMPTY results page: $p"
		fi
		echo "$p" >>"$work/paths.txt"
		if [ $((k % 10)) = 0 ]; then
			grep -o 'rel="next" href="[^"]*"' "$work/page.html" | sed 's/.*href="//; s/"$//; s/&amp;/\&/g' >>"$work/paths.txt" || true
		fi
	done <"$work/first.txt"
	echo "$(wc -l <"$work/first.txt") distinct search paths, $(($(wc -l <"$work/paths.txt") - $(wc -l <"$work/first.txt"))) later pages ($(grep -c 'after=' "$work/paths.txt") with a cursor)"
	sort -n "$work/times.txt" | awk '{ t[NR] = $1 * 1000 } END { printf "curl, one at a time, first fetch of each query: p50 %.1f ms  p90 %.1f ms  p99 %.1f ms  max %.1f ms (load %s)\n", t[int(NR*0.5)], t[int(NR*0.9)], t[int(NR*0.99)], t[NR], "'"$(cut -d' ' -f1-3 /proc/loadavg)"'" }'
	echo "wrk -t2 -c8 -d${WRK_SECONDS:-8}s cycling through $(wc -l <"$work/paths.txt") paths (load $(cut -d' ' -f1-3 /proc/loadavg))"
	SEARCH_PATHS="$work/paths.txt" wrk -t2 -c8 -d"${WRK_SECONDS:-8}s" -s scripts/search-queries.lua "http://127.0.0.1:$port" | grep -E 'Requests/sec|^paths|EMPTY|NON-2XX'
	for q in investment bay+area %E6%B9%BE%E5%8C%BA; do
		url="http://127.0.0.1:$port/search?q=$q"
		echo "wrk $url ($(curl -fsS "$url" | grep -c '<mark>') marks on the first page; load $(cut -d' ' -f1-3 /proc/loadavg))"
		wrk -t2 -c8 -d8s --latency "$url" | grep -E 'Requests/sec|^ +(50|90|99)%|Non-2xx'
	done
	kill "$pid"
	wait "$pid" 2>/dev/null || true
fi
