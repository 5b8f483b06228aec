//! `/api/stats`: who may read it, its validation, and figures that match the calls.

use reqwest::StatusCode;
use switchboard_core::call::EndReason;
use switchboard_core::entity::CallDirection;
use switchboard_store::NewCall;

use crate::app_test;
use crate::helpers::send;

app_test!(stats_by_role_validation_and_figures, |app| {
    let admin = app.admin().await;
    let (operator, op_id) = app.user(&admin, "op", "operator").await;
    let (supervisor, _) = app.user(&admin, "sup", "supervisor").await;
    let store = app.store();
    // 2026-11-24 10:00 UTC: one call answered after 8 s (60 s connected), one abandoned after
    // 12 s, one short abandon after 1 s.
    let t0: i64 = 1_795_514_400_000;
    let new = |from: &str, at: i64| NewCall {
        direction: CallDirection::Inbound,
        from_e164: from.into(),
        to_e164: "100".into(),
        queue_id: None,
        offered_at: at,
        id: None,
        origin: None,
        agent_id: None,
        task_id: None,
    };
    let a = store.create_call(new("+79160000001", t0)).await.unwrap();
    store.call_answered(&a.id, &op_id, t0 + 8_000).await.unwrap();
    store.call_ended(&a.id, t0 + 68_000, EndReason::CallerHangup, 0).await.unwrap();
    let b = store.create_call(new("+79160000002", t0 + 3_600_000)).await.unwrap();
    store.call_ended(&b.id, t0 + 3_612_000, EndReason::Abandoned, 0).await.unwrap();
    let c = store.create_call(new("+79160000003", t0 + 3_600_000)).await.unwrap();
    store.call_ended(&c.id, t0 + 3_601_000, EndReason::Abandoned, 0).await.unwrap();

    let url = |q: &str| app.url(&format!("/api/stats?from={}&to={}{q}", t0, t0 + 86_400_000));
    let (status, _) = send(operator.get(url(""))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "operators do not read the call center's statistics");
    for page in ["/dashboard", "/wallboard", "/api/wallboard/ws"] {
        let res = operator.get(app.url(page)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{page} refuses operators");
    }
    let res = supervisor.get(app.url("/dashboard")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let (status, err) = send(supervisor.get(url("&group=bogus"))).await;
    assert_eq!((status, err["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("group")));
    let (status, err) =
        send(supervisor.get(app.url(&format!("/api/stats?from={t0}&to={t0}")))).await;
    assert_eq!((status, err["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("to")));

    let (status, total) = send(supervisor.get(url(""))).await;
    assert_eq!(status, StatusCode::OK, "{total}");
    let m = &total["total"]["metrics"];
    assert_eq!(
        (
            m["offered"].as_i64(),
            m["answered"].as_i64(),
            m["abandoned"].as_i64(),
            m["short_abandoned"].as_i64()
        ),
        (Some(3), Some(1), Some(1), Some(1))
    );
    assert_eq!(m["asa_ms"], 8000.0);
    assert!((m["service_level"].as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-9);
    assert!(total["definitions"]["service_level"].as_str().unwrap().contains("offered"));
    let (_, hours) = send(supervisor.get(url("&group=interval&interval=hour"))).await;
    let keys: Vec<String> = hours["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(keys, vec![t0.to_string(), (t0 + 3_600_000).to_string()]);
    let (_, agents) = send(supervisor.get(url("&group=agent"))).await;
    let row = agents["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == op_id.as_str())
        .cloned()
        .unwrap();
    assert_eq!(
        (row["metrics"]["handled"].as_i64(), row["metrics"]["aht_ms"].as_f64()),
        (Some(1), Some(60_000.0))
    );
    // Without the summary: the same rows, no total and no callback figures.
    let (_, bare) = send(supervisor.get(url("&group=agent&summary=false"))).await;
    assert_eq!(bare["rows"], agents["rows"]);
    assert!(bare["total"].is_null() && bare["callbacks"].is_null(), "{bare}");
    assert!(agents["total"]["metrics"].is_object() && agents["callbacks"]["created"].is_i64());
});
