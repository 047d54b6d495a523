//! `cargo xtask refresh-spec`: load, cut, normalize, validate, compare,
//! write. Nothing is written unless every step succeeded.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::Value;

use crate::Error;
use crate::cli::{AreaChoice, RefreshOptions};
use crate::codegen::layout;
use crate::codegen::surface::Surface;
use crate::normalize::{self, LeftOut};
use crate::project::{self, API_LISTING, FRAGMENT, project_root};
use crate::salvage::{self, Salvage};
use crate::{
    canonical, codegen, compile, descriptions, extract, impact, listing, pr, radar, source, summary,
};

/// A refreshed fragment and what it took to make it.
pub struct Refreshed {
    /// Canonical text of the fragment.
    pub text: String,
    pub value: Value,
    /// Every pass by name, with how many places it changed.
    pub passes: Vec<(&'static str, usize)>,
    /// What the normalization left out (no shape serves it).
    pub left_out: Vec<LeftOut>,
    /// What was repaired, opened or left out so that it builds.
    pub salvage: Salvage,
    pub operations: usize,
    pub schemas: usize,
    /// The API its client exposes, for the listing and the impact.
    pub surface: Surface,
    /// Whether the crate was type-checked against it.
    pub compiled: bool,
}

/// One fragment a run refreshes: the partner fragment, or an area's.
#[derive(Clone)]
struct Job {
    /// `partner`, or the area (`camera`).
    name: String,
    prefixes: Vec<String>,
    out: PathBuf,
    /// The API listing beside a checked-in fragment.
    listing: Option<PathBuf>,
    /// The area's module in `rhombus_partner::areas`, for its listing.
    module: Option<String>,
}

impl Job {
    /// The area, `None` for the partner fragment.
    fn area(&self) -> Option<&str> {
        self.module.as_ref().map(|_| self.name.as_str())
    }

    /// Which client its listing describes.
    fn of(&self) -> listing::Of<'_> {
        match &self.module {
            Some(module) => listing::Of::Area {
                area: &self.name,
                module,
            },
            None => listing::Of::Partner,
        }
    }

    /// Its listing's name in the pull request body: the checked-in path,
    /// else a name beside the fragment written elsewhere.
    fn listing_name(&self, root: &Path) -> String {
        let path = match &self.listing {
            Some(listing) => listing.clone(),
            None => self.out.with_extension("api.txt"),
        };
        path.strip_prefix(root)
            .unwrap_or(&path)
            .display()
            .to_string()
    }
}

/// A job done in memory: what it would write, and what changed.
struct Outcome {
    job: Job,
    text: String,
    listing: Option<String>,
    /// The listings the surfaces before and after render, for the body.
    listing_diff: pr::ListingDiff,
    summary: String,
    changes: Vec<impact::Change>,
    superseded: Vec<radar::Superseded>,
    unchanged: bool,
}

/// What a job's refresh does to the Rust API.
struct Assessed {
    changes: Vec<impact::Change>,
    listing_diff: pr::ListingDiff,
    superseded: Vec<radar::Superseded>,
}

