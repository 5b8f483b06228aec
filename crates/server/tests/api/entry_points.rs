//! Entry points over the API: a flow is checked before it is stored (dangling branches,
//! unknown queues and prompts, loops without a key, numbers taken), every version is in the
//! audit log, and a link broken later is shown.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::app_test;
use crate::helpers::{TestApp, send};

async fn queue(app: &TestApp, admin: &reqwest::Client, name: &str, number: &str) -> String {
    let (status, q) =
        send(admin.post(app.url("/api/queues")).json(&json!({"name": name, "number": number})))
            .await;
    assert_eq!(status, StatusCode::CREATED, "{q}");
    q["id"].as_str().unwrap().to_owned()
}

fn menu(sales: &str, support: &str, prompt: &str) -> Value {
    json!({
        "start": "notice",
        "nodes": {
            "notice": {"type": "play", "prompts": ["builtin:recording_notice"], "next": "menu"},
            "menu": {"type": "menu", "prompts": [prompt], "choices": {"1": "sales", "2": "support"}, "on_fail": "sales"},
            "sales": {"type": "queue", "queue_id": sales},
            "support": {"type": "queue", "queue_id": support}
        }
    })
}

app_test!(flows_are_checked_versioned_and_broken_links_shown, |app| {
    let admin = app.admin().await;
    let sales = queue(app, &admin, "Sales", "101").await;
    let support = queue(app, &admin, "Support", "102").await;
    let (status, prompt) = send(admin.post(app.url("/api/prompts/speech")).json(&json!({
        "name": "Меню", "language": "ru", "text": "Нажмите один или два."
    })))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{prompt}");
    let prompt = prompt["id"].as_str().unwrap().to_owned();

    let body = json!({"name": "Main", "numbers": ["200"], "flow": menu(&sales, &support, &prompt)});
    let (status, created) = send(admin.post(app.url("/api/entry-points")).json(&body)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["language"], "ru");
    assert_eq!(created["answer"], "answer");
    assert_eq!(created["numbers"], json!(["200"]));
    assert_eq!(created["problems"], json!([]));
    let id = created["id"].as_str().unwrap().to_owned();

    // Refused, each naming where.
    let refused = |(status, body): (StatusCode, Value), field: &str| {
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["field"], field, "{body}");
    };
    let mut dangling = menu(&sales, &support, &prompt);
    dangling["nodes"]["menu"]["choices"]["3"] = json!("nowhere");
    let send_flow = |name: &str, numbers: Value, flow: Value| {
        admin
            .post(app.url("/api/entry-points"))
            .json(&json!({"name": name, "numbers": numbers, "flow": flow}))
    };
    refused(send(send_flow("a", json!([]), dangling)).await, "flow.nodes.menu.choices.3");
    refused(
        send(send_flow("b", json!([]), menu("no-such-queue", &support, &prompt))).await,
        "flow.nodes.sales.queue_id",
    );
    refused(
        send(send_flow("c", json!([]), menu(&sales, &support, "no-such-prompt"))).await,
        "flow.nodes.menu.prompts",
    );
    let looping = json!({"start": "a", "nodes": {
        "a": {"type": "play", "prompts": ["builtin:greeting"], "next": "b"},
        "b": {"type": "menu", "prompts": ["builtin:greeting"], "choices": {"1": "q"}, "on_fail": "a"},
        "q": {"type": "queue", "queue_id": sales}}});
    let (status, body) = send(send_flow("d", json!([]), looping)).await;
    refused((status, body.clone()), "flow.nodes.a");
    assert!(body["message"].as_str().unwrap().contains("a -> b -> a"), "{body}");
    refused(send(send_flow("e", json!(["200"]), menu(&sales, &support, &prompt))).await, "numbers");
    refused(send(send_flow("f", json!(["101"]), menu(&sales, &support, &prompt))).await, "numbers");
    let (status, _) = send(send_flow("Main", json!([]), menu(&sales, &support, &prompt))).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, body) =
        send(admin.post(app.url("/api/entry-points")).json(
            &json!({"name": "g", "flow": {"start": "a", "nodes": {"a": {"type": "dance"}}}}),
        ))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    // A new version: both are in the log with their flows.
    let mut second = menu(&sales, &support, &prompt);
    second["nodes"]["menu"]["choices"]["0"] = json!("sales");
    let (status, updated) =
        send(admin.put(app.url(&format!("/api/entry-points/{id}"))).json(&json!({
            "name": "Main", "numbers": ["200", "201"], "answer": "early", "flow": second
        })))
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["answer"], "early");
    let (_, versions) = send(admin.get(app.url(&format!("/api/entry-points/{id}/versions")))).await;
    let versions = versions.as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0]["action"], "entry_point.update");
    assert_eq!(versions[0]["detail"]["flow"]["nodes"]["menu"]["choices"]["0"], "sales");
    assert!(versions[1]["detail"]["flow"]["nodes"]["menu"]["choices"].get("0").is_none());

    // The prompt is deleted later: the flow still loads, and the broken link is shown.
    let (status, _) = send(admin.delete(app.url(&format!("/api/prompts/{prompt}")))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, list) = send(admin.get(app.url("/api/entry-points"))).await;
    assert_eq!(list[0]["problems"][0]["field"], "nodes.menu.prompts", "{list}");

    let (operator, _) = app.user(&admin, "op", "operator").await;
    assert_eq!(send(operator.get(app.url("/api/entry-points"))).await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        send(operator.delete(app.url(&format!("/api/entry-points/{id}")))).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, _) = send(admin.delete(app.url(&format!("/api/entry-points/{id}")))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, list) = send(admin.get(app.url("/api/entry-points"))).await;
    assert_eq!(list, json!([]));
});

app_test!(a_queue_waiting_sound_and_announcements_are_checked, |app| {
    let admin = app.admin().await;
    let q = |body: Value| admin.post(app.url("/api/queues")).json(&body);
    let (status, body) = send(q(json!({"name": "a", "waiting_sound": "nope"}))).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("waiting_sound"))
    );
    let (status, body) = send(q(json!({"name": "a", "announce_every_s": 5}))).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("announce_every_s"))
    );
    let (status, body) = send(q(json!({"name": "a", "language": "de"}))).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("language"))
    );
    let (status, created) =
        send(q(json!({"name": "a", "waiting_sound": "music", "announce_every_s": 30}))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(
        (
            created["waiting_sound"].as_str(),
            created["announce_every_s"].as_i64(),
            created["language"].as_str()
        ),
        (Some("music"), Some(30), Some("ru"))
    );
    let id = created["id"].as_str().unwrap();
    let (status, changed) = send(
        admin
            .patch(app.url(&format!("/api/queues/{id}")))
            .json(&json!({"waiting_sound": null, "language": "en"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(
        (changed["waiting_sound"].clone(), changed["announce_every_s"].as_i64()),
        (Value::Null, Some(30))
    );
});
