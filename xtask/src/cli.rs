//! Command-line arguments, parsed by clap: `--help` for every command, and
//! one error style for every mistake, as the commands grow.

use std::path::PathBuf;

use clap::builder::{NonEmptyStringValueParser, RangedU64ValueParser};
use clap::{ArgAction, Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::Error;
use crate::descriptions::Source;
use crate::normalize;

pub const DEFAULT_SOURCE: &str = "https://api2.rhombussystems.com/api/openapi/public.json";
pub const DEFAULT_PREFIX: &str = "/api/partner/";

/// Project automation for rhombus-partner.
#[derive(Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug, PartialEq)]
pub enum Command {
    /// Refresh spec/partner.json from the upstream OpenAPI document.
    ///
    /// Cut the operations under each prefix (default /api/partner/) and the
    /// components they reach out of the upstream OpenAPI document, normalize
    /// them, check that the crate generated from the result compiles (a
    /// `cargo check` under target/spec-check), and write it (default
    /// spec/partner.json, with spec/partner.api.txt beside it).
    // A flag given twice keeps its last value, as the handwritten parser did.
    #[command(args_override_self = true)]
    RefreshSpec(RefreshOptions),
    /// Rewrite spec/partner.api.txt from spec/partner.json.
    ApiListing,
    /// Measure what the crate adds to a build against a handwritten
    /// baseline.
    ///
    /// Clean builds, rebuilds, the build script, the whole document, each
    /// measured N times. Takes many minutes; see BENCHMARKS.md.
    BenchBuild {
        /// How many runs of each measurement.
        #[arg(long, value_name = "N", default_value_t = 3,
              value_parser = RangedU64ValueParser::<usize>::new().range(1..))]
        runs: usize,
    },
    /// No command: the help, with the normalization passes.
    #[command(skip)]
    Help,
}

#[derive(Args, Debug, PartialEq)]
pub struct RefreshOptions {
    /// The upstream document, a URL or a local file.
    #[arg(long, value_name = "URL|PATH", default_value = DEFAULT_SOURCE,
          value_parser = NonEmptyStringValueParser::new())]
    pub from: String,
    /// Keep operations whose path starts with P (repeatable).
    #[arg(long = "prefix", value_name = "P", default_value = DEFAULT_PREFIX,
          value_parser = prefix)]
    pub prefixes: Vec<String>,
    /// Where to write the fragment (default spec/partner.json; the API
    /// listing is written only for that default).
    // `None`: the checked-in fragment and its listing.
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// Write nothing; exit 1 with the summary if the result differs from
    /// the file in place.
    #[arg(long)]
    pub check: bool,
    /// Skip the compile check (the generator step still runs): faster, for
    /// fragments that are only inspected.
    #[arg(long = "no-compile", action = ArgAction::SetFalse)]
    pub compile: bool,
    /// Refuse (write nothing, exit non-zero) instead of opening a schema the
    /// generator cannot type or leaving out an operation it refuses.
    #[arg(long)]
    pub strict: bool,
    /// Where `description` and `summary` texts come from: `upstream` keeps
    /// upstream's; `own` drops them and keeps those already in the fragment
    /// in place, by JSON pointer.
    #[arg(long, value_name = "upstream|own", default_value = "upstream",
          value_parser = Source::parse)]
    pub descriptions: Source,
    /// Leave the partner fragment as it is and refresh only the areas (for a
    /// source whose partner part is older than the fragment in place).
    #[arg(long = "no-partner", action = ArgAction::SetFalse)]
    pub partner: bool,
    /// Which areas of the client-org API to refresh besides the partner
    /// fragment (into spec/areas/<area>.json, with <area>.api.txt): `all`
    /// the source has, `none`, or a comma-separated list (`camera,door`).
    /// Ignored with --out.
    #[arg(long, value_name = "all|none|A,B", default_value = "all",
          value_parser = AreaChoice::parse)]
    pub areas: AreaChoice,
    /// Also write the change summary, with what each change breaks and the
    /// version bump, as Markdown to FILE (a pull request description).
    #[arg(long, value_name = "FILE")]
    pub summary_markdown: Option<PathBuf>,
    /// Also write a one-line pull request title naming the version bump
    /// (`... 0.1.0 → 0.2.0 (breaking)`) to FILE.
    #[arg(long, value_name = "FILE")]
    pub pr_title: Option<PathBuf>,
    /// Also list where this workspace's `.rs` files (outside target/) call
    /// the methods of operations a `V<n>` twin supersedes.
    #[arg(long)]
    pub callers: bool,
}

