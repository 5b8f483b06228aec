use reqwest::StatusCode;
use serde_json::json;

use crate::app_test;
use crate::helpers::send;

app_test!(lookup_by_any_spelling, |app| {
    let admin = app.admin().await;
    let (status, ivan) = send(admin.post(app.url("/api/contacts")).json(&json!({
        "first_name": "Иван", "last_name": "Петров", "phones": ["8 (916) 123-45-67"], "emails": ["Ivan@Example.ru"]
    })))
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(ivan["phones"][0]["number"], "+79161234567");
    assert_eq!(ivan["emails"][0], "ivan@example.ru");
    for spelling in
        ["8 (916) 123-45-67", "+7 916 123 45 67", "79161234567", "9161234567", "+7 916 1234567"]
    {
        let (status, found) =
            send(admin.get(app.url("/api/contacts/lookup")).query(&[("phone", spelling)])).await;
        assert_eq!(status, StatusCode::OK, "{spelling}");
        assert_eq!(found["matches"].as_array().unwrap().len(), 1, "{spelling}");
        assert_eq!(found["matches"][0]["id"], ivan["id"]);
        let (_, listed) =
            send(admin.get(app.url("/api/contacts")).query(&[("phone", spelling)])).await;
        assert_eq!(listed["total"], 1, "{spelling}");
    }
    let (status, err) =
        send(admin.get(app.url("/api/contacts/lookup")).query(&[("phone", "not a phone")])).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        (err["field"].as_str(), err["input"].as_str()),
        (Some("phone"), Some("not a phone"))
    );
});

