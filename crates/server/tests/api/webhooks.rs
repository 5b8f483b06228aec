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

app_test!(a_lead_left_overdue_escalates_and_is_told_by_webhook, |app| {
    let admin = app.admin().await;
    let (supervisor, sup_id) = app.user(&admin, "lead-sup", "supervisor").await;
    let (_, agent_id) = app.user(&admin, "lead-agent", "operator").await;
    let (_, team) = send(
        admin.post(app.url("/api/teams")).json(&json!({"name": "Окна", "supervisor_id": sup_id})),
    )
    .await;
    let (code, _) = send(
        admin
            .patch(app.url(&format!("/api/users/{agent_id}")))
            .json(&json!({"team_id": team["id"]})),
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    let (_, form) = send(admin.post(app.url("/api/lead-forms")).json(&json!({
        "name": "okna.example", "team_id": team["id"], "allowed_origins": ["*"]
    })))
    .await;
    let (url, got) = receiver(Arc::new(AtomicU16::new(200))).await;
    let (code, _) = send(
        admin.post(app.url("/api/webhooks")).json(&json!({"url": url, "events": ["task.overdue"]})),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED);
    let res = app
        .client()
        .post(app.url(&format!("/api/forms/{}/leads", form["token"].as_str().unwrap())))
        .json(&json!({"name": "Олег", "phone": "+79165550777"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let (_, leads) = send(admin.get(app.url("/api/leads"))).await;
    let task_id = leads["items"][0]["task_id"].as_str().unwrap().to_owned();
    let (_, task) = send(admin.get(app.url(&format!("/api/tasks/{task_id}")))).await;
    assert_eq!(
        (task["assignee_id"].as_str(), task["callback"].as_bool()),
        (Some(agent_id.as_str()), Some(true))
    );

    // Nobody called back within the 15 minutes: the escalation run tells the team's supervisor
    // and the webhook receiver.
    let later = task["due_at"].as_i64().unwrap() + 60_000;
    let policy = switchboard_core::callback::CallbackPolicy::default();
    let escalated =
        switchboard_server::callbacks::escalate_overdue(app.store(), &policy, later).await.unwrap();
    assert_eq!(escalated.len(), 1);
    assert_eq!(
        (escalated[0].task.id.as_str(), escalated[0].notified.as_slice()),
        (task_id.as_str(), std::slice::from_ref(&sup_id))
    );
    let (_, notes) = send(supervisor.get(app.url("/api/notifications?unread=true"))).await;
    assert!(
        notes
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "task_escalated" && n["task_id"] == task_id.as_str()),
        "{notes}"
    );
    wait_for(&got, 1).await;
    let (headers, body) = got.lock().unwrap()[0].clone();
    assert_eq!(headers["x-switchboard-event"], "task.overdue");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["data"]["id"], task_id.as_str());
    assert_eq!(body["data"]["escalated_to"], sup_id.as_str());
});
