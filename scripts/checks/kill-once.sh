#!/usr/bin/env bash
# Check 2 (issue 2): `transfeed once` on SOURCES sources with new posts is
# killed -9 in the middle, then `once` runs twice more. No GUID may be stored
# twice and every post the farm served is stored. Repeated for each kill
# moment in KILL_AT (seconds after start), each with a fresh stand-in and
# database.
#
#   scripts/checks/kill-once.sh    # env: SOURCES [200] POSTS [10] KILL_AT ["0.4 0.9 2"]
#                                NEW_EVERY [20s] PER_HOST [2] TR_LATENCY [5ms]
# PER_HOST 2 (the default fetch.per_host) keeps the polling stage long enough
# for the early kills to land while posts are being stored; later kills land
# in the translation stage.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
SOURCES=${SOURCES:-200}
POSTS=${POSTS:-10}
KILL_AT=${KILL_AT:-0.4 0.9 2}
NEW_EVERY=${NEW_EVERY:-20s}
PER_HOST=${PER_HOST:-2}
TR_LATENCY=${TR_LATENCY:-5ms}
build

for at in $KILL_AT; do
	D=$WORK/kill-once-$at
	rm -rf "$D"
	mkdir -p "$D"
	start_standin "$D" -sources "$SOURCES" -initial-posts "$POSTS" -new-every "$NEW_EVERY" -tr-latency "$TR_LATENCY"
	gen_config "$D/config.yaml" -sources "$SOURCES" -channels 0 -data "$D/data" -per-host "$PER_HOST" -concurrency 16 -log-level warn
	echo "== kill -9 at ${at}s: $SOURCES sources, $POSTS posts each, a new post every $NEW_EVERY per source, per_host $PER_HOST, translation latency $TR_LATENCY; load $(load)"
	"$TF" once -config "$D/config.yaml" >"$D/once.0.out" 2>"$D/once.0.err" &
	pid=$!
	sleep "$at"
	alive=0
	kill -0 "$pid" 2>/dev/null && alive=1
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	check "[$at s] once was still running when killed" "$alive == 1" "alive=$alive"
	before=$(guid_counts "$D/config.yaml")
	s=$(stats)
	echo "   at the kill: stored (total distinct) $before; farm polls $(jq .sources.polls <<<"$s"), served $(jq .sources.posts_served <<<"$s"), translate requests $(jq .translate.requests <<<"$s")"
	for r in 1 2; do
		t0=$(now)
		if "$TF" once -config "$D/config.yaml" >"$D/once.$r.out" 2>"$D/once.$r.err"; then rc=0; else rc=$?; fi
		check "[$at s] once #$r after the kill exits 0" "$rc == 0" "rc $rc, $(elapsed "$t0") s, $(grep -c . "$D/once.$r.err" || true) stderr line(s)"
	done
	skipped=$(grep -c ' skipped ' "$D/once.1.out" || true)
	check "[$at s] once #1 after the kill polled every source" "$skipped == 0" \
		"$skipped of $SOURCES skipped as \"another instance is polling it\" (the killed process's 15-min poll leases)"
	read -r total distinct <<<"$(guid_counts "$D/config.yaml")"
	check "[$at s] no duplicate item" "$total == $distinct" "$total items, $distinct distinct GUIDs"
	lost=$(lost_posts "$D/config.yaml" | wc -l)
	served=$(curl -fsS "$BASE/published" | jq '[.[] | select(.first_served != null)] | length')
	check "[$at s] nothing lost" "$lost == 0" "$served posts served by the farm, $lost of them not stored"
	states=$(items_json "$D/config.yaml" | jq -c 'group_by(.state) | map({(.[0].state): length}) | add')
	db=$D/data/transfeed.db
	echo "   item states after the runs: $states; still leased by the killed process:" \
		"$(sqlite3 "$db" "select count(*) from sources where lease_owner <> ''") source(s)," \
		"$(sqlite3 "$db" "select count(*) from items where lease_owner <> ''") item(s)" \
		"(leases end $(sqlite3 "$db" "select datetime(max(u) / 1000, 'unixepoch') from (select lease_until u from sources union all select lease_until from items)") UTC; now $(date -u +%T))"
	if [ "$lost" -gt 0 ]; then
		# Are the posts delayed or gone for good? Let the killed process's
		# leases end (WAIT_LEASE=1: really wait; default: expire them in our
		# own scratch database) and run once more.
		if [ "${WAIT_LEASE:-0}" = 1 ]; then
			until_ms=$(sqlite3 "$db" "select max(lease_until) from sources")
			wait_s=$(((until_ms / 1000) - $(date +%s) + 2))
			echo "   waiting ${wait_s}s for the dead process's leases to end"
			sleep "$wait_s"
			how="after waiting for the leases to end"
		else
			sqlite3 "$db" "update sources set lease_until = 1 where lease_owner <> ''; update items set lease_until = 1 where lease_owner <> ''"
			how="after expiring the dead process's leases by hand (simulated, WAIT_LEASE=0)"
		fi
		"$TF" once -config "$D/config.yaml" >"$D/once.3.out" 2>"$D/once.3.err" || true
		lost3=$(lost_posts "$D/config.yaml" | wc -l)
		read -r total distinct <<<"$(guid_counts "$D/config.yaml")"
		echo "   INFO [$at s] $how, a third once: $lost3 post(s) not stored, $total items, $distinct distinct"
	fi
	stop_pid "$SI_PID"
done
finish
