//! Nothing blocks the rest of a refresh: a part of the fragment that the
//! generator (or rustc, in the compile check) refuses is opened, if it is a
//! schema, or left out, if it is an operation, each named with its JSON
//! pointer and reason, until what remains builds. `--strict` refuses
//! instead.
//!
//! Which it is comes from the refusal's JSON pointer alone (under
//! `/components/schemas/` or under `/paths/`), never from its words. The
//! lossless repairs (enum values differing only in case) happen in the
//! generator itself, on every build, and are only listed here.

use serde_json::{Value, json};

use crate::Error;
use crate::codegen::spec::{self, unescape_segment};
use crate::codegen::{Repair, SpecError};
use crate::normalize::LeftOut;

/// More refusals than this in one fragment is a generator gone wrong, not a
/// few odd schemas: the refresh stops.
pub const MAX_ROUNDS: usize = 200;

/// A schema the refresh opened to any JSON value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// Its JSON pointer in the fragment.
    pub pointer: String,
    /// Why the generator refused it.
    pub why: String,
}

/// What a refresh did so that the fragment builds.
#[derive(Debug, Default, Clone)]
pub struct Salvage {
    /// Lossless repairs the generator makes (the wire format unchanged).
    pub repaired: Vec<Repair>,
    /// Schemas opened to any JSON value (their type is lost).
    pub opened: Vec<Opened>,
    /// Operations the generator or rustc refused even so.
    pub left_out: Vec<LeftOut>,
}

impl Salvage {
    /// The lines the refresh prints and the summary shows.
    pub fn lines(&self) -> Vec<String> {
        let repaired =
            (self.repaired.iter()).map(|r| format!("repaired {}: {}", r.pointer, r.what));
        let opened = (self.opened.iter()).map(|o| {
            format!(
                "opened {} to any JSON value: the generator cannot type it ({})",
                o.pointer, o.why
            )
        });
        let left_out =
            (self.left_out.iter()).map(|l| format!("left out {}: {}", l.operation, l.reason));
        repaired.chain(opened).chain(left_out).collect()
    }
}

/// Runs `attempt` on `doc` until it succeeds, opening or leaving out the
/// part each refusal names (`refused`: the pointer and the reason of an
/// attempt's failure, if it names a part); `strict` refuses the first.
pub fn until_it_builds<T>(
    doc: &mut Value,
    salvage: &mut Salvage,
    strict: bool,
    mut attempt: impl FnMut(&Value) -> Result<T, Error>,
    refused: impl Fn(&Error) -> Option<(String, String)>,
) -> Result<T, Error> {
    for _ in 0..MAX_ROUNDS {
        let error = match attempt(doc) {
            Ok(done) => return Ok(done),
            Err(error) => error,
        };
        let Some((pointer, why)) = refused(&error) else {
            return Err(error);
        };
        if strict || !take_out(doc, &pointer, &why, salvage)? {
            return Err(error);
        }
    }
    Err(Error::TooManyRefusals { limit: MAX_ROUNDS })
}

/// The pointer and reason of a generator refusal that names a part.
pub fn spec_refusal(error: &SpecError) -> Option<(String, String)> {
    (!error.pointer.is_empty()).then(|| (error.pointer.clone(), error.problem.clone()))
}

/// Opens the schema at `pointer` or leaves out the operation it is in;
/// whether there was anything to do.
pub fn take_out(
    doc: &mut Value,
    pointer: &str,
    why: &str,
    salvage: &mut Salvage,
) -> Result<bool, Error> {
    if pointer.starts_with("/components/schemas/") {
        return Ok(open(doc, pointer, why, salvage));
    }
    let Some((path, method)) = operation_at(pointer) else {
        return Ok(false);
    };
    let removed = (doc.pointer_mut("/paths"))
        .and_then(Value::as_object_mut)
        .and_then(|paths| {
            let item = paths.get_mut(&path)?.as_object_mut()?;
            let removed = item.remove(&method);
            if !item.keys().any(|k| spec::METHODS.contains(&k.as_str())) {
                paths.remove(&path);
            }
            removed
        });
    if removed.is_none() {
        return Ok(false);
    }
    crate::extract::prune_components(doc)?;
    salvage.left_out.push(LeftOut {
        operation: spec::label(&path, &method),
        reason: format!("at {pointer}: {why}"),
    });
    Ok(true)
}

