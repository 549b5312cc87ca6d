//! What a mailbox may ask of its clients before it takes mail: TLS (STARTTLS, or from the first
//! byte) with a certificate it is given, and a sign-in (AUTH PLAIN or LOGIN, RFC 4954) to one
//! account. The demo's mailbox asks neither; the tests use both to exercise what `crate::smtp`
//! does against a provider's relay.

use std::sync::Arc;

use anyhow::Context;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::TlsAcceptor;

/// What the mailbox requires; the default is plain SMTP without sign-in.
#[derive(Clone, Debug, Default)]
pub struct Security {
    pub tls: Option<Tls>,
    /// With an account, mail is refused (`530`) until the client signs in to it.
    pub account: Option<Account>,
}

/// TLS, and when it begins.
#[derive(Clone)]
pub struct Tls {
    pub mode: TlsMode,
    /// The certificate the mailbox presents (DER).
    pub certificate: Vec<u8>,
    /// Its private key (PKCS #8, DER).
    pub private_key: Vec<u8>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain at first; STARTTLS is offered and required before MAIL (and before AUTH).
    StartTls,
    /// TLS from the first byte, as on port 465.
    Implicit,
}

/// The one account a mailbox accepts, and the mechanisms it offers for signing in.
#[derive(Clone, Debug)]
pub struct Account {
    pub username: String,
    pub password: String,
    /// Offered in this order in the EHLO reply; a client picks the first it knows.
    pub mechanisms: Vec<Mechanism>,
}

impl Account {
    /// An account offering PLAIN, then LOGIN.
    pub fn new(username: &str, password: &str) -> Account {
        Account {
            username: username.to_owned(),
            password: password.to_owned(),
            mechanisms: vec![Mechanism::Plain, Mechanism::Login],
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mechanism {
    Plain,
    Login,
}

impl Mechanism {
    pub fn as_str(self) -> &'static str {
        match self {
            Mechanism::Plain => "PLAIN",
            Mechanism::Login => "LOGIN",
        }
    }

    pub(super) fn parse(name: &str) -> Option<Mechanism> {
        [Mechanism::Plain, Mechanism::Login]
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(name))
    }
}

/// One AUTH attempt as the mailbox saw it: what it was given, and whether it let the client in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignIn {
    pub mechanism: Mechanism,
    pub username: String,
    pub password: String,
    pub accepted: bool,
}

/// The server side of TLS for `tls`, on ring (the one crypto stack of the project).
pub(super) fn acceptor(tls: &Tls) -> anyhow::Result<TlsAcceptor> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(tls.private_key.clone()));
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("Failed to choose the mailbox's TLS versions")?
        .with_no_client_auth()
        .with_single_cert(vec![CertificateDer::from(tls.certificate.clone())], key)
        .context("Failed to load the mailbox's certificate and key")?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}
