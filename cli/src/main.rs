//! The `rhombus-audit` command: see `--help`, and the README's "Fleet
//! audit" section for the records `--json` and `--csv` give.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::builder::TypedValueParser as _;
use clap::{CommandFactory, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rhombus_audit::audit::{self, Audit, Plan, SortBy, Tally};
use rhombus_audit::clients;
use rhombus_audit::config::{self, Profile, RegionName};
use rhombus_audit::facts::{ErrorKind, Fact};
use rhombus_audit::output::{self, View};
use rhombus_audit::{diff, diff_output};
use rhombus_fake::{FAKE_API_KEY, FakeFleet, FakeOptions, FakeServer};
use rhombus_partner::{Client, ClientBuilder, Pacing};

/// Every fact of every client was read (and the license pool).
const COMPLETE: u8 = 0;
/// The audit ran, but some facts or clients (or the pool) were not read.
const INCOMPLETE: u8 = 1;
/// The command line or the configuration is wrong (clap's own code too).
const USAGE: u8 = 2;
/// Nothing was audited: the partner's client listing could not be read.
const NOT_RUN: u8 = 3;

/// Interrupted (Ctrl-C): what was audited is printed, and the run exits
/// 128 + SIGINT, as a shell does.
const INTERRUPTED: u8 = 130;

/// The progress bar shows once a run has lasted this long.
const LONG_RUN: Duration = Duration::from_millis(700);

#[derive(Debug, Parser)]
#[command(
    version = rhombus_audit::version::VERSION,
    args_conflicts_with_subcommands = true,
    about = "Audit every client organization of a Rhombus partner: cameras offline, degraded, not recording \
             or behind on firmware, \
             doors, policy alerts of the last 7 days, users, licenses ending within 30 days or on \
             trial, and the license pool against what the clients need.",
    after_help = "Without RHOMBUS_API_KEY the audit runs against a fake Rhombus server in-process, \
                  playing a demo partner (no account, no network). With it, the real account is \
                  audited; RHOMBUS_AUTH_SCHEME and RHOMBUS_BASE_URL are read too. With \
                  --profile NAME, the account of [profiles.NAME] in the config file is \
                  audited instead (see the README's fleet audit section for its format).\n\n\
                  A fact not read is `?` in the table (a note says why), null in JSON (the \
                  record's `errors` say why) and an empty cell in CSV.\n\n\
                  Exit status: 0 every fact of every client read; 1 some facts or clients (or \
                  the license pool) not read; 2 a wrong command line or configuration; 3 \
                  nothing audited (the client listing was refused or unreachable; with --json, \
                  a document with `fatal` on stdout); 130 interrupted by Ctrl-C (the clients \
                  audited are printed, and which were not)."
)]
struct Args {
    /// Print one JSON document (one record per client) instead of the table.
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// Print CSV (a header, then one line per client) instead of the table.
    #[arg(long)]
    csv: bool,
    /// Show every column in the table, not only the default ones.
    #[arg(long)]
    wide: bool,
    /// The facts the table shows, by their JSON names (comma-separated, in
    /// the usual order whatever order they are given), e.g.
    /// `--columns cameras,cameras_not_recording,doors_unhealthy`. JSON and CSV
    /// always hold every fact.
    #[arg(long, value_delimiter = ',', value_name = "FACT,...",
          value_parser = clap::builder::NonEmptyStringValueParser::new().try_map(|f| Fact::by_field(&f)))]
    columns: Vec<Fact>,
    /// Only the clients with something to do: a camera offline, not
    /// recording, malfunctioning or behind on firmware, a door unhealthy,
    /// licenses ending, or a fact not read (the totals stay the fleet's).
    #[arg(long)]
    problems: bool,
    /// Audit only these clients: UUIDs, or names in any case, comma-separated
    /// (each trimmed). @FILE reads one client a line from a file, - from
    /// standard input (blank lines and # comments skipped).
    #[arg(long, value_delimiter = ',', value_name = "CLIENT,...|@FILE|-",
          value_parser = clap::builder::NonEmptyStringValueParser::new().try_map(clients::trim_entry))]
    clients: Vec<String>,
    /// Requests in flight at once, across all clients.
    #[arg(long, value_name = "N", default_value_t = ClientBuilder::DEFAULT_MAX_CONCURRENT_REQUESTS,
          value_parser = clap::value_parser!(u16).range(1..).map(usize::from))]
    concurrency: usize,
    /// Send every request as soon as a slot is free: a 429 is only
    /// retried. By default, once the API has answered 429, each client
    /// organization's requests are paced at a rate learned from the 429s
    /// (and more clients are audited at once, so that the requests in
    /// flight stay as many).
    #[arg(long)]
    no_pacing: bool,
    /// The order of the table's rows (and of the records).
    #[arg(long, value_enum, default_value_t = SortBy::Name)]
    sort: SortBy,
    /// No progress bar, and no note about the fake server.
    #[arg(long, short)]
    quiet: bool,
    /// Log more on stderr: -v each retry, -vv every attempt. Warnings the
    /// API sends are logged without it.
    #[arg(long, short, action = clap::ArgAction::Count)]
    verbose: u8,

    // -- Which account: a profile of the config file, the region ---------
    /// Audit the partner account of [profiles.NAME] in the config file,
    /// instead of RHOMBUS_API_KEY's.
    #[arg(long, value_name = "NAME")]
    profile: Option<String>,
    /// The config file [default: $XDG_CONFIG_HOME/rhombus-audit/config.toml,
    /// else ~/.config/rhombus-audit/config.toml].
    #[arg(long, value_name = "PATH", requires = "profile")]
    config: Option<PathBuf>,
    /// The API's region, for RHOMBUS_API_KEY's account or a profile's (over
    /// its `region`); a base URL (RHOMBUS_BASE_URL, `base_url`) wins.
    #[arg(long, value_enum, value_name = "REGION")]
    region: Option<RegionName>,
    // --- Streaming output (issue 27) ---
    /// Print one JSON line per client as each finishes (`"kind":"client"`,
    /// then the record --json gives), then a summary line
    /// (`"kind":"summary"`: totals, pool, `interrupted`). Lines come in the
    /// order clients finish; --sort does not apply. Nothing is lost to a
    /// Ctrl-C or a crash but the clients in progress.
    #[arg(long, conflicts_with_all = ["json", "csv"])]
    ndjson: bool,

    /// Print shell completions or the man page, compare two audits, or
    /// serve audits made on an interval, instead of auditing once.
    #[command(subcommand)]
    tool: Option<Tool>,
}

