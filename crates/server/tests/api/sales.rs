//! The sales process after the deal card: several pipelines, stages that require fields and
//! run rules (tasks, notifications) on entry, and the product catalogue whose line items the
//! deal's amount follows.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::app_test;
use crate::helpers::send;

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("no id in {v}")).to_owned()
}

app_test!(stages_require_fields_and_run_their_rules, |app| {
    let admin = app.admin().await;
    let (agent, agent_id) = app.user(&admin, "sales-agent", "operator").await;
    let (_, measurer_id) = app.user(&admin, "measurer", "operator").await;
    let (head, head_id) = app.user(&admin, "head-of-sales", "manager").await;

    // A second pipeline with its own stages; a stage name is unique within its pipeline only.
    let (_, pipelines) = send(admin.get(app.url("/api/pipelines"))).await;
    assert_eq!(pipelines.as_array().unwrap().len(), 1, "{pipelines}");
    let sales = id(&pipelines[0]);
    let (status, service) =
        send(admin.post(app.url("/api/pipelines")).json(&json!({"name": "Сервис"}))).await;
    assert_eq!(status, StatusCode::CREATED, "{service}");
    let service = id(&service);
    let stage = |pipeline: &str, name: &str, required: Value| {
        admin.post(app.url("/api/pipeline/stages")).json(
            &json!({"pipeline_id": pipeline, "name": name, "probability": 40, "required_fields": required}),
        )
    };
    let (_, date_field) = send(admin.post(app.url("/api/custom-fields")).json(&json!({
        "entity": "deal", "key": "measure_date", "label": "Дата замера", "field_type": "date"
    })))
    .await;
    assert!(date_field["id"].is_string(), "{date_field}");
    let (status, measure) =
        send(stage(&sales, "Замер", json!(["contact_id", "measure_date"]))).await;
    assert_eq!(status, StatusCode::CREATED, "{measure}");
    let (status, agreement) = send(stage(&sales, "Согласование", json!(["items"]))).await;
    assert_eq!(status, StatusCode::CREATED, "{agreement}");
    let (status, _) = send(stage(&service, "Замер", json!([]))).await;
    assert_eq!(status, StatusCode::CREATED, "the same name in another pipeline");
    let (status, dup) = send(stage(&service, "Замер", json!([]))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{dup}");
    let (status, bad) = send(stage(&service, "Ремонт", json!(["no_such_field"]))).await;
    assert_eq!(
        (status, bad["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("required_fields[0]"))
    );

    // Rules: the measurer gets a visit on the measurement date at 10:00 UTC, the heads of
    // sales are told; entering "agreement" gives the owner a call back within 2 hours.
    let rule = |stage: &Value, body: Value| {
        admin.post(app.url(&format!("/api/pipeline/stages/{}/rules", id(stage)))).json(&body)
    };
    let (status, r) = send(rule(&measure, json!({"action": "task", "task_kind": "meeting", "subject": "Выехать на замер",
        "assignee": "user", "assignee_user_id": measurer_id, "due_field": "measure_date", "due_hours": 10}))).await;
    assert_eq!(status, StatusCode::CREATED, "{r}");
    let (status, r) = send(rule(
        &measure,
        json!({"action": "notify", "subject": "Сделка ушла на замер",
        "assignee": "role", "assignee_role": "manager"}),
    ))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{r}");
    let (status, r) = send(rule(
        &agreement,
        json!({"action": "task", "task_kind": "call",
        "subject": "Рассчитать стоимость и перезвонить", "assignee": "owner", "due_hours": 2}),
    ))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{r}");
    let (status, r) =
        send(rule(&agreement, json!({"action": "task", "subject": "x", "assignee": "user"}))).await;
    assert_eq!(
        (status, r["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("assignee_user_id"))
    );
    let (status, _) = send(
        agent
            .post(app.url(&format!("/api/pipeline/stages/{}/rules", id(&measure))))
            .json(&json!({"action": "notify", "subject": "x", "assignee": "owner"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "rules are the admin's");

    // The agent's deal cannot enter "measurement" without a contact and a date: refused naming
    // the field, in the reader's language.
    let (_, deal) =
        send(agent.post(app.url("/api/deals")).json(&json!({"title": "Окна в квартиру"}))).await;
    let deal_id = id(&deal);
    let move_to = |stage: &Value| {
        agent
            .post(app.url(&format!("/api/deals/{deal_id}/stage")))
            .json(&json!({"stage_id": id(stage)}))
    };
    let (status, refused) = send(move_to(&measure).header("accept-language", "ru")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["field"], "contact_id");
    assert!(refused["message"].as_str().unwrap().contains("нужно заполнить"), "{refused}");
    let (_, contact) = send(
        agent
            .post(app.url("/api/contacts"))
            .json(&json!({"first_name": "Ольга", "phones": ["+79161112233"]})),
    )
    .await;
    let (status, _) = send(
        agent
            .patch(app.url(&format!("/api/deals/{deal_id}")))
            .json(&json!({"contact_id": id(&contact)})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, refused) = send(move_to(&measure)).await;
    assert_eq!(refused["field"], "measure_date");
    send(
        agent
            .patch(app.url(&format!("/api/deals/{deal_id}")))
            .json(&json!({"custom": {"measure_date": "2026-12-20"}})),
    )
    .await;
    let (status, moved) = send(move_to(&measure)).await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(moved["stage_id"], measure["id"]);

    let (_, tasks) = send(admin.get(app.url(&format!("/api/tasks?deal_id={deal_id}")))).await;
    let tasks = tasks["items"].as_array().unwrap().clone();
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(tasks[0]["subject"], "Выехать на замер");
    assert_eq!(tasks[0]["kind"], "meeting");
    assert_eq!(tasks[0]["assignee_id"], measurer_id.as_str());
    assert_eq!(tasks[0]["contact_id"], contact["id"]);
    assert_eq!(tasks[0]["due_at"], 1_797_760_800_000_i64, "2026-12-20 10:00 UTC");
    let (_, notes) = send(head.get(app.url("/api/notifications?unread=true"))).await;
    let notice = notes.as_array().unwrap().iter().find(|n| n["kind"] == "deal_stage").cloned();
    let notice = notice.unwrap_or_else(|| panic!("the head of sales is told: {notes}"));
    assert_eq!(
        (notice["deal_id"].as_str(), notice["body"].as_str()),
        (Some(deal_id.as_str()), Some("Сделка ушла на замер"))
    );
    assert_eq!(notice["user_id"], head_id.as_str());

    // "Agreement" needs line items; with one, the owner gets the 2-hour callback.
    let (_, refused) = send(move_to(&agreement)).await;
    assert_eq!(refused["field"], "items", "{refused}");
    let (status, items) = send(
        agent
            .post(app.url(&format!("/api/deals/{deal_id}/items")))
            .json(&json!({"name": "Окно ПВХ", "unit": "шт", "quantity": 3, "price": 15000})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{items}");
    let before = switchboard_store::now_ms();
    let (status, _) = send(move_to(&agreement)).await;
    assert_eq!(status, StatusCode::OK);
    let (_, tasks) =
        send(admin.get(app.url(&format!("/api/tasks?deal_id={deal_id}&assignee_id={agent_id}"))))
            .await;
    let call = &tasks["items"][0];
    assert_eq!(
        (call["subject"].as_str(), call["kind"].as_str()),
        (Some("Рассчитать стоимость и перезвонить"), Some("call"))
    );
    let due = call["due_at"].as_i64().unwrap();
    assert!(
        (before + 7_200_000 - 5_000..=switchboard_store::now_ms() + 7_200_000).contains(&due),
        "{call}"
    );

    // Moving back and forth runs the rules again on each entry; into the other pipeline works,
    // and the list filters by pipeline.
    let (_, service_stages) = send(admin.get(app.url("/api/pipeline/stages"))).await;
    let service_first = service_stages
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["pipeline_id"] == service.as_str())
        .unwrap()
        .clone();
    let (status, _) = send(move_to(&service_first)).await;
    assert_eq!(status, StatusCode::OK);
    let (_, listed) = send(admin.get(app.url(&format!("/api/deals?pipeline_id={service}")))).await;
    assert_eq!(
        (listed["total"].as_i64(), listed["items"][0]["id"].as_str()),
        (Some(1), Some(deal_id.as_str()))
    );
    let (_, listed) = send(admin.get(app.url(&format!("/api/deals?pipeline_id={sales}")))).await;
    assert_eq!(listed["total"], 0);

    // A pipeline with deals, or the last one, stays.
    let (status, _) = send(admin.delete(app.url(&format!("/api/pipelines/{service}")))).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = send(admin.delete(app.url(&format!("/api/pipelines/{sales}")))).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "an empty pipeline goes with its stages");
    let (status, _) = send(admin.delete(app.url(&format!("/api/pipelines/{service}")))).await;
    assert_eq!(status, StatusCode::CONFLICT, "the last pipeline stays");
    let (_, stages) = send(admin.get(app.url("/api/pipeline/stages"))).await;
    assert!(
        stages.as_array().unwrap().iter().all(|s| s["pipeline_id"] == service.as_str()),
        "{stages}"
    );
});

app_test!(line_items_drive_the_deal_amount_with_vat_from_settings, |app| {
    let admin = app.admin().await;
    let (manager, _) = app.user(&admin, "catalogue-keeper", "manager").await;
    let (agent, _) = app.user(&admin, "seller", "operator").await;

    let product = |body: Value| manager.post(app.url("/api/products")).json(&body);
    let (status, window) = send(product(
        json!({"name": "Окно ПВХ 1200×1400", "sku": "W-1", "unit": "шт", "price": 12200}),
    ))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{window}");
    assert_eq!(
        (window["price_minor"].as_i64(), window["vat_rate"].as_i64(), window["currency"].as_str()),
        (Some(1_220_000), Some(2200), Some("RUB")),
        "22% and roubles by default"
    );
    let (status, dup) =
        send(product(json!({"name": "Другое окно", "sku": "W-1", "unit": "шт", "price": 1}))).await;
    assert_eq!((status, dup["field"].as_str()), (StatusCode::CONFLICT, Some("sku")));
    let (status, _) = send(
        agent.post(app.url("/api/products")).json(&json!({"name": "x", "unit": "шт", "price": 1})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the catalogue is the managers'");
    let (status, bad) =
        send(product(json!({"name": "x", "unit": "шт", "price": 1, "vat_rate": 120}))).await;
    assert_eq!(
        (status, bad["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("vat_rate"))
    );
    let (_, dollars) = send(product(json!({"name": "Импортная фурнитура", "unit": "шт", "price": 10, "currency": "USD", "vat_rate": null}))).await;
    let (_, found) = send(agent.get(app.url("/api/products?q=окно"))).await;
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");

    let (_, deal) =
        send(agent.post(app.url("/api/deals")).json(&json!({"title": "Остекление"}))).await;
    let deal_id = id(&deal);
    let items_url = app.url(&format!("/api/deals/{deal_id}/items"));
    let amount = || async {
        let (_, d) = send(agent.get(app.url(&format!("/api/deals/{deal_id}")))).await;
        (d["amount_minor"].as_i64(), d["amount_manual"].as_bool())
    };
    // Two windows at 10% off: 21 960.00 with 22% VAT inside (3 960.00).
    let (status, items) = send(
        agent
            .post(&items_url)
            .json(&json!({"product_id": id(&window), "quantity": 2, "discount": 10})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{items}");
    assert_eq!(items["items"][0]["name"], "Окно ПВХ 1200×1400");
    assert_eq!(items["items"][0]["amount_minor"], 2_196_000);
    assert_eq!(items["totals"]["discount_minor"], 244_000);
    assert_eq!(items["totals"]["vat_minor"], 396_000);
    assert_eq!(items["totals"]["total_minor"], 2_196_000);
    assert_eq!(amount().await, (Some(2_196_000), Some(false)), "the amount follows the lines");
    // A typed line without VAT: installation.
    let (_, items) = send(agent.post(&items_url).json(
        &json!({"name": "Монтаж", "unit": "усл", "quantity": 1.5, "price": 2000, "vat_rate": null}),
    ))
    .await;
    assert_eq!(items["items"][1]["quantity_milli"], 1500);
    assert_eq!(items["totals"]["total_minor"], 2_496_000);
    assert_eq!(amount().await, (Some(2_496_000), Some(false)));

    // A price change in the catalogue leaves the deal's line as it was.
    send(
        manager
            .patch(app.url(&format!("/api/products/{}", id(&window))))
            .json(&json!({"price": 15000})),
    )
    .await;
    let (_, items) = send(agent.get(&items_url)).await;
    assert_eq!(items["items"][0]["price_minor"], 1_220_000);

    // Bad lines are refused naming the field; a product priced in another currency needs a price.
    for (body, field) in [
        (json!({"name": "x", "unit": "шт", "quantity": 0, "price": 1}), "quantity"),
        (json!({"name": "x", "unit": "шт", "price": 1, "discount": 150}), "discount"),
        (json!({"product_id": id(&dollars)}), "price"),
        (json!({"unit": "шт", "price": 1}), "name"),
    ] {
        let (status, err) = send(agent.post(&items_url).json(&body)).await;
        assert_eq!(
            (status, err["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{body}: {err}"
        );
    }

    // A typed amount stops following the lines until asked to again.
    send(agent.patch(app.url(&format!("/api/deals/{deal_id}"))).json(&json!({"amount": 30000})))
        .await;
    let line = items["items"][1]["id"].as_str().unwrap().to_owned();
    let (status, _) = send(
        agent
            .patch(app.url(&format!("/api/deals/{deal_id}/items/{line}")))
            .json(&json!({"quantity": 3})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(amount().await, (Some(3_000_000), Some(true)));
    send(
        agent
            .patch(app.url(&format!("/api/deals/{deal_id}")))
            .json(&json!({"amount_follows_items": true})),
    )
    .await;
    assert_eq!(amount().await, (Some(2_796_000), Some(false)));

    // Prices without VAT: it is added on top (the administrator's setting, not a constant).
    let (status, settings) = send(admin.put(app.url("/api/sales/settings")).json(
        &json!({"prices_include_vat": false, "vat_rates": [20, 10, 0], "default_vat_rate": 20}),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{settings}");
    assert_eq!(settings["vat_rates"], json!([2000, 1000, 0]));
    let (_, items) = send(agent.get(&items_url)).await;
    assert_eq!(items["totals"]["vat_minor"], 483_120, "22% of 21 960.00 on top");
    assert_eq!(items["totals"]["total_minor"], 2_796_000 + 483_120);
    assert_eq!(
        amount().await,
        (Some(2_796_000 + 483_120), Some(false)),
        "the deal follows at once"
    );
    let (status, _) =
        send(agent.delete(app.url(&format!("/api/deals/{deal_id}/items/{line}")))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(amount().await, (Some(2_196_000 + 483_120), Some(false)));
    let (status, _) =
        send(agent.put(app.url("/api/sales/settings")).json(&json!({"prices_include_vat": true})))
            .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
});
