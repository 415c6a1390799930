//! The accept loop: our own instead of `axum::serve`, because the emulator must be able to
//! serve TLS and to drop a connection without answering (an injected fault), which needs
//! the connection, not just the request.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::handlers::CloseConnection;

/// How long a TLS handshake may take before the connection is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long shutdown waits for requests in flight before it stops anyway.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// The error a connection ends with when a fault asks for it to be dropped.
#[derive(Debug)]
struct DroppedByFault;

impl std::fmt::Display for DroppedByFault {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    f.write_str("connection closed by an injected fault")
  }
}

impl std::error::Error for DroppedByFault {}

/// Serves connections from `listener` with `router` until `shutdown` resolves, then lets
/// requests in flight finish (for at most [`DRAIN_TIMEOUT`]).
pub(crate) async fn run(
  listener: TcpListener,
  router: Router,
  tls: Option<TlsAcceptor>,
  shutdown: impl Future<Output = ()>,
) {
  let graceful = GracefulShutdown::new();
  let mut shutdown = std::pin::pin!(shutdown);
  loop {
    let accepted = tokio::select! {
      biased;
      () = &mut shutdown => break,
      accepted = listener.accept() => accepted,
    };
    let stream = match accepted {
      Ok((stream, _)) => stream,
      Err(_) => {
        // Out of file descriptors or a connection reset before accept: not fatal, and
        // retrying at once would spin.
        tokio::time::sleep(Duration::from_millis(20)).await;
        continue;
      }
    };
    let _ = stream.set_nodelay(true);
    let router = router.clone();
    let watcher = graceful.watcher();
    let tls = tls.clone();
    tokio::spawn(async move {
      match tls {
        None => serve_connection(stream, router, watcher).await,
        Some(acceptor) => {
          if let Ok(Ok(stream)) =
            tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
          {
            serve_connection(stream, router, watcher).await;
          }
        }
      }
    });
  }
  drop(listener);
  let _ = tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown()).await;
}

/// Serves one HTTP/1.1 connection with the router.
async fn serve_connection<I>(io: I, router: Router, watcher: Watcher)
where
  I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
  let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
    let router = router.clone();
    async move {
      let response = match router.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
      };
      if response.extensions().get::<CloseConnection>().is_some() {
        // Returning an error makes hyper close the connection without writing anything.
        return Err(DroppedByFault);
      }
      Ok::<_, DroppedByFault>(response)
    }
  });
  let connection = http1::Builder::new().serve_connection(TokioIo::new(io), service);
  let _ = watcher.watch(connection).await;
}
