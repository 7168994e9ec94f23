#!/usr/bin/env bash
# HTTP throughput side by side (issue 10): transfeed binaries and nginx
# serving the same bytes, measured in alternation on one store, so a busy
# machine slows all of them alike and the ratios stay meaningful.
#
#   DIR=/tmp/tf-bench-scale/new-100000 BINS="new:/tmp/tf-bench-scale/transfeed base:/tmp/x/transfeed-base" \
#     scripts/bench-http.sh
#
# DIR is a store built by scripts/bench-scale.sh (it holds config.yaml and
# data/). Each round runs, for every binary in BINS and then for nginx,
# wrk -t2 -c32 on /feeds/all.rss: a 200 with gzip and a conditional request
# answered 304 (nginx: the same gzip bytes with gzip_static, and its own 304).
# It prints every round and, at the end, the median req/s and p99 of each and
# each binary's ratio to nginx.
#
# Env: ROUNDS [3], WRK_SECONDS [5], TF_PORT [18290],
# NGINX_PORT [18291]. Needs wrk, nginx, curl.
set -euo pipefail
: "${DIR:?DIR: a store directory made by scripts/bench-scale.sh}"
: "${BINS:?BINS: name:binary pairs}"
export WORK=${WORK:-$DIR/http}
export WRK_SECONDS=${WRK_SECONDS:-5}
NOBUILD=1
source "$(dirname "$0")/checks/lib.sh"
ROUNDS=${ROUNDS:-3}
NGINX_PORT=${NGINX_PORT:-18291}
FEED=/feeds/all.rss
for tool in curl wrk nginx; do
	command -v "$tool" >/dev/null || {
		echo "bench-http: $tool is missing (apt-get install -y wrk nginx-light curl)" >&2
		exit 1
	}
done
grep -q "listen: 127.0.0.1:$TF_PORT" "$DIR/config.yaml" || sed -i "s/listen: .*/listen: 127.0.0.1:$TF_PORT/" "$DIR/config.yaml"

# wrk_once URL [HEADER...]: "req/s p99_ms" (errors reported on stderr).
wrk_once() {
	local rps p99 non2xx
	read -r rps p99 non2xx <<<"$(wrk_raw "$@")"
	[ -z "$non2xx" ] || echo "bench-http: $1 answered $non2xx non-2xx/3xx responses" >&2
	echo "$rps $p99"
}

etag_of() { curl -fsS -D - -o /dev/null -H 'Accept-Encoding: gzip' "$1" | sed -n 's/^[Ee][Tt]ag: *//p' | tr -d '\r'; }

mkdir -p "$WORK/www"
res=$WORK/results
: >"$res"
echo "bench-http: $DIR, ${ROUNDS} rounds of ${WRK_SECONDS}s, $(nproc) cores, load $(load)"
for round in $(seq 1 "$ROUNDS"); do
	for entry in $BINS; do
		name=${entry%%:*}
		bin=${entry#*:}
		serve "$DIR" "$bin"
		url="http://127.0.0.1:$TF_PORT$FEED"
		curl -fsS -H 'Accept-Encoding: gzip' -o "$WORK/www/all.rss.gz" "$url"
		etag=$(etag_of "$url")
		read -r r200 p200 <<<"$(wrk_once "$url" 'Accept-Encoding: gzip')"
		read -r r304 p304 <<<"$(wrk_once "$url" 'Accept-Encoding: gzip' "If-None-Match: $etag")"
		stop_pid "$RUN_PID"
		echo "$name $round $r200 $p200 $r304 $p304" >>"$res"
		echo "round $round $name: 200 gzip $r200 req/s p99 $p200 ms; 304 $r304 req/s p99 $p304 ms (load $(load))"
	done
	nginx_same "$WORK"
	nurl="http://127.0.0.1:$NGINX_PORT/all.rss"
	netag=$(etag_of "$nurl")
	read -r r200 p200 <<<"$(wrk_once "$nurl" 'Accept-Encoding: gzip')"
	read -r r304 p304 <<<"$(wrk_once "$nurl" 'Accept-Encoding: gzip' "If-None-Match: $netag")"
	stop_pid "$NGX_PID"
	echo "nginx $round $r200 $p200 $r304 $p304" >>"$res"
	echo "round $round nginx: 200 gzip $r200 req/s p99 $p200 ms; 304 $r304 req/s p99 $p304 ms (load $(load))"
done

# Medians over the rounds, and ratios to nginx's medians.
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { awk -v n="$1" -v c="$2" '$1 == n { print $c }' "$res" | median; }
n200=$(col nginx 3)
n304=$(col nginx 5)
echo "medians over $ROUNDS rounds (req/s, p99 ms):"
printf '  %-8s 200 gzip %9.0f p99 %6.1f   304 %9.0f p99 %6.1f\n' nginx "$n200" "$(col nginx 4)" "$n304" "$(col nginx 6)"
for entry in $BINS; do
	name=${entry%%:*}
	a=$(col "$name" 3)
	b=$(col "$name" 5)
	printf '  %-8s 200 gzip %9.0f p99 %6.1f   304 %9.0f p99 %6.1f   ratio to nginx: 200 %.2fx, 304 %.2fx\n' \
		"$name" "$a" "$(col "$name" 4)" "$b" "$(col "$name" 6)" \
		"$(awk -v a="$a" -v n="$n200" 'BEGIN { print a / n }')" "$(awk -v b="$b" -v n="$n304" 'BEGIN { print b / n }')"
done
