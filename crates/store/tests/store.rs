#![allow(clippy::unwrap_used)]
//! Store behaviour, each test run against SQLite and PostgreSQL.

#[macro_use]
extern crate switchboard_testkit;

use serde_json::json;
use switchboard_core::call::{CallEventKind, EndReason};
use switchboard_core::entity::{DealStatus, PhoneKind, TaskKind, TaskStatus};
use switchboard_core::{EntityKind, FieldType, PhoneNumber, Region, Role};
use switchboard_store::*;

fn phone(s: &str) -> NewPhone {
    NewPhone { number: PhoneNumber::parse(s, Region::RU).expect(s), kind: PhoneKind::Mobile }
}

fn contact(first: &str, last: &str, phones: &[&str], emails: &[&str]) -> NewContact {
    NewContact {
        first_name: first.into(),
        last_name: last.into(),
        phones: phones.iter().map(|p| phone(p)).collect(),
        emails: emails.iter().map(|e| e.to_string()).collect(),
        ..Default::default()
    }
}

async fn admin(store: &Store) -> String {
    store
        .create_user(
            &Actor::system(),
            NewUser {
                login: format!("admin{}", switchboard_core::new_id()),
                name: "Admin".into(),
                role: Role::Admin,
                password_hash: "x".into(),
                team_id: None,
            },
        )
        .await
        .unwrap()
        .id
}

both_backends!(lookup_by_any_spelling, |db| {
    let store = &db.store;
    let actor = Actor::system();
    let ivan = store
        .create_contact(
            &actor,
            contact("Иван", "Петров", &["8 (916) 123-45-67"], &["ivan@example.ru"]),
        )
        .await
        .unwrap();
    assert_eq!(ivan.phones[0].number, "+79161234567");
    for spelling in
        ["8 (916) 123-45-67", "+7 916 123 45 67", "79161234567", "9161234567", "+7 916 1234567"]
    {
        let e164 = PhoneNumber::parse(spelling, Region::RU).unwrap();
        let found = store.find_contacts_by_phone(e164.e164()).await.unwrap();
        assert_eq!(found.len(), 1, "{spelling}");
        assert_eq!(found[0].id, ivan.id);
    }
    assert!(store.find_contacts_by_phone("+79990000000").await.unwrap().is_empty());
});

both_backends!(shared_number_returns_both, |db| {
    let store = &db.store;
    let actor = Actor::system();
    let a = store
        .create_contact(&actor, contact("Анна", "Смирнова", &["+7 495 123-45-67 доб. 101"], &[]))
        .await
        .unwrap();
    let mut second = contact("Олег", "Смирнов", &["+7 495 123-45-67 доб. 102"], &[]);
    // Same main number: refused without force, names the field and the owner.
    match store.create_contact(&actor, second.clone()).await {
        Err(StoreError::Duplicate { field, existing_id, .. }) => {
            assert_eq!(field, "phones[0].number");
            assert_eq!(existing_id, a.id);
        }
        other => panic!("expected duplicate, got {other:?}"),
    }
    second.force = true;
    let b = store.create_contact(&actor, second).await.unwrap();
    let found = store.find_contacts_by_phone("+74951234567").await.unwrap();
    let mut ids: Vec<_> = found.iter().map(|c| c.id.clone()).collect();
    ids.sort();
    let mut want = vec![a.id.clone(), b.id.clone()];
    want.sort();
    assert_eq!(ids, want);
    assert_eq!(
        found.iter().find(|c| c.id == a.id).unwrap().phones[0].extension.as_deref(),
        Some("101")
    );
});

both_backends!(duplicate_email_and_update_rules, |db| {
    let store = &db.store;
    let actor = Actor::system();
    let a = store
        .create_contact(&actor, contact("A", "A", &["+79161110000"], &["a@x.ru"]))
        .await
        .unwrap();
    let b = store
        .create_contact(&actor, contact("B", "B", &["+79162220000"], &["b@x.ru"]))
        .await
        .unwrap();
    match store.create_contact(&actor, contact("C", "C", &[], &["a@x.ru"])).await {
        Err(StoreError::Duplicate { field, existing_id, .. }) => {
            assert_eq!(field, "emails[0]");
            assert_eq!(existing_id, a.id);
        }
        other => panic!("{other:?}"),
    }
    // Changing B to A's phone is refused too; keeping its own phone is fine.
    let steal = ContactChanges { phones: Some(vec![phone("+79161110000")]), ..Default::default() };
    assert!(matches!(
        store.update_contact(&actor, &b.id, steal).await,
        Err(StoreError::Duplicate { .. })
    ));
    let keep = ContactChanges {
        phones: Some(vec![phone("+79162220000"), phone("+79163330000")]),
        last_name: Some("Бе".into()),
        ..Default::default()
    };
    let b2 = store.update_contact(&actor, &b.id, keep).await.unwrap();
    assert_eq!(b2.phones.len(), 2);
    assert_eq!(b2.last_name, "Бе");
    // A contact with nothing to identify it is refused.
    assert!(matches!(
        store.create_contact(&actor, NewContact::default()).await,
        Err(StoreError::Invalid { .. })
    ));
});

