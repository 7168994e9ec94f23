#!/usr/bin/env bash
# screenshot.sh — rebuild docs/index.png, docs/post.png, docs/index-phone.png,
# docs/search.png (a search in English and in Chinese) and docs/archive.png
# from the development server (in-memory store seeded with sample Zhaoqing
# posts), and fail when headless Chromium logs a console error.
# Needs: go, chromium (apt-get install -y chromium), fonts-noto-cjk for Chinese text.
set -euo pipefail
cd "$(dirname "$0")/.."

# Without a CJK font Chromium draws every Chinese character as a box, and the
# screenshots would replace good ones with that.
if ! fc-list :lang=zh 2>/dev/null | grep -q .; then
  echo "no Chinese font installed (apt-get install -y fonts-noto-cjk): the screenshots would show boxes" >&2
  exit 1
fi

addr=${ADDR:-127.0.0.1:8091}
base="http://$addr"
go build -o /tmp/transfeed-devserver ./server/internal/devserver
/tmp/transfeed-devserver -listen "$addr" -quiet &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -fsS "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

shot() { # shot OUT.png WIDTHxHEIGHT URL
  local profile log
  profile=$(mktemp -d)
  log=$(mktemp)
  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --hide-scrollbars --enable-logging=stderr --v=0 \
    --window-size="$2" --screenshot="$1" "$3" 2>"$log" >/dev/null || { cat "$log" >&2; return 1; }
  if grep -E 'CONSOLE|Refused to|Content Security Policy' "$log" >&2; then
    echo "console errors while rendering $3" >&2
    return 1
  fi
  rm -rf "$profile" "$log"
  echo "wrote $1 ($3)"
}

shot docs/index.png 1200,1600 "$base/"
shot docs/post.png 1200,1600 "$base/posts/1"
shot docs/index-phone.png 390,844 "$base/"
shot docs/search.png 1200,1400 "$base/search?q=Greater+Bay+Area"
shot docs/search-zh.png 390,844 "$base/search?q=%E5%A4%A7%E6%B9%BE%E5%8C%BA"
shot docs/archive.png 1200,1200 "$base/archive/2023/05"
