//! The config file of named partner accounts, for `--profile NAME`:
//!
//! ```toml
//! [profiles.acme]
//! api_key_env = "ACME_RHOMBUS_KEY"          # or api_key_file, or api_key_command
//! region = "eu"                             # us (default) or eu
//!
//! [profiles.lab]
//! api_key_command = ["pass", "show", "rhombus/lab"]
//! scheme = "partner-api"                    # a certificate scheme: mutual TLS
//! identity_file = "lab-client.pem"          # certificate and private key, PEM
//! root_certificate_file = "lab-ca.pem"      # an extra CA to trust
//! base_url = "https://rhombus-gateway.lab.example"
//! ```
//!
//! Exactly one of `api_key_env`, `api_key_file`, `api_key_command` says
//! where the key is; the key itself is never in the file (`api_key` is
//! refused). Relative paths are taken from the file's directory. Every
//! error names the file, and the key when there is one.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use rhombus_partner::{AuthScheme, ClientBuilder, Region};
use serde::Deserialize;

/// The file's name under the configuration directory.
pub const FILE_NAME: &str = "rhombus-audit/config.toml";

/// Where the file is read when `--config` does not say:
/// `$XDG_CONFIG_HOME/rhombus-audit/config.toml`, else
/// `~/.config/rhombus-audit/config.toml` (`None` without either variable).
pub fn default_path() -> Option<PathBuf> {
    let non_empty = |name| std::env::var_os(name).filter(|v| !v.is_empty());
    let base = non_empty("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| non_empty("HOME").map(|home| Path::new(&home).join(".config")))?;
    Some(base.join(FILE_NAME))
}

/// The API's region, as `--region` and a profile's `region` name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum RegionName {
    /// `https://api2.rhombussystems.com`.
    Us,
    /// `https://api2.eu.rhombussystems.com`.
    Eu,
}

impl From<RegionName> for Region {
    fn from(name: RegionName) -> Region {
        match name {
            RegionName::Us => Region::Us,
            RegionName::Eu => Region::Eu,
        }
    }
}

/// Why a profile could not be used: the file, the key (`profiles.NAME.x`)
/// when one is at fault, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The config file.
    pub file: PathBuf,
    /// The key at fault, e.g. `profiles.acme.api_key_file`.
    pub key: Option<String>,
    /// What is wrong, and what to do.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "config file {}", self.file.display())?;
        if let Some(key) = &self.key {
            write!(f, ", {key}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileContents {
    #[serde(default)]
    profiles: BTreeMap<String, RawProfile>,
}

/// A profile as written; checked into a [`Profile`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    /// Refused: the key itself does not belong in a file.
    api_key: Option<serde::de::IgnoredAny>,
    api_key_env: Option<String>,
    api_key_file: Option<PathBuf>,
    api_key_command: Option<Vec<String>>,
    scheme: Option<String>,
    region: Option<RegionName>,
    base_url: Option<String>,
    identity_file: Option<PathBuf>,
    root_certificate_file: Option<PathBuf>,
}

/// Where a profile's API key is read, when the audit starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `api_key_env`: an environment variable.
    Env(String),
    /// `api_key_file`: a file (its text, trimmed).
    File(PathBuf),
    /// `api_key_command`: a program and its arguments, run without a shell
    /// (its standard output, trimmed).
    Command(Vec<String>),
}

/// A named partner account of the config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// The file it was read from.
    pub file: PathBuf,
    /// Its name, `NAME` of `[profiles.NAME]`.
    pub name: String,
    /// Where its API key is.
    pub key: KeySource,
    /// `scheme`: the key's kind (default `partner-api-token`).
    pub scheme: Option<AuthScheme>,
    /// `region` (default `us`).
    pub region: Option<RegionName>,
    /// `base_url`: another base URL (a test server, a gateway).
    pub base_url: Option<String>,
    /// `identity_file`: certificate and private key, PEM, for mTLS.
    pub identity_file: Option<PathBuf>,
    /// `root_certificate_file`: an extra CA to trust, PEM.
    pub root_certificate_file: Option<PathBuf>,
}

