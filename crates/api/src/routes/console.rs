//! `/api/agent/ws`: the agent console's WebSocket. It carries the softphone's signalling
//! (the browser's WebRTC offer and candidates), the agent's call commands, and the live
//! events of the agent's state and calls.
//!
//! Who the agent is comes from the session cookie of the upgrade request, never from a
//! message. Each socket gets an id; the telephony side sends every new socket a snapshot
//! (state, softphone, the call ringing or connected with its card), which is how a console
//! resumes after a reconnect.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::http::header::{HOST, ORIGIN};
use axum::response::Response;
use axum::routing::get;
use futures_util::{SinkExt, StreamExt};
use switchboard_core::Action;
use tokio::sync::mpsc;
use tracing::debug;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::CurrentUser;
use crate::telephony::{AgentMessage, ConsoleCommand, TelephonyRequest};

/// Largest message a console may send (an SDP offer is a few KiB).
const MAX_MESSAGE: usize = 64 * 1024;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/api/agent/ws", get(upgrade))
}

async fn upgrade(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> ApiResult<Response> {
    user.require(Action::TakeCalls)?;
    // A page of another site may not open an agent's socket with the agent's cookie.
    if !same_origin(&headers) {
        return Err(ApiError::Forbidden("the WebSocket must be opened from this server's pages"));
    }
    let telephony = state
        .telephony()
        .cloned()
        .ok_or_else(|| ApiError::Unavailable("telephony is not running".into()))?;
    let user_id = user.id().to_owned();
    // Console messages are small: small buffers keep an idle agent's socket cheap (the
    // defaults are 128 KiB each way).
    Ok(ws
        .max_message_size(MAX_MESSAGE)
        .read_buffer_size(8 * 1024)
        .write_buffer_size(8 * 1024)
        .on_upgrade(move |socket| serve(socket, user_id, telephony)))
}

/// True when the request has no `Origin` (not a browser) or its host is the `Host` asked for.
pub(crate) fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(ORIGIN).and_then(|v| v.to_str().ok()) else { return true };
    let origin_host =
        origin.split_once("://").map_or(origin, |(_, rest)| rest).trim_end_matches('/');
    headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|host| host.eq_ignore_ascii_case(origin_host))
}

fn next_console_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

async fn serve(socket: WebSocket, user_id: String, telephony: crate::telephony::TelephonyHandle) {
    let console_id = next_console_id();
    let (outbox, mut messages) = mpsc::unbounded_channel::<AgentMessage>();
    if telephony
        .send(TelephonyRequest::ConsoleOpened {
            user_id: user_id.clone(),
            console_id,
            outbox: outbox.clone(),
        })
        .is_err()
    {
        return;
    }
    let (mut sink, mut stream) = socket.split();
    let writer = tokio::spawn(async move {
        while let Some(message) = messages.recv().await {
            let Ok(text) = serde_json::to_string(&message) else { continue };
            if sink.send(Message::Text(text.into())).await.is_err() {
                break;
            }
        }
        let _ = sink.close().await;
    });
    while let Some(Ok(frame)) = stream.next().await {
        let text = match frame {
            Message::Text(t) => t,
            Message::Close(_) => break,
            _ => continue,
        };
        match serde_json::from_str::<ConsoleCommand>(&text) {
            Ok(command) => {
                if telephony
                    .send(TelephonyRequest::Console {
                        user_id: user_id.clone(),
                        console_id,
                        command,
                    })
                    .is_err()
                {
                    break;
                }
            }
            Err(e) => {
                let _ = outbox.send(AgentMessage::Error { message: format!("bad message: {e}") });
            }
        }
    }
    debug!(user_id, console_id, "console closed");
    let _ = telephony.send(TelephonyRequest::ConsoleClosed { user_id, console_id });
    drop(outbox);
    writer.abort();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(HOST, host.parse().unwrap_or_else(|_| unreachable!()));
        if let Some(o) = origin {
            h.insert(ORIGIN, o.parse().unwrap_or_else(|_| unreachable!()));
        }
        h
    }

    #[test]
    fn only_our_own_pages_may_open_the_socket() {
        assert!(same_origin(&headers(Some("http://127.0.0.1:8080"), "127.0.0.1:8080")));
        assert!(same_origin(&headers(Some("https://crm.example.ru"), "crm.example.ru")));
        assert!(same_origin(&headers(None, "127.0.0.1:8080")));
        assert!(!same_origin(&headers(Some("https://evil.example"), "crm.example.ru")));
        assert!(!same_origin(&headers(Some("http://127.0.0.1:9999"), "127.0.0.1:8080")));
    }
}
