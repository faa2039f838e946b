#!/usr/bin/env python3
"""HTTP benchmark of importhook (issue #6): one command, everything on 127.0.0.1.

Builds the release binaries and the example wasm plugins, makes a self-signed certificate,
starts the servers, drives them with wrk, and writes
`bench/results/<UTC timestamp>/{results.json,summary.md}`. Scenarios:

- comparison: importhook with 3 plugins, importhook with none, the native limit (same
  strategies compiled in), a plain native service written apart from importhook and two
  Node.js peers, interleaved, at several concurrencies, ending with the ratios every change is
  judged by (`summary_ratios`);
- rss10: peak memory of importhook with 10 plugins under load;
- coldstart: time from spawn to ready with 10 plugins, empty and warm compile cache;
- reload: plugin reloads (SIGHUP and file changes) under load.

See bench/README.md for what each number means. Standard library only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
REQUEST_FILE = BENCH / "request.json"
LUA_SCRIPT = BENCH / "wrk" / "post.lua"
# The Node.js peers: the lean service a guide leads to, and a second one written apart from it
# to check it (their CPU per request should agree; see bench/README.md).
NODE_SERVERS = {
    "node-peer": BENCH / "node-peer" / "server.js",
    "node-peer-check": BENCH / "node-peer-check" / "server.mjs",
}
WORK_ROOT = BENCH / ".work"
RESULTS_ROOT = BENCH / "results"

HOOK_PATH = "/okta/import"
EXPECTED_COMMANDS = [
    {
        "type": "com.okta.user.profile.update",
        "value": {"login": "sally.elizabeth.admin@clouditude.net"},
    }
]
# (file stem in the plugins folder, cargo package, wasm file name), in running order.
PLUGINS = [
    ("normalize-login", "normalize-login", "normalize_login.wasm"),
    ("link-single-match", "link-single-match", "link_single_match.wasm"),
    ("login-middle-name", "login-middle-name", "login_middle_name.wasm"),
]
# The extra comparison target of `--baseline`.
BASELINE = "baseline-3-plugins"
ALL_TARGETS = ["importhook-3-plugins", "importhook-3-warm", "importhook-3-noop", "importhook-no-plugins",
               "native-limit", "native-plain", "node-peer", "node-peer-check"]
# Targets run by the importhook binary (the others: the two native services and the Node.js peers).
IMPORTHOOK_TARGETS = {"importhook-3-plugins", "importhook-3-warm", "importhook-3-noop", "importhook-no-plugins",
                      BASELINE}
# The importhook targets that load wasm plugins (the others need no wasm built).
PLUGIN_TARGETS = IMPORTHOOK_TARGETS - {"importhook-no-plugins"}
# A manifest for every plugin of a warm target: instances kept between calls.
WARM_MANIFEST = 'instance = "warm"\n'

NOOP_WASM = "importhook_noop_plugin.wasm"
ALL_SCENARIOS = ["micro", "comparison", "rss10", "coldstart", "reload"]
CLK_TCK = os.sysconf("SC_CLK_TCK")

# Defaults, and the --quick preset (a smoke run of a minute or two).
DEFAULTS = {
    "rounds": 3,
    "duration": 10,
    "concurrencies": [16, 64, 256],
    "warmup": 3,
    "cold_reps": 5,
    "reload_duration": 20,
    "pause": 1.0,
}
QUICK = {
    "rounds": 1,
    "duration": 3,
    "concurrencies": [64],
    "warmup": 1,
    "cold_reps": 2,
    "reload_duration": 6,
    "pause": 0.5,
}


class BenchError(Exception):
    """A failure that stops the benchmark (build, start-up, wrong answer, wrk failure)."""


def log(message: str) -> None:
    """Progress line on stderr (stdout gets only the final summary)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Command line


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Flags; unset ones take the --quick preset or the defaults."""
    p = argparse.ArgumentParser(
        prog="bench/run.sh",
        description="HTTP benchmark of importhook against the native limit and a Node.js peer.",
    )
    p.add_argument("--quick", action="store_true",
                   help="smoke-run preset: 1 round of 3 s at 64 connections, 2 cold starts, 6 s reload run")
    p.add_argument("--rounds", type=int, help="interleaved rounds per concurrency [3]")
    p.add_argument("--duration", type=int, help="seconds per wrk run (whole seconds, as wrk takes them) [10]")
    p.add_argument("--concurrencies", type=_int_list, help="wrk connections, comma-separated [16,64,256]")
    p.add_argument("--targets", type=_target_list, default=list(ALL_TARGETS),
                   help=f"comparison targets, comma-separated [{','.join(ALL_TARGETS)}]")
    p.add_argument("--scenarios", type=_scenario_list, default=list(ALL_SCENARIOS),
                   help=f"scenarios to run, comma-separated [{','.join(ALL_SCENARIOS)}]")
    p.add_argument("--warmup", type=int, help="seconds of the warm-up run of each server [3]")
    p.add_argument("--pause", type=float, help="seconds of rest between two wrk runs [1]")
    p.add_argument("--cold-reps", type=int, help="cold-start repetitions, each cache state [5]")
    p.add_argument("--reload-duration", type=int, help="seconds of each reload-scenario run [20]")
    p.add_argument("--threads", type=int, default=2, help="wrk threads [2]")
    p.add_argument("--node-workers", type=int, default=2, help="cluster workers of the Node.js peer [2]")
    p.add_argument("--log-format", choices=["text", "json"], default="text",
                   help="log format of the Rust servers (one line per request) [text]")
    p.add_argument("--count-statuses", action="store_true",
                   help="count every response status in the comparison runs too (costs wrk CPU)")
    p.add_argument("--no-build", action="store_true",
                   help="use the binaries and wasm files already in target/ (development only)")
    p.add_argument("--importhook-bin", type=Path,
                   help="run this importhook binary instead of building one (say, a copy out of a "
                        "shared target folder that others rebuild)")
    p.add_argument("--native-bin", type=Path,
                   help="run this importhook-native-limit binary instead of building one")
    p.add_argument("--native-plain-bin", type=Path,
                   help="run this importhook-native-plain binary instead of building one")
    p.add_argument("--wasm-dir", type=Path,
                   help="take the example and no-op plugins (*.wasm) from this folder instead of building them")
    p.add_argument("--keep-work", action="store_true",
                   help="keep bench/.work/<run>/ (certificate, caches, server logs) after a successful run")
    p.add_argument("--out", type=Path, help="results folder [bench/results/<UTC timestamp>]")
    p.add_argument("--baseline", type=Path,
                   help="another importhook binary (say, built from an earlier commit): the comparison "
                        f"then also runs it as target {BASELINE}, with the same three plugins, "
                        "interleaved with the others, and gives importhook-3-plugins / baseline")
    args = p.parse_args(argv)
    preset = QUICK if args.quick else DEFAULTS
    for key, value in preset.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if min(args.rounds, args.duration, args.warmup, args.reload_duration, args.cold_reps, args.threads) < 1:
        p.error("rounds, durations, cold-reps and threads must be at least 1")
    if any(c < args.threads for c in args.concurrencies):
        p.error("wrk needs at least as many connections as threads")
    if args.baseline is not None:
        if not os.access(args.baseline, os.X_OK) or not args.baseline.is_file():
            p.error(f"--baseline {args.baseline}: not an executable file")
        args.baseline = args.baseline.resolve()
        args.targets = [BASELINE] + [t for t in args.targets if t != BASELINE]
    for flag in ("importhook_bin", "native_bin", "native_plain_bin"):
        path = getattr(args, flag)
        if path is not None:
            if not os.access(path, os.X_OK) or not path.is_file():
                p.error(f"--{flag.replace('_', '-')} {path}: not an executable file")
            setattr(args, flag, path.resolve())
    if args.wasm_dir is not None:
        if not args.wasm_dir.is_dir():
            p.error(f"--wasm-dir {args.wasm_dir}: not a folder")
        args.wasm_dir = args.wasm_dir.resolve()
    return args


def _int_list(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def _names_from(known: list[str], what: str):
    """An argparse type: a comma-separated list of names, each one of `known`."""
    def parse(text: str) -> list[str]:
        names = [x.strip() for x in text.split(",") if x.strip()]
        unknown = [n for n in names if n not in known]
        if unknown:
            raise argparse.ArgumentTypeError(f"unknown {what}(s) {unknown}; known: {known}")
        return names
    return parse


_target_list = _names_from(ALL_TARGETS, "target")
_scenario_list = _names_from(ALL_SCENARIOS, "scenario")


# --------------------------------------------------------------------------------------------
# Preparation: tools, build, certificate, plugin folders


def ensure_wrk() -> None:
    """Installs Debian's wrk when it is missing."""
    if shutil.which("wrk"):
        return
    log("wrk not found: apt-get install -y wrk")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if subprocess.run(sudo + ["apt-get", "install", "-y", "wrk"], env=env).returncode != 0:
        subprocess.run(sudo + ["apt-get", "update"], env=env, check=True)
        subprocess.run(sudo + ["apt-get", "install", "-y", "wrk"], env=env, check=True)
    if not shutil.which("wrk"):
        raise BenchError("wrk is still missing after apt-get install")


