//! What the integration tests share, one module per kind of thing: a
//! misbehaving HTTP server ([`server`]), TLS ([`tls`]), nested cargo builds
//! ([`nested`]), log capture ([`logs`]) and a client for a URL and a retry
//! policy ([`client`]). Each test binary uses a part of it.

#![allow(dead_code, unused_imports)]

pub mod client;
pub mod logs;
pub mod nested;
pub mod recorder;
pub mod server;
pub mod tls;

pub use logs::Captured;
pub use nested::{NESTED_TARGET, cargo_check_package, cargo_check_with_spec};
pub use server::{Action, Ending, Seen, Server, json, read_request, response};
pub use tls::{ca, tls_acceptor, tls_acceptor_for};
