//! Project automation, run as `cargo xtask <command>` (the alias lives in
//! `.cargo/config.toml`).
//!
//! - `refresh-spec`: upstream OpenAPI document in, canonical partner fragment
//!   (`spec/partner.json`) and its API listing (`spec/partner.api.txt`) out.
//! - `api-listing`: rewrites the API listing from the fragment in place.

use xtask::{bench_build, cli, listing, normalize, refresh};

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

fn try_main() -> Result<ExitCode, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match cli::parse(&args)? {
        cli::Command::RefreshSpec(options) => refresh::run(&options),
        cli::Command::ApiListing => {
            listing::write_checked_in()?;
            Ok(ExitCode::SUCCESS)
        }
        cli::Command::BenchBuild { runs } => bench_build::run(runs),
        cli::Command::Help => {
            println!("{}\n\nnormalization passes, in order:", cli::USAGE);
            for pass in normalize::PASSES {
                println!("  {}: {}", pass.name, pass.why);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
