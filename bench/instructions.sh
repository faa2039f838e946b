#!/usr/bin/env bash
# Instructions per request, counted by callgrind: the same number for the same binary and
# request whatever else the machine is doing, so a change of a few hundred instructions on the
# request path shows where CPU-time A/B runs (bench/ab.sh) only show noise. It counts the
# server's own instructions (user space: not the kernel's TCP work, nor cache misses), and
# valgrind does not answer the PAGEMAP_SCAN ioctl, so the pool resets a freed slot by zeroing
# it: read per-call counts as an upper bound of that part.
#
#   bench/instructions.sh [MODES]       MODES: none,per-call,warm,native-plain (default: all)
#
# Builds importhook with the `valgrind-pool` feature (a pool valgrind can reserve) into its own
# target folder, and native-plain, in release; the plugins are bench/run.sh's wasm files. For
# each mode: a server under `valgrind --tool=callgrind` with instrumentation off, 3 s of
# warm-up load (`wrk -t1 -c2`, bench/wrk/post.lua, bench/request.json), then instrumentation on
# for 6 s of the same load, then off. Prints, per mode: requests, instructions, instructions per
# request. The callgrind files are kept in bench/results/<time>-instructions/ for
# `callgrind_annotate --inclusive=yes`.
set -euo pipefail

MODES=${1:-none,per-call,warm,native-plain}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
VALGRIND_TARGET=$TARGET/valgrind-pool
for tool in valgrind callgrind_control wrk openssl; do
  command -v "$tool" >/dev/null || { echo "$tool not found (apt-get install valgrind wrk)" >&2; exit 1; }
done

(cd "$ROOT" && cargo build --release --locked -p importhook --features valgrind-pool \
  --target-dir "$VALGRIND_TARGET" -q)
(cd "$ROOT" && cargo build --release --locked -p importhook-native-plain -q)
(cd "$ROOT" && cargo build --release --locked --target wasm32-unknown-unknown -q \
  -p normalize-login -p login-middle-name -p link-single-match)
IMPORTHOOK=$VALGRIND_TARGET/release/importhook
PLAIN=$TARGET/release/importhook-native-plain
WASM=$TARGET/wasm32-unknown-unknown/release

OUT=$ROOT/bench/results/$(date -u +%Y%m%dT%H%M%SZ)-instructions
mkdir -p "$OUT"
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
source "$ROOT/bench/common.sh"
self_signed_cert "$WORK"

for mode in none per-call warm; do
  plugin_folder "$WORK/$mode" "$mode" "$WASM"
done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
load() {
  BENCH_BODY="$ROOT/bench/request.json" BENCH_SECRET=s3cret \
    wrk -t1 -c2 -d"$1"s -s "$ROOT/bench/wrk/post.lua" "https://127.0.0.1:$2/okta/import"
}

echo "mode requests instructions instructions_per_request"
for mode in ${MODES//,/ }; do
  port=$(free_port)
  if [[ $mode == native-plain ]]; then
    server=("$PLAIN" --port "$port" --cert "$WORK/cert.pem" --key "$WORK/key.pem" --workers 2)
  else
    server=("$IMPORTHOOK" serve --plugins "$WORK/$mode" --listen "127.0.0.1:$port"
      --admin-listen 127.0.0.1:0 --tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem"
      --log-format text)
    # Compiled natively into the folder's compile cache first: cranelift under valgrind
    # takes minutes.
    [[ $mode == none ]] || "$IMPORTHOOK" check --plugins "$WORK/$mode" > /dev/null
  fi
  env -u RUST_LOG IMPORTHOOK_SECRETS=s3cret HOOK_SECRET=s3cret \
    valgrind --tool=callgrind --instr-atstart=no \
    --callgrind-out-file="$OUT/callgrind.$mode.%p" "${server[@]}" > "$OUT/$mode.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 240); do
    curl -sk -o /dev/null "https://127.0.0.1:$port/" && break
    sleep 0.5
  done
  load 3 "$port" > /dev/null
  callgrind_control -i on "$pid" > /dev/null 2>&1
  requests=$(load 6 "$port" | awk '/requests in/ {print $1}')
  callgrind_control -i off "$pid" > /dev/null 2>&1
  kill "$pid"; wait "$pid" 2>/dev/null || true
  instructions=$(awk '/^totals:/ {print $2}' "$OUT"/callgrind."$mode".*)
  echo "$mode $requests $instructions $((instructions / requests))"
done | tee "$OUT/summary.txt"

# The issue #27 ratios, in instructions (CPU time also holds the kernel's part; see BENCHMARKS.md).
awk '{n[$1]=$4} END {
  if (n["none"] && n["native-plain"]) printf "no plugins / native-plain: %.2f\n", n["none"]/n["native-plain"]
  if (n["none"] && n["per-call"]) printf "per call, added / no plugins: %.2f\n", (n["per-call"]-n["none"])/n["none"]
  if (n["none"] && n["warm"]) printf "warm, added / no plugins: %.2f\n", (n["warm"]-n["none"])/n["none"]
}' "$OUT/summary.txt" | tee -a "$OUT/summary.txt"
