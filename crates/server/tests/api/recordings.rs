//! Who may hear which recording, the audit entries of listens, Range requests, and that no
//! request reaches a file outside the recordings root.

use reqwest::StatusCode;
use serde_json::json;
use switchboard_core::call::EndReason;
use switchboard_core::entity::CallDirection;
use switchboard_store::{AuditFilter, NewCall, PageRequest};

use crate::app_test;
use crate::helpers::{TestApp, body, send};

/// A finished call taken by `agent`, with a recording of `seconds` of 440 Hz on the left and
/// silence on the right at its place under the root.
async fn recorded_call(app: &TestApp, agent: &str, seconds: u32) -> String {
    let store = app.store();
    let call = store
        .create_call(NewCall {
            direction: CallDirection::Inbound,
            from_e164: "+79161234567".into(),
            to_e164: "100".into(),
            queue_id: None,
            offered_at: 1_700_000_000_000,
            id: None,
            origin: None,
            agent_id: None,
            task_id: None,
        })
        .await
        .unwrap();
    store.call_answered(&call.id, agent, 1_700_000_001_000).await.unwrap();
    store.call_ended(&call.id, 1_700_000_061_000, EndReason::CallerHangup, 0).await.unwrap();
    let relative = switchboard_core::recording::relative_path(&call.id, call.offered_at).unwrap();
    let path = app.recordings().join(&relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut wav = hound::WavWriter::create(&path, spec).unwrap();
    for i in 0..8000 * seconds {
        let t = f64::from(i) / 8000.0;
        wav.write_sample((10000.0 * (2.0 * std::f64::consts::PI * 440.0 * t).sin()) as i16)
            .unwrap();
        wav.write_sample(0i16).unwrap();
    }
    wav.finalize().unwrap();
    store.recording_started(&call.id, &relative, 1_700_000_001_000).await.unwrap();
    store
        .recording_finished(
            &call.id,
            i64::from(seconds) * 1000,
            i64::try_from(std::fs::metadata(&path).unwrap().len()).unwrap(),
        )
        .await
        .unwrap();
    call.id
}

app_test!(recordings_by_role_with_audit_and_range, |app| {
    let admin = app.admin().await;
    let (operator, op_id) = app.user(&admin, "op", "operator").await;
    let (other_op, other_id) = app.user(&admin, "op2", "operator").await;
    let (supervisor, sup_id) = app.user(&admin, "sup", "supervisor").await;
    let (manager, _) = app.user(&admin, "man", "manager").await;
    let (status, team) = send(
        admin.post(app.url("/api/teams")).json(&json!({"name": "Line 1", "supervisor_id": sup_id})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{team}");
    let (status, _) = send(
        admin.patch(app.url(&format!("/api/users/{op_id}"))).json(&json!({"team_id": team["id"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, contact) = send(
        admin
            .post(app.url("/api/contacts"))
            .json(&json!({"first_name": "Ivan", "phones": ["8 (916) 123-45-67"]})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let mine = recorded_call(app, &op_id, 1).await;
    let theirs = recorded_call(app, &other_id, 1).await;

    // Who may play what.
    let audio = |id: &str| app.url(&format!("/api/recordings/{id}/audio"));
    for (who, client, id, want) in [
        ("the operator, own call", &operator, &mine, StatusCode::OK),
        ("the operator, another's call", &operator, &theirs, StatusCode::FORBIDDEN),
        ("the other operator, own call", &other_op, &theirs, StatusCode::OK),
        ("the supervisor, their team's call", &supervisor, &mine, StatusCode::OK),
        ("the supervisor, a call outside the team", &supervisor, &theirs, StatusCode::FORBIDDEN),
        ("the manager", &manager, &theirs, StatusCode::OK),
        ("the admin", &admin, &mine, StatusCode::OK),
    ] {
        let res = client.get(audio(id)).send().await.unwrap();
        assert_eq!(res.status(), want, "{who}");
    }
    let res = app.client().get(audio(&mine)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "no session");
    // The lists follow the same scopes.
    for (who, client, expected) in [
        ("operator", &operator, vec![&mine]),
        ("supervisor", &supervisor, vec![&mine]),
        ("manager", &manager, vec![&theirs, &mine]),
    ] {
        let (status, page) = send(client.get(app.url("/api/recordings"))).await;
        assert_eq!(status, StatusCode::OK);
        let mut ids: Vec<&str> =
            page["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
        ids.sort_unstable();
        let mut want: Vec<&str> = expected.iter().map(|s| s.as_str()).collect();
        want.sort_unstable();
        assert_eq!(ids, want, "{who}'s list");
    }
    let (status, page) = send(manager.get(
        app.url("/api/recordings?number=8%20(916)%20123-45-67&min_duration_s=1&max_duration_s=2"),
    ))
    .await;
    assert_eq!((status, page["total"].as_i64()), (StatusCode::OK, Some(2)));
    let (status, err) = send(manager.get(app.url("/api/recordings?number=abc"))).await;
    assert_eq!((status, err["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("number")));

    // Every listen and download is audited; refusals leave no listen.
    let audit = |id: String| async move {
        app.store()
            .list_audit(
                &AuditFilter {
                    entity_id: Some(id),
                    action_prefix: Some("recording.".into()),
                    ..Default::default()
                },
                PageRequest::new(None, None),
            )
            .await
            .unwrap()
            .items
    };
    let on_mine = audit(mine.clone()).await;
    let listeners: Vec<_> = on_mine
        .iter()
        .filter(|a| a.action == "recording.play")
        .filter_map(|a| a.user_id.clone())
        .collect();
    assert_eq!(listeners.len(), 3, "operator, supervisor, admin: {on_mine:?}");
    assert!(listeners.contains(&op_id) && listeners.contains(&sup_id));
    let on_theirs = audit(theirs.clone()).await;
    assert!(
        on_theirs.iter().all(|a| a.user_id.as_deref() != Some(op_id.as_str())
            && a.user_id.as_deref() != Some(sup_id.as_str())),
        "{on_theirs:?}"
    );
    let res =
        operator.get(app.url(&format!("/api/recordings/{mine}/download"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    let res =
        operator.get(app.url(&format!("/api/recordings/{mine}/download"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        audit(mine.clone()).await.iter().filter(|a| a.action == "recording.download").count(),
        2,
        "each download is audited"
    );

    // Range requests return the right bytes.
    let file = std::fs::read(
        app.recordings()
            .join(switchboard_core::recording::relative_path(&mine, 1_700_000_000_000).unwrap()),
    )
    .unwrap();
    let len = file.len();
    for (range, start, end) in [
        ("bytes=0-43", 0, 43),
        ("bytes=1000-1999", 1000, 1999),
        ("bytes=-100", len - 100, len - 1),
        (&format!("bytes={}-", len - 10) as &str, len - 10, len - 1),
    ] {
        let res = operator.get(audio(&mine)).header("Range", range).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(
            res.headers()["content-range"].to_str().unwrap(),
            format!("bytes {start}-{end}/{len}")
        );
        assert_eq!(res.bytes().await.unwrap().as_ref(), &file[start..=end], "{range}");
    }
    let res =
        operator.get(audio(&mine)).header("Range", format!("bytes={len}-")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(res.headers()["content-range"].to_str().unwrap(), format!("bytes */{len}"));
    let (status, wave) =
        send(operator.get(app.url(&format!("/api/recordings/{mine}/waveform?points=20")))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(wave["left"].as_array().unwrap().len(), 20);
    assert!(wave["left"][10].as_u64().unwrap() > 250 && wave["right"][10] == 0, "{wave}");

    // The contact's timeline links the recordings each user may hear, and no others.
    let contact_id = contact["id"].as_str().unwrap();
    for (who, client, audible) in
        [("operator", &operator, vec![&mine]), ("manager", &manager, vec![&mine, &theirs])]
    {
        let (status, items) =
            send(client.get(app.url(&format!("/api/contacts/{contact_id}/timeline")))).await;
        assert_eq!(status, StatusCode::OK);
        let linked: Vec<&str> = items
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["recording_url"].is_string())
            .map(|i| i["id"].as_str().unwrap())
            .collect();
        assert_eq!(linked.len(), audible.len(), "{who}: {items}");
        assert!(audible.iter().all(|id| linked.contains(&id.as_str())), "{who}: {items}");
    }

    // Legal hold: supervisors and up, within their scope; audited.
    let hold = |client: &reqwest::Client, id: &str| {
        client
            .put(app.url(&format!("/api/recordings/{id}/legal-hold")))
            .json(&json!({"on": true}))
            .send()
    };
    assert_eq!(hold(&operator, &mine).await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(hold(&supervisor, &theirs).await.unwrap().status(), StatusCode::FORBIDDEN);
    let res = hold(&supervisor, &mine).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(body(res).await["legal_hold"], true);
    assert!(audit(mine.clone()).await.iter().any(|a| a.action == "recording.legal_hold"));
});

app_test!(recording_files_cannot_be_reached_by_path, |app| {
    let admin = app.admin().await;
    // A call whose stored path tries to leave the root (a tampered database row).
    let (_, me) = send(admin.get(app.url("/api/me"))).await;
    let me = me["id"].as_str().unwrap().to_owned();
    let id = recorded_call(app, &me, 1).await;
    std::fs::write(app.recordings().join("secret.txt"), b"top secret").unwrap();
    app.store().recording_started(&id, "../secret.txt", 0).await.unwrap();
    app.store().recording_finished(&id, 1000, 10).await.unwrap();
    let res = admin.get(app.url(&format!("/api/recordings/{id}/audio"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // Ids that are paths: nothing but 404s, never a file.
    for path in [
        "/api/recordings/..%2F..%2Fetc%2Fpasswd/audio",
        "/api/recordings/%2e%2e/audio",
        "/api/recordings/../../etc/passwd/audio",
        "/api/recordings/secret.txt/download",
    ] {
        let res = admin.get(app.url(path)).send().await.unwrap();
        assert!(
            matches!(res.status(), StatusCode::NOT_FOUND | StatusCode::BAD_REQUEST),
            "{path}: {}",
            res.status()
        );
        let text = res.text().await.unwrap();
        assert!(!text.contains("root:") && !text.contains("top secret"), "{path}");
    }
});

app_test!(retention_deletes_old_recordings_except_on_legal_hold, |app| {
    let admin = app.admin().await;
    let (_, me) = send(admin.get(app.url("/api/me"))).await;
    let me = me["id"].as_str().unwrap().to_owned();
    // Three recordings of calls offered at 1_700_000_000_000 (all equally old).
    let old = recorded_call(app, &me, 1).await;
    let held = recorded_call(app, &me, 1).await;
    let kept = recorded_call(app, &me, 1).await;
    let file = |id: &str| {
        app.recordings()
            .join(switchboard_core::recording::relative_path(id, 1_700_000_000_000).unwrap())
    };
    let res = admin
        .put(app.url(&format!("/api/recordings/{held}/legal-hold")))
        .json(&json!({"on": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let day = 86_400_000;
    // Thirty days later with 30-day retention: nothing is old enough yet.
    let purged = switchboard_server::recordings::purge_expired(
        app.store(),
        &app.recordings(),
        30,
        1_700_000_000_000 + 30 * day - 1,
    )
    .await
    .unwrap();
    assert_eq!(purged, 0);
    // Forty days later a 365-day rule deletes nothing, and 0 days means keep forever.
    assert_eq!(
        switchboard_server::recordings::purge_expired(
            app.store(),
            &app.recordings(),
            365,
            1_700_000_000_000 + 40 * day
        )
        .await
        .unwrap(),
        0
    );
    assert_eq!(
        switchboard_server::recordings::purge_expired(
            app.store(),
            &app.recordings(),
            0,
            1_700_000_000_000 + 4000 * day
        )
        .await
        .unwrap(),
        0,
        "0 days keeps everything"
    );
    // With `kept` on hold too, a 30-day rule deletes only `old`.
    let res = admin
        .put(app.url(&format!("/api/recordings/{kept}/legal-hold")))
        .json(&json!({"on": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let purged = switchboard_server::recordings::purge_expired(
        app.store(),
        &app.recordings(),
        30,
        1_700_000_000_000 + 40 * day,
    )
    .await
    .unwrap();
    assert_eq!(purged, 1, "only the recording without legal hold");
    assert!(!file(&old).exists() && file(&held).exists() && file(&kept).exists());
    let (_, call) = send(admin.get(app.url(&format!("/api/calls/{old}")))).await;
    assert_eq!(call["call"]["recording_purged_at"], 1_700_000_000_000 + 40 * day);
    let res = admin.get(app.url(&format!("/api/recordings/{old}/audio"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND, "a purged recording is gone");
    let audit = app
        .store()
        .list_audit(
            &AuditFilter {
                entity_id: Some(old.clone()),
                action_prefix: Some("recording.purge".into()),
                ..Default::default()
            },
            PageRequest::new(None, None),
        )
        .await
        .unwrap();
    assert_eq!(audit.items.len(), 1);
    assert_eq!(audit.items[0].user_id, None, "purged by the system");
    // Taking the hold off lets the next run delete it.
    let res = admin
        .put(app.url(&format!("/api/recordings/{held}/legal-hold")))
        .json(&json!({"on": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        switchboard_server::recordings::purge_expired(
            app.store(),
            &app.recordings(),
            30,
            1_700_000_000_000 + 41 * day
        )
        .await
        .unwrap(),
        1
    );
    assert!(!file(&held).exists() && file(&kept).exists());
});
