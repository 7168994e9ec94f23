#!/usr/bin/env bash
# Check 1 (issue 2): 1,000 static sources on one host; `transfeed once` twice.
# The second run must get a 304 for every source, create nothing, take < 10 s
# and peak below 150 MB RSS. The first run's figures are printed too.
#
#   scripts/checks/poll-304.sh        # env: SOURCES [1000] PER_HOST [16] CONCURRENCY [16] POSTS [5]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
SOURCES=${SOURCES:-1000}
PER_HOST=${PER_HOST:-16}
CONCURRENCY=${CONCURRENCY:-16}
POSTS=${POSTS:-5}
D=$WORK/poll-304
rm -rf "$D"
mkdir -p "$D"
build

start_standin "$D" -static -sources "$SOURCES" -initial-posts "$POSTS"
# channels 0: this check is about polling; translation goes to the stand-in (no latency).
gen_config "$D/config.yaml" -sources "$SOURCES" -channels 0 -data "$D/data" \
	-per-host "$PER_HOST" -concurrency "$CONCURRENCY" -log-level warn
echo "config: $SOURCES sources, fetch.per_host $PER_HOST, fetch.concurrency $CONCURRENCY, $POSTS posts each, SQLite"

run_once() { # run_once N: runs `once`, keeps /usr/bin/time's report in $D/time.N
	/usr/bin/time -v -o "$D/time.$1" "$TF" once -config "$D/config.yaml" >"$D/once.$1.out" 2>"$D/once.$1.err"
}

echo "load before run 1: $(load)"
run_once 1
s1=$(stats)
items1=$(guid_counts "$D/config.yaml")
echo "run 1: wall $(wall_of "$D/time.1"), peak RSS $(($(peak_rss_kb "$D/time.1") / 1024)) MB, items (total distinct) $items1," \
	"polls $(jq .sources.polls <<<"$s1"), translate requests $(jq .translate.requests <<<"$s1"), load $(load)"

run_once 2
s2=$(stats)
items2=$(guid_counts "$D/config.yaml")
polls2=$(($(jq .sources.polls <<<"$s2") - $(jq .sources.polls <<<"$s1")))
nm2=$(($(jq .sources.not_modified <<<"$s2") - $(jq .sources.not_modified <<<"$s1")))
ok2=$(($(jq .sources.ok <<<"$s2") - $(jq .sources.ok <<<"$s1")))
tr2=$(($(jq .translate.requests <<<"$s2") - $(jq .translate.requests <<<"$s1")))
wall2=$(wall_of "$D/time.2")
secs2=$(awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }' <<<"$wall2")
rss2=$(($(peak_rss_kb "$D/time.2") / 1024))
echo "run 2: wall $wall2 ($secs2 s), peak RSS $rss2 MB, polls $polls2, 304s $nm2, 200s $ok2, translate requests $tr2, load $(load)"

check "first run stored every post" "$(cut -d' ' -f2 <<<"$items1") == SOURCES * POSTS" "items $items1, expected $((SOURCES * POSTS))"
check "second run polled every source once" "$polls2 == SOURCES" "$polls2 polls"
check "second run: 304 for all" "$nm2 == SOURCES && $ok2 == 0" "$nm2 not modified, $ok2 full answers"
same=0
[ "$items1" = "$items2" ] && same=1
check "second run created nothing" "$same == 1 && $tr2 == 0" "items before $items1, after $items2; translate requests $tr2"
check "second run wall time < 10 s" "$(awk -v s="$secs2" 'BEGIN { print (s < 10) }')" "$secs2 s"
check "second run peak RSS < 150 MB" "$rss2 < 150" "$rss2 MB"
finish
