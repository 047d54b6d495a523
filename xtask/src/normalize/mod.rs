//! Normalization: named passes that turn what upstream ships into what the
//! generator takes, keeping what goes over the wire. Each pass is small,
//! idempotent (a second run changes nothing) and tested on its own.

mod operations;
mod schemas;
mod walk;

use serde_json::Value;

pub use operations::DANGLING_REF_EXTENSION;

/// One step of the normalization.
pub struct Pass {
    /// Short name, printed in the refresh log and listed in CONTRIBUTING.md.
    pub name: &'static str,
    /// The change it makes, and why.
    pub why: &'static str,
    pub run: fn(&mut Value) -> Outcome,
}

/// What a pass did.
#[derive(Debug, Default, PartialEq)]
pub struct Outcome {
    /// How many places it changed.
    pub changed: usize,
    /// Operations it left out, each with the reason.
    pub left_out: Vec<LeftOut>,
}

/// An operation the fragment cannot carry, never dropped silently.
#[derive(Debug, Clone, PartialEq)]
pub struct LeftOut {
    /// `POST /api/...`
    pub operation: String,
    pub reason: String,
}

impl Outcome {
    fn changed(changed: usize) -> Self {
        Outcome {
            changed,
            left_out: Vec::new(),
        }
    }
}

/// The passes, in the order they run. Operation passes come first so that
/// left-out operations do not pull their schemas into the fragment, and
/// read-only marks are read off operationIds before any is renamed.
pub const PASSES: &[Pass] = &[
    operations::DROP_AUTH_HEADERS,
    operations::LONE_DEFAULT_TO_200,
    operations::JSON_WITH_PARAMETERS,
    operations::WILDCARD_BODY_AS_JSON,
    operations::JSON_WHEN_OFFERED,
    operations::MULTIPART_PARTS_BY_CALLER,
    operations::NON_JSON_ANSWER_AS_BYTES,
    operations::LEAVE_OUT_UNKNOWN_REQUEST_BODIES,
    operations::OPEN_DANGLING_SCHEMA_REFS,
    operations::LEAVE_OUT_DANGLING_REFS,
    operations::MARK_READ_ONLY,
    operations::UNIQUE_OPERATION_IDS,
    schemas::SCHEMA_FOR_BARE_MEDIA_TYPE,
    schemas::NON_NULL_PARAMETERS,
    schemas::FORMAT_ONLY_ON_STRINGS,
    schemas::EMPTY_ENUM_VALUE,
    schemas::INLINE_BASE_OF_SUBTYPE,
    schemas::DROP_DISCRIMINATOR,
];

/// Runs every pass over `doc`, in order; returns each pass's outcome.
pub fn run_all(doc: &mut Value) -> Vec<(&'static Pass, Outcome)> {
    PASSES.iter().map(|pass| (pass, (pass.run)(doc))).collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Runs `pass` on `doc`, and checks that it is idempotent: a second run
    /// changes nothing and reports nothing.
    pub fn run(pass: &Pass, mut doc: Value) -> (Value, Outcome) {
        let outcome = (pass.run)(&mut doc);
        let mut again = doc.clone();
        assert_eq!((pass.run)(&mut again), Outcome::default(), "{}", pass.name);
        assert_eq!(again, doc, "{} is not idempotent", pass.name);
        (doc, outcome)
    }

    /// Every pass runs, in order, each reporting its own outcome.
    #[test]
    fn run_all_runs_every_pass_in_order() {
        let mut doc = serde_json::json!({ "paths": {
            "/api/partner/getA": { "post": {
                "operationId": "getA",
                "responses": { "default": { "description": "ok" } }
            } }
        } });
        let outcomes = run_all(&mut doc);
        let names: Vec<&str> = outcomes.iter().map(|(pass, _)| pass.name).collect();
        let expected: Vec<&str> = PASSES.iter().map(|p| p.name).collect();
        assert_eq!(names, expected);
        let changed = |name: &str| {
            outcomes
                .iter()
                .find(|(pass, _)| pass.name == name)
                .map(|(_, outcome)| outcome.changed)
        };
        assert_eq!(changed("lone-default-to-200"), Some(1));
        assert_eq!(changed("mark-read-only"), Some(1));
        assert_eq!(changed("drop-auth-headers"), Some(0));
        assert_eq!(
            doc,
            serde_json::json!({ "paths": { "/api/partner/getA": { "post": {
                "operationId": "getA",
                "responses": { "200": { "description": "ok" } },
                "x-rhombus-read-only": true
            } } } })
        );
    }

    #[test]
    fn pass_names_are_unique_and_explained() {
        let mut names: Vec<&str> = PASSES.iter().map(|p| p.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), PASSES.len());
        assert!(PASSES.iter().all(|p| p.why.len() > 40));
    }

    #[test]
    fn contributing_lists_every_pass() {
        let guide = std::fs::read_to_string(crate::project::project_root().join("CONTRIBUTING.md"))
            .unwrap();
        for pass in PASSES {
            assert!(
                guide.contains(&format!("| `{}` |", pass.name)),
                "CONTRIBUTING.md does not list {}",
                pass.name
            );
        }
    }
}
