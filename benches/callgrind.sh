#!/usr/bin/env bash
# Instructions per call of the two per-call cases (`handwritten`, the
# baseline, and `generated`, the one generated method
# `client.get_client_summary_info(&body)`), counted with callgrind. Each
# case runs N and then 2N calls of `getClientSummaryInfo` after a warm-up
# (benches/count_calls.rs); (count(2N) - count(N)) / N is its cost per call
# with all setup subtracted. Only the client's thread is counted (the
# loopback server runs on a thread of its own).
#
# Until 0.3.0 (issue 26) there were three cases, `handwritten`, `plain`
# (the progenitor method) and `checked` (`client.checked().<op>(..)`); the
# figures for them in BENCHMARKS.md were measured with that version of
# this script (e.g. at 8e1ebe4). Before/after figures for that change:
# BENCHMARKS.md, "Issue 26: one call surface".
#
#   benches/callgrind.sh [N] [RUNS]     per-call counts and ratios (default 1000, 2)
#   benches/callgrind.sh attribute [N]  per call, by case, largest differences
#                                       from handwritten first: self instructions
#                                       by source file and by function, inclusive
#                                       instructions by function; then each line
#                                       of the crate's hot path (src/, the
#                                       generated client, progenitor-client, the
#                                       baseline) with what it costs, calls made
#                                       from it included
#
# BINARY=path skips the cargo build (e.g. while another build holds the lock);
# TOP=n (default 40) keeps the first n rows of each attribute table.
#
# Output files are kept in target/callgrind/ for callgrind_annotate.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=count
if [ "${1:-}" = attribute ]; then
  mode=attribute
  shift
fi
calls=${1:-1000}
runs=${2:-2}
out=target/callgrind
mkdir -p "$out"

binary=${BINARY:-}
[ -n "$binary" ] || binary=$(cargo bench --quiet --bench count_calls --no-run --message-format=json \
  | jq -r 'select(.target.name == "count_calls" and .executable != null) | .executable')

# Runs one case with $2 calls; prints the main thread's output file.
count() {
  local case=$1 n=$2 tag=$3
  local file="$out/$case-$n-$tag.out"
  rm -f "$file"-*
  valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$file" \
    "$binary" "$case" "$n" >/dev/null 2>"$file.log"
  echo "$file-01"
}

total() {
  awk '/^(summary|totals):/ { print $2; exit }' "$1"
}

cases=(handwritten generated)
# The cases as one word for awk; the first is the baseline.
case_list="${cases[*]}"

if [ "$mode" = count ]; then
  echo "instructions per call (client thread; (count(2N) - count(N)) / N, N = $calls)"
  for run in $(seq 1 "$runs"); do
    declare -A per_call=()
    for case in "${cases[@]}"; do
      single=$(total "$(count "$case" "$calls" "run$run")")
      double=$(total "$(count "$case" $((2 * calls)) "run$run")")
      per_call[$case]=$(( (double - single) / calls ))
    done
    base=${per_call[handwritten]}
    line="run $run: handwritten $base"
    for case in "${cases[@]:1}"; do
      line+="   $case ${per_call[$case]} ($(awk -v a="${per_call[$case]}" -v b="$base" 'BEGIN { printf "%.3f", a / b }'))"
    done
    echo "$line"
  done
  # Without arguments the binary prints the size of each case's future.
  "$binary" | grep "future is"
  exit 0
fi

# Attribution: the same difference of runs, per function (inclusive or
# self instructions) or per source file (self instructions of the lines of
# that file, inlined code included: the bench profile keeps line tables).
for case in "${cases[@]}"; do
  for n in "$calls" $((2 * calls)); do
    file=$(count "$case" "$n" attribute)
    callgrind_annotate --auto=no --inclusive=yes --threshold=100 "$file" >"$file.inclusive"
    callgrind_annotate --auto=no --threshold=100 "$file" >"$file.self"
  done
done

