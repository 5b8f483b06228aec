//! The gateway as a registrar for agents' desk phones: a phone registers as its extension
//! (digest-challenged against the extension's HA1), and offers to that agent go to the
//! Contact it registered. Bindings live in memory; a restart waits for the phones' next
//! REGISTER (they refresh well within the granted expiry).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rsipstack::dialog::authenticate::extract_digest_uri_raw;
use rsipstack::sip::headers::auth::AuthQop;
use rsipstack::sip::prelude::HeadersExt;
use rsipstack::sip::{Header, StatusCode};
use rsipstack::transaction::transaction::Transaction;
use switchboard_core::sip_digest::{self, SIP_REALM};

use super::{EdgeEvent, SipEdge};

/// Shortest and longest registration the gateway grants, seconds.
const MIN_EXPIRES: u32 = 60;
const MAX_EXPIRES: u32 = 3600;

/// Extensions and where their phones are.
#[derive(Default)]
pub(super) struct Registrar {
    /// extension -> HA1.
    secrets: HashMap<String, String>,
    /// extension -> (Contact URI, expiry).
    bindings: HashMap<String, (String, Instant)>,
}

/// A phone registered with the gateway, for the status API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// Extension.
    pub extension: String,
    /// Where the phone is reached.
    pub contact: String,
    /// Time left.
    pub expires_in: Duration,
}

/// Prefix of an agent target that names an extension rather than a URI (`ext:101`).
pub const EXTENSION_PREFIX: &str = "ext:";

impl SipEdge {
    /// Replaces the extensions the registrar accepts: (extension, HA1). Bindings of removed
    /// extensions are dropped.
    pub fn set_extensions(&self, extensions: impl IntoIterator<Item = (String, String)>) {
        if let Ok(mut r) = self.inner.registrar.lock() {
            r.secrets = extensions.into_iter().collect();
            let known = r.secrets.clone();
            r.bindings.retain(|ext, _| known.contains_key(ext));
        }
    }

    /// Registrations kept from before a restart: `(extension, contact, expires_at epoch ms)`;
    /// expired ones are ignored. Call after [`SipEdge::set_extensions`] (unknown extensions
    /// are ignored too).
    pub fn restore_bindings(&self, bindings: impl IntoIterator<Item = (String, String, i64)>) {
        let (now, now_ms) = (Instant::now(), super::now_ms());
        let Ok(mut r) = self.inner.registrar.lock() else { return };
        for (extension, contact, expires_at) in bindings {
            let left = u64::try_from(expires_at - now_ms).unwrap_or(0);
            if left > 0 && r.secrets.contains_key(&extension) {
                r.bindings.insert(extension, (contact, now + Duration::from_millis(left)));
            }
        }
    }

    /// Phones registered now.
    pub fn bindings(&self) -> Vec<Binding> {
        let now = Instant::now();
        let Ok(r) = self.inner.registrar.lock() else { return Vec::new() };
        let mut out: Vec<Binding> = r
            .bindings
            .iter()
            .filter(|(_, (_, until))| *until > now)
            .map(|(ext, (contact, until))| Binding {
                extension: ext.clone(),
                contact: contact.clone(),
                expires_in: *until - now,
            })
            .collect();
        out.sort_by(|a, b| a.extension.cmp(&b.extension));
        out
    }

    /// Where to ring `target`: a SIP URI as is, or `ext:NNN` resolved to the phone's
    /// registered Contact (None when it is not registered).
    pub(super) fn resolve_target(&self, target: &str) -> Option<String> {
        let Some(ext) = target.strip_prefix(EXTENSION_PREFIX) else {
            return Some(target.to_owned());
        };
        let r = self.inner.registrar.lock().ok()?;
        r.bindings.get(ext).filter(|(_, until)| *until > Instant::now()).map(|(c, _)| c.clone())
    }

