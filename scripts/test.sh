#!/usr/bin/env bash
# Runs every test: unit tests of the host, SDKs and example strategies (native: cargo test,
# node --test for sdk-js and examples/js, pytest for sdk-python and examples/python), and the
# end-to-end suite (real TLS on 127.0.0.1:0, real plugins built by the harness: the SDK's for
# wasm32-unknown-unknown, WASI components for wasm32-wasip2).
# Ends with one summary line over all test binaries: "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
rustup target add wasm32-wasip2 wasm32-unknown-unknown >/dev/null 2>&1 || true
# The JavaScript and Python toolchains the SDKs' tests and the end-to-end suite build with,
# pinned (package-lock.json, requirements.txt), installed once from the registries. Needs
# Node.js >= 20 (npm) and Python >= 3.11; redis-server, docker-registry and chromium are the
# system packages left to install (.ci/run does it on Debian). They also fill npm's and pip's caches,
# which the projects tests/tests/new_project.rs makes with `importhook new` under /tmp install
# from.
if [ ! -x examples/js/login-middle-name/node_modules/.bin/importhook-build-js ]; then
    (cd examples/js/login-middle-name && npm ci --no-audit --no-fund)
fi
if [ ! -x .venv/bin/componentize-py ] || [ ! -x .venv/bin/pytest ]; then
    python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check -r sdk-python/requirements.txt
fi
# The offline Kubernetes schema validator tests/tests/deploy.rs runs on deploy/kubernetes.
if [ ! -x .venv/bin/kubernetes-validate ]; then
    .venv/bin/pip install --quiet --disable-pip-version-check -r scripts/kubernetes/requirements.txt
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
cargo test --workspace --locked "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# The benchmark runner's parsers and ratios (bench/test_run.py; Python standard library only).
python3 -m unittest discover -s bench -p 'test_*.py' 2>&1 | tee -a "$log" | tail -3
py_status=${PIPESTATUS[0]}
# The JavaScript and Python SDKs and example strategies, natively (no wasm built). Their
# toolchains: `npm ci` in examples/js/login-middle-name, and the repository's .venv (README,
# "Strategies in JavaScript and Python"); a missing one fails here, it is never skipped.
# bench/node-peer's tests run both Node.js peers of the benchmark (openssl makes their
# certificate) on the same cases: the checks importhook makes and the answer.
lang_status=0
for suite in sdk-js examples/js/login-middle-name bench/node-peer; do
    (cd "$suite" && node --test test/) 2>&1 | tee -a "$log" | grep -E '^# (tests|pass|fail) ' | sed "s|^|$suite: |"
    [ "${PIPESTATUS[0]}" -eq 0 ] || lang_status=1
done
if [ -x .venv/bin/pytest ]; then pytest="$PWD/.venv/bin/pytest"; else pytest=pytest; fi
for suite in sdk-python examples/python/login-middle-name; do
    (cd "$suite" && "$pytest" -q -p no:cacheprovider) 2>&1 | tee -a "$log" | tail -1 | sed "s|^|$suite: |"
    [ "${PIPESTATUS[0]}" -eq 0 ] || lang_status=1
done
set -e
# Cargo's "test result:" lines, node's "# pass N" / "# fail N", pytest's "N passed, N failed in Xs".
awk '/^test result:/ { for (i = 2; i <= NF; i++) { if ($i ~ /^passed/) p += $(i-1); if ($i ~ /^failed/) f += $(i-1) } }
     /^# pass [0-9]+$/ { p += $3 }
     /^# fail [0-9]+$/ { f += $3 }
     /^[0-9]+ (passed|failed).* in [0-9.]+s/ { for (i = 2; i <= NF; i++) { if ($i ~ /^passed/) p += $(i-1); if ($i ~ /^failed/) f += $(i-1) } }
     /^Ran [0-9]+ tests? in/ { py = $2 }
     /^FAILED \(/ { if (match($0, /(failures|errors)=[0-9]+/)) pyf = substr($0, RSTART, RLENGTH) }
     END { printf "%d passed, %d failed (+ %d Python runner tests%s)\n", p, f, py, pyf ? ", " pyf : "" }' "$log"
[ "$status" -eq 0 ] && [ "$py_status" -eq 0 ] && [ "$lang_status" -eq 0 ]