both_backends!(list_filter_and_paginate, |db| {
    let store = &db.store;
    let owner = admin(store).await;
    let actor = Actor::user(owner.clone());
    for i in 0..25 {
        let mut c = contact(
            &format!("Имя{i}"),
            if i % 2 == 0 { "Ёлкин" } else { "Smith" },
            &[&format!("+7916555{i:04}")],
            &[],
        );
        if i < 5 {
            c.owner_id = Some(owner.clone());
        }
        store.create_contact(&actor, c).await.unwrap();
    }
    let page1 = store
        .list_contacts(&ContactFilter::default(), PageRequest::new(Some(1), Some(10)))
        .await
        .unwrap();
    let page3 = store
        .list_contacts(&ContactFilter::default(), PageRequest::new(Some(3), Some(10)))
        .await
        .unwrap();
    assert_eq!((page1.total, page1.items.len(), page3.items.len()), (25, 10, 5));
    assert!(page1.items[0].created_at >= page1.items[9].created_at);
    let q = ContactFilter { q: Some("елкин".into()), ..Default::default() };
    assert_eq!(store.list_contacts(&q, PageRequest::new(None, None)).await.unwrap().total, 13);
    let by_owner = ContactFilter { owner_id: Some(owner.clone()), ..Default::default() };
    assert_eq!(
        store.list_contacts(&by_owner, PageRequest::new(None, None)).await.unwrap().total,
        5
    );
    let by_phone = ContactFilter { phone_e164: Some("+79165550007".into()), ..Default::default() };
    let found = store.list_contacts(&by_phone, PageRequest::new(None, None)).await.unwrap();
    assert_eq!(found.items[0].first_name, "Имя7");
    let wildcard = ContactFilter { q: Some("%".into()), ..Default::default() };
    assert_eq!(
        store.list_contacts(&wildcard, PageRequest::new(None, None)).await.unwrap().total,
        0
    );
});

both_backends!(custom_fields_validated_and_searchable, |db| {
    let store = &db.store;
    let actor = Actor::system();
    store
        .create_custom_field(
            &actor,
            NewCustomField {
                entity: EntityKind::Contact,
                key: "tier".into(),
                label: "Tier".into(),
                field_type: FieldType::Choice,
                choices: vec!["VIP".into(), "Regular".into()],
                required: false,
            },
        )
        .await
        .unwrap();
    store
        .create_custom_field(
            &actor,
            NewCustomField {
                entity: EntityKind::Contact,
                key: "birthday".into(),
                label: "Birthday".into(),
                field_type: FieldType::Date,
                choices: vec![],
                required: false,
            },
        )
        .await
        .unwrap();
    let dup = store
        .create_custom_field(
            &actor,
            NewCustomField {
                entity: EntityKind::Contact,
                key: "tier".into(),
                label: "Again".into(),
                field_type: FieldType::Text,
                choices: vec![],
                required: false,
            },
        )
        .await;
    assert!(matches!(dup, Err(StoreError::Duplicate { .. })));

    let mut c = contact("V", "I", &["+79167770000"], &[]);
    c.custom.insert("tier".into(), json!("vip"));
    c.custom.insert("birthday".into(), json!("31.12.1990"));
    let vip = store.create_contact(&actor, c).await.unwrap();
    assert_eq!(vip.custom["tier"], json!("VIP"));
    assert_eq!(vip.custom["birthday"], json!("1990-12-31"));

    let mut bad = contact("X", "Y", &["+79167770001"], &[]);
    bad.custom.insert("tier".into(), json!("gold"));
    match store.create_contact(&actor, bad).await {
        Err(StoreError::Invalid { field, .. }) => assert_eq!(field, "custom.tier"),
        other => panic!("{other:?}"),
    }
    let mut unknown = contact("X", "Y", &["+79167770002"], &[]);
    unknown.custom.insert("nope".into(), json!("1"));
    // Seen failing once under load (2026-11-24, not reproduced in three reruns): say what came.
    let refused = store.create_contact(&actor, unknown).await;
    assert!(
        matches!(refused, Err(StoreError::Invalid { .. })),
        "an unknown custom field is refused: {refused:?}"
    );

    store.create_contact(&actor, contact("R", "R", &["+79167770003"], &[])).await.unwrap();
    let filter =
        ContactFilter { custom: vec![("tier".into(), "VIP".into())], ..Default::default() };
    let found = store.list_contacts(&filter, PageRequest::new(None, None)).await.unwrap();
    assert_eq!(found.total, 1);
    assert_eq!(found.items[0].id, vip.id);
});

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

