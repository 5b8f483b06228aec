//! The permission matrix of docs/ARCHITECTURE.md, each role allowed and refused.

use reqwest::{Client, StatusCode};
use serde_json::json;

use crate::app_test;
use crate::helpers::{TestApp, send};

async fn contact_owned_by(app: &TestApp, client: &Client, phone: &str) -> String {
    let (status, c) = send(
        client
            .post(app.url("/api/contacts"))
            .json(&json!({"first_name": "Owned", "phones": [phone]})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{c}");
    c["id"].as_str().unwrap().to_owned()
}

app_test!(matrix, |app| {
    let admin = app.admin().await;
    let (operator, operator_id) = app.user(&admin, "op", "operator").await;
    let (supervisor, _) = app.user(&admin, "sup", "supervisor").await;
    let (manager, _) = app.user(&admin, "man", "manager").await;
    let roles: [(&str, &Client); 4] = [
        ("operator", &operator),
        ("supervisor", &supervisor),
        ("manager", &manager),
        ("admin", &admin),
    ];

    // Everyone reads and creates; the creator owns what they create.
    for (i, (role, client)) in roles.iter().enumerate() {
        let (status, list) = send(client.get(app.url("/api/contacts"))).await;
        assert_eq!(status, StatusCode::OK, "{role} lists contacts");
        assert!(list["total"].is_number());
        let id = contact_owned_by(app, client, &format!("+7916000000{i}")).await;
        let (status, _) = send(
            client.patch(app.url(&format!("/api/contacts/{id}"))).json(&json!({"position": "CEO"})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{role} edits own contact");
        let (status, _) = send(client.get(app.url("/api/users"))).await;
        assert_eq!(status, StatusCode::OK, "{role} reads users");
    }

    // Editing someone else's record: supervisor and up.
    let admins_contact = contact_owned_by(app, &admin, "+79160000099").await;
    for (role, client) in roles {
        let (status, _) = send(
            client
                .patch(app.url(&format!("/api/contacts/{admins_contact}")))
                .json(&json!({"last_name": role})),
        )
        .await;
        let want = if role == "operator" { StatusCode::FORBIDDEN } else { StatusCode::OK };
        assert_eq!(status, want, "{role} edits someone else's contact");
    }
    // An operator cannot hand their contact to someone else, nor create one for someone else.
    let ops_contact = contact_owned_by(app, &operator, "+79160000098").await;
    let (status, _) = send(
        operator
            .patch(app.url(&format!("/api/contacts/{ops_contact}")))
            .json(&json!({"owner_id": null})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, me) = send(admin.get(app.url("/api/me"))).await;
    let (status, _) = send(
        operator
            .post(app.url("/api/contacts"))
            .json(&json!({"first_name": "X", "owner_id": me["id"]})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A supervisor may reassign it to the operator's colleague (here: back to the operator).
    let (status, _) = send(
        supervisor
            .patch(app.url(&format!("/api/contacts/{admins_contact}")))
            .json(&json!({"owner_id": operator_id})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // ... after which the operator may edit it: assigned records are editable.
    let (status, _) = send(
        operator
            .patch(app.url(&format!("/api/contacts/{admins_contact}")))
            .json(&json!({"first_name": "Mine now"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // Deleting: manager and admin.
    for (i, (role, client)) in roles.iter().enumerate() {
        let id = contact_owned_by(app, client, &format!("+7916000010{i}")).await;
        let (status, _) = send(client.delete(app.url(&format!("/api/contacts/{id}")))).await;
        let want = if matches!(*role, "manager" | "admin") {
            StatusCode::NO_CONTENT
        } else {
            StatusCode::FORBIDDEN
        };
        assert_eq!(status, want, "{role} deletes a contact");
    }

    // Settings and users: admin only. Audit: manager and admin.
    for (i, (role, client)) in roles.iter().enumerate() {
        let is_admin = *role == "admin";
        let (status, _) = send(
            client
                .post(app.url("/api/users"))
                .json(&json!({"login": format!("new{i}"), "name": "N", "role": "operator"})),
        )
        .await;
        assert_eq!(status == StatusCode::CREATED, is_admin, "{role} creates a user: {status}");
        let (status, _) = send(client.post(app.url("/api/custom-fields")).json(&json!({"entity": "contact", "key": format!("f{i}"), "label": "F", "field_type": "text"}))).await;
        assert_eq!(
            status == StatusCode::CREATED,
            is_admin,
            "{role} defines a custom field: {status}"
        );
        let (status, _) = send(
            client
                .post(app.url("/api/pipeline/stages"))
                .json(&json!({"name": format!("Stage {i}")})),
        )
        .await;
        assert_eq!(status == StatusCode::CREATED, is_admin, "{role} adds a stage: {status}");
        let (status, _) =
            send(client.post(app.url("/api/teams")).json(&json!({"name": format!("Team {i}")})))
                .await;
        assert_eq!(status == StatusCode::CREATED, is_admin, "{role} creates a team: {status}");
        let (status, _) = send(client.get(app.url("/api/audit"))).await;
        assert_eq!(
            status == StatusCode::OK,
            matches!(*role, "manager" | "admin"),
            "{role} reads the audit log: {status}"
        );
    }
    // Refusals are 403 with the JSON error shape.
    let (status, err) =
        send(operator.delete(app.url(&format!("/api/contacts/{ops_contact}")))).await;
    assert_eq!((status, err["error"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")));

    // Tasks: an operator edits tasks assigned to them, not others'.
    let (status, task) = send(
        admin
            .post(app.url("/api/tasks"))
            .json(&json!({"subject": "Перезвонить", "kind": "call", "assignee_id": operator_id})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, done) = send(
        operator
            .post(app.url(&format!("/api/tasks/{}/complete", task["id"].as_str().unwrap())))
            .json(&json!({"result": "договорились"})),
    )
    .await;
    assert_eq!((status, done["status"].as_str()), (StatusCode::OK, Some("done")));
    let (_, admins_task) =
        send(admin.post(app.url("/api/tasks")).json(&json!({"subject": "Admin's"}))).await;
    let (status, _) = send(
        operator
            .patch(app.url(&format!("/api/tasks/{}", admins_task["id"].as_str().unwrap())))
            .json(&json!({"subject": "mine"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Every write is in the audit log with who did it.
    let (_, audit) =
        send(manager.get(app.url(&format!("/api/audit?user_id={operator_id}&per_page=500")))).await;
    let actions: Vec<&str> =
        audit["items"].as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap()).collect();
    for want in ["contact.create", "contact.update", "task.done", "session.login"] {
        assert!(actions.contains(&want), "{want} not in {actions:?}");
    }
});

app_test!(telephony_matrix, |app| {
    let admin = app.admin().await;
    let (operator, operator_id) = app.user(&admin, "op", "operator").await;
    let (supervisor, _) = app.user(&admin, "sup", "supervisor").await;
    let (manager, _) = app.user(&admin, "man", "manager").await;
    let roles: [(&str, &Client); 4] = [
        ("operator", &operator),
        ("supervisor", &supervisor),
        ("manager", &manager),
        ("admin", &admin),
    ];
    for (i, (role, client)) in roles.iter().enumerate() {
        // Queues and agents' phones: admins only.
        let (status, _) = send(
            client
                .post(app.url("/api/queues"))
                .json(&json!({"name": format!("q{i}"), "number": format!("10{i}")})),
        )
        .await;
        let want = if *role == "admin" { StatusCode::CREATED } else { StatusCode::FORBIDDEN };
        assert_eq!(status, want, "{role} creates a queue");
        let (status, _) = send(
            client
                .put(app.url(&format!("/api/users/{operator_id}/sip")))
                .json(&json!({"uri": "sip:op@127.0.0.1:5070"})),
        )
        .await;
        let want = if *role == "admin" { StatusCode::OK } else { StatusCode::FORBIDDEN };
        assert_eq!(status, want, "{role} sets an agent's phone");
        // Live status and every call: supervisors and up.
        let (status, _) = send(client.get(app.url("/api/telephony/status"))).await;
        let want = if *role == "operator" { StatusCode::FORBIDDEN } else { StatusCode::OK };
        assert_eq!(status, want, "{role} reads the telephony status");
        // Everyone reads queues, their own state and the calls they may see.
        for path in ["/api/queues", "/api/agent/state", "/api/calls"] {
            let (status, _) = send(client.get(app.url(path))).await;
            assert_eq!(status, StatusCode::OK, "{role} GET {path}");
        }
    }
    // The operator reads their own phone; not someone else's.
    let (status, own) = send(operator.get(app.url(&format!("/api/users/{operator_id}/sip")))).await;
    assert_eq!((status, own["uri"].as_str()), (StatusCode::OK, Some("sip:op@127.0.0.1:5070")));
    let (_, me) = send(admin.get(app.url("/api/me"))).await;
    let (status, _) =
        send(operator.get(app.url(&format!("/api/users/{}/sip", me["id"].as_str().unwrap()))))
            .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Bad input names the field.
    let (status, body) = send(
        admin
            .put(app.url(&format!("/api/users/{operator_id}/sip")))
            .json(&json!({"uri": "http://x"})),
    )
    .await;
    assert_eq!((status, body["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("uri")));
    let (status, body) = send(
        admin
            .put(app.url(&format!("/api/users/{operator_id}/sip")))
            .json(&json!({"extension": "101", "password": "short"})),
    )
    .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("password"))
    );
    let (status, body) =
        send(operator.put(app.url("/api/agent/state")).json(&json!({"state": "paused"}))).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("reason"))
    );
    let (status, body) =
        send(admin.post(app.url("/api/queues")).json(&json!({"name": "x", "ring_timeout_ms": 5})))
            .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("ring_timeout_ms"))
    );
    // A queue number is unique.
    let (status, body) =
        send(admin.post(app.url("/api/queues")).json(&json!({"name": "again", "number": "103"})))
            .await;
    assert_eq!((status, body["field"].as_str()), (StatusCode::CONFLICT, Some("number")));
    // Going available works once the agent is in a queue with a phone.
    let (_, queues) = send(admin.get(app.url("/api/queues"))).await;
    let q = queues[0]["id"].as_str().unwrap();
    let (status, _) = send(
        admin.patch(app.url(&format!("/api/queues/{q}"))).json(&json!({"members": [operator_id]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, state) =
        send(operator.put(app.url("/api/agent/state")).json(&json!({"state": "available"}))).await;
    assert_eq!((status, state["state"].as_str()), (StatusCode::OK, Some("available")), "{state}");
    let (status, state) = send(
        operator
            .put(app.url("/api/agent/state"))
            .json(&json!({"state": "paused", "reason": "обед"})),
    )
    .await;
    assert_eq!((status, state["reason"].as_str()), (StatusCode::OK, Some("обед")));
});

// The after-call form: an operator who just talked with a caller fills in the caller's
// details on a contact someone else owns; the owner stays theirs, and an operator who had no
// such call is still refused.
app_test!(the_agent_on_the_call_fills_in_the_callers_details, |app| {
    let admin = app.admin().await;
    let (talker, talker_id) = app.user(&admin, "talker", "operator").await;
    let (other, _) = app.user(&admin, "other", "operator").await;
    let contact = contact_owned_by(app, &admin, "+79160000077").await;
    let now = switchboard_store::now_ms();
    let call = app
        .store()
        .create_call(switchboard_store::NewCall {
            direction: switchboard_core::entity::CallDirection::Inbound,
            from_e164: "+79160000077".into(),
            to_e164: "100".into(),
            queue_id: None,
            offered_at: now - 60_000,
            id: None,
            origin: None,
            agent_id: Some(talker_id.clone()),
            task_id: None,
        })
        .await
        .unwrap();
    assert_eq!(call.contact_id.as_deref(), Some(contact.as_str()), "the number is the contact's");
    let url = app.url(&format!("/api/contacts/{contact}"));
    let details =
        json!({"last_name": "Сидорова", "first_name": "Анна", "emails": ["anna@example.ru"]});
    let (status, _) = send(other.patch(&url).json(&details)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no call with this caller");
    let (status, saved) = send(talker.patch(&url).json(&details)).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["last_name"], "Сидорова");
    let (status, _) = send(talker.patch(&url).json(&json!({"owner_id": talker_id}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the owner is not the agent's to change");
});
