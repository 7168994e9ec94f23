#!/usr/bin/env bash
# Check 3 (issue 5): Telegram delivery with the real binary against the Bot API
# stand-in.
#
#   scripts/checks/telegram.sh [a|b|c|d|all]      # default all (a, b, c in parallel)
#
#   a  300 new posts routed to 3 channels (backfill), `transfeed run` until all are
#      sent: each sent exactly once, all accepted as Telegram HTML, no request
#      during retry_after (5% random 429s), pacing: time per chat vs the pacing rule.
#   b  kill -9 during delivery, then run again: all sent, at most one duplicate per kill.
#   c  the Bot API answers 502 for two minutes: delivery resumes by itself, nothing lost.
#   d  admin commands: the stand-in cannot inject updates (getUpdates always answers
#      []), so this part is skipped; bot/telegram/admin_test.go covers it.
#
# The generated channels are -100… ids: groups/channels, which transfeed paces at
# 20 messages a minute (one every 3 s) per chat; the stand-in's -tg-min-gap is set
# to 3s so that a faster send counts as a pacing violation.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
PART=${1:-all}
GAP=3

# wait_sent WANT TIMEOUT: waits until the stand-in has accepted WANT distinct
# (chat, post) messages; prints the seconds taken.
wait_sent() {
	local want=$1 timeout=$2 t0
	t0=$(now)
	while :; do
		local got
		got=$(stat '.telegram.messages - .telegram.duplicates')
		[ "$got" -ge "$want" ] && break
		if [ "$(awk -v e="$(elapsed "$t0")" -v t="$timeout" 'BEGIN { print (e > t) }')" = 1 ]; then
			echo "   timed out after ${timeout}s with $got of $want" >&2
			break
		fi
		sleep 1
	done
	elapsed "$t0"
}

start_run() { # start_run DIR: starts `transfeed run`, sets TF_PID
	"$TF" run -config "$1/config.yaml" >>"$1/run.out" 2>>"$1/run.err" &
	TF_PID=$!
	PIDS+=("$TF_PID")
}

db_states() { sqlite3 "$1/data/transfeed.db" "select group_concat(state || '=' || n, ' ') from (select state, count(*) n from deliveries group by state)"; }

common_checks() { # common_checks LABEL DIR WANT_PER_CHAT
	local label=$1 d=$2 per=$3 s
	s=$(stats)
	echo "   stand-in: $(jq -c '.telegram | del(.per_chat)' <<<"$s")"
	echo "   per chat: $(jq -c '.telegram.per_chat | map_values(.messages)' <<<"$s"); deliveries in the store: $(db_states "$d")"
	local chats_ok
	chats_ok=$(jq --argjson n "$per" '[.telegram.per_chat[] | (.messages - .duplicates) == $n] | length == 3 and all' <<<"$s")
	check "[$label] every chat got its $per posts" "$([ "$chats_ok" = true ] && echo 1 || echo 0)" "$(jq -c '.telegram.per_chat | map_values(.messages - .duplicates)' <<<"$s")"
	check "[$label] no delivery left pending or failed" "$(sqlite3 "$d/data/transfeed.db" "select count(*) from deliveries where state <> 'sent'") == 0" "$(db_states "$d")"
	check "[$label] every message accepted as Telegram HTML" "$(jq .telegram.rejected <<<"$s") == 0 && $(jq .telegram.malformed <<<"$s") == 0" "rejected $(jq .telegram.rejected <<<"$s"), malformed $(jq .telegram.malformed <<<"$s")"
	check "[$label] no request during retry_after" "$(jq .telegram.retry_after_violations <<<"$s") == 0" "$(jq .telegram.retry_after_violations <<<"$s") violations, $(jq .telegram.rate_limited <<<"$s") random 429s"
	check "[$label] no pacing violation (gap ${GAP}s)" "$(jq .telegram.pacing_violations <<<"$s") == 0" "$(jq .telegram.pacing_violations <<<"$s")"
}

