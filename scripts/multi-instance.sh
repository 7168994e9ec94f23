#!/usr/bin/env bash
# Whole-system check of several `transfeed run` instances on one PostgreSQL
# database against the stand-ins (internal/standin):
#
#   scripts/multi-instance.sh check       # N instances, one killed -9 mid-run, vs 1 instance
#   scripts/multi-instance.sh poll304     # throughput: polling SOURCES static sources (304s), 1 vs N
#   scripts/multi-instance.sh translate   # throughput: translating SOURCES*POSTS new posts at 50 ms, 1 vs N
#
# Rates are over the span the database records: poll304 from the first to the
# last poll's start (sources.last_poll_at), translate from the first post
# stored to the last post ready (items.first_seen, ready_at).
# poll304: a first run of the instances stores every source's post and is
# stopped; every source is then made due (next_poll_at = 0) and the instances
# are started again, so all SOURCES conditional polls are due at once. (Left
# to the schedule, a second cycle would be spread over the scheduler's jitter
# window — 6 s for "@every 1m" — and would measure the schedule, not the
# instances.) translate: SOURCES*POSTS posts, backfill 0, translated at
# -tr-latency 50ms. Both print wall time, rate, characters sent, duplicate
# polls, load average and the CPU seconds used in the measured window by the
# instances, PostgreSQL (every postgres process, reaped backends included:
# other users of the server count too) and the stand-in, and the machine's
# busy share (/proc/stat).
#
# Environment (defaults in brackets):
#   PGDSN     admin DSN [postgres://transfeed:tfpass@localhost:5432/transfeed?sslmode=disable]
#   SOURCES   sources [200]      INSTANCES instances [3]     RUN_FOR seconds per run [240]
#   KILL_AT   seconds before one instance gets SIGKILL [60]  POSTS initial posts per source [2]
#   BACKFILL  posts of each source's first poll pushed per channel [1]
#   WORK      scratch directory [mktemp]
#   REPEAT    throughput modes: runs of each (1 and N instances) [1]
#   ROOT      repository to build [the script's ..]
# Every run uses a fresh schema (search_path) and a fresh stand-in with the same
# seed, so the single-instance run sees the same posts. Prints a summary and
# exits non-zero when a check fails. Processes are stopped by pid.
set -euo pipefail
export PGOPTIONS_BASE="-c client_min_messages=warning"

MODE=${1:-check}
PGDSN=${PGDSN:-postgres://transfeed:tfpass@localhost:5432/transfeed?sslmode=disable}
SOURCES=${SOURCES:-200}
INSTANCES=${INSTANCES:-3}
RUN_FOR=${RUN_FOR:-240}
KILL_AT=${KILL_AT:-60}
POSTS=${POSTS:-2}
BACKFILL=${BACKFILL:-1}
WORK=${WORK:-$(mktemp -d /tmp/tf-multi.XXXXXX)}
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}

PIDS=()
cleanup() {
	for p in "${PIDS[@]:-}"; do
		[ -n "$p" ] && kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
}
trap cleanup EXIT

echo "work dir: $WORK"
(cd "$ROOT" && go build -o "$WORK/transfeed" ./cmd/transfeed && go build -o "$WORK/standin" ./internal/tools/standin)

# new_schema NAME: creates the schema and prints a DSN using it.
new_schema() {
	PGOPTIONS="$PGOPTIONS_BASE" psql -q "$PGDSN" -c "DROP SCHEMA IF EXISTS $1 CASCADE; CREATE SCHEMA $1;" >/dev/null
	case "$PGDSN" in
	*\?*) echo "$PGDSN&search_path=$1" ;;
	*) echo "$PGDSN?search_path=$1" ;;
	esac
}

# start_standin DIR ARGS…: starts a stand-in, sets BASE and SPID.
start_standin() {
	local dir=$1
	shift
	mkdir -p "$dir"
	: >"$dir/standin.out" # exists before sed reads it (the child opens it later)
	"$WORK/standin" -seed 7 -sources "$SOURCES" "$@" >"$dir/standin.out" 2>"$dir/standin.err" &
	SPID=$!
	PIDS+=("$SPID")
	for _ in $(seq 100); do
		BASE=$(sed -n 's/^listening //p' "$dir/standin.out")
		[ -n "$BASE" ] && return 0
		sleep 0.1
	done
	echo "stand-in did not start" >&2
	exit 1
}

