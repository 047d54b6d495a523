//! The deprecation radar. Upstream seldom marks an operation `deprecated`
//! when it replaces it: it ships `…V2`, `…V3` beside the old one
//! (`event/getPolicyAlerts`, `event/getPolicyAlertsV2`). So the refresh
//! lists, per fragment, every operation whose operationId has a twin with a
//! higher `V<n>` suffix (no suffix counts as 1; the highest wins) and,
//! with `--callers`, where this workspace calls their methods.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::Error;
use crate::codegen::surface::{Operation, Surface};

/// An operation a newer twin in the same fragment supersedes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Superseded {
    /// The area of the client-org API; `None` for the partner API.
    pub area: Option<String>,
    pub operation_id: String,
    /// Its generated methods: the operation's, then its stream methods.
    pub methods: Vec<String>,
    /// The newest twin's operationId and method.
    pub by_id: String,
    pub by_method: String,
}

/// `getPolicyAlertsV2` → (`getPolicyAlerts`, 2); without a `V<n>` suffix
/// (n ≥ 2) the id is its own base, at version 1.
pub fn versioned(id: &str) -> (&str, u32) {
    let digits = id.len() - id.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let (head, number) = id.split_at(id.len() - digits);
    match (head.strip_suffix('V'), number.parse::<u32>()) {
        (Some(base), Ok(n)) if n >= 2 && !base.is_empty() => (base, n),
        _ => (id, 1),
    }
}

/// Every operation of `surface` (of `area`) that a higher-versioned twin
/// supersedes, in operationId order.
pub fn superseded(area: Option<&str>, surface: &Surface) -> Vec<Superseded> {
    let mut families: BTreeMap<&str, Vec<(u32, &Operation)>> = BTreeMap::new();
    for op in &surface.operations {
        let (base, version) = versioned(&op.operation_id);
        families.entry(base).or_default().push((version, op));
    }
    let mut out = Vec::new();
    for members in families.values() {
        let Some(&(newest, winner)) = members.iter().max_by_key(|(version, _)| *version) else {
            continue;
        };
        for (version, op) in members {
            if *version < newest {
                let streams = op.paged.iter().flat_map(|p| p.streams.iter().cloned());
                out.push(Superseded {
                    area: area.map(str::to_owned),
                    operation_id: op.operation_id.clone(),
                    methods: std::iter::once(op.method.clone()).chain(streams).collect(),
                    by_id: winner.operation_id.clone(),
                    by_method: winner.method.clone(),
                });
            }
        }
    }
    out.sort_by(|a, b| a.operation_id.cmp(&b.operation_id));
    out
}

/// One place this workspace names a superseded method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Relative to the searched root.
    pub file: PathBuf,
    /// 1-based.
    pub line: usize,
    pub method: String,
}

/// Where the `.rs` files under `root` (outside `target/` and hidden
/// directories) call one of `methods`, comments aside.
pub fn callers(root: &Path, methods: &BTreeSet<String>) -> Result<Vec<Caller>, Error> {
    let mut files = Vec::new();
    rust_files(root, &mut files)?;
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(|source| Error::Read {
            path: file.clone(),
            source,
        })?;
        let relative = file.strip_prefix(root).unwrap_or(&file).to_path_buf();
        for (index, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            for word in method_calls(line).filter(|w| methods.contains(*w)) {
                out.push(Caller {
                    file: relative.clone(),
                    line: index + 1,
                    method: word.to_owned(),
                });
            }
        }
    }
    Ok(out)
}

/// The methods `line` calls: `.name(`, so that a name in a string or a
/// longer name (`get_policy_alerts_v2` for `get_policy_alerts`) is not one.
fn method_calls(line: &str) -> impl Iterator<Item = &str> {
    line.split('.').skip(1).filter_map(|segment| {
        let segment = segment.trim_start();
        let end = segment
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(segment.len());
        let (name, rest) = segment.split_at(end);
        (!name.is_empty() && rest.trim_start().starts_with('(')).then_some(name)
    })
}

/// The `.rs` files under `dir`, build output and hidden directories aside.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    let read_error = |source| Error::Read {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(read_error)? {
        let entry = entry.map_err(read_error)?;
        let name = entry.file_name();
        let skipped = name == "target" || name.to_string_lossy().starts_with('.');
        let kind = entry.file_type().map_err(read_error)?;
        let path = entry.path();
        if kind.is_dir() && !skipped {
            rust_files(&path, out)?;
        } else if kind.is_file() && path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// The methods of `superseded`, to look for.
pub fn methods(superseded: &[Superseded]) -> BTreeSet<String> {
    superseded
        .iter()
        .flat_map(|s| s.methods.iter().cloned())
        .collect()
}

/// `event: getPolicyAlerts (get_policy_alerts) -> getPolicyAlertsV2 (get_policy_alerts_v2)`.
fn line(s: &Superseded) -> String {
    let area = s.area.as_deref().unwrap_or("partner");
    format!(
        "{area}: {} ({}) -> {} ({})",
        s.operation_id, s.methods[0], s.by_id, s.by_method
    )
}

/// The radar's section of the printed summary; `callers` when asked for.
pub fn text(superseded: &[Superseded], callers: Option<&[Caller]>) -> String {
    let mut out = format!(
        "superseded operations (a V<n> twin in the same fragment; the highest wins): {}\n",
        superseded.len()
    );
    for s in superseded {
        let _ = writeln!(out, "  {}", line(s));
    }
    if let Some(callers) = callers {
        let _ = writeln!(
            out,
            "calls of superseded methods in this workspace: {}",
            callers.len()
        );
        for c in callers {
            let _ = writeln!(out, "  {}:{}: {}", c.file.display(), c.line, c.method);
        }
    }
    out
}