/// The `--areas` choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AreaChoice {
    /// Every area the source has operations in.
    All,
    /// The partner fragment only.
    None,
    /// These areas.
    These(Vec<String>),
}

impl AreaChoice {
    pub fn parse(value: &str) -> Result<Self, Error> {
        match value {
            "all" => Ok(AreaChoice::All),
            "none" => Ok(AreaChoice::None),
            list => {
                let names: Vec<String> = list.split(',').map(|n| n.trim().to_owned()).collect();
                match names.iter().find(|n| n.is_empty() || n.contains('/')) {
                    Some(bad) => Err(Error::Argument(format!(
                        "--areas takes `all`, `none` or area names separated by commas \
                         (like camera,door), not {bad:?} in {value:?}"
                    ))),
                    None => Ok(AreaChoice::These(names)),
                }
            }
        }
    }
}

/// A prefix is matched against paths, which all start with `/`: without
/// one it would match nothing, silently.
fn prefix(value: &str) -> Result<String, Error> {
    if value.starts_with('/') {
        Ok(value.to_owned())
    } else {
        Err(Error::Argument(format!(
            "--prefix {value:?} must start with `/`, like /api/partner/"
        )))
    }
}

/// The command line, with the normalization passes after the commands:
/// they are what a refresh did when its log names them.
fn command() -> clap::Command {
    let mut passes = String::from("Normalization passes, in order:");
    for pass in normalize::PASSES {
        passes.push_str(&format!("\n  {}: {}", pass.name, pass.why));
    }
    Cli::command().after_help(passes)
}

/// Parses `args` (without the program name); no command at all is
/// [`Command::Help`].
pub fn parse(args: &[String]) -> Result<Command, clap::Error> {
    let argv = std::iter::once("xtask").chain(args.iter().map(String::as_str));
    let matches = command().try_get_matches_from(argv)?;
    let cli = Cli::from_arg_matches(&matches)?;
    Ok(cli.command.unwrap_or(Command::Help))
}

