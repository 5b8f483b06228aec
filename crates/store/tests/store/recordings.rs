//! Recordings: retention, legal hold, who may hear them.

use super::*;

both_backends!(recordings_retention_hold_and_scope, |db| {
    let store = &db.store;
    let sup = user(store, Role::Supervisor, None).await;
    let team = store
        .create_team(
            &Actor::system(),
            NewTeam { name: "Line 2".into(), supervisor_id: Some(sup.clone()) },
        )
        .await
        .unwrap();
    let op = user(store, Role::Operator, Some(team.id.clone())).await;
    let other = user(store, Role::Operator, None).await;
    let day = 86_400_000;
    let mut ids = Vec::new();
    for (i, agent) in [&op, &op, &other].iter().enumerate() {
        let at = i64::try_from(i).unwrap() * day;
        let call = store.create_call(inbound("+79160000009", at, None)).await.unwrap();
        store.call_answered(&call.id, agent, at + 1000).await.unwrap();
        store.call_ended(&call.id, at + 61_000, EndReason::CallerHangup, 0).await.unwrap();
        store
            .recording_started(&call.id, &format!("1970/01/0{}/{}.wav", i + 1, call.id), at + 1000)
            .await
            .unwrap();
        ids.push(call.id);
    }
    // One is still unfinished (as after a crash); the others get their length.
    store.recording_finished(&ids[0], 60_000, 960_044).await.unwrap();
    store.recording_finished(&ids[2], 30_000, 480_044).await.unwrap();
    let unfinished = store.unfinished_recordings().await.unwrap();
    assert_eq!(
        unfinished.iter().map(|r| r.call_id.as_str()).collect::<Vec<_>>(),
        vec![ids[1].as_str()]
    );
    store.recording_finished(&ids[1], 45_000, 720_044).await.unwrap();
    let call = store.get_call(&ids[0]).await.unwrap();
    assert!(
        call.recorded
            && call.recording_duration_ms == Some(60_000)
            && call.recording_size == Some(960_044)
    );
    // Scope: the supervisor sees the team (and themselves), the operator their own.
    let team_agents = store.supervised_agents(&sup).await.unwrap();
    assert!(
        team_agents.contains(&op) && team_agents.contains(&sup) && !team_agents.contains(&other)
    );
    let search = |f: RecordingFilter| async move {
        store
            .search_recordings(&f, PageRequest::new(None, None))
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|c| c.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        search(RecordingFilter {
            agents_in_scope: Some(team_agents.clone()),
            ..Default::default()
        })
        .await,
        vec![ids[1].clone(), ids[0].clone()]
    );
    assert_eq!(
        search(RecordingFilter {
            agents_in_scope: Some(vec![other.clone()]),
            ..Default::default()
        })
        .await,
        vec![ids[2].clone()]
    );
    assert_eq!(
        search(RecordingFilter { min_duration_ms: Some(40_000), ..Default::default() }).await,
        vec![ids[1].clone(), ids[0].clone()]
    );
    assert_eq!(
        search(RecordingFilter { from: Some(day), to: Some(2 * day), ..Default::default() }).await,
        vec![ids[1].clone()]
    );
    assert_eq!(
        search(RecordingFilter {
            number: Some("+79160000009".into()),
            agent_id: Some(other.clone()),
            ..Default::default()
        })
        .await,
        vec![ids[2].clone()]
    );
    assert!(
        search(RecordingFilter { agents_in_scope: Some(vec![]), ..Default::default() })
            .await
            .is_empty()
    );
    // Retention: the first two are older than the cutoff; one of them is on legal hold.
    store.set_legal_hold(&Actor::user(sup.clone()), &ids[0], true).await.unwrap();
    let expired = store.expired_recordings(2 * day, 10).await.unwrap();
    assert_eq!(
        expired.iter().map(|r| r.call_id.as_str()).collect::<Vec<_>>(),
        vec![ids[1].as_str()]
    );
    assert!(store.recording_purged(&ids[1], 5 * day, json!({})).await.unwrap());
    assert!(
        !store.recording_purged(&ids[0], 5 * day, json!({})).await.unwrap(),
        "a call on legal hold is not purged"
    );
    assert_eq!(store.get_call(&ids[1]).await.unwrap().recording_purged_at, Some(5 * day));
    assert_eq!(store.recording_path(&ids[1]).await.unwrap(), None);
    assert!(store.recording_path(&ids[0]).await.unwrap().is_some());
    assert!(
        store.expired_recordings(10 * day, 10).await.unwrap().iter().all(|r| r.call_id == ids[2])
    );
    // A failed recording no longer claims a file.
    store.recording_failed(&ids[2], 0, "disk full").await.unwrap();
    assert!(!store.get_call(&ids[2]).await.unwrap().recorded);
    store.set_call_wrapup(&ids[0], 12_345).await.unwrap();
    assert_eq!(store.get_call(&ids[0]).await.unwrap().wrapup_ms, Some(12_345));
});
