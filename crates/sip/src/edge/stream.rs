//! The SIP port's front door over TCP: connections are accepted here, each message is framed
//! (headers, then `Content-Length` bytes of body, RFC 3261 §18.3) and checked by
//! [`crate::precheck`] like a UDP datagram, then answered here, dropped and counted, or handed
//! to the stack.
//!
//! rsipstack's own TCP loop closes the connection on the first message its parser refuses
//! (an unknown method among them), so a peer gets no answer and loses every transaction on
//! that connection. Here each connection is bridged to the stack as a channel connection
//! (rsipstack's way of carrying SIP over a stream it does not own): the stack reads the
//! messages that passed from the channel and writes its answers and requests to it, and this
//! task writes them to the socket. The channel is known by the peer's address with the TCP
//! transport, so in-dialog requests reuse the connection, and a stand-in listener entry makes
//! the stack write our TCP address in the Via of requests it sends over TCP.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rsipstack::sip::SipMessage;
use rsipstack::sip::transport::Transport;
use rsipstack::transaction::endpoint::EndpointInner;
use rsipstack::transport::channel::ChannelConnection;
use rsipstack::transport::{SipAddr, SipConnection, TransportEvent, TransportLayer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use super::front::{counters, note};
use crate::precheck::{Verdict, check};

/// The longest message (headers and body) one connection may send.
const MAX_MESSAGE: usize = 65_535;
/// Connections open at once; more are closed as they come.
const MAX_CONNECTIONS: usize = 4096;
/// A connection that sends nothing for this long is closed (peers keep theirs alive with
/// CRLF pings or OPTIONS).
const IDLE: Duration = Duration::from_secs(15 * 60);

/// What the bytes at the start of a connection's buffer hold.
#[derive(Debug, PartialEq, Eq)]
enum Frame {
    /// Not a whole message yet.
    Partial,
    /// A keep-alive ping (CRLF CRLF, RFC 5626 §3.5.1) of this many bytes: answered with CRLF.
    Ping(usize),
    /// Line ends between messages, this many bytes: skipped.
    Blank(usize),
    /// A whole message of this many bytes.
    Message(usize),
    /// The headers end at this many bytes but say no length the rest can be framed by (a bad
    /// or negative Content-Length): the connection cannot be read further.
    Unframeable(usize),
    /// More than [`MAX_MESSAGE`] bytes and no whole message.
    TooLong,
}

/// Frames the next message in `buf`.
fn frame(buf: &[u8]) -> Frame {
    if buf.starts_with(b"\r\n\r\n") {
        return Frame::Ping(4);
    }
    let blank = buf.iter().take_while(|b| **b == b'\r' || **b == b'\n').count();
    if blank > 0 {
        // A lone CRLF (a keep-alive's answer, or padding) can only be skipped once it is
        // clear it is not the start of a ping.
        return if blank == buf.len() && blank < 4 { Frame::Partial } else { Frame::Blank(blank) };
    }
    let end =
        find(buf, b"\r\n\r\n").map(|at| at + 4).or_else(|| find(buf, b"\n\n").map(|at| at + 2));
    let Some(head_end) = end else {
        return if buf.len() > MAX_MESSAGE { Frame::TooLong } else { Frame::Partial };
    };
    let Ok(head) = std::str::from_utf8(&buf[..head_end]) else {
        return Frame::Unframeable(head_end);
    };
    let mut length = 0usize;
    for line in head.split('\n').skip(1) {
        let Some((name, value)) = line.split_once(':') else { continue };
        let name = name.trim();
        if name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("l") {
            match value.trim().parse::<usize>() {
                Ok(n) => length = n,
                Err(_) => return Frame::Unframeable(head_end),
            }
        }
    }
    let total = head_end.saturating_add(length);
    if total > MAX_MESSAGE {
        Frame::TooLong
    } else if buf.len() >= total {
        Frame::Message(total)
    } else {
        Frame::Partial
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Binds the SIP port's TCP listener on `local` (the UDP socket's address) and registers the
/// stand-in listener entry for it; [`serve_tcp`] then accepts on it.
pub(super) async fn bind_tcp(
    local: SocketAddr,
    transport: &TransportLayer,
) -> Result<TcpListener, super::EdgeError> {
    let bind = |e| super::EdgeError::Bind { addr: local, source: e };
    let listener = TcpListener::bind(local).await.map_err(bind)?;
    let ours = SipAddr { r#type: Some(Transport::Tcp), addr: local.into() };
    // The stand-in: the stack takes our TCP address for the Via from its listeners. It
    // never carries anything (its channel's other ends are dropped).
    let (_, nothing) = rsipstack::platform::mpsc::unbounded_channel();
    let (nowhere, _) = rsipstack::platform::mpsc::unbounded_channel();
    let stand_in = ChannelConnection::create_connection(nothing, nowhere, ours, None)
        .await
        .map_err(super::sip_err)?;
    transport.add_transport(SipConnection::Channel(stand_in));
    Ok(listener)
}

/// Accepts TCP connections and bridges each to the stack, until `cancel`.
pub(super) fn serve_tcp(
    listener: TcpListener,
    endpoint: Arc<EndpointInner>,
    cancel: CancellationToken,
) {
    let open = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                () = cancel.cancelled() => break,
                accepted = listener.accept() => accepted,
            };
            let (stream, peer) = match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors, most likely: wait rather than spin.
                    warn!(error = %e, "SIP over TCP: accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            if open.load(Ordering::Relaxed) >= MAX_CONNECTIONS {
                counters().dropped.fetch_add(1, Ordering::Relaxed);
                let _ = note(peer, "too many TCP connections");
                continue;
            }
            open.fetch_add(1, Ordering::Relaxed);
            let (endpoint, open, cancel) = (endpoint.clone(), open.clone(), cancel.child_token());
            tokio::spawn(async move {
                let transport = &endpoint.transport_layer;
                if let Err(e) = serve_connection(stream, peer, transport, cancel).await {
                    debug!(%peer, error = %e, "SIP over TCP: connection ended");
                }
                open.fetch_sub(1, Ordering::Relaxed);
            });
        }
    });
}