/// Reads profile `name` of the config file at `path`.
pub fn load(path: &Path, name: &str) -> Result<Profile, ConfigError> {
    let error = |key: Option<String>, message: String| ConfigError {
        file: path.to_owned(),
        key,
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        error(
            None,
            format!(
                "cannot be read ({e}); write it (see the README's fleet audit \
                             section), or name another with --config"
            ),
        )
    })?;
    let contents: FileContents =
        toml::from_str(&text).map_err(|e| error(None, invalid(&text, &e)))?;
    let Some(raw) = contents.profiles.get(name) else {
        let known: Vec<&str> = contents.profiles.keys().map(String::as_str).collect();
        let known = match known.is_empty() {
            true => "none".to_owned(),
            false => known.join(", "),
        };
        return Err(error(
            None,
            format!("no profile {name:?} ([profiles.{name}]); profiles: {known}"),
        ));
    };
    let base = path.parent().unwrap_or(Path::new("."));
    Profile::check(raw, path, name, base)
}

/// Why the file is not a valid config file, by line, column and key,
/// without quoting it: a line the parser stumbled on may hold a secret.
fn invalid(text: &str, error: &toml::de::Error) -> String {
    let message = error.message().trim();
    let Some(span) = error.span() else {
        return format!("is not a valid config file: {message}");
    };
    let before = text.get(..span.start).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |n| n + 1) + 1;
    let key = key_at(text, line).map_or_else(String::new, |key| format!(" ({key})"));
    format!("is not a valid config file: line {line}, column {column}{key}: {message}")
}

/// The dotted key written on `line` (1-based), under its table header,
/// e.g. `profiles.acme.region`, when both are plain names.
fn key_at(text: &str, line: usize) -> Option<String> {
    let plain = |s: &str| {
        let s = s.trim();
        let ok = !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
        ok.then(|| s.to_owned())
    };
    let lines: Vec<&str> = text.lines().take(line).collect();
    let key = plain(lines.last()?.split_once('=')?.0)?;
    let table = (lines.iter().rev()).find_map(|l| {
        l.trim()
            .strip_prefix('[')?
            .strip_suffix(']')
            .and_then(plain)
    });
    Some(table.map_or_else(|| key.clone(), |table| format!("{table}.{key}")))
}

impl Profile {
    /// Checks a profile as written: one key source, a known scheme, and
    /// paths taken from the file's directory.
    fn check(
        raw: &RawProfile,
        file: &Path,
        name: &str,
        base: &Path,
    ) -> Result<Profile, ConfigError> {
        let error = |field: &str, message: String| ConfigError {
            file: file.to_owned(),
            key: Some(match field {
                "" => format!("profiles.{name}"),
                field => format!("profiles.{name}.{field}"),
            }),
            message,
        };
        if raw.api_key.is_some() {
            return Err(error(
                "api_key",
                "the API key itself is not kept in a file that is \
                 easily copied, shared or committed: name where it is with api_key_env (an \
                 environment variable), api_key_file (a file only you can read) or \
                 api_key_command (e.g. a password manager's command)"
                    .to_owned(),
            ));
        }
        let key = key_source(raw, base).map_err(|(field, message)| error(field, message))?;
        let scheme = (raw.scheme.as_deref())
            .map(|s| s.parse::<AuthScheme>())
            .transpose()
            .map_err(|e| error("scheme", e.to_string()))?;
        Ok(Profile {
            file: file.to_owned(),
            name: name.to_owned(),
            key,
            scheme,
            region: raw.region,
            base_url: raw.base_url.clone(),
            identity_file: raw.identity_file.as_ref().map(|p| base.join(p)),
            root_certificate_file: raw.root_certificate_file.as_ref().map(|p| base.join(p)),
        })
    }

    /// The error for one of this profile's keys.
    fn error(&self, field: &str, message: String) -> ConfigError {
        ConfigError {
            file: self.file.clone(),
            key: Some(format!("profiles.{}.{field}", self.name)),
            message,
        }
    }

