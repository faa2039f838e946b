//! `importhook new --lang rust|js|python` from a temporary folder outside the repository, against
//! the SDKs packed by `scripts/pack-sdks.sh` (what a machine without a checkout gets): each
//! project installs, passes its own unit tests, builds its plugin, and the plugin passes
//! `importhook check` and resolves the sample request with `importhook try`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use common::{BIN, TempDir, workspace_root};

/// The SDKs packed once for every test of this file.
fn packed_sdks() -> &'static Path {
    static PACKED: OnceLock<PathBuf> = OnceLock::new();
    PACKED.get_or_init(|| {
        let root = workspace_root();
        let out = root.join("target/e2e-new/sdk");
        let python = root.join(".venv/bin/python");
        assert!(
            python.exists(),
            "the Python toolchain is not installed: run `python3 -m venv .venv && .venv/bin/pip install -r sdk-python/requirements.txt` in {} (.ci/run does it)",
            root.display()
        );
        run(
            Command::new("bash")
                .arg(root.join("scripts/pack-sdks.sh"))
                .arg(&out)
                .env("PYTHON", python),
            "scripts/pack-sdks.sh",
        );
        out
    })
}

/// Runs `command`; panics with its output unless it succeeds.
fn run(command: &mut Command, what: &str) -> Output {
    let started = std::time::Instant::now();
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e} (is its toolchain on PATH?)"));
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    eprintln!("{what}: {:.1} s", started.elapsed().as_secs_f64());
    output
}

/// `importhook new NAME --lang LANG` into an empty folder that already exists, with the packed
/// SDKs; checks that it says which SDK it chose and how to switch. Returns the project folder.
fn new_project(temp: &TempDir, lang: &str) -> PathBuf {
    let dir = temp.path().join("login-employee-number");
    std::fs::create_dir(&dir).expect("an empty folder");
    let output = run(
        Command::new(BIN)
            .args(["new", "login-employee-number", "--lang", lang, "--dir"])
            .arg(&dir)
            .arg("--sdk")
            .arg(packed_sdks()),
        &format!("importhook new --lang {lang}"),
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("SDK: the packed SDKs in") && stdout.contains("registry version"),
        "{stdout}"
    );
    dir
}

/// The plugin through `check` and `try` as the README says: the answer is the sample's login
/// with the employee number.
fn check_and_try(project: &Path, wasm: &Path) {
    let plugins = project.join("plugins.d");
    std::fs::create_dir_all(&plugins).expect("plugins.d");
    std::fs::copy(wasm, plugins.join("10-login-employee-number.wasm")).expect("copy the plugin");
    std::fs::copy(
        project.join("login-employee-number.toml"),
        plugins.join("10-login-employee-number.toml"),
    )
    .expect("copy the manifest");
    let check = run(
        Command::new(BIN)
            .current_dir(project)
            .args(["check", "--plugins", "plugins.d"]),
        "importhook check",
    );
    let stdout = String::from_utf8_lossy(&check.stdout);
    assert!(stdout.contains("ok  10-login-employee-number"), "{stdout}");
    let tried = run(
        Command::new(BIN).current_dir(project).args([
            "try",
            "--plugins",
            "plugins.d",
            "--request",
            "okta-request.json",
        ]),
        "importhook try",
    );
    let body: serde_json::Value = serde_json::from_slice(&tried.stdout).unwrap_or_else(|e| {
        panic!(
            "try's stdout is not the JSON body ({e}): {}",
            String::from_utf8_lossy(&tried.stderr)
        )
    });
    assert_eq!(
        body["commands"][0]["value"]["login"], "sally.admin.1234@clouditude.net",
        "{body}"
    );
}

#[test]
fn a_rust_project_builds_tests_checks_and_tries_outside_the_repository() {
    let temp = TempDir::new("new-rust");
    let project = new_project(&temp, "rust");
    // The workspace's lock file pins the versions this repository builds with, and one target
    // folder keeps what earlier runs compiled: no registry lookup, no rebuild of the
    // dependencies. Without them the project resolves its own.
    let root = workspace_root();
    std::fs::copy(root.join("Cargo.lock"), project.join("Cargo.lock")).expect("lock");
    let target = root.join("target/e2e-new/rust");
    // `cargo` through rustup: the project's rust-toolchain.toml picks the release and target.
    run(
        Command::new("cargo")
            .current_dir(&project)
            .arg("test")
            .arg("--target-dir")
            .arg(&target),
        "cargo test",
    );
    run(
        Command::new("cargo")
            .current_dir(&project)
            .args(["build", "--release", "--target", "wasm32-unknown-unknown"])
            .arg("--target-dir")
            .arg(&target),
        "cargo build --release --target wasm32-unknown-unknown",
    );
    check_and_try(
        &project,
        &target.join("wasm32-unknown-unknown/release/login_employee_number.wasm"),
    );
}

#[test]
fn a_javascript_project_builds_tests_checks_and_tries_outside_the_repository() {
    let temp = TempDir::new("new-js");
    let project = new_project(&temp, "js");
    // npm's cache already holds the pinned ComponentizeJS (scripts/test.sh's `npm ci`).
    run(
        Command::new("npm").current_dir(&project).args([
            "install",
            "--prefer-offline",
            "--no-audit",
            "--no-fund",
        ]),
        "npm install",
    );
    let tested = run(
        Command::new("npm").current_dir(&project).arg("test"),
        "npm test",
    );
    let report = String::from_utf8_lossy(&tested.stdout);
    assert!(
        report.contains("# pass 6") && report.contains("# fail 0"),
        "{report}"
    );
    run(
        Command::new("npm")
            .current_dir(&project)
            .args(["run", "build"]),
        "npm run build",
    );
    check_and_try(&project, &project.join("login_employee_number.wasm"));
}

#[test]
fn a_python_project_builds_tests_checks_and_tries_outside_the_repository() {
    let temp = TempDir::new("new-python");
    let project = new_project(&temp, "python");
    // pip's cache already holds the pinned componentize-py (scripts/test.sh's .venv).
    run(
        Command::new("python3")
            .current_dir(&project)
            .args(["-m", "venv", ".venv"]),
        "python3 -m venv .venv",
    );
    run(
        Command::new(project.join(".venv/bin/pip"))
            .current_dir(&project)
            .args([
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
                "requirements.txt",
            ]),
        "pip install -r requirements.txt",
    );
    let tested = run(
        Command::new(project.join(".venv/bin/pytest"))
            .current_dir(&project)
            .args(["-q", "-p", "no:cacheprovider"]),
        "pytest",
    );
    let report = String::from_utf8_lossy(&tested.stdout);
    assert!(report.contains("6 passed"), "{report}");
    run(
        Command::new(project.join(".venv/bin/python"))
            .current_dir(&project)
            .args([
                "-m",
                "importhook_sdk.build",
                "login_employee_number:strategy",
                "-o",
                "login_employee_number.wasm",
            ]),
        "python -m importhook_sdk.build",
    );
    check_and_try(&project, &project.join("login_employee_number.wasm"));
}
