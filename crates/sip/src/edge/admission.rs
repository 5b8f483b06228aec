//! Admitting calls: the transactions that belong to no dialog (INVITE, OPTIONS, REGISTER,
//! strays), who may send an INVITE (a trunk by source address, with an optional digest
//! challenge, or the registrar of one of our accounts), and the checks an INVITE passes
//! before it becomes a call (capacity, SDP, an RTP port).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use rsipstack::dialog::authenticate::verify_digest;
use rsipstack::sip::prelude::HeadersExt;
use rsipstack::sip::{Header, Method, StatusCode};
use rsipstack::transaction::transaction::Transaction;
use tracing::{debug, info, warn};

use super::{ALLOW, Call, EdgeEvent, Inner, Leg, Origin, SipEdge, contact_uri, dialog_states};
use crate::net::IpBlock;
use crate::sdp::{self, SdpError, SessionDescription};

/// A peer allowed to send calls without registering (a PBX or an operator's trunk).
#[derive(Debug, Clone)]
pub struct Trunk {
    /// Name (in logs and call records).
    pub name: String,
    /// Source addresses allowed to send INVITEs.
    pub allow: Vec<IpBlock>,
    /// When set, INVITEs must also pass a digest challenge with these (user, password).
    pub credential: Option<(String, String)>,
    /// Queue for calls whose number matches no queue.
    pub queue: Option<String>,
}

/// Who sent an INVITE, and what that implies.
struct Admission {
    origin: Origin,
    queue: Option<String>,
    credential: Option<(String, String)>,
}

/// Receives transactions that belong to no existing transaction.
pub(super) async fn serve(
    edge: Weak<Inner>,
    mut incoming: rsipstack::transaction::TransactionReceiver,
    _endpoint: rsipstack::transaction::Endpoint,
) {
    while let Some(mut tx) = incoming.recv().await {
        let Some(inner) = edge.upgrade() else { break };
        let edge = SipEdge { inner };
        // In-dialog requests go to their dialog.
        let has_to_tag =
            tx.original.to_header().ok().and_then(|t| t.tag().ok().flatten()).is_some();
        if has_to_tag {
            match edge.inner.dialogs.match_dialog(&tx) {
                Some(mut dialog) => {
                    tokio::spawn(async move {
                        if let Err(e) = dialog.handle(&mut tx).await {
                            debug!(error = %e, "in-dialog request");
                        }
                    });
                }
                None if tx.original.method == Method::Ack => {}
                None => {
                    tokio::spawn(async move {
                        let _ = tx.reply(StatusCode::CallTransactionDoesNotExist).await;
                    });
                }
            }
            continue;
        }
        match tx.original.method {
            Method::Invite => edge.on_invite(tx).await,
            Method::Register => edge.on_register(tx),
            Method::Options => {
                tokio::spawn(async move {
                    let headers =
                        vec![Header::Allow(ALLOW.into()), Header::Accept("application/sdp".into())];
                    let _ = tx.reply_with(StatusCode::OK, headers, None).await;
                });
            }
            Method::Ack => {}
            Method::Bye | Method::Cancel | Method::Update | Method::Info | Method::PRack => {
                tokio::spawn(async move {
                    let _ = tx.reply(StatusCode::CallTransactionDoesNotExist).await;
                });
            }
            _ => {
                tokio::spawn(async move {
                    let _ = tx
                        .reply_with(
                            StatusCode::MethodNotAllowed,
                            vec![Header::Allow(ALLOW.into())],
                            None,
                        )
                        .await;
                });
            }
        }
    }
}