/// Refreshes the partner fragment and, unless `--out` names another file,
/// every area of the client-org API that `--areas` selects from the source:
/// every fragment is made and validated before any is written.
pub fn run(options: &RefreshOptions) -> Result<ExitCode, Error> {
    let root = project_root();
    let upstream = source::load(&options.from)?;
    let mut jobs = Vec::new();
    if options.partner {
        jobs.push(partner_job(options, &root));
    }
    if options.out.is_none() {
        jobs.extend(area_jobs(&upstream, &options.areas, &root)?);
    }
    let mut outcomes = Vec::new();
    for job in jobs {
        let area = job.module.as_ref().map(|_| job.name.clone());
        match (area, prepare_job(job, &upstream, options, &[])) {
            (_, Ok(outcome)) => outcomes.push(outcome),
            // An area with nothing left gets no fragment, and the run goes on.
            (Some(area), Err(error)) if error.is_nothing_left() => {
                println!("area {area} has no fragment: {error}");
            }
            (_, Err(error)) => return Err(error),
        }
    }
    if outcomes.is_empty() {
        return Err(Error::NothingToDo);
    }
    if options.compile {
        type_check_areas(&mut outcomes, &upstream, options)?;
    }

    report(&outcomes, options, &root)?;
    if options.check {
        return Ok(check_outcome(&outcomes));
    }
    for outcome in &outcomes {
        write(outcome)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// [`check_areas`] until it passes: a part rustc refuses in an area's
/// fragment is opened or left out ([`salvage`], by its pointer) and that
/// area refreshed again with every refusal so far, as the partner
/// fragment's compile check does; `--strict` refuses instead.
fn type_check_areas(
    outcomes: &mut [Outcome],
    upstream: &Value,
    options: &RefreshOptions,
) -> Result<(), Error> {
    let mut refused: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for _ in 0..salvage::MAX_ROUNDS {
        let error = match check_areas(outcomes) {
            Ok(()) => return Ok(()),
            Err(error) => error,
        };
        let Some((area, part)) = area_refusal(&error) else {
            return Err(error);
        };
        let at = outcomes
            .iter()
            .position(|o| o.job.area() == Some(area.as_str()));
        let seen = refused.entry(area).or_default();
        let (Some(at), false, false) = (at, options.strict, seen.contains(&part)) else {
            return Err(error);
        };
        seen.push(part);
        let job = outcomes[at].job.clone();
        outcomes[at] = prepare_job(job, upstream, options, seen)?;
    }
    Err(Error::TooManyRefusals {
        limit: salvage::MAX_ROUNDS,
    })
}

/// The area, pointer and headline of the first diagnostic of a failed
/// [`check_areas`], when it is in an area's generated code.
fn area_refusal(error: &Error) -> Option<(String, (String, String))> {
    let Error::WouldNotCompile(inner) = error else {
        return None;
    };
    match inner.as_ref() {
        Error::DoesNotCompile {
            refused: Some(part),
            area: Some(area),
            ..
        } => Some((area.clone(), part.clone())),
        _ => None,
    }
}

/// The refreshed area fragments, in one type check of the crate with all
/// their features (the generator step already ran on each). Fragments equal
/// to those in place are not checked again: the crate builds from those.
fn check_areas(outcomes: &[Outcome]) -> Result<(), Error> {
    let changed: Vec<(String, String)> = (outcomes.iter())
        .filter(|o| o.job.module.is_some() && !o.unchanged)
        .map(|o| (o.job.name.clone(), o.text.clone()))
        .collect();
    if changed.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = changed.iter().map(|(area, _)| area.as_str()).collect();
    println!(
        "\n== type-checking the crate with the refreshed areas ({})",
        names.join(", ")
    );
    compile::check_areas_compile(&changed).map_err(|e| Error::WouldNotCompile(Box::new(e)))?;
    println!("compiled: the crate type-checks with the refreshed areas");
    Ok(())
}

/// Prints the impact and the deprecations of every outcome, and writes the
/// pull request body and title when asked for.
fn report(outcomes: &[Outcome], options: &RefreshOptions, root: &Path) -> Result<(), Error> {
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap_or_default();
    let version = impact::crate_version(&manifest).unwrap_or_else(|| "0.0.0".to_owned());
    let changes: Vec<impact::Change> = outcomes.iter().flat_map(|o| o.changes.clone()).collect();
    let summary: String = outcomes.iter().map(|o| o.summary.as_str()).collect();
    let superseded: Vec<radar::Superseded> =
        outcomes.iter().flat_map(|o| o.superseded.clone()).collect();
    let callers = match options.callers {
        true => Some(radar::callers(root, &radar::methods(&superseded))?),
        false => None,
    };
    print!("{}", impact::text(&changes, &version));
    print!("{}", radar::text(&superseded, callers.as_deref()));
    if let Some(path) = &options.summary_markdown {
        let listings: Vec<&pr::ListingDiff> = outcomes.iter().map(|o| &o.listing_diff).collect();
        let body = pr::Body {
            version: &version,
            source: &options.from,
            changes: &changes,
            summary: &summary,
            deprecations: &radar::markdown(&superseded, callers.as_deref()),
            listings: &listings,
        };
        project::write_atomically(path, &pr::markdown(&body))?;
        println!("wrote {}", path.display());
    }
    if let Some(path) = &options.pr_title {
        project::write_atomically(path, &impact::title(&changes, &version))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

fn partner_job(options: &RefreshOptions, root: &Path) -> Job {
    let (out, listing) = match &options.out {
        Some(out) => (out.clone(), None),
        None => (root.join(FRAGMENT), Some(root.join(API_LISTING))),
    };
    Job {
        name: "partner".to_owned(),
        prefixes: options.prefixes.clone(),
        out,
        listing,
        module: None,
    }
}

/// The areas `choice` selects among those the source has operations in
/// (the path segment after `/api/`, the partner API aside); naming one the
/// source lacks is an error.
fn area_jobs(upstream: &Value, choice: &AreaChoice, root: &Path) -> Result<Vec<Job>, Error> {
    let present = areas_in(upstream);
    let chosen: Vec<String> = match choice {
        AreaChoice::All => present.clone(),
        AreaChoice::None => Vec::new(),
        AreaChoice::These(names) => names.clone(),
    };
    if let Some(missing) = chosen.iter().find(|area| !present.contains(area)) {
        return Err(Error::UnknownArea {
            area: missing.clone(),
            present: present.join(", "),
        });
    }
    Ok(chosen
        .into_iter()
        .map(|area| Job {
            prefixes: vec![format!("/api/{area}/")],
            out: root.join(layout::area_fragment(&area)),
            listing: Some(root.join(project::area_listing(&area))),
            module: Some(layout::area_module(&area)),
            name: area,
        })
        .collect())
}

/// The areas of the client-org API the document has operations in, sorted.
pub fn areas_in(doc: &Value) -> Vec<String> {
    let mut areas: Vec<String> = doc
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|paths| paths.keys())
        .filter_map(|path| path.strip_prefix("/api/")?.split('/').next())
        .filter(|area| *area != "partner" && !area.is_empty())
        .map(str::to_owned)
        .collect();
    areas.sort();
    areas.dedup();
    areas
}

/// Refreshes one fragment in memory and compares it with the file in place;
/// an error names the job. `refused`: the parts (pointer, why) a type check
/// of the crate refused in an earlier round, opened or left out first.
fn prepare_job(
    job: Job,
    upstream: &Value,
    options: &RefreshOptions,
    refused: &[(String, String)],
) -> Result<Outcome, Error> {
    println!("\n== {} ({})", job.name, job.prefixes.join(", "));
    let previous_text = std::fs::read_to_string(&job.out).ok();
    let previous = previous_text
        .as_deref()
        .and_then(|t| serde_json::from_str::<Value>(t).ok());
    let descriptions = Descriptions {
        source: options.descriptions,
        current: previous.as_ref(),
    };
    // The crate's compile check builds the partner fragment; an area's
    // fragment is validated by the generator (mock helpers included) here,
    // and every area is type-checked at once when all are made
    // (`check_areas`).
    let compile = options.compile && job.module.is_none();
    let checks = Checks {
        compile,
        strict: options.strict,
        refused,
    };
    let refreshed = refresh_with(
        upstream,
        &job.prefixes,
        &options.from,
        &descriptions,
        checks,
    )
    .map_err(|e| e.in_job(&job.name))?;
    print_log(&refreshed);

    let summary = summary::compare(previous.as_ref(), &refreshed.value);
    let assessed = assess(&job, previous_text.as_deref(), &refreshed.surface);
    let listing = job
        .listing
        .as_ref()
        .map(|_| assessed.listing_diff.new.clone());
    let unchanged = unchanged(&job, previous_text.as_deref(), &refreshed.text, &listing);
    let summary = format!(
        "against {}:\n{summary}{}\n",
        job.out.display(),
        salvage_text(&refreshed.salvage)
    );
    print!("{summary}");
    Ok(Outcome {
        job,
        text: refreshed.text,
        listing,
        listing_diff: assessed.listing_diff,
        summary,
        changes: assessed.changes,
        superseded: assessed.superseded,
        unchanged,
    })
}

/// Whether the job would write nothing new: its fragment in place (the
/// `previous` text) is `text`, and its listing in place is `listing`.
fn unchanged(job: &Job, previous: Option<&str>, text: &str, listing: &Option<String>) -> bool {
    let listing_in_place =
        (job.listing.as_ref()).and_then(|path| std::fs::read_to_string(path).ok());
    previous == Some(text) && (listing.is_none() || *listing == listing_in_place)
}

/// The surface the fragment in place gives against the refreshed one: the
/// changes, the listings' diff and the superseded operations.
fn assess(job: &Job, previous_text: Option<&str>, surface: &Surface) -> Assessed {
    // The fragment in place may predate a generator change; without its
    // surface every method and type counts as added.
    let old = previous_text.and_then(|text| listing::surface_of(text).ok());
    let mut changes = impact::assess(old.as_ref(), surface);
    for change in &mut changes {
        change.area = job.area().map(str::to_owned);
    }
    let render = |s: &Surface| listing::of_surface(job.of(), s);
    let root = project_root();
    Assessed {
        changes,
        listing_diff: pr::ListingDiff {
            name: job.listing_name(&root),
            old: old.as_ref().map(render).unwrap_or_default(),
            new: render(surface),
        },
        superseded: radar::superseded(job.area(), surface),
    }
}

/// `--check`: success only if every fragment (and listing) is up to date.
fn check_outcome(outcomes: &[Outcome]) -> ExitCode {
    let mut code = ExitCode::SUCCESS;
    for outcome in outcomes {
        let out = outcome.job.out.display();
        if outcome.unchanged {
            println!("{out} is up to date");
        } else {
            println!("{out} is stale: run `cargo xtask refresh-spec`");
            code = ExitCode::from(1);
        }
    }
    code
}

fn write(outcome: &Outcome) -> Result<(), Error> {
    project::write_atomically(&outcome.job.out, &outcome.text)?;
    println!("wrote {}", outcome.job.out.display());
    if let (Some(path), Some(listing)) = (&outcome.job.listing, &outcome.listing) {
        project::write_atomically(path, listing)?;
        println!("wrote {}", path.display());
    }
    Ok(())
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
) -> Result<Refreshed, Error> {
    let descriptions = Descriptions {
        source: descriptions::Source::Upstream,
        current: None,
    };
    let checks = Checks {
        compile,
        strict: false,
        refused: &[],
    };
    refresh_with(upstream, prefixes, from, &descriptions, checks)
}

/// How hard the refresh checks what it makes.
#[derive(Debug, Clone, Copy)]
pub struct Checks<'a> {
    /// Type-check the crate against the fragment ([`compile`]).
    pub compile: bool,
    /// `--strict`: refuse instead of opening or leaving anything out.
    pub strict: bool,
    /// Parts (pointer, why) an earlier type check refused, opened or left
    /// out before the rest is salvaged.
    pub refused: &'a [(String, String)],
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
    checks: Checks,
) -> Result<Refreshed, Error> {
    let Checks {
        compile,
        strict,
        refused,
    } = checks;
    let Normalized {
        mut doc,
        passes,
        left_out,
    } = normalized(upstream, prefixes, from, descriptions)?;
    let mut salvage = Salvage::default();
    for (pointer, why) in refused {
        salvage::take_out(&mut doc, pointer, why, &mut salvage)?;
    }
    let built = salvage::until_it_builds(
        &mut doc,
        &mut salvage,
        strict,
        |doc| build(doc, from, compile),
        refusal,
    )?;
    let operations = count_operations(&doc);
    if operations == 0 {
        let every = [&left_out[..], &salvage.left_out[..]].concat();
        return Err(nothing_left(prefixes, &every));
    }
    salvage.repaired = built.repairs;
    let schemas = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map_or(0, |s| s.len());
    let value: Value = serde_json::from_str(&built.text).map_err(Error::FragmentNotJson)?;
    Ok(Refreshed {
        text: built.text,
        value,
        passes,
        left_out,
        salvage,
        operations,
        schemas,
        surface: built.surface,
        compiled: compile,
    })
}

/// The operations under `prefixes` and what they reach, normalized, with
/// the passes' counts and the operations they left out.
struct Normalized {
    doc: Value,
    passes: Vec<(&'static str, usize)>,
    left_out: Vec<LeftOut>,
}

/// Cuts `upstream` (read from `from`) to `prefixes`, normalizes it and
/// applies the `descriptions`; refuses when no operation is left.
fn normalized(
    upstream: &Value,
    prefixes: &[String],
    from: &str,
    descriptions: &Descriptions,
) -> Result<Normalized, Error> {
    codegen::check_version(Path::new(from), upstream)?;
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
    if count_operations(&doc) == 0 {
        return Err(nothing_left(prefixes, &left_out));
    }
    Ok(Normalized {
        doc,
        passes,
        left_out,
    })
}

fn nothing_left(prefixes: &[String], left_out: &[LeftOut]) -> Error {
    Error::NothingLeft {
        prefixes: prefixes.join(", "),
        reasons: left_out_lines(left_out),
    }
}

fn count_operations(doc: &Value) -> usize {
    doc.get("paths")
        .and_then(Value::as_object)
        .map_or(0, extract::count_operations)
}

/// A fragment that builds: its text, its API, the generator's repairs.
struct Built {
    text: String,
    surface: Surface,
    repairs: Vec<codegen::Repair>,
}

/// Generates `doc` as build.rs would and, with `compile`, type-checks the
/// crate against it ([`compile`]): the generator accepting it is not
/// enough, rustc must too.
fn build(doc: &Value, from: &str, compile: bool) -> Result<Built, Error> {
    let text = canonical::to_text(doc.clone());
    let (surface, repairs) = validate(&text, from)?;
    if compile {
        compile::check_compiles(&text).map_err(|e| Error::WouldNotCompile(Box::new(e)))?;
    }
    Ok(Built {
        text,
        surface,
        repairs,
    })
}

/// The part a failed [`build`] names (its JSON pointer) and why, if any.
fn refusal(error: &Error) -> Option<(String, String)> {
    match error {
        Error::WouldNotBuild(spec) => salvage::spec_refusal(spec),
        Error::WouldNotCompile(inner) => match inner.as_ref() {
            Error::DoesNotCompile { refused, .. } => refused.clone(),
            _ => None,
        },
        _ => None,
    }
}

/// The same step build.rs runs, whose errors name the operation or schema:
/// every artifact must generate, the `test-util` mock helpers included,
/// which a build of the library alone would not ask for. Gives the API its
/// client exposes, and the generator's repairs.
fn validate(text: &str, from: &str) -> Result<(Surface, Vec<codegen::Repair>), Error> {
    let validated_as = PathBuf::from(format!("<fragment refreshed from {from}>"));
    let artifacts = codegen::generate(&validated_as, text).map_err(Error::WouldNotBuild)?;
    artifacts.client().map_err(Error::WouldNotBuild)?;
    artifacts.test_client().map_err(Error::WouldNotBuild)?;
    artifacts.mock().map_err(Error::WouldNotBuild)?;
    Ok((artifacts.surface(), artifacts.repairs))
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
    print!("{}", salvage_text(&refreshed.salvage));
    println!(
        "result: {} operations, {} schemas",
        refreshed.operations, refreshed.schemas
    );
}

/// What was repaired, opened or left out, a line each (nothing if none).
fn salvage_text(salvage: &Salvage) -> String {
    (salvage.lines().iter())
        .map(|line| format!("  {line}\n"))
        .collect()
}

fn left_out_lines(left_out: &[LeftOut]) -> String {
    left_out
        .iter()
        .map(|l| format!("  {}: {}", l.operation, l.reason))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn does_not_compile(area: Option<&str>, refused: bool) -> Error {
        Error::WouldNotCompile(Box::new(Error::DoesNotCompile {
            shown: vec!["error[E0412]".to_owned()],
            more: 0,
            refused: refused.then(|| ("/components/schemas/Gadget".to_owned(), "E0412".to_owned())),
            area: area.map(str::to_owned),
        }))
    }

    /// Only a refusal rustc located in an area's fragment is salvaged there:
    /// one outside generated code, or outside any area, stops the refresh.
    #[test]
    fn an_area_refusal_names_its_area_and_part() {
        let (area, (pointer, _)) =
            area_refusal(&does_not_compile(Some("door"), true)).expect("an area refusal");
        assert_eq!(
            (area.as_str(), pointer.as_str()),
            ("door", "/components/schemas/Gadget")
        );
        assert!(area_refusal(&does_not_compile(Some("door"), false)).is_none());
        assert!(area_refusal(&does_not_compile(None, true)).is_none());
        assert!(area_refusal(&Error::NothingToDo).is_none());
    }
}
