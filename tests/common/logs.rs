//! What `tracing` wrote, for tests that read the logs: as text
//! ([`Captured`]), or as spans and events with their fields
//! (`super::recorder::Recorder`).

/// A writer that keeps what `tracing` wrote, for tests that read the logs.
#[derive(Clone, Default)]
pub struct Captured(pub std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
