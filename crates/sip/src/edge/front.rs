//! The SIP port's front door over UDP: every datagram is read here, with room for the largest
//! one (65,535 bytes; rsipstack's own loop reads into 8,192 and cuts longer ones), checked by
//! [`crate::precheck`] and then answered here (505, 483, 416, 501, 400), dropped and counted,
//! or handed to the stack.
//!
//! The stack keeps its own UDP loop: it reads through [`FrontSocket`], which gives it the
//! datagrams that passed, so what it knows of each (the sender's address on the connection,
//! its Via updated) is as before. A request that passed but is longer than the stack's buffer
//! is parsed here and handed to the stack through a channel connection, carried by the same
//! UDP socket for the answers; its sender is then read from its Via (`received`/`rport`, set
//! here as the stack does).
//!
//! Noise is counted ([`FrontCounters`]), not logged line by line: one summary a minute names
//! how many were answered or dropped and the source that sent most.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use rsipstack::platform::mpsc::UnboundedSender;
use rsipstack::sip::SipMessage;
use rsipstack::sip::transport::Transport;
use rsipstack::transport::channel::ChannelConnection;
use rsipstack::transport::udp::UdpConnection;
use rsipstack::transport::{SipAddr, SipConnection, TransportEvent, TransportLayer};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info};

use crate::precheck::{Verdict, check};

/// The largest UDP datagram.
const MAX_DATAGRAM: usize = 65_535;
/// How often the noise summary is logged (when there was noise).
const SUMMARY_EVERY: Duration = Duration::from_secs(60);
/// Malformed messages from one source answered per minute; the rest are dropped unanswered.
const ANSWERS_PER_SOURCE: u64 = 1_000;
/// Sources counted one by one in a summary; more (spoofed addresses cost a sender nothing)
/// are counted together, so the table stays small.
const MAX_SOURCES: usize = 1024;

/// What the front door did with what it was sent, since the start.
#[derive(Debug, Default)]
pub struct FrontCounters {
    /// Requests answered here with an error (505, 483, 416, 501, 400).
    pub answered: AtomicU64,
    /// Datagrams dropped: nothing could be answered (no Via, no end of headers, a bad ACK).
    pub dropped: AtomicU64,
    /// Requests longer than the stack's buffer, handed on here.
    pub large: AtomicU64,
}

/// The front door's counters (process-wide: one SIP port per process).
pub fn counters() -> &'static FrontCounters {
    static COUNTERS: OnceLock<FrontCounters> = OnceLock::new();
    COUNTERS.get_or_init(FrontCounters::default)
}

/// Noise since the last summary, by source address.
#[derive(Default)]
struct Noise {
    since: Option<Instant>,
    by_source: HashMap<std::net::IpAddr, u64>,
    /// From sources beyond [`MAX_SOURCES`].
    others: u64,
    reasons: HashMap<&'static str, u64>,
}

/// The socket rsipstack's UDP loop reads through: only datagrams that passed the check come
/// out of `recv_from`; everything sent goes straight out.
pub(super) struct FrontSocket {
    socket: Arc<tokio::net::UdpSocket>,
    /// Room for the largest datagram, reused (the stack's loop is the only reader).
    datagram: tokio::sync::Mutex<Vec<u8>>,
    /// For requests too long for the stack's buffer: the UDP connection the stack answers on,
    /// and the channel that hands them to it.
    large: OnceLock<(UdpConnection, UnboundedSender<TransportEvent>)>,
}

/// Counts one malformed message from `from` (over UDP or TCP) and, once a minute, logs the
/// summary of what came in since. False when the source has sent more than
/// [`ANSWERS_PER_SOURCE`] malformed messages since the last summary: it gets no more answers
/// until the next one (a sender of garbage cannot make the gateway send as much back).
pub(super) fn note(from: SocketAddr, why: &'static str) -> bool {
    static NOISE: OnceLock<Mutex<Noise>> = OnceLock::new();
    let Ok(mut noise) = NOISE.get_or_init(Mutex::default).lock() else { return false };
    let now = Instant::now();
    let since = *noise.since.get_or_insert(now);
    let mut answer = true;
    if noise.by_source.len() < MAX_SOURCES || noise.by_source.contains_key(&from.ip()) {
        let n = noise.by_source.entry(from.ip()).or_default();
        *n += 1;
        answer = *n <= ANSWERS_PER_SOURCE;
        if *n == ANSWERS_PER_SOURCE + 1 {
            info!(source = %from.ip(), "malformed SIP: this source gets no more answers this minute");
        }
    } else {
        noise.others += 1;
    }
    *noise.reasons.entry(why).or_default() += 1;
    if now.duration_since(since) >= SUMMARY_EVERY {
        let total: u64 = noise.by_source.values().sum::<u64>() + noise.others;
        let loudest = noise.by_source.iter().max_by_key(|(_, n)| **n).map(|(ip, n)| (*ip, *n));
        let mut reasons: Vec<(&str, u64)> = noise.reasons.iter().map(|(r, n)| (*r, *n)).collect();
        reasons.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
        info!(
            total,
            sources = noise.by_source.len(),
            ?loudest,
            ?reasons,
            "malformed SIP in the last minute (answered or dropped)"
        );
        *noise = Noise::default();
    }
    answer
}

