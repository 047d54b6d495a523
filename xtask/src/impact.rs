//! What a refresh does to code compiled against the crate, and the version
//! bump that follows under Cargo's semver rules.
//!
//! Read off the API listings (`spec/partner.api.txt`) before and after,
//! which are themselves read off the generated code: a change counts only
//! if it changes the Rust API, not the JSON that produced it (a new
//! `format` the generator ignores changes nothing users compile against).
//!
//! A type the listing marks `[non-exhaustive]` (every generated struct and
//! enum is, see `codegen/src/extensible.rs`) cannot be built with a literal or
//! matched without a wildcard outside the crate, so a field or variant added
//! to it breaks nobody: additive. Added to a type without the mark, it
//! would break literals or exhaustive matches. Anything removed, renamed or
//! retyped breaks; a type gaining or losing the mark changes its header, and
//! breaks too.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use semver::{BuildMetadata, Prerelease, Version};

use crate::Error;
use crate::diff::{Diff, diff};

/// How a change affects code compiled against the previous version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Impact {
    /// Nothing users compile against changes (documentation, behaviour).
    Patch,
    /// New API; existing code still compiles.
    Additive,
    /// Existing code may no longer compile.
    Breaking,
}

impl Impact {
    pub fn word(self) -> &'static str {
        match self {
            Impact::Patch => "patch",
            Impact::Additive => "additive",
            Impact::Breaking => "breaking",
        }
    }
}

/// One change to the Rust API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub impact: Impact,
    /// What changed, e.g. `struct DeviceLicenseType: field added "state"`.
    pub what: String,
}

/// An item of the listing: its header line and its member lines.
type Items = BTreeMap<String, (String, Vec<String>)>;

/// Splits a listing into methods and types, by name.
fn items(listing: &str) -> (Items, Items) {
    let (mut methods, mut types) = (Items::new(), Items::new());
    let mut in_types = false;
    let mut current: Option<(bool, String)> = None;
    for line in listing.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            if line.starts_with("## Types") {
                in_types = true;
            }
            continue;
        }
        let table = if in_types { &mut types } else { &mut methods };
        if let Some(member) = line.strip_prefix("    ") {
            if let Some((_, name)) = &current
                && let Some(entry) = table.get_mut(name)
            {
                entry.1.push(member.to_owned());
            }
            continue;
        }
        let name = if in_types {
            // `struct Name`, `enum Name`, `newtype Name(..)`, `type Name = ..`
            line.split_whitespace()
                .nth(1)
                .unwrap_or(line)
                .split('(')
                .next()
                .unwrap_or(line)
                .to_owned()
        } else {
            line.split('(').next().unwrap_or(line).to_owned()
        };
        table.insert(name.clone(), (line.to_owned(), Vec::new()));
        current = Some((in_types, name));
    }
    (methods, types)
}

/// Every change between two listings, most severe first.
pub fn assess(old_listing: Option<&str>, new_listing: &str) -> Vec<Change> {
    let (old_methods, old_types) = items(old_listing.unwrap_or(""));
    let (new_methods, new_types) = items(new_listing);
    let mut changes = Vec::new();
    let mut push = |impact, what: String| changes.push(Change { impact, what });

    for (name, change) in diff(&old_methods, &new_methods) {
        let (impact, what) = match change {
            Diff::Added(_) => (Impact::Additive, format!("method {name}: added")),
            Diff::Removed(_) => (Impact::Breaking, format!("method {name}: removed")),
            Diff::Changed { old, new } if old.0 != new.0 => (
                Impact::Breaking,
                format!("method {name}: signature changed to `{}`", new.0),
            ),
            Diff::Changed { new, .. } => (
                Impact::Patch,
                format!(
                    "method {name}: now {} (behaviour or documentation only)",
                    new.1.join(" ").trim()
                ),
            ),
        };
        push(impact, what);
    }
    for (name, change) in diff(&old_types, &new_types) {
        match change {
            Diff::Added(_) => push(Impact::Additive, format!("type {name}: added")),
            Diff::Removed(_) => push(Impact::Breaking, format!("type {name}: removed")),
            Diff::Changed { old, new } if old.0 != new.0 => push(
                Impact::Breaking,
                format!("type {name}: `{}` became `{}`", old.0, new.0),
            ),
            Diff::Changed { old, new } => members(name, &new.0, &old.1, &new.1, &mut push),
        }
    }
    changes.sort_by(|a, b| b.impact.cmp(&a.impact).then_with(|| a.what.cmp(&b.what)));
    changes
}