/// One connection: reads, frames, checks and hands on; writes what the stack sends.
async fn serve_connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    transport: &TransportLayer,
    cancel: CancellationToken,
) -> std::io::Result<()> {
    let _ = stream.set_nodelay(true);
    let source = SipAddr { r#type: Some(Transport::Tcp), addr: peer.into() };
    let (to_stack, from_connection) = rsipstack::platform::mpsc::unbounded_channel();
    let (to_connection, mut from_stack) = rsipstack::platform::mpsc::unbounded_channel();
    let channel = ChannelConnection::create_connection(
        from_connection,
        to_connection,
        source.clone(),
        Some(cancel.clone()),
    )
    .await
    .map_err(|e| std::io::Error::other(e.to_string()))?;
    let connection = SipConnection::Channel(channel);
    transport.add_connection(connection.clone());

    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut chunk = vec![0u8; 16 * 1024];
    let result = loop {
        tokio::select! {
            () = cancel.cancelled() => break Ok(()),
            sent = from_stack.recv() => {
                // The stack's answers and requests to this peer.
                let Some(TransportEvent::Incoming(msg, _, _)) = sent else { continue };
                if let Err(e) = stream.write_all(msg.to_string().as_bytes()).await {
                    break Err(e);
                }
            }
            read = tokio::time::timeout(IDLE, stream.read(&mut chunk)) => {
                let n = match read {
                    Err(_) => break Ok(()),
                    Ok(Err(e)) => break Err(e),
                    Ok(Ok(0)) => break Ok(()),
                    Ok(Ok(n)) => n,
                };
                buf.extend_from_slice(&chunk[..n]);
                match take_messages(&mut buf, peer, &mut stream, &to_stack, &connection, &source).await {
                    Ok(true) => {}
                    Ok(false) => break Ok(()),
                    Err(e) => break Err(e),
                }
            }
        }
    };
    // The stack retires the channel when its reading end closes.
    cancel.cancel();
    drop(to_stack);
    let _ = stream.shutdown().await;
    result
}

/// Takes every whole message off the front of `buf`; false when the connection must close.
async fn take_messages(
    buf: &mut Vec<u8>,
    peer: SocketAddr,
    stream: &mut TcpStream,
    to_stack: &rsipstack::platform::mpsc::UnboundedSender<TransportEvent>,
    connection: &SipConnection,
    source: &SipAddr,
) -> std::io::Result<bool> {
    loop {
        match frame(buf) {
            Frame::Partial => return Ok(true),
            Frame::Blank(n) => {
                buf.drain(..n);
            }
            Frame::Ping(n) => {
                buf.drain(..n);
                stream.write_all(b"\r\n").await?;
            }
            Frame::TooLong => {
                counters().dropped.fetch_add(1, Ordering::Relaxed);
                let _ = note(peer, "a TCP message longer than 65,535 bytes");
                return Ok(false);
            }
            Frame::Unframeable(head_end) => {
                // Answer what can be answered (the check says 400 for a bad Content-Length),
                // then close: the next message's start is unknown.
                answer_or_drop(&buf[..head_end], peer, stream).await?;
                return Ok(false);
            }
            Frame::Message(n) => {
                let message: Vec<u8> = buf.drain(..n).collect();
                if matches!(check(&message), Verdict::Pass) {
                    hand_on(&message, peer, to_stack, connection, source);
                } else {
                    answer_or_drop(&message, peer, stream).await?;
                }
            }
        }
    }
}

/// Writes the front door's answer to a message that did not pass, or counts it dropped.
async fn answer_or_drop(
    message: &[u8],
    peer: SocketAddr,
    stream: &mut TcpStream,
) -> std::io::Result<()> {
    match check(message) {
        Verdict::Answer { code, why, response } => {
            if !note(peer, why) {
                // Past its share of answers: the connection is closed instead.
                counters().dropped.fetch_add(1, Ordering::Relaxed);
                return Err(std::io::Error::other("too many malformed messages"));
            }
            counters().answered.fetch_add(1, Ordering::Relaxed);
            debug!(%peer, code, why, "SIP request over TCP answered at the front door");
            stream.write_all(&response).await
        }
        Verdict::Drop { why } => {
            counters().dropped.fetch_add(1, Ordering::Relaxed);
            let _ = note(peer, why);
            Ok(())
        }
        Verdict::Pass => {
            counters().dropped.fetch_add(1, Ordering::Relaxed);
            let _ = note(peer, "a TCP message that cannot be framed");
            Ok(())
        }
    }
}

/// Parses a message that passed and gives it to the stack as received on `connection`.
fn hand_on(
    message: &[u8],
    peer: SocketAddr,
    to_stack: &rsipstack::platform::mpsc::UnboundedSender<TransportEvent>,
    connection: &SipConnection,
    source: &SipAddr,
) {
    let parsed = SipMessage::try_from(message).map_err(|e| e.to_string()).and_then(|msg| {
        SipConnection::update_msg_received(msg, peer, Transport::Tcp).map_err(|e| e.to_string())
    });
    match parsed {
        Ok(msg) => {
            let _ =
                to_stack.send(TransportEvent::Incoming(msg, connection.clone(), source.clone()));
        }
        Err(e) => {
            debug!(%peer, error = %e, "a SIP message over TCP that does not parse: dropped");
            counters().dropped.fetch_add(1, Ordering::Relaxed);
            let _ = note(peer, "unparsable");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_messages_pings_and_what_cannot_be_framed() {
        let msg = b"OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\nContent-Length: 3\r\n\r\nabc";
        assert_eq!(frame(msg), Frame::Message(msg.len()));
        assert_eq!(frame(&msg[..msg.len() - 1]), Frame::Partial);
        let mut two = msg.to_vec();
        two.extend_from_slice(msg);
        assert_eq!(frame(&two), Frame::Message(msg.len()));
        assert_eq!(frame(b"\r\n\r\nOPTIONS"), Frame::Ping(4));
        assert_eq!(frame(b"\r\n"), Frame::Partial);
        assert_eq!(frame(b"\r\nOPTIONS"), Frame::Blank(2));
        let no_length = b"BYE sip:a@b SIP/2.0\r\nVia: x\r\n\r\nBYE";
        assert_eq!(frame(no_length), Frame::Message(no_length.len() - 3));
        let compact = b"BYE sip:a@b SIP/2.0\r\nl: 2\r\n\r\nok";
        assert_eq!(frame(compact), Frame::Message(compact.len()));
        let negative = b"BYE sip:a@b SIP/2.0\r\nContent-Length: -5\r\n\r\n";
        assert_eq!(frame(negative), Frame::Unframeable(negative.len()));
        let huge = b"BYE sip:a@b SIP/2.0\r\nContent-Length: 99999999999\r\n\r\n";
        assert_eq!(frame(huge), Frame::TooLong);
        assert_eq!(frame(&vec![b'a'; MAX_MESSAGE + 1]), Frame::TooLong);
    }
}
