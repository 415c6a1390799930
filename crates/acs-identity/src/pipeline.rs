//! Sending one operation: build, sign each attempt afresh, send, classify, retry.

use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::Method;
use serde::de::DeserializeOwned;
use url::Url;

use crate::auth::{hmac, AccessKeyCredential, BearerTokenCache};
use crate::client::{IdentityClientOptions, OperationOptions};
use crate::error::{Error, ErrorKind, Result, ServiceError};
use crate::log;
use crate::random;
use crate::retry::{self, RetryDecision};

/// How the pipeline authenticates each attempt.
#[derive(Debug)]
pub(crate) enum Auth {
  Key(AccessKeyCredential),
  Bearer(BearerTokenCache),
}

/// One operation to send.
#[derive(Debug)]
pub(crate) struct Request {
  method: Method,
  path: String,
  api_version: String,
  body: Option<Vec<u8>>,
  json_content_type: bool,
  success_status: u16,
}

impl Request {
  pub(crate) fn post(
    path: String,
    api_version: &str,
    body: Option<Vec<u8>>,
    success_status: u16,
  ) -> Self {
    Self {
      method: Method::POST,
      path,
      api_version: api_version.to_owned(),
      body,
      json_content_type: false,
      success_status,
    }
  }

  pub(crate) fn delete(path: String, api_version: &str, success_status: u16) -> Self {
    Self {
      method: Method::DELETE,
      ..Self::post(path, api_version, None, success_status)
    }
  }

  pub(crate) fn get(path: String, api_version: &str, success_status: u16) -> Self {
    Self {
      method: Method::GET,
      ..Self::post(path, api_version, None, success_status)
    }
  }

  /// Sends `Content-Type: application/json`, as the official client does on the operations
  /// that take a body (even `createUser`, whose body is empty).
  pub(crate) fn json_content_type(mut self) -> Self {
    self.json_content_type = true;
    self
  }
}

/// Where one operation goes: its URL, and the path and query as they are signed.
#[derive(Debug)]
struct Target {
  url: Url,
  path_and_query: String,
}

/// The configured HTTP machinery of one client.
#[derive(Debug)]
pub(crate) struct Pipeline {
  /// `scheme://host[:port]/` of the endpoint, parsed once: each operation's URL is a copy
  /// with its path and query set, so the host is not parsed again per call.
  origin: Url,
  /// The `Host` that is signed and sent: the port only when it is not the default.
  host: String,
  pub(crate) auth: Auth,
  http: reqwest::Client,
  options: IdentityClientOptions,
  /// The headers every attempt sends unchanged (`Accept`, `User-Agent`, and the signed
  /// `Host` with a key), built once and copied per attempt.
  fixed_headers: HeaderMap,
}

impl Pipeline {
  pub(crate) fn new(base: Url, auth: Auth, options: IdentityClientOptions) -> Result<Self> {
    let mut builder = reqwest::Client::builder()
      .use_rustls_tls()
      .pool_idle_timeout(Duration::from_secs(90))
      .tcp_nodelay(true)
      .redirect(reqwest::redirect::Policy::none());
    for pem in &options.extra_root_certificates_pem {
      for certificate in reqwest::Certificate::from_pem_bundle(pem)
        .map_err(|e| Error::invalid_argument(format!("invalid PEM certificate: {e}")))?
      {
        builder = builder.add_root_certificate(certificate);
      }
    }
    let http = builder
      .build()
      .map_err(|e| Error::invalid_argument(format!("cannot set up the HTTP client: {e}")))?;
    let user_agent = match &options.user_agent_prefix {
      Some(prefix) if !prefix.is_empty() => format!("{prefix} {}", options.user_agent),
      _ => options.user_agent.clone(),
    };
    let user_agent = HeaderValue::from_str(&user_agent)
      .map_err(|_| Error::invalid_argument("the user agent prefix must be printable ASCII"))?;
    let host = hmac::host(&base);
    let mut fixed_headers = HeaderMap::with_capacity(12);
    fixed_headers.insert(
      reqwest::header::ACCEPT,
      HeaderValue::from_static("application/json"),
    );
    fixed_headers.insert(reqwest::header::USER_AGENT, user_agent);
    if matches!(auth, Auth::Key(_)) {
      fixed_headers.insert(reqwest::header::HOST, header_value(&host)?);
    }
    Ok(Self {
      origin: origin_of(&base)?,
      host,
      auth,
      http,
      options,
      fixed_headers,
    })
  }