impl FrontSocket {
    /// A request that passed but does not fit the stack's buffer: parsed here and handed on.
    fn hand_on_large(&self, datagram: &[u8], from: SocketAddr) {
        counters().large.fetch_add(1, Ordering::Relaxed);
        let Some((udp, channel)) = self.large.get() else { return };
        let parsed = SipMessage::try_from(datagram).map_err(|e| e.to_string()).and_then(|msg| {
            SipConnection::update_msg_received(msg, from, Transport::Udp).map_err(|e| e.to_string())
        });
        match parsed {
            Ok(msg) => {
                let source = SipAddr { r#type: Some(Transport::Udp), addr: from.into() };
                let connection = SipConnection::Udp(udp.clone());
                let _ = channel.send(TransportEvent::Incoming(msg, connection, source));
            }
            Err(e) => {
                debug!(%from, error = %e, "a long SIP message that does not parse: dropped");
                counters().dropped.fetch_add(1, Ordering::Relaxed);
                let _ = note(from, "unparsable");
            }
        }
    }
}

#[async_trait::async_trait]
impl rsipstack::platform::net::UdpSocket for FrontSocket {
    async fn recv_from(&self, buf: &mut [u8]) -> rsipstack::Result<(usize, SocketAddr)> {
        let mut datagram = self.datagram.lock().await;
        loop {
            let (len, from) = self.socket.recv_from(&mut datagram).await?;
            let packet = &datagram[..len];
            match check(packet) {
                Verdict::Pass if len <= buf.len() => {
                    buf[..len].copy_from_slice(packet);
                    return Ok((len, from));
                }
                Verdict::Pass => self.hand_on_large(packet, from),
                Verdict::Answer { code, why, response } => {
                    if note(from, why) {
                        counters().answered.fetch_add(1, Ordering::Relaxed);
                        debug!(%from, code, why, "SIP request answered at the front door");
                        let _ = self.socket.send_to(&response, from).await;
                    } else {
                        counters().dropped.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Verdict::Drop { why } => {
                    counters().dropped.fetch_add(1, Ordering::Relaxed);
                    debug!(%from, why, "SIP datagram dropped at the front door");
                    let _ = note(from, why);
                }
            }
        }
    }

    async fn send_to(&self, buf: &[u8], addr: SocketAddr) -> rsipstack::Result<usize> {
        Ok(self.socket.send_to(buf, addr).await?)
    }

    fn local_addr(&self) -> rsipstack::Result<SocketAddr> {
        Ok(self.socket.local_addr()?)
    }
}

/// Binds the SIP port's UDP socket behind the front door and adds it to `transport`; its
/// address.
pub(super) async fn serve_udp(
    listen: SocketAddr,
    transport: &TransportLayer,
    cancel: CancellationToken,
) -> Result<SocketAddr, super::EdgeError> {
    let bind = |e| super::EdgeError::Bind { addr: listen, source: e };
    let socket = Arc::new(tokio::net::UdpSocket::bind(listen).await.map_err(bind)?);
    let local = socket.local_addr().map_err(bind)?;
    let front = Arc::new(FrontSocket {
        socket,
        datagram: tokio::sync::Mutex::new(vec![0u8; MAX_DATAGRAM]),
        large: OnceLock::new(),
    });
    let platform: Arc<dyn rsipstack::platform::net::UdpSocket> = front.clone();
    let udp = UdpConnection::from_socket(platform, None, Some(cancel.child_token()))
        .await
        .map_err(super::sip_err)?;
    transport.add_transport(udp.clone().into());
    // The channel for long requests: its loop forwards what is sent on it to the stack. It
    // is known by an address no peer has.
    let (to_stack, from_front) = rsipstack::platform::mpsc::unbounded_channel();
    let (unused, _) = rsipstack::platform::mpsc::unbounded_channel();
    let nowhere =
        SipAddr { r#type: Some(Transport::Udp), addr: SocketAddr::from(([0, 0, 0, 0], 0)).into() };
    let channel = ChannelConnection::create_connection(
        from_front,
        unused,
        nowhere,
        Some(cancel.child_token()),
    )
    .await
    .map_err(super::sip_err)?;
    transport.add_connection(SipConnection::Channel(channel));
    let _ = front.large.set((udp, to_stack));
    Ok(local)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_of_garbage_gets_a_limited_number_of_answers_a_minute() {
        let loud: SocketAddr = ([192, 0, 2, 77], 5060).into();
        let quiet: SocketAddr = ([192, 0, 2, 78], 5060).into();
        let answered = (0..ANSWERS_PER_SOURCE + 50).filter(|_| note(loud, "test")).count();
        assert_eq!(answered as u64, ANSWERS_PER_SOURCE);
        assert!(note(quiet, "test"), "another source is still answered");
    }
}
