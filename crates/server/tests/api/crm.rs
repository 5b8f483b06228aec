//! Companies, deals, tasks, notes, timeline and teams through the API.

use reqwest::StatusCode;
use serde_json::json;

use crate::app_test;
use crate::helpers::send;

app_test!(deal_lifecycle_and_timeline, |app| {
    let admin = app.admin().await;
    let (_, me) = send(admin.get(app.url("/api/me"))).await;
    let (status, company) = send(
        admin
            .post(app.url("/api/companies"))
            .json(&json!({"name": "ООО Ромашка", "tax_id": "7701234567"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, contact) = send(admin.post(app.url("/api/contacts")).json(
        &json!({"first_name": "Пётр", "company_id": company["id"], "phones": ["+79035550011"]}),
    ))
    .await;
    let (_, stages) = send(admin.get(app.url("/api/pipeline/stages"))).await;
    let stages = stages.as_array().unwrap().clone();
    let (status, deal) = send(admin.post(app.url("/api/deals")).json(&json!({"title": "Поставка", "contact_id": contact["id"], "company_id": company["id"], "amount": 150000.5}))).await;
    assert_eq!(status, StatusCode::CREATED, "{deal}");
    assert_eq!(
        (deal["amount_minor"].as_i64(), deal["stage_id"].clone()),
        (Some(15_000_050), stages[0]["id"].clone())
    );
    let id = deal["id"].as_str().unwrap();
    let (status, moved) = send(
        admin
            .post(app.url(&format!("/api/deals/{id}/stage")))
            .json(&json!({"stage_id": stages[1]["id"]})),
    )
    .await;
    assert_eq!((status, moved["stage_id"].clone()), (StatusCode::OK, stages[1]["id"].clone()));
    let (status, err) = send(
        admin.post(app.url(&format!("/api/deals/{id}/stage"))).json(&json!({"stage_id": "nope"})),
    )
    .await;
    assert_eq!(
        (status, err["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("stage_id"))
    );
    let (status, err) =
        send(admin.post(app.url(&format!("/api/deals/{id}/lost"))).json(&json!({"reason": "  "})))
            .await;
    assert_eq!((status, err["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("reason")));
    let (status, lost) = send(
        admin
            .post(app.url(&format!("/api/deals/{id}/lost")))
            .json(&json!({"reason": "дорого", "competitor": "Васильки"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (lost["status"].as_str(), lost["loss_reason"].as_str(), lost["competitor"].as_str()),
        (Some("lost"), Some("дорого"), Some("Васильки"))
    );
    let (status, _) = send(admin.post(app.url(&format!("/api/deals/{id}/reopen")))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, won) = send(admin.post(app.url(&format!("/api/deals/{id}/won")))).await;
    assert_eq!((status, won["status"].as_str()), (StatusCode::OK, Some("won")));
    let (_, history) = send(admin.get(app.url(&format!("/api/deals/{id}/history")))).await;
    let history = history.as_array().unwrap();
    assert_eq!(history.len(), 5, "created, moved, lost, reopened, won");
    assert!(
        history
            .iter()
            .all(|h| h["changed_by"] == me["id"] && h["changed_at"].as_i64().unwrap() > 0)
    );
    let (_, by_status) = send(admin.get(app.url("/api/deals?status=won"))).await;
    assert_eq!(by_status["total"], 1);
    let (status, err) = send(admin.get(app.url("/api/deals?status=maybe"))).await;
    assert_eq!((status, err["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("status")));

    let cid = contact["id"].as_str().unwrap();
    let (status, _) = send(
        admin
            .post(app.url("/api/notes"))
            .json(&json!({"body": "Просил перезвонить после обеда", "contact_id": cid})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = send(admin.post(app.url("/api/tasks")).json(&json!({"kind": "call", "subject": "Перезвонить", "contact_id": cid, "due_at": 1_900_000_000_000i64}))).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, timeline) = send(admin.get(app.url(&format!("/api/contacts/{cid}/timeline")))).await;
    let kinds: Vec<&str> =
        timeline.as_array().unwrap().iter().map(|t| t["kind"].as_str().unwrap()).collect();
    for want in ["note", "task", "deal", "deal_change"] {
        assert!(kinds.contains(&want), "{want} not in {kinds:?}");
    }
    let (_, tasks) = send(admin.get(app.url("/api/tasks?assignee_id=me&status=open"))).await;
    assert_eq!(tasks["total"], 1);
});

app_test!(teams_have_supervisors, |app| {
    let admin = app.admin().await;
    let (_, sup_id) = app.user(&admin, "lead", "supervisor").await;
    let (_, op_id) = app.user(&admin, "agent", "operator").await;
    let (status, err) = send(
        admin.post(app.url("/api/teams")).json(&json!({"name": "Продажи", "supervisor_id": op_id})),
    )
    .await;
    assert_eq!(
        (status, err["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("supervisor_id"))
    );
    let (status, team) = send(
        admin
            .post(app.url("/api/teams"))
            .json(&json!({"name": "Продажи", "supervisor_id": sup_id})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, user) = send(
        admin.patch(app.url(&format!("/api/users/{op_id}"))).json(&json!({"team_id": team["id"]})),
    )
    .await;
    assert_eq!((status, user["team_id"].clone()), (StatusCode::OK, team["id"].clone()));
    let (status, _) =
        send(admin.post(app.url("/api/teams")).json(&json!({"name": "Продажи"}))).await;
    assert_eq!(status, StatusCode::CONFLICT);
    // An admin cannot lock themselves out.
    let (_, me) = send(admin.get(app.url("/api/me"))).await;
    let (status, _) = send(
        admin
            .patch(app.url(&format!("/api/users/{}", me["id"].as_str().unwrap())))
            .json(&json!({"role": "operator"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
});