/// The changes among the members (fields, variants) of the type `name`,
/// whose header (`struct Name`, ...) is `header` before and after.
fn members(
    name: &str,
    header: &str,
    old: &[String],
    new: &[String],
    push: &mut impl FnMut(Impact, String),
) {
    let kind = header.split_whitespace().next().unwrap_or("");
    let by_key = |lines: &[String]| -> BTreeMap<String, String> {
        lines.iter().map(|l| (member_key(l), l.clone())).collect()
    };
    let (before, after) = (by_key(old), by_key(new));
    for (key, change) in diff(&before, &after) {
        match change {
            Diff::Added(_) => {
                let (impact, what) = member_added(kind, header, name, key);
                push(impact, what);
            }
            Diff::Removed(_) => push(Impact::Breaking, format!("{kind} {name}: {key} removed")),
            Diff::Changed { old, new } => push(
                Impact::Breaking,
                format!("{kind} {name}: `{old}` became `{new}`"),
            ),
        }
    }
}

/// What a field or variant `key` added to the type `name` does to users:
/// nothing, if the type is non-exhaustive.
fn member_added(kind: &str, header: &str, name: &str, key: &str) -> (Impact, String) {
    let member = match kind {
        "struct" => "field",
        "enum" => "variant",
        _ => "member",
    };
    if header.ends_with(NON_EXHAUSTIVE) {
        return (
            Impact::Additive,
            format!("{kind} {name}: {member} {key} added (non-exhaustive)"),
        );
    }
    let breaks = match kind {
        "struct" => " (breaks struct literals)",
        "enum" => " (breaks exhaustive matches)",
        _ => "",
    };
    (
        Impact::Breaking,
        format!("{kind} {name}: {member} {key} added{breaks}"),
    )
}

/// How the listing marks a type that may grow (`listing.rs`).
const NON_EXHAUSTIVE: &str = " [non-exhaustive]";

/// A member line's identity: the JSON name of a field or variant, else the
/// whole line.
fn member_key(line: &str) -> String {
    match line.split_once(" -> ") {
        Some((json, _)) => json.to_owned(),
        None => line.to_owned(),
    }
}

/// The most severe impact; `Patch` when nothing changed the API.
pub fn overall(changes: &[Change]) -> Impact {
    changes
        .iter()
        .map(|c| c.impact)
        .max()
        .unwrap_or(Impact::Patch)
}

/// The next version after `version` for `impact`, under Cargo's rules:
/// Cargo's default requirement, `^version`, accepts the next version
/// exactly when the change is not breaking. In `0.y.z` a breaking change
/// bumps `y` and anything else bumps `z`; from `1.0.0` on, breaking bumps
/// the major, additive the minor, the rest the patch.
pub fn bump(version: &str, impact: Impact) -> Result<String, Error> {
    let current = Version::parse(version).map_err(|source| Error::Version {
        version: version.to_owned(),
        source,
    })?;
    Ok(next_version(&current, impact).to_string())
}

/// Build metadata never carries over: Cargo ignores it when comparing, so
/// it cannot tell the new version from the old.
fn next_version(current: &Version, impact: Impact) -> Version {
    // `^1.0.0-alpha.1` accepts every later pre-release of 1.0.0 and 1.0.0
    // itself, so within a pre-release series only a breaking change needs
    // a new release number; anything else is the series' next step, not a
    // release the maintainer did not ask for.
    if !current.pre.is_empty() && impact != Impact::Breaking {
        return Version {
            pre: next_pre_release(&current.pre),
            build: BuildMetadata::EMPTY,
            ..current.clone()
        };
    }
    let Version {
        major,
        minor,
        patch,
        ..
    } = *current;
    match (major, impact) {
        (0, Impact::Breaking) => Version::new(0, minor + 1, 0),
        (0, _) => Version::new(0, minor, patch + 1),
        (_, Impact::Breaking) => Version::new(major + 1, 0, 0),
        (_, Impact::Additive) => Version::new(major, minor + 1, 0),
        (_, Impact::Patch) => Version::new(major, minor, patch + 1),
    }
}

