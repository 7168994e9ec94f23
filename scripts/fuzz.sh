#!/usr/bin/env bash
# Runs every Go fuzz target in the module, one after the other, for a fixed
# time each, and reports pass/fail per target.
#
# Usage:
#   scripts/fuzz.sh [FUZZTIME] [PACKAGE...]
#
#   FUZZTIME   how long each target fuzzes: a Go duration (30s, 5m) or an
#              iteration count (1000x). Default: $FUZZTIME, else 5m.
#   PACKAGE    package patterns to search for targets. Default: ./...
#
# Environment:
#   FUZZTIME        as above (the argument wins)
#   FUZZ_PARALLEL   fuzzing workers per target (go test -parallel); default GOMAXPROCS
#
# Exit status: 0 when every target passed; 1 when any target failed (a crasher
# was found, or its package does not build); 2 on a usage error.
#
# A failing input is written to <package>/testdata/fuzz/<FuzzTarget>/<hash>.
# From then on a plain `go test` of that package replays it as a regular test
# case: fix the bug, check that `go test ./<package>` passes, and COMMIT that
# file together with the fix so the case stays covered.
set -euo pipefail

cd "$(dirname "$0")/.."

usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; }

fuzztime="${FUZZTIME:-5m}"
if [[ $# -gt 0 ]]; then
	case "$1" in
	-h | --help)
		usage
		exit 0
		;;
	./* | */* | .) ;; # a package pattern: keep the default time
	*)
		fuzztime="$1"
		shift
		;;
	esac
fi
if ! [[ "$fuzztime" =~ ^([0-9]+x|([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$ ]]; then
	echo "fuzz.sh: invalid fuzz time \"$fuzztime\" (want a Go duration such as 30s or 5m, or a count such as 1000x)" >&2
	exit 2
fi
patterns=("$@")
[[ ${#patterns[@]} -gt 0 ]] || patterns=(./...)

parallel_flag=()
if [[ -n "${FUZZ_PARALLEL:-}" ]]; then
	parallel_flag=(-parallel "$FUZZ_PARALLEL")
fi

logdir="$(mktemp -d "${TMPDIR:-/tmp}/transfeed-fuzz.XXXXXX")"

# Packages whose test files declare a fuzz target. The grep only skips
# packages that cannot have one, so that `go test -list` (which compiles the
# test binary) runs where it matters.
mapfile -t candidates < <(
	go list -e -f '{{.ImportPath}}|{{.Dir}}|{{join .TestGoFiles " "}} {{join .XTestGoFiles " "}}' "${patterns[@]}" |
		while IFS='|' read -r pkg dir files; do
			for f in $files; do
				if grep -q '^func Fuzz[A-Z0-9_][A-Za-z0-9_]*(' "$dir/$f"; then
					echo "$pkg"
					break
				fi
			done
		done
)

targets=()   # "package target"
failed=()    # what failed, for the summary
for pkg in "${candidates[@]}"; do
	list_log="$logdir/list-${pkg//\//_}.log"
	if ! go test -list '^Fuzz' "$pkg" >"$list_log" 2>&1; then
		echo "FAIL  $pkg: cannot list fuzz targets (does the package build?)"
		sed 's/^/      /' "$list_log" | tail -n 20
		failed+=("$pkg (build)")
		continue
	fi
	while read -r name; do
		[[ "$name" =~ ^Fuzz[A-Za-z0-9_]*$ ]] && targets+=("$pkg $name")
	done <"$list_log"
done

if [[ ${#targets[@]} -eq 0 && ${#failed[@]} -eq 0 ]]; then
	echo "fuzz.sh: no fuzz targets found in ${patterns[*]}"
	exit 0
fi

echo "fuzz.sh: ${#targets[@]} target(s), $fuzztime each; logs in $logdir"

interrupted=0
trap 'interrupted=1' INT TERM

passed=0
for t in "${targets[@]}"; do
	pkg="${t% *}"
	name="${t#* }"
	log="$logdir/${pkg//\//_}.$name.log"
	start=$SECONDS
	printf '%-6s %s %s ... ' "RUN" "$pkg" "$name"
	set +e
	go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "${parallel_flag[@]}" "$pkg" >"$log" 2>&1
	rc=$?
	set -e
	elapsed=$((SECONDS - start))
	if [[ $interrupted -eq 1 ]]; then
		echo "interrupted"
		failed+=("$pkg $name (interrupted)")
		break
	fi
	if [[ $rc -eq 0 ]]; then
		echo "PASS (${elapsed}s)"
		passed=$((passed + 1))
		continue
	fi
	echo "FAIL (${elapsed}s)"
	failed+=("$pkg $name")
	# The interesting part of the log: the failure and where the input went.
	grep -E -- '--- FAIL|Failing input written to|panic:' "$log" | head -n 20 | sed 's/^/      /' || true
	if crasher=$(grep -oE 'testdata/fuzz/[^ ]+' "$log" | head -n 1) && [[ -n "$crasher" ]]; then
		dir=$(go list -f '{{.Dir}}' "$pkg")
		echo "      new crasher: ${dir#"$PWD"/}/$crasher"
		echo "      reproduce:   go test -run '^${name}\$/$(basename "$crasher")\$' $pkg"
	else
		tail -n 15 "$log" | sed 's/^/      /'
	fi
done

echo
echo "fuzz.sh: ${passed} passed, ${#failed[@]} failed"
if [[ ${#failed[@]} -gt 0 ]]; then
	for f in "${failed[@]}"; do
		echo "  FAIL $f"
	done
	echo "Crashers are saved under the package's testdata/fuzz/<FuzzTarget>/: fix the bug,"
	echo "make sure 'go test' passes with the file in place, and commit the file with the fix."
	exit 1
fi
