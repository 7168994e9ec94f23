#!/usr/bin/env bash
# Scale benchmark (issue 10): costs must stay flat in the number of stored posts.
#
# For each binary (this tree, and BASE_REV when given) and each size, it builds
# a SQLite store over SOURCES stand-in sources and prints:
#   import    posts/s and peak RSS of `transfeed once` storing the posts by real
#             ingest (translation off: provider none)
#   304       wall time of a `transfeed once` cycle in which every source answers 304
#   cold/warm first and second request of /feeds/all.rss, /, /status,
#             /sources/src-0.rss right after `transfeed run` started
#   wrk       req/s and p99 of /feeds/all.rss under wrk -c32 (200 gzip, and 304),
#             beside nginx serving the same gzip bytes (and its own 304)
#
# Sizes up to INGEST_MAX posts are ingested for real (SOURCES × N/SOURCES posts,
# one `once`); larger ones are made by copying the rows of the largest ingested
# store with SQL (new keys, older dates; the sqlite3 CLI), as the issue did.
#
#   scripts/bench-scale.sh                     # env: SIZES ["10000 100000"] SOURCES [1000]
#   SIZES="10000 100000 1000000" BASE_REV=e6bd548 scripts/bench-scale.sh
#
# Other env: INGEST_MAX [100000], BASE_INGEST_MAX [10000] (the base commit's claim loop
# is quadratic: larger base stores are made by SQL), WRK_SECONDS [10], WORK [/tmp/tf-bench-scale],
# TF_PORT [18290], NGINX_PORT [18291], FEED_LIMIT [100], BASE_REV [""]
# (a commit to measure too, built from `git archive`), IMPORT_ONLY [0] (1: stop after
# each binary's import figures; wrk and nginx are then not needed).
# Needs: go, curl, jq, wrk, nginx, sqlite3, /usr/bin/time (Debian: apt-get install -y
# wrk nginx-light sqlite3 time jq curl). Nothing leaves 127.0.0.1; every process it
# starts is stopped by pid.
set -euo pipefail
export WORK=${WORK:-/tmp/tf-bench-scale}
source "$(dirname "$0")/checks/lib.sh"
SIZES=${SIZES:-"10000 100000"}
SOURCES=${SOURCES:-1000}
INGEST_MAX=${INGEST_MAX:-100000}
WRK_SECONDS=${WRK_SECONDS:-10}
NGINX_PORT=${NGINX_PORT:-18291}
FEED_LIMIT=${FEED_LIMIT:-100}
BASE_REV=${BASE_REV:-}
BASE_INGEST_MAX=${BASE_INGEST_MAX:-10000}

IMPORT_ONLY=${IMPORT_ONLY:-0}
tools="curl jq sqlite3"
[ "$IMPORT_ONLY" = 1 ] || tools="$tools wrk nginx"
for tool in $tools; do
	command -v "$tool" >/dev/null || {
		echo "bench-scale: $tool is missing (apt-get install -y wrk nginx-light sqlite3 jq curl)" >&2
		exit 1
	}
done

build
BINS=("new:$TF")
if [ -n "$BASE_REV" ]; then
	src=$WORK/base-src
	rm -rf "$src" && mkdir -p "$src"
	git -C "$ROOT" archive "$BASE_REV" | tar -x -C "$src"
	(cd "$src" && go build -o "$WORK/transfeed-base" ./cmd/transfeed)
	BINS+=("base:$WORK/transfeed-base")
fi

ms() { awk -v s="$1" 'BEGIN { printf "%.1f", s * 1000 }'; }
secs_of() { awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }' <<<"$(wall_of "$1")"; }

# make_config DIR BIN: a config for the stand-in in DIR/config.yaml (translation off,
# no channels, polls only when told, feed limit FEED_LIMIT).
make_config() {
	local dir=$1
	"$SI" -gen-config -base "$BASE" -listen-http "127.0.0.1:$TF_PORT" -sources "$SOURCES" -channels 0 \
		-data "$dir/data" -schedule "@every 24h" -log-level warn -per-host 16 -concurrency 16 |
		sed -e 's/^  provider: openai/  provider: none/' -e "s/^    limit: 50/    limit: $FEED_LIMIT/" >"$dir/config.yaml"
}

