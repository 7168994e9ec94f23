#!/usr/bin/env bash
# Retention soak (issue 10): one `transfeed run` against the stand-ins, with a
# short retention.max_age and retention.sweep_every, checking all the time that
# the sweep keeps the store bounded and loses nothing it must keep.
#
#   scripts/retention-soak.sh                 # SOAK_SECONDS [540] (9 minutes)
#   SOAK_SECONDS=180 scripts/retention-soak.sh
#
# The world: SOURCES stand-in sources, each with a new post every NEW_EVERY,
# dated PUB_LAG before it appears (standin -pub-lag), so a post reaches
# max_age (MAX_AGE, at least 1h as the config requires) MAX_AGE - PUB_LAG after
# it appears: within the soak. Translation through the OpenAI stand-in with
# TR_ERROR_RATE errors (a failed post is retried 1, 2, 4… minutes later, so
# some pass max_age unready); every source goes to one of CHANNELS Telegram
# channels (20 messages a minute each, TG_429_RATE 429s), and the Bot API is
# down (502) for TG_DOWN_FOR from TG_DOWN_FROM, so deliveries queue and posts
# pass max_age with a delivery still pending. 30 sources × a post every 40 s
# is 45 posts a minute against 80 a minute of sending, so the outage's backlog
# drains within the soak. Sources are polled "@every 1m".
#
# Every CHECK_EVERY seconds it reads the store (sqlite3, read-only), the
# stand-in's /published and /messages, and checks (all must hold):
#   old posts gone     a post past max_age, ready and with no pending delivery
#                      is gone within GRACE seconds (two sweeps and a margin)
#   nothing newer lost every post served more than LOSS_MARGIN s ago and
#                      published within max_age (less KEEP_MARGIN) is stored
#   only done posts    a post that disappeared was past max_age when it did,
#   deleted            and its Telegram message had been sent (so it was ready
#                      and no delivery of it was pending)
#   never back as new  a GUID never comes back under another id; no duplicate
#                      message at the Telegram stand-in
#   bounded            the SQLite file (page_count × page_size) stays under
#                      SIZE_MAX_MB, and what the posts take in it (every table
#                      and index but the translation memory, which retention
#                      keeps by design and which grows with new text) is flat:
#                      the max of the last third of the samples <= FLAT_PCT%
#                      above the max of the middle third
# and that the soak exercised what it checks: sweeps ran and deleted posts.
# For information it prints, per minute: posts stored, past max_age kept for a
# pending delivery or because they are not ready, file and WAL size.
#
# Environment (defaults in brackets): SOAK_SECONDS [540] SOURCES [30]
# NEW_EVERY [40s] CHANNELS [4] MAX_AGE_S [3600] PUB_LAG_S [3450] SWEEP_EVERY [1m]
# CHECK_EVERY [15] TR_ERROR_RATE [0.5] TG_429_RATE [0.05] TG_DOWN_FROM [120s]
# TG_DOWN_FOR [120s] LOSS_MARGIN [95] (a poll interval and a margin: each source
# is polled every minute at its own offset)
# KEEP_MARGIN [25] SIZE_MAX_MB [16] FLAT_PCT [20] PORT [18490] SEED [1]
# WORK [mktemp]. Needs go, curl, jq, sqlite3. Processes are stopped by pid; only
# 127.0.0.1 is used. Exits non-zero when a check fails.
set -euo pipefail