/// What the command does instead of auditing: print about itself, or
/// compare two audits.
#[derive(Debug, Subcommand)]
enum Tool {
    /// Print the completion script for SHELL on stdout, e.g.
    /// `rhombus-audit completions bash > ~/.local/share/bash-completion/completions/rhombus-audit`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) on stdout, e.g. `rhombus-audit man > rhombus-audit.1`.
    Man,
    /// What changed between two audits of the same partner (each
    /// `rhombus-audit --json > FILE`), per client: devices newly offline,
    /// not recording, behind on firmware or in error, or back to health;
    /// licenses ending within 30 days; alerts up or down; clients added,
    /// removed or refusing; facts newly unknown or known again. Exit
    /// status: 0 nothing changed (nothing printed), 1 changes, 2 trouble:
    /// a file unreadable, cut short, or not an audit the diff can compare
    /// (another schema_version, interrupted, made with --problems), or the
    /// two of different partner accounts; the message says which.
    Diff(DiffArgs),
    /// Audit on an interval and serve the last audit: /metrics (Prometheus
    /// and OpenMetrics), / (an HTML page) and /healthz, until SIGTERM or
    /// Ctrl-C (exit 0). See the README's `serve` section.
    Serve(rhombus_audit::serve::Options),
}

/// `rhombus-audit diff OLD NEW`.
#[derive(Debug, clap::Args)]
struct DiffArgs {
    /// The earlier audit's `--json` document.
    old: PathBuf,
    /// The later audit's `--json` document.
    new: PathBuf,
    /// Print one JSON document (one record per change) instead of the table.
    #[arg(long)]
    json: bool,
    /// Report a client's policy alerts of the last 7 days when they move
    /// by more than PERCENT of the earlier count (and by at least 5).
    #[arg(long, value_name = "PERCENT", default_value_t = diff::DEFAULT_ALERTS_THRESHOLD)]
    alerts_threshold: u32,
}

