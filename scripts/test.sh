#!/usr/bin/env bash
# Runs every test: unit tests of the host, SDK and example strategies (native), and the
# end-to-end suite (real TLS on 127.0.0.1:0, real plugins built by the harness: the SDK's for
# wasm32-unknown-unknown, WASI components for wasm32-wasip2).
# Ends with one summary line over all test binaries: "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
rustup target add wasm32-wasip2 wasm32-unknown-unknown >/dev/null 2>&1 || true
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
cargo test --workspace --locked "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# The benchmark runner's parsers and ratios (bench/test_run.py; Python standard library only).
python3 -m unittest discover -s bench -p 'test_*.py' 2>&1 | tee -a "$log" | tail -3
py_status=${PIPESTATUS[0]}
set -e
awk '/^test result:/ { for (i = 2; i <= NF; i++) { if ($i ~ /^passed/) p += $(i-1); if ($i ~ /^failed/) f += $(i-1) } }
     /^Ran [0-9]+ tests? in/ { py = $2 }
     /^FAILED \(/ { if (match($0, /(failures|errors)=[0-9]+/)) pyf = substr($0, RSTART, RLENGTH) }
     END { printf "%d passed, %d failed (+ %d Python runner tests%s)\n", p, f, py, pyf ? ", " pyf : "" }' "$log"
[ "$status" -eq 0 ] && [ "$py_status" -eq 0 ]
