//! The command line: `serve`, `try`, `preview`, `check`, `doctor`, `new`, `pull` and `state`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::{ConfigLayer, SECRETS_ENV, Settings};
use crate::engine::{PluginSet, Runtime, Services};
use crate::logging::LogFormat;
use crate::service::{Listeners, NativeStrategies, Service, Strategies};
use crate::tls::TlsSource;

/// Okta User Import Inline Hook running sandboxed WebAssembly conflict strategies.
#[derive(Debug, Parser)]
#[command(name = "importhook", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the hook over HTTPS.
    Serve(Box<ServeArgs>),
    /// Run the serving pipeline on one Okta request file: the response body to stdout
    /// (nothing for 204), a per-plugin report to stderr; exit status 3 when a plugin failed,
    /// timed out or was skipped.
    Try(TryArgs),
    /// Run a whole import file (CSV or JSON Lines) through the plugins `serve` would run, with
    /// Okta's matching simulated against an export of the org or the org itself: what each
    /// row becomes (created, renamed, linked, unchanged, conflict, refused), counts on the
    /// terminal, a JSON Lines report with --out; nothing is written to the state store
    Preview(Box<crate::preview::PreviewArgs>),
    /// Load and compile the configured plugins and check their interface version; exit
    /// non-zero listing every problem: an unusable plugin, a file that is not a plugin, a
    /// manifest without its plugin, or no plugin at all.
    Check(CheckArgs),
    /// Check the configuration end to end (certificate, secrets or OAuth keys, plugins, Okta
    /// credentials with one token fetch and one lookup); exit non-zero saying what is wrong.
    Doctor(Box<DoctorArgs>),
    /// Create a strategy project (Rust, JavaScript or Python) ready to build: a working
    /// strategy with native tests, its manifest, a sample Okta request, and a README with the
    /// build, test, `check` and `try` lines.
    New(NewArgs),
    /// Fetch plugins published as an OCI artifact into a plugins folder, checking the pinned
    /// manifest digest and every file's digest and size before writing anything
    Pull(crate::pull::PullArgs),
    /// Read or delete what plugins keep in the state store (counters, claims, records)
    State {
        #[command(flatten)]
        store: crate::state::operator::StoreArgs,
        #[command(subcommand)]
        command: crate::state::operator::StateCommand,
    },
}

#[derive(Debug, clap::Args)]
struct NewArgs {
    /// Plugin (and project) name, e.g. login-employee-number
    name: String,
    /// Language of the strategy
    #[arg(long, value_enum, default_value = "rust")]
    lang: crate::scaffold::Lang,
    /// Folder to create the project in (must not exist or be empty) [default: ./NAME]
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// The SDK to depend on: an importhook checkout, or a folder of SDKs packed by its
    /// scripts/pack-sdks.sh [default: the checkout this binary was built from, if still there]
    #[arg(long, alias = "sdk-path", value_name = "PATH")]
    sdk: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct TryArgs {
    /// Folder of plugins, or several separated by `:` (a later one's file replaces an earlier one's)
    #[arg(
        long,
        env = "IMPORTHOOK_PLUGINS",
        value_name = "DIR",
        default_value = "plugins.d"
    )]
    plugins: PathBuf,
    /// Okta request body (JSON)
    #[arg(long, value_name = "FILE")]
    request: PathBuf,
    /// Count the instructions each plugin runs (compiles each plugin once more, apart from
    /// the artifacts `check` and `serve` share)
    #[arg(long)]
    instructions: bool,
    /// What Okta accepts as a login: `email` (Okta's default) or `any` (the org's login pattern allows any value) [default: email]
    #[arg(long, env = "IMPORTHOOK_LOGIN_FORMAT", value_name = "FORMAT")]
    login_format: Option<String>,
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// TOML configuration file (its `plugins`, `cache_dir` and `max_plugin_bytes` keys are used)
    #[arg(long, env = "IMPORTHOOK_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Folder of plugins, or several separated by `:` [default: plugins.d]
    #[arg(long, env = "IMPORTHOOK_PLUGINS", value_name = "DIR")]
    plugins: Option<PathBuf>,
    /// Largest plugin file read [default: 67108864]
    #[arg(long, env = "IMPORTHOOK_MAX_PLUGIN_BYTES", value_name = "BYTES")]
    max_plugin_bytes: Option<u64>,
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// TOML configuration file; flags and IMPORTHOOK_* env vars override its keys
    #[arg(long, env = "IMPORTHOOK_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Zero-setup local mode: self-signed localhost certificate, generated secret if none is set
    #[arg(long)]
    dev: bool,
    #[command(flatten)]
    layer: ConfigLayer,
}

