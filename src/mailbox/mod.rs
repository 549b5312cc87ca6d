//! A small SMTP receiver that keeps every message it is given: the demo's mailbox (shown on the
//! simulator's page) and the tests' mail server. EHLO/HELO, MAIL, RCPT, DATA (with
//! dot-unstuffing), RSET, NOOP and QUIT; plain by default (the demo's), and for the tests of
//! `crate::smtp` it can require TLS (STARTTLS, or from the first byte) and a sign-in (AUTH PLAIN
//! or LOGIN), as a provider's relay does ([`Security`]). It is a real server on a real socket, so
//! what leverbridge sends goes through `lettre` and the network exactly as it would to a relay.

mod lines;
mod message;
mod security;
mod session;
mod sign_in;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

pub use message::ReceivedMail;
pub use security::{Account, Mechanism, Security, SignIn, Tls, TlsMode};

/// A running mail receiver; clones share its messages.
#[derive(Clone)]
pub struct Mailbox {
    inner: Arc<Inner>,
}

struct Inner {
    address: SocketAddr,
    messages: Mutex<Vec<ReceivedMail>>,
    /// Recipients answered `550` at RCPT, as a server that knows no such mailbox answers.
    refused: Mutex<HashSet<String>>,
    tls: Option<(TlsMode, TlsAcceptor)>,
    account: Option<Account>,
    sign_ins: Mutex<Vec<SignIn>>,
}

impl std::fmt::Debug for Mailbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailbox")
            .field("address", &self.inner.address)
            .finish_non_exhaustive()
    }
}

impl Mailbox {
    /// Binds `bind` (port 0 picks a free one) and starts accepting plain SMTP without sign-in
    /// on the current runtime.
    pub async fn start(bind: SocketAddr) -> anyhow::Result<Mailbox> {
        Mailbox::start_with(bind, Security::default()).await
    }

    /// `start`, requiring what `security` says.
    pub async fn start_with(bind: SocketAddr, security: Security) -> anyhow::Result<Mailbox> {
        let tls = match &security.tls {
            Some(tls) => Some((tls.mode, security::acceptor(tls)?)),
            None => None,
        };
        let listener = TcpListener::bind(bind)
            .await
            .with_context(|| format!("Failed to bind the mailbox to {bind}"))?;
        let address = listener
            .local_addr()
            .context("Failed to read the mailbox's address")?;
        let mailbox = Mailbox {
            inner: Arc::new(Inner {
                address,
                messages: Mutex::default(),
                refused: Mutex::default(),
                tls,
                account: security.account,
                sign_ins: Mutex::default(),
            }),
        };
        // The task holds only a weak reference, so it ends once every handle is dropped.
        let weak = Arc::downgrade(&mailbox.inner);
        tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    continue;
                };
                let Some(inner) = weak.upgrade() else { return };
                let mailbox = Mailbox { inner };
                tokio::spawn(async move {
                    if let Err(e) = session::serve(socket, &mailbox).await {
                        tracing::debug!(error = %e, "a mailbox connection ended with an error");
                    }
                });
            }
        });
        Ok(mailbox)
    }

    /// On loopback, a free port.
    pub async fn start_on_loopback() -> anyhow::Result<Mailbox> {
        Mailbox::start(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// On loopback, a free port, requiring what `security` says.
    pub async fn start_on_loopback_with(security: Security) -> anyhow::Result<Mailbox> {
        Mailbox::start_with(SocketAddr::from(([127, 0, 0, 1], 0)), security).await
    }

    pub fn address(&self) -> SocketAddr {
        self.inner.address
    }

    pub fn port(&self) -> u16 {
        self.inner.address.port()
    }

    /// Every message received so far, oldest first.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        self.lock_messages().clone()
    }

    /// The messages received for `recipient` (an envelope recipient), oldest first.
    pub fn messages_to(&self, recipient: &str) -> Vec<ReceivedMail> {
        self.lock_messages()
            .iter()
            .filter(|m| {
                m.envelope_to
                    .iter()
                    .any(|to| to.eq_ignore_ascii_case(recipient))
            })
            .cloned()
            .collect()
    }

    /// From now on, RCPT TO this address is answered `550 no such mailbox`.
    pub fn refuse_recipient(&self, address: &str) {
        self.inner
            .refused
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(address.to_ascii_lowercase());
    }

    fn refuses(&self, address: &str) -> bool {
        self.inner
            .refused
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&address.to_ascii_lowercase())
    }

    /// Every AUTH attempt so far, oldest first: what the client gave, and whether it got in.
    pub fn sign_ins(&self) -> Vec<SignIn> {
        self.inner
            .sign_ins
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn record_sign_in(&self, sign_in: SignIn) {
        let mut sign_ins = self
            .inner
            .sign_ins
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        keep_newest(&mut sign_ins, sign_in);
    }

    fn tls(&self) -> Option<&(TlsMode, TlsAcceptor)> {
        self.inner.tls.as_ref()
    }

    fn account(&self) -> Option<&Account> {
        self.inner.account.as_ref()
    }

    fn keep(&self, mail: ReceivedMail) {
        keep_newest(&mut self.lock_messages(), mail);
    }

    fn lock_messages(&self) -> std::sync::MutexGuard<'_, Vec<ReceivedMail>> {
        self.inner
            .messages
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }
}

/// Messages (and sign-ins) a mailbox keeps: a demo left running for days receives an email per
/// candidate, and its page shows the newest anyway.
const KEPT: usize = 1000;

/// Adds `item`, dropping the oldest past [`KEPT`].
fn keep_newest<T>(items: &mut Vec<T>, item: T) {
    if items.len() >= KEPT {
        items.drain(..items.len() + 1 - KEPT);
    }
    items.push(item);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mailbox_keeps_only_its_newest_messages() {
        let mut kept = Vec::new();
        for n in 0..KEPT + 5 {
            keep_newest(&mut kept, n);
        }
        assert_eq!(kept.len(), KEPT);
        assert_eq!(kept.first(), Some(&5));
        assert_eq!(kept.last(), Some(&(KEPT + 4)));
    }
}
