//! The generator reports some problems by panicking; this turns a panic into
//! an error message, without printing it. The panic hook is replaced once
//! per process by one that stays silent only on a thread inside
//! [`catching`], so that tests running in parallel never find their own
//! panics silenced, or the hook left swapped.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

thread_local! {
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Runs `run`; a panic inside it becomes `Err` with its message.
pub fn catching<T>(run: impl FnOnce() -> T) -> Result<T, String> {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                previous(info);
            }
        }));
    });
    let was_quiet = QUIET.with(|quiet| quiet.replace(true));
    let outcome = catch_unwind(AssertUnwindSafe(run));
    QUIET.with(|quiet| quiet.set(was_quiet));
    outcome.map_err(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "no message".to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::catching;

    #[test]
    fn a_panic_becomes_its_message() {
        assert_eq!(catching(|| 7), Ok(7));
        assert_eq!(
            catching(|| -> u8 { panic!("broken {}", 1) }),
            Err("broken 1".to_owned())
        );
        assert_eq!(
            catching(|| -> u8 { panic!("plain") }),
            Err("plain".to_owned())
        );
    }
}