# grow DB FROM TO: copies the FROM posts of DB (made by real ingest) until it holds TO,
# each copy with new keys and dates shifted back by the span of the original posts.
grow() {
	local db=$1 from=$2 to=$3
	local copies=$(((to - from) / from))
	sqlite3 "$db" >/dev/null <<-SQL
		PRAGMA journal_mode = WAL;
		CREATE TEMP TABLE c (n INTEGER PRIMARY KEY);
		WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < $copies) INSERT INTO c SELECT n FROM r;
		CREATE TEMP TABLE span AS SELECT MAX(published) - MIN(published) + 60000 AS ms FROM items;
		INSERT INTO items (source_id, key, guid, link, title, summary, content_html, author, language, image_url,
			categories, published, first_seen, updated_at, content_hash, state, backfill_rank, title_en, summary_en,
			content_html_en, translated_by, translated_at, title_only, untranslated, translate_err, attempts,
			next_attempt_at, ready_at)
		SELECT i.source_id, i.key || '-copy' || c.n, i.guid || '-copy' || c.n, i.link || '?copy=' || c.n, i.title,
			i.summary, i.content_html, i.author, i.language, i.image_url, i.categories,
			i.published - c.n * s.ms, i.first_seen - c.n * s.ms, i.updated_at - c.n * s.ms, i.content_hash, i.state,
			-1, i.title_en, i.summary_en, i.content_html_en, i.translated_by, i.translated_at, i.title_only,
			i.untranslated, i.translate_err, i.attempts, i.next_attempt_at,
			CASE WHEN i.ready_at > 0 THEN i.ready_at - c.n * s.ms ELSE 0 END
		FROM c, span s, items i WHERE i.id <= (SELECT MAX(id) FROM items WHERE key NOT LIKE '%-copy%')
		ORDER BY c.n, i.id;
		PRAGMA wal_checkpoint(TRUNCATE);
	SQL

}

# wrk_run URL [HEADER...]: "req/s p99".
wrk_run() {
	local rps p99 non2xx
	read -r rps p99 non2xx <<<"$(wrk_raw "$@")"
	printf '%.0f req/s, p99 %s ms%s' "$rps" "$p99" "${non2xx:+ (non-2xx/3xx: $non2xx)}"
}