impl SipEdge {
    async fn on_invite(&self, mut tx: Transaction) {
        // The sender: the connection's peer, or (a long request handed on by the front door
        // on a connection with none) the address the top Via says it came from.
        let Parties { via_source, request_user, from, to } = Parties::of(&tx.original);
        let source = tx
            .connection
            .as_ref()
            .and_then(|c| c.get_remote_addr())
            .and_then(|a| a.get_socketaddr().ok())
            .map(|a| a.ip())
            .or(via_source);
        let Some(Admission { origin, queue, credential }) =
            source.and_then(|ip| self.origin_of(ip, &request_user))
        else {
            info!(?source, "INVITE from a peer that is neither a trunk nor a registrar: 403");
            tokio::spawn(async move {
                let _ = tx.reply(StatusCode::Forbidden).await;
            });
            return;
        };
        if let Some((user, password)) = credential
            && !self.check_digest(&tx, &user, &password)
        {
            let nonce = self.new_nonce();
            let challenge =
                format!("Digest realm=\"switchboard\", nonce=\"{nonce}\", algorithm=MD5");
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
        if self.active_calls() >= self.inner.config.max_calls {
            tokio::spawn(async move {
                let _ = tx
                    .reply_with(
                        StatusCode::ServiceUnavailable,
                        vec![Header::Other("Retry-After".into(), "5".into())],
                        None,
                    )
                    .await;
            });
            // Refused, but not lost: the switch logs it as a blocked call.
            self.emit(EdgeEvent::Refused {
                call_id: switchboard_core::new_id(),
                from,
                to,
                origin,
                queue,
                code: 503,
            });
            return;
        }
        let offer = std::str::from_utf8(&tx.original.body)
            .map_err(|_| SdpError::Malformed("not UTF-8".into()))
            .and_then(SessionDescription::parse);
        let answer = match offer.and_then(|o| sdp::negotiate(&o)) {
            Ok(a) => a,
            Err(e) => {
                let code = match e {
                    SdpError::Malformed(_) if tx.original.body.is_empty() => {
                        StatusCode::NotAcceptableHere
                    }
                    SdpError::Malformed(_) => StatusCode::BadRequest,
                    SdpError::NoAudio | SdpError::NoCommonCodec => StatusCode::NotAcceptableHere,
                };
                info!(error = %e, "INVITE refused with {code}");
                tokio::spawn(async move {
                    let _ = tx
                        .reply_with(
                            code,
                            vec![Header::Warning(format!("399 switchboard \"{e}\"").into())],
                            None,
                        )
                        .await;
                });
                return;
            }
        };
        let socket = match self.inner.ports.bind() {
            Ok(s) => s,
            Err(e) => {
                warn!(error = %e, "no RTP port for a new call: 503");
                tokio::spawn(async move {
                    let _ = tx.reply(StatusCode::ServiceUnavailable).await;
                });
                return;
            }
        };
        let (state_tx, state_rx) = self.inner.dialogs.new_dialog_state_channel();
        let contact = contact_uri(
            self.inner.config.advertised_ip,
            self.inner.local.port(),
            if request_user.is_empty() { "switchboard" } else { &request_user },
        );
        let dialog = match self.inner.dialogs.get_or_create_server_invite(
            &tx,
            state_tx,
            None,
            Some(contact),
        ) {
            Ok(d) => d,
            Err(e) => {
                warn!(error = %e, "INVITE: cannot create the dialog");
                tokio::spawn(async move {
                    let _ = tx.reply(StatusCode::BadRequest).await;
                });
                return;
            }
        };
        let call_id = switchboard_core::new_id();
        if let Ok(mut calls) = self.inner.calls.lock() {
            calls.insert(
                call_id.clone(),
                Call {
                    caller: dialog.clone(),
                    caller_answer: answer,
                    caller_socket: Some(socket),
                    ringing_sent: false,
                    offers: HashMap::new(),
                    connected: None,
                    parked: None,
                    early: None,
                    sdp_version: 1,
                },
            );
        }
        tokio::spawn(dialog_states(
            Arc::downgrade(&self.inner),
            call_id.clone(),
            Leg::Caller(dialog.id()),
            state_rx,
        ));
        let mut dialog = dialog;
        tokio::spawn(async move {
            // Sends 100 Trying, then waits for the ACK or CANCEL of this INVITE.
            if let Err(e) = dialog.handle(&mut tx).await {
                debug!(error = %e, "INVITE transaction");
            }
        });
        self.emit(EdgeEvent::Incoming { call_id, from, to, origin, queue });
    }

    /// Who may send this INVITE: a trunk by source address, or a registrar of one of our
    /// accounts (matched by the Request-URI user when several share a registrar).
    fn origin_of(&self, ip: IpAddr, request_user: &str) -> Option<Admission> {
        if let Some(trunk) =
            self.inner.config.trunks.iter().find(|t| t.allow.iter().any(|b| b.contains(ip)))
        {
            return Some(Admission {
                origin: Origin::Trunk(trunk.name.clone()),
                queue: trunk.queue.clone(),
                credential: trunk.credential.clone(),
            });
        }
        let registrar_ips = self.inner.registrar_ips.lock().ok()?;
        registrar_ips.get(&ip)?;
        let account = self
            .inner
            .config
            .accounts
            .iter()
            .find(|a| a.username == request_user)
            .or_else(|| {
                self.inner.config.accounts.iter().find(|a| registrar_ips.get(&ip) == Some(&a.name))
            })?;
        Some(Admission {
            origin: Origin::Account(account.name.clone()),
            queue: account.queue.clone(),
            credential: None,
        })
    }

    pub(super) fn new_nonce(&self) -> String {
        let nonce = format!("{:016x}{}", rand_u64(), switchboard_core::new_id());
        if let Ok(mut nonces) = self.inner.nonces.lock() {
            let now = Instant::now();
            nonces.retain(|_, at| now.duration_since(*at) < Duration::from_secs(300));
            nonces.insert(nonce.clone(), now);
        }
        nonce
    }

    fn check_digest(&self, tx: &Transaction, user: &str, password: &str) -> bool {
        let Some(header) = tx.original.authorization_header() else { return false };
        let raw = header.value().to_string();
        let Ok(auth) = rsipstack::sip::typed::Authorization::parse(&raw) else { return false };
        let known_nonce = self.inner.nonces.lock().is_ok_and(|n| n.contains_key(&auth.nonce));
        auth.username == user
            && known_nonce
            && verify_digest(&auth, password, &tx.original.method, &raw)
    }
}

fn rand_u64() -> u64 {
    let id = switchboard_core::new_id();
    u64::from_str_radix(&id[id.len().saturating_sub(16)..], 16).unwrap_or(0)
}

/// A URI's user part as it is meant: `%31%30%38` is `108` (RFC 3261 §19.1.4 compares URIs
/// unescaped). Escapes that do not make UTF-8 leave the user as written.
pub(super) fn unescape_user(user: &str) -> String {
    if !user.contains('%') {
        return user.to_owned();
    }
    let bytes = user.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(high), Some(low)) => {
                out.push(u8::try_from(high * 16 + low).unwrap_or(b'?'));
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| user.to_owned())
}

