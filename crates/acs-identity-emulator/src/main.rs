//! `acs-identity-emulator`: runs the ACS Identity emulator until Ctrl-C or SIGTERM.
//!
//! Arguments are parsed by hand: a dozen flags do not justify an argument-parsing crate in
//! a binary that the Node addon also links.

use std::path::PathBuf;
use std::process::ExitCode;

use acs_identity::Secret;
use acs_identity_emulator::{Emulator, EmulatorOptions, DEFAULT_PORT, DEV_ACCESS_KEY};

const HELP: &str = "\
acs-identity-emulator: a strict local emulator of the Azure Communication Services Identity API

USAGE:
  acs-identity-emulator [OPTIONS]

OPTIONS:
  --port <PORT>            Port to listen on; 0 picks a free one. Default: 8990.
  --host <HOST>            Address to listen on. Default: 127.0.0.1 (this machine only).
  --data-dir <DIR>         Keep identities, revocations and keys in DIR (a journal file),
                           so they survive a restart. Default: in memory, gone at exit.
  --https                  Serve HTTPS with a generated certificate; prints the CA file to
                           trust (e.g. NODE_EXTRA_CA_CERTS=<file>).
  --access-key <KEY>       Primary access key (base64). Default: the published development
                           key (see below).
  --secondary-key <KEY>    A secondary access key that is accepted too.
  --bearer-token <TOKEN>   Accept 'Authorization: Bearer <TOKEN>' (repeatable), standing in
                           for Entra ID tokens.
  --resource-id <ID>       Resource id in identity ids (8:acs:<ID>_<uuid>). Default: a new
                           uuid, kept in --data-dir.
  --throttling             Answer 429 beyond the service's quotas (1000 creates or token
                           issues, 500 revokes, deletes or Teams exchanges per 30 s).
  -h, --help               Print this help.
  -V, --version            Print the version.

ENVIRONMENT:
  ACS_EMULATOR_DEBUG=1     Print the string-to-sign of every refused signature to stderr.

The development key is public: the emulator listens on 127.0.0.1 by default for that reason.
Stop it with Ctrl-C or SIGTERM.
";

#[derive(Debug)]
enum Command {
  Run(EmulatorOptions),
  Help,
  Version,
}

fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
  let mut options = EmulatorOptions {
    port: DEFAULT_PORT,
    ..EmulatorOptions::default()
  };
  let mut args = args.into_iter();
  while let Some(arg) = args.next() {
    // Both `--flag value` and `--flag=value`.
    let (flag, inline) = match arg.split_once('=') {
      Some((flag, value)) if flag.starts_with("--") => (flag.to_owned(), Some(value.to_owned())),
      _ => (arg.clone(), None),
    };
    let mut value = |name: &str| -> Result<String, String> {
      match inline.clone().or_else(|| args.next()) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(format!("{name} needs a value")),
      }
    };
    match flag.as_str() {
      "-h" | "--help" => return Ok(Command::Help),
      "-V" | "--version" => return Ok(Command::Version),
      "--port" => {
        let text = value("--port")?;
        options.port = text
          .parse()
          .map_err(|_| format!("--port must be a number from 0 to 65535, not {text:?}"))?;
      }
      "--host" => options.host = value("--host")?,
      "--data-dir" => options.data_dir = Some(PathBuf::from(value("--data-dir")?)),
      "--https" => options.https = true,
      "--throttling" => options.throttling = true,
      // Never echo a key or token back in an error.
      "--access-key" => options.access_key = Secret::new(value("--access-key")?),
      "--secondary-key" => options.secondary_key = Some(Secret::new(value("--secondary-key")?)),
      "--bearer-token" => options
        .bearer_tokens
        .push(Secret::new(value("--bearer-token")?)),
      "--resource-id" => options.resource_id = Some(value("--resource-id")?),
      other => return Err(format!("unknown argument {other:?} (see --help)")),
    }
    if matches!(flag.as_str(), "--https" | "--throttling") && inline.is_some() {
      return Err(format!("{flag} takes no value"));
    }
  }
  Ok(Command::Run(options))
}

fn main() -> ExitCode {
  let options = match parse(std::env::args().skip(1)) {
    Ok(Command::Run(options)) => options,
    Ok(Command::Help) => {
      print!("{HELP}");
      println!("The development key: {DEV_ACCESS_KEY}");
      return ExitCode::SUCCESS;
    }
    Ok(Command::Version) => {
      println!("acs-identity-emulator {}", env!("CARGO_PKG_VERSION"));
      return ExitCode::SUCCESS;
    }
    Err(message) => {
      eprintln!("acs-identity-emulator: {message}");
      return ExitCode::from(2);
    }
  };
  let runtime = match tokio::runtime::Builder::new_multi_thread()
    .enable_all()
    .build()
  {
    Ok(runtime) => runtime,
    Err(e) => {
      eprintln!("acs-identity-emulator: cannot start the async runtime: {e}");
      return ExitCode::FAILURE;
    }
  };
  runtime.block_on(run(options))
}

