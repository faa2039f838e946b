//! The preview run: its flags and configuration, and the loop over the rows (in file order,
//! as Okta imports them, each seeing the logins earlier rows will create).

use std::collections::HashMap;
use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use importhook_preview_report::{
    Decision, HtmlReport, JsonlReport, PluginRun, RowReport, Skipped, Summary,
};

use super::decide::{self, plugin_outcome, projected_login};
use super::matching::{self, Found, Mapping, Org, Rule};
use super::seed::Seeded;
use super::summary::{Progress, Tally, count_rows};
use super::{existing, input};
use crate::config::layer::{ConfigLayer, Origin, pick};
use crate::directory::{Directory, Lookup};
use crate::engine::{PluginSet, Runtime, Services};
use crate::hook::config::Limits;
use crate::okta::ActionResult;
use crate::okta::login::equivalent;

/// `importhook preview` flags.
#[derive(Debug, clap::Args)]
pub struct PreviewArgs {
    /// The import: a CSV with a header, or JSON Lines of app-user profiles
    #[arg(long, value_name = "FILE")]
    users: PathBuf,
    /// An export of the org's users (CSV or JSON Lines: id, login, email, firstName,
    /// lastName) to match against, offline [default: the org of okta_org_url, if set]
    #[arg(long, value_name = "FILE")]
    existing: Option<PathBuf>,
    /// TOML configuration file: the keys `serve` reads, and `[preview.mapping]`
    #[arg(long, env = "IMPORTHOOK_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Okta user attribute from a column, e.g. `--map login=userName` (repeatable; over
    /// `[preview.mapping]`) [default: columns named as Okta's attributes]
    #[arg(long = "map", value_name = "ATTRIBUTE=COLUMN")]
    map: Vec<String>,
    /// The app's matching rules, comma-separated: USERNAME, EMAIL, FIRST_AND_LAST_NAME
    /// [default: USERNAME]
    #[arg(long, value_name = "RULES", value_delimiter = ',')]
    match_on: Vec<String>,
    /// Write one JSON line per row here (mode 0600: it holds profile data)
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Write the HTML report here (mode 0600: it holds profile data)
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    #[command(flatten)]
    layer: ConfigLayer,
}

/// What a preview runs with, resolved from the flags and the file.
struct Plan {
    plugins_dir: PathBuf,
    cache_dir: PathBuf,
    login_format: crate::okta::login::LoginFormat,
    debug_timings: bool,
    state: crate::state::StateConfig,
    hook: Limits,
    engine: crate::engine::config::Limits,
    directory: Option<crate::directory::Config>,
    mapping: Mapping,
    rules: Vec<Rule>,
}

