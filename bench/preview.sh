#!/usr/bin/env bash
# `importhook preview` throughput: a generated import of N rows (default 100000; every tenth
# row's login held by a user of the --existing export, pairs of rows sharing a login, a tenth
# of logins normalize-login rewrites) previewed with the example plugins (plugins.d's three and
# the counter strategy), timed, with the process's peak memory. Run with two sizes to see that
# memory does not grow with the rows: bench/preview.sh 10000; bench/preview.sh 100000.
#
# Needs: a release build (`cargo build --release -p importhook`), the example plugins built for
# wasm32-unknown-unknown (the end-to-end tests leave them in target/e2e-wasm; or set WASM_DIR),
# Python 3 and GNU time (/usr/bin/time).
set -euo pipefail
rows="${1:-100000}"
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${IMPORTHOOK_BIN:-$root/target/release/importhook}"
wasm="${WASM_DIR:-$root/target/e2e-wasm/wasm32-unknown-unknown/release}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir "$work/plugins"
for plugin in 10-normalize-login:normalize_login 20-link-single-match:link_single_match \
    30-login-middle-name:login_middle_name; do
    cp "$wasm/${plugin#*:}.wasm" "$work/plugins/${plugin%%:*}.wasm"
    cp "$root/plugins.d/${plugin%%:*}.toml" "$work/plugins/"
done
cp "$wasm/login_counter_suffix.wasm" "$work/plugins/40-login-counter-suffix.wasm"
cp "$root/plugins/login-counter-suffix/login-counter-suffix.toml" "$work/plugins/40-login-counter-suffix.toml"
python3 - "$rows" "$work" <<'PY'
import sys
rows, work = int(sys.argv[1]), sys.argv[2]
with open(f"{work}/users.csv", "w") as users, open(f"{work}/existing.csv", "w") as existing:
    users.write("login,email,firstName,middleName,lastName\n")
    existing.write("id,login,email,firstName,lastName\n")
    for i in range(rows):
        kind = i % 10
        login = {0: f"held{i}@example.com", 2: f"twin{i // 10}@example.com",
                 3: f"twin{i // 10}@example.com", 4: f"Jose.Nunez{i}@Example.com"}.get(kind, f"user{i}@example.com")
        middle = "Quinn" if i % 20 < 10 else ""
        users.write(f"{login},{login},First{i},{middle},Last{i}\n")
        if kind == 0:
            existing.write(f"00u{i},Held{i}@example.com,held{i}@example.com,X,Y\n")
PY
# Compile the plugins into the cache first: the timed run measures rows, not compilation.
head -3 "$work/users.csv" > "$work/warm.csv"
"$bin" preview --plugins "$work/plugins" --users "$work/warm.csv" >/dev/null 2>&1
/usr/bin/time -f "%e s wall, %M KiB peak RSS" -o "$work/time" \
    "$bin" preview --plugins "$work/plugins" --users "$work/users.csv" \
    --existing "$work/existing.csv" --out "$work/report.jsonl" --state-path "$work/none.redb" \
    > "$work/summary" 2>"$work/stderr"
cat "$work/summary"
wall="$(cut -d' ' -f1 "$work/time")"
echo "rows: $rows  $(cat "$work/time")  $(python3 -c "print(f'{$rows / $wall:.0f} rows/s')")"
