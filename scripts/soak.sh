#!/usr/bin/env bash
# Soak test (issue 6): one `transfeed run` against the stand-ins
# (internal/standin) with random faults, for DURATION (default 10m).
#
#   scripts/soak.sh [DURATION]          # e.g. scripts/soak.sh 2m
#
# The world: SOURCES sources on the stand-in's farm (10% 5xx, 2% stalls longer
# than transfeed's fetch.timeout, 5% of polls edit a post, one new post per
# source every NEW_EVERY), the OpenAI-compatible translation stand-in with 5%
# errors (429 / 503), the Bot API stand-in with 2% random 429s; every source
# polled "@every 1m" (the minimum the config allows).
#
# Every 10 s it samples transfeed's RSS (/proc/PID/status VmRSS), its
# goroutines (go_goroutines on its /metrics) and the stand-in's /stats. At the
# end it stops transfeed with SIGTERM (timed) and reports:
#   posts lost        posts the farm served in a 200 feed answer at least
#                     LOSS_MARGIN seconds (one poll interval + margin) before
#                     the end that are not in the store          must be 0
#   duplicates        the Bot API stand-in's duplicate deliveries  must be 0
#   pacing / retry_after violations (stand-in)                    must be 0
#   peak RSS          VmHWM                                        must be < 200 MB
#   RSS, goroutines   flat: max of the last third <= FLAT_PCT% above the
#                     max of the middle third
#   shutdown          SIGTERM to exit                              must be < 10 s, exit 0
# and, for information: translation characters and errors, deliveries sent /
# pending / failed, items per state.
#
# Environment (defaults in brackets):
#   SOURCES [500]  NEW_EVERY [3m]  CHANNELS [25]  FAIL_RATE [0.10]
#   TIMEOUT_RATE [0.02]  STALL [30s]  FETCH_TIMEOUT [10s]  CHANGE_RATE [0.05]
#   TR_ERROR_RATE [0.05]  TG_429_RATE [0.02]  SEED [1]  PER_HOST [16]
#   CONCURRENCY [32]  LOSS_MARGIN [120]  FLAT_PCT [20]  PORT [18190]
#   WORK [mktemp]
# CHANNELS: source n goes to channel n % CHANNELS. Channels are groups, which
# transfeed paces at 20 messages a minute; 500 sources with a new post every
# 3 min are ~167 posts a minute, so 25 channels (20 sources, ~7 posts a minute
# each) keep every delivery lane below its limit and the backlog can drain.
#
# Processes are stopped by pid. Exits non-zero when a must-condition fails.
set -euo pipefail

if [ "${1:-}" = -report ]; then
	WORK=${2:?usage: soak.sh -report DIR}
	FLAT_PCT=${FLAT_PCT:-20}
	set -- 10m
	REPORT_ONLY=1
fi
DURATION=${1:-10m}
SOURCES=${SOURCES:-500}
NEW_EVERY=${NEW_EVERY:-3m}
CHANNELS=${CHANNELS:-25}
FAIL_RATE=${FAIL_RATE:-0.10}
TIMEOUT_RATE=${TIMEOUT_RATE:-0.02}
STALL=${STALL:-30s}
FETCH_TIMEOUT=${FETCH_TIMEOUT:-10s}
CHANGE_RATE=${CHANGE_RATE:-0.05}
TR_ERROR_RATE=${TR_ERROR_RATE:-0.05}
TG_429_RATE=${TG_429_RATE:-0.02}
SEED=${SEED:-1}
PER_HOST=${PER_HOST:-16}
CONCURRENCY=${CONCURRENCY:-32}
LOSS_MARGIN=${LOSS_MARGIN:-120}
FLAT_PCT=${FLAT_PCT:-20}
PORT=${PORT:-18190}
WORK=${WORK:-$(mktemp -d /tmp/tf-soak.XXXXXX)}
ROOT=$(cd "$(dirname "$0")/.." && pwd)