    pub(super) fn on_register(&self, mut tx: Transaction) {
        let extension = tx
            .original
            .to_header()
            .ok()
            .and_then(|t| t.uri().ok())
            .and_then(|u| u.auth.map(|a| a.user))
            .unwrap_or_default();
        let ha1 = self.inner.registrar.lock().ok().and_then(|r| r.secrets.get(&extension).cloned());
        // An extension that does not exist gets the same challenge as one that does (and
        // never passes it), so extensions cannot be found by trying them.
        let known =
            ha1.as_deref().is_some_and(|ha1| self.check_extension_digest(&tx, &extension, ha1));
        if !known {
            let nonce = self.new_nonce();
            let challenge = format!(
                "Digest realm=\"{SIP_REALM}\", nonce=\"{nonce}\", algorithm=MD5, qop=\"auth\""
            );
            tokio::spawn(async move {
                let _ = tx
                    .reply_with(
                        StatusCode::Unauthorized,
                        vec![Header::WwwAuthenticate(challenge.into())],
                        None,
                    )
                    .await;
            });
            return;
        }
        let contact_value = tx.original.headers.iter().find_map(|h| match h {
            Header::Contact(c) => Some(c.value().to_string()),
            _ => None,
        });
        let requested = requested_expiry(&tx, contact_value.as_deref());
        let contact_uri = contact_value.as_deref().and_then(contact_uri);
        let reply_headers = match (contact_uri, requested) {
            (_, Some(0)) | (None, _) => {
                // Unregister (or a query without Contact when nothing is bound).
                if let Ok(mut r) = self.inner.registrar.lock()
                    && requested == Some(0)
                    && r.bindings.remove(&extension).is_some()
                {
                    self.emit(EdgeEvent::Bound {
                        extension: extension.clone(),
                        contact: None,
                        expires_at: 0,
                    });
                }
                vec![]
            }
            (Some(uri), requested) => {
                let granted = requested.unwrap_or(MAX_EXPIRES).clamp(MIN_EXPIRES, MAX_EXPIRES);
                if let Ok(mut r) = self.inner.registrar.lock() {
                    r.bindings.insert(
                        extension.clone(),
                        (uri.clone(), Instant::now() + Duration::from_secs(u64::from(granted))),
                    );
                }
                tracing::info!(extension, contact = uri, granted, "phone registered");
                self.emit(EdgeEvent::Bound {
                    extension: extension.clone(),
                    contact: Some(uri.clone()),
                    expires_at: super::now_ms() + i64::from(granted) * 1000,
                });
                vec![
                    Header::Contact(format!("<{uri}>;expires={granted}").into()),
                    Header::Expires(granted.into()),
                ]
            }
        };
        tokio::spawn(async move {
            let _ = tx.reply_with(StatusCode::OK, reply_headers, None).await;
        });
    }

    fn check_extension_digest(&self, tx: &Transaction, extension: &str, ha1: &str) -> bool {
        let Some(header) = tx.original.authorization_header() else { return false };
        let raw = header.value().to_string();
        let Ok(auth) = rsipstack::sip::typed::Authorization::parse(&raw) else { return false };
        if auth.username != extension || auth.realm != SIP_REALM {
            return false;
        }
        let known_nonce = self.inner.nonces.lock().is_ok_and(|n| n.contains_key(&auth.nonce));
        let uri = extract_digest_uri_raw(&raw).unwrap_or_else(|| auth.uri.to_string());
        let qop = match &auth.qop {
            Some(AuthQop::Auth { cnonce, nc }) => Some((format!("{nc:08}"), cnonce.clone())),
            Some(AuthQop::AuthInt { .. }) => return false,
            None => None,
        };
        let expected = sip_digest::response(
            ha1,
            &auth.nonce,
            &tx.original.method.to_string(),
            &uri,
            qop.as_ref().map(|(nc, c)| (nc.as_str(), c.as_str())),
        );
        known_nonce && expected == auth.response
    }
}

/// The expiry a REGISTER asks for: the Contact's `expires` parameter, else the Expires header.
fn requested_expiry(tx: &Transaction, contact: Option<&str>) -> Option<u32> {
    let from_contact = contact.and_then(|c| {
        let lower = c.to_ascii_lowercase();
        let at = lower.find("expires=")?;
        lower[at + 8..].chars().take_while(char::is_ascii_digit).collect::<String>().parse().ok()
    });
    from_contact.or_else(|| {
        tx.original.headers.iter().find_map(|h| match h {
            Header::Expires(e) => e.value().trim().parse().ok(),
            _ => None,
        })
    })
}

/// The URI inside a Contact value (`"Name" <sip:101@host:port>;expires=60` or a bare URI).
fn contact_uri(value: &str) -> Option<String> {
    let value = value.trim();
    if value == "*" {
        return None;
    }
    let uri = match (value.find('<'), value.find('>')) {
        (Some(a), Some(b)) if a < b => &value[a + 1..b],
        _ => value.split(';').next().unwrap_or(value),
    };
    (uri.starts_with("sip:") || uri.starts_with("sips:")).then(|| uri.to_owned())
}

#[cfg(test)]
mod tests {
    use super::contact_uri;

    #[test]
    fn contact_values() {
        assert_eq!(
            contact_uri(r#""Anna" <sip:101@10.0.0.5:5062;transport=udp>;expires=60"#).as_deref(),
            Some("sip:101@10.0.0.5:5062;transport=udp")
        );
        assert_eq!(contact_uri("sip:101@10.0.0.5;expires=60").as_deref(), Some("sip:101@10.0.0.5"));
        assert_eq!(contact_uri("*"), None);
        assert_eq!(contact_uri("<http://example.com>"), None);
    }
}
