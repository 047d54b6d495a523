//! Project automation, run as `cargo xtask <command>` (the alias lives in
//! `.cargo/config.toml`).
//!
//! - `refresh-spec`: upstream OpenAPI document in, canonical partner fragment
//!   (`spec/partner.json`) and its API listing (`spec/partner.api.txt`) out.
//! - `api-listing`: rewrites the API listing from the fragment in place.

use xtask::{Error, bench_build, cli, listing, refresh};

use std::process::ExitCode;

fn main() -> ExitCode {
    match try_main() {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn try_main() -> Result<ExitCode, Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // clap prints `--help` (exit 0) and its own errors (exit 2) itself.
    let command = cli::parse(&args).unwrap_or_else(|e| e.exit());
    match command {
        cli::Command::RefreshSpec(options) => refresh::run(&options),
        cli::Command::ApiListing => {
            listing::write_checked_in()?;
            Ok(ExitCode::SUCCESS)
        }
        cli::Command::BenchBuild { runs } => bench_build::run(runs),
        cli::Command::Help => {
            print!("{}", cli::help());
            Ok(ExitCode::SUCCESS)
        }
    }
}
