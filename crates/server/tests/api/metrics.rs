//! `GET /metrics`: the Prometheus text format with the figures an operator watches, readable
//! from the allowed addresses (loopback by default) or with the token, and from nowhere else.

use reqwest::StatusCode;
use switchboard_server::settings::Secret;

use crate::helpers::TestApp;

/// The value of the first sample of `name` (with `labels` in its label set) in a scrape.
fn sample(text: &str, name: &str, labels: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find(|l| {
            l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']) && l.contains(labels)
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

async fn scrape(app: &TestApp, token: Option<&str>) -> (StatusCode, String) {
    let mut req = app.client().get(app.url("/metrics"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

#[tokio::test]
async fn metrics_from_loopback_carry_the_figures() {
    let app = TestApp::spawn(switchboard_store::Backend::Sqlite).await;
    // Some traffic first: a refused login and a page.
    let _ = app
        .client()
        .post(app.url("/api/auth/login"))
        .json(&serde_json::json!({"login": "x", "password": "y"}))
        .send()
        .await
        .unwrap();
    let admin = app.admin().await;
    let _ = admin.get(app.url("/api/contacts")).send().await.unwrap();
    let (status, text) = scrape(&app, None).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(
        sample(&text, "switchboard_http_requests_total", "status=\"401\"")
            .is_some_and(|v| v >= 1.0),
        "{text}"
    );
    assert!(
        sample(&text, "switchboard_http_requests_total", "status=\"200\"")
            .is_some_and(|v| v >= 1.0),
        "{text}"
    );
    assert!(
        sample(&text, "switchboard_http_request_seconds_bucket", "le=\"0.005\"").is_some(),
        "latency is a histogram: {text}"
    );
    assert!(
        sample(&text, "switchboard_store_query_seconds_count", "").is_some_and(|v| v >= 1.0),
        "{text}"
    );
    assert_eq!(sample(&text, "switchboard_calls_in_progress", ""), Some(0.0), "{text}");
    assert!(sample(&text, "switchboard_agents", "state=\"available\"").is_some(), "{text}");
    for name in [
        "switchboard_relay_packets_in_total",
        "switchboard_relay_dropped_total",
        "switchboard_recorder_dropped_frames_total",
    ] {
        assert!(sample(&text, name, "").is_some(), "{name} missing: {text}");
    }
    app.finish().await;
}

#[tokio::test]
async fn metrics_elsewhere_need_the_token() {
    let app = TestApp::spawn_with(switchboard_store::Backend::Sqlite, |s| {
        s.metrics.allow = vec!["10.0.0.0/8".into()];
        s.metrics.token = Secret::new("scrape-token-1");
    })
    .await;
    assert_eq!(scrape(&app, None).await.0, StatusCode::FORBIDDEN);
    assert_eq!(scrape(&app, Some("wrong")).await.0, StatusCode::FORBIDDEN);
    let (status, text) = scrape(&app, Some("scrape-token-1")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(text.contains("switchboard_http_requests_total"), "{text}");
    app.finish().await;

    let off =
        TestApp::spawn_with(switchboard_store::Backend::Sqlite, |s| s.metrics.enabled = false)
            .await;
    assert_eq!(scrape(&off, None).await.0, StatusCode::NOT_FOUND);
    off.finish().await;
}
