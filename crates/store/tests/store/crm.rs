//! Deals, tasks, notes, the audit log, users and sessions, concurrent writers.

use super::*;

both_backends!(deals_record_stage_changes, |db| {
    let store = &db.store;
    let user = admin(store).await;
    let actor = Actor::user(user.clone());
    let stages = store.list_stages().await.unwrap();
    assert!(stages.len() >= 3);
    let c = store.create_contact(&actor, contact("D", "D", &["+79168880000"], &[])).await.unwrap();
    let deal = store
        .create_deal(
            &actor,
            NewDeal {
                title: "Кондиционер".into(),
                contact_id: Some(c.id.clone()),
                amount_minor: Some(1_500_000),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(deal.stage_id, stages[0].id);
    assert_eq!(deal.currency, "RUB");
    let moved = store.move_deal(&actor, &deal.id, &stages[2].id).await.unwrap();
    assert_eq!(moved.stage_id, stages[2].id);
    assert!(matches!(
        store.set_deal_status(&actor, &deal.id, DealStatus::Lost, None, None).await,
        Err(StoreError::Invalid { .. })
    ));
    let lost = store
        .set_deal_status(
            &actor,
            &deal.id,
            DealStatus::Lost,
            Some("price".into()),
            Some("Рога и копыта".into()),
        )
        .await
        .unwrap();
    assert_eq!(
        (lost.status, lost.loss_reason.as_deref(), lost.competitor.as_deref()),
        (DealStatus::Lost, Some("price"), Some("Рога и копыта"))
    );
    assert!(lost.closed_at.is_some());
    assert!(matches!(
        store.move_deal(&actor, &deal.id, &stages[1].id).await,
        Err(StoreError::Conflict(_))
    ));
    let history = store.deal_history(&deal.id).await.unwrap();
    assert_eq!(history.len(), 3);
    assert_eq!(history[1].from_stage_id.as_deref(), Some(stages[0].id.as_str()));
    assert_eq!(history[2].to_status, DealStatus::Lost);
    assert!(history.iter().all(|h| h.changed_by.as_deref() == Some(user.as_str())));
    let open = store
        .list_deals(
            &DealFilter { status: Some(DealStatus::Open), ..Default::default() },
            PageRequest::new(None, None),
        )
        .await
        .unwrap();
    assert_eq!(open.total, 0);
    assert!(matches!(
        store.delete_stage(&actor, &stages[2].id).await,
        Err(StoreError::Conflict(_))
    ));
    let timeline = store.contact_timeline(&c.id, 50).await.unwrap();
    assert!(timeline.iter().any(|t| t.kind == "deal"));
    assert!(timeline.iter().any(|t| t.kind == "deal_change"));
});

both_backends!(tasks_notes_and_audit, |db| {
    let store = &db.store;
    let user = admin(store).await;
    let actor = Actor::user(user.clone());
    let c = store.create_contact(&actor, contact("T", "T", &["+79169990000"], &[])).await.unwrap();
    let task = store
        .create_task(
            &actor,
            NewTask {
                kind: TaskKind::Call,
                subject: "Перезвонить".into(),
                description: None,
                due_at: Some(1_000),
                assignee_id: Some(user.clone()),
                contact_id: Some(c.id.clone()),
                deal_id: None,
                callback_e164: None,
            },
        )
        .await
        .unwrap();
    let done = store
        .complete_task(&actor, &task.id, TaskStatus::Done, Some("договорились".into()))
        .await
        .unwrap();
    assert_eq!(done.status, TaskStatus::Done);
    assert!(matches!(
        store.complete_task(&actor, &task.id, TaskStatus::Done, None).await,
        Err(StoreError::Conflict(_))
    ));
    store
        .create_note(
            &actor,
            NewNote {
                body: "Звонил насчёт доставки".into(),
                contact_id: Some(c.id.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let timeline = store.contact_timeline(&c.id, 50).await.unwrap();
    let kinds: Vec<_> = timeline.iter().map(|t| t.kind.as_str()).collect();
    assert!(kinds.contains(&"note") && kinds.contains(&"task"), "{kinds:?}");
    let audit = store
        .list_audit(
            &AuditFilter { user_id: Some(user.clone()), ..Default::default() },
            PageRequest::new(None, None),
        )
        .await
        .unwrap();
    let actions: Vec<_> = audit.items.iter().map(|a| a.action.as_str()).collect();
    for want in ["contact.create", "task.create", "task.done", "note.create"] {
        assert!(actions.contains(&want), "{want} missing from {actions:?}");
    }
    assert!(matches!(
        store.create_note(&actor, NewNote { body: "x".into(), ..Default::default() }).await,
        Err(StoreError::Invalid { .. })
    ));
});

both_backends!(users_teams_sessions_tokens, |db| {
    let store = &db.store;
    let actor = Actor::system();
    let sup = store
        .create_user(
            &actor,
            NewUser {
                login: "sup".into(),
                name: "Sup".into(),
                role: Role::Supervisor,
                password_hash: "h".into(),
                team_id: None,
            },
        )
        .await
        .unwrap();
    let op = store
        .create_user(
            &actor,
            NewUser {
                login: "op".into(),
                name: "Op".into(),
                role: Role::Operator,
                password_hash: "h".into(),
                team_id: None,
            },
        )
        .await
        .unwrap();
    let dup = store
        .create_user(
            &actor,
            NewUser {
                login: "op".into(),
                name: "Op2".into(),
                role: Role::Operator,
                password_hash: "h".into(),
                team_id: None,
            },
        )
        .await;
    assert!(matches!(dup, Err(StoreError::Duplicate { ref field, .. }) if field == "login"));
    assert!(matches!(
        store
            .create_team(&actor, NewTeam { name: "T".into(), supervisor_id: Some(op.id.clone()) })
            .await,
        Err(StoreError::Invalid { .. })
    ));
    let team = store
        .create_team(
            &actor,
            NewTeam { name: "Продажи".into(), supervisor_id: Some(sup.id.clone()) },
        )
        .await
        .unwrap();
    store
        .update_user(
            &actor,
            &op.id,
            UserChanges { team_id: Some(Some(team.id.clone())), ..Default::default() },
        )
        .await
        .unwrap();
    assert_eq!(store.supervisor_of(&op.id).await.unwrap(), Some(sup.id.clone()));

    store.create_session(&op.id, "hash1", switchboard_store::now_ms() + 60_000).await.unwrap();
    assert_eq!(store.user_for_session("hash1").await.unwrap().unwrap().id, op.id);
    store.create_session(&op.id, "expired", switchboard_store::now_ms() - 1).await.unwrap();
    assert!(store.user_for_session("expired").await.unwrap().is_none());
    let token = store
        .create_api_token(&Actor::user(op.id.clone()), &op.id, "crm sync", "thash")
        .await
        .unwrap();
    assert_eq!(store.user_for_api_token("thash").await.unwrap().unwrap().id, op.id);
    store.revoke_api_token(&actor, &op.id, &token.id).await.unwrap();
    assert!(store.user_for_api_token("thash").await.unwrap().is_none());
    // Disabling a user ends their sessions.
    store
        .update_user(&actor, &op.id, UserChanges { active: Some(false), ..Default::default() })
        .await
        .unwrap();
    assert!(store.user_for_session("hash1").await.unwrap().is_none());
});

both_backends!(concurrent_writers_wait_for_each_other, |db| {
    // Each create reads (duplicates) before it writes; on SQLite a deferred transaction doing
    // that beside another writer failed at once with "database is locked".
    let store = &db.store;
    let actor = Actor::user(admin(store).await);
    let writes = (0..16).map(|i| {
        let (store, actor) = (store.clone(), actor.clone());
        tokio::spawn(async move {
            store
                .create_contact(
                    &actor,
                    contact("Параллельный", &format!("{i}"), &[&format!("+7916888{i:04}")], &[]),
                )
                .await
        })
    });
    for done in futures_util::future::join_all(writes).await {
        done.unwrap().unwrap();
    }
});
