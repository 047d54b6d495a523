#!/usr/bin/env bash
# What each area feature of the client-org API adds to type-checking the
# library: for the default build and then each area, the package is cleaned
# (`cargo clean -p rhombus-partner`, which keeps the dependencies) and
# `cargo check -p rhombus-partner --features <area>` timed with GNU time:
# CPU seconds (user + system, all processes: build script compile and run,
# rustc) and the peak resident memory of the largest process (rustc). One
# tab-separated line per feature set, the default first; BENCHMARKS.md says
# how to read it.
#
#   benches/area_check_cost.sh              # default, then every area
#   benches/area_check_cost.sh camera door  # default, then these
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$#" -gt 0 ]; then
  areas=("$@")
else
  mapfile -t areas < <(find spec/areas -name '*.json' -printf '%f\n' | sed 's/\.json$//' | sort)
fi
# Dependencies first, so that no measurement includes them.
cargo check -p rhombus-partner --locked --quiet --features fleet
measure() {
  local label=$1
  shift
  cargo clean -p rhombus-partner --quiet
  local report
  report=$(mktemp)
  /usr/bin/time -f '%U %S %M' -o "$report" cargo check -p rhombus-partner --locked --quiet "$@"
  read -r user system peak_kb <"$report"
  rm -f "$report"
  printf '%s\t%.1f\t%d\n' "$label" "$(echo "$user + $system" | bc)" "$((peak_kb / 1024))"
}
printf 'features\tcpu_s\tpeak_mib\n'
measure default
for area in "${areas[@]}"; do
  measure "$area" --features "$area"
done
