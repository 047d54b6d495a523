//! How progenitor is configured for this crate.

use progenitor_impl::{GenerationSettings, HooksMode, InterfaceStyle, TagStyle};
use quote::quote;

/// Positional methods and merged tags, with the client's state (credentials
/// and retry policy) carried by the client: the generated `ClientHooks` impl
/// calls the library's hooks to add the auth headers and retry, and
/// `HooksMode::Expected` makes its absence a compile error instead of a
/// client that silently sends no credentials.
pub fn generation_settings() -> GenerationSettings {
    let mut settings = GenerationSettings::new();
    settings
        .with_interface(InterfaceStyle::Positional)
        .with_tag(TagStyle::Merged)
        .with_inner_type(quote!(::rhombus_partner::__private::ClientState))
        .with_hooks(HooksMode::Expected)
        // Maps in responses (e.g. `clientDeviceStatusMap`) iterate in key
        // order, so output built from them is stable from run to run.
        .with_map_type("::std::collections::BTreeMap");
    settings
}