/// Prints what `tool` asks for.
fn print_tool(tool: &Tool) -> ExitCode {
    let mut command = Args::command();
    let mut text = Vec::new();
    match tool {
        Tool::Diff(args) => return ExitCode::from(run_diff(args)),
        Tool::Completions { shell } => {
            clap_complete::generate(*shell, &mut command, "rhombus-audit", &mut text)
        }
        Tool::Man => (clap_mangen::Man::new(command).render(&mut text))
            .expect("a man page renders in memory"),
        // Not a printout, but a subcommand all the same.
        Tool::Serve(options) => return serve(options),
    }
    write_stdout(&String::from_utf8_lossy(&text));
    ExitCode::SUCCESS
}

/// `diff`: the two documents compared, printed; 0 nothing changed, 1
/// changes, 2 (`USAGE`) a file or a pair that cannot be compared.
fn run_diff(args: &DiffArgs) -> u8 {
    let read = |path: &PathBuf| -> Result<diff::Snapshot, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot be read: {e}", path.display()))?;
        diff::Snapshot::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    };
    let rules = diff::Rules {
        alerts_threshold_percent: args.alerts_threshold,
    };
    let compared = read(&args.old).and_then(|old| {
        let new = read(&args.new)?;
        diff::diff(&old, &new, rules)
            .map_err(|e| format!("{} and {}: {e}", args.old.display(), args.new.display()))
    });
    let changes = match compared {
        Ok(changes) => changes,
        Err(problem) => {
            eprintln!("error: {problem}");
            return USAGE;
        }
    };
    write_stdout(&match args.json {
        true => diff_output::json(&changes),
        false => diff_output::table(&changes),
    });
    u8::from(!changes.changes.is_empty())
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(tool) = &args.tool {
        return print_tool(tool);
    }
    log_to_stderr(args.verbose);
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime starts");
    ExitCode::from(runtime.block_on(run(args)))
}

async fn run(args: Args) -> u8 {
    let (partner, _fake_server) = match connect(&args).await {
        Ok(connected) => connected,
        Err(problem) => {
            eprintln!("error: {problem}");
            return USAGE;
        }
    };
    let only = match clients::expand(&args.clients, &mut std::io::stdin().lock()) {
        Ok(only) => only,
        Err(problem) => {
            eprintln!("error: {problem}");
            return USAGE;
        }
    };
    let plan = Plan {
        now: chrono::Utc::now(),
        only,
        clients_at_once: args.concurrency,
        sort: args.sort,
    };
    let bar = progress_bar(args.quiet);
    let stop = ctrl_c();
    if args.ndjson {
        let result = stream_ndjson(&partner, &plan, stop, &args, &bar).await;
        bar.finish_and_clear();
        return result.unwrap_or_else(|error| not_run(&args, &error));
    }
    let result = audit::run(&partner, &plan, stop, |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    })
    .await;
    bar.finish_and_clear();
    let audit = match result {
        Ok(audit) => audit,
        Err(error) => return not_run(&args, &error),
    };
    print(&args, &audit);
    if audit.interrupted {
        say_interrupted(audit.clients.len(), audit.not_audited.len());
        INTERRUPTED
    } else if audit.complete() {
        COMPLETE
    } else {
        INCOMPLETE
    }
}

/// `serve`: the account chosen as for an audit (the same options, the
/// same demo, the same log), then the server until SIGTERM or Ctrl-C.
fn serve(options: &rhombus_audit::serve::Options) -> ExitCode {
    let args = Args {
        profile: options.profile.clone(),
        config: options.config.clone(),
        region: options.region,
        concurrency: options.concurrency,
        quiet: options.quiet,
        ..Args::parse_from(["rhombus-audit"])
    };
    log_to_stderr(options.verbose);
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime starts");
    runtime.block_on(async {
        let (partner, _fake_server) = match connect(&args).await {
            Ok(connected) => connected,
            Err(problem) => {
                eprintln!("error: {problem}");
                return ExitCode::from(USAGE);
            }
        };
        match rhombus_audit::serve::run(options, partner).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(problem) => {
                eprintln!("error: {problem}");
                ExitCode::from(problem.exit_status())
            }
        }
    })
}

/// What an audit that could not run says, and its exit status.
fn not_run(args: &Args, error: &audit::AuditError) -> u8 {
    eprintln!("error: {error}");
    let kind = match error {
        audit::AuditError::UnknownClients(_) => return USAGE,
        audit::AuditError::Listing(e) => Some(ErrorKind::of(e)),
    };
    if args.json {
        write_stdout(&output::fatal_json(kind, &error.to_string()));
    } else if args.ndjson {
        write_stdout(&output::fatal_ndjson(kind, &error.to_string()));
    }
    NOT_RUN
}