# seconds DURATION: 90, 90s, 10m, 1h → seconds.
seconds() {
	case "$1" in
	*h) echo $((${1%h} * 3600)) ;;
	*m) echo $((${1%m} * 60)) ;;
	*s) echo "${1%s}" ;;
	*) echo "$1" ;;
	esac
}
RUN_FOR=$(seconds "$DURATION")
[ "$RUN_FOR" -ge 60 ] || { echo "soak: DURATION must be at least 1m" >&2; exit 2; }

# report: reads $WORK (the run's files and end.env) and prints the verdict;
# returns non-zero when a must-condition fails.
report() {
	# shellcheck disable=SC1091
	. "$WORK/end.env"
	# The store's view.
	DB=$WORK/data/transfeed.db
	q() { sqlite3 -readonly "$DB" "$1"; }
	ITEMS_STATES=$(q "SELECT group_concat(state || '=' || n, ' ') FROM (SELECT state, count(*) n FROM items GROUP BY state ORDER BY state)")
	DELIV_STATES=$(q "SELECT coalesce(group_concat(state || '=' || n, ' '), 'none') FROM (SELECT state, count(*) n FROM deliveries GROUP BY state ORDER BY state)")
	DELIV_SENT=$(q "SELECT count(*) FROM deliveries WHERE state = 'sent'")
	DELIV_PENDING=$(q "SELECT count(*) FROM deliveries WHERE state = 'pending'")
	DELIV_FAILED=$(q "SELECT count(*) FROM deliveries WHERE state = 'failed'")
	DUP_ROWS=$(q "SELECT count(*) FROM (SELECT item_id, channel FROM deliveries GROUP BY 1, 2 HAVING count(*) > 1)")

	# Posts lost: served (first_served) before cutoff = the stand-in's clock at the
	# end minus LOSS_MARGIN, and not stored. Timestamps are RFC 3339 UTC.
	jq -n --slurpfile pub "$WORK/published.json" --slurpfile items "$WORK/items.json" --slurpfile st "$WORK/stats.json" \
		--argjson margin "$LOSS_MARGIN" '
		def secs: sub("\\.[0-9]+"; "") | sub("\\+00:00$"; "Z") | fromdateiso8601;
		($items[0] | map(.guid) | map({(.): true}) | add // {}) as $stored
		| ($st[0].now | secs) as $tend
		| ($pub[0] | map(select(.first_served != null))) as $served
		| ($served | map(select((.first_served | secs) <= $tend - $margin))) as $old
		| {
			published: ($pub[0] | length),
			served: ($served | length),
			never_served: ($pub[0] | map(select(.first_served == null)) | length),
			served_before_cutoff: ($old | length),
			stored_rows: ($items[0] | length),
			stored_distinct_guids: ($stored | length),
			lost: [$old[] | select($stored[.guid] | not) | .guid],
			served_not_stored_any_time: [$served[] | select($stored[.guid] | not) | .guid],
			stored_not_published: [$items[0][] | .guid | select(startswith("src-") | not)]
		}' >"$WORK/loss.json"

	# Series and flatness: thirds of the samples; flat = max(last third) <=
	# max(middle third) * (1 + FLAT_PCT/100).
	flat() { # column of samples.tsv → "max_mid max_last ok|FAIL"
		awk -F'\t' -v c="$1" -v pct="$FLAT_PCT" '
			$c != "" { v[n++] = $c }
			END {
				a = int(n / 3); b = int(2 * n / 3); mm = 0; ml = 0
				for (i = a; i < b; i++) if (v[i] + 0 > mm) mm = v[i] + 0
				for (i = b; i < n; i++) if (v[i] + 0 > ml) ml = v[i] + 0
				printf "%d %d %s\n", mm, ml, (n >= 6 && ml <= mm * (1 + pct / 100)) ? "ok" : "FAIL"
			}' "$WORK/samples.tsv"
	}
	read -r RSS_MID RSS_LAST RSS_FLAT <<<"$(flat 2)"
	read -r GOR_MID GOR_LAST GOR_FLAT <<<"$(flat 3)"
	RSS_SERIES=$(awk -F'\t' '{ printf "%s%.0f", (NR > 1 ? " " : ""), $2 / 1024 }' "$WORK/samples.tsv")
	GOR_SERIES=$(awk -F'\t' '{ printf "%s%s", (NR > 1 ? " " : ""), $3 }' "$WORK/samples.tsv")
	# Messages accepted per minute and the 1-min load every minute, from the samples.
	MSG_SERIES=$(jq -r '.telegram.messages' "$WORK/stats.jsonl" | awk '{ v[NR] = $1 } END { for (i = 7; i <= NR; i += 6) printf "%s%d", (i > 7 ? " " : ""), v[i] - v[i - 6] }')
	LOAD_SERIES=$(awk -F'\t' 'NR % 6 == 1 { printf "%s%s", (NR > 1 ? " " : ""), $4 }' "$WORK/samples.tsv")

	LOST=$(jq '.lost | length' "$WORK/loss.json")
	SERVED_NOT_STORED=$(jq '.served_not_stored_any_time | length' "$WORK/loss.json")
	S=$WORK/stats.json
	DUPS=$(jq .telegram.duplicates "$S")
	PACING=$(jq .telegram.pacing_violations "$S")
	RAV=$(jq .telegram.retry_after_violations "$S")
	HWM_MB=$(awk -v k="$HWM" 'BEGIN { printf "%.1f", k / 1024 }')
	WARNS=$(grep -c 'level=WARN' "$WORK/transfeed.log" || true)
	ERRS=$(grep -c 'level=ERROR' "$WORK/transfeed.log" || true)
	PANICS=$(grep -c '^panic\|DATA RACE\|fatal error' "$WORK/transfeed.log" || true)

	fail=0
	check() { # NAME OK VALUE
		if [ "$2" = 1 ]; then
			printf '  %-46s %-20s ok\n' "$1" "$3"
		else
			printf '  %-46s %-20s FAIL\n' "$1" "$3"
			fail=1
		fi
	}
	b() { if eval "$1"; then echo 1; else echo 0; fi; }

	echo
	echo "== soak: $SOURCES sources, new post every $NEW_EVERY per source, $CHANNELS channels, ${RUN_FOR}s"
	echo "   faults: fail $FAIL_RATE, stall $TIMEOUT_RATE x $STALL (fetch.timeout $FETCH_TIMEOUT), change $CHANGE_RATE, translate errors $TR_ERROR_RATE, telegram 429 $TG_429_RATE; seed $SEED"
	echo "   load (1/5/15 min) at end: $LOAD_END on $(nproc) cores; 1-min load over the run: $LOAD_SERIES"
	echo "must:"
	check "posts lost (served >${LOSS_MARGIN}s before end)" "$(b "[ $LOST = 0 ]")" "$LOST"
	check "duplicate deliveries (stand-in)" "$(b "[ $DUPS = 0 ] && [ $DUP_ROWS = 0 ]")" "$DUPS (db rows $DUP_ROWS)"
	check "pacing violations" "$(b "[ $PACING = 0 ]")" "$PACING"
	check "retry_after violations" "$(b "[ $RAV = 0 ]")" "$RAV"
	check "peak RSS (VmHWM) < 200 MB" "$(b "[ $HWM -lt 204800 ]")" "$HWM_MB MB"
	check "RSS flat (last/middle third max)" "$(b "[ $RSS_FLAT = ok ]")" "$((RSS_LAST / 1024))/$((RSS_MID / 1024)) MB"
	check "goroutines flat (last/middle max)" "$(b "[ $GOR_FLAT = ok ]")" "$GOR_LAST/$GOR_MID"
	check "SIGTERM to exit < 10 s, exit 0" "$(b "awk -v s=$STOP_S 'BEGIN { exit !(s < 10) }' && [ $rc = 0 ]")" "${STOP_S}s, exit $rc"
	check "no panic / data race in the log" "$(b "[ $PANICS = 0 ]")" "$PANICS"
	echo "info:"
	jq -r '"  farm: published \(.published), served \(.served) (never served \(.never_served)), served before cutoff \(.served_before_cutoff); stored \(.stored_rows) rows, \(.stored_distinct_guids) distinct guids"' "$WORK/loss.json"
	echo "  served but not stored (any time, incl. the last ${LOSS_MARGIN}s): $SERVED_NOT_STORED $(jq -c '.served_not_stored_any_time[:10]' "$WORK/loss.json")"
	echo "  items: $ITEMS_STATES; deliveries: $DELIV_STATES"
	jq -r '"  polls \(.sources.polls): ok \(.sources.ok), 304 \(.sources.not_modified), failures \(.sources.failures), stalls \(.sources.stalls), edits \(.sources.edits)"' "$S"
	jq -r '"  translation: requests \(.translate.requests), ok \(.translate.ok), errors \(.translate.errors), malformed \(.translate.malformed), texts \(.translate.texts), chars \(.translate.chars)"' "$S"
	jq -r '"  telegram: messages \(.telegram.messages), rate_limited \(.telegram.rate_limited), rejected \(.telegram.rejected), malformed \(.telegram.malformed), getupdates_conflicts \(.telegram.getupdates_conflicts)"' "$S"
	echo "  deliveries sent (db) $DELIV_SENT vs messages accepted (stand-in) $(jq .telegram.messages "$S"); pending at end $DELIV_PENDING, failed $DELIV_FAILED"
	echo "  log: $WARNS WARN, $ERRS ERROR lines"
	echo "series (every 10 s):"
	echo "  RSS MB:     $RSS_SERIES"
	echo "  goroutines: $GOR_SERIES"
	echo "  telegram messages accepted per minute: $MSG_SERIES"
	jq -n --argjson lost "$LOST" --argjson dups "$DUPS" --argjson pacing "$PACING" --argjson rav "$RAV" \
		--argjson hwm_kb "$HWM" --arg stop_s "$STOP_S" --argjson rc "$rc" \
		--arg rss "$RSS_SERIES" --arg gor "$GOR_SERIES" --argjson fail "$fail" \
		'{lost: $lost, duplicates: $dups, pacing: $pacing, retry_after: $rav, hwm_kb: $hwm_kb,
		  stop_seconds: ($stop_s | tonumber), exit: $rc, rss_mb: $rss, goroutines: $gor, failed: ($fail == 1)}' >"$WORK/summary.json"
	echo "files: $WORK (transfeed.log, samples.tsv, stats.jsonl, stats.json, published.json, items.json, loss.json, summary.json)"
	if [ "$fail" = 0 ]; then echo "OK"; else echo "FAIL"; fi
	return "$fail"
}

