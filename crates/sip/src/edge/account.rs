//! The accounts the gateway registers with a PBX or provider: kept registered (refresh at
//! 75% of the granted expiry, backoff after failures) with each one's state for the API.

use std::sync::Weak;

use rsipstack::dialog::authenticate::Credential;
use rsipstack::dialog::registration::{RefreshOutcome, Registration};
use rsipstack::sip::{Header, Uri};
use serde::Serialize;

use super::{EdgeEvent, Inner, SipEdge, now_ms};

/// An account the gateway registers with a PBX or provider to receive its calls.
#[derive(Debug, Clone)]
pub struct Account {
    /// Name (in the API and logs).
    pub name: String,
    /// User part of the address of record.
    pub username: String,
    /// Digest user when it differs from `username`.
    pub auth_username: Option<String>,
    /// Digest password.
    pub password: String,
    /// Registrar, e.g. `sip:pbx.example.com:5060`.
    pub registrar: String,
    /// Requested expiry in seconds.
    pub expiry_s: u32,
    /// Queue for calls coming in on this account.
    pub queue: Option<String>,
}

/// One account's registration, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegistrationStatus {
    /// Account name.
    pub name: String,
    /// Registrar.
    pub registrar: String,
    /// `registering`, `registered`, `failed` or `stopped`.
    pub state: String,
    /// Last SIP status from the registrar, if any.
    pub last_code: Option<u16>,
    /// Error text of the last failure.
    pub last_error: Option<String>,
    /// Seconds the registrar granted.
    pub expires_s: Option<u32>,
    /// Registrations that succeeded (the first one and every refresh).
    pub successes: u64,
    /// Epoch ms of the last success.
    pub registered_at: Option<i64>,
}

/// How many entries the SIP stack's tables and the edge's own hold now: what must come
/// back down after calls end (a number that only grows is a leak).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StackSizes {
    /// Transactions in progress.
    pub transactions: usize,
    /// Finished transactions kept to absorb retransmissions (Timer J/K).
    pub finished_transactions: usize,
    /// Dialogs waiting for the ACK of a 2xx.
    pub waiting_ack: usize,
    /// Dialogs.
    pub dialogs: usize,
    /// Connections the transport layer keeps (peers over UDP, TCP channels).
    pub connections: usize,
    /// Calls in the edge's table.
    pub calls: usize,
    /// Click-to-call calls in the edge's table.
    pub outbound: usize,
    /// Digest nonces issued and not yet expired.
    pub nonces: usize,
}

impl SipEdge {
    /// The sizes of the stack's and the edge's tables.
    pub fn stack_sizes(&self) -> StackSizes {
        let endpoint = &self.inner.dialogs.endpoint;
        StackSizes {
            transactions: endpoint.transactions.len(),
            finished_transactions: endpoint.finished_transactions.len(),
            waiting_ack: endpoint.waiting_ack.len(),
            dialogs: self.inner.dialogs.len(),
            connections: endpoint.transport_layer.connections_count(),
            calls: self.inner.calls.lock().map_or(0, |c| c.len()),
            outbound: self.inner.outbound.lock().map_or(0, |c| c.len()),
            nonces: self.inner.nonces.lock().map_or(0, |c| c.len()),
        }
    }

    /// Every account's registration state.
    pub fn registrations(&self) -> Vec<RegistrationStatus> {
        self.inner.registrations.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

/// Registers one account and keeps it registered (refresh at 75% of the granted expiry,
/// backoff 1 s doubling to 60 s after failures), recording each outcome.
pub(super) async fn keep_registered(edge: Weak<Inner>, account: Account) {
    let Some(inner) = edge.upgrade() else { return };
    let Ok(server) = Uri::try_from(account.registrar.as_str()) else {
        set_registration(&inner, &account.name, |r| {
            r.state = "failed".into();
            r.last_error = Some(format!("bad registrar URI {:?}", account.registrar));
        });
        return;
    };
    // INVITEs from the registrar's address are calls for this account.
    if let Ok(addrs) = tokio::net::lookup_host(format!(
        "{}:{}",
        server.host_with_port.host,
        server.host_with_port.port.as_ref().map_or(5060, |p| p.value())
    ))
    .await
        && let Ok(mut ips) = inner.registrar_ips.lock()
    {
        for a in addrs {
            ips.insert(a.ip(), account.name.clone());
        }
    }
    let credential = Credential {
        username: account.username.clone(),
        password: account.password.clone(),
        realm: None,
        auth_username: account.auth_username.clone(),
    };
    let endpoint = inner.dialogs.endpoint.clone();
    let token = inner.cancel.child_token();
    let name = account.name.clone();
    drop(inner);
    let mut registration = Registration::new(endpoint, Some(credential));
    let weak = edge.clone();
    registration
        .keep_alive(server, account.expiry_s, token, |outcome| {
            let Some(inner) = weak.upgrade() else { return };
            let status = set_registration(&inner, &name, |r| match outcome {
                RefreshOutcome::Registered(resp) => {
                    r.state = "registered".into();
                    r.last_code = Some(resp.status_code.code());
                    r.last_error = None;
                    r.successes += 1;
                    r.registered_at = Some(now_ms());
                    r.expires_s = granted_expiry(resp);
                }
                RefreshOutcome::Rejected(resp) => {
                    r.state = "failed".into();
                    r.last_code = Some(resp.status_code.code());
                    r.last_error = Some(format!("registrar answered {}", resp.status_code));
                }
                RefreshOutcome::Failed(e) => {
                    r.state = "failed".into();
                    r.last_error = Some(e.to_string());
                }
            });
            if let Some(status) = status {
                let _ = inner.events.send(EdgeEvent::Registration(status));
            }
        })
        .await;
    if let Some(inner) = edge.upgrade() {
        set_registration(&inner, &account.name, |r| r.state = "stopped".into());
    }
}

/// The expiry a registrar granted: the Contact's `expires` parameter, else the Expires header.
fn granted_expiry(resp: &rsipstack::sip::Response) -> Option<u32> {
    let from_contact = resp.headers.iter().find_map(|h| match h {
        Header::Contact(c) => {
            let v = c.value().to_ascii_lowercase();
            let rest = &v[v.find("expires=")? + 8..];
            rest.chars().take_while(char::is_ascii_digit).collect::<String>().parse().ok()
        }
        _ => None,
    });
    from_contact.or_else(|| {
        resp.headers.iter().find_map(|h| match h {
            Header::Expires(e) => e.value().trim().parse().ok(),
            _ => None,
        })
    })
}

fn set_registration(
    inner: &Inner,
    name: &str,
    change: impl FnOnce(&mut RegistrationStatus),
) -> Option<RegistrationStatus> {
    let mut regs = inner.registrations.lock().ok()?;
    let r = regs.iter_mut().find(|r| r.name == name)?;
    change(r);
    Some(r.clone())
}
