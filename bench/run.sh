#!/usr/bin/env bash
# The HTTP benchmark in one command (issue #6): builds the release host, the native limit and
# the example wasm plugins, then runs every scenario against 127.0.0.1 and writes
# bench/results/<UTC timestamp>/{results.json,summary.md}. Flags: bench/run.sh --help.
#   bench/run.sh            # full run (about 15 minutes on 2 cores; 10 with --rounds 2 --duration 8)
#   bench/run.sh --quick    # smoke run
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y wrk \
        || { $sudo apt-get update && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y wrk; }
fi
exec python3 bench/run.py "$@"
