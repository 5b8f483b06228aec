//! The webhook delivery loop: every half second it sends the deliveries that are due (at most
//! eight at a time, each with a 10 s timeout), signed with the webhook's key, and records the
//! outcome; a failed one is tried again after 10 s, 1 min, 5 min, 30 min and 2 h, then given
//! up (an admin can send it again). Finished deliveries are forgotten after 30 days. A receiver that is down only ever delays its own
//! deliveries: requests that raise events just add a row.
//!
//! Each POST carries `X-Switchboard-Event`, `X-Switchboard-Delivery` (the receiver's
//! idempotency key), `X-Switchboard-Timestamp` (Unix seconds) and `X-Switchboard-Signature:
//! sha256=<hex of HMAC-SHA256(key, "<timestamp>.<body>")>`.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use switchboard_store::webhooks::DueDelivery;
use switchboard_store::{Store, now_ms};
use tokio::sync::Semaphore;
use tracing::warn;

/// Seconds to wait after each failed attempt; after the last, the delivery is given up.
const BACKOFF_S: &[i64] = &[10, 60, 300, 1800, 7200];
/// Deliveries in flight at once.
const IN_FLIGHT: usize = 8;
/// Finished deliveries are kept this long in the log, then forgotten (checked hourly).
const KEEP_MS: i64 = 30 * 24 * 3_600_000;

/// The signature of `body` sent at `timestamp` (Unix seconds), as hex.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    // HMAC takes a key of any length, so this never fails.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// Sends due deliveries every `every`, until aborted.
pub async fn delivery_loop(store: Store, every: Duration) {
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(client) => client,
        Err(e) => {
            warn!(error = %e, "webhooks are off: no HTTP client");
            return;
        }
    };
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    let sending: Arc<Mutex<HashSet<String>>> = Arc::default();
    let mut tick = tokio::time::interval(every.max(Duration::from_millis(100)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut pruned_at = std::time::Instant::now();
    loop {
        tick.tick().await;
        if pruned_at.elapsed() >= Duration::from_secs(3600) {
            pruned_at = std::time::Instant::now();
            if let Err(e) = store.prune_deliveries(now_ms() - KEEP_MS).await {
                warn!(error = %e, "cannot forget old webhook deliveries");
            }
        }
        let due = match store.due_deliveries(now_ms(), 50).await {
            Ok(due) => due,
            Err(e) => {
                warn!(error = %e, "cannot read due webhook deliveries");
                continue;
            }
        };
        for due in due {
            let Ok(slot) = slots.clone().try_acquire_owned() else { break };
            let id = due.delivery.id.clone();
            {
                let mut sending = sending.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                if !sending.insert(id.clone()) {
                    continue;
                }
            }
            let (store, client, sending) = (store.clone(), client.clone(), sending.clone());
            tokio::spawn(async move {
                send(&store, &client, due).await;
                sending.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&id);
                drop(slot);
            });
        }
    }
}

async fn send(store: &Store, client: &reqwest::Client, due: DueDelivery) {
    let d = &due.delivery;
    let timestamp = now_ms() / 1000;
    let result = client
        .post(&due.url)
        .header("content-type", "application/json")
        .header("x-switchboard-event", &d.event)
        .header("x-switchboard-delivery", &d.id)
        .header("x-switchboard-timestamp", timestamp.to_string())
        .header(
            "x-switchboard-signature",
            format!("sha256={}", signature(&due.secret, timestamp, &d.payload)),
        )
        .body(d.payload.clone())
        .send()
        .await;
    let (delivered, status, error) = match result {
        Ok(response) if response.status().is_success() => {
            (true, Some(i64::from(response.status().as_u16())), None)
        }
        Ok(response) => (
            false,
            Some(i64::from(response.status().as_u16())),
            Some(format!("the receiver answered {}", response.status())),
        ),
        Err(e) => (false, None, Some(e.to_string())),
    };
    let next_at = if delivered {
        None
    } else {
        let attempt = usize::try_from(d.attempts).unwrap_or(usize::MAX);
        BACKOFF_S.get(attempt).map(|s| now_ms() + s * 1000)
    };
    metrics::counter!("switchboard_webhook_deliveries_total", "ok" => if delivered { "true" } else { "false" })
        .increment(1);
    if let Err(e) = store.delivery_done(&d.id, delivered, status, error, next_at).await {
        warn!(error = %e, delivery = d.id, "cannot record a webhook delivery");
    }
}
