//! Command-line arguments. Six flags do not warrant a parser dependency.

use std::path::PathBuf;

use crate::descriptions::Source;

pub const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  refresh-spec [--from URL|PATH] [--prefix P]... [--out PATH] [--check] [--no-compile]
               [--descriptions upstream|own] [--summary-markdown FILE]
      Cut the operations under each prefix (default /api/partner/) and the
      components they reach out of the upstream OpenAPI document, normalize
      them, check that the crate generated from the result compiles (a
      `cargo check` under target/spec-check), and write it (default
      spec/partner.json, with spec/partner.api.txt beside it).
      --from   the upstream document, a URL or a local file
               (default https://api2.rhombussystems.com/api/openapi/public.json)
      --prefix keep operations whose path starts with P (repeatable)
      --out    where to write the fragment (the API listing is written only
               for the default, spec/partner.json)
      --check  write nothing; exit 1 with the summary if the result differs
               from the file in place
      --no-compile  skip the compile check (the generator step still runs):
               faster, for fragments that are only inspected
      --descriptions  where `description` and `summary` texts come from:
               `upstream` (default) keeps upstream's; `own` drops them and
               keeps those already in the fragment in place, by JSON pointer
      --summary-markdown  also write the change summary, with what each
               change breaks and the version bump, as Markdown to FILE
               (a pull request description)
  api-listing
      Rewrite spec/partner.api.txt from spec/partner.json.
  bench-build [--runs N]
      Measure what the crate adds to a build against a handwritten baseline
      (clean builds, rebuilds, the build script, the whole document);
      N runs of each (default 3). Takes many minutes; see BENCHMARKS.md.";

pub const DEFAULT_SOURCE: &str = "https://api2.rhombussystems.com/api/openapi/public.json";
pub const DEFAULT_PREFIX: &str = "/api/partner/";

pub enum Command {
    RefreshSpec(RefreshOptions),
    ApiListing,
    BenchBuild { runs: usize },
    Help,
}

#[derive(Debug, PartialEq)]
pub struct RefreshOptions {
    pub from: String,
    pub prefixes: Vec<String>,
    /// `None`: the checked-in `spec/partner.json` (and its listing).
    pub out: Option<PathBuf>,
    pub check: bool,
    /// Whether the crate is type-checked against the result.
    pub compile: bool,
    pub descriptions: Source,
    pub summary_markdown: Option<PathBuf>,
}

pub fn parse(args: &[String]) -> Result<Command, String> {
    let Some((command, rest)) = args.split_first() else {
        return Ok(Command::Help);
    };
    match command.as_str() {
        "refresh-spec" => parse_refresh(rest).map(Command::RefreshSpec),
        "api-listing" if rest.is_empty() => Ok(Command::ApiListing),
        "api-listing" => Err(format!("api-listing takes no arguments\n\n{USAGE}")),
        "bench-build" => match rest {
            [] => Ok(Command::BenchBuild { runs: 3 }),
            [flag, n] if flag == "--runs" => n
                .parse()
                .ok()
                .filter(|n| *n > 0)
                .map(|runs| Command::BenchBuild { runs })
                .ok_or_else(|| format!("--runs takes a positive number, not {n:?}")),
            _ => Err(format!("bench-build takes only --runs N\n\n{USAGE}")),
        },
        "help" | "--help" | "-h" => Ok(Command::Help),
        other => Err(format!("unknown command `{other}`\n\n{USAGE}")),
    }
}

fn parse_refresh(args: &[String]) -> Result<RefreshOptions, String> {
    let mut options = RefreshOptions {
        from: DEFAULT_SOURCE.to_owned(),
        prefixes: Vec::new(),
        out: None,
        check: false,
        compile: true,
        descriptions: Source::Upstream,
        summary_markdown: None,
    };
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        // Both `--flag value` and `--flag=value`.
        let (name, inline) = match flag.split_once('=') {
            Some((name, value)) => (name, Some(value.to_owned())),
            None => (flag.as_str(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next().cloned())
                .filter(|v| !v.is_empty())
                .ok_or_else(|| format!("{name} needs a value\n\n{USAGE}"))
        };
        match name {
            "--from" => options.from = value()?,
            "--prefix" => {
                let prefix = value()?;
                if !prefix.starts_with('/') {
                    return Err(format!(
                        "--prefix {prefix:?} must start with `/`, like /api/partner/"
                    ));
                }
                options.prefixes.push(prefix);
            }
            "--out" => options.out = Some(PathBuf::from(value()?)),
            "--check" if inline.is_none() => options.check = true,
            "--no-compile" if inline.is_none() => options.compile = false,
            "--descriptions" => options.descriptions = Source::parse(&value()?)?,
            "--summary-markdown" => options.summary_markdown = Some(PathBuf::from(value()?)),
            _ => return Err(format!("unknown argument `{flag}`\n\n{USAGE}")),
        }
    }
    if options.prefixes.is_empty() {
        options.prefixes.push(DEFAULT_PREFIX.to_owned());
    }
    Ok(options)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refresh(args: &[&str]) -> Result<RefreshOptions, String> {
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        match parse(&args)? {
            Command::RefreshSpec(options) => Ok(options),
            _ => Err("not refresh-spec".to_owned()),
        }
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
        ])
        .unwrap();
        assert_eq!(options.descriptions, Source::Own);
        assert_eq!(options.summary_markdown, Some(PathBuf::from("pr.md")));
        assert_eq!(options.from, "a.json");
        assert_eq!(options.prefixes, ["/api/", "/b/"]);
        assert_eq!(options.out, Some(PathBuf::from("x.json")));
        assert!(options.check);
        assert!(!options.compile);
    }

    #[test]
    fn mistakes_are_explained() {
        assert!(
            refresh(&["refresh-spec", "--from"])
                .unwrap_err()
                .contains("needs a value")
        );
        assert!(
            refresh(&["refresh-spec", "--prefix", "api"])
                .unwrap_err()
                .contains("start with")
        );
        assert!(
            refresh(&["refresh-spec", "--frm", "x"])
                .unwrap_err()
                .contains("unknown argument")
        );
        assert!(refresh(&["refresh-spec", "--check=yes"]).is_err());
        assert!(
            refresh(&["refresh-spec", "--descriptions", "mine"])
                .unwrap_err()
                .contains("`upstream` or `own`")
        );
        assert!(parse(&["bogus".to_owned()]).is_err());
    }
}
