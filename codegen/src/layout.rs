//! Where the fragments sit and how cargo names what builds from them: the
//! one place the build script and the refresh learn the package's layout.

use std::path::{Path, PathBuf};

/// The partner fragment, relative to the package root.
pub const FRAGMENT: &str = "spec/partner.json";

/// The client-org API's fragments, one `<area>.json` per area, each built
/// only under the cargo feature named after it.
pub const AREAS_DIR: &str = "spec/areas";

/// Names another fragment to build the partner client from, relative to
/// the package root.
pub const SPEC_ENV: &str = "RHOMBUS_PARTNER_SPEC";

/// Names another directory of area fragments (`<area>.json`) to build the
/// areas from, in place of [`AREAS_DIR`]: the refresh's type check.
pub const AREAS_ENV: &str = "RHOMBUS_PARTNER_AREAS";

/// Marks a schema the refresh opened to any JSON value because upstream's
/// `$ref` named no schema; its value is the `$ref` target.
pub const DANGLING_REF_EXTENSION: &str = "x-rhombus-dangling-ref";

/// The fragment of `area`, relative to the package root.
pub fn area_fragment(area: &str) -> PathBuf {
    Path::new(AREAS_DIR).join(format!("{area}.json"))
}

/// The module an area's client lives in: the area in snake case, by the
/// generator's naming rule, as `src/areas.rs` names it (`eventSearch` is
/// `event_search`).
pub fn area_module(area: &str) -> String {
    crate::spec::sanitize(area, false)
}

/// The variable cargo sets for a build script when the area's feature is
/// on: `CARGO_FEATURE_` and the feature's name in upper case, `-` as `_`.
pub fn area_feature_env(area: &str) -> String {
    format!("CARGO_FEATURE_{}", area.to_uppercase().replace('-', "_"))
}

/// The areas that have a fragment in `dir` (a `<area>.json`), sorted.
pub fn areas_in(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut areas: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| {
            entry
                .file_name()
                .to_str()?
                .strip_suffix(".json")
                .map(str::to_owned)
        })
        .collect();
    areas.sort();
    Ok(areas)
}

/// `error` and every error under it (its `source()` chain), joined with
/// `: `, since the outer message alone often hides the cause (a refused
/// connection behind "error sending request").
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_area_is_named_as_cargo_and_the_library_name_it() {
        assert_eq!(area_feature_env("eventSearch"), "CARGO_FEATURE_EVENTSEARCH");
        assert_eq!(area_feature_env("a-b"), "CARGO_FEATURE_A_B");
        assert_eq!(area_module("eventSearch"), "event_search");
        assert_eq!(area_fragment("door"), Path::new("spec/areas/door.json"));
    }

    #[test]
    fn the_areas_are_the_fragments_of_the_checked_in_directory() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(AREAS_DIR);
        let areas = areas_in(&dir).expect("spec/areas/ reads");
        assert!(areas.contains(&"eventSearch".to_owned()), "{areas:?}");
        assert!(areas.windows(2).all(|w| w[0] < w[1]), "{areas:?}");
        assert!(!areas.iter().any(|a| a.ends_with(".api")), "{areas:?}");
    }

    #[test]
    fn the_chain_names_every_cause() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("cannot send")
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let chained = Outer(std::io::Error::other("refused"));
        assert_eq!(error_chain(&chained), "cannot send: refused");
    }
}
