//! Contacts: lookup by any spelling of a number, duplicates, lists, custom fields, import.

use super::*;

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
    // The last digits people remember find every number ending so.
    let by_tail = ContactFilter { phone_suffix: Some("50007".into()), ..Default::default() };
    let found = store.list_contacts(&by_tail, PageRequest::new(None, None)).await.unwrap();
    assert_eq!((found.total, found.items[0].first_name.as_str()), (1, "Имя7"));
    let by_short_tail = ContactFilter { phone_suffix: Some("0007".into()), ..Default::default() };
    assert_eq!(
        store.list_contacts(&by_short_tail, PageRequest::new(None, None)).await.unwrap().total,
        1
    );
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
