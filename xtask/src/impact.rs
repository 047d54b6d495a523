//! What a refresh does to code compiled against the crate, and the version
//! bump that follows under Cargo's semver rules.
//!
//! A structural diff of two [`Surface`]s, the generator's account of the
//! Rust API before and after (the one the fragment in place gives, and the
//! refreshed one): a change counts only if it changes the Rust API, not the
//! JSON that produced it (a new `format` the generator ignores changes
//! nothing users compile against).
//!
//! A non-exhaustive type (every generated struct and enum is, see
//! `codegen/src/extensible.rs`) cannot be built with a literal or matched
//! without a wildcard outside the crate, so a field or variant added to it
//! breaks nobody: additive. Added to a type without the mark, it would
//! break literals or exhaustive matches. Anything removed, renamed or
//! retyped breaks; a type gaining or losing the mark breaks too.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

use semver::{BuildMetadata, Prerelease, Version};

use crate::Error;
use crate::codegen::surface::{Field, Kind, Operation, Surface, Type, Variant};
use crate::diff::{Diff, diff};
use crate::listing;

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
    /// The area of the client-org API it is in; `None` for the partner API.
    pub area: Option<String>,
    /// What changed: `method get_a`, `type Old`, `struct A`.
    pub subject: String,
    pub detail: Detail,
}

/// What happened to a change's subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detail {
    Added,
    Removed,
    /// A method's signature, now.
    Signature(String),
    /// A method's request line and paging, now: nothing users compile against.
    Behaviour(String),
    /// A method's stream methods, added or removed.
    Streams {
        added: Vec<String>,
        removed: Vec<String>,
    },
    /// A type's header or a member, as listed before and after.
    Became {
        old: String,
        new: String,
    },
    /// A field or variant (`key`, as listed) added; `breaks` when the type
    /// is exhaustive.
    MemberAdded {
        member: &'static str,
        key: String,
        breaks: Option<&'static str>,
    },
    MemberRemoved(String),
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(area) = &self.area {
            write!(f, "area {area}: ")?;
        }
        write!(f, "{}: ", self.subject)?;
        match &self.detail {
            Detail::Added => write!(f, "added"),
            Detail::Removed => write!(f, "removed"),
            Detail::Signature(new) => write!(f, "signature changed to `{new}`"),
            Detail::Behaviour(now) => write!(f, "now {now} (behaviour or documentation only)"),
            Detail::Streams { added, removed } => {
                let list = |l: &[String]| l.join(", ");
                match (added.is_empty(), removed.is_empty()) {
                    (false, true) => write!(f, "stream methods added: {}", list(added)),
                    (true, _) => write!(f, "stream methods removed: {}", list(removed)),
                    (false, false) => write!(
                        f,
                        "stream methods added: {}; removed: {}",
                        list(added),
                        list(removed)
                    ),
                }
            }
            Detail::Became { old, new } => write!(f, "`{old}` became `{new}`"),
            Detail::MemberAdded {
                member,
                key,
                breaks: None,
            } => {
                write!(f, "{member} {key} added (non-exhaustive)")
            }
            Detail::MemberAdded {
                member,
                key,
                breaks: Some(breaks),
            } => {
                write!(f, "{member} {key} added (breaks {breaks})")
            }
            Detail::MemberRemoved(key) => write!(f, "{key} removed"),
        }
    }
}

/// Every change from `old` (none: an empty API) to `new`, most severe
/// first.
pub fn assess(old: Option<&Surface>, new: &Surface) -> Vec<Change> {
    let empty = Surface::default();
    let old = old.unwrap_or(&empty);
    let mut changes = Vec::new();
    let by_method = |s: &'_ Surface| -> BTreeMap<String, Operation> {
        s.operations
            .iter()
            .map(|o| (o.method.clone(), o.clone()))
            .collect()
    };
    for (name, change) in diff(&by_method(old), &by_method(new)) {
        method_changes(&format!("method {name}"), change, &mut changes);
    }
    let by_name = |s: &'_ Surface| -> BTreeMap<String, Type> {
        s.types
            .iter()
            .map(|t| (t.name.clone(), t.clone()))
            .collect()
    };
    for (name, change) in diff(&by_name(old), &by_name(new)) {
        type_changes(name, change, &mut changes);
    }
    changes.sort_by(|a, b| {
        b.impact
            .cmp(&a.impact)
            .then_with(|| a.to_string().cmp(&b.to_string()))
    });
    changes
}

fn change(impact: Impact, subject: &str, detail: Detail) -> Change {
    Change {
        impact,
        area: None,
        subject: subject.to_owned(),
        detail,
    }
}