  /// Sends and decodes the success body as `T`.
  pub(crate) async fn send_json<T: DeserializeOwned>(
    &self,
    request: Request,
    options: &OperationOptions,
  ) -> Result<T> {
    let status = request.success_status;
    let (body, request_id, attempts) = self.send_inner(request, options).await?;
    serde_json::from_slice(&body).map_err(|e| {
      Error::new(
        ErrorKind::Decode,
        format!(
          "the service answered {status} with a body that is not the expected JSON: {}",
          describe_json_error(&e)
        ),
      )
      .with_request_id(&request_id)
      .with_attempts(attempts)
    })
  }

  /// Sends and returns the success body.
  pub(crate) async fn send(&self, request: Request, options: &OperationOptions) -> Result<Vec<u8>> {
    self
      .send_inner(request, options)
      .await
      .map(|(body, _, _)| body)
  }

  async fn send_inner(
    &self,
    request: Request,
    options: &OperationOptions,
  ) -> Result<(Vec<u8>, String, u32)> {
    let cancellation = options.cancellation.clone().unwrap_or_default();
    if cancellation.is_cancelled() {
      return Err(Error::aborted());
    }
    let request_id = options
      .headers
      .iter()
      .find(|(name, _)| name.eq_ignore_ascii_case("x-ms-client-request-id"))
      .map(|(_, value)| value.clone())
      .unwrap_or_else(random::request_id);
    // Cancelling drops the attempts future wherever it is (in flight or waiting to retry),
    // which closes its connection.
    //
    // The attempts future (it holds reqwest's response future) is about 1.5 KB; boxed, the
    // operation future that callers move around (into a napi task, into tokio's task cell,
    // out again when it completes) stays small. Boxing it took 8% off the client's CPU per
    // call (benchmark/PROFILE.md).
    let attempts = Box::pin(self.attempts(&request, options, &request_id));
    let result = tokio::select! {
      biased;
      _ = cancellation.cancelled() => Err(Error::aborted()),
      result = attempts => result,
    };
    result.map_err(|e| {
      if e.request_id().is_none() {
        e.with_request_id(&request_id)
      } else {
        e
      }
    })
  }

  async fn attempts(
    &self,
    request: &Request,
    options: &OperationOptions,
    request_id: &str,
  ) -> Result<(Vec<u8>, String, u32)> {
    let target = self.target(request)?;
    let extra_headers = custom_headers(&options.headers)?;
    let timeout = options.timeout.unwrap_or(self.options.timeout);
    let max_attempts = self.options.retry.max_retries.saturating_add(1);
    let mut attempt = 0u32;
    loop {
      attempt += 1;
      let started = Instant::now();
      let outcome = self
        .attempt(request, &target, &extra_headers, request_id, timeout)
        .await;
      let decision = match &outcome {
        Ok((status, _, _)) if *status == request.success_status => RetryDecision::Stop,
        Ok((status, headers, _)) => {
          retry::decide_for_status(*status, retry::retry_after(headers, SystemTime::now()))
        }
        Err(e) if matches!(e.kind(), ErrorKind::Connection | ErrorKind::Timeout) => {
          RetryDecision::Backoff
        }
        Err(_) => RetryDecision::Stop,
      };
      log::attempt(
        &request.method,
        &target.url,
        attempt,
        started.elapsed(),
        request_id,
        &outcome,
      );
      let last = attempt >= max_attempts;
      match outcome {
        Ok((status, _, body)) if status == request.success_status => {
          return Ok((body, request_id.to_owned(), attempt));
        }
        Ok((status, headers, body)) if last || decision == RetryDecision::Stop => {
          return Err(
            service_error(status, &headers, &body, request.success_status).with_attempts(attempt),
          );
        }
        Err(e) if last || decision == RetryDecision::Stop => return Err(e.with_attempts(attempt)),
        _ => {}
      }
      let wait = match decision {
        RetryDecision::After(wait) => wait,
        _ => retry::backoff(&self.options.retry, attempt - 1, random::next_u64()),
      };
      tokio::time::sleep(wait).await;
    }
  }