both_backends!(import_merges_and_is_idempotent, |db| {
    let store = &db.store;
    let actor = Actor::system();
    let existing = store
        .create_contact(&actor, contact("Old", "Contact", &["+79161000000"], &[]))
        .await
        .unwrap();
    let rows = |extra: bool| {
        let mut rows = vec![
            ImportRow {
                line: 2,
                contact: contact("Иван", "Иванов", &["8 916 100 00 01"], &["ivan@x.ru"]),
                company_name: Some("ООО Ромашка".into()),
            },
            // Same phone as line 2: merges into the contact created by line 2.
            ImportRow {
                line: 3,
                contact: contact("", "", &["+79161000001", "+79161000002"], &[]),
                company_name: None,
            },
            // Existing contact gains an email.
            ImportRow {
                line: 4,
                contact: contact("Old", "Contact", &["+79161000000"], &["old@x.ru"]),
                company_name: Some("ооо ромашка".into()),
            },
        ];
        if extra {
            rows.push(ImportRow {
                line: 5,
                contact: contact("Новый", "", &["+79161000009"], &[]),
                company_name: None,
            });
        }
        // Neither phone nor email: recognised by name and company (never duplicated).
        rows.push(ImportRow {
            line: 6,
            contact: contact("Пётр", "Безномеров", &[], &[]),
            company_name: Some("ООО Ромашка".into()),
        });
        rows.push(ImportRow {
            line: 7,
            contact: contact("Пётр", "Безномеров", &[], &[]),
            company_name: None,
        });
        rows.push(ImportRow {
            line: 8,
            contact: contact("Петр", "безномеров", &[], &[]),
            company_name: None,
        });
        rows
    };
    let out = store.import_contacts(&actor, rows(false), OnDuplicate::Merge).await.unwrap();
    let created_id = match &out[0].decision {
        ImportDecision::Created { id } => id.clone(),
        d => panic!("{d:?}"),
    };
    assert!(
        matches!(&out[1].decision, ImportDecision::Merged { id, changed: true, .. } if *id == created_id)
    );
    assert!(
        matches!(&out[2].decision, ImportDecision::Merged { id, changed: true, .. } if *id == existing.id)
    );
    let ivan = store.get_contact(&created_id).await.unwrap();
    assert_eq!(ivan.phones.len(), 2);
    let old = store.get_contact(&existing.id).await.unwrap();
    assert_eq!(old.emails, vec!["old@x.ru".to_owned()]);
    assert_eq!(old.company_id, ivan.company_id, "one company for both spellings");
    // Same name, other company: two people. The same name and no company, spelt with е and
    // lower case, in the same file: one.
    assert!(
        matches!(out[3].decision, ImportDecision::Created { .. })
            && matches!(out[4].decision, ImportDecision::Created { .. }),
        "{out:?}"
    );
    assert!(
        matches!(&out[5].decision, ImportDecision::Merged { matched_on, .. } if matched_on.starts_with("name ")),
        "{:?}",
        out[5]
    );

    // Re-run: nothing new, nothing changed.
    let again = store.import_contacts(&actor, rows(true), OnDuplicate::Merge).await.unwrap();
    assert!(
        again[..3]
            .iter()
            .all(|o| matches!(o.decision, ImportDecision::Merged { changed: false, .. })),
        "{again:?}"
    );
    assert!(matches!(again[3].decision, ImportDecision::Created { .. }));
    assert!(
        again[4..]
            .iter()
            .all(|o| matches!(o.decision, ImportDecision::Merged { changed: false, .. })),
        "rows without phone or email are found again: {again:?}"
    );
    let total = store
        .list_contacts(&ContactFilter::default(), PageRequest::new(None, None))
        .await
        .unwrap()
        .total;
    assert_eq!(total, 5);

    let skipped = store.import_contacts(&actor, rows(false), OnDuplicate::Skip).await.unwrap();
    assert!(skipped.iter().all(|o| matches!(o.decision, ImportDecision::Skipped { .. })));
});

