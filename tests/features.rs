//! The crate's TLS features at build time: with neither `rustls` nor
//! `native-tls` the crate does not compile, and its first error says why
//! and what to enable. (Which backend is used with both on is checked in
//! `mtls.rs`, under `native-tls`.)

mod common;

/// One nested `cargo check`, in the shared nested target directory; run only
/// with the default features, since it does not depend on them.
#[cfg(all(feature = "rustls", not(feature = "native-tls")))]
#[test]
fn without_a_tls_feature_the_first_error_names_the_features() {
    let spec = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("spec/partner.json");
    let (ok, output) = common::cargo_check_with_spec(&spec, &["--no-default-features"]);
    assert!(!ok, "the crate compiled without a TLS backend:\n{output}");
    let first_error = output
        .lines()
        .find(|line| line.starts_with("error"))
        .unwrap_or_else(|| panic!("no error line in:\n{output}"));
    assert!(
        first_error.contains("rhombus-partner needs a TLS backend")
            && first_error.contains("`rustls` feature (the default) or `native-tls`"),
        "the first error is {first_error:?}:\n{output}"
    );
}