/// A method added or removed breaks or adds; a new signature breaks; its
/// stream methods count as methods; the rest (path, marks, cursor) is patch.
fn method_changes(subject: &str, change_of: Diff<Operation>, out: &mut Vec<Change>) {
    let (old, new) = match change_of {
        Diff::Added(_) => return out.push(change(Impact::Additive, subject, Detail::Added)),
        Diff::Removed(_) => return out.push(change(Impact::Breaking, subject, Detail::Removed)),
        Diff::Changed { old, new } => (old, new),
    };
    let (old_line, new_line) = (listing::signature(old), listing::signature(new));
    if old_line != new_line {
        return out.push(change(
            Impact::Breaking,
            subject,
            Detail::Signature(new_line),
        ));
    }
    let streams = |op: &Operation| {
        op.paged
            .iter()
            .flat_map(|p| p.streams.clone())
            .collect::<Vec<_>>()
    };
    let (before, after) = (streams(old), streams(new));
    let added: Vec<String> = after
        .iter()
        .filter(|s| !before.contains(s))
        .cloned()
        .collect();
    let removed: Vec<String> = before
        .iter()
        .filter(|s| !after.contains(s))
        .cloned()
        .collect();
    if !added.is_empty() || !removed.is_empty() {
        let impact = if removed.is_empty() {
            Impact::Additive
        } else {
            Impact::Breaking
        };
        out.push(change(impact, subject, Detail::Streams { added, removed }));
    }
    let notes = |op: &Operation| listing::method_notes(op).join(" ");
    if notes(old) != notes(new) {
        out.push(change(
            Impact::Patch,
            subject,
            Detail::Behaviour(notes(new)),
        ));
    }
}

fn type_changes(name: &str, change_of: Diff<Type>, out: &mut Vec<Change>) {
    let subject = format!("type {name}");
    let (old, new) = match change_of {
        Diff::Added(_) => return out.push(change(Impact::Additive, &subject, Detail::Added)),
        Diff::Removed(_) => return out.push(change(Impact::Breaking, &subject, Detail::Removed)),
        Diff::Changed { old, new } => (old, new),
    };
    // The kind, a newtype's or alias's target, the mark: all in the header.
    let (old_header, new_header) = (listing::type_header(old), listing::type_header(new));
    if old_header != new_header {
        let detail = Detail::Became {
            old: old_header,
            new: new_header,
        };
        return out.push(change(Impact::Breaking, &subject, detail));
    }
    let (word, member, breaks) = match new.kind {
        Kind::Enum => ("enum", "variant", "exhaustive matches"),
        _ => ("struct", "field", "struct literals"),
    };
    let subject = format!("{word} {name}");
    let breaks = (!new.non_exhaustive).then_some(breaks);
    let fields = |t: &'_ Type| -> BTreeMap<String, Field> {
        t.fields
            .iter()
            .map(|f| (format!("{:?}", f.json), f.clone()))
            .collect()
    };
    let variants = |t: &'_ Type| -> BTreeMap<String, Variant> {
        t.variants
            .iter()
            .map(|v| (variant_key(v), v.clone()))
            .collect()
    };
    // Each member's line before and after, by its key.
    let mut members: Vec<(String, Option<String>, Option<String>)> = Vec::new();
    let (old_fields, new_fields) = (fields(old), fields(new));
    for (key, d) in diff(&old_fields, &new_fields) {
        let (before, after) = sides(d);
        let line = |f: Option<&Field>| f.map(listing::field_line);
        members.push((key.clone(), line(before), line(after)));
    }
    let (old_variants, new_variants) = (variants(old), variants(new));
    for (key, d) in diff(&old_variants, &new_variants) {
        let (before, after) = sides(d);
        let line = |v: Option<&Variant>| v.map(listing::variant_line);
        members.push((key.clone(), line(before), line(after)));
    }
    for (key, before, after) in members {
        out.push(member_change(
            &subject,
            (member, breaks),
            key,
            before,
            after,
        ));
    }
}

/// How a variant is named in a change: its wire value, quoted, or its line.
fn variant_key(variant: &Variant) -> String {
    match &variant.json {
        Some(json) => format!("{json:?}"),
        None => listing::variant_line(variant),
    }
}

/// The value before and after, of a key that changed.
fn sides<T>(d: Diff<'_, T>) -> (Option<&T>, Option<&T>) {
    match d {
        Diff::Added(new) => (None, Some(new)),
        Diff::Removed(old) => (Some(old), None),
        Diff::Changed { old, new } => (Some(old), Some(new)),
    }
}