# $1: inclusive or self; $2: function or file.
table() {
  awk -v calls="$calls" -v by="$2" -v list="$case_list" '
    FNR == 1 {
      file = FILENAME; sub(/^.*\//, "", file)
      split(file, part, "-"); kase = part[1]
      sign = (part[2] == calls) ? -1 : 1
    }
    # "12,345 (12.34%)  file:function [binary]"
    match($0, /^ *[0-9,]+ +\( *[0-9.]+%\) +/) {
      count = substr($0, 1, RLENGTH); name = substr($0, RLENGTH + 1)
      sub(/\(.*$/, "", count); gsub(/[ ,]/, "", count)
      sub(/ \[[^]]*\]$/, "", name)
      if (name == "PROGRAM TOTALS") next
      if (by == "file") sub(/:.*$/, "", name)
      cost[name, kase] += sign * count
      names[name] = 1
    }
    END {
      k = split(list, kases, " ")
      for (name in names) {
        # The largest difference of any case from the baseline (the first).
        h = cost[name, kases[1]] / calls
        d = 0; row = ""
        for (i = 1; i <= k; i++) {
          c = cost[name, kases[i]] / calls
          if (c - h > d) d = c - h
          if (h - c > d) d = h - c
          row = row sprintf(" %10.0f", c)
        }
        if (d < 20) continue
        printf "%10.0f%s  %s\n", d, row, name
      }
    }' $(for case in "${cases[@]}"; do
        for n in "$calls" $((2 * calls)); do echo "$out/$case-$n-attribute.out-01.$1"; done
      done) | sort -rn | awk -v top="${TOP:-40}" 'NR <= top'
}

header() {
  echo
  echo "== $1 per call (N = $calls), largest difference from handwritten first"
  printf '%10s' "max diff"
  printf ' %10s' "${cases[@]}"
  printf '  %s\n' "$2"
}
header "self instructions by source file" "source file (code inlined from it included)"
table self file
header "self instructions by function" "file:function"
table self function
header "inclusive instructions by function" "file:function"
table inclusive function

# Per source line: the line's own instructions plus those of the calls made
# from it (callgrind_annotate's "=>" lines), as the difference of runs.
echo
echo "== per line of the hot path, inclusive (the line and the calls made from it), per call (N = $calls)"
printf '%10s ' "${cases[@]}"
printf ' %s\n' "file:line  source"
for case in "${cases[@]}"; do
  for n in "$calls" $((2 * calls)); do
    file="$out/$case-$n-attribute.out-01"
    callgrind_annotate --auto=yes --show-percs=no --threshold=100 "$file" 2>/dev/null >"$file.lines"
  done
done
awk -v calls="$calls" -v list="$case_list" '
  FNR == 1 {
    file = FILENAME; sub(/^.*\//, "", file)
    split(file, part, "-"); kase = part[1]
    sign = (part[2] == calls) ? -1 : 1
    source = ""
  }
  /^-- Auto-annotated source: / {
    source = $0; sub(/^-- Auto-annotated source: /, "", source)
    keep = (source ~ /^src\// || source ~ /out\/partner\.rs$/ || source ~ /progenitor_client\.rs$/ || source ~ /baseline\/src\/lib\.rs$/)
    if (source ~ /out\/partner\.rs$/) source = "generated partner.rs"
    if (source ~ /progenitor_client\.rs$/) source = "progenitor_client.rs"
    line = 0
    next
  }
  !keep { next }
  /^-- line [0-9]+ -/ { line = $3; next }
  /^[-]+$/ || /^Ir/ || /^$/ || /<counts for unidentified lines/ { next }
  {
    text = $0
    if (match(text, /^ *[0-9,]+ +=> /)) {
      count = substr(text, 1, RLENGTH); sub(/=>.*$/, "", count); gsub(/[ ,]/, "", count)
      cost[key, kase] += sign * count
      next
    }
    if (line == 0) next
    if (match(text, /^ *[0-9,]+  /)) {
      count = substr(text, 1, RLENGTH); gsub(/[ ,]/, "", count)
    } else if (match(text, /^ *\.  /)) {
      count = 0
    } else {
      next
    }
    body = substr(text, RLENGTH + 1); gsub(/^ +/, "", body)
    key = source ":" line
    sources[key] = substr(body, 1, 70)
    cost[key, kase] += sign * count
    keys[key] = 1
    line++
  }
  END {
    k = split(list, kases, " ")
    for (key in keys) {
      row = ""; big = 0
      for (i = 1; i <= k; i++) {
        c = cost[key, kases[i]] / calls
        if (c >= 10) big = 1
        row = row sprintf("%10.0f ", c)
      }
      if (!big) continue
      split(key, at, ":")
      printf "%s\t%08d\t%s %s  %s\n", at[1], at[2], row, key, sources[key]
    }
  }' $(for case in "${cases[@]}"; do
      for n in "$calls" $((2 * calls)); do echo "$out/$case-$n-attribute.out-01.lines"; done
    done) | sort -t "$(printf '\t')" -k1,1 -k2,2n | cut -f3-
