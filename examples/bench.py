#!/usr/bin/env python3
"""Per-call cost of the login-middle-name strategy in each language and isolation mode.

    examples/bench.py --importhook target/release/importhook \
        rust=target/e2e-wasm/wasm32-unknown-unknown/release/login_middle_name.wasm \
        javascript=target/e2e-languages/login_middle_name_js.wasm \
        python=target/e2e-languages/login_middle_name_py.wasm

For each component and mode (`per-call`, `warm`) it starts `importhook serve --dev
--debug-timings` on 127.0.0.1 with that one plugin, sends --requests sequential hook calls
(a login conflict with a middle name: the plugin rewrites the login) on one keep-alive TLS
connection, and reads the plugin's own time from the response (`debugContext.plugins[].micros`:
instantiation, when per-call, plus the call). The first call is reported apart (per-call: the
same as the others; warm: it creates the instance). Standard library only.
"""

import argparse
import http.client
import json
import os
import re
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

SECRET = "bench-secret-Basic YmVuY2g6YmVuY2g="
ROOT = Path(__file__).resolve().parent.parent


def request_body() -> bytes:
    sample = json.loads((ROOT / "host/tests/okta-samples/request-reference-docs.json").read_text())
    sample["data"]["context"]["conflicts"] = ["login"]
    sample["data"]["appUser"]["profile"]["middleName"] = "Élodie"
    return json.dumps(sample).encode()


def serve(importhook: str, plugins: Path):
    env = dict(os.environ, IMPORTHOOK_SECRETS=SECRET, RUST_LOG="info")
    child = subprocess.Popen(
        [importhook, "serve", "--dev", "--debug-timings", "true", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--plugins", str(plugins)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
    )
    found = {}
    ready = threading.Event()

    def read():
        for line in child.stderr:
            match = re.search(r"listen=(\S+)", line)
            if match and "addr" not in found:
                found["addr"] = match.group(1)
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    started = time.monotonic()
    ready.wait(600)
    if "addr" not in found:
        child.kill()
        sys.exit(f"importhook did not start for {plugins}")
    return child, found["addr"], time.monotonic() - started


def measure(addr: str, body: bytes, count: int):
    host, port = addr.rsplit(":", 1)
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    connection = http.client.HTTPSConnection(host, int(port), context=context, timeout=30)
    micros, wall = [], []
    for _ in range(count):
        started = time.perf_counter()
        connection.request("POST", "/okta/import", body, {"authorization": SECRET, "content-type": "application/json"})
        response = connection.getresponse()
        answer = response.read()
        wall.append((time.perf_counter() - started) * 1e6)
        if response.status != 200:
            sys.exit(f"unexpected answer {response.status}: {answer[:300]!r}")
        plugin = json.loads(answer)["debugContext"]["plugins"][0]
        if plugin["outcome"] != "ok":
            sys.exit(f"plugin outcome {plugin['outcome']}")
        micros.append(plugin["micros"])
    connection.close()
    return micros, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--importhook", required=True)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("components", nargs="+", help="name=path.wasm")
    args = parser.parse_args()
    body = request_body()
    cache = Path(tempfile.mkdtemp(prefix="importhook-bench-cache-"))
    print(f"{'strategy':<12} {'mode':<9} {'first call':>11} {'median':>10} {'p90':>10} {'min':>10} {'request median':>15} {'start':>8}")
    try:
        for spec in args.components:
            name, path = spec.split("=", 1)
            for mode in ("per-call", "warm"):
                with tempfile.TemporaryDirectory(prefix="importhook-bench-") as folder:
                    shutil.copy(path, Path(folder, "30-login-middle-name.wasm"))
                    Path(folder, "30-login-middle-name.toml").write_text(f'instance = "{mode}"\ntimeout_ms = 2000\ngrants = ["directory"]\n')
                    # A shared compile cache: the first start of a component compiles it.
                    os.environ["IMPORTHOOK_CACHE_DIR"] = str(cache)
                    child, addr, start = serve(args.importhook, Path(folder))
                    try:
                        micros, wall = measure(addr, body, args.requests + 1)
                    finally:
                        child.terminate()
                        child.wait()
                first, rest = micros[0], micros[1:]
                rest.sort()
                print(
                    f"{name:<12} {mode:<9} {first / 1000:>9.2f}ms {statistics.median(rest) / 1000:>8.3f}ms "
                    f"{rest[int(len(rest) * 0.9)] / 1000:>8.3f}ms {rest[0] / 1000:>8.3f}ms "
                    f"{statistics.median(wall[1:]) / 1000:>13.3f}ms {start:>7.2f}s",
                    flush=True,
                )
    finally:
        shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    main()
