//! Real-socket tests: the core client against a started emulator, TLS, faults that drop the
//! connection, and persistence across a killed process.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime};

use acs_identity::{
  ErrorKind, IdentityClient, IdentityClientOptions, OperationOptions, RetryOptions,
  TeamsUserTokenRequest,
};
use acs_identity_emulator::{
  Emulator, EmulatorOptions, Fault, FaultKind, TokenVerdict, DEV_ACCESS_KEY,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

fn fast_retries() -> IdentityClientOptions {
  IdentityClientOptions {
    retry: RetryOptions {
      max_retries: 3,
      retry_delay: Duration::from_millis(10),
      max_retry_delay: Duration::from_millis(50),
    },
    timeout: Duration::from_secs(10),
    ..IdentityClientOptions::default()
  }
}

fn connect(emulator: &Emulator) -> IdentityClient {
  IdentityClient::from_connection_string(&emulator.connection_string(), fast_retries()).unwrap()
}

fn service_error(error: &acs_identity::Error) -> (u16, Option<String>, String) {
  match error.kind() {
    ErrorKind::Service(service) => (
      service.status,
      service.code.clone(),
      service.message.clone(),
    ),
    other => panic!("expected a service error, got {other:?}: {error}"),
  }
}

fn entra_token(app_id: &str, oid: &str, exp: i64) -> String {
  let payload = serde_json::json!({"appid": app_id, "oid": oid, "exp": exp});
  format!(
    "{}.{}.c2ln",
    URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","typ":"JWT"}"#),
    URL_SAFE_NO_PAD.encode(payload.to_string())
  )
}

fn now_s() -> i64 {
  SystemTime::now()
    .duration_since(SystemTime::UNIX_EPOCH)
    .unwrap()
    .as_secs() as i64
}

fn temp_dir(name: &str) -> PathBuf {
  std::env::temp_dir().join(format!("acs-emulator-it-{name}-{}", uuid::Uuid::new_v4()))
}

#[test]
fn the_emulator_can_be_shared_across_threads() {
  fn assert_send_sync<T: Send + Sync + 'static>() {}
  assert_send_sync::<Emulator>();
  assert_send_sync::<acs_identity_emulator::AppState>();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_core_client_runs_the_whole_flow() {
  let emulator = Emulator::start(EmulatorOptions::default()).await.unwrap();
  assert!(emulator.endpoint().starts_with("http://127.0.0.1:"));
  assert_eq!(
    emulator.connection_string(),
    format!(
      "endpoint={}/;accesskey={DEV_ACCESS_KEY}",
      emulator.endpoint()
    )
  );
  assert!(emulator.certificate_path().is_none());
  let client = connect(&emulator);
  let options = OperationOptions::default();

  let user = client.create_user(None, &options).await.unwrap();
  assert!(user
    .communication_user_id
    .starts_with(&format!("8:acs:{}_", emulator.resource_id())));

  let created = client
    .create_user_and_token(&["chat", "voip"], Some(60), None, &options)
    .await
    .unwrap();
  let token = created.access_token.unwrap();
  let left = token.expires_on.duration_since(SystemTime::now()).unwrap();
  assert!(
    left > Duration::from_secs(3500) && left <= Duration::from_secs(3600),
    "{left:?}"
  );
  assert!(emulator.verify_token(token.token.expose()).valid);

  let empty = client
    .create_user_and_token::<&str>(&[], None, None, &options)
    .await
    .unwrap();
  assert!(empty.access_token.is_none());

  let old = client
    .get_token(
      &user.communication_user_id,
      &["chat.join", "voip.join"],
      None,
      &options,
    )
    .await
    .unwrap();
  client
    .revoke_tokens(&user.communication_user_id, &options)
    .await
    .unwrap();
  assert_eq!(
    emulator.verify_token(old.token.expose()),
    TokenVerdict {
      valid: false,
      reason: Some("revoked")
    }
  );
  let new = client
    .get_token(&user.communication_user_id, &["chat"], Some(1440), &options)
    .await
    .unwrap();
  assert!(emulator.verify_token(new.token.expose()).valid);

  client
    .delete_user(&user.communication_user_id, &options)
    .await
    .unwrap();
  assert_eq!(
    emulator.verify_token(new.token.expose()).reason,
    Some("deleted")
  );
  let err = client
    .get_token(&user.communication_user_id, &["chat"], None, &options)
    .await
    .unwrap_err();
  assert_eq!(service_error(&err).0, 404);

  let app = "2c3e1e83-8fd7-4615-ad2b-b8c1229845ac";
  let oid = "32c0a5db-05ec-78ea-51ab-3f06b329397e";
  let exp = now_s() + 1800;
  let teams = client
    .get_token_for_teams_user(
      &TeamsUserTokenRequest {
        teams_user_aad_token: entra_token(app, oid, exp).into(),
        client_id: app.into(),
        user_object_id: oid.into(),
      },
      &options,
    )
    .await
    .unwrap();
  let teams_exp = teams
    .expires_on
    .duration_since(SystemTime::UNIX_EPOCH)
    .unwrap()
    .as_secs() as i64;
  assert_eq!(teams_exp, exp);

  let alice = client
    .create_user(Some("alice@contoso.com"), &options)
    .await
    .unwrap();
  let again = client
    .create_user(Some("alice@contoso.com"), &options)
    .await
    .unwrap();
  assert_eq!(alice, again);
  let detail = client
    .get_user_detail(&alice.communication_user_id, &options)
    .await
    .unwrap();
  assert_eq!(detail.custom_id.as_deref(), Some("alice@contoso.com"));
  assert!(detail.last_token_issued_at.is_none());
  client
    .get_token(&alice.communication_user_id, &["voip"], None, &options)
    .await
    .unwrap();
  let detail = client
    .get_user_detail(&alice.communication_user_id, &options)
    .await
    .unwrap();
  assert!(detail.last_token_issued_at.is_some());

  emulator.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_core_client_sees_the_services_errors() {
  let emulator = Emulator::start(EmulatorOptions::default()).await.unwrap();
  let client = connect(&emulator);
  let options = OperationOptions::default();
  let user = client.create_user(None, &options).await.unwrap();

  let err = client
    .get_token::<&str>(&user.communication_user_id, &[], None, &options)
    .await
    .unwrap_err();
  assert_eq!(
    service_error(&err),
    (
      400,
      Some("ValidationError".into()),
      "Invalid scopes - Scopes field is required.".into()
    )
  );
  let err = client
    .get_token(&user.communication_user_id, &["chat"], Some(59), &options)
    .await
    .unwrap_err();
  assert_eq!(service_error(&err).0, 400);
  let err = client
    .create_user_and_token(&["chat"], Some(1441), None, &options)
    .await
    .unwrap_err();
  assert_eq!(service_error(&err).0, 400);

  let foreign = "8:acs:00000000-0000-0000-0000-000000000000_00000000-0000-0000-0000-000000000000";
  assert_eq!(
    service_error(
      &client
        .get_token(foreign, &["chat"], None, &options)
        .await
        .unwrap_err()
    )
    .0,
    401
  );
  assert_eq!(
    service_error(&client.revoke_tokens(foreign, &options).await.unwrap_err()).0,
    401
  );
  assert_eq!(
    service_error(&client.delete_user(foreign, &options).await.unwrap_err()).0,
    401
  );

  let wrong_key = IdentityClient::from_connection_string(
    &format!("endpoint={}/;accesskey=d3Jvbmcga2V5", emulator.endpoint()),
    fast_retries(),
  )
  .unwrap();
  let err = wrong_key.create_user(None, &options).await.unwrap_err();
  assert_eq!(service_error(&err).0, 401);
  emulator.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_serves_a_certificate_signed_by_the_ca_it_writes() {
  let emulator = Emulator::start(EmulatorOptions {
    https: true,
    ..EmulatorOptions::default()
  })
  .await
  .unwrap();
  assert!(emulator.endpoint().starts_with("https://127.0.0.1:"));
  let ca_path = emulator.certificate_path().unwrap().to_path_buf();
  let pem = std::fs::read(&ca_path).unwrap();
  assert!(String::from_utf8_lossy(&pem).starts_with("-----BEGIN CERTIFICATE-----"));

  let trusting = IdentityClient::from_connection_string(
    &emulator.connection_string(),
    IdentityClientOptions {
      extra_root_certificates_pem: vec![pem.clone()],
      ..fast_retries()
    },
  )
  .unwrap();
  let user = trusting
    .create_user(None, &OperationOptions::default())
    .await
    .unwrap();
  assert!(user.communication_user_id.starts_with("8:acs:"));

  // "localhost" is in the certificate too
  let port = emulator.endpoint().rsplit(':').next().unwrap().to_owned();
  let by_name = IdentityClient::from_connection_string(
    &format!("endpoint=https://localhost:{port}/;accesskey={DEV_ACCESS_KEY}"),
    IdentityClientOptions {
      extra_root_certificates_pem: vec![pem],
      ..fast_retries()
    },
  )
  .unwrap();
  by_name
    .create_user(None, &OperationOptions::default())
    .await
    .unwrap();

  // without trusting the CA the connection fails
  let untrusting = connect(&emulator);
  let err = untrusting
    .create_user(None, &OperationOptions::default())
    .await
    .unwrap_err();
  assert!(!matches!(err.kind(), ErrorKind::Service(_)), "{err}");

  emulator.close().await;
  assert!(
    !ca_path.exists(),
    "the temporary CA file is removed on close"
  );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_keeps_its_ca_in_the_data_dir_across_restarts() {
  let dir = temp_dir("tls");
  let options = EmulatorOptions {
    https: true,
    data_dir: Some(dir.clone()),
    ..EmulatorOptions::default()
  };
  let first = Emulator::start(options.clone()).await.unwrap();
  let ca_path = first.certificate_path().unwrap().to_path_buf();
  assert!(ca_path.starts_with(&dir));
  let pem = std::fs::read(&ca_path).unwrap();
  first.close().await;

  let second = Emulator::start(options).await.unwrap();
  assert_eq!(
    std::fs::read(second.certificate_path().unwrap()).unwrap(),
    pem
  );
  let client = IdentityClient::from_connection_string(
    &second.connection_string(),
    IdentityClientOptions {
      extra_root_certificates_pem: vec![pem],
      ..fast_retries()
    },
  )
  .unwrap();
  client
    .create_user(None, &OperationOptions::default())
    .await
    .unwrap();
  second.close().await;
  std::fs::remove_dir_all(dir).unwrap();
}

/// Sends a raw HTTP/1.1 request and returns what came back before the connection closed
/// (or the first response, when it stays open).
fn raw_exchange(endpoint: &str, request: &str) -> Vec<u8> {
  let address = endpoint.trim_start_matches("http://");
  let mut stream = TcpStream::connect(address).unwrap();
  stream
    .set_read_timeout(Some(Duration::from_secs(5)))
    .unwrap();
  stream.write_all(request.as_bytes()).unwrap();
  let mut received = Vec::new();
  let mut buffer = [0u8; 4096];
  loop {
    match stream.read(&mut buffer) {
      Ok(0) => break,
      Ok(n) => {
        received.extend_from_slice(&buffer[..n]);
        if received.windows(4).any(|w| w == b"\r\n\r\n") {
          break;
        }
      }
      Err(_) => break,
    }
  }
  received
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_connection_faults_drop_the_connection_without_a_response() {
  let emulator = Emulator::start(EmulatorOptions::default()).await.unwrap();
  emulator.inject_faults(Fault {
    count: 1,
    kind: FaultKind::CloseConnection,
  });
  let endpoint = emulator.endpoint();
  let request =
    "POST /identities?api-version=2023-10-01 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n";
  let first = {
    let endpoint = endpoint.clone();
    tokio::task::spawn_blocking(move || raw_exchange(&endpoint, request))
      .await
      .unwrap()
  };
  assert!(first.is_empty(), "{}", String::from_utf8_lossy(&first));
  let second = tokio::task::spawn_blocking(move || raw_exchange(&endpoint, request))
    .await
    .unwrap();
  let text = String::from_utf8_lossy(&second);
  assert!(text.starts_with("HTTP/1.1 401"), "{text}");

  // the core client retries a dropped connection and then succeeds
  emulator.inject_faults(Fault {
    count: 2,
    kind: FaultKind::CloseConnection,
  });
  let client = connect(&emulator);
  client
    .create_user(None, &OperationOptions::default())
    .await
    .unwrap();
  emulator.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_and_delay_faults_reach_the_client() {
  let emulator = Emulator::start(EmulatorOptions::default()).await.unwrap();
  let client = connect(&emulator);
  let options = OperationOptions::default();
  // retried: 503 with Retry-After then success
  emulator.inject_faults(Fault {
    count: 2,
    kind: FaultKind::Status {
      status: 503,
      retry_after: Some("0".into()),
    },
  });
  client.create_user(None, &options).await.unwrap();
  // not retried: 400
  emulator.inject_faults(Fault {
    count: 1,
    kind: FaultKind::Status {
      status: 400,
      retry_after: None,
    },
  });
  let err = client.create_user(None, &options).await.unwrap_err();
  assert_eq!(service_error(&err).1.as_deref(), Some("InjectedFault"));
  // a delay longer than the client's timeout
  emulator.inject_faults(Fault {
    count: 1,
    kind: FaultKind::Delay(Duration::from_millis(600)),
  });
  let impatient = OperationOptions {
    timeout: Some(Duration::from_millis(200)),
    ..OperationOptions::default()
  };
  let started = std::time::Instant::now();
  client.create_user(None, &impatient).await.unwrap();
  assert!(started.elapsed() >= Duration::from_millis(200));
  emulator.clear_faults();
  emulator.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_clients_share_one_identity_per_custom_id() {
  let dir = temp_dir("concurrent");
  let emulator = Emulator::start(EmulatorOptions {
    data_dir: Some(dir.clone()),
    ..EmulatorOptions::default()
  })
  .await
  .unwrap();
  let client = connect(&emulator);
  let mut tasks = Vec::new();
  for i in 0..64 {
    let client = client.clone();
    tasks.push(tokio::spawn(async move {
      let custom = format!("user-{}", i % 4);
      client
        .create_user(Some(&custom), &OperationOptions::default())
        .await
        .map(|u| (custom, u.communication_user_id))
    }));
  }
  let mut by_custom = std::collections::HashMap::new();
  for task in tasks {
    let (custom, id) = task.await.unwrap().unwrap();
    let known = by_custom.entry(custom).or_insert_with(|| id.clone());
    assert_eq!(*known, id);
  }
  assert_eq!(by_custom.len(), 4);
  emulator.close().await;

  // and after a restart the same custom ids still name the same identities
  let emulator = Emulator::start(EmulatorOptions {
    data_dir: Some(dir.clone()),
    ..EmulatorOptions::default()
  })
  .await
  .unwrap();
  let client = connect(&emulator);
  for (custom, id) in by_custom {
    let user = client
      .create_user(Some(&custom), &OperationOptions::default())
      .await
      .unwrap();
    assert_eq!(user.communication_user_id, id);
  }
  emulator.close().await;
  std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_works_from_a_spawned_task_and_ports_conflict_cleanly() {
  let emulator = tokio::spawn(Emulator::start(EmulatorOptions::default()))
    .await
    .unwrap()
    .unwrap();
  let port: u16 = emulator
    .endpoint()
    .rsplit(':')
    .next()
    .unwrap()
    .parse()
    .unwrap();
  let err = Emulator::start(EmulatorOptions {
    port,
    ..EmulatorOptions::default()
  })
  .await
  .unwrap_err();
  assert!(
    err.to_string().contains(&format!("127.0.0.1:{port}")),
    "{err}"
  );
  emulator.close().await;
}

// ---------------------------------------------------------------------------------------
// The binary, killed with SIGKILL

struct Running {
  child: Child,
  endpoint: String,
}

fn spawn_binary(data_dir: &Path) -> Running {
  let mut child = Command::new(env!("CARGO_BIN_EXE_acs-identity-emulator"))
    .args(["--port", "0", "--data-dir"])
    .arg(data_dir)
    .stdout(Stdio::piped())
    .stderr(Stdio::inherit())
    .spawn()
    .unwrap();
  let stdout = child.stdout.take().unwrap();
  let mut lines = BufReader::new(stdout).lines();
  let mut endpoint = None;
  for line in lines.by_ref() {
    let line = line.unwrap();
    if let Some(rest) = line.strip_prefix("ACS Identity emulator listening on ") {
      endpoint = Some(rest.trim().to_owned());
    }
    if line.starts_with("endpoint=") {
      break;
    }
  }
  // keep draining stdout so the child never blocks on a full pipe
  std::thread::spawn(move || for _ in lines {});
  Running {
    child,
    endpoint: endpoint.unwrap(),
  }
}

fn dev_client(endpoint: &str) -> IdentityClient {
  IdentityClient::from_connection_string(
    &format!("endpoint={endpoint}/;accesskey={DEV_ACCESS_KEY}"),
    fast_retries(),
  )
  .unwrap()
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_identities_survive_a_killed_process() {
  let dir = temp_dir("kill");
  let mut running = spawn_binary(&dir);
  let client = dev_client(&running.endpoint);
  let options = OperationOptions::default();
  let mut ids = Vec::new();
  for _ in 0..25 {
    ids.push(
      client
        .create_user(None, &options)
        .await
        .unwrap()
        .communication_user_id,
    );
  }
  let revoked = client
    .get_token(&ids[0], &["chat"], None, &options)
    .await
    .unwrap();
  client.revoke_tokens(&ids[0], &options).await.unwrap();
  client.delete_user(&ids[1], &options).await.unwrap();
  running.child.kill().unwrap(); // SIGKILL: no shutdown code runs
  running.child.wait().unwrap();

  let mut running = spawn_binary(&dir);
  let client = dev_client(&running.endpoint);
  for id in &ids[2..] {
    client
      .get_token(id, &["voip"], None, &options)
      .await
      .unwrap();
  }
  let err = client
    .get_token(&ids[1], &["chat"], None, &options)
    .await
    .unwrap_err();
  assert_eq!(service_error(&err).0, 404);
  // SIGTERM stops it gracefully with status 0
  let status = Command::new("kill")
    .args(["-TERM", &running.child.id().to_string()])
    .status()
    .unwrap();
  assert!(status.success());
  let exit = running.child.wait().unwrap();
  assert!(exit.success(), "{exit:?}");

  // the directory opens in-process too, with the same keys: the old token is revoked
  let emulator = Emulator::start(EmulatorOptions {
    data_dir: Some(dir.clone()),
    ..EmulatorOptions::default()
  })
  .await
  .unwrap();
  assert_eq!(
    emulator.verify_token(revoked.token.expose()).reason,
    Some("revoked")
  );
  emulator.close().await;
  std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn help_lists_the_flags() {
  let output = Command::new(env!("CARGO_BIN_EXE_acs-identity-emulator"))
    .arg("--help")
    .output()
    .unwrap();
  assert!(output.status.success());
  let text = String::from_utf8(output.stdout).unwrap();
  for flag in [
    "--port",
    "--data-dir",
    "--https",
    "--access-key",
    "--throttling",
    DEV_ACCESS_KEY,
  ] {
    assert!(text.contains(flag), "{flag}");
  }
  let output = Command::new(env!("CARGO_BIN_EXE_acs-identity-emulator"))
    .args(["--access-key"])
    .output()
    .unwrap();
  assert_eq!(output.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_runs_until_its_shutdown_future_resolves() {
  let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
  let endpoint = format!("http://{}", listener.local_addr().unwrap());
  let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
  let server = tokio::spawn(acs_identity_emulator::serve(
    listener,
    EmulatorOptions::default(),
    async move {
      let _ = stopped.await;
    },
  ));
  let client = dev_client(&endpoint);
  let user = client
    .create_user(None, &OperationOptions::default())
    .await
    .unwrap();
  assert!(user.communication_user_id.starts_with("8:acs:"));
  stop.send(()).unwrap();
  tokio::time::timeout(Duration::from_secs(10), server)
    .await
    .unwrap()
    .unwrap()
    .unwrap();
  // the port is closed now
  assert!(TcpStream::connect(endpoint.trim_start_matches("http://")).is_err());
}