  /// One HTTP attempt, signed now. Returns the status, headers and body.
  async fn attempt(
    &self,
    request: &Request,
    target: &Target,
    extra_headers: &HeaderMap,
    request_id: &str,
    timeout: Duration,
  ) -> Result<(u16, HeaderMap, Vec<u8>)> {
    let body = request.body.as_deref().unwrap_or_default();
    let mut headers = self.fixed_headers.clone();
    // The caller's own headers never replace the client's.
    for (name, value) in extra_headers {
      if !headers.contains_key(name) {
        headers.insert(name.clone(), value.clone());
      }
    }
    if request.json_content_type {
      headers.insert(
        reqwest::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
      );
    }
    headers.insert(
      HeaderName::from_static("x-ms-client-request-id"),
      header_value(request_id)?,
    );
    match &self.auth {
      Auth::Key(key) => {
        let date = httpdate::fmt_http_date(SystemTime::now());
        let signed = hmac::sign_parts(
          key.key_bytes().as_ref().as_ref(),
          request.method.as_str(),
          &target.path_and_query,
          &self.host,
          body,
          &date,
        );
        headers.insert(
          HeaderName::from_static("x-ms-date"),
          header_value(&signed.date)?,
        );
        headers.insert(
          HeaderName::from_static("x-ms-content-sha256"),
          header_value(&signed.content_hash)?,
        );
        headers.insert(
          reqwest::header::AUTHORIZATION,
          sensitive(&signed.authorization)?,
        );
      }
      Auth::Bearer(cache) => {
        // A credential that never answers must not hang the operation: it gets the
        // attempt's timeout too.
        let token = tokio::time::timeout(timeout, cache.token())
          .await
          .map_err(|_| {
            Error::new(
              ErrorKind::Credential,
              format!(
                "the token credential did not give a token within {} ms",
                timeout.as_millis()
              ),
            )
          })??;
        headers.insert(
          reqwest::header::AUTHORIZATION,
          sensitive(&format!("Bearer {}", token.expose()))?,
        );
      }
    }
    let mut builder = self
      .http
      .request(request.method.clone(), target.url.clone())
      .headers(headers);
    if request.method == Method::POST {
      builder = builder.body(body.to_vec());
    }
    let exchange = async {
      let mut response = builder.send().await.map_err(transport_error)?;
      let status = response.status().as_u16();
      let headers = std::mem::take(response.headers_mut());
      let mut body = Vec::new();
      while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
        if body.len() + chunk.len() > self.options.max_response_bytes {
          return Err(Error::new(
            ErrorKind::Decode,
            format!(
              "the service answered {status} with a body larger than {} bytes",
              self.options.max_response_bytes
            ),
          ));
        }
        body.extend_from_slice(&chunk);
      }
      Ok((status, headers, body))
    };
    match tokio::time::timeout(timeout, exchange).await {
      Ok(result) => result,
      Err(_) => Err(Error::new(
        ErrorKind::Timeout,
        format!("the request timed out after {} ms", timeout.as_millis()),
      )),
    }
  }

  /// Where an operation goes, computed once for all its attempts.
  fn target(&self, request: &Request) -> Result<Target> {
    let version: String =
      url::form_urlencoded::byte_serialize(request.api_version.as_bytes()).collect();
    // The query is form-encoded here, so it is already what URLSearchParams would make of it
    // and is signed as it is (§3.1).
    let query = format!("api-version={version}");
    let mut url = self.origin.clone();
    url.set_path(&request.path);
    url.set_query(Some(&query));
    let path_and_query = format!("{}?{query}", request.path);
    Ok(Target {
      url,
      path_and_query,
    })
  }
}