#[derive(Debug, clap::Args)]
struct DoctorArgs {
    #[command(flatten)]
    serve: ServeArgs,
    /// A login an Okta user holds: the lookup check expects `taken`, which tells "free" from
    /// "not visible to these credentials" (an admin role scoped to a group answers 404 for
    /// users outside it)
    #[arg(long, value_name = "LOGIN")]
    probe_login: Option<String>,
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    main_with(None)
}

/// Entry point of the native-limit benchmark binary: `serve` runs `natives` in the host
/// process instead of loading plugins. Never for production (no isolation at all).
#[doc(hidden)]
pub fn main_native(natives: NativeStrategies) -> ExitCode {
    main_with(Some(natives))
}

fn main_with(natives: Option<NativeStrategies>) -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve(*args, natives),
        Command::Try(args) => {
            crate::logging::init(LogFormat::Text);
            crate::config::login_format(
                args.login_format.as_deref(),
                "--login-format / IMPORTHOOK_LOGIN_FORMAT",
            )
            .and_then(|format| {
                crate::tryout::run_try(&args.plugins, &args.request, args.instructions, format)
            })
        }
        Command::Preview(args) => {
            crate::logging::init(LogFormat::Text);
            crate::preview::run(*args)
        }
        Command::Check(args) => {
            crate::logging::init(LogFormat::Text);
            check(args)
        }
        Command::New(args) => new(args),
        Command::Pull(args) => crate::pull::run(args),
        Command::State { store, command } => crate::state::operator::run(store, command),
        Command::Doctor(args) => {
            crate::logging::init(LogFormat::Text);
            settings_from(&args.serve)
                .and_then(|settings| crate::doctor::run(&settings, args.probe_login.as_deref()))
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is::<crate::tryout::PluginsFailed>() => {
            eprintln!("importhook: {e}");
            ExitCode::from(crate::tryout::EXIT_PLUGIN_FAILED)
        }
        Err(e) => {
            eprintln!("importhook: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn settings_from(args: &ServeArgs) -> anyhow::Result<Settings> {
    let file = match &args.config {
        Some(path) => Some((path.as_path(), crate::config::read_file(path)?)),
        None => None,
    };
    let secrets_env = std::env::var(SECRETS_ENV).ok();
    Settings::resolve(&args.layer, file, secrets_env.as_deref(), args.dev)
}

fn serve(args: ServeArgs, natives: Option<NativeStrategies>) -> anyhow::Result<()> {
    // Everything that can be wrong with the configuration fails here, before anything binds.
    let settings = settings_from(&args)?;
    // Dropped when serving ends (or start-up fails): what is still queued is written first.
    let _log_writer =
        crate::logging::init_serving(settings.log_format).context("starting the log thread")?;
    crate::fdlimit::raise_open_files();
    let strategies = match natives {
        Some(natives) => Strategies::Native(natives),
        None => Strategies::Wasm,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let served = runtime.block_on(async move {
        let listeners = Listeners::bind(&settings).await?;
        let service = Service::build(&settings, listeners, strategies).await?;
        let local = service.hook_addr()?;
        if settings.tls == TlsSource::SelfSigned {
            print_dev_banner(&settings, local, service.fingerprint());
        }
        tracing::info!(
            listen = %local,
            admin = %service.admin_addr()?,
            path = %settings.hook_path,
            auth = if settings.oauth.is_some() { "oauth" } else { "header" },
            auth_header = %settings.secrets.header(),
            secrets = settings.secrets.len(),
            plugins = service.app().plugins().plugins().len(),
            "importhook serving"
        );
        let _watcher = service.reload_on_change()?;
        service.run(shutdown_signal()).await
    });
    // Serving has ended (drained within drain_timeout_ms): a reload still compiling a plugin
    // on a blocking thread must not hold the exit.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    served
}

fn check(args: CheckArgs) -> anyhow::Result<()> {
    let file = match &args.config {
        Some(path) => crate::config::read_file(path)?,
        None => ConfigLayer::default(),
    };
    let dir = args
        .plugins
        .or(file.plugins)
        .unwrap_or_else(|| PathBuf::from("plugins.d"));
    let cache = file
        .cache_dir
        .unwrap_or_else(|| crate::engine::default_cache_dir(&dir));
    let runtime = Runtime::new(Some(cache), false)?;
    if let Some(max) = args.max_plugin_bytes.or(file.max_plugin_bytes) {
        runtime.set_max_plugin_bytes(max);
    }
    // Scratch state: checking a plugin never uses up a number or a claim.
    let (set, problems) = PluginSet::check(runtime, &dir, &Services::scratch())?;
    for plugin in set.plugins() {
        let manifest = plugin.manifest();
        println!(
            "ok  {}  importhook:plugin@{}  timeout {} ms, memory {} MiB, on_error {}, instance {}",
            plugin.name(),
            plugin.interface_version,
            manifest.timeout.as_millis(),
            manifest.memory_bytes >> 20,
            manifest.on_error.as_str(),
            manifest.instance.as_str()
        );
        println!("    imports: {}", plugin.imports.join(", "));
    }
    for warning in crate::engine::shared_orders(&dir) {
        eprintln!("warning: {warning}");
    }
    if problems.is_empty() {
        return Ok(());
    }
    for problem in &problems {
        eprintln!("error: {problem}");
    }
    anyhow::bail!("{} problem(s) in {}", problems.len(), dir.display())
}

fn new(args: NewArgs) -> anyhow::Result<()> {
    use crate::scaffold::Lang;
    let dir = args.dir.unwrap_or_else(|| PathBuf::from(&args.name));
    let sdk = crate::scaffold::Sdk::locate(args.sdk.as_deref())?;
    let written = crate::scaffold::create(&args.name, args.lang, &dir, &sdk)?;
    println!("created {}:", dir.display());
    for path in &written {
        let shown = path.strip_prefix(&dir).unwrap_or(path);
        println!("  {}", shown.display());
    }
    println!("{}", sdk.explain(args.lang));
    let next = match args.lang {
        Lang::Rust => "cargo test && cargo build --release --target wasm32-unknown-unknown",
        Lang::Js => "npm install && npm test && npm run build",
        Lang::Python => {
            "python3 -m venv .venv && .venv/bin/pip install -r requirements.txt && .venv/bin/pytest"
        }
    };
    println!(
        "next: cd {} && {next} (README.md has the build, check and try lines)",
        dir.display()
    );
    Ok(())
}

fn print_dev_banner(settings: &Settings, local: std::net::SocketAddr, fingerprint: &str) {
    println!("importhook dev mode: self-signed certificate for localhost");
    println!("  SHA-256 fingerprint: {fingerprint}");
    if let Some(secret) = &settings.generated_secret {
        println!(
            "  generated secret ({} header): {}",
            settings.secrets.header(),
            secret.expose()
        );
    }
    println!(
        "  try: curl -k -H '{}: <secret>' -H 'content-type: application/json' --data @request.json https://localhost:{}{}",
        settings.secrets.header(),
        local.port(),
        settings.hook_path
    );
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot listen for SIGTERM");
            return std::future::pending().await;
        }
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received"),
    }
}
