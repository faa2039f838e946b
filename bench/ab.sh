#!/usr/bin/env bash
# A/B of two importhook binaries (say, two allocators or two commits) in three modes: no
# plugins, the three examples per call, the three examples warm. Each round runs every mode
# on A then on B, back to back, so the machine's drift hits both alike.
#
#   bench/ab.sh A_BINARY B_BINARY [ROUNDS] [SECONDS]
#
# For each run: a fresh server (its own compile cache), 3 s of warm-up, then SECONDS of
# `wrk -t2 -c64` (bench/wrk/post.lua, bench/request.json) while the server's CPU time
# (utime + stime from /proc) is read before and after. Prints one line per run:
#   mode variant round requests cpu_us_per_request req_per_s peak_rss_kib(VmHWM)
# then the median of each mode and variant. The plugins are the wasm files of
# `bench/run.sh` (wasm32-unknown-unknown/release in Cargo's target folder): build them first.
# A_WASM / B_WASM, when set, are folders of those files for one side only (to A/B a change
# of the SDK, which the plugins are built with).
set -euo pipefail

[[ $# -ge 2 ]] || { sed -n '2,13p' "$0"; exit 2; }
A=$(realpath "$1"); B=$(realpath "$2"); ROUNDS=${3:-3}; SECONDS_PER_RUN=${4:-8}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
WASM=$TARGET/wasm32-unknown-unknown/release
A_WASM=${A_WASM:-$WASM}; B_WASM=${B_WASM:-$WASM}
for f in normalize_login link_single_match login_middle_name; do
  for dir in "$A_WASM" "$B_WASM"; do
    [[ -f $dir/$f.wasm ]] || { echo "missing $dir/$f.wasm: build the plugins first" >&2; exit 1; }
  done
done
command -v wrk >/dev/null || { echo "wrk not found (bench/run.sh installs it)" >&2; exit 1; }

WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
source "$ROOT/bench/common.sh"
self_signed_cert "$WORK"

# Both binaries run from fresh copies: how much of a binary's file the kernel maps at each
# page fault depends on how its pages came into the page cache (a file just written maps more
# of itself at once), and VmHWM counts those pages. An old build against a new one read
# ~2.3 MiB apart for that alone (BENCHMARKS.md, "Ninth pass").
cp "$A" "$WORK/importhook-A"; cp "$B" "$WORK/importhook-B"
A=$WORK/importhook-A; B=$WORK/importhook-B

# The plugin folder of each mode, for each side.
for mode in none per-call warm; do
  plugin_folder "$WORK/A-$mode" "$mode" "$A_WASM"
  plugin_folder "$WORK/B-$mode" "$mode" "$B_WASM"
done

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
load() {
  BENCH_BODY="$ROOT/bench/request.json" BENCH_SECRET=s3cret \
    wrk -t2 -c64 -d"$1"s -s "$ROOT/bench/wrk/post.lua" "https://127.0.0.1:$2/okta/import"
}

RESULTS=$WORK/results.txt
for round in $(seq 1 "$ROUNDS"); do
  for mode in none per-call warm; do
    for variant in A B; do
      binary=$A; [[ $variant == B ]] && binary=$B
      run=$WORK/run-$round-$mode-$variant; mkdir -p "$run/cache"
      env -u RUST_LOG IMPORTHOOK_SECRETS=s3cret "$binary" serve --plugins "$WORK/$variant-$mode" \
        --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 --tls-cert "$WORK/cert.pem" \
        --tls-key "$WORK/key.pem" --cache-dir "$run/cache" --log-format text > "$run/log" 2>&1 &
      pid=$!
      for _ in $(seq 1 200); do grep -qs "importhook serving" "$run/log" && break; sleep 0.05; done
      port=$(grep -o 'listen=127.0.0.1:[0-9]*' "$run/log" | head -1 | cut -d: -f2)
      [[ -n $port ]] || { echo "$variant did not start in mode $mode:" >&2; cat "$run/log" >&2; exit 1; }
      load 3 "$port" > /dev/null
      before=$(cpu_ticks "$pid")
      out=$(load "$SECONDS_PER_RUN" "$port")
      after=$(cpu_ticks "$pid")
      hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
      kill "$pid"; wait "$pid" 2>/dev/null || true
      grep -q "Non-2xx\|Socket errors" <<< "$out" && { echo "errors in $variant $mode:" >&2; echo "$out" >&2; exit 1; }
      requests=$(awk '/requests in/ {print $1}' <<< "$out")
      rps=$(awk '/Requests\/sec/ {print $2}' <<< "$out")
      tick_us=$((1000000 / $(getconf CLK_TCK)))
      echo "$mode $variant $round $requests $(( (after - before) * tick_us / requests )) $rps $hwm" | tee -a "$RESULTS"
    done
  done
done

echo "median over $ROUNDS round(s): mode variant cpu_us_per_request req_per_s peak_rss_kib"
for mode in none per-call warm; do
  for variant in A B; do
    awk -v m="$mode" -v v="$variant" '$1 == m && $2 == v {print $5, $6, $7}' "$RESULTS" |
      python3 -c 'import sys, statistics as s
rows = [list(map(float, l.split())) for l in sys.stdin]
print(*(round(s.median(c), 1) for c in zip(*rows)))' | sed "s/^/$mode $variant /"
  done
done
