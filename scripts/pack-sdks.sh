#!/usr/bin/env bash
# Packs the three SDKs for strategies written outside this repository, until they are published
# to crates.io, npm and PyPI:
#
#   scripts/pack-sdks.sh [OUT]        (default OUT: target/sdk)
#
# OUT then holds
#   importhook-sdk-X.crate, importhook-okta-X.crate   `cargo package` of plugin-sdk and its path
#   rust/importhook-sdk-X/, rust/importhook-okta-X/   dependency, and the same unpacked (Cargo
#                                                     depends on folders, not on .crate files)
#   importhook-sdk-X.tgz                              `npm pack` of sdk-js, with the WIT inside
#   importhook_sdk-X-py3-none-any.whl                 a wheel of sdk-python, with the WIT inside
#
# `importhook new NAME --lang rust|js|python --sdk OUT` makes a project that depends on them.
# Needs cargo, npm and a Python with pip (PYTHON, default python3; the wheel is built with
# setuptools from PyPI or pip's cache).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:-$root/target/sdk}")
python=${PYTHON:-python3}
mkdir -p "$out/rust"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

# Rust: the three crates in one `cargo package`, so the SDK's dependencies on the unpublished
# importhook-okta and importhook-login resolve to the ones packed beside it. Not verified by a build here: the e2e
# test (tests/tests/new_project.rs) builds a project against the unpacked crates.
(cd "$root" && cargo package --quiet --locked --allow-dirty --no-verify \
    -p importhook-login -p importhook-okta -p importhook-sdk --target-dir "$stage/cargo")
for crate in "$stage"/cargo/package/*.crate; do
    name=$(basename "$crate" .crate)
    cp "$crate" "$out/"
    rm -rf "${out:?}/rust/$name"
    tar -xzf "$crate" -C "$out/rust"
done

# JavaScript: a copy of sdk-js with the WIT beside src/ (bin/build.js looks there when it is
# not in a checkout).
cp -r "$root/sdk-js" "$stage/sdk-js"
rm -rf "$stage/sdk-js/node_modules"
cp -r "$root/plugin-sdk/wit" "$stage/sdk-js/wit"
(cd "$stage/sdk-js" && npm pack --silent --pack-destination "$out" >/dev/null)

# Python: a copy of sdk-python with the WIT inside the package (importhook_sdk/wit).
cp -r "$root/sdk-python" "$stage/sdk-python"
rm -rf "$stage/sdk-python/tests" "$stage/sdk-python/src/"*.egg-info
cp -r "$root/plugin-sdk/wit" "$stage/sdk-python/src/importhook_sdk/wit"
"$python" -m pip wheel --quiet --disable-pip-version-check --no-deps -w "$out" "$stage/sdk-python" >/dev/null

echo "packed into $out:"
(cd "$out" && ls -1 ./*.crate ./*.tgz ./*.whl | sed 's|^\./|  |')
