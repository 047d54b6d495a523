//! Golden files of the demo audit: the table, the JSON document and the CSV
//! that `rhombus-audit` prints for the demo partner, checked in under
//! `cli/tests/data/` so that a change to the audit's output shows in review
//! as a diff of what a partner sees. The run's time and the fake server's
//! port are replaced by placeholders.
//!
//! Outside CI a file that differs is rewritten and the test fails, saying
//! so (review the diff, commit it, run again); under `CI` it only fails.

use std::path::PathBuf;
use std::process::Command;

/// The demo audit with `args`, its stdout; it exits 1 (one demo client
/// refuses access, two facts of others are not read).
fn demo(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_rhombus-audit"))
        .args(args)
        .arg("--quiet")
        .env_remove("RHOMBUS_API_KEY")
        .env_remove("RHOMBUS_BASE_URL")
        .env_remove("RHOMBUS_AUTH_SCHEME")
        .output()
        .expect("the audit runs");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    String::from_utf8(output.stdout).expect("UTF-8")
}

/// `text` with every `YYYY-MM-DD HH:MM` replaced by `<time>`.
fn without_times(text: &str) -> String {
    let shape = "dddd-dd-dd dd:dd";
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut at = 0;
    while at < chars.len() {
        let fits = chars.len() - at >= shape.len()
            && shape.chars().zip(&chars[at..]).all(|(s, c)| match s {
                'd' => c.is_ascii_digit(),
                other => other == *c,
            });
        if fits {
            out.push_str("<time>");
            at += shape.len();
        } else {
            out.push(chars[at]);
            at += 1;
        }
    }
    out
}

/// The JSON document, as printed (its fields in their documented order),
/// with its run's time and server replaced.
fn json_without_run(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text).expect("one JSON document");
    let mut out = String::new();
    for line in text.lines() {
        let key = line.trim_start().split(':').next().unwrap_or_default();
        let indent = &line[..line.len() - line.trim_start().len()];
        let comma = if line.ends_with(',') { "," } else { "" };
        match key {
            "\"generated_at\"" => out.push_str(&format!("{indent}{key}: \"<time>\"{comma}")),
            "\"base_url\"" => out.push_str(&format!("{indent}{key}: \"<the fake server>\"{comma}")),
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// Compares `actual` with the golden file `name`, rewriting it outside CI.
fn check(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    let golden = std::fs::read_to_string(&path).unwrap_or_default();
    if golden == actual {
        return;
    }
    if std::env::var_os("CI").is_none() {
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("tests/data");
        std::fs::write(&path, actual).expect("the golden file is written");
        panic!(
            "{} was not what the audit prints; it is rewritten: review the diff, commit it and \
             run again",
            path.display()
        );
    }
    panic!(
        "{} is not what the audit prints; run `cargo test -p rhombus-audit --test golden` \
         outside CI to rewrite it, and review the diff",
        path.display()
    );
}

#[test]
fn the_demo_table_is_the_golden_one() {
    check("demo.txt", &without_times(&demo(&[])));
}

#[test]
fn the_demo_wide_table_is_the_golden_one() {
    check("demo-wide.txt", &without_times(&demo(&["--wide"])));
}

#[test]
fn the_demo_json_is_the_golden_one() {
    check("demo.json", &json_without_run(&demo(&["--json"])));
}

#[test]
fn the_demo_csv_is_the_golden_one() {
    check("demo.csv", &demo(&["--csv"]));
}

#[test]
fn times_are_replaced_and_nothing_else() {
    assert_eq!(
        without_times("audit, 2026-12-06 04:03 UTC: 9 of 12; 12:30"),
        "audit, <time> UTC: 9 of 12; 12:30"
    );
}