SOAK_SECONDS=${SOAK_SECONDS:-540}
SOURCES=${SOURCES:-30}
NEW_EVERY=${NEW_EVERY:-40s}
CHANNELS=${CHANNELS:-4}
MAX_AGE_S=${MAX_AGE_S:-3600}
PUB_LAG_S=${PUB_LAG_S:-3450}
SWEEP_EVERY=${SWEEP_EVERY:-1m}
CHECK_EVERY=${CHECK_EVERY:-15}
TR_ERROR_RATE=${TR_ERROR_RATE:-0.5}
TG_429_RATE=${TG_429_RATE:-0.05}
TG_DOWN_FROM=${TG_DOWN_FROM:-120s}
TG_DOWN_FOR=${TG_DOWN_FOR:-120s}
LOSS_MARGIN=${LOSS_MARGIN:-95}
KEEP_MARGIN=${KEEP_MARGIN:-25}
SIZE_MAX_MB=${SIZE_MAX_MB:-16}
FLAT_PCT=${FLAT_PCT:-20}
PORT=${PORT:-18490}
SEED=${SEED:-1}
WORK=${WORK:-$(mktemp -d /tmp/tf-retention-soak.XXXXXX)}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$WORK"

for tool in go curl jq sqlite3; do
	command -v "$tool" >/dev/null || { echo "retention-soak: $tool is missing" >&2; exit 2; }
done
secs() { # 90, 90s, 2m, 1h → seconds
	case "$1" in
	*h) echo $((${1%h} * 3600)) ;;
	*m) echo $((${1%m} * 60)) ;;
	*s) echo "${1%s}" ;;
	*) echo "$1" ;;
	esac
}
SWEEP_S=$(secs "$SWEEP_EVERY")
GRACE=${GRACE:-$((2 * SWEEP_S + 30))}
MAX_AGE_MS=$((MAX_AGE_S * 1000))

SPID=
TPID=
cleanup() {
	if [ -n "$TPID" ]; then kill -KILL "$TPID" 2>/dev/null || true; fi
	if [ -n "$SPID" ]; then kill -TERM "$SPID" 2>/dev/null || true; fi
	wait 2>/dev/null || true
}
trap cleanup EXIT

echo "retention-soak: work dir $WORK, ${SOAK_SECONDS}s, load $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
(cd "$ROOT" && go build -o "$WORK/transfeed" ./cmd/transfeed && go build -o "$WORK/standin" ./internal/tools/standin)
if ss -ltn 2>/dev/null | grep -q "127.0.0.1:$PORT "; then
	echo "retention-soak: port $PORT is taken; set PORT" >&2
	exit 2
fi

# The stand-in's JSON times in UTC ("…Z"), which jq's fromdateiso8601 reads.
TZ=UTC "$WORK/standin" -seed "$SEED" -sources "$SOURCES" -new-every "$NEW_EVERY" -pub-lag "${PUB_LAG_S}s" \
	-tr-error-rate "$TR_ERROR_RATE" -tg-429-rate "$TG_429_RATE" -tg-down-from "$TG_DOWN_FROM" -tg-down-for "$TG_DOWN_FOR" \
	>"$WORK/standin.out" 2>"$WORK/standin.err" &
SPID=$!
BASE=
for _ in $(seq 100); do
	BASE=$(sed -n 's/^listening //p' "$WORK/standin.out")
	[ -n "$BASE" ] && break
	sleep 0.1
done
[ -n "$BASE" ] || { echo "retention-soak: stand-in did not start" >&2; exit 1; }

"$WORK/standin" -gen-config -sources "$SOURCES" -base "$BASE" -channels "$CHANNELS" -data "$WORK/data" \
	-listen-http "127.0.0.1:$PORT" -schedule "@every 1m" >"$WORK/config.yaml"
cat >>"$WORK/config.yaml" <<-YAML
	retention:
	  max_age: ${MAX_AGE_S}s
	  sweep_every: $SWEEP_EVERY
YAML
"$WORK/transfeed" validate -config "$WORK/config.yaml" >/dev/null
"$WORK/transfeed" run -config "$WORK/config.yaml" >"$WORK/transfeed.log" 2>&1 &
TPID=$!
T0=$SECONDS
DB=$WORK/data/transfeed.db

R=$WORK/rounds
mkdir -p "$R"
: >"$R/seen" # guid id, by guid: every post ever stored
: >"$R/prev" # id guid published_ms state pending, by id: the last snapshot
: >"$R/done" # id since_ms: first seen past max_age, ready, nothing pending
: >"$WORK/violations"
: >"$WORK/samples.tsv"
q() { sqlite3 -readonly -cmd ".timeout 10000" "$DB" "$1"; }
violation() { echo "t=$(($(date +%s) - START_S))s $*" | tee -a "$WORK/violations"; }
START_S=$(date +%s)
rounds=0

