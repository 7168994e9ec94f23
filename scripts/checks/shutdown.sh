#!/usr/bin/env bash
# Check 4 (issue 6): `transfeed run` with 300 busy sources (polls, translations
# at 50 ms, deliveries):
#   - SIGHUP with an invalid config: refused, keeps running and serving;
#   - SIGHUP with a valid changed config (server.title): reloaded;
#   - SIGTERM: exits 0 in < 10 s;
#   - `run` again: no item twice, every served post stored, no Telegram message
#     twice, every sent delivery really sent.
#
#   scripts/checks/shutdown.sh     # env: SOURCES [300] POSTS [5] BUSY [12] (seconds before SIGTERM) NEW_EVERY [5m]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
SOURCES=${SOURCES:-300}
POSTS=${POSTS:-5}
BUSY=${BUSY:-12}
NEW_EVERY=${NEW_EVERY:-5m}
D=$WORK/shutdown
rm -rf "$D"
mkdir -p "$D"
build

start_standin "$D" -sources "$SOURCES" -initial-posts "$POSTS" -new-every "$NEW_EVERY" -tr-latency 50ms -tg-min-gap 3s
gen_config "$D/config.yaml" -sources "$SOURCES" -channels 3 -backfill 1 -data "$D/data" -per-host 16 -concurrency 16 -log-level info
cp "$D/config.yaml" "$D/config.good"
echo "config: $SOURCES sources x $POSTS posts (a new one per source every $NEW_EVERY), translation latency 50 ms," \
	"3 channels with backfill 1, fetch.per_host 16, concurrency 16, server 127.0.0.1:$TF_PORT"

start_run() {
	"$TF" run -config "$D/config.yaml" >>"$D/run.out" 2>>"$D/run.err" &
	TF_PID=$!
	PIDS+=("$TF_PID")
}
healthz() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$TF_PORT/healthz" || true; }
wait_log() { # wait_log PATTERN SECONDS
	for _ in $(seq 1 $(($2 * 10))); do
		grep -q "$1" "$D/run.err" && return 0
		sleep 0.1
	done
	return 1
}

start_run
sleep 5

# SIGHUP with an invalid config.
printf 'bogus_key: 1\n' >>"$D/config.yaml"
kill -HUP "$TF_PID"
refused=0
wait_log "config reload refused" 5 && refused=1
sleep 2
alive=0
kill -0 "$TF_PID" 2>/dev/null && alive=1
code=$(healthz)
check "SIGHUP with an invalid config is refused" "$refused == 1" "$(grep -m1 'config reload refused' "$D/run.err" | cut -c1-200)"
check "... and transfeed keeps running and serving" "$alive == 1 && $code == 200" "alive=$alive, /healthz $code"

# SIGHUP with a valid changed config.
sed 's/title: transfeed stand-in test/title: Reloaded Title Check/' "$D/config.good" >"$D/config.yaml"
"$TF" validate -config "$D/config.yaml" >/dev/null
kill -HUP "$TF_PID"
reloaded=0
wait_log "restarting with the reloaded config" 15 && reloaded=1
title=0
for _ in $(seq 1 50); do
	if curl -fsS "http://127.0.0.1:$TF_PORT/" 2>/dev/null | grep -q "Reloaded Title Check"; then
		title=1
		break
	fi
	sleep 0.2
done
alive=0
kill -0 "$TF_PID" 2>/dev/null && alive=1
check "SIGHUP with a valid changed config reloads it" "$reloaded == 1 && $title == 1 && $alive == 1" \
	"restart logged=$reloaded, new server.title served=$title, alive=$alive"

