//! TLS to a workspace server, through rustls (ring), with libpq's `sslmode`s:
//!
//! - `disable`: no TLS;
//! - `prefer` (the default): TLS when the server offers it, its certificate not checked;
//! - `require`: TLS or no connection; the certificate is checked against `sslrootcert` only
//!   when one is given (as libpq does with a root certificate file), else not at all;
//! - `verify-ca`: TLS, the certificate signed by an authority in `sslrootcert`;
//! - `verify-full`: that, and issued for the host the URL names.
//!
//! `sslrootcert` is a PEM file, or `system` for the system's authorities
//! (`/etc/ssl/certs/ca-certificates.crt`); without it, `~/.postgresql/root.crt` when present.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::DigitallySignedStruct;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};

/// libpq's `sslmode`, all five of them (the driver itself knows only the first three).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlsMode {
    Disable,
    #[default]
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl TlsMode {
    pub fn parse(s: &str) -> Option<TlsMode> {
        Some(match s {
            "disable" => TlsMode::Disable,
            "prefer" | "allow" => TlsMode::Prefer,
            "require" => TlsMode::Require,
            "verify-ca" => TlsMode::VerifyCa,
            "verify-full" => TlsMode::VerifyFull,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TlsMode::Disable => "disable",
            TlsMode::Prefer => "prefer",
            TlsMode::Require => "require",
            TlsMode::VerifyCa => "verify-ca",
            TlsMode::VerifyFull => "verify-full",
        }
    }

    /// What the driver is told: whether TLS is tried, and whether it is a must.
    pub fn driver_mode(self) -> postgres::config::SslMode {
        match self {
            TlsMode::Disable => postgres::config::SslMode::Disable,
            TlsMode::Prefer => postgres::config::SslMode::Prefer,
            TlsMode::Require | TlsMode::VerifyCa | TlsMode::VerifyFull => postgres::config::SslMode::Require,
        }
    }
}

/// The system's authorities on Debian and its kin.
const SYSTEM_ROOTS: &str = "/etc/ssl/certs/ca-certificates.crt";

/// The authorities file to check the server against: the URL's `sslrootcert` (or
/// `PGSSLROOTCERT`), else `~/.postgresql/root.crt` when it exists.
fn root_file(root_cert: Option<&str>) -> Option<PathBuf> {
    let given = root_cert.map(str::to_string).or_else(|| std::env::var("PGSSLROOTCERT").ok());
    match given.as_deref() {
        Some("system") => Some(PathBuf::from(SYSTEM_ROOTS)),
        Some(p) => Some(PathBuf::from(p)),
        None => directories::BaseDirs::new().map(|d| d.home_dir().join(".postgresql/root.crt")).filter(|p| p.is_file()),
    }
}

fn load_roots(file: &Path) -> Result<rustls::RootCertStore, String> {
    let shown = file.display();
    let certs = CertificateDer::pem_file_iter(file)
        .map_err(|e| format!("cannot read the authorities file {shown} ({e})"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{shown} is not a PEM certificate file ({e})"))?;
    let mut roots = rustls::RootCertStore::empty();
    let (added, _ignored) = roots.add_parsable_certificates(certs);
    if added == 0 {
        return Err(format!("{shown} holds no certificate Facture can use"));
    }
    Ok(roots)
}

/// The connector for `mode`; an error is a sentence for the user (a missing or unreadable
/// authorities file).
pub fn connector(mode: TlsMode, root_cert: Option<&str>) -> Result<tokio_postgres_rustls::MakeRustlsConnect, String> {
    // ring rather than aws-lc-rs: no C toolchain or CMake in the build. Its key exchanges are
    // the classic ones (X25519, P-256, P-384); rustls marks it deprecated for lacking
    // post-quantum ones.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let explicit = root_cert.is_some() || std::env::var_os("PGSSLROOTCERT").is_some();
    let (chain, any_name) = match (mode, root_file(root_cert)) {
        (TlsMode::VerifyCa | TlsMode::VerifyFull, None) => {
            return Err(format!(
                "sslmode={} checks the server's certificate, and needs the authority that signed it: add \
                 sslrootcert=PATH (a PEM file, or 'system') to the URL, or put it in ~/.postgresql/root.crt",
                mode.as_str()
            ));
        }
        (TlsMode::VerifyFull, Some(file)) => (Some(webpki(&file, &provider)?), false),
        (TlsMode::VerifyCa, Some(file)) => (Some(webpki(&file, &provider)?), true),
        (TlsMode::Require, Some(file)) if explicit => (Some(webpki(&file, &provider)?), true),
        _ => (None, false),
    };
    let verifier = Arc::new(Checked { provider: provider.clone(), chain, any_name });
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS set-up failed ({e})"))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

fn webpki(file: &Path, provider: &Arc<CryptoProvider>) -> Result<Arc<WebPkiServerVerifier>, String> {
    WebPkiServerVerifier::builder_with_provider(Arc::new(load_roots(file)?), provider.clone())
        .build()
        .map_err(|e| format!("{}: {e}", file.display()))
}

/// How the server's certificate is checked: against an authority (`chain`), with or without
/// the name it was issued for (`any_name`: `verify-ca`), or not at all (`prefer`, `require`:
/// encrypted, the certificate taken as it comes, libpq's meaning of these modes). The
/// handshake's signatures are checked in every case.
#[derive(Debug)]
struct Checked {
    provider: Arc<CryptoProvider>,
    chain: Option<Arc<WebPkiServerVerifier>>,
    any_name: bool,
}

impl ServerCertVerifier for Checked {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        use rustls::CertificateError::{NotValidForName, NotValidForNameContext};
        let Some(chain) = &self.chain else { return Ok(ServerCertVerified::assertion()) };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(NotValidForName | NotValidForNameContext { .. }))
                if self.any_name =>
            {
                Ok(ServerCertVerified::assertion())
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_libpq_mode_is_understood_and_shown_back() {
        for m in ["disable", "prefer", "require", "verify-ca", "verify-full"] {
            assert_eq!(TlsMode::parse(m).map(TlsMode::as_str), Some(m));
        }
        assert_eq!(TlsMode::parse("allow"), Some(TlsMode::Prefer));
        assert_eq!(TlsMode::parse("sometimes"), None);
        assert_eq!(TlsMode::VerifyFull.driver_mode(), postgres::config::SslMode::Require);
        assert_eq!(TlsMode::Disable.driver_mode(), postgres::config::SslMode::Disable);
    }

    #[test]
    fn checking_a_certificate_without_an_authority_is_refused_with_the_way_to_give_one() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("none.pem");
        let e = connector(TlsMode::VerifyFull, Some(missing.to_str().unwrap())).err().unwrap();
        assert!(e.contains("cannot read the authorities file"), "{e}");
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "not a certificate").unwrap();
        let e = connector(TlsMode::VerifyCa, Some(junk.to_str().unwrap())).err().unwrap();
        assert!(e.contains("no certificate"), "{e}");
        assert!(connector(TlsMode::Require, None).is_ok());
    }
}
