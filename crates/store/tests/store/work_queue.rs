//! The callbacks work queue: who sees which callbacks, what each row says, bulk assignment.

use super::*;

both_backends!(callbacks_work_queue_scopes_rows_and_bulk_assignment, |db| {
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
    let other_team = store
        .create_team(&Actor::system(), NewTeam { name: "Line 2".into(), supervisor_id: None })
        .await
        .unwrap();
    let op = user(store, Role::Operator, Some(team.id.clone())).await;
    let mate = user(store, Role::Operator, Some(team.id.clone())).await;
    let stranger = user(store, Role::Operator, Some(other_team.id.clone())).await;
    let queue = store
        .create_queue(
            &Actor::system(),
            NewQueue {
                name: "support".into(),
                number: Some("100".into()),
                members: vec![op.clone()],
                ..NewQueue::default()
            },
        )
        .await
        .unwrap();
    let policy = CallbackPolicy { due_after_ms: 60_000, escalate_after_ms: 0 };
    // Twelve missed numbers to the queue (nobody's yet), one of them with a message; one
    // callback the stranger scheduled for themselves.
    let mut tasks = Vec::new();
    for i in 0..12 {
        let number = format!("+7916000{i:04}");
        let call =
            store.create_call(inbound(&number, 1_000 + i, Some(queue.id.clone()))).await.unwrap();
        let reason = if i == 0 { EndReason::Voicemail } else { EndReason::Abandoned };
        let missed = MissedCall {
            call_id: call.id.clone(),
            e164: number,
            queue_id: Some(queue.id.clone()),
            at: 1_000 + i,
            reason,
            not_before: None,
        };
        tasks.push(store.callback_for_missed(&policy, &missed).await.unwrap());
    }
    let scheduled = store
        .create_task(
            &Actor::user(stranger.clone()),
            NewTask {
                kind: TaskKind::Call,
                subject: "Call back".into(),
                description: None,
                due_at: Some(500),
                assignee_id: Some(stranger.clone()),
                contact_id: None,
                deal_id: None,
                callback_e164: Some("+79169999999".into()),
            },
        )
        .await
        .unwrap();
    // Two attempts on the first callback.
    for at in [70_000, 80_000] {
        let mut out = inbound("+79160000000", at, None);
        out.direction = switchboard_core::entity::CallDirection::Outbound;
        out.task_id = Some(tasks[0].id.clone());
        store.create_call(out).await.unwrap();
    }
    let list = |scope: CallbackScope, sort: CallbackSort| {
        let filter = CallbackFilter {
            scope,
            status: Some(TaskStatus::Open),
            due_before: None,
            queue_id: None,
            assignee_id: None,
            source: None,
            sort,
        };
        async move { store.list_callbacks(&filter, PageRequest::new(None, Some(100))).await.unwrap() }
    };

    // The operator sees their queue's twelve; the supervisor too (nobody has them yet), not
    // the stranger's; a manager sees all thirteen; the stranger only theirs.
    assert_eq!(list(CallbackScope::Agent(op.clone()), CallbackSort::Due).await.total, 12);
    assert_eq!(list(CallbackScope::Supervisor(sup.clone()), CallbackSort::Due).await.total, 12);
    assert_eq!(list(CallbackScope::All, CallbackSort::Due).await.total, 13);
    let theirs = list(CallbackScope::Agent(stranger.clone()), CallbackSort::Due).await;
    assert_eq!(
        theirs.items.iter().map(|c| c.task.id.as_str()).collect::<Vec<_>>(),
        [scheduled.id.as_str()]
    );
    assert_eq!(theirs.items[0].source, CallbackSource::Scheduled);

    // What a row says, and the orders.
    let by_attempts = list(CallbackScope::All, CallbackSort::Attempts).await;
    let first = &by_attempts.items[0];
    assert_eq!(
        (first.task.id.as_str(), first.attempts, first.last_attempt_at),
        (tasks[0].id.as_str(), 2, Some(80_000))
    );
    assert_eq!(first.source, CallbackSource::Voicemail);
    assert_eq!(first.queue_name.as_deref(), Some("support"));
    assert!(
        by_attempts.items[1..].iter().all(|c| c.source
            == if c.task.id == scheduled.id {
                CallbackSource::Scheduled
            } else {
                CallbackSource::Missed
            }),
        "the others are missed calls, and the one an agent scheduled"
    );
    let by_due = list(CallbackScope::All, CallbackSort::Due).await;
    assert_eq!(by_due.items[0].task.id, scheduled.id, "due at 500, before the others");
    let by_waiting = list(CallbackScope::All, CallbackSort::Waiting).await;
    assert_eq!(by_waiting.items[0].task.id, tasks[0].id, "the first missed call waited longest");

    // The supervisor hands ten to the mate in one go: each audited, the list follows.
    let ten: Vec<String> = tasks[..10].iter().map(|t| t.id.clone()).collect();
    let assigned =
        store.assign_callbacks(&Actor::user(sup.clone()), &ten, Some(&mate)).await.unwrap();
    assert!(assigned.iter().all(|t| t.assignee_id.as_deref() == Some(mate.as_str())));
    let mates = list(CallbackScope::Agent(mate.clone()), CallbackSort::Due).await;
    assert_eq!(mates.total, 10);
    assert_eq!(mates.items[0].assignee_name.as_deref(), Some("U"));
    let audit = store
        .list_audit(
            &AuditFilter { action_prefix: Some("task.assign".into()), ..AuditFilter::default() },
            PageRequest::new(None, Some(100)),
        )
        .await
        .unwrap();
    assert_eq!(audit.total, 10, "one audit entry per callback");
    // Nobody's now: two left.
    let nobodys = CallbackFilter {
        scope: CallbackScope::All,
        status: Some(TaskStatus::Open),
        due_before: None,
        queue_id: Some(queue.id.clone()),
        assignee_id: Some(None),
        source: None,
        sort: CallbackSort::Due,
    };
    assert_eq!(
        store.list_callbacks(&nobodys, PageRequest::new(None, None)).await.unwrap().total,
        2
    );
    // Refused whole: a closed callback among them, or an unknown assignee; nothing changes.
    store
        .complete_task(
            &Actor::user(mate.clone()),
            &tasks[11].id,
            TaskStatus::Done,
            Some("reached".into()),
        )
        .await
        .unwrap();
    let err = store
        .assign_callbacks(
            &Actor::user(sup.clone()),
            &[tasks[10].id.clone(), tasks[11].id.clone()],
            Some(&op),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("task_ids[1]"), "{err}");
    assert_eq!(store.get_task(&tasks[10].id).await.unwrap().assignee_id, None, "nothing changed");
    assert!(
        store
            .assign_callbacks(&Actor::system(), &[tasks[10].id.clone()], Some("nobody"))
            .await
            .is_err()
    );
    // Back to the queue.
    let back = store.assign_callbacks(&Actor::user(sup.clone()), &ten[..1], None).await.unwrap();
    assert_eq!(back[0].assignee_id, None);
    // Overdue only: at 600 only the stranger's (due at 500) is late.
    let overdue = CallbackFilter {
        scope: CallbackScope::All,
        status: Some(TaskStatus::Open),
        due_before: Some(600),
        queue_id: None,
        assignee_id: None,
        source: None,
        sort: CallbackSort::Due,
    };
    let late = store.list_callbacks(&overdue, PageRequest::new(None, None)).await.unwrap();
    assert_eq!(
        late.items.iter().map(|c| c.task.id.as_str()).collect::<Vec<_>>(),
        [scheduled.id.as_str()]
    );
});