# SIGTERM while busy.
sleep "$BUSY"
s=$(stats)
items_at=$(sqlite3 "$D/data/transfeed.db" "select group_concat(state || '=' || n, ' ') from (select state, count(*) n from items group by state)")
echo "at SIGTERM: farm polls $(jq .sources.polls <<<"$s"), translate requests $(jq .translate.requests <<<"$s"), telegram messages $(jq .telegram.messages <<<"$s"); items $items_at; load $(load)"
t0=$(now)
kill -TERM "$TF_PID"
if wait "$TF_PID"; then rc=0; else rc=$?; fi
took=$(elapsed "$t0")
check "SIGTERM: exit status 0" "$rc == 0" "rc $rc"
check "SIGTERM: exits in < 10 s" "$(awk -v t="$took" 'BEGIN { print (t < 10) }')" "${took} s (load $(load))"
grep -q "transfeed stopped cleanly" "$D/run.err" && echo "   logged: transfeed stopped cleanly"
leased=$(sqlite3 "$D/data/transfeed.db" "select (select count(*) from sources where lease_owner <> '') || ' source(s), ' || (select count(*) from items where lease_owner <> '') || ' item(s), ' || (select count(*) from deliveries where lease_owner <> '') || ' deliveries'")
echo "   leases left behind by the stopped process: $leased"
sent_before=$(stat .telegram.messages)

# Items the stopped process had claimed for translation and did not hand back.
stranded=$(sqlite3 "$D/data/transfeed.db" "select count(*) from items where lease_owner <> '' and state <> 'ready'")
stranded_ids=$(sqlite3 "$D/data/transfeed.db" "select coalesce(group_concat(id), '0') from items where lease_owner <> '' and state <> 'ready'")
stranded_until=$(sqlite3 "$D/data/transfeed.db" "select coalesce(datetime(max(lease_until) / 1000, 'unixepoch'), '-') from items where lease_owner <> '' and state <> 'ready'")

# Run again until every other item is ready, then compare.
start_run
ready=0
for _ in $(seq 1 240); do
	n=$(sqlite3 "$D/data/transfeed.db" "select count(*) from items where state <> 'ready' and id not in ($stranded_ids)")
	if [ "$n" -eq 0 ]; then
		ready=1
		break
	fi
	sleep 1
done
sleep 5
still=$(sqlite3 "$D/data/transfeed.db" "select count(*) from items where state <> 'ready'")
kill -TERM "$TF_PID"
wait "$TF_PID" || true
check "the clean stop handed back every item it had claimed for translation" "$stranded == 0" \
	"$stranded item(s) left leased until $stranded_until UTC (now $(date -u +%T)); $still item(s) not ready when the second run was stopped"
db=$D/data/transfeed.db
items_after=$(sqlite3 "$db" "select group_concat(state || '=' || n, ' ') from (select state, count(*) n from items group by state)")
check "second run: every item not stranded by the stop is ready within 240 s" "$ready == 1" "items $items_after"
read -r total distinct <<<"$(guid_counts "$D/config.yaml")"
check "no item stored twice" "$total == $distinct" "$total items, $distinct distinct GUIDs"
lost=$(lost_posts "$D/config.yaml" | wc -l)
check "nothing lost" "$lost == 0" "$lost served post(s) not stored"
s=$(stats)
check "no Telegram message twice" "$(jq .telegram.duplicates <<<"$s") == 0" "$(jq .telegram.duplicates <<<"$s") duplicates of $(jq .telegram.messages <<<"$s") messages ($sent_before before the SIGTERM)"
sent_db=$(sqlite3 "$db" "select count(*) from deliveries where state = 'sent'")
accepted=$(jq '.telegram.messages - .telegram.duplicates' <<<"$s")
check "every delivery marked sent was accepted, and every accepted one is marked sent" "$sent_db == $accepted" "store: $sent_db sent; stand-in: $accepted accepted"
echo "   deliveries: $(sqlite3 "$db" "select group_concat(state || '=' || n, ' ') from (select state, count(*) n from deliveries group by state)"); rejected $(jq .telegram.rejected <<<"$s"), retry_after violations $(jq .telegram.retry_after_violations <<<"$s"), pacing violations $(jq .telegram.pacing_violations <<<"$s")"
finish
