#!/usr/bin/env bash
# Runs every test: unit tests of the host, SDK and example strategies (native), and the
# end-to-end suite (real TLS on 127.0.0.1:0, real plugins built for wasm32-wasip2 by the harness).
set -euo pipefail
cd "$(dirname "$0")/.."
rustup target add wasm32-wasip2 >/dev/null 2>&1 || true
exec cargo test --workspace --locked "$@"
