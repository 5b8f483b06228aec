//! `GET /metrics`: the Prometheus text format, for the operator's monitoring (not for users:
//! no session; allowed from the configured addresses, loopback by default, or with the
//! configured bearer token).
//!
//! Counters and histograms are recorded where things happen (HTTP requests here, store
//! queries in the store, ended calls in the call log); what is a state rather than an event
//! (calls in progress, agents per state, queue waits, the relay's and the recorder's
//! process-wide counters) is read from the switch when the page is scraped.

use std::net::IpAddr;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::extract::ClientAddress;

/// Who may read `/metrics`, and the recorder to render.
#[derive(Clone)]
pub struct MetricsAccess {
    /// The installed Prometheus recorder.
    pub handle: metrics_exporter_prometheus::PrometheusHandle,
    /// Client addresses allowed without a token.
    pub allow: Vec<switchboard_core::net::IpBlock>,
    /// A bearer token that is allowed from anywhere (empty: none).
    pub token: String,
}

impl std::fmt::Debug for MetricsAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token is a secret: never printed.
        f.debug_struct("MetricsAccess")
            .field("allow", &self.allow)
            .field("token", &if self.token.is_empty() { "none" } else { "set" })
            .finish()
    }
}

impl MetricsAccess {
    fn allows(&self, address: Option<IpAddr>, headers: &HeaderMap) -> bool {
        if address.is_some_and(|ip| self.allow.iter().any(|block| block.contains(ip))) {
            return true;
        }
        let given = headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        // Compared as hashes, so the time taken says nothing about the token.
        !self.token.is_empty()
            && given.is_some_and(|g| {
                Sha256::digest(g.as_bytes()) == Sha256::digest(self.token.as_bytes())
            })
    }
}

/// The scrape.
pub(crate) async fn serve(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
) -> Response {
    let Some(access) = state.metrics() else { return StatusCode::NOT_FOUND.into_response() };
    if !access.allows(address, &headers) {
        return (StatusCode::FORBIDDEN, "metrics: not from this address without the token\n")
            .into_response();
    }
    if let Ok(status) =
        super::telephony::ask(&state, |reply| crate::telephony::TelephonyRequest::Status { reply })
            .await
    {
        metrics::gauge!("switchboard_calls_in_progress").set(status.active_calls as f64);
        let mut agents: std::collections::BTreeMap<String, u32> =
            ["offline", "available", "ringing", "on_call", "wrap_up", "paused"]
                .iter()
                .map(|s| ((*s).to_owned(), 0))
                .collect();
        for agent in &status.agents {
            *agents.entry(agent.state.name().to_owned()).or_default() += 1;
        }
        for (agent_state, n) in agents {
            metrics::gauge!("switchboard_agents", "state" => agent_state).set(f64::from(n));
        }
        for queue in &status.queues {
            metrics::gauge!("switchboard_queue_waiting", "queue" => queue.queue_id.clone())
                .set(queue.waiting as f64);
        }
        metrics::counter!("switchboard_relay_packets_in_total").absolute(status.relay.packets_in);
        metrics::counter!("switchboard_relay_packets_out_total").absolute(status.relay.packets_out);
        metrics::counter!("switchboard_relay_dropped_total").absolute(status.relay.dropped);
        metrics::counter!("switchboard_relay_not_sent_total").absolute(status.relay.not_sent);
        metrics::counter!("switchboard_sip_malformed_total", "outcome" => "answered")
            .absolute(status.sip.answered);
        metrics::counter!("switchboard_sip_malformed_total", "outcome" => "dropped")
            .absolute(status.sip.dropped);
        metrics::counter!("switchboard_sip_large_total").absolute(status.sip.large);
        let t = &status.sip.tables;
        for (table, n) in [
            ("transactions", t.transactions),
            ("finished_transactions", t.finished_transactions),
            ("waiting_ack", t.waiting_ack),
            ("dialogs", t.dialogs),
            ("connections", t.connections),
            ("calls", t.calls),
            ("outbound", t.outbound),
            ("nonces", t.nonces),
        ] {
            metrics::gauge!("switchboard_sip_table_entries", "table" => table).set(n as f64);
        }
        metrics::counter!("switchboard_recorder_frames_total").absolute(status.recording.frames);
        metrics::counter!("switchboard_recorder_dropped_frames_total")
            .absolute(status.recording.dropped_frames);
        metrics::counter!("switchboard_recorder_errors_total").absolute(status.recording.errors);
        metrics::gauge!("switchboard_recordings_open").set(status.recording.files_open as f64);
        for kind in ["recording_failed", "recordings_disk_low", "database_unavailable"] {
            let on = status.alerts.iter().any(|a| a.kind == kind);
            metrics::gauge!("switchboard_alert", "kind" => kind).set(if on { 1.0 } else { 0.0 });
        }
    }
    ([(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], access.handle.render())
        .into_response()
}

/// Counts every HTTP request by status and method and times it. Labels come from small
/// fixed sets (never the path), so no request can make a new series.
pub(crate) async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method: &'static str = match request.method().as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    };
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("switchboard_http_requests_total", "status" => status, "method" => method)
        .increment(1);
    metrics::histogram!("switchboard_http_request_seconds").record(started.elapsed().as_secs_f64());
    response
}
