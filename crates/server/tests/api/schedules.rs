//! Business hours over the API: a schedule's hours and time zone are checked, the Russian
//! production calendar is read into its exceptions (every bad row reported with its line), a
//! voice menu's `hours` step needs an existing schedule, and a schedule in use is kept.

use reqwest::StatusCode;
use serde_json::json;

use crate::app_test;
use crate::helpers::send;

/// 2025 and a broken 2026, as data.gov.ru publishes the calendar (quoted lists of days).
const CALENDAR: &str = "\u{feff}Год/Месяц,Январь,Февраль,Март,Апрель,Май,Июнь,Июль,Август,Сентябрь,Октябрь,Ноябрь,Декабрь,Всего рабочих дней\r\n\
\"2025\",\"1,2,3,4,5,6,7,8,11,12,18,19,25,26\",\"1,2,8,9,15,16,22,23\",\"1,2,7*,8,9,15,16,22,23,29,30\",\"5,6,12,13,19,20,26,27,29*\",\"1,2,3,4,8,9,10,11,17,18,24,25,31\",\"1,7,8,11*,12,13,14,15,21,22,28,29\",\"5,6,12,13,19,20,26,27\",\"2,3,9,10,16,17,23,24,30,31\",\"6,7,13,14,20,21,27,28\",\"4,5,11,12,18,19,25,26\",\"1*,2,3,4,8,9,15,16,22,23,29,30\",\"6,7,13,14,20,21,27,28,31\",\"247\"\r\n\
\"2026\",\"1,2,3,40\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\"\r\n";