check_round() {
	local now_ms cur=$R/cur
	now_ms=$(date +%s%3N)
	q "SELECT i.id, i.guid, i.published, i.state,
		(SELECT COUNT(*) FROM deliveries d WHERE d.item_id = i.id AND d.state = 'pending') FROM items i" |
		tr '|' ' ' | LC_ALL=C sort -k1,1 >"$cur"
	curl -fsS "$BASE/messages" | jq -r '(. // [])[] | .url // empty' | sed -n 's#.*/posts/\([0-9]*\)$#\1#p' |
		LC_ALL=C sort -u >"$R/sent"
	curl -fsS "$BASE/published" >"$R/published.json"

	# Never back as new: a GUID keeps its id.
	LC_ALL=C join "$R/seen" <(awk '{ print $2, $1 }' "$cur" | LC_ALL=C sort -k1,1) |
		awk '$2 != $3 { print $1 " was id " $2 ", now id " $3 }' | while read -r l; do violation "back as new: $l"; done
	LC_ALL=C sort -u -k1,1 "$R/seen" <(awk '{ print $2, $1 }' "$cur") -o "$R/seen"

	# Only done posts deleted: gone since the last snapshot → past max_age then,
	# and its message sent.
	LC_ALL=C join -v1 "$R/prev" "$cur" | while read -r id guid pub state pending; do
		if [ "$pub" -ge $((now_ms - MAX_AGE_MS)) ]; then
			violation "deleted before max_age: $guid (id $id, published $(((now_ms - pub) / 1000)) s ago)"
		fi
		if ! LC_ALL=C grep -qx "$id" "$R/sent"; then
			violation "deleted before its message was sent: $guid (id $id, was $state, $pending pending)"
		fi
	done

	# Old posts gone: past max_age, ready, nothing pending → gone within GRACE.
	awk -v now="$now_ms" -v age="$MAX_AGE_MS" 'FILENAME == ARGV[1] { since[$1] = $2; next }
		$3 < now - age && $4 == "ready" && $5 == 0 { print $1, ($1 in since) ? since[$1] : now, $2 }' \
		"$R/done" "$cur" >"$R/done.new"
	awk -v now="$now_ms" -v grace="$GRACE" '$2 < now - grace * 1000 { print $3 " (id " $1 ") done " int((now - $2) / 1000) " s ago" }' \
		"$R/done.new" | while read -r l; do violation "old post not deleted: $l"; done
	awk '{ print $1, $2 }' "$R/done.new" | LC_ALL=C sort -k1,1 >"$R/done"

	# Nothing newer lost: served LOSS_MARGIN s ago or more, well within max_age → stored.
	jq -r --argjson now "$now_ms" --argjson age "$MAX_AGE_MS" --argjson lm "$LOSS_MARGIN" --argjson km "$KEEP_MARGIN" '
		def ms: sub("\\.[0-9]+"; "") | fromdateiso8601 * 1000;
		(. // [])[] | select(.first_served != null)
		| select((.first_served | ms) < $now - $lm * 1000 and (.published | ms) > $now - $age + $km * 1000)
		| .guid' "$R/published.json" | LC_ALL=C sort -u >"$R/must"
	LC_ALL=C comm -23 "$R/must" <(awk '{ print $2 }' "$cur" | LC_ALL=C sort -u) | while read -r g; do
		violation "lost: $g (served, within max_age, not stored)"
	done

	# Samples: t, posts, past max_age kept for a pending delivery, past max_age
	# not ready, file bytes, free pages, WAL bytes, must-be-stored count.
	local pages free psize wal tm
	read -r pages free psize tm <<<"$(q "SELECT (SELECT page_count FROM pragma_page_count), (SELECT freelist_count FROM pragma_freelist_count),
		(SELECT page_size FROM pragma_page_size), (SELECT COALESCE(SUM(pgsize), 0) FROM dbstat
		WHERE name IN ('translation_memory', 'sqlite_autoindex_translation_memory_1'))" | tr '|' ' ')"
	wal=$(stat -c %s "$DB-wal" 2>/dev/null || echo 0)
	awk -v t=$(($(date +%s) - START_S)) -v now="$now_ms" -v age="$MAX_AGE_MS" -v bytes=$((pages * psize)) \
		-v free="$free" -v wal="$wal" -v must="$(wc -l <"$R/must")" -v tm="$tm" '
		{ n++ } $3 < now - age && $4 == "ready" && $5 > 0 { kp++ } $3 < now - age && $4 != "ready" { kn++ }
		END { printf "%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", t, n, kp, kn, bytes, free, wal, must, bytes - tm, tm }' "$cur" >>"$WORK/samples.tsv"
	mv "$cur" "$R/prev"
	rounds=$((rounds + 1))
}

next=$CHECK_EVERY
while [ $((SECONDS - T0)) -lt "$SOAK_SECONDS" ]; do
	if ! kill -0 "$TPID" 2>/dev/null; then
		echo "retention-soak: transfeed exited early; see $WORK/transfeed.log" >&2
		tail -20 "$WORK/transfeed.log" >&2
		exit 1
	fi
	if [ $((SECONDS - T0)) -ge "$next" ] && [ -f "$DB" ]; then
		check_round
		next=$((next + CHECK_EVERY))
	fi
	sleep 1
done
check_round
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
kill -TERM "$TPID"
wait "$TPID" || true
TPID=
curl -fsS "$BASE/stats" >"$WORK/stats.json"

# Verdict.
fail=0
verdict() { # NAME OK VALUE
	if [ "$2" = 1 ]; then
		printf '  %-52s %-28s ok\n' "$1" "$3"
	else
		printf '  %-52s %-28s FAIL\n' "$1" "$3"
		fail=1
	fi
}
b() { if eval "$1"; then echo 1; else echo 0; fi; }
count() { grep -c "$1" "$WORK/violations" || true; }
SWEEPS=$(grep -c 'msg="retention sweep"' "$WORK/transfeed.log" || true)
DELETED=$(sed -n 's/.*msg="retention sweep".* posts_deleted=\([0-9]*\).*/\1/p' "$WORK/transfeed.log" | awk '{ s += $1 } END { print s + 0 }')
KEPT_PENDING=$(sed -n 's/.*kept_for_pending_deliveries=\([0-9]*\).*/\1/p' "$WORK/transfeed.log" | sort -n | tail -1)
KEPT_NOT_READY=$(sed -n 's/.*kept_not_ready=\([0-9]*\).*/\1/p' "$WORK/transfeed.log" | sort -n | tail -1)
DUPS=$(jq .telegram.duplicates "$WORK/stats.json")
MESSAGES=$(jq .telegram.messages "$WORK/stats.json")
MAX_MB=$(awk -F'\t' -v n="$(wc -l <"$WORK/samples.tsv")" 'NR > n / 3 && $5 > m { m = $5 } END { printf "%.2f", m / 1048576 }' "$WORK/samples.tsv")
read -r MID LAST FLAT <<<"$(awk -F'\t' -v pct="$FLAT_PCT" '{ v[n++] = $9 }
	END { a = int(n / 3); b = int(2 * n / 3); for (i = a; i < b; i++) if (v[i] > mm) mm = v[i]; for (i = b; i < n; i++) if (v[i] > ml) ml = v[i]
		printf "%.2f %.2f %s\n", mm / 1048576, ml / 1048576, (n >= 6 && ml <= mm * (1 + pct / 100)) ? "ok" : "FAIL" }' "$WORK/samples.tsv")"
FREE_END=$(tail -1 "$WORK/samples.tsv" | cut -f6)
FREE_MAX=$(awk -F'\t' -v n="$(wc -l <"$WORK/samples.tsv")" 'NR > n / 3 && $6 > m { m = $6 } END { print m + 0 }' "$WORK/samples.tsv")

echo
echo "== retention soak: $SOURCES sources, a post every $NEW_EVERY each, dated ${PUB_LAG_S}s before it appears;"
echo "   max_age ${MAX_AGE_S}s, sweep_every $SWEEP_EVERY, $CHANNELS channels (Bot API down $TG_DOWN_FOR from $TG_DOWN_FROM);"
echo "   translation errors $TR_ERROR_RATE, Telegram 429s $TG_429_RATE; ${SOAK_SECONDS}s, $rounds checks every ${CHECK_EVERY}s"
echo "   load (1/5/15 min) at end: $LOAD_END on $(nproc) cores"
echo "must:"
verdict "old posts gone (done > ${GRACE}s ago and still stored)" "$(b "[ $(count 'old post not deleted') = 0 ]")" "$(count 'old post not deleted')"
verdict "nothing newer lost" "$(b "[ $(count 'lost:') = 0 ]")" "$(count 'lost:')"
verdict "deleted only past max_age" "$(b "[ $(count 'deleted before max_age') = 0 ]")" "$(count 'deleted before max_age')"
verdict "deleted only once sent (never pending, never unready)" "$(b "[ $(count 'deleted before its message') = 0 ]")" "$(count 'deleted before its message')"
verdict "no post back as new (GUID under a new id)" "$(b "[ $(count 'back as new') = 0 ]")" "$(count 'back as new')"
verdict "no duplicate Telegram message" "$(b "[ $DUPS = 0 ]")" "$DUPS of $MESSAGES"
verdict "file after the first third <= ${SIZE_MAX_MB} MB" "$(b "awk -v m=$MAX_MB 'BEGIN { exit !(m <= $SIZE_MAX_MB) }'")" "max $MAX_MB MB"
verdict "posts' part flat (last third <= ${FLAT_PCT}% over middle)" "$(b "[ $FLAT = ok ]")" "$LAST / $MID MB"
verdict "sweeps ran and deleted posts" "$(b "[ $SWEEPS -ge 3 ] && [ $DELETED -gt 0 ]")" "$SWEEPS sweeps, $DELETED deleted"
echo "info:"
echo "  most kept by one sweep: ${KEPT_PENDING:-0} for a pending delivery, ${KEPT_NOT_READY:-0} not ready; free pages at end $FREE_END (max after the first third $FREE_MAX)"
jq -r '"  farm: \(.sources.posts_published) published, \(.sources.posts_served) served; translation \(.translate.requests) requests, \(.translate.errors) errors; telegram \(.telegram.messages) messages, \(.telegram.rate_limited) rate-limited"' "$WORK/stats.json"
echo "  per minute: t s | posts | past max_age kept: pending, not ready | file MB (posts' part, translation memory) | free pages | WAL MB | must be stored"
awk -F'\t' -v every="$CHECK_EVERY" 'NR % int(60 / every) == 0 || NR == 1 {
	printf "    %4d | %5d | %4d %4d | %6.2f (%5.2f, %5.2f) | %4d | %5.2f | %5d\n", $1, $2, $3, $4, $5 / 1048576, $9 / 1048576, $10 / 1048576, $6, $7 / 1048576, $8 }' "$WORK/samples.tsv"
awk -F'\t' '$3 > kp { kp = $3 } $4 > kn { kn = $4 } END { printf "  most seen at one check past max_age: %d kept for a pending delivery, %d not ready\n", kp, kn }' "$WORK/samples.tsv"
if [ -s "$WORK/violations" ]; then
	echo "violations (first 20 of $(wc -l <"$WORK/violations")):"
	head -20 "$WORK/violations" | sed 's/^/  /'
fi
echo "files: $WORK (transfeed.log, samples.tsv, violations, stats.json, rounds/)"
if [ "$fail" = 0 ]; then echo "RESULT: all checks passed"; else echo "RESULT: FAIL"; fi
exit "$fail"