def cargo_target_dir() -> Path:
    """Cargo's target folder (honours CARGO_TARGET_DIR and .cargo/config)."""
    out = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps", "--locked"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    return Path(json.loads(out)["target_directory"])


def needs(args: argparse.Namespace) -> dict[str, bool]:
    """Which build outputs the chosen scenarios and targets use: the importhook binary, the wasm
    plugins (for a target or scenario that loads plugins), the native limit, the plain native
    service."""
    comparison = "comparison" in args.scenarios
    others = any(s in args.scenarios for s in ("rss10", "coldstart", "reload"))
    importhook = others or (comparison and any(t in IMPORTHOOK_TARGETS for t in args.targets))
    wasm = others or (comparison and any(t in PLUGIN_TARGETS for t in args.targets))
    return {"importhook": importhook, "wasm": wasm,
            "native": comparison and "native-limit" in args.targets,
            "native_plain": comparison and "native-plain" in args.targets}


def build(args: argparse.Namespace) -> dict[str, Path]:
    """Release builds of what the run needs (`needs`) and was not given by a flag
    (`--importhook-bin`, `--native-bin`, `--native-plain-bin`, `--wasm-dir`); nothing with
    `--no-build`.

    Returns the paths of the `importhook`, `importhook-native-limit` and
    `importhook-native-plain` binaries and of the folder of the wasm plugins. A failed build or
    a missing output raises.
    """
    need = needs(args)
    given = (args.importhook_bin, args.native_bin, args.native_plain_bin, args.wasm_dir)
    target = cargo_target_dir() if not all(given) else None
    paths = {
        "importhook": args.importhook_bin or (target and target / "release" / "importhook"),
        "native-limit": args.native_bin or (target and target / "release" / "importhook-native-limit"),
        "native-plain": args.native_plain_bin or (target and target / "release" / "importhook-native-plain"),
        "wasm": args.wasm_dir or (target and target / "wasm32-unknown-unknown" / "release"),
    }
    if not args.no_build:
        steps = []
        if need["importhook"] and not args.importhook_bin:
            steps.append((["cargo", "build", "--release", "--locked", "-p", "importhook"], "importhook"))
        if need["native"] and not args.native_bin:
            steps.append((["cargo", "build", "--release", "--locked", "-p", "importhook-native-limit"],
                          "importhook-native-limit"))
        if need["native_plain"] and not args.native_plain_bin:
            steps.append((["cargo", "build", "--release", "--locked", "-p", "importhook-native-plain"],
                          "importhook-native-plain"))
        if need["wasm"] and not args.wasm_dir:
            subprocess.run(["rustup", "target", "add", "wasm32-unknown-unknown"], cwd=ROOT,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wasm = ["cargo", "build", "--release", "--locked", "--target", "wasm32-unknown-unknown"]
            for _, package, _ in PLUGINS:
                wasm += ["-p", package]
            # The no-op plugin: the floor of one isolated call in the micro-benchmark.
            wasm += ["-p", "importhook-noop-plugin"]
            steps.append((wasm, "the example plugins (wasm32-unknown-unknown)"))
        for command, what in steps:
            log(f"building {what}: {' '.join(command)}")
            if subprocess.run(command, cwd=ROOT).returncode != 0:
                raise BenchError(f"building {what} failed (see the cargo output above)")
    required = []
    if need["importhook"]:
        required.append(paths["importhook"])
    if need["wasm"]:
        required += [paths["wasm"] / NOOP_WASM] + [paths["wasm"] / f for _, _, f in PLUGINS]
    if need["native"]:
        required.append(paths["native-limit"])
    if need["native_plain"]:
        required.append(paths["native-plain"])
    missing = [str(p) for p in required if not p.exists()]
    if missing:
        raise BenchError(f"missing build output: {missing}")
    for name, path in paths.items():
        if path is not None:
            log(f"{name}: {path}")
    return paths


def make_certificate(work: Path) -> tuple[Path, Path]:
    """A self-signed ECDSA P-256 certificate for localhost and 127.0.0.1, shared by all servers
    (each gets its own copy of the files: see `server_home`)."""
    (work / "tls").mkdir(parents=True, exist_ok=True)
    cert, key = work / "tls" / "cert.pem", work / "tls" / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "7", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    return cert, key


def plugin_folder(folder: Path, wasm_dir: Path, count: int, noop: bool = False,
                  manifest: str | None = None) -> Path:
    """A plugins folder of `count` plugins, cycling through the three examples in order (or
    `count` copies of the no-op plugin), each with `manifest` as its manifest if given.

    Three plugins are named like scripts/dev.sh does (10-normalize-login.wasm, ...); other
    counts are numbered 01-, 02-, ... so that the file-name order is the cycle order.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        stem, _, wasm = PLUGINS[i % len(PLUGINS)]
        if noop:
            stem, wasm = f"noop-{i + 1}", NOOP_WASM
        name = f"{(i + 1) * 10}-{stem}.wasm" if count == 3 else f"{i + 1:02d}-{stem}.wasm"
        shutil.copyfile(wasm_dir / wasm, folder / name)
        # The middle-name strategy checks its proposal in the directory (no org here: unknown).
        grants = 'grants = ["directory"]\n' if not noop and stem == "login-middle-name" else ""
        if manifest is not None or grants:
            (folder / name).with_suffix(".toml").write_text(grants + (manifest or ""))
    return folder


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------------------------
# /proc: CPU time and peak memory of a process tree


def process_tree(root: int) -> list[int]:
    """`root` and all its descendants (Node's cluster workers are children of the primary)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of the processes (all their threads), in seconds."""
    ticks = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        # Fields 14 and 15 of proc(5); `fields` starts at field 3 (state).
        ticks += int(fields[11]) + int(fields[12])
    return ticks / CLK_TCK


def status_kib(pids: list[int], key: str) -> int:
    """Sum of one `/proc/<pid>/status` memory line (VmHWM, VmRSS) over the processes, in KiB."""
    total = 0
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        match = re.search(rf"^{key}:\s+(\d+) kB", text, re.M)
        if match:
            total += int(match.group(1))
    return total


# --------------------------------------------------------------------------------------------
# Servers


@dataclass(eq=False)
class Server:
    """One server process (and its children), started in its own process group."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    port: int
    admin_port: int | None  # None: no admin listener (the Node peer)
    proc: subprocess.Popen | None = None
    started_at: float = 0.0
    _log_file: object = None

    def start(self) -> None:
        """Spawns the server; output goes to its log file."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = open(self.log_path, "ab")
        self.started_at = time.perf_counter()
        self.proc = subprocess.Popen(
            self.argv, env=self.env, cwd=ROOT, stdin=subprocess.DEVNULL,
            stdout=self._log_file, stderr=subprocess.STDOUT, start_new_session=True,
        )
        RUNNING.append(self)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}{HOOK_PATH}"

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def check_alive(self) -> None:
        """Raises with the end of the log when the server has exited."""
        if not self.alive():
            code = self.proc.returncode if self.proc else None
            raise BenchError(f"{self.name} exited (code {code}); end of {self.log_path}:\n{tail(self.log_path)}")

    def tree(self) -> list[int]:
        return process_tree(self.pid)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.tree())

    def peak_rss_kib(self) -> int:
        """VmHWM summed over the process tree."""
        return status_kib(self.tree(), "VmHWM")

    def readyz(self, timeout: float = 0.5) -> int | None:
        """Status of GET /readyz on the admin listener, or None when it does not answer."""
        conn = http.client.HTTPConnection("127.0.0.1", self.admin_port, timeout=timeout)
        try:
            conn.request("GET", "/readyz")
            return conn.getresponse().status
        except OSError:
            return None
        finally:
            conn.close()

    def wait_ready(self, ca: Path, secret: str, timeout: float = 180.0, poll: float = 0.01) -> float:
        """Waits until /readyz answers 200 (Rust servers) or a hook request gets any HTTP
        answer (the Node peer). Returns the seconds since spawn."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            if self.admin_port is not None:
                if self.readyz() == 200:
                    return time.perf_counter() - self.started_at
            else:
                try:
                    hook_request(self.port, ca, secret)
                    return time.perf_counter() - self.started_at
                except OSError:
                    pass
            time.sleep(poll)
        raise BenchError(f"{self.name} not ready after {timeout:.0f} s; end of {self.log_path}:\n{tail(self.log_path)}")

    def metrics(self) -> str:
        """The Prometheus text of /metrics."""
        conn = http.client.HTTPConnection("127.0.0.1", self.admin_port, timeout=5)
        try:
            conn.request("GET", "/metrics")
            response = conn.getresponse()
            return response.read().decode()
        finally:
            conn.close()

    def stop(self) -> None:
        """SIGTERM to the process group, SIGKILL after 15 s; reaps the process."""
        if self.proc is None:
            return
        for sig, wait in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(timeout=wait)
                # The leader is gone; make sure no worker outlives it.
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                break
            except subprocess.TimeoutExpired:
                continue
        if self.proc.poll() is None:
            self.proc.wait(timeout=5)
        if self._log_file:
            self._log_file.close()
        if self in RUNNING:
            RUNNING.remove(self)


RUNNING: list[Server] = []


def stop_all() -> None:
    """Stops every server still running (normal end, exception or Ctrl-C)."""
    for server in list(RUNNING):
        try:
            server.stop()
        except Exception as e:  # keep stopping the others
            log(f"could not stop {server.name}: {e}")


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@dataclass
class Setup:
    """What every scenario needs: binaries, certificate, secret, work folder."""

    paths: dict[str, Path]
    cert: Path
    key: Path
    ca: Path  # copy of the certificate that only the runner reads, to verify the servers
    secret: str
    work: Path
    args: argparse.Namespace


def server_home(setup: Setup, home: str, plugins: int, noop: bool = False,
                manifest: str | None = None) -> dict[str, Path]:
    """`.work/<run>/servers/<home>/`: the server's own plugins folder (`plugins` example
    plugins), compile cache and copy of the certificate and key; made on first use, reused
    after (the warm cold-start reuses the cache of the empty one).

    Nothing is shared between servers on purpose: importhook reloads when a watched file (a
    plugin, the certificate or key) is touched, and reading one counts, so a server must
    never watch files that another server or the runner reads.
    """
    root = setup.work / "servers" / home
    paths = {"root": root, "plugins": root / "plugins", "cache": root / "cache",
             "cert": root / "cert.pem", "key": root / "key.pem"}
    if not root.exists():
        plugin_folder(paths["plugins"], setup.paths["wasm"], plugins, noop, manifest)
        paths["cache"].mkdir()
        shutil.copyfile(setup.cert, paths["cert"])
        shutil.copyfile(setup.key, paths["key"])
    return paths


def rust_server(setup: Setup, name: str, binary: Path, plugins: int, home: str | None = None,
                noop: bool = False, manifest: str | None = None) -> Server:
    """An importhook-style server (importhook or the native limit) on fresh ports, with
    `plugins` example plugins (or no-op plugins) in its own folder, each with `manifest` (see
    `server_home`; `home` defaults to `name`)."""
    files = server_home(setup, home or name, plugins, noop, manifest)
    port, admin = free_port(), free_port()
    argv = [
        str(binary), "serve",
        "--plugins", str(files["plugins"]),
        "--listen", f"127.0.0.1:{port}",
        "--admin-listen", f"127.0.0.1:{admin}",
        "--tls-cert", str(files["cert"]),
        "--tls-key", str(files["key"]),
        "--cache-dir", str(files["cache"]),
        "--log-format", setup.args.log_format,
    ]
    if plugins == 0:
        # Ready (`/readyz`) with an empty plugin set only when told so.
        argv += ["--allow-no-plugins", "true"]
    # Only the settings above: no stray IMPORTHOOK_* or RUST_LOG from the caller's shell.
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMPORTHOOK_") and k != "RUST_LOG"}
    env["IMPORTHOOK_SECRETS"] = setup.secret
    return Server(name, argv, env, setup.work / "logs" / f"{name}.log", port, admin)


def node_server(setup: Setup, name: str = "node-peer") -> Server:
    """A Node.js peer (`NODE_SERVERS`) with --node-workers cluster workers."""
    files = server_home(setup, name, 0)
    port = free_port()
    env = dict(os.environ)
    env.update(PORT=str(port), HOST="127.0.0.1", TLS_CERT=str(files["cert"]), TLS_KEY=str(files["key"]),
               HOOK_SECRET=setup.secret, WORKERS=str(setup.args.node_workers))
    return Server(name, ["node", str(NODE_SERVERS[name])], env, setup.work / "logs" / f"{name}.log", port, None)


def native_plain_server(setup: Setup, name: str = "native-plain") -> Server:
    """The plain native service: the Node.js peers' options (env vars), one tokio worker per
    core (its default)."""
    files = server_home(setup, name, 0)
    port = free_port()
    env = dict(os.environ)
    env.update(PORT=str(port), HOST="127.0.0.1", TLS_CERT=str(files["cert"]), TLS_KEY=str(files["key"]),
               HOOK_SECRET=setup.secret)
    return Server(name, [str(setup.paths["native-plain"])], env, setup.work / "logs" / f"{name}.log", port, None)


def comparison_server(setup: Setup, target: str) -> Server:
    """The server of one comparison target."""
    if target == "importhook-3-plugins":
        return rust_server(setup, target, setup.paths["importhook"], 3)
    if target == "importhook-3-warm":
        return rust_server(setup, target, setup.paths["importhook"], 3, manifest=WARM_MANIFEST)
    if target == "importhook-3-noop":
        return rust_server(setup, target, setup.paths["importhook"], 3, noop=True)
    if target == "importhook-no-plugins":
        return rust_server(setup, target, setup.paths["importhook"], 0)
    if target == "native-limit":
        # It runs its strategies natively and ignores the plugins folder: give it an empty one.
        return rust_server(setup, target, setup.paths["native-limit"], 0)
    if target == "native-plain":
        return native_plain_server(setup, target)
    if target in NODE_SERVERS:
        return node_server(setup, target)
    if target == BASELINE:
        return rust_server(setup, target, setup.args.baseline, 3)
    raise ValueError(target)


def expected_status(target: str) -> int:
    return 204 if target in ("importhook-no-plugins", "importhook-3-noop") else 200


def hook_request(port: int, ca: Path, secret: str) -> tuple[int, bytes]:
    """POSTs the bench request once over verified TLS; returns status and body."""
    context = ssl.create_default_context(cafile=str(ca))
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=5)
    try:
        conn.request("POST", HOOK_PATH, body=REQUEST_FILE.read_bytes(),
                     headers={"Authorization": secret, "Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def check_answer(server: Server, setup: Setup, status: int) -> dict:
    """Asserts the server answers the bench request as expected: `status`, and for 200 exactly
    the login update to sally.elizabeth.admin@clouditude.net (extra keys such as importhook's
    debugContext are allowed). Returns what was seen, for results.json."""
    got, body = hook_request(server.port, setup.ca, setup.secret)
    seen = {"status": got, "body": body.decode(errors="replace")}
    if got != status:
        raise BenchError(f"{server.name}: expected status {status}, got {got}: {seen['body'][:500]}")
    if status == 200:
        commands = json.loads(body).get("commands")
        if commands != EXPECTED_COMMANDS:
            raise BenchError(f"{server.name}: unexpected commands {commands}")
    return seen


def start_and_check(server: Server, setup: Setup, status: int) -> dict:
    """Starts a server, waits until it is ready and checks its answer."""
    server.start()
    ready_s = server.wait_ready(setup.ca, setup.secret)
    answer = check_answer(server, setup, status)
    log(f"{server.name}: ready in {ready_s:.2f} s (pid {server.pid}, port {server.port}), answers {answer['status']}")
    return {"ready_s": ready_s, "answer": answer, "peak_rss_kib_at_ready": server.peak_rss_kib()}


# --------------------------------------------------------------------------------------------
# wrk


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def to_ms(value: str, unit: str) -> float:
    """A wrk time (`812.00us`, `1.23ms`, `2.00s`) in milliseconds."""
    return float(value) * _UNITS[unit]


def parse_wrk(text: str) -> dict:
    """The numbers of one `wrk --latency` output (plus post.lua's status line, if any)."""
    def search(pattern: str) -> re.Match | None:
        return re.search(pattern, text, re.M)

    done = search(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h),")
    rps = search(r"^Requests/sec:\s+([\d.]+)")
    if not done or not rps:
        raise BenchError(f"cannot parse wrk output:\n{text}")
    result = {
        "requests": int(done.group(1)),
        "wrk_duration_s": to_ms(done.group(2), done.group(3)) / 1e3,
        "rps": float(rps.group(1)),
        "latency_ms": {},
        "socket_errors": {"connect": 0, "read": 0, "write": 0, "timeout": 0},
        "non_2xx_3xx": 0,
    }
    stats = search(r"^\s+Latency\s+([\d.]+)(us|ms|s|m|h)\s+([\d.]+)(us|ms|s|m|h)\s+([\d.]+)(us|ms|s|m|h)")
    if stats:
        result["latency_ms"]["avg"] = to_ms(stats.group(1), stats.group(2))
        result["latency_ms"]["max"] = to_ms(stats.group(5), stats.group(6))
    for pct, value, unit in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m|h)\s*$", text, re.M):
        result["latency_ms"][f"p{pct}"] = to_ms(value, unit)
    if "p50" not in result["latency_ms"] or "p99" not in result["latency_ms"]:
        raise BenchError(f"no latency distribution in wrk output (was --latency given?):\n{text}")
    errors = search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
    if errors:
        result["socket_errors"] = dict(zip(("connect", "read", "write", "timeout"), map(int, errors.groups())))
    non2xx = search(r"Non-2xx or 3xx responses: (\d+)")
    if non2xx:
        result["non_2xx_3xx"] = int(non2xx.group(1))
    statuses = search(r"^bench-statuses: (\{.*\})$")
    if statuses:
        result["statuses"] = json.loads(statuses.group(1))
    result["errors"] = sum(result["socket_errors"].values()) + result["non_2xx_3xx"]
    return result