app_test!(schedules_are_checked_and_take_the_production_calendar, |app| {
    let admin = app.admin().await;
    let nine_to_six = json!(["09:00-18:00"]);
    let body = json!({"name": "Офис", "week": {"mon": nine_to_six, "tue": nine_to_six,
        "wed": nine_to_six, "thu": nine_to_six, "fri": nine_to_six}});
    let (status, created) = send(admin.post(app.url("/api/schedules")).json(&body)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["time_zone"], "Europe/Moscow");
    assert_eq!(created["week"]["sat"], json!([]));
    let id = created["id"].as_str().unwrap().to_owned();

    // Refused, each naming the field.
    for (bad, field) in [
        (json!({"name": "X", "time_zone": "Moscow"}), "time_zone"),
        (json!({"name": "X", "week": {"mon": ["09:00-08:00"]}}), "week.mon"),
        (json!({"name": "X", "week": {"sun": ["09:00-12:00", "11:00-13:00"]}}), "week.sun"),
        (json!({"name": "X", "exceptions": {"2026-02-30": []}}), "exceptions.2026-02-30"),
        (json!({"name": " "}), "name"),
    ] {
        let (status, body) = send(admin.post(app.url("/api/schedules")).json(&bad)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
        assert!(
            body["field"].as_str().unwrap().starts_with(field.split('.').next().unwrap()),
            "{bad}: {body}"
        );
    }
    let (status, dup) = send(admin.post(app.url("/api/schedules")).json(&body)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{dup}");

    // The production calendar: 2025 read, the bad 2026 row reported with its line.
    let (status, imported) = send(
        admin
            .post(app.url(&format!("/api/schedules/{id}/calendar")))
            .body(CALENDAR.as_bytes().to_vec()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{imported}");
    assert_eq!(imported["years"], json!([2025]));
    assert_eq!(
        imported["rejected"],
        json!([{"line": 3, "reason": "январь: \"40\" is not a day of the month"}])
    );
    let ex = &imported["schedule"]["exceptions"];
    assert_eq!(ex["2025-01-03"], json!([]), "a weekday holiday is closed");
    assert_eq!(ex["2025-11-01"], json!(["09:00-17:00"]), "a working, shortened Saturday");
    assert_eq!(ex["2025-03-07"], json!(["09:00-17:00"]), "the eve of 8 March");
    assert!(ex.get("2025-01-11").is_none(), "a usual Saturday is no exception");
    assert!(imported["days"].as_u64().unwrap() > 10);
    // A file with no year at all says so.
    let (status, none) =
        send(admin.post(app.url(&format!("/api/schedules/{id}/calendar"))).body("a,b\n1,2\n"))
            .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{none}");
    assert_eq!(none["field"], "file");

    // A voice menu's hours step needs a schedule that exists; one in use is kept.
    let (status, q) =
        send(admin.post(app.url("/api/queues")).json(&json!({"name": "Sales", "number": "101"})))
            .await;
    assert_eq!(status, StatusCode::CREATED, "{q}");
    let flow = |schedule: &str| {
        json!({"name": "Main", "numbers": ["200"], "flow": {"start": "when", "nodes": {
            "when": {"type": "hours", "schedule_id": schedule, "open": "q", "closed": "vm"},
            "q": {"type": "queue", "queue_id": q["id"]},
            "vm": {"type": "voicemail", "queue_id": q["id"]}
        }}})
    };
    let (status, body) = send(admin.post(app.url("/api/entry-points")).json(&flow("nope"))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["field"], "flow.nodes.when.schedule_id");
    let (status, body) = send(admin.post(app.url("/api/entry-points")).json(&flow(&id))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = send(admin.delete(app.url(&format!("/api/schedules/{id}")))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    // A queue may keep hours of its own: a schedule that exists, voicemail or hangup after.
    let qid = q["id"].as_str().unwrap();
    let patch =
        |body: serde_json::Value| admin.patch(app.url(&format!("/api/queues/{qid}"))).json(&body);
    let (status, body) = send(patch(json!({"schedule_id": "nope"}))).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("schedule_id")),
        "{body}"
    );
    let (status, body) = send(patch(json!({"after_hours": "music"}))).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("after_hours")),
        "{body}"
    );
    let (status, body) = send(patch(json!({"schedule_id": id, "after_hours": "hangup"}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["schedule_id"].as_str(), body["after_hours"].as_str()),
        (Some(id.as_str()), Some("hangup"))
    );
    let (status, body) = send(patch(json!({"after_hours": "callback"}))).await;
    assert_eq!((status, body["after_hours"].as_str()), (StatusCode::OK, Some("callback")));
    let (_, body) = send(patch(json!({"schedule_id": null}))).await;
    assert!(body["schedule_id"].is_null(), "{body}");
    // A flow's callback step needs a queue; its forward step an international number.
    let more = |node: serde_json::Value| {
        json!({"name": "Night", "numbers": ["201"], "flow": {"start": "n", "nodes": {
            "n": node, "q": {"type": "queue", "queue_id": qid}}}})
    };
    for (node, field) in [
        (json!({"type": "callback", "queue_id": "nope"}), "flow.nodes.n.queue_id"),
        (
            json!({"type": "forward", "number": "84951234567", "on_fail": "q"}),
            "flow.nodes.n.number",
        ),
        (
            json!({"type": "forward", "number": "+74951234567", "on_fail": "x"}),
            "flow.nodes.n.on_fail",
        ),
    ] {
        let (status, body) = send(admin.post(app.url("/api/entry-points")).json(&more(node))).await;
        assert_eq!(
            (status, body["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field))
        );
    }
    let night = json!({"type": "callback", "queue_id": qid});
    let (status, body) = send(admin.post(app.url("/api/entry-points")).json(&more(night))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let prompts = &body["flow"]["nodes"]["n"]["prompts"];
    assert_eq!(prompts, &json!(["builtin:callback_offer_closed"]), "the built-in offer");
    // Operators may not touch schedules.
    let (operator, _) = app.user(&admin, "olga", "operator").await;
    let (status, _) = send(operator.get(app.url("/api/schedules"))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, audit) =
        send(admin.get(app.url(&format!("/api/audit?entity=schedule&entity_id={id}")))).await;
    let actions: Vec<&str> =
        audit["items"].as_array().unwrap().iter().filter_map(|a| a["action"].as_str()).collect();
    assert_eq!(actions, ["schedule.update", "schedule.create"], "newest first");
});

app_test!(skills_are_kept_on_agents_and_queues_and_checked, |app| {
    let admin = app.admin().await;
    let (_, olga) = app.user(&admin, "olga", "operator").await;
    let url = app.url(&format!("/api/users/{olga}"));
    let (status, user) =
        send(admin.patch(&url).json(&json!({"skills": {"английский": 3, "1c": 1}}))).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["skills"], json!({"1c": 1, "английский": 3}));
    let (status, body) = send(admin.patch(&url).json(&json!({"skills": {"english": 6}}))).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("skills")),
        "{body}"
    );
    let (status, q) = send(admin.post(app.url("/api/queues")).json(
        &json!({"name": "English", "number": "103", "strategy": "skills", "skills": {"английский": 2}}),
    ))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{q}");
    assert_eq!((q["strategy"].as_str(), &q["skills"]), (Some("skills"), &json!({"английский": 2})));
    let (status, body) = send(
        admin
            .patch(app.url(&format!("/api/queues/{}", q["id"].as_str().unwrap())))
            .json(&json!({"skills": {"": 2}})),
    )
    .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("skills")),
        "{body}"
    );
});