if [ "${REPORT_ONLY:-}" = 1 ]; then
	report
	exit
fi

SPID=
TPID=
cleanup() {
	if [ -n "$TPID" ]; then kill -KILL "$TPID" 2>/dev/null || true; fi
	if [ -n "$SPID" ]; then kill -TERM "$SPID" 2>/dev/null || true; fi
	wait 2>/dev/null || true
}
trap cleanup EXIT

echo "soak: work dir $WORK, duration ${RUN_FOR}s, load $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
(cd "$ROOT" && go build -o "$WORK/transfeed" ./cmd/transfeed && go build -o "$WORK/standin" ./internal/tools/standin)

if ss -ltn 2>/dev/null | grep -q "127.0.0.1:$PORT "; then
	echo "soak: port $PORT is taken; set PORT" >&2
	exit 2
fi

"$WORK/standin" -seed "$SEED" -sources "$SOURCES" -new-every "$NEW_EVERY" \
	-fail-rate "$FAIL_RATE" -timeout-rate "$TIMEOUT_RATE" -stall "$STALL" -change-rate "$CHANGE_RATE" \
	-tr-error-rate "$TR_ERROR_RATE" -tg-429-rate "$TG_429_RATE" \
	>"$WORK/standin.out" 2>"$WORK/standin.err" &
