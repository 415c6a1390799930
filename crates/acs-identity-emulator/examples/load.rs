//! A load check of the emulator: N keep-alive connections send signed `createUser`
//! requests (the official client's request, byte for byte) for a few seconds, and the rate
//! is printed. The client is as thin as possible (pre-signed request bytes on raw sockets)
//! so that the numbers are the server's.
//!
//! ```text
//! cargo run --release -p acs-identity-emulator --example load -- [connections] [seconds] [endpoint]
//! ```
//!
//! Without an endpoint it starts an in-memory emulator in-process. Issue 3 asks for at
//! least 20,000 requests per second with 64 connections on a 2-core machine.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use acs_identity::auth::hmac;
use acs_identity_emulator::{Emulator, EmulatorOptions, DEV_ACCESS_KEY};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn main() {
  let args: Vec<String> = std::env::args().skip(1).collect();
  let connections: usize = args.first().map_or(64, |a| a.parse().unwrap());
  let seconds: u64 = args.get(1).map_or(5, |a| a.parse().unwrap());
  let endpoint = args.get(2).cloned();
  // The server gets the runtime's workers; the load runs on one extra thread of its own.
  let server = tokio::runtime::Builder::new_multi_thread()
    .enable_all()
    .build()
    .unwrap();
  let (endpoint, emulator) = match endpoint {
    Some(endpoint) => (endpoint, None),
    None => {
      let emulator = server
        .block_on(Emulator::start(EmulatorOptions::default()))
        .unwrap();
      (emulator.endpoint(), Some(emulator))
    }
  };
  let load = tokio::runtime::Builder::new_current_thread()
    .enable_all()
    .build()
    .unwrap();
  let (count, elapsed) = load.block_on(run(&endpoint, connections, Duration::from_secs(seconds)));
  println!(
    "{count} createUser requests in {:.2} s over {connections} connections: {:.0} requests/s",
    elapsed.as_secs_f64(),
    count as f64 / elapsed.as_secs_f64()
  );
  if let Some(emulator) = emulator {
    server.block_on(emulator.close());
  }
}

async fn run(endpoint: &str, connections: usize, duration: Duration) -> (u64, Duration) {
  let url = url::Url::parse(&format!("{endpoint}/identities?api-version=2023-10-01")).unwrap();
  let date = httpdate::fmt_http_date(SystemTime::now());
  let key = hmac::decode_access_key(DEV_ACCESS_KEY);
  let signed = hmac::sign(&key, "POST", &url, b"", &date);
  let request = format!(
    "POST /identities?api-version=2023-10-01 HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nAccept: application/json\r\nx-ms-date: {}\r\nx-ms-content-sha256: {}\r\nAuthorization: {}\r\nContent-Length: 0\r\n\r\n",
    signed.host, signed.date, signed.content_hash, signed.authorization
  );
  let request: Arc<[u8]> = Arc::from(request.into_bytes());
  let address = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap());
  let done = Arc::new(AtomicBool::new(false));
  let count = Arc::new(AtomicU64::new(0));
  let started = Instant::now();
  let mut tasks = Vec::new();
  for _ in 0..connections {
    let (request, done, count, address) = (
      request.clone(),
      done.clone(),
      count.clone(),
      address.clone(),
    );
    tasks.push(tokio::spawn(async move {
      let mut stream = TcpStream::connect(&address).await.unwrap();
      stream.set_nodelay(true).unwrap();
      let mut buffer = vec![0u8; 8192];
      while !done.load(Ordering::Relaxed) {
        stream.write_all(&request).await.unwrap();
        let mut filled = 0;
        loop {
          let n = stream.read(&mut buffer[filled..]).await.unwrap();
          assert!(n > 0, "connection closed");
          filled += n;
          if let Some(end) = complete(&buffer[..filled]) {
            assert!(
              buffer.starts_with(b"HTTP/1.1 201"),
              "{}",
              String::from_utf8_lossy(&buffer[..end])
            );
            break;
          }
        }
        count.fetch_add(1, Ordering::Relaxed);
      }
    }));
  }
  tokio::time::sleep(duration).await;
  done.store(true, Ordering::Relaxed);
  for task in tasks {
    task.await.unwrap();
  }
  (count.load(Ordering::Relaxed), started.elapsed())
}

/// The length of a complete response in `bytes`, if it is complete (headers + Content-Length).
fn complete(bytes: &[u8]) -> Option<usize> {
  let head_end = bytes.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
  let head = std::str::from_utf8(&bytes[..head_end]).ok()?;
  let length: usize = head
    .lines()
    .find_map(|line| {
      let (name, value) = line.split_once(':')?;
      name
        .eq_ignore_ascii_case("content-length")
        .then(|| value.trim().parse().ok())?
    })
    .unwrap_or(0);
  (bytes.len() >= head_end + length).then_some(head_end + length)
}