impl Plan {
    fn resolve(args: &PreviewArgs) -> anyhow::Result<Self> {
        let file = match &args.config {
            Some(path) => crate::config::read_file(path)?,
            None => ConfigLayer::default(),
        };
        let cli = &args.layer;
        let origin = Origin {
            file: args.config.as_deref(),
        };
        let plugins_dir = pick(&cli.plugins, &file.plugins)
            .map_or_else(|| PathBuf::from("plugins.d"), |(p, _)| p);
        let cache_dir = pick(&cli.cache_dir, &file.cache_dir).map_or_else(
            || crate::engine::default_cache_dir(&plugins_dir),
            |(p, _)| p,
        );
        let login_format = match pick(&cli.login_format, &file.login_format) {
            None => crate::okta::login::LoginFormat::default(),
            Some((text, from_cli)) => {
                crate::config::login_format(Some(&text), &origin.name(from_cli, "login_format"))?
            }
        };
        let section = file.preview.clone().unwrap_or_default();
        let mut mapping = Mapping {
            attributes: section.mapping,
        };
        for entry in &args.map {
            let (attribute, column) = entry
                .split_once('=')
                .filter(|(a, c)| !a.trim().is_empty() && !c.trim().is_empty())
                .with_context(|| format!("--map {entry}: write ATTRIBUTE=COLUMN"))?;
            mapping
                .attributes
                .insert(attribute.trim().to_owned(), column.trim().to_owned());
        }
        let (names, field) = if args.match_on.is_empty() {
            let field = match &args.config {
                Some(path) => format!("config file {}: field `preview.match_on`", path.display()),
                None => String::new(),
            };
            (
                section.match_on.unwrap_or_else(|| vec!["USERNAME".into()]),
                field,
            )
        } else {
            (args.match_on.clone(), "--match-on".to_owned())
        };
        let rules = names
            .iter()
            .map(|name| {
                Rule::parse(name).with_context(|| {
                    format!("{field}: `{name}` is not one of USERNAME, EMAIL, FIRST_AND_LAST_NAME")
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Self {
            plugins_dir,
            cache_dir,
            login_format,
            debug_timings: pick(&cli.debug_timings, &file.debug_timings).is_some_and(|(on, _)| on),
            state: crate::state::config::resolve(cli, &file, &origin)?,
            hook: Limits::resolve(cli, &file, &origin)?,
            engine: crate::engine::config::Limits::resolve(cli, &file, &origin)?,
            directory: crate::directory::config::resolve_from_env(cli, &file, &origin)?,
            mapping,
            rules,
        })
    }
}

/// Runs `importhook preview`.
pub fn run(args: PreviewArgs) -> anyhow::Result<()> {
    let plan = Plan::resolve(&args)?;
    // A file that is not an import fails before anything loads.
    let format = input::detect(&args.users)?;
    if format == input::Format::Csv {
        let column = plan.mapping.login_column();
        anyhow::ensure!(
            input::csv_header(&args.users)?.iter().any(|c| c == column),
            "{}: no column `{column}` for the login: name it in [preview.mapping] (login = \"COLUMN\") or with --map login=COLUMN",
            args.users.display()
        );
    }
    let rows = input::open(&args.users, format)?;
    let org = match &args.existing {
        Some(path) => {
            let export = existing::read(path)?;
            eprintln!(
                "existing users: {} read from {} ({} line(s) without an id or a login skipped)",
                export.org.len(),
                path.display(),
                export.skipped
            );
            export.org
        }
        None => Org::default(),
    };
    let runtime = Runtime::with_memory_budget(
        Some(plan.cache_dir.clone()),
        false,
        plan.engine.memory_budget,
    )?;
    runtime.set_max_plugin_bytes(plan.engine.max_plugin_bytes);
    let extra_cas: Vec<_> = plan
        .directory
        .as_ref()
        .and_then(|d| d.ca_file.clone())
        .map(|path| crate::outbound::ExtraCa {
            key: "okta_ca_file",
            path,
        })
        .into_iter()
        .collect();
    let outbound = crate::outbound::Outbound::new(&extra_cas)?;
    let directory = Directory::configured(plan.directory.clone(), outbound)?;
    let store = Arc::new(Seeded::new());
    let services = Services::with_state_store(store.clone()).with_directory(directory.clone());
    let set = PluginSet::load(runtime, &plan.plugins_dir, &services)?
        .with_debug_timings(plan.debug_timings)
        .with_login_format(plan.login_format);
    let names: Vec<String> = set.plugins().iter().map(|p| p.name().to_owned()).collect();
    // Online matching only when there is no export to match against.
    let online = (args.existing.is_none() && directory.is_configured()).then_some(directory);
    if args.existing.is_none() && online.is_none() {
        eprintln!(
            "no --existing export and no okta_org_url: rows are compared with each other only"
        );
    }
    let total = std::io::stderr()
        .is_terminal()
        .then(|| count_rows(&args.users, format));
    let mut reports = Reports::create(args.out.as_deref(), args.html.as_deref())?;
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let summary = tokio.block_on(async {
        let seeding = store.seed(&plan.state, &names).await?;
        if seeding != Default::default() {
            eprintln!(
                "state seeded read-only: {} counter(s), {} claim(s), {} record(s)",
                seeding.counters, seeding.claims, seeding.records
            );
        }
        let mut preview = Preview {
            plan: &plan,
            set: &set,
            org: &org,
            online: online.as_ref(),
            taken: HashMap::new(),
            tally: Tally::starting_now(),
        };
        let mut progress = Progress::new(total);
        for (line, row) in rows {
            match row {
                Err(reason) => preview.skip(line, reason, &mut reports)?,
                Ok(app_user) => preview.row(line, app_user, &mut reports).await?,
            }
            progress.tick(preview.tally.rows);
        }
        progress.done();
        anyhow::Ok(preview.tally.summary(&args.users, names.clone()))
    })?;
    reports.finish(&summary)?;
    print!("{}", summary.to_terminal());
    std::io::stdout().flush()?;
    Ok(())
}

/// The state of a run: what it reads, and what the earlier rows did.
struct Preview<'a> {
    plan: &'a Plan,
    set: &'a PluginSet,
    org: &'a Org,
    online: Option<&'a Directory>,
    /// Equivalent login → line of the earlier row that creates a user with it.
    taken: HashMap<String, u64>,
    tally: Tally,
}

impl Preview<'_> {
    fn skip(&mut self, line: u64, reason: String, reports: &mut Reports) -> anyhow::Result<()> {
        self.tally.rows += 1;
        self.tally.skipped += 1;
        let skipped = Skipped { line, reason };
        reports.skipped(&skipped)?;
        *self
            .tally
            .skipped_reasons
            .entry(skipped.reason)
            .or_default() += 1;
        Ok(())
    }

    async fn row(
        &mut self,
        line: u64,
        app_user: serde_json::Map<String, serde_json::Value>,
        reports: &mut Reports,
    ) -> anyhow::Result<()> {
        let user = self.plan.mapping.project(&app_user);
        let login = user
            .get("login")
            .and_then(serde_json::Value::as_str)
            .filter(|l| !l.trim().is_empty())
            .map(str::to_owned);
        let Some(login) = login else {
            let reason = format!("no login (column `{}`)", self.plan.mapping.login_column());
            return self.skip(line, reason, reports);
        };
        let mut found = Found {
            matches: self.org.matches(&user, &self.plan.rules),
            login_conflict: self.org.holds(&login) || self.taken.contains_key(&equivalent(&login)),
        };
        if let Some(directory) = self.online {
            // Okta's lookup by login: a user holding it is a conflict, and the username match
            // when the app matches on it.
            let deadline = Instant::now() + Duration::from_secs(10);
            if let Lookup::Found(holder) = directory.user_by_login(&login, deadline).await {
                found.login_conflict = true;
                if self.plan.rules.contains(&Rule::Username) && !found.matches.contains(&holder.id)
                {
                    found.matches.push(holder.id);
                }
            }
        }
        let request = Arc::new(matching::request(
            &format!("preview-{line}"),
            app_user,
            user,
            &found,
            &self.plan.rules,
        ));
        let started = Instant::now();
        let run = self
            .set
            .run_in_slot(&request, started + self.plan.hook.request_timeout)
            .await;
        let latency_us = micros(started.elapsed());
        let verdict = decide::verdict(&request, run.response(), self.plan.hook.on_timeout);
        let before = projected_login(&request).into_owned();
        let mut decision = verdict.decision;
        let mut collision_with_line = None;
        if verdict.action == ActionResult::CreateUser && decision != Decision::Refused {
            let key = equivalent(&verdict.login_after);
            let earlier = self.taken.get(&key).copied();
            if earlier.is_some()
                || self.org.holds(&verdict.login_after)
                || self
                    .online_holds(&verdict.login_after, &before, &found)
                    .await
            {
                decision = Decision::Conflict;
                collision_with_line = earlier;
            } else {
                if verdict.login_after != before {
                    decision = Decision::Renamed;
                }
                self.taken.insert(key, line);
            }
        }
        let plugins: Vec<PluginRun> = run
            .reports
            .iter()
            .map(|r| PluginRun {
                plugin: r.name.to_string(),
                outcome: plugin_outcome(r).to_owned(),
                latency_us: micros(r.stats.elapsed),
            })
            .collect();
        let report = RowReport {
            line,
            decision,
            login_before: before,
            login_after: verdict.login_after,
            action: verdict.action.as_str().to_owned(),
            linked_user_id: verdict.linked_user_id,
            conflicts: crate::okta::to_strings(&request.data.context.conflicts),
            collision_with_line,
            plugins,
            latency_us,
            error: verdict.error,
        };
        self.tally.add(&report);
        reports.row(&report)
    }

    /// Whether the org holds `login` by Okta's lookup: asked only for a login the plugins
    /// proposed (the projected one was asked before the pipeline).
    async fn online_holds(&self, login: &str, before: &str, found: &Found) -> bool {
        let Some(directory) = self.online else {
            return false;
        };
        if equivalent(login) == equivalent(before) {
            return found.login_conflict;
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        matches!(
            directory.user_by_login(login, deadline).await,
            Lookup::Found(_)
        )
    }
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

/// The report files asked for.
struct Reports {
    jsonl: Option<JsonlReport>,
    html: Option<HtmlReport>,
}

impl Reports {
    fn create(out: Option<&Path>, html: Option<&Path>) -> anyhow::Result<Self> {
        let jsonl = out
            .map(|path| {
                JsonlReport::create(path)
                    .with_context(|| format!("cannot create {}", path.display()))
            })
            .transpose()?;
        let html = html
            .map(|path| {
                HtmlReport::create(path)
                    .with_context(|| format!("cannot create {}", path.display()))
            })
            .transpose()?;
        Ok(Self { jsonl, html })
    }

    fn row(&mut self, row: &RowReport) -> anyhow::Result<()> {
        if let Some(jsonl) = &mut self.jsonl {
            jsonl.row(row).context("cannot write the --out report")?;
        }
        if let Some(html) = &mut self.html {
            html.row(row).context("cannot write the --html report")?;
        }
        Ok(())
    }

    fn skipped(&mut self, skipped: &Skipped) -> anyhow::Result<()> {
        if let Some(jsonl) = &mut self.jsonl {
            jsonl
                .skipped(skipped)
                .context("cannot write the --out report")?;
        }
        if let Some(html) = &mut self.html {
            html.skipped(skipped)
                .context("cannot write the --html report")?;
        }
        Ok(())
    }

    fn finish(self, summary: &Summary) -> anyhow::Result<()> {
        if let Some(jsonl) = self.jsonl {
            jsonl.finish().context("cannot write the --out report")?;
        }
        if let Some(html) = self.html {
            html.finish(summary)
                .context("cannot write the --html report")?;
        }
        Ok(())
    }
}