SPID=$!
BASE=
for _ in $(seq 100); do
	BASE=$(sed -n 's/^listening //p' "$WORK/standin.out")
	[ -n "$BASE" ] && break
	sleep 0.1
done
[ -n "$BASE" ] || { echo "soak: stand-in did not start" >&2; exit 1; }

"$WORK/standin" -gen-config -sources "$SOURCES" -base "$BASE" -channels "$CHANNELS" -data "$WORK/data" \
	-listen-http "127.0.0.1:$PORT" -per-host "$PER_HOST" -concurrency "$CONCURRENCY" -schedule "@every 1m" \
	>"$WORK/config.yaml"
# fetch.timeout: shorter than the stand-in's stall, so stalls are timeouts.
sed -i "s/^  timeout: 30s\$/  timeout: $FETCH_TIMEOUT/" "$WORK/config.yaml"
grep -q "^  timeout: $FETCH_TIMEOUT\$" "$WORK/config.yaml" || { echo "soak: could not set fetch.timeout" >&2; exit 1; }
"$WORK/transfeed" validate -config "$WORK/config.yaml" >/dev/null

"$WORK/transfeed" run -config "$WORK/config.yaml" >"$WORK/transfeed.log" 2>&1 &
TPID=$!
T0=$SECONDS

# sample: one line per 10 s: t, VmRSS kB, goroutines, 1-min load; and the stand-in's /stats.
: >"$WORK/samples.tsv"
: >"$WORK/stats.jsonl"
next=0
while [ $((SECONDS - T0)) -lt "$RUN_FOR" ]; do
	if ! kill -0 "$TPID" 2>/dev/null; then
		echo "soak: transfeed exited early; see $WORK/transfeed.log" >&2
		tail -20 "$WORK/transfeed.log" >&2
		exit 1
	fi
	if [ $((SECONDS - T0)) -ge "$next" ]; then
		rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$TPID/status" || true)
		gor=$(curl -s --max-time 5 "http://127.0.0.1:$PORT/metrics" | awk '/^go_goroutines / {print $2}' || true)
		printf '%d\t%s\t%s\t%s\n' $((SECONDS - T0)) "${rss:-}" "${gor:-}" "$(cut -d' ' -f1 /proc/loadavg)" >>"$WORK/samples.tsv"
		curl -s --max-time 5 "$BASE/stats" | jq -c . >>"$WORK/stats.jsonl" || true
		next=$((next + 10))
	fi
	sleep 1