# start_instances DIR DSN N: generates one config per instance (own port and
# data dir, shared database) and starts them; sets IPIDS.
start_instances() {
	local dir=$1 dsn=$2 n=$3 backfill=${4:-$BACKFILL}
	IPIDS=()
	for i in $(seq "$n"); do
		"$WORK/standin" -gen-config -sources "$SOURCES" -base "$BASE" -channels 3 -backfill "$backfill" \
			-data "$dir/data$i" -listen-http "127.0.0.1:$((18080 + i))" -base-url "http://transfeed.test" \
			-storage-dsn "$dsn" -log-level info >"$dir/config$i.yaml"
		"$WORK/transfeed" run -config "$dir/config$i.yaml" >>"$dir/instance$i.log" 2>&1 &
		IPIDS+=($!)
		PIDS+=($!)
	done
}

stop_instances() {
	for p in "${IPIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${IPIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
}

# sql SCHEMA QUERY (psql takes no search_path in the URI: PGOPTIONS does it)
sql() { PGOPTIONS="$PGOPTIONS_BASE -c search_path=$1" psql -qtA "$PGDSN" -c "$2"; }

# count SCHEMA QUERY: the query's number, 0 while the tables do not exist yet.
count() {
	local c
	c=$(sql "$1" "$2" 2>/dev/null) || c=0
	echo "${c:-0}"
}

# run_check DIR N KILL: one run; writes DIR/summary.json.
run_check() {
	local dir=$1 n=$2 kill=$3 schema
	schema="tf_multi_$(basename "$dir")_$$"
	local dsn
	dsn=$(new_schema "$schema")
	start_standin "$dir" -initial-posts "$POSTS" -new-every 0 -tr-latency 50ms -tg-min-gap 3s
	local t0=$SECONDS
	start_instances "$dir" "$dsn" "$n"
	if [ "$kill" = 1 ]; then
		sleep "$KILL_AT"
		echo "  SIGKILL instance 1 (pid ${IPIDS[0]}) at ${KILL_AT}s"
		kill -KILL "${IPIDS[0]}"
		wait "${IPIDS[0]}" 2>/dev/null || true
		IPIDS=("${IPIDS[@]:1}")
	fi
	# Run until every post is ready and every delivery sent, or RUN_FOR.
	while [ $((SECONDS - t0)) -lt "$RUN_FOR" ]; do
		sleep 5
		local notready pending
		notready=$(sql "$schema" "SELECT count(*) FROM items WHERE state <> 'ready'")
		pending=$(sql "$schema" "SELECT count(*) FROM deliveries WHERE state = 'pending'")
		local items
		items=$(sql "$schema" "SELECT count(*) FROM items")
		if [ "$items" -ge $((SOURCES * POSTS)) ] && [ "$notready" = 0 ] && [ "$pending" = 0 ]; then
			break
		fi
	done
	local elapsed=$((SECONDS - t0))
	curl -s "$BASE/stats" >"$dir/stats.json"
	curl -s "$BASE/published" >"$dir/published.json"
	stop_instances
	local served stored distinct ready dsent dpending dfailed dupdeliv
	served=$(jq '[.[] | select(.first_served != null)] | length' "$dir/published.json")
	stored=$(sql "$schema" "SELECT count(*) FROM items")
	distinct=$(sql "$schema" "SELECT count(DISTINCT guid) FROM items")
	ready=$(sql "$schema" "SELECT count(*) FROM items WHERE state = 'ready'")
	dsent=$(sql "$schema" "SELECT count(*) FROM deliveries WHERE state = 'sent'")
	dpending=$(sql "$schema" "SELECT count(*) FROM deliveries WHERE state = 'pending'")
	dfailed=$(sql "$schema" "SELECT count(*) FROM deliveries WHERE state = 'failed'")
	dupdeliv=$(sql "$schema" "SELECT count(*) FROM (SELECT item_id, channel FROM deliveries GROUP BY 1, 2 HAVING count(*) > 1) d")
	jq -n --argjson served "$served" --argjson stored "$stored" --argjson distinct "$distinct" \
		--argjson ready "$ready" --argjson sent "$dsent" --argjson pending "$dpending" --argjson failed "$dfailed" \
		--argjson dupdeliv "$dupdeliv" --argjson elapsed "$elapsed" --slurpfile st "$dir/stats.json" \
		'{elapsed_s: $elapsed, posts_served: $served, items_stored: $stored, distinct_guids: $distinct, ready: $ready,
		  deliveries_sent: $sent, deliveries_pending: $pending, deliveries_failed: $failed, duplicate_delivery_rows: $dupdeliv,
		  tr_chars: $st[0].translate.chars, tr_requests: $st[0].translate.requests,
		  tg_messages: $st[0].telegram.messages, tg_duplicates: $st[0].telegram.duplicates,
		  tg_pacing_violations: $st[0].telegram.pacing_violations,
		  tg_retry_after_violations: $st[0].telegram.retry_after_violations,
		  getupdates_conflicts: $st[0].telegram.getupdates_conflicts}' >"$dir/summary.json"
	kill "$SPID" 2>/dev/null || true
	wait "$SPID" 2>/dev/null || true
	PGOPTIONS="$PGOPTIONS_BASE" psql -q "$PGDSN" -c "DROP SCHEMA $schema CASCADE" >/dev/null
	cat "$dir/summary.json"
}

