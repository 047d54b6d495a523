//! Running the `rhombus-audit` binary as a child process, for every test
//! file of the CLI: with only the Rhombus variables a test gives, from sync
//! or async code, and its output as text.
// Each test file uses part of this module.
#![allow(dead_code)]

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

/// The variables the audit reads its account from; a test starts without
/// them, whatever the environment it runs in has.
const ACCOUNT_VARIABLES: [&str; 3] = ["RHOMBUS_API_KEY", "RHOMBUS_BASE_URL", "RHOMBUS_AUTH_SCHEME"];

/// Runs the binary with `args`, only the `env` given of Rhombus' own, and
/// `stdin` as its standard input.
pub fn run_with(args: &[&str], env: &[(&str, &str)], stdin: &str) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rhombus-audit"));
    command.args(args);
    for name in ACCOUNT_VARIABLES {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("the binary runs");
    let mut input = child.stdin.take().expect("stdin");
    // A child that does not read its input may have exited already.
    let _ = input.write_all(stdin.as_bytes());
    drop(input);
    child.wait_with_output().expect("the binary is waited for")
}

/// [`run_with`] an empty standard input.
pub fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    run_with(args, env, "")
}

/// Runs it from async code, where a server of this process must keep
/// answering meanwhile.
pub async fn run_async(args: &[&str], env: &[(&str, &str)]) -> Output {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let env: Vec<(String, String)> = (env.iter())
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        run(&args, &env)
    })
    .await
    .expect("the child process is waited for")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8")
}
