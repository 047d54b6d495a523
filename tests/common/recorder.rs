//! A `tracing` layer that keeps what it sees, by value: each closed span's
//! fields and each event's level, fields and enclosing span. Tests check
//! the values, not a formatted line.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

/// Field values as text: numbers and booleans as written, strings as they
/// are, anything else in its `Debug` form.
pub type Fields = BTreeMap<String, String>;

/// A closed span.
#[derive(Clone, Debug)]
pub struct SpanRecord {
    pub name: &'static str,
    pub fields: Fields,
}

/// An event.
#[derive(Clone, Debug)]
pub struct EventRecord {
    pub level: Level,
    /// The `message` field, also kept apart from the others.
    pub message: String,
    pub fields: Fields,
    /// The name of the span the event happened in, if any.
    pub span: Option<&'static str>,
}

#[derive(Default)]
struct Log {
    open: HashMap<Id, SpanRecord>,
    closed: Vec<SpanRecord>,
    events: Vec<EventRecord>,
}

/// The layer; clones share one log.
#[derive(Clone, Default)]
pub struct Recorder(Arc<Mutex<Log>>);

impl Recorder {
    /// The spans closed so far.
    pub fn spans(&self) -> Vec<SpanRecord> {
        self.0.lock().expect("lock").closed.clone()
    }

    /// The events so far.
    pub fn events(&self) -> Vec<EventRecord> {
        self.0.lock().expect("lock").events.clone()
    }
}

struct Visitor<'a>(&'a mut Fields);

impl Visit for Visitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), value.to_string());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), value.to_string());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), value.to_string());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Recorder {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _ctx: Context<'_, S>) {
        let mut fields = Fields::new();
        attrs.record(&mut Visitor(&mut fields));
        let name = attrs.metadata().name();
        let record = SpanRecord { name, fields };
        self.0.lock().expect("lock").open.insert(id.clone(), record);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _ctx: Context<'_, S>) {
        if let Some(span) = self.0.lock().expect("lock").open.get_mut(id) {
            values.record(&mut Visitor(&mut span.fields));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = Fields::new();
        event.record(&mut Visitor(&mut fields));
        let message = fields.remove("message").unwrap_or_default();
        let span = ctx.event_span(event).map(|span| span.name());
        self.0.lock().expect("lock").events.push(EventRecord {
            level: *event.metadata().level(),
            message,
            fields,
            span,
        });
    }

    fn on_close(&self, id: Id, _ctx: Context<'_, S>) {
        let mut log = self.0.lock().expect("lock");
        if let Some(span) = log.open.remove(&id) {
            log.closed.push(span);
        }
    }
}
