#!/usr/bin/env bash
# Translation cost (issue 10): characters sent to the engine ÷ characters of the
# unique Chinese text of the posts (titles and body paragraphs, each distinct text
# counted once), on the stand-in's 200 posts (40 sources × 5), one `once`.
# Must be ≤ 1.02: a summary cut from the body is not paid for a second time.
#
#   scripts/checks/cost-ratio.sh        # env: SOURCES [40] POSTS [5]; TF= another binary to compare
#   GLOSSARY=0 scripts/checks/cost-ratio.sh   # without the generated config's glossary
#
# The glossary's English targets replace Chinese terms before sending (大湾区, 3
# characters, goes out as "Greater Bay Area", 16), so with it the ratio also counts
# that expansion; GLOSSARY=0 measures what the engine itself repeats.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
SOURCES=${SOURCES:-40}
POSTS=${POSTS:-5}
D=$WORK/cost-ratio
rm -rf "$D"
mkdir -p "$D"
build
start_standin "$D" -static -sources "$SOURCES" -initial-posts "$POSTS"
gen_config "$D/config.yaml" -sources "$SOURCES" -channels 0 -data "$D/data" -log-level warn
if [ "${GLOSSARY:-1}" = 0 ]; then
	sed -i -e '/^  glossary:$/,/^  [a-z_]*:/{/^  glossary:$/d;/^    /d}' "$D/config.yaml"
	"$TF" validate -config "$D/config.yaml" >/dev/null
fi
"$TF" once -config "$D/config.yaml" >"$D/once.out" 2>&1
sent=$(stat .translate.chars)
unique=$(items_json "$D/config.yaml" | python3 -c '
import json, re, sys, html
items = json.load(sys.stdin)
han = re.compile(r"[\u3400-\u9fff]")
texts = set()
for it in items:
    texts.add(it["title"].strip())
    for block in re.split(r"(?i)</?(?:p|div|br|li|h[1-6]|td|th|tr|table|ul|ol|blockquote|section|article)\b[^>]*>", it["content_html"]):
        t = html.unescape(re.sub(r"<[^>]+>", "", block)).strip()
        if t:
            texts.add(t)
print(sum(len(t) for t in texts if han.search(t)))
')
posts=$(items_json "$D/config.yaml" | jq length)
ratio=$(awk -v a="$sent" -v b="$unique" 'BEGIN { printf "%.3f", a / b }')
echo "posts $posts, characters sent $sent, unique Chinese text $unique characters: ratio $ratio"
check "characters sent ÷ unique ≤ 1.02" "$(awk -v r="$ratio" 'BEGIN { print (r <= 1.02) }')" "$ratio"
finish