check() {
	echo "== $INSTANCES instances, instance 1 killed -9 at ${KILL_AT}s"
	run_check "$WORK/multi" "$INSTANCES" 1
	echo "== 1 instance, fresh database"
	run_check "$WORK/single" 1 0
	local m=$WORK/multi/summary.json s=$WORK/single/summary.json fail=0
	jq -e '.items_stored == .distinct_guids and .items_stored >= .posts_served' "$m" >/dev/null || { echo "FAIL: posts not stored exactly once"; fail=1; }
	jq -e '.tg_duplicates == 0 and .duplicate_delivery_rows == 0 and .tg_pacing_violations == 0 and .tg_retry_after_violations == 0' "$m" >/dev/null || { echo "FAIL: duplicates or pacing violations"; fail=1; }
	jq -e '.ready == .items_stored and .deliveries_pending == 0' "$m" >/dev/null || { echo "FAIL: work left unfinished (killed instance's leases not taken over?)"; fail=1; }
	# One translation request per post in both runs. Characters may differ a
	# little: instances translating at the same time can each miss the
	# translation memory for a shared boilerplate segment the other is about
	# to store; a post translated twice would add a whole post's characters.
	jq -e --slurpfile s "$s" '.tr_requests == $s[0].tr_requests and .deliveries_sent == $s[0].deliveries_sent and .items_stored == $s[0].items_stored
		and (.tr_chars - $s[0].tr_chars) * 100 <= $s[0].tr_chars' "$m" >/dev/null ||
		{ echo "FAIL: multi-instance run differs from the single-instance run (requests, chars > 1%, deliveries or posts)"; fail=1; }
	jq -r --slurpfile s "$s" '"characters: \(.tr_chars) with \(env.INSTANCES // "3") instances, \($s[0].tr_chars) with one (\(.tr_chars - $s[0].tr_chars) more)"' "$m"
	[ "$fail" = 0 ] && echo "OK: stored once, translated once (same characters as one instance), delivered once per channel, nothing lost"
	return "$fail"
}

# cpu_ticks PID…: user+system clock ticks of the processes (0 for gone ones).
cpu_ticks() {
	local t=0 p f
	for p in "$@"; do
		f=$(cut -d')' -f2- "/proc/$p/stat" 2>/dev/null) || continue
		# after "pid (comm)": state is field 1, utime 12, stime 13
		t=$((t + $(echo "$f" | awk '{print $12 + $13}')))
	done
	echo "$t"
}

# pg_ticks: clock ticks of every postgres process, plus the children the
# postmaster has reaped (backends closed by the pools during the window).
pg_ticks() {
	local t=0 p f
	for p in $(pgrep -x postgres); do
		f=$(cut -d')' -f2- "/proc/$p/stat" 2>/dev/null) || continue
		t=$((t + $(echo "$f" | awk '{print $12 + $13 + $14 + $15}')))
	done
	echo "$t"
}

# busy_ticks: "busy total" jiffies of the whole machine (/proc/stat).
busy_ticks() { awk '/^cpu / { idle = $5 + $6; tot = 0; for (i = 2; i <= NF; i++) tot += $i; print tot - idle, tot }' /proc/stat; }

# snapshot: one line of counters for the measured window.
snapshot() {
	echo "$(date +%s.%N) $(cpu_ticks "${IPIDS[@]}") $(pg_ticks) $(cpu_ticks "$SPID") $(busy_ticks) $(cut -d' ' -f1 /proc/loadavg)"
}

