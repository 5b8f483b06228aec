//! `/api/callbacks`: the work queue by role, and assignment in bulk with its refusals.

use reqwest::StatusCode;
use serde_json::{Value, json};
use switchboard_core::call::EndReason;
use switchboard_core::callback::CallbackPolicy;
use switchboard_core::entity::CallDirection;
use switchboard_store::{MissedCall, NewCall};

use crate::app_test;
use crate::helpers::{TestApp, send};

/// A missed call from `number` to `queue`, and the callback it makes.
async fn missed(app: &TestApp, queue: &str, number: &str, reason: EndReason) -> String {
    let store = app.store();
    let call = store
        .create_call(NewCall {
            direction: CallDirection::Inbound,
            from_e164: number.into(),
            to_e164: "100".into(),
            queue_id: Some(queue.into()),
            offered_at: 1_000,
            id: None,
            origin: None,
            agent_id: None,
            task_id: None,
        })
        .await
        .unwrap();
    store.call_ended(&call.id, 2_000, reason, 0).await.unwrap();
    let policy = CallbackPolicy { due_after_ms: 60_000, escalate_after_ms: 0 };
    let missed = MissedCall {
        call_id: call.id,
        e164: number.into(),
        queue_id: Some(queue.into()),
        at: 2_000,
        reason,
        not_before: None,
    };
    store.callback_for_missed(&policy, &missed).await.unwrap().id
}

fn ids(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect()
}

app_test!(callbacks_work_queue_by_role_and_bulk_assignment, |app| {
    let admin = app.admin().await;
    let (operator, op_id) = app.user(&admin, "op", "operator").await;
    let (_, mate_id) = app.user(&admin, "mate", "operator").await;
    let (_, stranger_id) = app.user(&admin, "stranger", "operator").await;
    let (supervisor, sup_id) = app.user(&admin, "sup", "supervisor").await;
    let (status, team) = send(
        admin.post(app.url("/api/teams")).json(&json!({"name": "Line 1", "supervisor_id": sup_id})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{team}");
    for member in [&op_id, &mate_id] {
        let (status, _) = send(
            admin
                .patch(app.url(&format!("/api/users/{member}")))
                .json(&json!({"team_id": team["id"]})),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, queue) = send(
        admin
            .post(app.url("/api/queues"))
            .json(&json!({"name": "support", "number": "100", "members": [op_id]})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{queue}");
    let queue = queue["id"].as_str().unwrap().to_owned();
    let mut tasks = Vec::new();
    for i in 0..11 {
        let reason = if i == 0 { EndReason::CallbackRequested } else { EndReason::Abandoned };
        tasks.push(missed(app, &queue, &format!("+7916111{i:04}"), reason).await);
    }

    // The operator's list: their queue's eleven, with what each is.
    let (status, list) =
        send(operator.get(app.url("/api/callbacks?sort=waiting&per_page=50"))).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["total"], 11);
    let request =
        list["items"].as_array().unwrap().iter().find(|i| i["id"] == tasks[0].as_str()).unwrap();
    assert_eq!(
        (request["source"].as_str(), request["queue_name"].as_str(), request["attempts"].as_i64()),
        (Some("request"), Some("support"), Some(0))
    );
    let (_, requests) = send(operator.get(app.url("/api/callbacks?source=request"))).await;
    assert_eq!(ids(&requests), [tasks[0].clone()]);
    let (status, bad) = send(operator.get(app.url("/api/callbacks?status=later"))).await;
    assert_eq!((status, bad["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("status")));

    // The supervisor hands ten to the mate in one request.
    let ten = &tasks[1..];
    let (status, assigned) = send(
        supervisor
            .post(app.url("/api/callbacks/assign"))
            .json(&json!({"task_ids": ten, "assignee_id": mate_id})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{assigned}");
    assert_eq!(assigned.as_array().unwrap().len(), 10);
    let (_, audit) = send(admin.get(app.url("/api/audit?action=task.assign&per_page=50"))).await;
    assert_eq!(audit["total"], 10, "{audit}");
    let (_, mates) =
        send(supervisor.get(app.url(&format!("/api/callbacks?assignee_id={mate_id}")))).await;
    assert_eq!(mates["total"], 10);
    assert_eq!(mates["items"][0]["assignee_name"], "mate");

    // Refusals: outside the supervisor's team, an operator handing out work, an unknown id.
    let (status, _) = send(
        supervisor
            .post(app.url("/api/callbacks/assign"))
            .json(&json!({"task_ids": [tasks[0]], "assignee_id": stranger_id})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the stranger is in no team of theirs");
    let (status, _) = send(
        operator
            .post(app.url("/api/callbacks/assign"))
            .json(&json!({"task_ids": [tasks[0]], "assignee_id": mate_id})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "an operator only takes callbacks for themselves");
    let (status, _) = send(
        operator
            .post(app.url("/api/callbacks/assign"))
            .json(&json!({"task_ids": [tasks[1]], "assignee_id": op_id})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "not the mate's to take");
    let (status, err) = send(
        supervisor
            .post(app.url("/api/callbacks/assign"))
            .json(&json!({"task_ids": ["nope"], "assignee_id": mate_id})),
    )
    .await;
    assert_eq!(
        (status, err["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("task_ids[0]"))
    );
    let (status, _) = send(
        supervisor
            .post(app.url("/api/callbacks/assign"))
            .json(&json!({"task_ids": [], "assignee_id": null})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // The operator takes the one left in their queue, then closes it with a result.
    let (status, taken) = send(
        operator
            .post(app.url("/api/callbacks/assign"))
            .json(&json!({"task_ids": [tasks[0]], "assignee_id": op_id})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{taken}");
    let (status, _) = send(
        operator
            .post(app.url(&format!("/api/tasks/{}/complete", tasks[0])))
            .json(&json!({"result": "reached"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, done) = send(operator.get(app.url("/api/callbacks?status=done"))).await;
    assert_eq!(ids(&done), [tasks[0].clone()]);
    assert_eq!(done["items"][0]["result"], "reached");
});
