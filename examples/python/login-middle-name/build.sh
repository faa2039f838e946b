#!/bin/sh
# Builds login_middle_name.wasm (or the file given as $1) with componentize-py.
# Needs the Python toolchain: python3 -m venv .venv && .venv/bin/pip install -r sdk-python/requirements.txt
# (at the repository root; PYTHON may name another interpreter with componentize-py beside it).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
python=${PYTHON:-$root/.venv/bin/python}
[ -x "$python" ] || python=python3
out=$(realpath -m "${1:-$here/login_middle_name.wasm}")
cd "$here"
PYTHONPATH="$root/sdk-python/src" exec "$python" -m importhook_sdk.build login_middle_name:strategy -o "$out"
