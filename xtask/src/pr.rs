//! The refresh's pull request body (`--summary-markdown`): the semver
//! verdict and the changes by impact, the deprecations, the fragment's
//! summary, and last the unified diff of the API listings, cut to fit.

use std::fmt::Write as _;

use crate::impact::{self, Change, Impact};

/// GitHub refuses a body over 65,536 characters and the workflow cuts at
/// 60,000 bytes; the listing diff, last, is cut first so its fence closes.
pub const BODY_LIMIT: usize = 60_000;

/// One listing before and after, named as the pull request's files are.
pub struct ListingDiff {
    /// `spec/areas/event.api.txt`.
    pub name: String,
    pub old: String,
    pub new: String,
}

/// What a body is made of.
pub struct Body<'a> {
    pub version: &'a str,
    /// Where the upstream document came from.
    pub source: &'a str,
    pub changes: &'a [Change],
    /// The fragments' change summaries, as printed.
    pub summary: &'a str,
    /// The radar's section ([`crate::radar::markdown`]).
    pub deprecations: &'a str,
    pub listings: &'a [&'a ListingDiff],
}

/// The whole body, at most [`BODY_LIMIT`] bytes when the part before the
/// listing diff fits.
pub fn markdown(body: &Body) -> String {
    let mut out = verdict(body);
    out.push_str(body.deprecations);
    let _ = writeln!(
        out,
        "\n### Summary of the fragment's changes\n\n```text\n{}```\n",
        body.summary
    );
    let diff: String = body.listings.iter().map(|l| unified(l)).collect();
    out.push_str("### The Rust API: diff of the listings\n\n");
    if diff.is_empty() {
        out.push_str("No listing changed.\n");
        return out;
    }
    out.push_str(&fenced_within(&diff, BODY_LIMIT.saturating_sub(out.len())));
    out
}

/// The bump and the changes grouped by impact.
fn verdict(body: &Body) -> String {
    let impact = impact::overall(body.changes);
    let next = impact::bump(body.version, impact).unwrap_or_else(|e| e.to_string());
    let mut out = format!(
        "## Refresh of `spec/partner.json` from `{}`\n\n",
        body.source
    );
    let _ = writeln!(
        out,
        "**Version bump: {} → {next}** ({} under Cargo's semver rules)\n",
        body.version,
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
        let lines: Vec<&Change> = body.changes.iter().filter(|c| c.impact == level).collect();
        if lines.is_empty() {
            continue;
        }
        let _ = writeln!(out, "### {title} ({})\n", lines.len());
        for change in lines {
            let _ = writeln!(out, "- {}", change.to_string().replace('`', "\\`"));
        }
        out.push('\n');
    }
    out
}

/// The unified diff of one listing; empty when it did not change.
pub fn unified(listing: &ListingDiff) -> String {
    if listing.old == listing.new {
        return String::new();
    }
    similar::TextDiff::from_lines(&listing.old, &listing.new)
        .unified_diff()
        .context_radius(2)
        .header(
            &format!("a/{}", listing.name),
            &format!("b/{}", listing.name),
        )
        .to_string()
}

/// `diff` in a ```diff block of at most `room` bytes: whole lines up to
/// what fits, then a line saying how many were cut.
fn fenced_within(diff: &str, room: usize) -> String {
    const OPEN: &str = "```diff\n";
    const CLOSE: &str = "```\n";
    // Room for the fences and the note.
    let budget = room.saturating_sub(OPEN.len() + CLOSE.len() + 200);
    if diff.len() <= budget {
        return format!("{OPEN}{diff}{CLOSE}");
    }
    let mut kept = 0;
    let mut end = 0;
    for line in diff.split_inclusive('\n') {
        if end + line.len() > budget {
            break;
        }
        end += line.len();
        kept += 1;
    }
    let cut = diff.lines().count() - kept;
    format!(
        "{OPEN}{}{CLOSE}\n*({cut} more lines of the listing diff cut to fit the body: the \
         `*.api.txt` files in the pull request's diff have them all)*\n",
        &diff[..end]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(name: &str, old: &str, new: &str) -> ListingDiff {
        ListingDiff {
            name: name.to_owned(),
            old: old.to_owned(),
            new: new.to_owned(),
        }
    }

    fn body<'a>(listings: &'a [&'a ListingDiff]) -> Body<'a> {
        Body {
            version: "0.1.0",
            source: "up.json",
            changes: &[],
            summary: "schemas: 0 added\n",
            deprecations: "### Deprecations: superseded operations (0)\n",
            listings,
        }
    }

    #[test]
    fn the_body_has_the_verdict_deprecations_summary_and_listing_diff() {
        let partner = listing("spec/partner.api.txt", "a\nb\nc\n", "a\nB\nc\n");
        let event = listing("spec/areas/event.api.txt", "same\n", "same\n");
        let md = markdown(&body(&[&partner, &event]));
        assert!(
            md.contains("**Version bump: 0.1.0 → 0.1.1** (patch"),
            "{md}"
        );
        assert!(md.contains("### Deprecations"), "{md}");
        assert!(md.contains("```text\nschemas: 0 added\n```"), "{md}");
        assert!(
            md.contains(
                "```diff\n--- a/spec/partner.api.txt\n+++ b/spec/partner.api.txt\n@@ -1,3 +1,3 \
                 @@\n a\n-b\n+B\n c\n```\n"
            ),
            "{md}"
        );
        assert!(!md.contains("event.api.txt"), "{md}");
    }

    #[test]
    fn a_long_listing_diff_is_cut_at_a_line_with_its_fence_closed() {
        let old: String = (0..20_000).map(|i| format!("line {i}\n")).collect();
        let big = listing("spec/areas/big.api.txt", "", &old);
        let md = markdown(&body(&[&big]));
        assert!(md.len() <= BODY_LIMIT, "{}", md.len());
        let (_, diff) = md.split_once("```diff\n").unwrap();
        let (kept, note) = diff.split_once("```\n").unwrap();
        assert!(kept.ends_with('\n'), "{kept}");
        assert!(
            note.contains("more lines of the listing diff cut"),
            "{note}"
        );
    }

    /// The workflow cuts a body over the same limit, as a last resort: the
    /// two must agree, or the listing diff's fence would be cut open.
    #[test]
    fn the_workflow_cuts_at_the_same_limit() {
        let workflow = crate::project::project_root().join(".github/workflows/refresh-spec.yml");
        let text = std::fs::read_to_string(workflow).unwrap();
        assert!(text.contains(&format!("head -c {BODY_LIMIT} ")), "{text}");
    }
}