/// The radar's section of the pull request body.
pub fn markdown(superseded: &[Superseded], callers: Option<&[Caller]>) -> String {
    let mut out = format!(
        "### Deprecations: superseded operations ({})\n\n",
        superseded.len()
    );
    if superseded.is_empty() {
        out.push_str("No operation has a newer `V<n>` twin in its fragment.\n");
    }
    for s in superseded {
        let _ = writeln!(out, "- `{}`", line(s));
    }
    if let Some(callers) = callers {
        let _ = writeln!(out, "\nCalls in this workspace ({}):\n", callers.len());
        for c in callers {
            let _ = writeln!(out, "- `{}:{}`: `{}`", c.file.display(), c.line, c.method);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codegen::surface::Paging;

    fn op(id: &str, method: &str) -> Operation {
        Operation {
            method: method.to_owned(),
            http_method: "POST".to_owned(),
            path: format!("/api/event/{id}"),
            operation_id: id.to_owned(),
            parameters: Vec::new(),
            response: "Result<A, Error>".to_owned(),
            read_only: true,
            deprecated: false,
            paged: None,
        }
    }

    #[test]
    fn version_suffixes_are_read_off_the_id() {
        assert_eq!(versioned("getPolicyAlertsV2"), ("getPolicyAlerts", 2));
        assert_eq!(versioned("getBrivoDoorsV13"), ("getBrivoDoors", 13));
        assert_eq!(versioned("getPolicyAlerts"), ("getPolicyAlerts", 1));
        // Not a version: V1, V0, no digits, a bare `V2`.
        assert_eq!(versioned("fooV1"), ("fooV1", 1));
        assert_eq!(versioned("getMp4"), ("getMp4", 1));
        assert_eq!(versioned("V2"), ("V2", 1));
    }

    #[test]
    fn the_highest_twin_supersedes_the_others_in_its_fragment() {
        let mut v2 = op("getBrivoDoorsV2", "get_brivo_doors_v2");
        v2.paged = Some(Paging {
            cursor: "a -> a".to_owned(),
            streams: vec!["get_brivo_doors_v2_pages".to_owned()],
        });
        let surface = Surface {
            operations: vec![
                op("getBrivoDoors", "get_brivo_doors"),
                v2,
                op("getBrivoDoorsV3", "get_brivo_doors_v3"),
                op("getPolicyAlertV2", "get_policy_alert_v2"),
                op("listThings", "list_things"),
            ],
            types: Vec::new(),
            ..Surface::default()
        };
        let found = superseded(Some("integrations"), &surface);
        let pairs: Vec<(&str, &str)> = found
            .iter()
            .map(|s| (s.operation_id.as_str(), s.by_id.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("getBrivoDoors", "getBrivoDoorsV3"),
                ("getBrivoDoorsV2", "getBrivoDoorsV3")
            ]
        );
        assert_eq!(
            found[1].methods,
            ["get_brivo_doors_v2", "get_brivo_doors_v2_pages"]
        );
        assert_eq!(
            text(&found, None).lines().nth(1),
            Some(
                "  integrations: getBrivoDoors (get_brivo_doors) -> getBrivoDoorsV3 (get_brivo_doors_v3)"
            )
        );
    }

    #[test]
    fn callers_are_method_calls_outside_target_and_comments() {
        let root = std::env::temp_dir().join(format!("radar-callers-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::create_dir_all(root.join("target/debug")).unwrap();
        // Spelled through `m`, so that this file holds no call of it.
        let m = "get_policy_alerts";
        let source = format!(
            "fn f() {{\n    // c.{m}(r) in a comment\n    c.{m}(r);\n    c.{m}_v2(r);\n    \
             let s = \"{m}\";\n    client\n        . {m} (r)\n}}\n"
        );
        std::fs::write(root.join("src/a.rs"), source).unwrap();
        std::fs::write(root.join("target/debug/b.rs"), format!("c.{m}()\n")).unwrap();
        let methods = BTreeSet::from([m.to_owned()]);
        let found = callers(&root, &methods).unwrap();
        std::fs::remove_dir_all(&root).unwrap();
        let at = |line| Caller {
            file: PathBuf::from("src/a.rs"),
            line,
            method: m.to_owned(),
        };
        assert_eq!(found, [at(3), at(7)]);
    }

    /// The audit (`cli/`) must call the newest of each operation it reads:
    /// `event/getPolicyAlertsV2` has no `V3` in the fragment (nor in any
    /// upstream snapshot), so it stays; a `V3` would make this fail.
    #[test]
    fn the_audit_calls_no_superseded_method() {
        use crate::codegen::layout;
        use crate::project::{FRAGMENT, project_root};
        let root = project_root();
        let read = |path: &Path| std::fs::read_to_string(root.join(path)).unwrap();
        let mut found = superseded(
            None,
            &crate::listing::surface_of(&read(Path::new(FRAGMENT))).unwrap(),
        );
        for area in ["camera", "door", "event", "license", "user"] {
            let text = read(&layout::area_fragment(area));
            found.extend(superseded(
                Some(area),
                &crate::listing::surface_of(&text).unwrap(),
            ));
        }
        let alerts = found
            .iter()
            .find(|s| s.operation_id == "getPolicyAlerts")
            .unwrap();
        assert_eq!(alerts.by_id, "getPolicyAlertsV2");
        let calls = callers(&root.join("cli"), &methods(&found)).unwrap();
        assert!(calls.is_empty(), "{calls:#?}");
    }
}
