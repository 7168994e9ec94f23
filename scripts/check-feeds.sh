#!/usr/bin/env bash
# check-feeds.sh BASE_URL — fetch every output feed of a running transfeed
# (as listed in BASE_URL/feeds.opml, in RSS, Atom and JSON Feed form) and
# check each: RSS and Atom with Python's feedparser (bozo must be false, ids
# present and unique) and xmllint --noout; JSON Feed with a JSON Feed 1.1
# structure check (feedparser 6.0.x, Debian's, has no JSON Feed support; the
# Go tests also parse every format with gofeed). Exits 1 when any feed fails.
#
# Needs: curl, /usr/bin/python3 with feedparser (apt-get install -y
# python3-feedparser), xmllint (apt-get install -y libxml2-utils).
set -euo pipefail

base=${1:?usage: check-feeds.sh BASE_URL (e.g. http://127.0.0.1:8089)}
base=${base%/}
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

curl -fsS "$base/feeds.opml" -o "$tmp/feeds.opml"
xmllint --noout "$tmp/feeds.opml"
mapfile -t rss < <("$py" - "$tmp/feeds.opml" <<'PY'
import sys, xml.etree.ElementTree as ET
for o in ET.parse(sys.argv[1]).iter("outline"):
    if o.get("xmlUrl"):
        print(o.get("xmlUrl"))
PY
)
if [ "${#rss[@]}" -eq 0 ]; then
  echo "no feeds listed in $base/feeds.opml" >&2
  exit 1
fi

fail=0
n=0
for r in "${rss[@]}"; do
  stem=${r%.rss}
  for url in "$stem.rss" "$stem.atom" "$stem.json"; do
    n=$((n + 1))
    f="$tmp/feed.$n"
    if ! curl -fsS --compressed "$url" -o "$f"; then
      echo "FAIL fetch $url"; fail=1; continue
    fi
    if [[ $url == *.json ]]; then
      check=json
    else
      check=xml
      xmllint --noout "$f" || { echo "FAIL xmllint $url"; fail=1; }
    fi
    if out=$("$py" - "$f" "$url" "$check" <<'PY'
import json, sys
path, url, kind = sys.argv[1:4]
if kind == "json":
    d = json.load(open(path, encoding="utf-8"))
    problems = []
    if d.get("version") != "https://jsonfeed.org/version/1.1": problems.append("version")
    for k in ("title", "home_page_url", "feed_url", "language"):
        if not isinstance(d.get(k), str) or not d.get(k): problems.append(k)
    items = d.get("items")
    if not isinstance(items, list): problems.append("items")
    else:
        ids = [i.get("id") for i in items]
        if any(not isinstance(i, str) or not i for i in ids) or len(set(ids)) != len(ids): problems.append("item ids")
        for i in items:
            if not (i.get("content_html") or i.get("content_text")): problems.append("content of " + str(i.get("id")))
    if problems:
        print("invalid JSON Feed: " + ", ".join(problems)); sys.exit(1)
    print("ok %d items, json feed 1.1" % len(items)); sys.exit(0)
import feedparser
# feedparser fetches the URL itself, so the server's Content-Type and gzip are checked too.
d = feedparser.parse(url)
if d.get("status") != 200:
    print("HTTP status %r" % d.get("status")); sys.exit(1)
if d.bozo:
    print("bozo: %r" % (d.bozo_exception,)); sys.exit(1)
ids = [e.get("id") for e in d.entries]
if any(not i for i in ids) or len(set(ids)) != len(ids):
    print("missing or duplicate entry ids: %r" % ids); sys.exit(1)
print("ok %d entries, %s, bozo false" % (len(d.entries), d.version))
PY
    ); then
      echo "ok   $url ($out)"
    else
      echo "FAIL $url: $out"; fail=1
    fi
  done
done
echo "checked $n feeds"
exit $fail