/// What the edge reads from an INVITE before it decides anything, whoever sent it (so a
/// fuzz target can drive it with any parsed request).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Parties {
    /// The address the top Via says the request came from: its `received` (set on arrival
    /// when the sender's address differs from what it wrote), else its sent-by host.
    pub via_source: Option<IpAddr>,
    /// The Request-URI's user, unescaped: the number called.
    pub request_user: String,
    /// The From URI's user, unescaped: the caller.
    pub from: String,
    /// The number called: the Request-URI's user, or the To URI's when that is empty.
    pub to: String,
}

impl Parties {
    /// Reads them; a header that is missing or does not parse leaves its part empty.
    pub fn of(request: &rsipstack::sip::Request) -> Parties {
        let via_source = request.via_header().ok().and_then(|via| via_source(via.value()));
        let request_user =
            request.uri.auth.as_ref().map(|a| unescape_user(&a.user)).unwrap_or_default();
        let from = request
            .from_header()
            .ok()
            .and_then(|f| f.uri().ok())
            .and_then(|u| u.auth.map(|a| unescape_user(&a.user)))
            .unwrap_or_default();
        let to = if request_user.is_empty() {
            request
                .to_header()
                .ok()
                .and_then(|t| t.uri().ok())
                .and_then(|u| u.auth.map(|a| unescape_user(&a.user)))
                .unwrap_or_default()
        } else {
            request_user.clone()
        };
        Parties { via_source, request_user, from, to }
    }
}

fn via_source(via: &str) -> Option<std::net::IpAddr> {
    let mut parts = via.split(';');
    let sent_by = parts.next()?.split_whitespace().nth(1)?;
    if let Some(ip) = parts.find_map(|p| p.trim().strip_prefix("received=")) {
        return ip.trim().trim_matches(|c| c == '[' || c == ']').parse().ok();
    }
    let host = match sent_by.strip_prefix('[') {
        Some(v6) => v6.split(']').next()?,
        None => sent_by.rsplit_once(':').map_or(sent_by, |(host, _)| host),
    };
    host.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::{unescape_user, via_source};

    #[test]
    fn the_sender_of_a_request_is_read_from_its_via() {
        let ip = |s: &str| Some(s.parse().unwrap());
        assert_eq!(via_source("SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1"), ip("10.0.0.1"));
        assert_eq!(
            via_source("SIP/2.0/UDP pbx.example:5060;branch=z;received=192.0.2.7;rport=5062"),
            ip("192.0.2.7")
        );
        assert_eq!(via_source("SIP/2.0/UDP [2001:db8::1]:5060;branch=z"), ip("2001:db8::1"));
        assert_eq!(via_source("SIP/2.0/UDP pbx.example;branch=z"), None);
    }

    #[test]
    fn escaped_users_are_compared_unescaped() {
        assert_eq!(unescape_user("%31%30%38"), "108");
        assert_eq!(unescape_user("100"), "100");
        assert_eq!(unescape_user("a%2"), "a%2", "a cut escape stays as written");
        assert_eq!(unescape_user("%ff%fe"), "%ff%fe", "not UTF-8: as written");
        assert_eq!(unescape_user("%D0%B8"), "и");
    }
}
