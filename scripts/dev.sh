#!/usr/bin/env bash
# Builds the three example strategies (wasm32-unknown-unknown: no WASI; the host turns each
# module into a component when it loads it), puts them in plugins.d/ (in running
# order) and serves the hook in dev mode: self-signed localhost certificate, generated secret,
# https://127.0.0.1:8443/okta/import, admin on 127.0.0.1:9901. Extra arguments go to `serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || true
cargo build --release --locked --target wasm32-unknown-unknown -p normalize-login -p login-middle-name -p link-single-match
mkdir -p plugins.d
out=target/wasm32-unknown-unknown/release
cp "$out/normalize_login.wasm" plugins.d/10-normalize-login.wasm
cp "$out/link_single_match.wasm" plugins.d/20-link-single-match.wasm
cp "$out/login_middle_name.wasm" plugins.d/30-login-middle-name.wasm
exec cargo run --release --locked -p importhook -- serve --dev --plugins plugins.d "$@"