/// Replaces the schema at `pointer` by any JSON value, unless it is one
/// already (then opening it again would loop).
fn open(doc: &mut Value, pointer: &str, why: &str, salvage: &mut Salvage) -> bool {
    let Some(schema) = doc.pointer_mut(pointer) else {
        return false;
    };
    let open_already = schema
        .as_object()
        .is_some_and(|s| s.keys().all(|k| k == "description"));
    if open_already {
        return false;
    }
    *schema = json!({
        "description": "Any JSON value: the generator cannot type this schema as upstream wrote \
                        it, so the refresh left it open."
    });
    salvage.opened.push(Opened {
        pointer: pointer.to_owned(),
        why: why.to_owned(),
    });
    true
}

/// `/paths/<path>/<method>/...` as the path and the method.
fn operation_at(pointer: &str) -> Option<(String, String)> {
    let mut segments = pointer.strip_prefix("/paths/")?.split('/');
    let path = unescape_segment(segments.next()?);
    let method = segments.next()?.to_owned();
    spec::METHODS
        .contains(&method.as_str())
        .then_some((path, method))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Value {
        json!({
            "openapi": "3.0.3",
            "paths": {
                "/a/one": {"post": {"operationId": "one", "responses": {"200": {"description": "",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}}}}}}},
                "/a/two": {"post": {"operationId": "two", "responses": {"200": {"description": "",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/B"}}}}}}}
            },
            "components": {"schemas": {
                "A": {"type": "object", "properties": {"odd": {"not": {"type": "string"}}}},
                "B": {"type": "object"}
            }}
        })
    }

    fn refusal(pointer: &str) -> Error {
        Error::Argument(pointer.to_owned())
    }

    fn refused(error: &Error) -> Option<(String, String)> {
        match error {
            Error::Argument(pointer) if !pointer.is_empty() => Some((pointer.clone(), "no".into())),
            _ => None,
        }
    }

    #[test]
    fn a_refused_schema_is_opened_and_named() {
        let mut doc = doc();
        let mut salvage = Salvage::default();
        let odd = "/components/schemas/A/properties/odd";
        let built = until_it_builds(
            &mut doc,
            &mut salvage,
            false,
            |doc| match doc.pointer(odd).and_then(|s| s.get("not")) {
                Some(_) => Err(refusal(odd)),
                None => Ok("built"),
            },
            refused,
        );
        assert_eq!(built.expect("opened, then built"), "built");
        assert_eq!(salvage.opened.len(), 1);
        assert_eq!(salvage.opened[0].pointer, odd);
        assert!(!salvage.opened.is_empty() || !salvage.left_out.is_empty());
        assert!(salvage.lines()[0].starts_with("opened /components/schemas/A/properties/odd"));
        assert!(
            doc.pointer("/paths/~1a~1one").is_some(),
            "the operation stays"
        );
    }

    #[test]
    fn a_refused_operation_is_left_out_with_what_only_it_reached() {
        let mut doc = doc();
        let mut salvage = Salvage::default();
        let two = "/paths/~1a~1two/post/responses";
        let built = until_it_builds(
            &mut doc,
            &mut salvage,
            false,
            |doc| match doc.pointer("/paths/~1a~1two") {
                Some(_) => Err(refusal(two)),
                None => Ok(()),
            },
            refused,
        );
        assert!(built.is_ok());
        assert_eq!(salvage.left_out.len(), 1);
        assert_eq!(salvage.left_out[0].operation, "POST /a/two");
        assert!(salvage.left_out[0].reason.contains(two));
        assert!(
            doc.pointer("/components/schemas/B").is_none(),
            "B was only two's"
        );
        assert!(doc.pointer("/components/schemas/A").is_some());
    }

    #[test]
    fn strict_refuses_and_a_refusal_without_a_part_stops() {
        let odd = "/components/schemas/A/properties/odd";
        let mut salvage = Salvage::default();
        let strict = until_it_builds(
            &mut doc(),
            &mut salvage,
            true,
            |_| -> Result<(), Error> { Err(refusal(odd)) },
            refused,
        );
        assert!(strict.is_err());
        assert!(salvage.opened.is_empty() && salvage.left_out.is_empty());
        let whole = until_it_builds(
            &mut doc(),
            &mut salvage,
            false,
            |_| -> Result<(), Error> { Err(refusal("")) },
            refused,
        );
        assert!(whole.is_err());
        // The same part refused again after opening: no loop.
        let again = until_it_builds(
            &mut doc(),
            &mut Salvage::default(),
            false,
            |_| -> Result<(), Error> { Err(refusal(odd)) },
            refused,
        );
        assert!(again.is_err());
    }
}