/// What `cargo xtask` alone prints.
pub fn help() -> String {
    command().render_help().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refresh(args: &[&str]) -> Result<RefreshOptions, clap::Error> {
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        match parse(&args)? {
            Command::RefreshSpec(options) => Ok(options),
            _ => panic!("not refresh-spec: {args:?}"),
        }
    }

    fn parse_strs(args: &[&str]) -> Result<Command, clap::Error> {
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        parse(&args)
    }

    #[test]
    fn defaults() {
        let options = refresh(&["refresh-spec"]).unwrap();
        assert_eq!(options.from, DEFAULT_SOURCE);
        assert_eq!(options.prefixes, [DEFAULT_PREFIX]);
        assert_eq!(options.out, None);
        assert!(!options.check);
        assert!(options.compile);
        assert_eq!(options.descriptions, Source::Upstream);
        assert_eq!(options.summary_markdown, None);
        assert_eq!(options.pr_title, None);
        assert_eq!(options.areas, AreaChoice::All);
        assert!(options.partner);
        assert!(!options.callers);
    }

    #[test]
    fn areas_are_all_none_or_a_list() {
        let areas = |value: &str| refresh(&["refresh-spec", "--areas", value]).map(|o| o.areas);
        assert_eq!(areas("none").unwrap(), AreaChoice::None);
        assert_eq!(
            areas("camera, door").unwrap(),
            AreaChoice::These(vec!["camera".to_owned(), "door".to_owned()])
        );
        assert!(
            areas("camera,,door")
                .unwrap_err()
                .to_string()
                .contains("camera,door")
        );
        assert!(areas("/api/camera/").is_err());
    }

    #[test]
    fn every_flag_in_both_forms() {
        let options = refresh(&[
            "refresh-spec",
            "--from",
            "a.json",
            "--prefix=/api/",
            "--prefix",
            "/b/",
            "--out=x.json",
            "--check",
            "--no-compile",
            "--descriptions=own",
            "--summary-markdown",
            "pr.md",
            "--pr-title=title.txt",
            "--no-partner",
            "--callers",
        ])
        .unwrap();
        assert!(!options.partner);
        assert!(options.callers);
        assert_eq!(options.descriptions, Source::Own);
        assert_eq!(options.summary_markdown, Some(PathBuf::from("pr.md")));
        assert_eq!(options.pr_title, Some(PathBuf::from("title.txt")));
        assert_eq!(options.from, "a.json");
        assert_eq!(options.prefixes, ["/api/", "/b/"]);
        assert_eq!(options.out, Some(PathBuf::from("x.json")));
        assert!(options.check);
        assert!(!options.compile);
    }

    #[test]
    fn a_flag_given_twice_keeps_its_last_value() {
        let options = refresh(&["refresh-spec", "--from", "a.json", "--from", "b.json"]).unwrap();
        assert_eq!(options.from, "b.json");
    }

    #[test]
    fn mistakes_are_explained() {
        assert!(
            refresh(&["refresh-spec", "--from"])
                .unwrap_err()
                .to_string()
                .contains("a value is required for '--from")
        );
        assert!(refresh(&["refresh-spec", "--from="]).is_err());
        assert!(refresh(&["refresh-spec", "--out="]).is_err());
        assert!(
            refresh(&["refresh-spec", "--prefix", "api"])
                .unwrap_err()
                .to_string()
                .contains("start with")
        );
        assert!(
            refresh(&["refresh-spec", "--frm", "x"])
                .unwrap_err()
                .to_string()
                .contains("unexpected argument '--frm'")
        );
        assert!(refresh(&["refresh-spec", "--check=yes"]).is_err());
        assert!(
            refresh(&["refresh-spec", "--descriptions", "mine"])
                .unwrap_err()
                .to_string()
                .contains("`upstream` or `own`")
        );
        assert!(parse_strs(&["bogus"]).is_err());
        assert!(parse_strs(&["api-listing", "extra"]).is_err());
    }

    #[test]
    fn bench_build_takes_a_positive_run_count() {
        assert_eq!(
            parse_strs(&["bench-build"]).unwrap(),
            Command::BenchBuild { runs: 3 }
        );
        assert_eq!(
            parse_strs(&["bench-build", "--runs", "5"]).unwrap(),
            Command::BenchBuild { runs: 5 }
        );
        assert!(parse_strs(&["bench-build", "--runs", "0"]).is_err());
        assert!(parse_strs(&["bench-build", "--runs", "x"]).is_err());
    }

    #[test]
    fn no_command_is_help_and_help_lists_the_passes() {
        assert_eq!(parse_strs(&[]).unwrap(), Command::Help);
        let help = help();
        assert!(help.contains("refresh-spec"), "{help}");
        let first = normalize::PASSES[0].name;
        assert!(help.contains(first), "{first} not in {help}");
        let asked = parse_strs(&["--help"]).unwrap_err();
        assert_eq!(asked.kind(), clap::error::ErrorKind::DisplayHelp);
        assert!(asked.to_string().contains(first));
    }

    /// clap's own consistency checks (conflicting names, bad defaults),
    /// which otherwise run only when a command is parsed.
    #[test]
    fn the_command_line_is_well_formed() {
        command().debug_assert();
    }
}