# throughput_run MODE N: seconds for N instances to finish the work; writes
# $WORK/MODE-N/result.json and prints a line.
throughput_run() {
	local what=$1 n=$2 dir=$WORK/$1-$2-${WORK_RUN:-1} dsn schema target
	schema="tf_tp_${what}_${n}_${WORK_RUN:-1}_$$"
	dsn=$(new_schema "$schema")
	if [ "$what" = poll304 ]; then
		target=$SOURCES
		start_standin "$dir" -static -initial-posts 1 -tg-min-gap 0
		# Priming run: store every source's post, then stop.
		start_instances "$dir" "$dsn" "$n" 0
		# (polled_once, not last_status = 'ok': with several instances a source
		# can be polled again, and answer 304, right after its first poll)
		until [ "$(count "$schema" "SELECT count(*) FROM sources WHERE polled_once")" -ge "$target" ] &&
			[ "$(count "$schema" "SELECT count(*) FROM items WHERE state <> 'ready'")" = 0 ]; do sleep 0.5; done
		stop_instances
		sql "$schema" "UPDATE sources SET next_poll_at = 0" >/dev/null
	else
		target=$((SOURCES * POSTS))
		start_standin "$dir" -initial-posts "$POSTS" -new-every 0 -tr-latency 50ms -tg-min-gap 0
	fi
	local st0 st1 launch t0ms first end snap0 snap1
	st0=$(curl -s "$BASE/stats")
	IPIDS=()
	snap0=$(snapshot) # the instances' CPU starts at 0
	launch=${snap0%% *}
	t0ms=$(date +%s%3N)
	start_instances "$dir" "$dsn" "$n" 0
	if [ "$what" = poll304 ]; then
		until [ "$(count "$schema" "SELECT count(*) FROM sources WHERE last_status = 'not_modified' AND last_poll_at >= $t0ms")" -ge "$target" ]; do sleep 0.1; done
		end=$(date +%s.%N)
		# first and last poll start (ms), from the database
		first=$(sql "$schema" "SELECT min(last_poll_at) || ' ' || max(last_poll_at) FROM sources WHERE last_poll_at >= $t0ms")
	else
		until [ "$(count "$schema" "SELECT count(*) FROM items WHERE state = 'ready'")" -ge "$target" ]; do sleep 0.1; done
		end=$(date +%s.%N)
		# first post stored and last post ready (ms), from the database
		first=$(sql "$schema" "SELECT min(first_seen) || ' ' || max(ready_at) FROM items")
	fi
	snap1=$(snapshot)
	st1=$(curl -s "$BASE/stats")
	# Work done by each instance (its /metrics): 304 polls, or posts translated.
	local owners="" i m
	for i in $(seq "$n"); do
		if [ "$what" = poll304 ]; then
			m=$(curl -s "http://127.0.0.1:$((18080 + i))/metrics" | awk '/^transfeed_polls_total\{.*result="not_modified"/ { s += $NF } END { print s + 0 }')
		else
			m=$(curl -s "http://127.0.0.1:$((18080 + i))/metrics" | awk '/^transfeed_posts_translated_total/ { s += $NF } END { print s + 0 }')
		fi
		owners="${owners:+$owners/}$m"
	done
	printf '%s\n' "launch=$launch first=$first end=$end owners=$owners" "snap0=$snap0" "snap1=$snap1" "st0=$st0" "st1=$st1" >"$dir/raw.txt"
	stop_instances
	kill "$SPID" 2>/dev/null || true
	wait "$SPID" 2>/dev/null || true
	PGOPTIONS="$PGOPTIONS_BASE" psql -q "$PGDSN" -c "DROP SCHEMA $schema CASCADE" >/dev/null
	jq -n --arg what "$what" --argjson n "$n" --argjson target "$target" --arg launch "$launch" --arg firstt "$first" \
		--arg endt "$end" --arg s0 "$snap0" --arg s1 "$snap1" --argjson st0 "$st0" --argjson st1 "$st1" --arg owners "$owners" '
		($s0 | split(" ") | map(tonumber)) as $a | ($s1 | split(" ") | map(tonumber)) as $b |
		($endt | tonumber) as $e | ($firstt | split(" ") | map(tonumber / 1000)) as [$f, $l] |
		{mode: $what, instances: $n, work: $target,
		 wall_from_launch_s: ($e - ($launch | tonumber)), span_s: ($l - $f),
		 rate_per_s: ($target / ($l - $f)),
		 feed_requests: ($st1.sources.polls - $st0.sources.polls),
		 not_modified: ($st1.sources.not_modified - $st0.sources.not_modified),
		 tr_requests: ($st1.translate.requests - $st0.translate.requests),
		 tr_chars: ($st1.translate.chars - $st0.translate.chars),
		 work_per_instance: $owners,
		 window_s: ($b[0] - $a[0]),
		 cpu_s: {instances: (($b[1] - $a[1]) / 100), postgres: (($b[2] - $a[2]) / 100), standin: (($b[3] - $a[3]) / 100)},
		 machine_busy_pct: (100 * ($b[4] - $a[4]) / ($b[5] - $a[5])),
		 load1: {start: $a[6], end: $b[6]}}' | tee "$dir/result.json" | jq -c .
}

case "$MODE" in
check) check ;;
poll304 | translate)
	for r in $(seq "${REPEAT:-1}"); do
		WORK_RUN=$r throughput_run "$MODE" 1
		WORK_RUN=$r throughput_run "$MODE" "$INSTANCES"
	done
	;;
*)
	echo "usage: $0 check|poll304|translate" >&2
	exit 2
	;;
esac