both_backends!(calls_follow_the_call_and_link_the_contact, |db| {
    use switchboard_core::entity::CallDirection;
    let store = &db.store;
    let agent = admin(store).await;
    let actor = Actor::user(agent.clone());
    let c = store
        .create_contact(&actor, contact("Звонящий", "Клиент", &["+79265550101"], &[]))
        .await
        .unwrap();
    let deal = store
        .create_deal(
            &actor,
            NewDeal {
                title: "Одна открытая".into(),
                contact_id: Some(c.id.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let call = store
        .create_call(NewCall {
            direction: CallDirection::Inbound,
            from_e164: "+79265550101".into(),
            to_e164: "+74950000000".into(),
            queue_id: None,
            offered_at: 1_000,
            id: None,
            origin: None,
            agent_id: None,
            task_id: None,
        })
        .await
        .unwrap();
    assert_eq!(
        (call.contact_id.as_deref(), call.deal_id.as_deref()),
        (Some(c.id.as_str()), Some(deal.id.as_str()))
    );
    let answered = store.call_answered(&call.id, &agent, 13_000).await.unwrap();
    assert_eq!(answered.wait_ms, Some(12_000));
    assert!(matches!(
        store.call_answered(&call.id, &agent, 14_000).await,
        Err(StoreError::Conflict(_))
    ));
    let ended = store.call_ended(&call.id, 73_000, EndReason::CallerHangup, 5_000).await.unwrap();
    assert_eq!(
        (ended.talk_ms, ended.hold_ms, ended.end_reason.map(EndReason::as_str)),
        (Some(60_000), 5_000, Some("caller_hangup"))
    );
    let kinds: Vec<String> = store
        .call_events(&call.id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind.as_str().to_owned())
        .collect();
    assert_eq!(kinds, ["offered", "answered", "ended"]);
    assert!(store.contact_timeline(&c.id, 50).await.unwrap().iter().any(|t| t.kind == "call"));

    // Unknown caller: no link. An abandoned call's wait runs to its end. Open calls are closed
    // after a restart.
    let unknown = store
        .create_call(NewCall {
            direction: CallDirection::Inbound,
            from_e164: "+79990000000".into(),
            to_e164: "+74950000000".into(),
            queue_id: None,
            offered_at: 0,
            id: None,
            origin: None,
            agent_id: None,
            task_id: None,
        })
        .await
        .unwrap();
    assert_eq!(unknown.contact_id, None);
    let abandoned = store.call_ended(&unknown.id, 8_000, EndReason::Abandoned, 0).await.unwrap();
    assert_eq!((abandoned.wait_ms, abandoned.talk_ms), (Some(8_000), None));
    let open = store
        .create_call(NewCall {
            direction: CallDirection::Inbound,
            from_e164: "+79990000001".into(),
            to_e164: "+74950000000".into(),
            queue_id: None,
            offered_at: 0,
            id: None,
            origin: None,
            agent_id: None,
            task_id: None,
        })
        .await
        .unwrap();
    assert_eq!(store.close_open_calls(9_000, None, EndReason::Interrupted).await.unwrap(), 1);
    assert_eq!(
        store.get_call(&open.id).await.unwrap().end_reason.map(EndReason::as_str),
        Some("interrupted")
    );

    // A crash: the call talked from 20 s until the last heartbeat at 31 s; the next start is at
    // 90 s. It ends at the heartbeat, and its talk time leaves the downtime out.
    let talking = store
        .create_call(NewCall {
            direction: CallDirection::Inbound,
            from_e164: "+79990000002".into(),
            to_e164: "+74950000000".into(),
            queue_id: None,
            offered_at: 18_000,
            id: None,
            origin: None,
            agent_id: None,
            task_id: None,
        })
        .await
        .unwrap();
    store.call_answered(&talking.id, &agent, 20_000).await.unwrap();
    assert_eq!(store.last_heartbeat("default").await.unwrap(), None);
    store.heartbeat("default", 30_000).await.unwrap();
    store.heartbeat("default", 31_000).await.unwrap();
    assert_eq!(store.last_heartbeat("default").await.unwrap(), Some(31_000));
    assert_eq!(
        store.close_open_calls(90_000, Some(31_000), EndReason::Interrupted).await.unwrap(),
        1
    );
    let closed = store.get_call(&talking.id).await.unwrap();
    assert_eq!(
        (closed.ended_at, closed.talk_ms, closed.end_reason.map(EndReason::as_str)),
        (Some(31_000), Some(11_000), Some("interrupted"))
    );

    // The operator's form: linking the unknown caller to a contact links its one open deal;
    // absent fields stay; `Some(None)` unlinks; unknown ids are refused; it is audited.
    let saved = store
        .set_call_outcome(
            &actor,
            &unknown.id,
            CallOutcome {
                contact_id: Some(Some(c.id.clone())),
                reason: Some("Счёт".into()),
                disposition: Some("sale".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (saved.contact_id.as_deref(), saved.deal_id.as_deref()),
        (Some(c.id.as_str()), Some(deal.id.as_str()))
    );
    assert_eq!(
        (saved.reason.as_deref(), saved.disposition.as_deref(), saved.notes.as_deref()),
        (Some("Счёт"), Some("sale"), None)
    );
    let again = store
        .set_call_outcome(
            &actor,
            &unknown.id,
            CallOutcome {
                deal_id: Some(None),
                notes: Some("перезвонить".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (again.deal_id, again.disposition.as_deref(), again.notes.as_deref()),
        (None, Some("sale"), Some("перезвонить"))
    );
    assert!(matches!(
        store
            .set_call_outcome(
                &actor,
                &unknown.id,
                CallOutcome { contact_id: Some(Some("nope".into())), ..Default::default() }
            )
            .await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(
        store
            .call_events(&unknown.id)
            .await
            .unwrap()
            .iter()
            .any(|e| e.kind == CallEventKind::FormSaved)
    );
    let timeline = store.contact_timeline(&c.id, 50).await.unwrap();
    let call = timeline
        .iter()
        .find(|t| t.kind == "call" && t.id == unknown.id)
        .expect("the call is on the contact's timeline");
    assert!(call.summary.contains("sale"), "{call:?}");
    // The words a page translates come apart from the call's own text.
    assert_eq!(
        (call.direction.as_deref(), call.disposition.as_deref()),
        (Some("inbound"), Some("sale")),
        "{call:?}"
    );
    assert!(
        call.text.contains('→')
            && call.text.contains("Счёт")
            && !call.text.contains("sale")
            && !call.text.contains("inbound"),
        "{call:?}"
    );
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

async fn user(store: &Store, role: Role, team_id: Option<String>) -> String {
    store
        .create_user(
            &Actor::system(),
            NewUser {
                login: format!("u{}", switchboard_core::new_id()),
                name: "U".into(),
                role,
                password_hash: "x".into(),
                team_id,
            },
        )
        .await
        .unwrap()
        .id
}

fn inbound(from: &str, at: i64, queue_id: Option<String>) -> NewCall {
    NewCall {
        direction: switchboard_core::entity::CallDirection::Inbound,
        from_e164: from.into(),
        to_e164: "+74950000000".into(),
        queue_id,
        offered_at: at,
        id: None,
        origin: None,
        agent_id: None,
        task_id: None,
    }
}

both_backends!(missed_calls_make_one_callback_that_escalates_once, |db| {
    use switchboard_core::callback::CallbackPolicy;
    let store = &db.store;
    let sup = user(store, Role::Supervisor, None).await;
    let team = store
        .create_team(
            &Actor::system(),
            NewTeam { name: "Line 1".into(), supervisor_id: Some(sup.clone()) },
        )
        .await
        .unwrap();
    let op = user(store, Role::Operator, Some(team.id.clone())).await;
    let queue = store
        .create_queue(
            &Actor::system(),
            NewQueue {
                name: "support".into(),
                number: Some("100".into()),
                strategy: None,
                ring_timeout_ms: None,
                max_wait_ms: None,
                wrap_up_ms: None,
                record: None,
                sl_answer_ms: None,
                sl_target_pct: None,
                members: vec![op.clone()],
            },
        )
        .await
        .unwrap();
    let policy = CallbackPolicy { due_after_ms: 15 * 60_000, escalate_after_ms: 0 };
    // An unknown number: the task goes to the queue.
    let first =
        store.create_call(inbound("+79160000001", 1_000, Some(queue.id.clone()))).await.unwrap();
    let missed = |call_id: &str, at| MissedCall {
        call_id: call_id.into(),
        e164: "+79160000001".into(),
        queue_id: Some(queue.id.clone()),
        at,
        reason: EndReason::Abandoned,
    };
    let task = store.callback_for_missed(&policy, &missed(&first.id, 2_000)).await.unwrap();
    assert!(task.callback && task.status == TaskStatus::Open && task.kind == TaskKind::Call);
    assert_eq!(
        (task.queue_id.as_deref(), task.assignee_id.as_deref(), task.missed_count),
        (Some(queue.id.as_str()), None, 1)
    );
    assert_eq!(task.due_at, Some(2_000 + 15 * 60_000));
    assert_eq!(task.phone_e164.as_deref(), Some("+79160000001"));
    assert_eq!(store.get_call(&first.id).await.unwrap().task_id.as_deref(), Some(task.id.as_str()));
    // A second miss from the same number updates the task instead of adding one.
    let second =
        store.create_call(inbound("+79160000001", 60_000, Some(queue.id.clone()))).await.unwrap();
    let again = store.callback_for_missed(&policy, &missed(&second.id, 61_000)).await.unwrap();
    assert_eq!(
        (again.id.as_str(), again.missed_count, again.due_at),
        (task.id.as_str(), 2, task.due_at)
    );
    assert_eq!(again.call_id.as_deref(), Some(second.id.as_str()));
    assert_eq!(store.open_callbacks("+79160000001").await.unwrap().len(), 1);
    // A known contact with an active owner: the owner gets it.
    let c = store
        .create_contact(
            &Actor::system(),
            NewContact {
                owner_id: Some(op.clone()),
                ..contact("Ivan", "Petrov", &["+79160000002"], &[])
            },
        )
        .await
        .unwrap();
    let third =
        store.create_call(inbound("+79160000002", 1_000, Some(queue.id.clone()))).await.unwrap();
    let owned = store
        .callback_for_missed(
            &policy,
            &MissedCall {
                call_id: third.id.clone(),
                e164: "+79160000002".into(),
                queue_id: Some(queue.id.clone()),
                at: 1_000,
                reason: EndReason::MaxWait,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (owned.assignee_id.as_deref(), owned.contact_id.as_deref()),
        (Some(op.as_str()), Some(c.id.as_str()))
    );
    // Nothing is due before its time; at its time both go to the team's supervisor, once.
    assert!(store.callbacks_to_escalate(2_000).await.unwrap().is_empty());
    let due = store.callbacks_to_escalate(2_000 + 15 * 60_000).await.unwrap();
    assert_eq!(due.len(), 2);
    assert!(due.iter().all(|d| d.supervisor_id.as_deref() == Some(sup.as_str())), "{due:?}");
    let done = store
        .escalate_task(&task.id, Some(&sup), std::slice::from_ref(&sup), 3_000_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (done.task.escalated_at, done.task.escalated_to.as_deref()),
        (Some(3_000_000), Some(sup.as_str()))
    );
    assert!(
        store
            .escalate_task(&task.id, Some(&sup), std::slice::from_ref(&sup), 3_000_001)
            .await
            .unwrap()
            .is_none()
    );
    let notes = store.notifications(&sup, true, 10).await.unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].task_id.as_deref(), Some(task.id.as_str()));
    assert!(store.mark_notification_read(&sup, &notes[0].id, 3_000_002).await.unwrap());
    assert!(!store.mark_notification_read(&op, &notes[0].id, 3_000_002).await.unwrap());
    assert!(store.notifications(&sup, true, 10).await.unwrap().is_empty());
    let audit = store
        .list_audit(
            &AuditFilter { entity_id: Some(task.id.clone()), ..Default::default() },
            PageRequest::new(None, None),
        )
        .await
        .unwrap();
    let actions: Vec<_> = audit.items.iter().map(|a| a.action.as_str()).collect();
    assert!(
        actions.contains(&"task.create")
            && actions.contains(&"task.missed_again")
            && actions.contains(&"task.escalate"),
        "{actions:?}"
    );
    // Completing records the result and time; a done task is never escalated.
    let completed = store
        .complete_task(
            &Actor::user(op.clone()),
            &owned.id,
            TaskStatus::Done,
            Some("called back".into()),
        )
        .await
        .unwrap();
    assert!(completed.completed_at.is_some());
    assert!(store.callbacks_to_escalate(i64::MAX / 2).await.unwrap().is_empty());
});

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

both_backends!(call_stats_follow_calls_and_equal_a_recount, |db| {
    use switchboard_core::stats::{StatsConfig, metrics};
    let store = db
        .store
        .clone()
        .with_stats_config(StatsConfig { short_abandon_ms: 5_000, utc_offset_ms: 0 });
    let store = &store;
    let anna = user(store, Role::Operator, None).await;
    let boris = user(store, Role::Operator, None).await;
    let queue = store
        .create_queue(
            &Actor::system(),
            NewQueue {
                name: "stats".into(),
                number: Some("200".into()),
                sl_answer_ms: Some(20_000),
                members: vec![anna.clone(), boris.clone()],
                ..NewQueue::default()
            },
        )
        .await
        .unwrap();
    // 2026-11-24 10:00 UTC.
    let t0: i64 = 1_795_514_400_000;
    let q = Some(queue.id.clone());
    // 1. Answered by Anna after 10 s; 60 s connected; Boris missed the offer first.
    let c1 = store.create_call(inbound("+79160000101", t0, q.clone())).await.unwrap();
    store
        .add_call_event(&c1.id, t0 + 5_000, CallEventKind::NoAnswer, Some(&boris), json!({}))
        .await
        .unwrap();
    store.call_answered(&c1.id, &anna, t0 + 10_000).await.unwrap();
    store.call_ended(&c1.id, t0 + 70_000, EndReason::CallerHangup, 0).await.unwrap();
    // 2. Abandoned exactly at the 5 s threshold (not short); 3. after 2 s (short).
    let c2 = store.create_call(inbound("+79160000102", t0 + 60_000, q.clone())).await.unwrap();
    store.call_ended(&c2.id, t0 + 65_000, EndReason::Abandoned, 0).await.unwrap();
    let c3 = store.create_call(inbound("+79160000103", t0 + 60_000, q.clone())).await.unwrap();
    store.call_ended(&c3.id, t0 + 62_000, EndReason::Abandoned, 0).await.unwrap();
    // 4. Transferred: Anna answers after 30 s (outside SL), transfers at +90 s, Boris answers
    //    at +100 s, ends at +160 s with 20 s hold; Boris's wrap-up 15 s; disposition sale.
    let c4 = store.create_call(inbound("+79160000104", t0 + 120_000, q.clone())).await.unwrap();
    store.call_answered(&c4.id, &anna, t0 + 150_000).await.unwrap();
    store
        .add_call_event(&c4.id, t0 + 210_000, CallEventKind::Transferred, Some(&anna), json!({}))
        .await
        .unwrap();
    store.call_transferred_to(&c4.id, &boris, t0 + 220_000).await.unwrap();
    store.call_ended(&c4.id, t0 + 280_000, EndReason::CallerHangup, 20_000).await.unwrap();
    store.set_call_wrapup(&c4.id, 15_000).await.unwrap();
    store
        .set_call_outcome(
            &Actor::user(boris.clone()),
            &c4.id,
            CallOutcome { disposition: Some("sale".into()), ..Default::default() },
        )
        .await
        .unwrap();
    // 5. Still open at "restart": closed as interrupted.
    let c5 = store.create_call(inbound("+79160000105", t0 + 200_000, q.clone())).await.unwrap();
    store.call_answered(&c5.id, &boris, t0 + 201_000).await.unwrap();
    store.close_open_calls(t0 + 260_000, None, EndReason::Interrupted).await.unwrap();

    assert_eq!(
        store.call_stats_rows().await.unwrap(),
        store.recount_call_stats().await.unwrap(),
        "rollups equal a recount"
    );
    let range = StatsFilter { from: t0 - 3_600_000, to: t0 + 3_600_000, ..Default::default() };
    let total = store.call_stats(&range, StatsGroup::Total).await.unwrap();
    let m = metrics(&total[0].counters);
    assert_eq!(
        (m.offered, m.answered, m.abandoned, m.short_abandoned, m.missed_offers),
        (5, 3, 1, 1, 1)
    );
    // SL: c1 (10 s) and c5 (1 s) within 20 s of 5 offered; ASA (10 + 30 + 1) / 3 s.
    assert_eq!(m.service_level, Some(0.4));
    assert_eq!(m.asa_ms, Some(41_000.0 / 3.0));
    assert_eq!(m.abandonment_rate, Some(0.2));
    // Handled: c1 (Anna), c4 (Anna, Boris), c5 (Boris) = 4; talk 60 + 60 + 40 + 59 s, hold 20, wrap 15.
    assert_eq!(m.handled, 4);
    let c = total[0].counters;
    assert_eq!((c.talk_ms, c.hold_ms, c.wrapup_ms), (219_000, 20_000, 15_000));
    let by_agent = store.call_stats(&range, StatsGroup::Agent).await.unwrap();
    let agent = |id: &str| by_agent.iter().find(|r| r.key == id).map(|r| r.counters).unwrap();
    assert_eq!(
        (agent(&anna).handled, agent(&anna).talk_ms, agent(&anna).answered),
        (2, 120_000, 2)
    );
    assert_eq!(
        (
            agent(&boris).handled,
            agent(&boris).talk_ms,
            agent(&boris).hold_ms,
            agent(&boris).wrapup_ms,
            agent(&boris).missed_offers
        ),
        (2, 99_000, 20_000, 15_000, 1)
    );
    let by_disposition = store.call_stats(&range, StatsGroup::Disposition).await.unwrap();
    assert_eq!(
        by_disposition.iter().find(|r| r.key == "sale").map(|r| r.counters.offered),
        Some(1)
    );
    // By hour (UTC+3 boundaries are the same hours): everything in 10:00.
    let hours = store
        .call_stats(
            &StatsFilter { utc_offset_ms: 3 * 3_600_000, ..range.clone() },
            StatsGroup::Interval(3_600_000),
        )
        .await
        .unwrap();
    assert_eq!(hours.len(), 1);
    assert_eq!(hours[0].key, t0.to_string());
    // A day in Moscow starts at 21:00 UTC; a week on Monday (2026-11-23 00:00 UTC+3).
    let days = store
        .call_stats(
            &StatsFilter { utc_offset_ms: 3 * 3_600_000, ..range.clone() },
            StatsGroup::Interval(86_400_000),
        )
        .await
        .unwrap();
    assert_eq!(days[0].key, (t0 - 13 * 3_600_000).to_string());
    let weeks = store
        .call_stats(
            &StatsFilter { utc_offset_ms: 3 * 3_600_000, ..range.clone() },
            StatsGroup::Interval(7 * 86_400_000),
        )
        .await
        .unwrap();
    assert_eq!(weeks[0].key, (t0 - 13 * 3_600_000 - 86_400_000).to_string());
    // Changing the definitions' settings and rebuilding: the 5 s abandon becomes short.
    let stricter = db
        .store
        .clone()
        .with_stats_config(StatsConfig { short_abandon_ms: 6_000, utc_offset_ms: 0 });
    stricter.rebuild_call_stats().await.unwrap();
    let m = metrics(&stricter.call_stats(&range, StatsGroup::Total).await.unwrap()[0].counters);
    assert_eq!((m.abandoned, m.short_abandoned), (0, 2));
    // Occupancy from the state log: 30 min available, 15 on calls, 15 paused in the hour.
    store.agent_state_changed(&anna, "available", None, t0).await.unwrap();
    store.agent_state_changed(&anna, "on_call", None, t0 + 1_800_000).await.unwrap();
    store.agent_state_changed(&anna, "paused", Some("lunch"), t0 + 2_700_000).await.unwrap();
    let spans = store.agent_state_spans(t0, t0 + 3_600_000, Some(&anna)).await.unwrap();
    let (handling, available) =
        switchboard_core::stats::state_times(&spans[&anna], t0, t0 + 3_600_000, t0 + 3_600_000);
    assert_eq!(switchboard_core::stats::occupancy(handling, available), Some(1.0 / 3.0));
});

both_backends!(call_stats_equal_a_recount_after_random_sequences, |db| {
    // Moscow time: days (and the day rollups) start at 21:00 UTC.
    let store = &db.store.clone().with_stats_config(switchboard_core::stats::StatsConfig {
        short_abandon_ms: 5_000,
        utc_offset_ms: 3 * 3_600_000,
    });
    let agents = [
        user(store, Role::Operator, None).await,
        user(store, Role::Operator, None).await,
        user(store, Role::Operator, None).await,
    ];
    let queue = store
        .create_queue(
            &Actor::system(),
            NewQueue {
                name: "rand".into(),
                number: Some("300".into()),
                members: agents.to_vec(),
                ..NewQueue::default()
            },
        )
        .await
        .unwrap();
    let mut seed: u64 = 7;
    let mut next = |n: u64| {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        i64::try_from((seed >> 33) % n).unwrap()
    };
    let t0: i64 = 1_795_478_400_000;
    let mut ended = Vec::new();
    for i in 0..60 {
        let at = t0 + next(2 * 86_400) * 1000;
        let agent = &agents[usize::try_from(next(3)).unwrap()];
        let call = store
            .create_call(inbound(&format!("+7916000{:04}", next(20)), at, Some(queue.id.clone())))
            .await
            .unwrap();
        if next(3) == 0 {
            store
                .add_call_event(
                    &call.id,
                    at + 1000,
                    CallEventKind::NoAnswer,
                    Some(&agents[usize::try_from(next(3)).unwrap()]),
                    json!({}),
                )
                .await
                .unwrap();
        }
        match next(4) {
            0 => {
                store
                    .call_ended(
                        &call.id,
                        at + next(60_000),
                        if next(2) == 0 { EndReason::Abandoned } else { EndReason::MaxWait },
                        0,
                    )
                    .await
                    .unwrap();
            }
            1 if i % 2 == 0 => {} // left open for close_open_calls
            _ => {
                store.call_answered(&call.id, agent, at + next(40_000)).await.unwrap();
                if next(3) == 0 {
                    store
                        .add_call_event(
                            &call.id,
                            at + 50_000,
                            CallEventKind::Transferred,
                            Some(agent),
                            json!({}),
                        )
                        .await
                        .unwrap();
                    store
                        .call_transferred_to(
                            &call.id,
                            &agents[usize::try_from(next(3)).unwrap()],
                            at + 55_000,
                        )
                        .await
                        .unwrap();
                }
                store
                    .call_ended(
                        &call.id,
                        at + 60_000 + next(600_000),
                        EndReason::CallerHangup,
                        next(20_000),
                    )
                    .await
                    .unwrap();
                ended.push(call.id.clone());
            }
        }
    }
    // Changes after the end, in random order: wrap-ups and dispositions, some twice.
    for _ in 0..40 {
        let id = &ended[usize::try_from(next(ended.len() as u64)).unwrap()];
        if next(2) == 0 {
            store.set_call_wrapup(id, next(90_000)).await.unwrap();
        } else {
            let d = ["sale", "resolved", "complaint"][usize::try_from(next(3)).unwrap()];
            store
                .set_call_outcome(
                    &Actor::system(),
                    id,
                    CallOutcome { disposition: Some(d.into()), ..Default::default() },
                )
                .await
                .unwrap();
        }
    }
    // Agents' states, some spans crossing midnight, some left open.
    for _ in 0..50 {
        let agent = &agents[usize::try_from(next(3)).unwrap()];
        let state = ["available", "ringing", "on_call", "wrap_up", "paused"]
            [usize::try_from(next(5)).unwrap()];
        store.agent_state_changed(agent, state, None, t0 + next(3 * 86_400) * 1000).await.unwrap();
    }
    store.close_open_calls(t0 + 3 * 86_400_000, None, EndReason::Interrupted).await.unwrap();
    let maintained = store.call_stats_rows().await.unwrap();
    assert!(!maintained.is_empty());
    assert_eq!(maintained, store.recount_call_stats().await.unwrap());

    // Every rollup gives the slot table's figures, for whole days (the day table) and not
    // (the queue table, or the slot table for one agent), in every grouping.
    const DAY: i64 = 86_400_000;
    let offset = 3 * 3_600_000;
    let midnight = (t0 + offset).div_euclid(DAY) * DAY - offset;
    let groups = [
        StatsGroup::Total,
        StatsGroup::Queue,
        StatsGroup::Agent,
        StatsGroup::Disposition,
        StatsGroup::Interval(900_000),
        StatsGroup::Interval(3_600_000),
        StatsGroup::Interval(DAY),
        StatsGroup::Interval(7 * DAY),
    ];
    let check = async |label: &str| {
        for (from, to) in [
            (midnight, midnight + 3 * DAY),
            (midnight + DAY, midnight + 2 * DAY),
            (midnight + 3_600_000, midnight + DAY + 7_200_000),
        ] {
            for agent_id in [None, Some(agents[1].clone())] {
                for queue_id in [None, Some(queue.id.clone())] {
                    let filter = StatsFilter {
                        from,
                        to,
                        queue_id: queue_id.clone(),
                        agent_id: agent_id.clone(),
                        utc_offset_ms: offset,
                    };
                    for group in groups {
                        let fast = store.call_stats(&filter, group).await.unwrap();
                        let exact = store.call_stats_by_slot(&filter, group).await.unwrap();
                        assert_eq!(fast, exact, "{label}: {group:?} over {filter:?}");
                    }
                }
            }
            // Occupancy's inputs: the day rollup plus open spans equal the state log itself.
            let now = t0 + 4 * DAY;
            let rolled = store.agent_times(from, to, None, now).await.unwrap();
            let spans = store.agent_state_spans(from, to, None).await.unwrap();
            let logged: std::collections::BTreeMap<String, (i64, i64)> = spans
                .iter()
                .map(|(a, s)| (a.clone(), switchboard_core::stats::state_times(s, from, to, now)))
                .filter(|(_, (h, a))| h + a > 0)
                .collect();
            let rolled: std::collections::BTreeMap<String, (i64, i64)> =
                rolled.into_iter().filter(|(_, (h, a))| h + a > 0).collect();
            assert_eq!(rolled, logged, "{label}: agents' times over {from}..{to}");
        }
    };
    check("maintained").await;
    // Deriving them again from the slot table and the log changes nothing.
    store.derive_rollups().await.unwrap();
    check("derived").await;
    assert!(!store.prepare_stats().await.unwrap(), "derived for this zone already");
    let utc = db.store.clone().with_stats_config(switchboard_core::stats::StatsConfig {
        short_abandon_ms: 5_000,
        utc_offset_ms: 0,
    });
    assert!(utc.prepare_stats().await.unwrap(), "another zone: derived again");
});
