//! `--clients`: the clients to audit. Entries are comma-separated and
//! trimmed (`"a, b"`); `@FILE` reads one client per line from a file and
//! `-` from standard input, skipping blank lines and `#` comments.

use std::io::Read;

/// One `--clients` entry, trimmed; clap has already refused an empty one.
pub fn trim_entry(entry: String) -> Result<String, String> {
    match entry.trim() {
        "" => Err("a client is blank: give UUIDs or names, comma-separated".to_owned()),
        trimmed if trimmed.len() == entry.len() => Ok(entry),
        trimmed => Ok(trimmed.to_owned()),
    }
}

/// The clients the entries name, `@FILE` and `-` read (`stdin` for `-`,
/// at most once).
pub fn expand(entries: &[String], stdin: &mut dyn Read) -> Result<Vec<String>, String> {
    let mut clients = Vec::new();
    let mut stdin_read = false;
    for entry in entries {
        if entry == "-" {
            if std::mem::replace(&mut stdin_read, true) {
                return Err("--clients - is given twice: standard input is read once".into());
            }
            let mut text = String::new();
            (stdin.read_to_string(&mut text))
                .map_err(|e| format!("--clients -: standard input cannot be read: {e}"))?;
            clients.extend(lines(&text));
        } else if let Some(path) = entry.strip_prefix('@') {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("--clients @{path}: the file cannot be read: {e}"))?;
            clients.extend(lines(&text));
        } else {
            clients.push(entry.clone());
        }
    }
    Ok(clients)
}

/// One client a line, trimmed; blank lines and `#` comments skipped.
fn lines(text: &str) -> impl Iterator<Item = String> + '_ {
    (text.lines())
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_trimmed_and_blank_ones_refused() {
        assert_eq!(trim_entry(" Acme ".into()).as_deref(), Ok("Acme"));
        assert_eq!(trim_entry("Acme".into()).as_deref(), Ok("Acme"));
        assert!(trim_entry("  ".into()).is_err());
    }

    #[test]
    fn stdin_gives_one_client_a_line_without_blanks_or_comments() {
        let mut stdin = "# mine\n Acme Logistics \n\n  # not this\nBayside\n".as_bytes();
        let entries = ["First".to_owned(), "-".to_owned()];
        let clients = expand(&entries, &mut stdin).expect("read");
        assert_eq!(clients, ["First", "Acme Logistics", "Bayside"]);
        let twice = ["-".to_owned(), "-".to_owned()];
        assert!(expand(&twice, &mut "".as_bytes()).is_err());
        let missing = ["@/nonexistent/clients.txt".to_owned()];
        let error = expand(&missing, &mut "".as_bytes()).expect_err("no file");
        assert!(error.contains("/nonexistent/clients.txt"), "{error}");
    }
}
