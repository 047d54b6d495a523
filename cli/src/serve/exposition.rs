//! A small writer of the two text formats Prometheus scrapes: its own
//! (version 0.0.4) and OpenMetrics 1.0. Handwritten because neither
//! well-kept crate writes both: `prometheus` writes only 0.0.4,
//! `prometheus-client` only OpenMetrics, and both want metrics registered
//! up front, while here every family is rewritten from one audit.
//!
//! The two formats differ in what this writer needs only in three places:
//! which characters HELP escapes, how a counter's family is named, and the
//! closing `# EOF`.

use std::fmt::Write as _;

/// The text format of an exposition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Prometheus' text format, version 0.0.4.
    Prometheus,
    /// OpenMetrics 1.0.0, text.
    OpenMetrics,
}

impl Format {
    /// The `Content-Type` of an exposition in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Prometheus => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }

    /// The format an `Accept` header asks for: OpenMetrics when it names
    /// `application/openmetrics-text` with a weight above 0 and no version
    /// other than 1.0.0 (the one written here); else Prometheus' own,
    /// which every scraper reads.
    pub fn negotiate(accept: Option<&str>) -> Format {
        let asks_openmetrics = (accept.unwrap_or("").split(','))
            .map(MediaRange::parse)
            .any(|range| {
                range
                    .essence
                    .eq_ignore_ascii_case("application/openmetrics-text")
                    && range.weight > 0.0
                    && range.version.is_none_or(|v| v == "1.0.0")
            });
        if asks_openmetrics {
            Format::OpenMetrics
        } else {
            Format::Prometheus
        }
    }
}

/// One media range of an `Accept` header, as far as [`Format::negotiate`]
/// reads it.
struct MediaRange<'a> {
    essence: &'a str,
    version: Option<&'a str>,
    weight: f32,
}

impl<'a> MediaRange<'a> {
    fn parse(text: &'a str) -> MediaRange<'a> {
        let mut parts = text.split(';').map(str::trim);
        let essence = parts.next().unwrap_or("");
        let (mut version, mut weight) = (None, 1.0);
        for parameter in parts {
            let Some((name, value)) = parameter.split_once('=') else {
                continue;
            };
            let value = value.trim().trim_matches('"');
            match name.trim().to_ascii_lowercase().as_str() {
                "version" => version = Some(value),
                // A weight that does not parse is not a refusal.
                "q" => weight = value.parse().unwrap_or(1.0),
                _ => {}
            }
        }
        MediaRange {
            essence,
            version,
            weight,
        }
    }
}

/// The kind of a metric family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Gauge,
    /// Its samples are named `<family>_total`.
    Counter,
}

/// An exposition being written: families one after the other, each with
/// its samples.
pub struct Exposition {
    format: Format,
    text: String,
}

impl Exposition {
    pub fn new(format: Format) -> Exposition {
        Exposition {
            format,
            text: String::new(),
        }
    }

    /// Starts the family `name` (for a counter, without `_total`): its
    /// HELP and TYPE lines, written with its first sample, so that a family
    /// without samples is left out. Every family is written once, its
    /// samples together, as both formats require.
    pub fn family(&mut self, name: &str, kind: Kind, help: &str) -> Family<'_> {
        let (type_name, sample_name) = match (kind, self.format) {
            (Kind::Gauge, _) => (name.to_owned(), name.to_owned()),
            (Kind::Counter, Format::Prometheus) => {
                (format!("{name}_total"), format!("{name}_total"))
            }
            (Kind::Counter, Format::OpenMetrics) => (name.to_owned(), format!("{name}_total")),
        };
        let kind = match kind {
            Kind::Gauge => "gauge",
            Kind::Counter => "counter",
        };
        let help = escape_help(help, self.format);
        Family {
            text: &mut self.text,
            header: Some(format!(
                "# HELP {type_name} {help}\n# TYPE {type_name} {kind}\n"
            )),
            sample_name,
        }
    }

    /// The whole exposition (OpenMetrics' ends with `# EOF`).
    pub fn finish(mut self) -> String {
        if self.format == Format::OpenMetrics {
            self.text.push_str("# EOF\n");
        }
        self.text
    }
}

/// A family being written.
pub struct Family<'a> {
    text: &'a mut String,
    /// HELP and TYPE, until the first sample is written.
    header: Option<String>,
    sample_name: String,
}

impl Family<'_> {
    /// A sample with these labels (names as given, values escaped).
    pub fn sample(&mut self, labels: &[(&str, &str)], value: impl Value) -> &mut Self {
        if let Some(header) = self.header.take() {
            self.text.push_str(&header);
        }
        self.text.push_str(&self.sample_name);
        if !labels.is_empty() {
            self.text.push('{');
            for (n, (name, value)) in labels.iter().enumerate() {
                if n > 0 {
                    self.text.push(',');
                }
                let _ = write!(self.text, "{name}=\"{}\"", escape_label_value(value));
            }
            self.text.push('}');
        }
        self.text.push(' ');
        value.write(self.text);
        self.text.push('\n');
        self
    }
}

/// A sample's value.
pub trait Value {
    fn write(&self, text: &mut String);
}

impl Value for u64 {
    fn write(&self, text: &mut String) {
        let _ = write!(text, "{self}");
    }
}