/// A member (`key`) of `subject` as listed `before` and `after`; `what` is
/// the member's word and what adding one breaks, if the type is exhaustive.
fn member_change(
    subject: &str,
    (member, breaks): (&'static str, Option<&'static str>),
    key: String,
    before: Option<String>,
    after: Option<String>,
) -> Change {
    match (before, after) {
        (Some(old), Some(new)) => change(Impact::Breaking, subject, Detail::Became { old, new }),
        (Some(_), None) => change(Impact::Breaking, subject, Detail::MemberRemoved(key)),
        (None, _) => {
            let impact = if breaks.is_some() {
                Impact::Breaking
            } else {
                Impact::Additive
            };
            change(
                impact,
                subject,
                Detail::MemberAdded {
                    member,
                    key,
                    breaks,
                },
            )
        }
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
        let _ = writeln!(out, "  [{}] {change}", change.impact.word());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codegen::surface::{Paging, Parameter};

    fn op(method: &str, body: &str) -> Operation {
        Operation {
            method: method.to_owned(),
            http_method: "POST".to_owned(),
            path: format!("/{method}"),
            operation_id: method.to_owned(),
            parameters: vec![Parameter {
                name: "body".to_owned(),
                ty: format!("&{body}"),
            }],
            response: "Result<B, Error>".to_owned(),
            read_only: true,
            deprecated: false,
            paged: None,
        }
    }

    fn item(name: &str, kind: Kind, non_exhaustive: bool) -> Type {
        Type {
            name: name.to_owned(),
            kind,
            non_exhaustive,
            fields: Vec::new(),
            variants: Vec::new(),
        }
    }

    /// A struct with `(json name, type)` fields, the Rust name the JSON one.
    fn strukt(name: &str, non_exhaustive: bool, fields: &[(&str, &str)]) -> Type {
        let fields = fields.iter().map(|(json, ty)| Field {
            rust: json.to_lowercase(),
            json: (*json).to_owned(),
            ty: (*ty).to_owned(),
            required: false,
        });
        Type {
            fields: fields.collect(),
            ..item(name, Kind::Struct, non_exhaustive)
        }
    }

    fn enumeration(name: &str, non_exhaustive: bool, values: &[&str]) -> Type {
        let variants = values.iter().map(|v| Variant {
            rust: (*v).to_owned(),
            json: Some((*v).to_owned()),
            data: Vec::new(),
        });
        Type {
            variants: variants.collect(),
            ..item(name, Kind::Enum, non_exhaustive)
        }
    }

    fn old() -> Surface {
        Surface {
            operations: vec![op("get_a", "A"), op("gone", "A")],
            types: vec![
                strukt("Grows", true, &[("a", "Option<String>")]),
                strukt("Fixed", false, &[("a", "Option<String>")]),
                enumeration("Values", true, &["A"]),
                enumeration("Closed", false, &["A"]),
                item(
                    "Open",
                    Kind::Newtype(vec!["Map<String, Value>".into()]),
                    true,
                ),
            ],
            ..Surface::default()
        }
    }

    /// The changes from `old()` to `old()` changed by `edit`, as
    /// `(impact, text)`.
    fn after(edit: impl FnOnce(&mut Surface)) -> Vec<(Impact, String)> {
        let mut new = old();
        edit(&mut new);
        let changes = assess(Some(&old()), &new);
        changes.iter().map(|c| (c.impact, c.to_string())).collect()
    }

    fn ty<'a>(surface: &'a mut Surface, name: &str) -> &'a mut Type {
        surface.types.iter_mut().find(|t| t.name == name).unwrap()
    }

    #[test]
    fn nothing_changed_is_a_patch() {
        assert!(assess(Some(&old()), &old()).is_empty());
        assert_eq!(overall(&[]), Impact::Patch);
    }

    #[test]
    fn a_field_added_to_a_non_exhaustive_struct_is_additive() {
        let changes = after(|s| {
            ty(s, "Grows")
                .fields
                .extend(strukt("", true, &[("b", "i64")]).fields)
        });
        assert_eq!(
            changes,
            [(
                Impact::Additive,
                "struct Grows: field \"b\" added (non-exhaustive)".into()
            )]
        );
    }

    #[test]
    fn a_field_added_to_an_exhaustive_struct_breaks_literals() {
        let changes = after(|s| {
            ty(s, "Fixed")
                .fields
                .extend(strukt("", true, &[("b", "i64")]).fields)
        });
        assert_eq!(
            changes,
            [(
                Impact::Breaking,
                "struct Fixed: field \"b\" added (breaks struct literals)".into()
            )]
        );
    }

    #[test]
    fn a_variant_is_additive_only_on_a_non_exhaustive_enum() {
        let changes = after(|s| {
            ty(s, "Values")
                .variants
                .push(enumeration("", true, &["B"]).variants[0].clone());
            ty(s, "Closed")
                .variants
                .push(enumeration("", true, &["B"]).variants[0].clone());
        });
        assert_eq!(
            changes,
            [
                (
                    Impact::Breaking,
                    "enum Closed: variant \"B\" added (breaks exhaustive matches)".into()
                ),
                (
                    Impact::Additive,
                    "enum Values: variant \"B\" added (non-exhaustive)".into()
                ),
            ]
        );
    }

    #[test]
    fn a_type_removed_breaks_and_a_type_added_is_additive() {
        let changes = after(|s| {
            s.types.retain(|t| t.name != "Open");
            s.types.push(strukt("New", true, &[]));
        });
        assert_eq!(
            changes,
            [
                (Impact::Breaking, "type Open: removed".into()),
                (Impact::Additive, "type New: added".into()),
            ]
        );
    }

    #[test]
    fn a_member_removed_or_retyped_breaks() {
        let changes = after(|s| {
            ty(s, "Grows").fields[0].ty = "Option<i64>".to_owned();
            ty(s, "Values").variants.clear();
        });
        assert_eq!(
            changes,
            [
                (Impact::Breaking, "enum Values: \"A\" removed".into()),
                (
                    Impact::Breaking,
                    "struct Grows: `\"a\" -> a: Option<String>` became `\"a\" -> a: Option<i64>`"
                        .into()
                ),
            ]
        );
    }

    #[test]
    fn a_header_change_breaks_even_gaining_the_mark() {
        let changes = after(|s| {
            ty(s, "Fixed").non_exhaustive = true;
            ty(s, "Open").kind = Kind::Newtype(vec!["Value".into()]);
        });
        assert_eq!(
            changes,
            [
                (
                    Impact::Breaking,
                    "type Fixed: `struct Fixed` became `struct Fixed [non-exhaustive]`".into()
                ),
                (
                    Impact::Breaking,
                    "type Open: `newtype Open(Map<String, Value>) [non-exhaustive]` became \
                     `newtype Open(Value) [non-exhaustive]`"
                        .into()
                ),
            ]
        );
    }

    #[test]
    fn methods_added_removed_retyped_and_remarked() {
        let changes = after(|s| {
            s.operations.retain(|o| o.method != "gone");
            s.operations.push(op("added", "A"));
            s.operations[0].deprecated = true;
            s.operations.push(op("gone", "Open"));
        });
        assert_eq!(
            changes,
            [
                (
                    Impact::Breaking,
                    "method gone: signature changed to `gone(body: &Open) -> Result<B, Error>`"
                        .into()
                ),
                (Impact::Additive, "method added: added".into()),
                (
                    Impact::Patch,
                    "method get_a: now POST /get_a [read-only, deprecated] (behaviour or \
                     documentation only)"
                        .into()
                ),
            ]
        );
        let removed = after(|s| s.operations.truncate(1));
        assert_eq!(removed, [(Impact::Breaking, "method gone: removed".into())]);
    }

    #[test]
    fn stream_methods_count_as_methods_and_a_new_cursor_as_patch() {
        let paging = |cursor: &str, streams: &[&str]| {
            Some(Paging {
                cursor: cursor.to_owned(),
                streams: streams.iter().map(|s| (*s).to_owned()).collect(),
            })
        };
        let mut before = old();
        before.operations[0].paged = paging("a -> a", &["get_a_pages"]);
        let mut new = before.clone();
        new.operations[0].paged = paging("b -> b", &["get_a_pages", "get_a_items"]);
        let changes = assess(Some(&before), &new);
        let texts: Vec<(Impact, String)> =
            changes.iter().map(|c| (c.impact, c.to_string())).collect();
        assert_eq!(
            texts[0],
            (
                Impact::Additive,
                "method get_a: stream methods added: get_a_items".into()
            )
        );
        assert_eq!(texts[1].0, Impact::Patch, "{texts:#?}");
        let gone = assess(Some(&new), &old());
        assert_eq!(gone[0].impact, Impact::Breaking, "{gone:#?}");
    }

    #[test]
    fn against_nothing_everything_is_additive_and_an_area_is_named() {
        let mut changes = assess(None, &old());
        assert!(changes.iter().all(|c| c.impact == Impact::Additive));
        assert_eq!(changes.len(), 7);
        changes[0].area = Some("event".to_owned());
        assert!(
            changes[0].to_string().starts_with("area event: "),
            "{}",
            changes[0]
        );
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
        let mut new = old();
        new.types.pop();
        let changes = assess(Some(&old()), &new);
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
}