# timed PATH: milliseconds of one GET (gzip), or what went wrong.
timed() {
	local out
	out=$(curl -sS -o /dev/null -H 'Accept-Encoding: gzip' -m 120 -w '%{http_code} %{time_total}' "http://127.0.0.1:$TF_PORT$1" 2>/dev/null) || true
	local code=${out%% *} secs=${out##* }
	if [ "$code" = 200 ]; then
		echo "$(ms "$secs") ms"
	else
		echo "no answer (HTTP ${code:-000} after $(ms "${secs:-0}") ms)"
	fi
}

# measure NAME DIR BIN POSTS: the request figures of a built store.
measure() {
	local name=$1 dir=$2 bin=$3 posts=$4
	local f="$WORK/figures.$name.$posts"
	: >"$f"
	serve "$dir" "$bin"
	local route cold warm
	for route in /feeds/all.rss / /status /sources/src-0.rss; do
		cold=$(timed "$route")
		warm=$(timed "$route")
		echo "$name $posts $route first $cold, second $warm" | tee -a "$f"
	done
	local url="http://127.0.0.1:$TF_PORT/feeds/all.rss"
	mkdir -p "$dir/www"
	curl -sS -m 120 -H 'Accept-Encoding: gzip' -o "$dir/www/all.rss.gz" "$url" || true
	local etag
	etag=$(curl -sS -m 120 -D - -o /dev/null -H 'Accept-Encoding: gzip' "$url" | sed -n 's/^[Ee][Tt]ag: *//p' | tr -d '\r') || true
	echo "$name $posts wrk /feeds/all.rss 200 gzip ($(wc -c <"$dir/www/all.rss.gz") bytes): $(wrk_run "$url" 'Accept-Encoding: gzip')" | tee -a "$f"
	echo "$name $posts wrk /feeds/all.rss 304: $(wrk_run "$url" 'Accept-Encoding: gzip' "If-None-Match: $etag")" | tee -a "$f"
	stop_pid "$RUN_PID"
	nginx_same "$dir"
	local nurl="http://127.0.0.1:$NGINX_PORT/all.rss"
	local netag
	netag=$(curl -fsS -D - -o /dev/null -H 'Accept-Encoding: gzip' "$nurl" | sed -n 's/^[Ee][Tt]ag: *//p' | tr -d '\r')
	echo "$name $posts nginx same bytes 200 gzip: $(wrk_run "$nurl" 'Accept-Encoding: gzip')" | tee -a "$f"
	echo "$name $posts nginx 304: $(wrk_run "$nurl" 'Accept-Encoding: gzip' "If-None-Match: $netag")" | tee -a "$f"
	stop_pid "$NGX_PID"
}

# cycle304 NAME DIR BIN POSTS: one `once` in which every source answers 304.
cycle304() {
	local name=$1 dir=$2 bin=$3 posts=$4
	local before
	before=$(stat '.sources.not_modified')
	/usr/bin/time -v -o "$dir/time.304.$posts" "$bin" once -config "$dir/config.yaml" >"$dir/once.304.$posts.out" 2>&1
	local nm=$(($(stat '.sources.not_modified') - before))
	echo "$name $posts 304 cycle: $(secs_of "$dir/time.304.$posts") s wall ($nm of $SOURCES answered 304), peak RSS $(($(peak_rss_kb "$dir/time.304.$posts") / 1024)) MB" |
		tee -a "$WORK/figures.$name.$posts"
}

echo "bench-scale: $SOURCES sources, sizes $SIZES, SQLite, $(nproc) cores, load $(load)"
# MEASURE="NAME:BIN:DIR:POSTS ..." measures stores built by an earlier run (the
# stand-in is started again for its 304 cycle; SKIP_304=1 skips it) and stops.
if [ -n "${MEASURE:-}" ]; then
	for m in $MEASURE; do
		IFS=: read -r name bin dir posts <<<"$m"
		per=$(sqlite3 "$dir/data/transfeed.db" "SELECT MAX(c) FROM (SELECT COUNT(*) AS c FROM items WHERE key NOT LIKE '%-copy%' GROUP BY source_id)")
		start_standin "$dir" -static -sources "$SOURCES" -initial-posts "$per" -feed-items "$per"
		old=$(sed -n '1s/.* at \(http:[^ ]*\)\.$/\1/p' "$dir/config.yaml")
		sed -i "s#$old#$BASE#g" "$dir/config.yaml"
		echo "load $(load)"
		[ "${SKIP_304:-0}" = 1 ] || cycle304 "$name" "$dir" "$bin" "$posts"
		measure "$name" "$dir" "$bin" "$posts"
		stop_pid "$SI_PID"
	done
	exit 0
fi
for entry in "${BINS[@]}"; do
	name=${entry%%:*}
	bin=${entry#*:}
	ingested=0
	dir=""
	max_ingest=$INGEST_MAX
	[ "$name" = base ] && max_ingest=$BASE_INGEST_MAX
	for size in $SIZES; do
		per=$((size / SOURCES))
		if [ "$size" -le "$max_ingest" ]; then
			[ -n "${SI_PID:-}" ] && stop_pid "$SI_PID"
			dir=$WORK/$name-$size
			rm -rf "$dir" && mkdir -p "$dir"
			start_standin "$dir" -static -sources "$SOURCES" -initial-posts "$per" -feed-items "$per"
			make_config "$dir"
			/usr/bin/time -v -o "$dir/time.import" "$bin" once -config "$dir/config.yaml" >"$dir/once.import.out" 2>&1
			secs=$(secs_of "$dir/time.import")
			stored=$(sqlite3 "$dir/data/transfeed.db" "SELECT COUNT(*) FROM items")
			echo "$name $size import: $stored posts in $secs s = $(awk -v n="$stored" -v s="$secs" 'BEGIN { printf "%.0f", n / s }') posts/s, peak RSS $(($(peak_rss_kb "$dir/time.import") / 1024)) MB, load $(load)" |
				tee "$WORK/figures.$name.$size"
			ingested=$size
			[ "$IMPORT_ONLY" = 1 ] && continue
		else
			[ "$IMPORT_ONLY" = 1 ] && continue
			# Made by SQL from the largest ingested store (same stand-in keeps serving it).
			cp -r "$dir" "$WORK/$name-$size.tmp"
			rm -rf "$WORK/$name-$size" && mv "$WORK/$name-$size.tmp" "$WORK/$name-$size"
			dir=$WORK/$name-$size
			sed -i "s#$WORK/$name-$ingested/#$dir/#g" "$dir/config.yaml"
			start=$(now)
			grow "$dir/data/transfeed.db" "$ingested" "$size"
			echo "$name $size made by SQL copies of the $ingested ingested posts in $(elapsed "$start") s ($(sqlite3 "$dir/data/transfeed.db" "SELECT COUNT(*) FROM items") posts)" |
				tee "$WORK/figures.$name.$size"
			# The copies are queued for the search index, which the next open
			# of the store builds: done here, so the figures below do not pay it.
			start=$(now)
			"$bin" items -config "$dir/config.yaml" -limit 1 >/dev/null
			echo "$name $size search index of the copies built at the next open in $(elapsed "$start") s" |
				tee -a "$WORK/figures.$name.$size"
		fi
		cycle304 "$name" "$dir" "$bin" "$size"
		measure "$name" "$dir" "$bin" "$size"
	done
	[ -n "${SI_PID:-}" ] && stop_pid "$SI_PID"
	SI_PID=""
done
echo "figures: $WORK/figures.*"