part_a() {
	local D=$WORK/tg-a
	rm -rf "$D"
	mkdir -p "$D"
	start_standin "$D" -sources 30 -initial-posts 10 -new-every 0 -tg-min-gap ${GAP}s -tg-429-rate 0.05 -seed 7
	gen_config "$D/config.yaml" -sources 30 -channels 3 -backfill 10 -data "$D/data" -log-level info
	echo "== a: 30 sources x 10 posts, backfill 10, 3 channels (-100… ids: 1 message / ${GAP} s each), 5% random 429s; load $(load)"
	local t0
	t0=$(now)
	start_run "$D"
	local took
	took=$(wait_sent 300 900)
	echo "   all 300 sent ${took}s after start; load $(load)"
	stop_pid "$TF_PID"
	common_checks a "$D" 100
	check "[a] each delivery sent exactly once" "$(stat .telegram.duplicates) == 0" "$(stat .telegram.duplicates) duplicates"
	# Pacing: per chat, the span from its first to its last message vs 99 gaps of 3 s.
	curl -fsS "$BASE/messages" >"$D/messages.json"
	python3 - "$D/messages.json" "$GAP" <<'EOF' | tee "$D/pacing.txt"
import json, sys, datetime
msgs = json.load(open(sys.argv[1])); gap = float(sys.argv[2])
by = {}
for m in msgs:
    t = datetime.datetime.fromisoformat(m["time"].replace("Z", "+00:00"))
    by.setdefault(m["chat"], []).append(t)
worst = 0
for chat, ts in sorted(by.items()):
    ts.sort()
    span = (ts[-1] - ts[0]).total_seconds()
    ideal = (len(ts) - 1) * gap
    gaps = [(b - a).total_seconds() for a, b in zip(ts, ts[1:])]
    worst = max(worst, span / ideal)
    print(f"   chat {chat}: {len(ts)} messages in {span:.1f} s (pacing rule: {ideal:.0f} s, ratio {span/ideal:.3f}); gaps min {min(gaps):.2f} s, median {sorted(gaps)[len(gaps)//2]:.2f} s, max {max(gaps):.2f} s")
print(f"RATIO {worst:.3f}")
EOF
	local ratio
	ratio=$(sed -n 's/^RATIO //p' "$D/pacing.txt")
	check "[a] time per chat matches the pacing rule (not slower than 1.15x)" "$(awk -v r="$ratio" 'BEGIN { print (r <= 1.15) }')" "worst chat at ${ratio}x of (n-1) x ${GAP} s"
	stop_pid "$SI_PID"
}

part_b() {
	local D=$WORK/tg-b kills=${KILLS:-2}
	rm -rf "$D"
	mkdir -p "$D"
	start_standin "$D" -sources 15 -initial-posts 6 -new-every 0 -tg-min-gap ${GAP}s -seed 8
	gen_config "$D/config.yaml" -sources 15 -channels 3 -backfill 6 -data "$D/data" -log-level info
	echo "== b: 15 sources x 6 posts, backfill 6, 3 channels (30 per chat), kill -9 during delivery $kills time(s); load $(load)"
	local k at
	for k in $(seq 1 "$kills"); do
		at=$((k * 10))
		start_run "$D"
		while [ "$(stat '.telegram.messages')" -lt "$at" ]; do sleep 0.2; done
		sleep 0.$((RANDOM % 10))
		kill -9 "$TF_PID"
		wait "$TF_PID" 2>/dev/null || true
		echo "   kill -9 #$k after $(stat .telegram.messages) messages; deliveries in the store: $(db_states "$D")"
	done
	local t0 took
	t0=$(now)
	start_run "$D"
	took=$(wait_sent 90 600)
	echo "   after the last restart, all 90 sent in ${took}s; load $(load)"
	stop_pid "$TF_PID"
	common_checks b "$D" 30
	local dups
	dups=$(stat .telegram.duplicates)
	check "[b] at most one duplicate per kill" "$dups <= $kills" "$dups duplicate(s) for $kills kill(s)"
	stop_pid "$SI_PID"
}