async fn run(options: EmulatorOptions) -> ExitCode {
  let data_dir = options.data_dir.clone();
  let emulator = match Emulator::start(options).await {
    Ok(emulator) => emulator,
    Err(e) => {
      eprintln!("acs-identity-emulator: {e}");
      return ExitCode::FAILURE;
    }
  };
  println!("ACS Identity emulator listening on {}", emulator.endpoint());
  println!("Resource id: {}", emulator.resource_id());
  match &data_dir {
    Some(dir) => println!("Data directory: {}", dir.display()),
    None => println!("State: in memory (use --data-dir to keep it)"),
  }
  if let Some(path) = emulator.certificate_path() {
    println!("CA certificate to trust: {}", path.display());
    println!("  e.g. NODE_EXTRA_CA_CERTS={}", path.display());
  }
  println!("Connection string:");
  println!("{}", emulator.connection_string());
  shutdown_signal().await;
  println!("Stopping...");
  emulator.close().await;
  ExitCode::SUCCESS
}

/// Ctrl-C, or SIGTERM on Unix (what `docker stop` and process managers send).
async fn shutdown_signal() {
  let ctrl_c = async {
    if tokio::signal::ctrl_c().await.is_err() {
      std::future::pending::<()>().await;
    }
  };
  #[cfg(unix)]
  let terminate = async {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
      Ok(mut signal) => {
        signal.recv().await;
      }
      Err(_) => std::future::pending::<()>().await,
    }
  };
  #[cfg(not(unix))]
  let terminate = std::future::pending::<()>();
  tokio::select! {
    () = ctrl_c => {}
    () = terminate => {}
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
  }

  fn run_options(list: &[&str]) -> EmulatorOptions {
    match parse(args(list)).unwrap() {
      Command::Run(options) => options,
      other => panic!("{other:?}"),
    }
  }

  #[test]
  fn defaults_listen_on_loopback_8990_with_the_dev_key() {
    let options = run_options(&[]);
    assert_eq!(options.port, 8990);
    assert_eq!(options.host, "127.0.0.1");
    assert_eq!(options.access_key.expose(), DEV_ACCESS_KEY);
    assert!(!options.https && !options.throttling && options.data_dir.is_none());
  }

  #[test]
  fn every_flag_is_understood() {
    let options = run_options(&[
      "--port",
      "0",
      "--host=0.0.0.0",
      "--data-dir",
      "/tmp/x",
      "--https",
      "--access-key",
      "a2V5",
      "--secondary-key=b3RoZXI=",
      "--bearer-token",
      "t1",
      "--bearer-token",
      "t2",
      "--resource-id",
      "res",
      "--throttling",
    ]);
    assert_eq!(options.port, 0);
    assert_eq!(options.host, "0.0.0.0");
    assert_eq!(options.data_dir, Some(PathBuf::from("/tmp/x")));
    assert!(options.https && options.throttling);
    assert_eq!(options.access_key.expose(), "a2V5");
    assert_eq!(options.secondary_key.unwrap().expose(), "b3RoZXI=");
    assert_eq!(options.bearer_tokens.len(), 2);
    assert_eq!(options.resource_id.as_deref(), Some("res"));
  }

  #[test]
  fn bad_arguments_are_explained_without_echoing_secrets() {
    assert!(matches!(parse(args(&["--help"])), Ok(Command::Help)));
    assert!(matches!(parse(args(&["-V"])), Ok(Command::Version)));
    assert!(parse(args(&["--port", "x"]))
      .unwrap_err()
      .contains("--port"));
    assert!(parse(args(&["--port"]))
      .unwrap_err()
      .contains("needs a value"));
    assert!(parse(args(&["--bogus"]))
      .unwrap_err()
      .contains("unknown argument"));
    assert!(parse(args(&["--https=yes"]))
      .unwrap_err()
      .contains("takes no value"));
    assert!(parse(args(&["--access-key"])).is_err());
  }

  #[test]
  fn help_names_every_flag() {
    for flag in [
      "--port",
      "--host",
      "--data-dir",
      "--https",
      "--access-key",
      "--secondary-key",
      "--bearer-token",
      "--resource-id",
      "--throttling",
      "--help",
      "--version",
    ] {
      assert!(HELP.contains(flag), "{flag}");
    }
  }
}