done

# The end: peak RSS, then SIGTERM, timed.
HWM=$(awk '/^VmHWM:/ {print $2}' "/proc/$TPID/status")
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
curl -s --max-time 5 "http://127.0.0.1:$PORT/metrics" >"$WORK/metrics.txt" || true
t_term=$(date +%s.%N)
kill -TERM "$TPID"
rc=0
for _ in $(seq 300); do
	kill -0 "$TPID" 2>/dev/null || break
	sleep 0.1
done
t_exit=$(date +%s.%N)
if kill -0 "$TPID" 2>/dev/null; then
	echo "soak: transfeed did not exit 30 s after SIGTERM; SIGKILL" >&2
	kill -KILL "$TPID"
	rc=137
fi
wait "$TPID" || rc=$?
TPID=
STOP_S=$(awk -v a="$t_term" -v b="$t_exit" 'BEGIN { printf "%.2f", b - a }')

# The farm's view (transfeed is stopped: nothing changes any more).
curl -s "$BASE/stats" >"$WORK/stats.json"
curl -s "$BASE/published" >"$WORK/published.json"
kill -TERM "$SPID" 2>/dev/null || true
wait "$SPID" 2>/dev/null || true
SPID=

"$WORK/transfeed" items -config "$WORK/config.yaml" -json -limit 1000000 >"$WORK/items.json"

# What the report needs besides the files (so `soak.sh -report DIR` can redo it).
{
	for v in SOURCES NEW_EVERY CHANNELS FAIL_RATE TIMEOUT_RATE STALL FETCH_TIMEOUT CHANGE_RATE TR_ERROR_RATE TG_429_RATE SEED LOSS_MARGIN RUN_FOR HWM STOP_S rc LOAD_END; do
		printf '%s=%q\n' "$v" "${!v}"
	done
} >"$WORK/end.env"
report