/// The endpoint without path, query, fragment or credentials.
fn origin_of(base: &Url) -> Result<Url> {
  Url::parse(&base.origin().ascii_serialization())
    .map_err(|e| Error::invalid_argument(format!("cannot use the endpoint: {e}")))
}

fn header_value(value: &str) -> Result<HeaderValue> {
  HeaderValue::from_str(value)
    .map_err(|_| Error::invalid_argument("a header value contains characters that cannot be sent"))
}

fn sensitive(value: &str) -> Result<HeaderValue> {
  let mut value = header_value(value)?;
  value.set_sensitive(true);
  Ok(value)
}

fn custom_headers(pairs: &[(String, String)]) -> Result<HeaderMap> {
  let mut map = HeaderMap::with_capacity(pairs.len());
  for (name, value) in pairs {
    let header = HeaderName::from_bytes(name.as_bytes())
      .map_err(|_| Error::invalid_argument(format!("invalid header name {name:?}")))?;
    let value = HeaderValue::from_str(value).map_err(|_| {
      Error::invalid_argument(format!(
        "the value of header {name:?} contains characters that cannot be sent"
      ))
    })?;
    map.insert(header, value);
  }
  Ok(map)
}

fn transport_error(error: reqwest::Error) -> Error {
  let kind = if error.is_timeout() {
    ErrorKind::Timeout
  } else {
    ErrorKind::Connection
  };
  let what = if error.is_connect() {
    "could not connect to the service"
  } else if error.is_timeout() {
    "the request timed out"
  } else {
    "the connection failed"
  };
  let mut cause = String::new();
  let mut source = std::error::Error::source(&error);
  while let Some(inner) = source {
    cause = inner.to_string();
    source = inner.source();
  }
  let message = if cause.is_empty() {
    what.to_owned()
  } else {
    format!("{what}: {cause}")
  };
  Error::new(kind, message).with_source(error.without_url())
}

/// Turns a response with an unexpected status into an error, reading the ACS error body when
/// there is one (`docs/official-sdk.md` §5.4).
fn service_error(status: u16, headers: &HeaderMap, body: &[u8], expected: u16) -> Error {
  let text = String::from_utf8_lossy(body);
  let parsed: Option<serde_json::Value> = serde_json::from_slice(body).ok();
  let acs = parsed
    .as_ref()
    .and_then(|v| serde_json::from_value::<crate::models::ErrorResponse>(v.clone()).ok());
  let (code, message) = match acs {
    Some(acs) => (Some(acs.error.code), acs.error.message),
    None if (200..300).contains(&status) => (
      None,
      format!("the service answered {status} where {expected} was expected"),
    ),
    None if text.trim().is_empty() => (
      None,
      format!("the service answered {status} {}", reason(status)),
    ),
    None => (None, truncate(text.trim(), 1000)),
  };
  let retry_after = retry::retry_after(headers, SystemTime::now());
  Error::new(
    ErrorKind::Service(ServiceError {
      status,
      code,
      message: message.clone(),
      body: parsed.unwrap_or(serde_json::Value::Null),
      retry_after,
    }),
    message,
  )
}

fn reason(status: u16) -> &'static str {
  reqwest::StatusCode::from_u16(status)
    .ok()
    .and_then(|s| s.canonical_reason())
    .unwrap_or("")
}

fn truncate(text: &str, max_chars: usize) -> String {
  match text.char_indices().nth(max_chars) {
    Some((i, _)) => format!("{}…", &text[..i]),
    None => text.to_owned(),
  }
}

/// Describes a JSON error without quoting the body, which may hold a token.
fn describe_json_error(error: &serde_json::Error) -> String {
  use serde_json::error::Category;
  match error.classify() {
    Category::Data => {
      let text = error.to_string();
      if text.starts_with("missing field") {
        text
      } else {
        format!(
          "a field has the wrong type at line {} column {}",
          error.line(),
          error.column()
        )
      }
    }
    Category::Eof => "the JSON is truncated".to_owned(),
    Category::Syntax => format!(
      "invalid JSON at line {} column {}",
      error.line(),
      error.column()
    ),
    Category::Io => "the body could not be read".to_owned(),
  }
}
