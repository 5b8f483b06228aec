//! `/api/wallboard/ws`: the supervisors' real-time wallboard. Every agent's state with its
//! start (the page counts time in state), calls waiting and the oldest wait per queue, today's
//! figures per queue and in total (from the rollups, today in the call center's time zone),
//! and overdue callbacks. The socket polls the telephony side every 500 ms and the store every
//! two seconds, and sends a new board only when something changed, so a change shows within
//! a second.
//!
//! The same socket carries live listening: the page's WebRTC offer (one connection, made at
//! the first listen and kept while the page is open), and `listen` / `stop_listening`
//! commands. A supervisor may listen to the calls of their teams' agents, managers and admins
//! to any; the telephony side checks the call's agent against that scope and audits every
//! start, change of mode and stop.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use switchboard_core::Action;
use switchboard_core::stats::metrics;
use switchboard_store::{StatsFilter, StatsGroup};
use tokio::sync::{mpsc, oneshot};

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::CurrentUser;
use crate::telephony::{
    TelephonyHandle, TelephonyRequest, WallboardCommand, WallboardEvent, WallboardMessage,
};

/// Largest message a wallboard may send (an SDP offer is a few KiB).
const MAX_MESSAGE: usize = 64 * 1024;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/api/wallboard/ws", get(upgrade))
}

async fn upgrade(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    // The role first: a refused user learns nothing more, whatever the request looks like.
    user.require(Action::MonitorCalls)?;
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejection) => return Ok(rejection.into_response()),
    };
    if !super::console::same_origin(&headers) {
        return Err(ApiError::Forbidden("the WebSocket must be opened from this server's pages"));
    }
    let telephony = state
        .telephony()
        .cloned()
        .ok_or_else(|| ApiError::Unavailable("telephony is not running".into()))?;
    Ok(ws
        .max_message_size(MAX_MESSAGE)
        .on_upgrade(move |socket| serve(socket, state, user, telephony)))
}

/// Today's figures per queue and in total, overdue callbacks, and user and queue names.
async fn today(state: &AppState) -> Value {
    const DAY: i64 = 86_400_000;
    let offset = state.config().utc_offset_ms;
    let now = switchboard_store::now_ms();
    let from = (now + offset).div_euclid(DAY) * DAY - offset;
    let filter =
        StatsFilter { from, to: from + DAY, queue_id: None, agent_id: None, utc_offset_ms: offset };
    let store = state.store();
    let total = store
        .call_stats(&filter, StatsGroup::Total)
        .await
        .ok()
        .and_then(|r| r.into_iter().next())
        .map(|r| metrics(&r.counters));
    let queues: HashMap<String, Value> = store
        .call_stats(&filter, StatsGroup::Queue)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|r| (r.key, serde_json::to_value(metrics(&r.counters)).unwrap_or(Value::Null)))
        .collect();
    let names: HashMap<String, String> =
        store.list_users().await.unwrap_or_default().into_iter().map(|u| (u.id, u.name)).collect();
    let queue_names: HashMap<String, String> =
        store.list_queues().await.unwrap_or_default().into_iter().map(|q| (q.id, q.name)).collect();
    json!({
        "total": total,
        "queues": queues,
        "overdue_callbacks": store.overdue_callbacks(now).await.unwrap_or(0),
        "names": names,
        "queue_names": queue_names,
    })
}

fn next_board_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

async fn serve(socket: WebSocket, state: AppState, user: CurrentUser, telephony: TelephonyHandle) {
    let board_id = next_board_id();
    let user_id = user.id().to_owned();
    let (outbox, mut listening) = mpsc::unbounded_channel::<WallboardMessage>();
    let opened = WallboardEvent::Opened { outbox: outbox.clone() };
    if telephony
        .send(TelephonyRequest::Wallboard { user_id: user_id.clone(), board_id, event: opened })
        .is_err()
    {
        return;
    }
    let (mut sink, mut stream) = socket.split();
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let mut figures = Value::Null;
    let mut figures_at: Option<Instant> = None;
    let mut last = String::new();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            message = listening.recv() => {
                let Some(message) = message else { break };
                let Ok(text) = serde_json::to_string(&message) else { continue };
                if sink.send(Message::Text(text.into())).await.is_err() {
                    break;
                }
                continue;
            }
            frame = stream.next() => match frame {
                Some(Ok(Message::Text(text))) => {
                    match serde_json::from_str::<WallboardCommand>(&text) {
                        Ok(command) => {
                            let scope = match &command {
                                WallboardCommand::Listen { .. } => match super::recordings::scope(&state, &user).await {
                                    Ok(scope) => scope,
                                    Err(e) => {
                                        let _ = outbox.send(WallboardMessage::Error { message: e.to_string() });
                                        continue;
                                    }
                                },
                                _ => None,
                            };
                            let event = WallboardEvent::Command { command, scope };
                            if telephony.send(TelephonyRequest::Wallboard { user_id: user_id.clone(), board_id, event }).is_err() {
                                break;
                            }
                        }
                        Err(e) => {
                            let _ = outbox.send(WallboardMessage::Error { message: format!("bad message: {e}") });
                        }
                    }
                    continue;
                }
                Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                Some(Ok(_)) => continue,
            },
        }
        if figures_at.is_none_or(|at| at.elapsed() >= Duration::from_secs(2)) {
            figures = today(&state).await;
            figures_at = Some(Instant::now());
        }
        let (tx, rx) = oneshot::channel();
        if telephony.send(TelephonyRequest::Status { reply: tx }).is_err() {
            break;
        }
        let Ok(status) = rx.await else { break };
        let names = &figures["names"];
        let agents: Vec<Value> = status.agents.iter().map(|a| json!({"user_id": a.user_id, "name": names.get(&a.user_id).cloned().unwrap_or(Value::Null), "state": a.state})).collect();
        let queues: Vec<Value> = status
            .queues
            .iter()
            .map(|q| {
                json!({
                    "queue_id": q.queue_id,
                    "name": figures["queue_names"].get(&q.queue_id).cloned().unwrap_or(Value::Null),
                    "waiting": q.waiting,
                    "oldest_since": q.oldest_since,
                    "today": figures["queues"].get(&q.queue_id).cloned().unwrap_or(Value::Null),
                })
            })
            .collect();
        let board = json!({"type": "board", "agents": agents, "queues": queues, "today": figures["total"], "overdue_callbacks": figures["overdue_callbacks"]});
        let text = board.to_string();
        if text != last {
            if sink.send(Message::Text(text.clone().into())).await.is_err() {
                break;
            }
            last = text;
        }
    }
    let _ = telephony.send(TelephonyRequest::Wallboard {
        user_id,
        board_id,
        event: WallboardEvent::Closed,
    });
    let _ = sink.close().await;
}