/// `alpha.1` → `alpha.2`, `rc` → `rc.1`: a numeric identifier compares as
/// a number, and a list of identifiers sorts after its own prefix, so the
/// result is always the later pre-release.
fn next_pre_release(pre: &Prerelease) -> Prerelease {
    let text = pre.as_str();
    let (head, last) = match text.rsplit_once('.') {
        Some((head, last)) => (Some(head), last),
        None => (None, text),
    };
    let incremented = last.parse::<u64>().ok().and_then(|n| n.checked_add(1));
    let next = match (head, incremented) {
        (Some(head), Some(n)) => format!("{head}.{n}"),
        (None, Some(n)) => n.to_string(),
        (_, None) => format!("{text}.1"),
    };
    Prerelease::new(&next).expect("a valid pre-release with its last number raised or `.1` added")
}

/// A pull request title: what was refreshed and the version bump, in a
/// line, so the list of pull requests shows which ones break users.
pub fn title(changes: &[Change], version: &str) -> String {
    let impact = overall(changes);
    let next = bump(version, impact).unwrap_or_else(|e| e.to_string());
    format!(
        "Refresh spec/partner.json: {version} → {next} ({})",
        impact.word()
    )
}

/// The crate's version, from the workspace's `Cargo.toml`.
pub fn crate_version(manifest: &str) -> Option<String> {
    let manifest: toml::Table = toml::from_str(manifest).ok()?;
    let version = manifest.get("package")?.get("version")?.as_str()?;
    Some(version.to_owned())
}

/// The impact section of the printed summary.
pub fn text(changes: &[Change], version: &str) -> String {
    if changes.is_empty() {
        return "impact on users: none, the Rust API is unchanged\n".to_owned();
    }
    let impact = overall(changes);
    let mut out = String::new();
    let next = bump(version, impact).unwrap_or_else(|e| e.to_string());
    let count = |i: Impact| changes.iter().filter(|c| c.impact == i).count();
    let _ = writeln!(
        out,
        "impact on users: {} breaking, {} additive, {} patch -> version {version} -> {next} ({})",
        count(Impact::Breaking),
        count(Impact::Additive),
        count(Impact::Patch),
        impact.word()
    );
    for change in changes {
        let _ = writeln!(out, "  [{}] {}", change.impact.word(), change.what);
    }
    out
}

