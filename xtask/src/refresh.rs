//! `cargo xtask refresh-spec`: load, cut, normalize, validate, compare,
//! write. Nothing is written unless every step succeeded.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::Value;

use crate::cli::RefreshOptions;
use crate::normalize::{self, LeftOut};
use crate::project::{self, API_LISTING, FRAGMENT, project_root};
use crate::{canonical, codegen, compile, descriptions, extract, impact, listing, source, summary};

/// A refreshed fragment and what it took to make it.
pub struct Refreshed {
    /// Canonical text of the fragment.
    pub text: String,
    pub value: Value,
    /// Every pass by name, with how many places it changed.
    pub passes: Vec<(&'static str, usize)>,
    pub left_out: Vec<LeftOut>,
    pub operations: usize,
    pub schemas: usize,
    /// The client generated from it, for the API listing.
    pub client: String,
    /// Whether the crate was type-checked against it.
    pub compiled: bool,
}

pub fn run(options: &RefreshOptions) -> Result<ExitCode, String> {
    let root = project_root();
    let (out, is_checked_in) = match &options.out {
        Some(out) => (out.clone(), false),
        None => (root.join(FRAGMENT), true),
    };

    let upstream = source::load(&options.from)?;
    let previous_text = std::fs::read_to_string(&out).ok();
    let previous = previous_text
        .as_deref()
        .and_then(|t| serde_json::from_str::<Value>(t).ok());
    let descriptions = Descriptions {
        source: options.descriptions,
        current: previous.as_ref(),
    };
    let refreshed = refresh_with(
        &upstream,
        &options.prefixes,
        &options.from,
        &descriptions,
        options.compile,
    )?;
    print_log(&refreshed);

    let summary = summary::compare(previous.as_ref(), &refreshed.value);
    let new_listing = listing::of_client(&refreshed.text, &refreshed.client)?;
    // The fragment in place may predate a generator change; without its
    // listing every type counts as added.
    let old_listing = previous_text
        .as_deref()
        .and_then(|text| listing::render(text).ok());
    let changes = impact::assess(old_listing.as_deref(), &new_listing);
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap_or_default();
    let version = impact::crate_version(&manifest).unwrap_or_else(|| "0.0.0".to_owned());
    let listing = is_checked_in.then_some(new_listing);
    let listing_path = root.join(API_LISTING);
    let unchanged = previous_text.as_deref() == Some(refreshed.text.as_str())
        && listing.as_ref().is_none_or(|l| {
            std::fs::read_to_string(&listing_path).ok().as_deref() == Some(l.as_str())
        });

    println!("\nagainst {}:\n{summary}", out.display());
    print!("{}", impact::text(&changes, &version));
    if let Some(path) = &options.summary_markdown {
        let markdown = impact::markdown(&changes, &version, &options.from, &summary.to_string());
        project::write_atomically(path, &markdown)?;
        println!("wrote {}", path.display());
    }
    if let Some(path) = &options.pr_title {
        project::write_atomically(path, &impact::title(&changes, &version))?;
        println!("wrote {}", path.display());
    }
    if options.check {
        if unchanged {
            println!("{} is up to date", out.display());
            return Ok(ExitCode::SUCCESS);
        }
        println!("{} is stale: run `cargo xtask refresh-spec`", out.display());
        return Ok(ExitCode::from(1));
    }
    project::write_atomically(&out, &refreshed.text)?;
    println!("wrote {}", out.display());
    if let Some(listing) = listing {
        project::write_atomically(&listing_path, &listing)?;
        println!("wrote {}", listing_path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// The whole transformation, without touching any file but the compile
/// check's scratch copy: `upstream` (read from `from`) to a validated,
/// canonical fragment with upstream's descriptions; `compile`: whether the
/// crate is type-checked against it ([`compile`]).
pub fn refresh(
    upstream: &Value,
    prefixes: &[String],
    from: &str,
    compile: bool,
) -> Result<Refreshed, String> {
    let descriptions = Descriptions {
        source: descriptions::Source::Upstream,
        current: None,
    };
    refresh_with(upstream, prefixes, from, &descriptions, compile)
}

/// Where the refreshed fragment's prose comes from.
pub struct Descriptions<'a> {
    pub source: descriptions::Source,
    /// The fragment in place, whose texts [`descriptions::Source::Own`] keeps.
    pub current: Option<&'a Value>,
}

/// [`refresh`], with the descriptions taken from `descriptions`.
pub fn refresh_with(
    upstream: &Value,
    prefixes: &[String],
    from: &str,
    descriptions: &Descriptions,
    compile: bool,
) -> Result<Refreshed, String> {
    codegen::check_version(Path::new(from), upstream).map_err(|e| e.to_string())?;
    let mut doc = extract::select(upstream, prefixes)?;
    let outcomes = normalize::run_all(&mut doc);
    extract::prune_components(&mut doc)?;
    descriptions::apply(descriptions.source, &mut doc, descriptions.current);

    let mut passes = Vec::new();
    let mut left_out = Vec::new();
    for (pass, outcome) in outcomes {
        passes.push((pass.name, outcome.changed));
        left_out.extend(outcome.left_out);
    }
    let operations = doc
        .get("paths")
        .and_then(Value::as_object)
        .map_or(0, extract::count_operations);
    if operations == 0 {
        return Err(format!(
            "every operation under {} was left out, so there is nothing to write:\n{}",
            prefixes.join(", "),
            left_out_lines(&left_out)
        ));
    }
    let schemas = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map_or(0, |s| s.len());

    let text = canonical::to_text(doc);
    let value: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let client = validate(&text, from)?;
    // The generator accepting it is not enough: rustc must too.
    if compile {
        compile::check_compiles(&text).map_err(|e| {
            format!("the refreshed fragment would not compile, so nothing was written:\n{e}")
        })?;
    }
    Ok(Refreshed {
        text,
        value,
        passes,
        left_out,
        operations,
        schemas,
        client,
        compiled: compile,
    })
}

/// The same step build.rs runs, whose errors name the operation or schema:
/// every artifact must generate, the `test-util` mock helpers included,
/// which a build of the library alone would not ask for. Gives the client.
fn validate(text: &str, from: &str) -> Result<String, String> {
    let validated_as = PathBuf::from(format!("<fragment refreshed from {from}>"));
    let refused =
        |e| format!("the refreshed fragment would not build, so nothing was written: {e}");
    let artifacts = codegen::generate(&validated_as, text).map_err(refused)?;
    artifacts.mock.map_err(refused)?;
    Ok(artifacts.client)
}

fn print_log(refreshed: &Refreshed) {
    if refreshed.compiled {
        println!("compiled: the crate type-checks against this fragment");
    } else {
        println!("not compiled (--no-compile): the crate may not build from this fragment");
    }
    println!("normalization passes:");
    for (name, changed) in &refreshed.passes {
        println!("  {name:<28} {changed} changes");
    }
    if !refreshed.left_out.is_empty() {
        println!(
            "left out {} operations:\n{}",
            refreshed.left_out.len(),
            left_out_lines(&refreshed.left_out)
        );
    }
    println!(
        "result: {} operations, {} schemas",
        refreshed.operations, refreshed.schemas
    );
}

fn left_out_lines(left_out: &[LeftOut]) -> String {
    left_out
        .iter()
        .map(|l| format!("  {}: {}", l.operation, l.reason))
        .collect::<Vec<_>>()
        .join("\n")
}
