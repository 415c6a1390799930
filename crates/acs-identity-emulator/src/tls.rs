//! `https: true`: a local certificate authority and a server certificate it signs for
//! `localhost`, `127.0.0.1` and `::1`, generated with rcgen (ring) and served with rustls.
//!
//! Why a CA and not one self-signed certificate: Node (`NODE_EXTRA_CA_CERTS`) and rustls
//! (which refuses a certificate that is its own trust anchor unless it is a CA, and a CA as a
//! server certificate) both accept "trust this CA, it signed the server's certificate". The
//! file [`crate::Emulator::certificate_path`] names holds the CA certificate: point
//! `NODE_EXTRA_CA_CERTS` (or a client's extra roots) at it.
//!
//! With a data directory the CA's key and certificate are kept in it, so the file users
//! trusted stays valid across restarts; the server certificate is new at every start.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
  BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
  Issuer, KeyPair, KeyUsagePurpose,
};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use crate::error::EmulatorError;

/// The name of the CA certificate file written for `https` (in the data directory when there
/// is one), for callers of [`crate::serve`] that need to find it.
pub const CA_CERT_FILE: &str = "acs-identity-emulator-ca.pem";
const CA_KEY_FILE: &str = "acs-identity-emulator-ca-key.pem";

const CA_NAME: &str = "acs-identity-emulator local CA";

/// What serving https needs.
pub(crate) struct Tls {
  pub(crate) acceptor: TlsAcceptor,
  /// The CA certificate (PEM) to trust.
  pub(crate) ca_path: PathBuf,
  /// A directory the emulator created for the certificate and removes on close.
  pub(crate) temp_dir: Option<PathBuf>,
}

impl std::fmt::Debug for Tls {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    f.debug_struct("Tls")
      .field("ca_path", &self.ca_path)
      .finish_non_exhaustive()
  }
}

fn tls_error(what: &str) -> impl Fn(rcgen::Error) -> EmulatorError + '_ {
  move |e| EmulatorError::Tls(format!("{what}: {e}"))
}

fn ca_params() -> Result<CertificateParams, EmulatorError> {
  let mut params =
    CertificateParams::new(Vec::<String>::new()).map_err(tls_error("CA parameters"))?;
  let mut name = DistinguishedName::new();
  name.push(DnType::CommonName, CA_NAME);
  name.push(DnType::OrganizationName, "acs-identity-emulator");
  params.distinguished_name = name;
  params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
  params.key_usages = vec![
    KeyUsagePurpose::KeyCertSign,
    KeyUsagePurpose::CrlSign,
    KeyUsagePurpose::DigitalSignature,
  ];
  params.not_before = rcgen::date_time_ymd(2024, 1, 1);
  params.not_after = rcgen::date_time_ymd(2099, 12, 31);
  Ok(params)
}

/// The CA's key and certificate: read from `dir` when both files are there, else new (and
/// written to `dir`).
fn load_or_create_ca(dir: &Path) -> Result<(KeyPair, PathBuf), EmulatorError> {
  let cert_path = dir.join(CA_CERT_FILE);
  let key_path = dir.join(CA_KEY_FILE);
  if let (Ok(key_pem), true) = (std::fs::read_to_string(&key_path), cert_path.is_file()) {
    let key = KeyPair::from_pem(&key_pem).map_err(tls_error("the stored CA key"))?;
    return Ok((key, cert_path));
  }
  let key = KeyPair::generate().map_err(tls_error("CA key"))?;
  let cert = ca_params()?
    .self_signed(&key)
    .map_err(tls_error("CA certificate"))?;
  write_private(&key_path, key.serialize_pem().as_bytes())?;
  std::fs::write(&cert_path, cert.pem())
    .map_err(|e| EmulatorError::Tls(format!("cannot write {}: {e}", cert_path.display())))?;
  Ok((key, cert_path))
}

fn write_private(path: &Path, contents: &[u8]) -> Result<(), EmulatorError> {
  use std::io::Write;
  let mut options = std::fs::OpenOptions::new();
  options.write(true).create(true).truncate(true);
  #[cfg(unix)]
  {
    use std::os::unix::fs::OpenOptionsExt;
    options.mode(0o600);
  }
  options
    .open(path)
    .and_then(|mut file| file.write_all(contents))
    .map_err(|e| EmulatorError::Tls(format!("cannot write {}: {e}", path.display())))
}

/// Sets up TLS, keeping the CA in `data_dir` when there is one, else in a new temporary
/// directory.
pub(crate) fn setup(data_dir: Option<&Path>) -> Result<Tls, EmulatorError> {
  let (dir, temp_dir) = match data_dir {
    Some(dir) => (dir.to_path_buf(), None),
    None => {
      let dir =
        std::env::temp_dir().join(format!("acs-identity-emulator-{}", uuid::Uuid::new_v4()));
      (dir.clone(), Some(dir))
    }
  };
  std::fs::create_dir_all(&dir)
    .map_err(|e| EmulatorError::Tls(format!("cannot create {}: {e}", dir.display())))?;
  let (ca_key, ca_path) = load_or_create_ca(&dir)?;
  let issuer = Issuer::new(ca_params()?, ca_key);

  let mut params = CertificateParams::new(vec![
    "localhost".to_owned(),
    "127.0.0.1".to_owned(),
    "::1".to_owned(),
  ])
  .map_err(tls_error("server certificate parameters"))?;
  params.distinguished_name = DistinguishedName::new();
  params
    .distinguished_name
    .push(DnType::CommonName, "localhost");
  params.is_ca = IsCa::ExplicitNoCa;
  params.key_usages = vec![
    KeyUsagePurpose::DigitalSignature,
    KeyUsagePurpose::KeyEncipherment,
  ];
  params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
  params.use_authority_key_identifier_extension = true;
  let key = KeyPair::generate().map_err(tls_error("server key"))?;
  let cert = params
    .signed_by(&key, &issuer)
    .map_err(tls_error("server certificate"))?;

  let chain = vec![cert.der().clone()];
  let private_key = PrivateKeyDer::from_pem_slice(key.serialize_pem().as_bytes())
    .map_err(|e| EmulatorError::Tls(format!("server key: {e}")))?;
  let config = server_config(chain, private_key)?;
  Ok(Tls {
    acceptor: TlsAcceptor::from(Arc::new(config)),
    ca_path,
    temp_dir,
  })
}

fn server_config(
  chain: Vec<CertificateDer<'static>>,
  key: PrivateKeyDer<'static>,
) -> Result<rustls::ServerConfig, EmulatorError> {
  let provider = Arc::new(rustls::crypto::ring::default_provider());
  let mut config = rustls::ServerConfig::builder_with_provider(provider)
    .with_safe_default_protocol_versions()
    .map_err(|e| EmulatorError::Tls(e.to_string()))?
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .map_err(|e| EmulatorError::Tls(e.to_string()))?;
  // HTTP/1.1 only: that is what the server speaks.
  config.alpn_protocols = vec![b"http/1.1".to_vec()];
  Ok(config)
}
