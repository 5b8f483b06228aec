//! The call log: calls following the call, missed calls making callbacks that escalate.

use super::*;

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
                ..NewQueue::default()
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
        not_before: None,
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
    assert_eq!(again.voicemail_call_id, None);
    assert!(store.voicemail_audience(&second.id).await.unwrap().is_empty());
    // Then a message: the same task, which now has it; the queue's agents may hear it.
    let third =
        store.create_call(inbound("+79160000001", 90_000, Some(queue.id.clone()))).await.unwrap();
    let message = MissedCall { reason: EndReason::Voicemail, ..missed(&third.id, 95_000) };
    let with_message = store.callback_for_missed(&policy, &message).await.unwrap();
    assert_eq!(with_message.id, task.id);
    assert_eq!(with_message.voicemail_call_id.as_deref(), Some(third.id.as_str()));
    assert_eq!(store.voicemail_audience(&third.id).await.unwrap(), std::slice::from_ref(&op));
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
    let fourth =
        store.create_call(inbound("+79160000002", 1_000, Some(queue.id.clone()))).await.unwrap();
    let owned = store
        .callback_for_missed(
            &policy,
            &MissedCall {
                call_id: fourth.id.clone(),
                e164: "+79160000002".into(),
                queue_id: Some(queue.id.clone()),
                at: 1_000,
                reason: EndReason::MaxWait,
                not_before: None,
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
    // A callback asked for after hours is not due before the queue opens.
    let night =
        store.create_call(inbound("+79160000009", 100_000, Some(queue.id.clone()))).await.unwrap();
    let later = MissedCall {
        e164: "+79160000009".into(),
        reason: EndReason::CallbackRequested,
        not_before: Some(50_000_000),
        ..missed(&night.id, 101_000)
    };
    let night_task = store.callback_for_missed(&policy, &later).await.unwrap();
    assert_eq!(night_task.due_at, Some(50_000_000));
});