def wrk_command(server: Server, conns: int, duration: int, threads: int) -> list[str]:
    return ["wrk", f"-t{threads}", f"-c{conns}", f"-d{duration}s", "--latency",
            "-s", str(LUA_SCRIPT), server.url()]


def wrk_env(setup: Setup, count_statuses: bool) -> dict[str, str]:
    env = dict(os.environ, BENCH_BODY=str(REQUEST_FILE), BENCH_SECRET=setup.secret)
    env.pop("BENCH_COUNT_STATUS", None)
    if count_statuses:
        env["BENCH_COUNT_STATUS"] = "1"
    return env


def measured_run(server: Server, setup: Setup, conns: int, duration: int,
                 count_statuses: bool = False, during=None) -> dict:
    """One wrk run against `server`, with the server's CPU time (whole process tree) and
    wrk's own CPU time around it. `during(popen)` (optional) runs while wrk does."""
    server.check_alive()
    command = wrk_command(server, conns, duration, setup.args.threads)
    pids = server.tree()
    cpu_before = cpu_seconds(pids)
    wrk_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    wrk = subprocess.Popen(command, cwd=ROOT, env=wrk_env(setup, count_statuses),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        events = during(wrk, started) if during else None
        output, _ = wrk.communicate(timeout=duration + 60)
    finally:
        if wrk.poll() is None:
            wrk.kill()
            wrk.wait()
    wall = time.perf_counter() - started
    # Children forked during the run (a replaced Node worker) count from their start.
    cpu_after = cpu_seconds(sorted(set(pids) | set(server.tree())))
    wrk_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if wrk.returncode != 0:
        raise BenchError(f"wrk failed (code {wrk.returncode}) against {server.name}:\n{output}")
    server.check_alive()
    result = parse_wrk(output)
    cpu = cpu_after - cpu_before
    result.update(
        target=server.name,
        conns=conns,
        duration_s=duration,
        wall_s=wall,
        server_cpu_s=cpu,
        server_cores=cpu / wall,
        cpu_s_per_1k=cpu / result["requests"] * 1000 if result["requests"] else None,
        wrk_cpu_s=(wrk_after.ru_utime - wrk_before.ru_utime) + (wrk_after.ru_stime - wrk_before.ru_stime),
        wrk_output=output,
    )
    if events is not None:
        result["events"] = events
    return result


def describe(run: dict) -> str:
    """One progress line for a run."""
    lat = run["latency_ms"]
    cpu = run["cpu_s_per_1k"]
    return (f"{run['target']:<22} c={run['conns']:<4} {run['rps']:>9.0f} req/s  p50 {lat['p50']:7.2f} ms  "
            f"p99 {lat['p99']:7.2f} ms  errors {run['errors']}  CPU {cpu if cpu is None else f'{cpu:.3f}'} s/1k")


# --------------------------------------------------------------------------------------------
# Scenarios


def scenario_comparison(setup: Setup) -> dict:
    """All targets started once, warmed up, then interleaved rounds at each concurrency."""
    args = setup.args
    servers = {t: comparison_server(setup, t) for t in args.targets}
    startup = {}
    try:
        for target, server in servers.items():
            startup[target] = start_and_check(server, setup, expected_status(target))
        for target, server in servers.items():
            warm = measured_run(server, setup, 64, args.warmup)
            log(f"warm-up  {describe(warm)}")
        runs = []
        for conns in args.concurrencies:
            for round_no in range(1, args.rounds + 1):
                for target, server in servers.items():
                    time.sleep(args.pause)
                    run = measured_run(server, setup, conns, args.duration, args.count_statuses)
                    run["round"] = round_no
                    runs.append(run)
                    log(f"[c={conns} round {round_no}/{args.rounds}] {describe(run)}")
        peak = {t: s.peak_rss_kib() for t, s in servers.items()}
        processes = {t: len(s.tree()) for t, s in servers.items()}
        reloads = {t: unexpected_reloads(s) for t, s in servers.items() if s.admin_port is not None}
    finally:
        for server in servers.values():
            server.stop()
    return {
        "startup": startup,
        "runs": runs,
        "peak_rss_kib": peak,
        "processes": processes,
        "unexpected_reloads": {t: r for t, r in reloads.items() if r},
        "aggregates": aggregate(runs, peak),
        "ratios": ratios(runs, args.concurrencies),
        "summary_ratios": summary_ratios(runs, args.concurrencies),
    }


def aggregate(runs: list[dict], peak: dict[str, int]) -> list[dict]:
    """Median over rounds per (target, concurrency), in run order."""
    groups: dict[tuple[str, int], list[dict]] = {}
    for run in runs:
        groups.setdefault((run["target"], run["conns"]), []).append(run)
    rows = []
    for (target, conns), group in groups.items():
        cpu = [r["cpu_s_per_1k"] for r in group if r["cpu_s_per_1k"] is not None]
        rows.append({
            "target": target,
            "conns": conns,
            "rounds": len(group),
            "rps": statistics.median(r["rps"] for r in group),
            "p50_ms": statistics.median(r["latency_ms"]["p50"] for r in group),
            "p99_ms": statistics.median(r["latency_ms"]["p99"] for r in group),
            "cpu_s_per_1k": statistics.median(cpu) if cpu else None,
            "server_cores": statistics.median(r["server_cores"] for r in group),
            "errors": sum(r["errors"] for r in group),
            "peak_rss_kib": peak.get(target),
        })
    return rows


def ratios(runs: list[dict], concurrencies: list[int]) -> list[dict]:
    """Per concurrency: importhook-3-plugins throughput over native-limit's and node-peer's,
    and its p99 against node-peer's (medians over rounds)."""
    def median_of(target: str, conns: int, key) -> float | None:
        values = [key(r) for r in runs if r["target"] == target and r["conns"] == conns]
        values = [v for v in values if v is not None]
        return statistics.median(values) if values else None

    out = []
    for conns in concurrencies:
        ours = median_of("importhook-3-plugins", conns, lambda r: r["rps"])
        if ours is None:
            continue
        row = {"conns": conns}
        for other in ("native-limit", "node-peer", "importhook-3-noop", BASELINE):
            theirs = median_of(other, conns, lambda r: r["rps"])
            if theirs:
                row[f"rps_vs_{other}"] = ours / theirs
        # Warm mode against the same references.
        warm = median_of("importhook-3-warm", conns, lambda r: r["rps"])
        for other in ("native-limit", "node-peer"):
            theirs = median_of(other, conns, lambda r: r["rps"])
            if warm and theirs:
                row[f"warm_rps_vs_{other}"] = warm / theirs
        our_p99 = median_of("importhook-3-plugins", conns, lambda r: r["latency_ms"]["p99"])
        node_p99 = median_of("node-peer", conns, lambda r: r["latency_ms"]["p99"])
        if node_p99:
            row.update({"p99_ms": our_p99, "node_p99_ms": node_p99, "p99_vs_node-peer": our_p99 / node_p99})
        baseline_p99 = median_of(BASELINE, conns, lambda r: r["latency_ms"]["p99"])
        if baseline_p99:
            row.update({"p99_ms": our_p99, "baseline_p99_ms": baseline_p99})
            our_cpu = median_of("importhook-3-plugins", conns, lambda r: r["cpu_s_per_1k"])
            baseline_cpu = median_of(BASELINE, conns, lambda r: r["cpu_s_per_1k"])
            if our_cpu and baseline_cpu:
                row["cpu_vs_baseline"] = our_cpu / baseline_cpu
        out.append(row)
    return out


# In the ratios, "Node" is, in each round, whichever Node.js peer cost less CPU per request
# in that round (its throughput and p99 with it): the leanest Node service measured, so that
# a peer slower than it need be never flatters importhook.
LEANER_NODE = "node (leaner peer of the round)"
# The ratios every change is judged by (the last block of the summary). Each entry (key,
# label, numerator, denominator, kind, bound) is a ratio per round of the comparison (runs of
# one round are interleaved, so the machine's drift hits both sides alike), then the median
# over the rounds. `kind`: "cpu" divides CPU per request, "added" divides the CPU a target
# adds over the denominator's by the denominator's, "rps" divides throughput, "p99" divides
# p99 latencies. `bound`: (op, value) of the target the ratio should meet, or None for a
# reference.
SUMMARY_RATIOS = [
    ("host_vs_native", "no plugins CPU/request ÷ native-plain's",
     "importhook-no-plugins", "native-plain", "cpu", ("<=", 1.15)),
    ("host_vs_native_limit", "no plugins CPU/request ÷ native-limit's (importhook, strategies compiled in)",
     "importhook-no-plugins", "native-limit", "cpu", None),
    ("per_call_added", "per-call: CPU the three examples add ÷ no-plugins CPU",
     "importhook-3-plugins", "importhook-no-plugins", "added", ("<=", 1.0)),
    ("warm_added", "warm: CPU the three examples add ÷ no-plugins CPU",
     "importhook-3-warm", "importhook-no-plugins", "added", ("<=", 0.3)),
    ("per_call_rps_vs_node", "per-call throughput ÷ Node's",
     "importhook-3-plugins", LEANER_NODE, "rps", (">=", 1.0)),
    ("per_call_p99_vs_node", "per-call p99 ÷ Node's",
     "importhook-3-plugins", LEANER_NODE, "p99", ("<=", 1.0)),
    ("native_rps_vs_node", "native-limit throughput ÷ Node's",
     "native-limit", LEANER_NODE, "rps", None),
    ("node_cpu_vs_native", "Node's CPU/request ÷ native-limit's",
     LEANER_NODE, "native-limit", "cpu", None),
    ("native_plain_rps_vs_node", "native-plain throughput ÷ Node's",
     "native-plain", LEANER_NODE, "rps", None),
    ("native_plain_cpu_vs_node", "native-plain CPU/request ÷ Node's",
     "native-plain", LEANER_NODE, "cpu", None),
    ("node_check_cpu", "node-peer-check CPU/request ÷ node-peer's (should be ≈ 1)",
     "node-peer-check", "node-peer", "cpu", None),
]


def _ratio(kind: str, ours: dict, theirs: dict) -> float | None:
    """One round's ratio of two runs (see SUMMARY_RATIOS), None when a side has no number."""
    if kind == "rps":
        a, b = ours["rps"], theirs["rps"]
    elif kind == "p99":
        a, b = ours["latency_ms"]["p99"], theirs["latency_ms"]["p99"]
    else:
        a, b = ours["cpu_s_per_1k"], theirs["cpu_s_per_1k"]
        if a is not None and b is not None and kind == "added":
            a = a - b
    if a is None or not b:
        return None
    return a / b


def summary_ratios(runs: list[dict], concurrencies: list[int]) -> list[dict]:
    """The ratios of SUMMARY_RATIOS whose two targets were run: per concurrency the median over
    rounds of each round's ratio, the rounds it is from, and whether every concurrency meets
    the bound (None for a reference ratio)."""
    by_key = {(r["target"], r["conns"], r.get("round", 1)): r for r in runs}
    for (target, conns, round_no), run in list(by_key.items()):
        if target not in NODE_SERVERS:
            continue
        current = by_key.get((LEANER_NODE, conns, round_no))
        if current is None or (run["cpu_s_per_1k"] is not None
                               and (current["cpu_s_per_1k"] is None
                                    or run["cpu_s_per_1k"] < current["cpu_s_per_1k"])):
            by_key[(LEANER_NODE, conns, round_no)] = run
    out = []
    for key, label, num, den, kind, bound in SUMMARY_RATIOS:
        values, rounds = {}, {}
        for conns in concurrencies:
            per_round = []
            for (target, c, round_no), run in by_key.items():
                if target == num and c == conns and (den, conns, round_no) in by_key:
                    ratio = _ratio(kind, run, by_key[(den, conns, round_no)])
                    if ratio is not None:
                        per_round.append(ratio)
            if per_round:
                values[conns] = statistics.median(per_round)
                rounds[conns] = len(per_round)
        if not values:
            continue
        met = None
        if bound is not None:
            op, limit = bound
            met = all(v <= limit if op == "<=" else v >= limit for v in values.values())
        row = {"key": key, "label": label, "numerator": num, "denominator": den, "kind": kind,
               "bound": f"{'≤' if bound and bound[0] == '<=' else '≥'} {bound[1]:g}" if bound else None,
               "values": values, "rounds": rounds, "met": met}
        if LEANER_NODE in (num, den):
            # Which peer was the leaner one, round by round, at each concurrency.
            row["node_peers"] = {c: [by_key[(LEANER_NODE, c, r)]["target"]
                                     for (t, cc, r) in sorted(by_key, key=lambda k: k[2])
                                     if t == LEANER_NODE and cc == c] for c in values}
        out.append(row)
    return out


def render_ratios(rows: list[dict], concurrencies: list[int]) -> list[str]:
    """The summary block of ratios (markdown), one row per ratio, one column per concurrency."""
    if not rows:
        return []
    lines = [
        "## Ratios (one interleaved run; per concurrency the median over rounds of each round's ratio)",
        "",
        "| ratio | target | " + " | ".join(f"{c} conns" for c in concurrencies) + " | met |",
        "|---|---|" + "---:|" * len(concurrencies) + "---|",
    ]
    for row in rows:
        cells = [f"{row['values'][c]:.2f}" if c in row["values"] else "–" for c in concurrencies]
        met = "–" if row["met"] is None else ("yes" if row["met"] else "**no**")
        lines.append(f"| {row['label']} | {row['bound'] or 'reference'} | " + " | ".join(cells) + f" | {met} |")
    lines.append("")
    picks = next((row["node_peers"] for row in rows if "node_peers" in row), None)
    if picks:
        counts: dict[str, int] = {}
        for names in picks.values():
            for name in names:
                counts[name] = counts.get(name, 0) + 1
        shown = ", ".join(f"{name} {n}×" for name, n in sorted(counts.items()))
        lines += ["Node: in each round, the Node.js peer with the lower CPU per request in that round "
                  f"(its throughput and p99 with it); the leaner one was {shown}.", ""]
    return lines


def parse_criterion(text: str) -> list[dict]:
    """Benchmark names and their [low, median, high] times in microseconds from criterion's output."""
    units = {"ns": 1e-3, "µs": 1.0, "us": 1.0, "ms": 1e3, "s": 1e6}
    found, name = [], None
    for line in text.splitlines():
        match = re.match(r"^(\S.*?)\s*time:\s+\[(.*)\]", line) or re.match(r"^\s+time:\s+\[(.*)\]", line)
        if match is None:
            if line and not line[0].isspace() and not line.startswith(("Benchmarking", "Found", "Gnuplot", "compile")):
                name = line.strip()
            continue
        if match.lastindex == 2:
            name = match.group(1)
        numbers = re.findall(r"([0-9.]+)\s*(ns|µs|us|ms|s)\b", match.group(match.lastindex))
        if name and len(numbers) == 3:
            low, median, high = (float(v) * units[u] for v, u in numbers)
            found.append({"name": name, "low_us": low, "median_us": median, "high_us": high})
        name = None
    return found


def scenario_micro(setup: Setup) -> dict:
    """The criterion micro-benchmarks of the plugin runtime without HTTP (host/benches/pipeline.rs)."""
    quick = setup.args.quick
    command = ["cargo", "bench", "--locked", "-p", "importhook", "--bench", "pipeline", "--",
               "--warm-up-time", "1" if quick else "2", "--measurement-time", "2" if quick else "5"]
    log(f"micro-benchmarks: {' '.join(command)}")
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise BenchError(f"cargo bench failed:\n{done.stderr[-2000:]}")
    benches = parse_criterion(done.stdout)
    if not benches:
        raise BenchError(f"no criterion result in the output:\n{done.stdout[-2000:]}")
    compile_line = next((line for line in done.stderr.splitlines() if "without cache" in line), "")
    return {"command": " ".join(command), "benches": benches, "compile_once": compile_line.strip()}


def scenario_rss10(setup: Setup) -> dict:
    """importhook with 10 plugins: one warm-up, one run at 64 connections, peak RSS."""
    args = setup.args
    server = rust_server(setup, "importhook-10-plugins", setup.paths["importhook"], 10)
    try:
        startup = start_and_check(server, setup, 200)
        measured_run(server, setup, 64, args.warmup)
        time.sleep(args.pause)
        run = measured_run(server, setup, 64, args.duration, args.count_statuses)
        log(f"10 plugins {describe(run)}")
        peak = server.peak_rss_kib()
        rss_now = status_kib(server.tree(), "VmRSS")
        reloads = unexpected_reloads(server)
    finally:
        server.stop()
    return {"startup": startup, "run": run, "peak_rss_kib": peak, "peak_rss_kib_at_ready": startup["peak_rss_kib_at_ready"],
            "rss_kib_after": rss_now, "unexpected_reloads": reloads}


def folder_stats(folder: Path) -> dict:
    """Number of files and bytes under a folder (the compile cache)."""
    files = [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []
    return {"files": len(files), "bytes": sum(p.stat().st_size for p in files)}


def scenario_coldstart(setup: Setup) -> dict:
    """Spawn to /readyz 200 with 10 plugins: empty compile cache, then the cache it left."""
    reps = []
    for i in range(1, setup.args.cold_reps + 1):
        home = f"coldstart-{i}"
        cache = server_home(setup, home, 10)["cache"]
        if any(cache.iterdir()):
            raise BenchError(f"{cache} should be a fresh, empty cache")
        rep = {}
        for state in ("empty", "warm"):
            server = rust_server(setup, f"coldstart-{i}-{state}", setup.paths["importhook"], 10, home)
            try:
                server.start()
                rep[f"{state}_s"] = server.wait_ready(setup.ca, setup.secret, poll=0.001)
            finally:
                server.stop()
            rep[f"cache_after_{state}"] = folder_stats(cache)
        if rep["cache_after_empty"]["files"] == 0:
            log(f"warning: the compile cache {cache} is empty after a start; the warm start is not warm")
        log(f"cold start {i}: empty cache {rep['empty_s'] * 1e3:.0f} ms, warm cache {rep['warm_s'] * 1e3:.0f} ms")
        reps.append(rep)
    summary = {}
    for state in ("empty", "warm"):
        values = [r[f"{state}_s"] for r in reps]
        summary[state] = {"median_s": statistics.median(values), "min_s": min(values), "max_s": max(values),
                          "n": len(values)}
    return {"plugins": 10, "repetitions": reps, "summary": summary}


IDLE_CHECK_S = 3.0
RELOAD_METRIC = re.compile(r'^(importhook_reloads?[a-z_]*)\{([^}]*)\}\s+([\d.eE+-]+)$', re.M)


def reload_counters(metrics_text: str) -> dict[str, float]:
    """Every sample of the reload counter(s) in /metrics, keyed by `name{labels}`."""
    return {f"{name}{{{labels}}}": float(value) for name, labels, value in RELOAD_METRIC.findall(metrics_text)}


def unexpected_reloads(server: Server) -> dict[str, float]:
    """Reload counters of a server that nobody asked to reload: must be empty, or its
    numbers include the cost of reloading."""
    counters = {k: v for k, v in reload_counters(server.metrics()).items() if v}
    if counters:
        log(f"warning: {server.name} reloaded without being asked: {counters}")
    return counters


def reload_schedule(duration: float) -> list[tuple[float, str]]:
    """When to act during the reload run: SIGHUP every 2 s, and a plugin file added on an odd
    second (away from the SIGHUPs) after a quarter of the run and removed after 60 %."""
    events = [(float(t), "sighup") for t in range(2, int(duration - 0.5) + 1, 2)]
    add = max(1, int(duration * 0.25)) | 1
    remove = max(add + 2, int(duration * 0.6) | 1)
    events += [(float(add), "add-plugin"), (float(remove), "remove-plugin")]
    return sorted(e for e in events if e[0] < duration)


def scenario_reload(setup: Setup) -> dict:
    """3 plugins at 64 connections: a run without reloads, then a run with SIGHUPs every 2 s
    and one plugin file added then removed (atomic rename, so the watcher never sees half a
    file). Errors must be 0."""
    args = setup.args
    server = rust_server(setup, "importhook-reload", setup.paths["importhook"], 3)
    folder = server_home(setup, "importhook-reload", 3)["plugins"]
    extra = folder / "40-extra-normalize-login.wasm"

    def act(wrk: subprocess.Popen, started: float) -> list[dict]:
        done = []
        for at, action in reload_schedule(args.reload_duration):
            delay = started + at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            if wrk.poll() is not None:
                break
            if action == "sighup":
                os.kill(server.pid, signal.SIGHUP)
            elif action == "add-plugin":
                partial = extra.with_suffix(".partial")
                shutil.copyfile(setup.paths["wasm"] / "normalize_login.wasm", partial)
                os.rename(partial, extra)
            elif action == "remove-plugin":
                extra.unlink()
            done.append({"at_s": round(time.perf_counter() - started, 3), "action": action})
        return done

    try:
        startup = start_and_check(server, setup, 200)
        measured_run(server, setup, 64, args.warmup)
        time.sleep(args.pause)
        baseline = measured_run(server, setup, 64, args.reload_duration, count_statuses=True)
        log(f"no reload   {describe(baseline)}")
        time.sleep(args.pause)
        before = reload_counters(server.metrics())
        reloading = measured_run(server, setup, 64, args.reload_duration, count_statuses=True, during=act)
        log(f"with reload {describe(reloading)}")
        time.sleep(1.5)  # a file change is acted on after 500 ms of quiet, then compiles
        after = reload_counters(server.metrics())
        # Nothing changes from here on: the counters must stay put.
        time.sleep(IDLE_CHECK_S)
        idle = reload_counters(server.metrics())
        answer_after = check_answer(server, setup, 200)
    finally:
        server.stop()
        if extra.exists():
            extra.unlink()
    events = reloading.get("events", [])
    delta = {k: after.get(k, 0.0) - before.get(k, 0.0) for k in sorted(set(before) | set(after))}
    idle_growth = {k: idle.get(k, 0.0) - after.get(k, 0.0) for k in sorted(set(after) | set(idle))}
    sighups = sum(1 for e in events if e["action"] == "sighup")
    file_changes = sum(1 for e in events if e["action"] != "sighup")
    if any(idle_growth.values()):
        log(f"warning: reload counters still rising with nothing changing: {idle_growth}")
    return {
        "startup": startup,
        "baseline": baseline,
        "reloading": reloading,
        "counters_before": before,
        "counters_after": after,
        "counters_delta": delta,
        "counters_idle_growth": idle_growth,
        "idle_check_s": IDLE_CHECK_S,
        "sighups": sighups,
        "file_changes": file_changes,
        # Each trigger (SIGHUP or file change) reloads plugins and certificate alike.
        "expected_reloads": sighups + file_changes,
        "answer_after": answer_after,
    }


# --------------------------------------------------------------------------------------------
# Machine information and output


def command_version(argv: list[str]) -> str:
    """First line of a tool's version output (wrk -v exits 1: any exit code is fine)."""
    try:
        out = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"unavailable ({e})"
    text = (out.stdout or out.stderr).strip()
    return text.splitlines()[0] if text else "unavailable"


def machine_info() -> dict:
    """CPU, cores, memory, kernel, tool versions and the commit measured."""
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    if model:
        cpu = model.group(1).strip()
    else:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        found = re.search(r"^Model name:\s*(.+)$", lscpu, re.M)
        cpu = found.group(1).strip() if found else "unknown"
    meminfo = Path("/proc/meminfo").read_text()
    mem = re.search(r"^MemTotal:\s+(\d+) kB", meminfo, re.M)
    commit = command_version(["git", "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": cpu,
        "mem_total_gib": round(int(mem.group(1)) / 2**20, 1) if mem else None,
        "kernel": platform.release(),
        "rustc": command_version(["rustc", "--version"]),
        "node": command_version(["node", "--version"]),
        "wrk": command_version(["wrk", "-v"]),
        "openssl": command_version(["openssl", "version"]),
        "python": platform.python_version(),
        "commit": commit + ("-dirty" if dirty else ""),
    }


def mib(kib: int | None) -> str:
    return "–" if kib is None else f"{kib / 1024:.1f}"


def ms(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.2f} ms" if value < 100 else f"{value:.0f} ms"


def unexpected_reloads_lines(by_target: dict[str, dict[str, float]]) -> list[str]:
    """A warning paragraph when a server reloaded during a scenario without reloads."""
    lines = []
    for target, counters in by_target.items():
        if counters:
            shown = ", ".join(f"`{k}` {v:g}" for k, v in counters.items())
            lines.append(f"**Warning:** {target} reloaded although nothing asked it to ({shown}); "
                         "its numbers include that work.")
    return lines + [""] if lines else []


def render_summary(results: dict) -> str:
    """The markdown summary (tables ready for BENCHMARKS.md)."""
    m, s = results["machine"], results["settings"]
    lines = [
        f"# HTTP benchmark, {results['started_utc']}",
        "",
        f"Machine: {m['nproc']} CPUs (`nproc`), {m['cpu_model']}, {m['mem_total_gib']} GiB, Linux {m['kernel']}; "
        f"{m['rustc']}, Node.js {m['node']}, {m['wrk']}. Commit {m['commit']}.",
        "",
        f"Command: `{s['command']}`. wrk `-t{s['threads']}` and the servers share the machine's cores. "
        f"TLS: one self-signed ECDSA P-256 certificate for every server; keep-alive connections. "
        f"importhook and native-limit log one line per request ({s['log_format']}) to a file; native-plain "
        "and the Node.js peers do not log.",
        "",
    ]
    micro = results.get("micro")
    if micro:
        lines += [
            "## Plugin runtime without HTTP (criterion, median and 95 % interval)",
            "",
            f"`{micro['command']}`",
            "",
            "| benchmark | median | interval |",
            "|---|---:|---:|",
        ]
        lines += [f"| {b['name']} | {b['median_us']:.1f} µs | {b['low_us']:.1f}–{b['high_us']:.1f} µs |"
                  for b in micro["benches"]]
        if micro["compile_once"]:
            lines += ["", f"One shot: {micro['compile_once']}."]
        lines.append("")
    comp = results.get("comparison")
    if comp:
        lines += [
            f"## Comparison ({s['rounds']} interleaved round(s) of {s['duration']:g} s per target and concurrency, medians)",
            "",
            "| target | conns | req/s | p50 | p99 | CPU s/1k req | peak RSS MiB | errors |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for row in comp["aggregates"]:
            cpu = "–" if row["cpu_s_per_1k"] is None else f"{row['cpu_s_per_1k']:.3f}"
            lines.append(f"| {row['target']} | {row['conns']} | {row['rps']:,.0f} | {ms(row['p50_ms'])} | "
                         f"{ms(row['p99_ms'])} | {cpu} | {mib(row['peak_rss_kib'])} | {row['errors']} |")
        lines += [
            "",
            "Peak RSS is VmHWM over the server's whole life (start-up, warm-up and every concurrency), so it "
            "is the same on each row of a target; the Node.js peers' is the sum over the primary and "
            f"its {s['node_workers']} workers. CPU s/1k req: server CPU time (user + system, all "
            "threads and child processes) per 1,000 requests. Peak RSS once ready, before any request: "
            + ", ".join(f"{t} {mib(v['peak_rss_kib_at_ready'])} MiB" for t, v in comp["startup"].items()) + ".",
            "",
        ]
        for r in comp["ratios"]:
            parts = []
            if "rps_vs_native-limit" in r:
                parts.append(f"importhook-3-plugins / native-limit throughput **{r['rps_vs_native-limit']:.2f}**")
            if "rps_vs_node-peer" in r:
                parts.append(f"importhook-3-plugins / node-peer throughput **{r['rps_vs_node-peer']:.2f}**")
            if "rps_vs_importhook-3-noop" in r:
                parts.append("importhook-3-plugins / importhook-3-noop throughput "
                             f"**{r['rps_vs_importhook-3-noop']:.2f}**")
            if "warm_rps_vs_native-limit" in r:
                parts.append("importhook-3-warm / native-limit throughput "
                             f"**{r['warm_rps_vs_native-limit']:.2f}**")
            if "warm_rps_vs_node-peer" in r:
                parts.append("importhook-3-warm / node-peer throughput "
                             f"**{r['warm_rps_vs_node-peer']:.2f}**")
            if f"rps_vs_{BASELINE}" in r:
                parts.append(f"importhook-3-plugins / {BASELINE} throughput **{r[f'rps_vs_{BASELINE}']:.2f}**")
            if "cpu_vs_baseline" in r:
                parts.append(f"CPU per request **{r['cpu_vs_baseline']:.2f}×** the baseline's")
            if "baseline_p99_ms" in r:
                parts.append(f"p99 {ms(r['p99_ms'])} vs the baseline's {ms(r['baseline_p99_ms'])}")
            if "p99_vs_node-peer" in r:
                verdict = "lower" if r["p99_ms"] < r["node_p99_ms"] else "higher"
                parts.append(f"p99 {ms(r['p99_ms'])} vs node-peer {ms(r['node_p99_ms'])} "
                             f"(**{r['p99_vs_node-peer']:.2f}×**, {verdict})")
            if parts:
                lines.append(f"- {r['conns']} connections: " + "; ".join(parts))
        lines.append("")
        lines += unexpected_reloads_lines(comp.get("unexpected_reloads", {}))
    rss = results.get("rss10")
    if rss:
        run = rss["run"]
        lines += [
            f"## importhook with 10 plugins, 64 connections, {s['duration']:g} s",
            "",
            "| plugins | conns | req/s | p50 | p99 | errors | peak RSS MiB (VmHWM) |",
            "|---:|---:|---:|---:|---:|---:|---:|",
            f"| 10 | 64 | {run['rps']:,.0f} | {ms(run['latency_ms']['p50'])} | {ms(run['latency_ms']['p99'])} | "
            f"{run['errors']} | {mib(rss['peak_rss_kib'])} |",
            "",
            f"VmHWM once ready, before any request: {mib(rss['peak_rss_kib_at_ready'])} MiB; "
            f"VmRSS after the run: {mib(rss['rss_kib_after'])} MiB.",
            "",
        ]
        lines += unexpected_reloads_lines({"importhook-10-plugins": rss.get("unexpected_reloads", {})})
    cold = results.get("coldstart")
    if cold:
        lines += [
            "## Cold start to ready, 10 plugins (spawn until `/readyz` answers 200, polled every 1 ms)",
            "",
            "| compile cache | median | min | max | runs |",
            "|---|---:|---:|---:|---:|",
        ]
        for state, label in (("empty", "empty (fresh folder)"), ("warm", "warm (left by the previous start)")):
            c = cold["summary"][state]
            lines.append(f"| {label} | {c['median_s'] * 1e3:.0f} ms | {c['min_s'] * 1e3:.0f} ms | "
                         f"{c['max_s'] * 1e3:.0f} ms | {c['n']} |")
        lines.append("")
    rel = results.get("reload")
    if rel:
        base, during = rel["baseline"], rel["reloading"]
        ok = during["errors"] == 0
        lines += [
            f"## Reload under load (3 plugins, 64 connections, {s['reload_duration']:g} s per run)",
            "",
            "| run | req/s | p50 | p99 | max | errors |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for label, run in (("no reload", base),
                           (f"{rel['sighups']} SIGHUPs + {rel['file_changes']} plugin file changes", during)):
            lat = run["latency_ms"]
            lines.append(f"| {label} | {run['rps']:,.0f} | {ms(lat['p50'])} | {ms(lat['p99'])} | "
                         f"{ms(lat.get('max'))} | {run['errors']} |")
        counted = ", ".join(f"`{k}` +{v:g}" for k, v in rel["counters_delta"].items() if v) or "none"
        lines += [
            "",
            f"Errors during reloads: **{during['errors']}** ({'OK' if ok else 'FAIL: must be 0'}); "
            f"statuses {json.dumps(during.get('statuses', {}))}. p99 with reloads / without: "
            f"{during['latency_ms']['p99'] / base['latency_ms']['p99']:.2f}×.",
            "",
            f"Reload counters during the run: {counted}. Triggered: {rel['sighups']} SIGHUPs and "
            f"{rel['file_changes']} plugin file changes, each reloading plugins and certificate, so "
            f"+{rel['expected_reloads']} of each expected.",
        ]
        growth = {k: v for k, v in rel["counters_idle_growth"].items() if v}
        if growth:
            grown = ", ".join(f"`{k}` +{v:g}" for k, v in growth.items())
            lines.append(f"**Warning:** with nothing changing, the counters still rose by {grown} in "
                         f"{rel['idle_check_s']:g} s after the run: reloads keep triggering themselves.")
        else:
            lines.append(f"No reload in the {rel['idle_check_s']:g} s of quiet after the run.")
        lines.append("")
    # Last, so that it is what the run ends with: the ratios every change is judged by.
    if comp:
        lines += render_ratios(comp.get("summary_ratios", []), s["concurrencies"])
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Main


def run(args: argparse.Namespace, argv: list[str]) -> int:
    """Prepares, runs the scenarios, writes the results; returns the exit code."""
    started = dt.datetime.now(dt.timezone.utc)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    work = WORK_ROOT / stamp
    out = args.out or RESULTS_ROOT / stamp
    work.mkdir(parents=True)
    log(f"work folder {work}")

    ensure_wrk()
    if any(t in NODE_SERVERS for t in args.targets) and "comparison" in args.scenarios and not shutil.which("node"):
        raise BenchError("node is not installed")
    paths = build(args)
    cert, key = make_certificate(work)
    ca = work / "ca.pem"
    shutil.copyfile(cert, ca)
    setup = Setup(paths=paths, cert=cert, key=key, ca=ca, secret=os.urandom(24).hex(), work=work, args=args)
    results = {
        "started_utc": started.strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine_info(),
        "settings": {
            "command": " ".join(["bench/run.sh"] + argv),
            "rounds": args.rounds, "duration": args.duration, "concurrencies": args.concurrencies,
            "targets": args.targets, "scenarios": args.scenarios, "warmup": args.warmup,
            "pause": args.pause, "cold_reps": args.cold_reps, "reload_duration": args.reload_duration,
            "threads": args.threads, "node_workers": args.node_workers, "log_format": args.log_format,
            "certificate": "self-signed ECDSA P-256 (prime256v1), CN=localhost, SAN localhost + 127.0.0.1",
            "request": str(REQUEST_FILE.relative_to(ROOT)),
            "baseline": str(args.baseline) if args.baseline else None,
            "binaries": {k: str(v) for k, v in paths.items() if v is not None},
        },
    }
    scenarios = {"micro": scenario_micro, "comparison": scenario_comparison, "rss10": scenario_rss10,
                 "coldstart": scenario_coldstart, "reload": scenario_reload}
    for name in ALL_SCENARIOS:
        if name in args.scenarios:
            log(f"scenario {name}")
            results[name] = scenarios[name](setup)
    results["finished_utc"] = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")

    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    summary = render_summary(results)
    (out / "summary.md").write_text(summary + "\n")
    print(summary)
    log(f"results in {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    if not args.keep_work:
        shutil.rmtree(work, ignore_errors=True)
    reload_errors = results.get("reload", {}).get("reloading", {}).get("errors", 0)
    return 1 if reload_errors else 0


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    # SIGTERM/SIGHUP to the runner: unwind like Ctrl-C so that the servers are stopped.
    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, interrupt)
    # Ctrl-C even when started where SIGINT is ignored (a background job of a script).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGHUP, interrupt)
    try:
        return run(args, argv)
    except BenchError as e:
        log(f"FAILED: {e}")
        log(f"logs and files kept under {WORK_ROOT}")
        return 2
    except KeyboardInterrupt:
        log("interrupted; stopping the servers")
        return 130
    finally:
        stop_all()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