    /// The client builder for this account: its key read, its
    /// certificates loaded. `region` (from `--region`) overrides the
    /// profile's.
    pub fn builder(&self, region: Option<RegionName>) -> Result<ClientBuilder, ConfigError> {
        let mut builder = ClientBuilder::default().api_key(self.api_key()?);
        if let Some(scheme) = self.scheme {
            builder = builder.scheme(scheme);
        }
        if let Some(region) = region.or(self.region) {
            builder = builder.region(region.into());
        }
        if let Some(url) = &self.base_url {
            builder = builder.base_url(url.clone());
        }
        if let Some(path) = &self.identity_file {
            builder = builder.identity(self.read("identity_file", path)?);
        }
        if let Some(path) = &self.root_certificate_file {
            builder = builder.add_root_certificate(self.read("root_certificate_file", path)?);
        }
        if self.scheme.is_some_and(AuthScheme::uses_certificate) && self.identity_file.is_none() {
            return Err(self.error(
                "identity_file",
                format!(
                    "scheme {} authenticates with a client certificate: set identity_file to a PEM \
                 file holding the certificate and its private key",
                    self.scheme.unwrap_or_default()
                ),
            ));
        }
        Ok(builder)
    }

    /// A file the profile names, as bytes.
    fn read(&self, field: &str, path: &Path) -> Result<Vec<u8>, ConfigError> {
        std::fs::read(path)
            .map_err(|e| self.error(field, format!("{} cannot be read: {e}", path.display())))
    }

    /// The API key, from where the profile says.
    pub fn api_key(&self) -> Result<String, ConfigError> {
        let (field, key) = match &self.key {
            KeySource::Env(var) => ("api_key_env", key_from_env(var)),
            KeySource::File(path) => ("api_key_file", key_from_file(path)),
            KeySource::Command(command) => ("api_key_command", key_from_command(command)),
        };
        key.map_err(|message| self.error(field, message))
    }
}

/// The one key source a profile names, or the key at fault (`""`: the
/// profile) and why.
fn key_source(raw: &RawProfile, base: &Path) -> Result<KeySource, (&'static str, String)> {
    let mut sources = Vec::new();
    if let Some(var) = &raw.api_key_env {
        sources.push(KeySource::Env(var.clone()));
    }
    if let Some(path) = &raw.api_key_file {
        sources.push(KeySource::File(base.join(path)));
    }
    if let Some(command) = &raw.api_key_command {
        if command.is_empty() {
            return Err((
                "api_key_command",
                "is empty: give the program and its arguments, e.g. [\"pass\", \"show\", \
                 \"rhombus\"]"
                    .to_owned(),
            ));
        }
        sources.push(KeySource::Command(command.clone()));
    }
    match sources.len() {
        1 => Ok(sources.remove(0)),
        0 => Err((
            "",
            "no API key: set one of api_key_env, api_key_file, api_key_command".into(),
        )),
        _ => Err((
            "",
            "more than one of api_key_env, api_key_file, api_key_command: keep one".into(),
        )),
    }
}

fn non_empty(key: &str, from: impl fmt::Display) -> Result<String, String> {
    let key = key.trim();
    match key.is_empty() {
        true => Err(format!("{from} gives an empty API key")),
        false => Ok(key.to_owned()),
    }
}

fn key_from_env(var: &str) -> Result<String, String> {
    match std::env::var(var) {
        Ok(key) => non_empty(&key, format_args!("the environment variable {var}")),
        Err(std::env::VarError::NotPresent) => Err(format!(
            "the environment variable {var} is not set: set it to the API key"
        )),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(format!("the environment variable {var} is not UTF-8"))
        }
    }
}

fn key_from_file(path: &Path) -> Result<String, String> {
    let key = std::fs::read_to_string(path)
        .map_err(|e| format!("{} cannot be read: {e}", path.display()))?;
    non_empty(&key, format_args!("{}", path.display()))
}

fn key_from_command(command: &[String]) -> Result<String, String> {
    let (program, args) = command.split_first().ok_or("api_key_command is empty")?;
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("{program} cannot be run: {e}"))?;
    if !output.status.success() {
        return Err(format!("{program} failed ({})", output.status));
    }
    let key =
        String::from_utf8(output.stdout).map_err(|_| format!("{program} printed non-UTF-8"))?;
    non_empty(&key, format_args!("{program}"))
}