impl Value for f64 {
    fn write(&self, text: &mut String) {
        // Both formats spell infinities and NaN the same; Rust's own
        // `inf` and `NaN` are not theirs.
        match *self {
            v if v.is_nan() => text.push_str("NaN"),
            v if v == f64::INFINITY => text.push_str("+Inf"),
            v if v == f64::NEG_INFINITY => text.push_str("-Inf"),
            v => {
                let _ = write!(text, "{v}");
            }
        }
    }
}

/// A label value as both formats write it between double quotes: `\`,
/// `"` and a line feed escaped, everything else as is.
pub fn escape_label_value(value: &str) -> String {
    escape(value, true)
}

/// HELP text: Prometheus' format escapes `\` and a line feed, OpenMetrics
/// the double quote too.
pub fn escape_help(help: &str, format: Format) -> String {
    escape(help, format == Format::OpenMetrics)
}

fn escape(text: &str, quotes: bool) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => escaped.push_str(r"\\"),
            '\n' => escaped.push_str(r"\n"),
            '"' if quotes => escaped.push_str("\\\""),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What a scraper reads back from an escaped label value.
    fn unescape(text: &str) -> Option<String> {
        let mut out = String::new();
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next()? {
                    '\\' => out.push('\\'),
                    'n' => out.push('\n'),
                    '"' => out.push('"'),
                    _ => return None,
                },
                // Unescaped, either would end the value or the line.
                '"' | '\n' => return None,
                c => out.push(c),
            }
        }
        Some(out)
    }

    #[test]
    fn a_hostile_label_value_is_escaped_as_both_formats_require() {
        assert_eq!(escape_label_value("a\"b\\c"), r#"a\"b\\c"#);
        assert_eq!(escape_label_value("night\nshift"), r"night\nshift");
        assert_eq!(escape_label_value("plain é 日本"), "plain é 日本");
    }

    #[test]
    fn help_escapes_quotes_only_in_openmetrics() {
        let help = "a \"b\" c\\d\ne";
        assert_eq!(escape_help(help, Format::Prometheus), r#"a "b" c\\d\ne"#);
        assert_eq!(escape_help(help, Format::OpenMetrics), r#"a \"b\" c\\d\ne"#);
    }

    #[test]
    fn a_counter_is_named_as_each_format_names_it_and_openmetrics_ends_with_eof() {
        let write = |format| {
            let mut exposition = Exposition::new(format);
            exposition
                .family("x_audits", Kind::Counter, "Audits.")
                .sample(&[("result", "success")], 2u64);
            exposition.finish()
        };
        assert_eq!(
            write(Format::Prometheus),
            "# HELP x_audits_total Audits.\n# TYPE x_audits_total counter\n\
             x_audits_total{result=\"success\"} 2\n"
        );
        assert_eq!(
            write(Format::OpenMetrics),
            "# HELP x_audits Audits.\n# TYPE x_audits counter\n\
             x_audits_total{result=\"success\"} 2\n# EOF\n"
        );
    }

    #[test]
    fn a_family_without_samples_is_left_out() {
        let mut exposition = Exposition::new(Format::OpenMetrics);
        exposition.family("empty", Kind::Gauge, "Nothing.");
        assert_eq!(exposition.finish(), "# EOF\n");
    }

    #[test]
    fn values_are_spelt_as_the_formats_spell_them() {
        let mut exposition = Exposition::new(Format::Prometheus);
        exposition
            .family("g", Kind::Gauge, "G.")
            .sample(&[], 1.5f64)
            .sample(&[], f64::INFINITY)
            .sample(&[], f64::NAN)
            .sample(&[], 7u64);
        let text = exposition.finish();
        let values: Vec<&str> = (text.lines().skip(2))
            .map(|l| l.rsplit(' ').next().unwrap_or(""))
            .collect();
        assert_eq!(values, ["1.5", "+Inf", "NaN", "7"]);
    }

    #[test]
    fn openmetrics_is_chosen_only_when_asked_for_in_a_version_written_here() {
        let prometheus_2 = "application/openmetrics-text;version=1.0.0;q=0.5,\
            application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.1";
        assert_eq!(Format::negotiate(Some(prometheus_2)), Format::OpenMetrics);
        assert_eq!(
            Format::negotiate(Some("application/openmetrics-text")),
            Format::OpenMetrics
        );
        for other in [
            None,
            Some("text/plain"),
            Some("*/*"),
            Some("application/openmetrics-text; version=0.0.1"),
            Some("application/openmetrics-text;q=0"),
            Some(";;;=,q=abc"),
        ] {
            assert_eq!(Format::negotiate(other), Format::Prometheus, "{other:?}");
        }
    }

    proptest! {
        #[test]
        fn any_label_value_reads_back_as_written(value in any::<String>()) {
            let escaped = escape_label_value(&value);
            prop_assert_eq!(unescape(&escaped), Some(value));
        }

        #[test]
        fn any_help_stays_on_its_line(help in any::<String>()) {
            for format in [Format::Prometheus, Format::OpenMetrics] {
                let escaped = escape_help(&help, format);
                prop_assert!(!escaped.contains('\n'));
            }
        }

        #[test]
        fn any_accept_header_is_answered(accept in any::<String>()) {
            let _ = Format::negotiate(Some(&accept));
        }
    }
}
