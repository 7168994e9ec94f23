# shellcheck shell=bash
# Shared helpers of the whole-system checks in scripts/checks/ (sourced, not run).
#
# Environment (defaults in brackets):
#   WORK      scratch directory [/tmp/tfc]
#   TF, SI    the transfeed and standin binaries [built into $WORK unless NOBUILD=1]
#   TF_PORT   transfeed's server.listen port [18290]
# Every process a check starts is remembered and stopped by pid on exit.

WORK=${WORK:-/tmp/tfc}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TF=${TF:-$WORK/transfeed}
SI=${SI:-$WORK/standin}
TF_PORT=${TF_PORT:-18290}
FAILS=0
PIDS=()

mkdir -p "$WORK"

cleanup() {
	local p
	for p in "${PIDS[@]:-}"; do
		[ -n "$p" ] && kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
}
trap cleanup EXIT

build() {
	if [ "${NOBUILD:-0}" != 1 ]; then
		(cd "$ROOT" && go build -o "$WORK/transfeed" ./cmd/transfeed && go build -o "$WORK/standin" ./internal/tools/standin)
	fi
}

# pass/fail NAME DETAIL: one result line.
pass() { echo "PASS $1${2:+: $2}"; }
fail() {
	echo "FAIL $1${2:+: $2}"
	FAILS=$((FAILS + 1))
}
# check NAME CONDITION DETAIL: PASS when the arithmetic CONDITION holds.
check() {
	if (($2)); then pass "$1" "$3"; else fail "$1" "$3"; fi
}
finish() {
	if [ "$FAILS" -gt 0 ]; then
		echo "RESULT: $FAILS check(s) failed"
		exit 1
	fi
	echo "RESULT: all checks passed"
	exit 0
}
load() { cut -d' ' -f1-3 /proc/loadavg; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# start_standin DIR ARGS...: starts the stand-in, sets SI_PID and BASE.
start_standin() {
	local dir=$1
	shift
	mkdir -p "$dir"
	"$SI" "$@" >"$dir/standin.out" 2>"$dir/standin.err" &
	SI_PID=$!
	PIDS+=("$SI_PID")

	for _ in $(seq 1 100); do
		BASE=$(sed -n 's/^listening //p' "$dir/standin.out" 2>/dev/null || true)
		[ -n "$BASE" ] && return 0
		sleep 0.1
	done
	echo "standin did not start: $(cat "$dir/standin.err")" >&2
	exit 1
}
stop_pid() {
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}
stats() { curl -fsS "$BASE/stats"; }
stat() { stats | jq -r "$1"; }

# gen_config FILE ARGS...: a config for the running stand-in.
gen_config() {
	local f=$1
	shift
	"$SI" -gen-config -base "$BASE" -listen-http "127.0.0.1:$TF_PORT" "$@" >"$f"
	"$TF" validate -config "$f" >/dev/null
}

# items_json CONFIG: every stored item as JSON.
items_json() { "$TF" items -config "$1" -json -limit 1000000; }

# guid_counts CONFIG: "total distinct" of the stored items' GUIDs.
guid_counts() {
	items_json "$1" | jq -r '"\(length) \([.[].guid] | unique | length)"'
}

# lost_posts CONFIG: posts the farm served (first_served set) that are not stored.
lost_posts() {
	local cfg=$1
	comm -23 <(curl -fsS "$BASE/published" | jq -r '.[] | select(.first_served != null) | .guid' | sort -u) \
		<(items_json "$cfg" | jq -r '.[].guid' | sort -u)
}

# peak_rss_kb FILE: the "Maximum resident set size" of a /usr/bin/time -v report.
peak_rss_kb() { sed -n 's/.*Maximum resident set size (kbytes): //p' "$1"; }
wall_of() { sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$1"; }

# serve DIR BIN: starts `BIN run` on DIR/config.yaml, waits for /healthz (up to
# SERVE_WAIT seconds [300]: the daemon's integrity check reads the whole file, minutes
# for a store of a million posts that is not in the page cache); sets RUN_PID.
serve() {
	"$2" run -config "$1/config.yaml" >"$1/run.out" 2>"$1/run.err" &
	RUN_PID=$!
	PIDS+=("$RUN_PID")
	for _ in $(seq 1 $((${SERVE_WAIT:-300} * 10))); do
		curl -fsS -o /dev/null "http://127.0.0.1:$TF_PORT/healthz" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "transfeed run did not answer: $(tail -5 "$1/run.err")" >&2
	exit 1
}

# wrk_raw URL [HEADER...]: wrk -t2 -c32 for WRK_SECONDS [10] on URL (output in
# $WORK/wrk.out); prints "req/s p99_ms non2xx" (non2xx empty when none).
wrk_raw() {
	local url=$1 h
	shift
	local args=()
	for h in "$@"; do args+=(-H "$h"); done
	wrk -t2 -c32 -d"${WRK_SECONDS:-10}s" --latency "${args[@]}" "$url" >"$WORK/wrk.out" 2>&1 || true
	local rps p99 non2xx
	rps=$(sed -n 's/^Requests\/sec: *//p' "$WORK/wrk.out")
	p99=$(awk '$1 == "99%" { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 }; print v }' "$WORK/wrk.out")
	non2xx=$(sed -n 's/.*Non-2xx or 3xx responses: *//p' "$WORK/wrk.out")
	echo "${rps:-0} ${p99:-0} $non2xx"
}

# nginx_same DIR: nginx on NGINX_PORT [18291] serving DIR/www/all.rss.gz as the gzip
# bytes of /all.rss (gzip_static), with its own ETag and 304; sets NGX_PID.
nginx_same() {
	local dir=$1
	mkdir -p "$dir/nginx"
	cat >"$dir/nginx/nginx.conf" <<-CONF
		worker_processes 2;
		daemon off;
		pid $dir/nginx/nginx.pid;
		error_log $dir/nginx/error.log;
		events { worker_connections 256; }
		http {
			access_log off;
			client_body_temp_path $dir/nginx; proxy_temp_path $dir/nginx; fastcgi_temp_path $dir/nginx;
			uwsgi_temp_path $dir/nginx; scgi_temp_path $dir/nginx;
			server {
				listen 127.0.0.1:${NGINX_PORT:-18291};
				root $dir/www;
				location = /all.rss {
					gzip_static always;
					default_type application/rss+xml;
				}
			}
		}
	CONF
	nginx -c "$dir/nginx/nginx.conf" -p "$dir/nginx" &
	NGX_PID=$!
	PIDS+=("$NGX_PID")
	for _ in $(seq 1 50); do
		curl -fsS -o /dev/null "http://127.0.0.1:${NGINX_PORT:-18291}/all.rss" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "nginx did not start: $(cat "$dir/nginx/error.log")" >&2
	exit 1
}
