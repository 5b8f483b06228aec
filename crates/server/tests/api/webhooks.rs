//! Webhooks against a real receiver: signed events for what was subscribed, a receiver that
//! fails gets retried later, and an admin sends a delivery again.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::HeaderMap;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::app_test;
use crate::helpers::send;

/// What the receiver got: (headers, body).
type Got = Arc<Mutex<Vec<(HeaderMap, String)>>>;

/// A receiver on a free port answering with `status`; its URL and what it got.
async fn receiver(status: Arc<AtomicU16>) -> (String, Got) {
    let got: Got = Arc::default();
    let keep = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let (keep, status) = (keep.clone(), status.clone());
            async move {
                keep.lock().unwrap().push((headers, body));
                axum::http::StatusCode::from_u16(status.load(Ordering::SeqCst)).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, got)
}

/// Waits (up to 10 s) until the receiver has `n` requests.
async fn wait_for(got: &Got, n: usize) {
    for _ in 0..100 {
        if got.lock().unwrap().len() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the receiver got {} of {n} requests", got.lock().unwrap().len());
}

app_test!(webhooks_deliver_signed_events_retry_and_redeliver, |app| {
    let admin = app.admin().await;
    let status = Arc::new(AtomicU16::new(200));
    let (url, got) = receiver(status.clone()).await;
    let (code, err) = send(
        admin.post(app.url("/api/webhooks")).json(&json!({"url": url, "events": ["deal.sold"]})),
    )
    .await;
    assert_eq!(
        (code, err["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("events[0]"))
    );
    let (code, hook) = send(
        admin
            .post(app.url("/api/webhooks"))
            .json(&json!({"url": url, "events": ["lead.created", "deal.won"]})),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED, "{hook}");
    let secret = hook["secret"].as_str().unwrap().to_owned();

    // A lead: the receiver gets it, signed.
    let (code, lead) = send(
        admin.post(app.url("/api/leads")).json(&json!({"phone": "+79164440011", "name": "Анна"})),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED);
    wait_for(&got, 1).await;
    let (headers, body) = got.lock().unwrap()[0].clone();
    assert_eq!(headers["x-switchboard-event"], "lead.created");
    let timestamp: i64 = headers["x-switchboard-timestamp"].to_str().unwrap().parse().unwrap();
    assert_eq!(
        headers["x-switchboard-signature"].to_str().unwrap(),
        format!("sha256={}", switchboard_server::webhooks::signature(&secret, timestamp, &body))
    );
    // The signature, recomputed here from the documented recipe.
    {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{timestamp}.{body}").as_bytes());
        let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(headers["x-switchboard-signature"].to_str().unwrap(), format!("sha256={hex}"));
    }
    let event: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(event["data"]["id"], lead["id"]);
    assert_eq!(event["delivery_id"], headers["x-switchboard-delivery"].to_str().unwrap());

    // A task is not subscribed to: nothing. The receiver fails the won deal: retried later.
    let (code, _) =
        send(admin.post(app.url("/api/tasks")).json(&json!({"subject": "x", "kind": "todo"})))
            .await;
    assert_eq!(code, StatusCode::CREATED);
    status.store(500, Ordering::SeqCst);
    let deal_id = lead["deal_id"].as_str().unwrap();
    let (code, _) = send(admin.post(app.url(&format!("/api/deals/{deal_id}/won")))).await;
    assert_eq!(code, StatusCode::OK);
    wait_for(&got, 2).await;
    let hook_id = hook["id"].as_str().unwrap();
    let deliveries = || async {
        send(admin.get(app.url(&format!("/api/webhooks/{hook_id}/deliveries")))).await.1
    };
    let mut failed = Value::Null;
    for _ in 0..50 {
        failed = deliveries().await["items"][0].clone();
        if failed["attempts"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        (failed["event"].as_str(), failed["status"].as_str(), failed["last_status"].as_i64()),
        (Some("deal.won"), Some("pending"), Some(500)),
        "{failed}"
    );
    assert!(failed["next_at"].as_i64().unwrap() > switchboard_store::now_ms() + 5_000, "later");
    assert_eq!(deliveries().await["total"], 2, "the task raised nothing: {}", deliveries().await);

    // The receiver is back; the admin sends it again at once.
    status.store(200, Ordering::SeqCst);
    let id = failed["id"].as_str().unwrap();
    let (code, _) =
        send(admin.post(app.url(&format!("/api/webhook-deliveries/{id}/redeliver")))).await;
    assert_eq!(code, StatusCode::OK);
    wait_for(&got, 3).await;
    assert_eq!(got.lock().unwrap()[2].0["x-switchboard-delivery"], id);
    for _ in 0..50 {
        if deliveries().await["items"][0]["status"] == "delivered" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(deliveries().await["items"][0]["status"], "delivered");
    // Finished deliveries are forgotten after their time; none here is that old yet.
    assert_eq!(
        app.store().prune_deliveries(switchboard_store::now_ms() - 60_000).await.unwrap(),
        0
    );
    assert_eq!(app.store().prune_deliveries(switchboard_store::now_ms() + 1).await.unwrap(), 2);
    assert_eq!(deliveries().await["total"], 0);
});