part_c() {
	local D=$WORK/tg-c
	rm -rf "$D"
	mkdir -p "$D"
	start_standin "$D" -sources 15 -initial-posts 6 -new-every 0 -tg-min-gap ${GAP}s -tg-down-from 30s -tg-down-for 2m -seed 9
	gen_config "$D/config.yaml" -sources 15 -channels 3 -backfill 6 -data "$D/data" -log-level info
	echo "== c: 15 sources x 6 posts, backfill 6, 3 channels (30 per chat); Bot API answers 502 from 30 s to 150 s; load $(load)"
	start_run "$D"
	sleep 28
	local before
	before=$(stat '.telegram.messages')
	echo "   before the outage: $before message(s) sent"
	local took
	took=$(wait_sent 90 600)
	local alive=0
	kill -0 "$TF_PID" 2>/dev/null && alive=1
	check "[c] transfeed kept running through the outage" "$alive == 1" "alive=$alive"
	stop_pid "$TF_PID"
	curl -fsS "$BASE/messages" >"$D/messages.json"
	# The outage window in wall-clock time: the stand-in started uptime_seconds before now.
	local resume
	resume=$(stats | python3 -c '
import json, sys, datetime
st = json.load(sys.stdin)
msgs = json.load(open(sys.argv[1]))
p = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00")[:26] + "+00:00" if "." in s else s.replace("Z", "+00:00"))
start = p(st["now"]) - datetime.timedelta(seconds=st["uptime_seconds"])
down, up = start + datetime.timedelta(seconds=30), start + datetime.timedelta(seconds=150)
after = [p(m["time"]) for m in msgs if p(m["time"]) >= up]
during = [m for m in msgs if down <= p(m["time"]) < up]
last = max(p(m["time"]) for m in msgs)
print(f"{(after[0] - up).total_seconds():.1f} {len(during)} {(last - up).total_seconds():.1f}" if after else f"-1 {len(during)} -1")
' "$D/messages.json")
	local delay during rest
	read -r delay during rest <<<"$resume"
	echo "   first message ${delay}s after the outage ended; last message ${rest}s after it; $during accepted inside the window; 502s answered: $(stat .telegram.down_responses)"
	check "[c] delivery resumed by itself within 65 s of the outage's end (backoff cap 1 min)" "$(awk -v d="$delay" 'BEGIN { print (d >= 0 && d <= 65) }')" "${delay} s"
	common_checks c "$D" 30
	check "[c] the outage happened during delivery" "$before < 90 && $(stat .telegram.down_responses) > 0" "$before sent before it, $(stat .telegram.down_responses) 502s"
	check "[c] nothing sent twice" "$(stat .telegram.duplicates) == 0" "$(stat .telegram.duplicates) duplicates"
	stop_pid "$SI_PID"
}

case $PART in
a) build && part_a ;;
b) build && part_b ;;
c) build && part_c ;;
d)
	echo "SKIP d: the Bot API stand-in cannot inject updates (getUpdates always answers []); bot/telegram/admin_test.go covers admin commands"
	exit 0
	;;
all)
	build
	export NOBUILD=1
	rc=0
	"$0" a >"$WORK/tg-a.log" 2>&1 &
	pa=$!
	TF_PORT=$((TF_PORT + 1)) "$0" b >"$WORK/tg-b.log" 2>&1 &
	pb=$!
	TF_PORT=$((TF_PORT + 2)) "$0" c >"$WORK/tg-c.log" 2>&1 &
	pc=$!
	PIDS+=("$pa" "$pb" "$pc")
	wait "$pa" || rc=1
	wait "$pb" || rc=1
	wait "$pc" || rc=1
	cat "$WORK/tg-a.log" "$WORK/tg-b.log" "$WORK/tg-c.log"
	"$0" d
	[ "$rc" = 0 ] && echo "RESULT (a, b, c): all checks passed" || echo "RESULT (a, b, c): some checks failed"
	exit $rc
	;;
esac
finish