/// `--ndjson`: each client's line as it finishes (only those with a
/// problem under `--problems`), kept nowhere but in the totals; then the
/// summary line.
async fn stream_ndjson(
    partner: &Client,
    plan: &Plan,
    stop: impl Future<Output = ()>,
    args: &Args,
    bar: &ProgressBar,
) -> Result<u8, audit::AuditError> {
    let mut tally = Tally::default();
    let ending = audit::stream(partner, plan, stop, |client, done, total| {
        tally.add(&client);
        if !args.problems || client.has_problem() {
            write_stdout(&output::ndjson_client(&client));
        }
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    })
    .await?;
    write_stdout(&output::ndjson_summary(plan.now, &ending, &tally));
    if ending.interrupted {
        say_interrupted(tally.clients, ending.not_audited.len());
        return Ok(INTERRUPTED);
    }
    let complete = tally.incomplete == 0 && ending.pool.is_ok();
    Ok(if complete { COMPLETE } else { INCOMPLETE })
}

fn say_interrupted(done: usize, not_audited: usize) {
    eprintln!("interrupted: {done} client(s) audited and printed, {not_audited} not audited");
}

/// Completes on the first Ctrl-C (SIGINT). The handler is installed now,
/// before the listing, so that an early Ctrl-C is caught too; if it cannot
/// be, this never completes and Ctrl-C kills the process as before.
fn ctrl_c() -> impl Future<Output = ()> {
    let (sent, received) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = sent.send(());
        }
    });
    async move {
        if received.await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// The library's log (already scrubbed of the key) on stderr: warnings,
/// then more with each `-v`.
fn log_to_stderr(verbose: u8) {
    let level = match verbose {
        0 => tracing::Level::WARN,
        1 => tracing::Level::INFO,
        _ => tracing::Level::DEBUG,
    };
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_target(false)
        .fmt_fields(FieldsAsCreated::default())
        .init();
}

/// Span fields as the span was created with, and an event's own: the
/// library's call span records `attempt` and `status` on each attempt, and
/// the default formatter would append them to the span's fields, so a
/// line would read `attempt=1 status=429 attempt=2`; each attempt's event
/// carries its own `attempt` and `status`. The client's span
/// (`client{client_org=… client_name=…}`) is created with its fields, so
/// every line about a client's calls names it.
#[derive(Default)]
struct FieldsAsCreated(tracing_subscriber::fmt::format::DefaultFields);

impl<'w> tracing_subscriber::fmt::FormatFields<'w> for FieldsAsCreated {
    fn format_fields<R: tracing_subscriber::field::RecordFields>(
        &self,
        writer: tracing_subscriber::fmt::format::Writer<'w>,
        fields: R,
    ) -> std::fmt::Result {
        self.0.format_fields(writer, fields)
    }

    fn add_fields(
        &self,
        _current: &'w mut tracing_subscriber::fmt::FormattedFields<Self>,
        _fields: &tracing::span::Record<'_>,
    ) -> std::fmt::Result {
        Ok(())
    }
}

/// The client for the account the command line or the environment names,
/// with the fake server it talks to when that is the demo (kept alive as
/// long as the client).
async fn connect(args: &Args) -> Result<(Client, Option<FakeServer>), String> {
    let builder = match Account::choose(args)? {
        Account::Profile(profile) => {
            let builder = profile.builder(args.region).map_err(|e| e.to_string())?;
            let partner = (limits(builder, args).build()).map_err(|e| {
                format!(
                    "profile {} of {}: {e}",
                    profile.name,
                    profile.file.display()
                )
            })?;
            return Ok((partner, None));
        }
        Account::Real => ClientBuilder::from_env().map_err(|error| error.to_string())?,
        Account::Demo => return demo(args).await,
    };
    let builder = match args.region {
        Some(region) => builder.region(region.into()),
        None => builder,
    };
    let partner = (limits(builder, args).build()).map_err(|error| error.to_string())?;
    Ok((partner, None))
}

/// `builder` with the command line's limits: the requests in flight and
/// the pacing.
fn limits(builder: ClientBuilder, args: &Args) -> ClientBuilder {
    let pacing = match args.no_pacing {
        true => Pacing::off(),
        false => Pacing::learned(),
    };
    builder
        .max_concurrent_requests(args.concurrency)
        .pacing(pacing)
}

/// The demo partner on the fake server.
async fn demo(args: &Args) -> Result<(Client, Option<FakeServer>), String> {
    let mut fleet = FakeFleet::demo();
    // For tests only: names no demo client has (a quote, a newline).
    if let Ok(names) = std::env::var(rhombus_fake::NAMES_VARIABLE) {
        fleet = (fleet.renamed(&names))
            .map_err(|e| format!("{}: {e}", rhombus_fake::NAMES_VARIABLE))?;
    }
    let server = FakeServer::start(fleet, FakeOptions::default()).await;
    if !args.quiet {
        eprintln!(
            "RHOMBUS_API_KEY is not set: auditing a demo partner on a fake Rhombus server at {} \
             (set RHOMBUS_API_KEY, or use --profile, to audit your account)",
            server.uri()
        );
    }
    let builder = Client::builder()
        .api_key(FAKE_API_KEY)
        .base_url(server.uri());
    let partner = limits(builder, args)
        .build()
        .map_err(|error| error.to_string())?;
    Ok((partner, Some(server)))
}

/// Which account to audit.
enum Account {
    /// `--profile NAME`: that profile of the config file.
    Profile(Box<Profile>),
    /// `RHOMBUS_API_KEY` is set: the real account, as `Client::from_env`
    /// configures it.
    Real,
    /// Nothing is set: the demo partner on the fake server.
    Demo,
}

impl Account {
    fn choose(args: &Args) -> Result<Account, String> {
        let Some(name) = &args.profile else {
            return match Account::from_env()? {
                Account::Demo if args.region.is_some() => Err("--region needs an account: set \
                    RHOMBUS_API_KEY or use --profile (the demo partner has no region)"
                    .to_owned()),
                account => Ok(account),
            };
        };
        let path = (args.config.clone())
            .or_else(config::default_path)
            .ok_or_else(|| {
                "--profile: neither XDG_CONFIG_HOME nor HOME is set, so there is no default \
             config file: name one with --config"
                    .to_owned()
            })?;
        let profile = config::load(&path, name).map_err(|error| error.to_string())?;
        Ok(Account::Profile(Box::new(profile)))
    }

    fn from_env() -> Result<Account, String> {
        let set = |name| std::env::var_os(name).is_some();
        let account = match std::env::var_os("RHOMBUS_API_KEY") {
            Some(key) if key.to_string_lossy().trim().is_empty() => Err(
                "RHOMBUS_API_KEY is set but empty: set it to the partner's API key (Rhombus \
                 console: Settings, API Management), or unset it to audit the demo partner",
            ),
            Some(_) => Ok(Account::Real),
            None if set("RHOMBUS_BASE_URL") => Err(
                "RHOMBUS_BASE_URL is set but RHOMBUS_API_KEY is not: set the partner's API key \
                 to audit that server, or unset RHOMBUS_BASE_URL to audit the demo partner",
            ),
            None => Ok(Account::Demo),
        };
        account.map_err(str::to_owned)
    }
}

fn print(args: &Args, audit: &Audit) {
    let view = View {
        wide: args.wide,
        columns: (!args.columns.is_empty()).then_some(&args.columns[..]),
        problems: args.problems,
    };
    let text = if args.json {
        output::json(audit, view)
    } else if args.csv {
        output::csv(audit, view)
    } else {
        output::table(audit, view)
    };
    write_stdout(&text);
}

fn write_stdout(text: &str) {
    // A closed pipe (`| head`) is not an error of the audit.
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// A bar on stderr that shows only when stderr is a terminal and the run
/// has lasted [`LONG_RUN`]: a short run or a log file gets none.
fn progress_bar(quiet: bool) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    bar.set_style(
        ProgressStyle::with_template("{elapsed:>4} [{bar:40}] {pos}/{len} clients audited")
            .expect("the template parses")
            .progress_chars("=> "),
    );
    if !quiet && std::io::stderr().is_terminal() {
        let shown = bar.clone();
        tokio::spawn(async move {
            tokio::time::sleep(LONG_RUN).await;
            if !shown.is_finished() {
                shown.set_draw_target(ProgressDrawTarget::stderr());
            }
        });
    }
    bar
}