/// A pull request description: the bump, the changes by impact, and the
/// summary.
pub fn markdown(changes: &[Change], version: &str, source: &str, summary: &str) -> String {
    let impact = overall(changes);
    let next = bump(version, impact).unwrap_or_else(|e| e.to_string());
    let mut out = String::new();
    let _ = writeln!(out, "## Refresh of `spec/partner.json` from `{source}`\n");
    let _ = writeln!(
        out,
        "**Version bump: {version} → {next}** ({} under Cargo's semver rules)\n",
        impact.word()
    );
    for (level, title) in [
        (
            Impact::Breaking,
            "Breaking: code built against the previous version may not compile",
        ),
        (
            Impact::Additive,
            "Additive: new API, existing code compiles",
        ),
        (Impact::Patch, "Patch: no change to the Rust API"),
    ] {
        let lines: Vec<&Change> = changes.iter().filter(|c| c.impact == level).collect();
        if lines.is_empty() {
            continue;
        }
        let _ = writeln!(out, "### {title} ({})\n", lines.len());
        for change in lines {
            let _ = writeln!(out, "- {}", change.what.replace('`', "\\`"));
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "### Summary of the fragment's changes\n\n```text\n{}```",
        summary
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = "\
# header

## Methods of Client
get_a(body: &A) -> Result<ResponseValue<B>, Error<()>>
    POST /a [read-only]
gone(body: &A) -> Result<ResponseValue<B>, Error<()>>
    POST /gone [state-changing]
renamed(body: &A) -> Result<ResponseValue<B>, Error<()>>
    POST /r [read-only]

## Types in rhombus_partner::types
struct A
    \"x\" -> x: Option<String>
enum Kind
    \"A\" -> A
struct Old
newtype Open(Map<String, Value>)
struct Grows [non-exhaustive]
    \"a\" -> a: Option<String>
enum Values [non-exhaustive]
    \"A\" -> A
struct Marked
    \"a\" -> a: Option<String>
";

    #[test]
    fn nothing_changed_is_a_patch() {
        assert!(assess(Some(OLD), OLD).is_empty());
        assert_eq!(overall(&[]), Impact::Patch);
    }

    #[test]
    fn additions_are_additive_and_removals_retypes_and_growing_exhaustive_types_break() {
        let new = "\
## Methods of Client
get_a(body: &A) -> Result<ResponseValue<B>, Error<()>>
    POST /a [read-only, deprecated]
renamed(body: &Open) -> Result<ResponseValue<B>, Error<()>>
    POST /r [read-only]
added(body: &A) -> Result<ResponseValue<B>, Error<()>>
    POST /added [state-changing]

## Types in rhombus_partner::types
struct A
    \"x\" -> x: Option<i64>
    \"y\" -> y: Option<String>
enum Kind
    \"A\" -> A
    \"B\" -> B
newtype Open(Map<String, Value>)
struct New
struct Grows [non-exhaustive]
    \"a\" -> a: Option<String>
    \"b\" -> b: Option<String>
enum Values [non-exhaustive]
    \"A\" -> A
    \"B\" -> B
struct Marked [non-exhaustive]
    \"a\" -> a: Option<String>
";
        let changes = assess(Some(OLD), new);
        let of = |impact| -> Vec<&str> {
            changes
                .iter()
                .filter(|c| c.impact == impact)
                .map(|c| c.what.as_str())
                .collect()
        };
        assert_eq!(
            of(Impact::Additive),
            [
                "enum Values: variant \"B\" added (non-exhaustive)",
                "method added: added",
                "struct Grows: field \"b\" added (non-exhaustive)",
                "type New: added",
            ]
        );
        assert_eq!(
            of(Impact::Patch),
            ["method get_a: now POST /a [read-only, deprecated] (behaviour or documentation only)"]
        );
        let breaking = of(Impact::Breaking);
        for expected in [
            "method gone: removed",
            "method renamed: signature changed",
            "struct A: `\"x\" -> x: Option<String>` became `\"x\" -> x: Option<i64>`",
            "struct A: field \"y\" added (breaks struct literals)",
            "enum Kind: variant \"B\" added (breaks exhaustive matches)",
            "type Old: removed",
            "type Marked: `struct Marked` became `struct Marked [non-exhaustive]`",
        ] {
            assert!(
                breaking.iter().any(|b| b.starts_with(expected)),
                "{expected} not in {breaking:#?}"
            );
        }
        assert_eq!(breaking.len(), 7, "{breaking:#?}");
        assert_eq!(overall(&changes), Impact::Breaking);
    }

    #[test]
    fn bumps_follow_cargo_semver_for_0x_and_1x() {
        assert_eq!(bump("0.1.0", Impact::Breaking).unwrap(), "0.2.0");
        assert_eq!(bump("0.1.3", Impact::Additive).unwrap(), "0.1.4");
        assert_eq!(bump("0.1.3", Impact::Patch).unwrap(), "0.1.4");
        assert_eq!(bump("1.4.2", Impact::Breaking).unwrap(), "2.0.0");
        assert_eq!(bump("1.4.2", Impact::Additive).unwrap(), "1.5.0");
        assert_eq!(bump("1.4.2", Impact::Patch).unwrap(), "1.4.3");
        assert!(bump("1.x", Impact::Patch).is_err());
    }

    #[test]
    fn a_pre_release_series_goes_on_unless_the_change_breaks() {
        assert_eq!(
            bump("1.0.0-alpha.1", Impact::Patch).unwrap(),
            "1.0.0-alpha.2"
        );
        assert_eq!(
            bump("1.0.0-alpha.1", Impact::Additive).unwrap(),
            "1.0.0-alpha.2"
        );
        assert_eq!(
            bump("0.2.0-beta.9", Impact::Additive).unwrap(),
            "0.2.0-beta.10"
        );
        assert_eq!(bump("0.2.0-rc", Impact::Patch).unwrap(), "0.2.0-rc.1");
        assert_eq!(bump("0.2.0-3", Impact::Patch).unwrap(), "0.2.0-4");
        // `^1.0.0-alpha.1` accepts 1.0.0 itself: breaking takes the next major.
        assert_eq!(bump("1.0.0-alpha.1", Impact::Breaking).unwrap(), "2.0.0");
        assert_eq!(bump("0.2.0-rc.1", Impact::Breaking).unwrap(), "0.3.0");
    }

    #[test]
    fn build_metadata_is_dropped() {
        assert_eq!(bump("0.1.3+build.5", Impact::Patch).unwrap(), "0.1.4");
        assert_eq!(bump("1.4.2+sha.abc", Impact::Breaking).unwrap(), "2.0.0");
        assert_eq!(
            bump("1.0.0-alpha.1+x", Impact::Patch).unwrap(),
            "1.0.0-alpha.2"
        );
        assert!(bump("1.0.0+", Impact::Patch).is_err());
    }

    /// The rule itself, checked with the same crate's `^` requirements:
    /// every bump is newer, and Cargo accepts it in place of the old
    /// version exactly when the change does not break.
    #[test]
    fn cargo_accepts_a_bump_in_place_of_the_old_version_unless_it_breaks() {
        let versions = [
            "0.1.0",
            "0.9.12",
            "1.4.2",
            "3.0.0+b",
            "0.0.3-alpha.1",
            "0.2.0-rc",
            "1.0.0-beta.2",
        ];
        for version in versions {
            let old = Version::parse(version).unwrap();
            let req = semver::VersionReq::parse(&format!(
                "^{}",
                Version {
                    build: BuildMetadata::EMPTY,
                    ..old.clone()
                }
            ))
            .unwrap();
            for impact in [Impact::Patch, Impact::Additive, Impact::Breaking] {
                let new = next_version(&old, impact);
                assert!(new > old, "{version} -> {new} ({impact:?})");
                let breaking = impact == Impact::Breaking;
                assert_eq!(
                    req.matches(&new),
                    !breaking,
                    "^{version} vs {new} ({impact:?})"
                );
            }
        }
    }

    /// In `0.0.z` Cargo takes every new release as breaking (`^0.0.3` is
    /// `=0.0.3`); the bumps still follow the `0.y.z` rule.
    #[test]
    fn in_0_0_z_every_bump_is_the_next_patch_or_minor() {
        assert_eq!(bump("0.0.3", Impact::Additive).unwrap(), "0.0.4");
        assert_eq!(bump("0.0.3", Impact::Breaking).unwrap(), "0.1.0");
    }

    #[test]
    fn the_title_names_the_bump() {
        let changes = assess(Some(OLD), &OLD.replace("struct Old\n", ""));
        assert_eq!(
            title(&changes, "0.1.0"),
            "Refresh spec/partner.json: 0.1.0 → 0.2.0 (breaking)"
        );
        assert_eq!(
            title(&[], "1.2.3"),
            "Refresh spec/partner.json: 1.2.3 → 1.2.4 (patch)"
        );
    }

    #[test]
    fn the_crate_version_is_read_from_the_package_section() {
        let manifest =
            "[workspace]\nversion = \"9.9.9\"\n[package]\nname = \"x\"\nversion = \"0.3.1\"\n";
        assert_eq!(crate_version(manifest).as_deref(), Some("0.3.1"));
    }

    #[test]
    fn markdown_names_the_bump_and_groups_changes() {
        let changes = assess(Some(OLD), &OLD.replace("struct Old\n", ""));
        let md = markdown(&changes, "0.1.0", "up.json", "schemas: 0 added\n");
        assert!(
            md.contains("**Version bump: 0.1.0 → 0.2.0** (breaking"),
            "{md}"
        );
        assert!(md.contains("### Breaking"), "{md}");
        assert!(md.contains("- type Old: removed"), "{md}");
        assert!(md.contains("```text\nschemas: 0 added\n```"), "{md}");
    }
}
