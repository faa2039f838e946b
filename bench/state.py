#!/usr/bin/env python3
"""State benchmark (issue #14): the counter strategy on each state backend against the same
pipeline without state, every request a new Okta event that needs a new number.

Targets, started once and measured in interleaved rounds at each concurrency (default 64):

- `counter-embedded`: login-counter-suffix on the embedded store (redb, durable commit before
  each answer, operations arriving together in one commit);
- `counter-redis`: the same on a local redis-server (unix socket, no persistence);
- `no-state`: login-middle-name alone: one plugin rewriting the conflicting login, no state.

After the runs each store's counter is read back with `importhook state get` and compared with
the answers wrk counted. Results: `bench/results/<stamp>-state/{results.json,summary.md}`.
Uses run.py's helpers (build, servers, wrk parsing); standard library only.

    python3 bench/state.py [--rounds 3] [--duration 10] [--concurrencies 64] [--no-build]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as bench  # noqa: E402  (run.py beside this file)

UNIQUE_EVENTS = bench.BENCH / "wrk" / "unique-events.lua"
COUNTER = ("login-counter-suffix", "login_counter_suffix.wasm")
MIDDLE = ("login-middle-name", "login_middle_name.wasm")
PLUGIN = "40-login-counter-suffix"
# Both examples check their proposal with a directory lookup: with no Okta org configured it
# answers `unknown` at once, the same for both sides.
COUNTER_MANIFEST = 'timeout_ms = 1000\non_error = "fail"\ngrants = ["state", "directory"]\n'
MIDDLE_MANIFEST = 'timeout_ms = 1000\non_error = "fail"\ngrants = ["directory"]\n'
TARGETS = ["counter-embedded", "counter-redis", "no-state"]


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--duration", type=int, default=10, help="seconds per run")
    p.add_argument("--concurrencies", type=bench._int_list, default=[64])
    p.add_argument("--threads", type=int, default=2, help="wrk threads")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--pause", type=float, default=1.0)
    p.add_argument("--no-build", action="store_true", help="use the binaries already built")
    p.add_argument("--keep-work", action="store_true")
    p.add_argument("--log-format", default="text")
    return p.parse_args(argv)


def build(skip: bool) -> dict[str, Path]:
    target = bench.cargo_target_dir()
    if not skip:
        for command in (
            ["cargo", "build", "--release", "--locked", "-p", "importhook"],
            ["cargo", "build", "--release", "--locked", "--target", "wasm32-unknown-unknown",
             "-p", COUNTER[0], "-p", MIDDLE[0]],
        ):
            bench.log(" ".join(command))
            if subprocess.run(command, cwd=bench.ROOT).returncode != 0:
                raise bench.BenchError("build failed (see the cargo output above)")
    return {"importhook": target / "release" / "importhook", "wasm": target / "wasm32-unknown-unknown" / "release"}


def server(setup: bench.Setup, name: str, state_args: list[str]) -> bench.Server:
    """An importhook with one plugin (the counter, or the middle name for `no-state`)."""
    root = setup.work / "servers" / name
    plugins = root / "plugins"
    plugins.mkdir(parents=True)
    if name == "no-state":
        shutil.copyfile(setup.paths["wasm"] / MIDDLE[1], plugins / "30-login-middle-name.wasm")
        (plugins / "30-login-middle-name.toml").write_text(MIDDLE_MANIFEST)
    else:
        shutil.copyfile(setup.paths["wasm"] / COUNTER[1], plugins / f"{PLUGIN}.wasm")
        (plugins / f"{PLUGIN}.toml").write_text(COUNTER_MANIFEST)
    for f in ("cert", "key"):
        shutil.copyfile(getattr(setup, f), root / f"{f}.pem")
    port, admin = bench.free_port(), bench.free_port()
    argv = [str(setup.paths["importhook"]), "serve", "--plugins", str(plugins),
            "--listen", f"127.0.0.1:{port}", "--admin-listen", f"127.0.0.1:{admin}",
            "--tls-cert", str(root / "cert.pem"), "--tls-key", str(root / "key.pem"),
            "--cache-dir", str(root / "cache"), "--log-format", setup.args.log_format, *state_args]
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMPORTHOOK_") and k != "RUST_LOG"}
    env["IMPORTHOOK_SECRETS"] = setup.secret
    return bench.Server(name, argv, env, setup.work / "logs" / f"{name}.log", port, admin)


def start_redis(work: Path) -> tuple[subprocess.Popen, str]:
    if not shutil.which("redis-server"):
        raise bench.BenchError("redis-server is not installed (Debian: apt-get install redis-server)")
    socket_path = work / "redis.sock"
    proc = subprocess.Popen(["redis-server", "--port", "0", "--unixsocket", str(socket_path),
                             "--unixsocketperm", "700", "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 20
    while not socket_path.exists():
        if time.monotonic() > deadline or proc.poll() is not None:
            raise bench.BenchError("redis-server did not start")
        time.sleep(0.05)
    return proc, f"redis+unix://{socket_path}"


def counter_value(binary: Path, store: list[str]) -> int | None:
    """The counter of the bench login, read the way an operator would."""
    out = subprocess.run([str(binary), "state", *store, "get", PLUGIN, "counter", "sally.admin@clouditude.net"],
                         capture_output=True, text=True)
    return int(out.stdout.strip()) if out.returncode == 0 else None


def measure(setup: bench.Setup, servers: dict[str, bench.Server]) -> list[dict]:
    args = setup.args
    original = bench.LUA_SCRIPT
    bench.LUA_SCRIPT = UNIQUE_EVENTS  # every request a new event
    try:
        runs = []
        for target, srv in servers.items():
            warm = bench.measured_run(srv, setup, 64, args.warmup, count_statuses=True)
            warm["round"] = 0  # warm-up: counted against the store, not in the summary
            runs.append(warm)
            bench.log(f"warm-up  {bench.describe(warm)}")
        for conns in args.concurrencies:
            for round_no in range(1, args.rounds + 1):
                for target, srv in servers.items():
                    time.sleep(args.pause)
                    run = bench.measured_run(srv, setup, conns, args.duration, count_statuses=True)
                    run["round"] = round_no
                    runs.append(run)
                    bench.log(f"[c={conns} round {round_no}/{args.rounds}] {bench.describe(run)} statuses {run.get('statuses')}")
        return runs
    finally:
        bench.LUA_SCRIPT = original


def summarize(runs: list[dict], concurrencies: list[int]) -> list[dict]:
    rows = []
    for conns in concurrencies:
        medians = {}
        for target in TARGETS:
            mine = [r for r in runs if r["target"] == target and r["conns"] == conns and r["round"] > 0]
            if not mine:
                continue
            medians[target] = {
                "rps": statistics.median(r["rps"] for r in mine),
                "p99_ms": statistics.median(r["latency_ms"]["p99"] for r in mine),
                "cpu_s_per_1k": statistics.median(r["cpu_s_per_1k"] for r in mine),
                "errors": sum(r["errors"] for r in mine),
                "statuses": [r.get("statuses") for r in mine],
            }
        base = medians.get("no-state", {}).get("rps")
        for target, m in medians.items():
            m["throughput_vs_no_state"] = m["rps"] / base if base else None
            rows.append({"target": target, "conns": conns, **m})
    return rows


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    work = bench.WORK_ROOT / f"{stamp}-state"
    out = bench.RESULTS_ROOT / f"{stamp}-state"
    work.mkdir(parents=True)
    bench.ensure_wrk()
    paths = build(args.no_build)
    cert, key = bench.make_certificate(work)
    ca = work / "ca.pem"
    shutil.copyfile(cert, ca)
    setup = bench.Setup(paths=paths, cert=cert, key=key, ca=ca, secret=os.urandom(24).hex(), work=work, args=args)
    redis, url = start_redis(work)
    state_file = work / "state.redb"
    stores = {"counter-embedded": ["--state-path", str(state_file)], "counter-redis": ["--state-url", url]}
    servers = {name: server(setup, name, stores.get(name, [])) for name in TARGETS}
    try:
        for srv in servers.values():
            srv.start()
            srv.wait_ready(ca, setup.secret)
            status, body = bench.hook_request(srv.port, ca, setup.secret)
            bench.log(f"{srv.name}: answers {status} {body[:160]!r}")
            if status != 200:
                raise bench.BenchError(f"{srv.name} answered {status}")
        runs = measure(setup, servers)
        peak = {t: s.peak_rss_kib() for t, s in servers.items()}
    finally:
        for srv in servers.values():
            srv.stop()
    # Every 200 answer handed out one number, and so did the start-up check request; a number
    # handed out for a request wrk gave up on (a timeout) would make the counter larger.
    answered = {t: 1 + sum(r.get("statuses", {}).get("200", 0) for r in runs if r["target"] == t)
                for t in stores}
    warmups = "warm-ups and the start-up check included"
    counters = {t: counter_value(paths["importhook"], store) for t, store in stores.items()}
    redis.terminate()
    redis.wait(timeout=10)
    results = {
        "started_utc": stamp,
        "machine": bench.machine_info(),
        "settings": {"rounds": args.rounds, "duration": args.duration, "concurrencies": args.concurrencies,
                     "threads": args.threads, "manifest": COUNTER_MANIFEST, "note": warmups},
        "runs": [{k: v for k, v in r.items() if k != "wrk_output"} for r in runs],
        "summary": summarize(runs, args.concurrencies),
        "peak_rss_kib": peak,
        "answered_200": answered,
        "counter_after": counters,
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    lines = [f"# State benchmark {stamp}", "", f"{args.rounds} rounds x {args.duration} s, every request a new event; "
             "medians over rounds.", "", "| target | conns | req/s | vs no-state | p99 ms | CPU s/1k req | errors |",
             "|---|---|---|---|---|---|---|"]
    for row in results["summary"]:
        ratio = row["throughput_vs_no_state"]
        lines.append(f"| {row['target']} | {row['conns']} | {row['rps']:.0f} | {ratio:.2f}x | {row['p99_ms']:.1f} | "
                     f"{row['cpu_s_per_1k']:.3f} | {row['errors']} |")
    in_flight = {t: len([r for r in runs if r["target"] == t]) * max(args.concurrencies + [64]) for t in stores}
    lines += ["", f"Counter after the runs (`importhook state get`): {counters}; 200 answers wrk read: {answered} "
              f"({warmups}). The counter may exceed the answers by the requests still in flight when wrk "
              f"stopped each run (at most {in_flight}), whose answers wrk never read."]
    results["max_unread_in_flight"] = in_flight
    summary = "\n".join(lines)
    (out / "summary.md").write_text(summary + "\n")
    print(summary)
    if not args.keep_work:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except bench.BenchError as e:
        bench.log(f"FAILED: {e}")
        sys.exit(2)
    finally:
        bench.stop_all()