app_test!(duplicates_refused_unless_forced_and_shared_numbers_return_all, |app| {
    let admin = app.admin().await;
    let (_, first) = send(
        admin
            .post(app.url("/api/contacts"))
            .json(&json!({"first_name": "Анна", "phones": ["+7 495 123-45-67 доб. 101"]})),
    )
    .await;
    let (status, err) = send(
        admin
            .post(app.url("/api/contacts"))
            .json(&json!({"first_name": "Олег", "phones": ["8 495 123 45 67 доб. 102"]})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(err["error"], "duplicate");
    assert_eq!(err["field"], "phones[0].number");
    assert_eq!(err["existing_id"], first["id"]);
    let (status, second) = send(admin.post(app.url("/api/contacts")).json(&json!({"first_name": "Олег", "phones": [{"number": "8 495 123 45 67 доб. 102", "kind": "work"}], "force": true}))).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(second["phones"][0]["extension"], "102");
    assert_eq!(second["phones"][0]["kind"], "work");
    let (_, found) =
        send(admin.get(app.url("/api/contacts/lookup")).query(&[("phone", "+74951234567")])).await;
    assert_eq!(
        found["matches"].as_array().unwrap().len(),
        2,
        "a shared number returns both contacts"
    );

    let (_, with_email) = send(
        admin
            .post(app.url("/api/contacts"))
            .json(&json!({"first_name": "E", "emails": ["e@x.ru"]})),
    )
    .await;
    let (status, err) = send(
        admin
            .post(app.url("/api/contacts"))
            .json(&json!({"first_name": "F", "emails": ["E@X.RU"]})),
    )
    .await;
    assert_eq!(
        (status, err["field"].as_str(), err["existing_id"].as_str()),
        (StatusCode::CONFLICT, Some("emails[0]"), with_email["id"].as_str())
    );

    let (status, err) = send(
        admin
            .post(app.url("/api/contacts"))
            .json(&json!({"first_name": "G", "phones": ["+79160000001", "12345"]})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!((err["field"].as_str(), err["input"].as_str()), (Some("phones[1]"), Some("12345")));
    let (status, err) = send(
        admin.post(app.url("/api/contacts")).json(&json!({"first_name": "G", "emails": ["nope"]})),
    )
    .await;
    assert_eq!(
        (status, err["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("emails[0]"))
    );
});

app_test!(pagination_and_filters, |app| {
    let admin = app.admin().await;
    for i in 0..30 {
        let (status, _) = send(admin.post(app.url("/api/contacts")).json(&json!({
            "first_name": format!("Контакт{i}"), "last_name": if i % 3 == 0 { "Ёжиков" } else { "Other" }, "phones": [format!("+7916111{i:04}")]
        })))
        .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (_, page1) = send(admin.get(app.url("/api/contacts?per_page=12"))).await;
    let (_, page3) = send(admin.get(app.url("/api/contacts?per_page=12&page=3"))).await;
    let (_, beyond) = send(admin.get(app.url("/api/contacts?per_page=12&page=9"))).await;
    assert_eq!((page1["total"].as_i64(), page1["items"].as_array().unwrap().len()), (Some(30), 12));
    assert_eq!(page3["items"].as_array().unwrap().len(), 6);
    assert_eq!(beyond["items"].as_array().unwrap().len(), 0);
    let mut seen: Vec<String> = Vec::new();
    for page in 1..=3 {
        let (_, p) =
            send(admin.get(app.url(&format!("/api/contacts?per_page=12&page={page}")))).await;
        seen.extend(
            p["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()),
        );
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 30, "pages neither overlap nor skip");
    let (_, clamped) = send(admin.get(app.url("/api/contacts?per_page=100000"))).await;
    assert_eq!(clamped["per_page"], 500);
    let (_, search) = send(admin.get(app.url("/api/contacts")).query(&[("q", "ежиков")])).await;
    assert_eq!(search["total"], 10);
    let (status, err) = send(admin.get(app.url("/api/contacts?page=abc"))).await;
    assert_eq!((status, err["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("page")));
});

app_test!(custom_fields_are_typed_and_searchable, |app| {
    let admin = app.admin().await;
    let (status, _) =
        send(admin.post(app.url("/api/custom-fields")).json(&json!({"entity": "contact", "key": "tier", "label": "Уровень", "field_type": "choice", "choices": ["VIP", "Обычный"]}))).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = send(admin.post(app.url("/api/custom-fields")).json(
        &json!({"entity": "contact", "key": "budget", "label": "Budget", "field_type": "number"}),
    ))
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, err) =
        send(admin.post(app.url("/api/custom-fields")).json(
            &json!({"entity": "contact", "key": "Bad Key", "label": "x", "field_type": "text"}),
        ))
        .await;
    assert_eq!((status, err["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("key")));
    let (status, vip) = send(admin.post(app.url("/api/contacts")).json(&json!({"first_name": "V", "phones": ["+79162223344"], "custom": {"tier": "vip", "budget": "1 500,5"}}))).await;
    assert_eq!(status, StatusCode::CREATED, "{vip}");
    assert_eq!(vip["custom"]["tier"], "VIP");
    assert_eq!(vip["custom"]["budget"], 1500.5);
    let (status, err) = send(
        admin
            .post(app.url("/api/contacts"))
            .json(&json!({"first_name": "W", "custom": {"budget": "lots"}})),
    )
    .await;
    assert_eq!(
        (status, err["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("custom.budget"))
    );
    send(
        admin
            .post(app.url("/api/contacts"))
            .json(&json!({"first_name": "R", "custom": {"tier": "Обычный"}})),
    )
    .await;
    let (_, found) = send(admin.get(app.url("/api/contacts")).query(&[("cf.tier", "VIP")])).await;
    assert_eq!(found["total"], 1);
    assert_eq!(found["items"][0]["id"], vip["id"]);
    // Clearing a value with null.
    let (status, cleared) = send(
        admin
            .patch(app.url(&format!("/api/contacts/{}", vip["id"].as_str().unwrap())))
            .json(&json!({"custom": {"tier": null}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(cleared["custom"].get("tier").is_none());
});

app_test!(merging_duplicates_keeps_every_phone_email_deal_and_note, |app| {
    let admin = app.admin().await;
    send(admin.post(app.url("/api/custom-fields")).json(
        &json!({"entity": "contact", "key": "city", "label": "Город", "field_type": "text"}),
    ))
    .await;
    let (_, keep) = send(admin.post(app.url("/api/contacts")).json(&json!({"first_name": "Иван", "last_name": "Петров", "phones": ["+79161234567"], "emails": ["ivan@a.ru"]}))).await;
    let (status, dup) = send(admin.post(app.url("/api/contacts")).json(&json!({
        "first_name": "Ваня", "middle_name": "Иванович", "position": "директор", "phones": ["8 (903) 765-43-21", "+79161234567"], "emails": ["IVAN@b.ru"], "custom": {"city": "Тула"}, "force": true
    })))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{dup}");
    let (keep_id, dup_id) = (keep["id"].as_str().unwrap(), dup["id"].as_str().unwrap());
    let (status, deal) = send(
        admin.post(app.url("/api/deals")).json(&json!({"title": "Поставка", "contact_id": dup_id})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{deal}");
    let (status, _) = send(
        admin
            .post(app.url("/api/notes"))
            .json(&json!({"body": "Просил перезвонить", "contact_id": dup_id})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    // Operators and supervisors may not merge (it deletes a contact); a contact cannot absorb itself.
    let (operator, _) = app.user(&admin, "merge-op", "operator").await;
    let (status, _) = send(
        operator
            .post(app.url(&format!("/api/contacts/{keep_id}/merge")))
            .json(&json!({"other_id": dup_id})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, err) = send(
        admin
            .post(app.url(&format!("/api/contacts/{keep_id}/merge")))
            .json(&json!({"other_id": keep_id})),
    )
    .await;
    assert_eq!(
        (status, err["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("other_id"))
    );
    let (status, _) = send(
        admin
            .post(app.url(&format!("/api/contacts/{keep_id}/merge")))
            .json(&json!({"other_id": "nope"})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, merged) = send(
        admin
            .post(app.url(&format!("/api/contacts/{keep_id}/merge")))
            .json(&json!({"other_id": dup_id})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{merged}");
    let phones: Vec<&str> = merged["phones"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["number"].as_str().unwrap())
        .collect();
    assert_eq!(
        phones,
        ["+79161234567", "+79037654321"],
        "the survivor's phone first, the shared one once"
    );
    assert_eq!(merged["emails"], json!(["ivan@a.ru", "ivan@b.ru"]));
    assert_eq!(
        (
            merged["first_name"].as_str(),
            merged["middle_name"].as_str(),
            merged["position"].as_str()
        ),
        (Some("Иван"), Some("Иванович"), Some("директор")),
        "own fields kept, empty ones filled"
    );
    assert_eq!(merged["custom"]["city"], "Тула");
    let (status, _) = send(admin.get(app.url(&format!("/api/contacts/{dup_id}")))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, found) =
        send(admin.get(app.url("/api/contacts")).query(&[("phone", "8 903 765 43 21")])).await;
    assert_eq!(
        (found["total"].as_i64(), found["items"][0]["id"].as_str()),
        (Some(1), Some(keep_id))
    );
    let (_, moved) =
        send(admin.get(app.url(&format!("/api/deals/{}", deal["id"].as_str().unwrap())))).await;
    assert_eq!(moved["contact_id"], keep["id"]);
    let (_, timeline) =
        send(admin.get(app.url(&format!("/api/contacts/{keep_id}/timeline")))).await;
    let kinds: Vec<&str> =
        timeline.as_array().unwrap().iter().map(|i| i["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"deal") && kinds.contains(&"note"), "{kinds:?}");
    let (_, audit) =
        send(admin.get(app.url("/api/audit")).query(&[("action", "contact.merge")])).await;
    assert_eq!(audit["items"][0]["entity_id"], keep["id"]);
    assert_eq!(audit["items"][0]["detail"]["merged_id"], dup["id"]);
});
