//! Leads from a website's form and from an integration: contact found or made (never twice),
//! a deal in the first stage, a callback due within the form's minutes for a team member in
//! turn; spam counted and stored nowhere; other sites' pages refused.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::app_test;
use crate::helpers::send;

app_test!(a_form_post_makes_contact_deal_and_callback, |app| {
    let admin = app.admin().await;
    let (_, team) = send(admin.post(app.url("/api/teams")).json(&json!({"name": "Продажи"}))).await;
    let team_id = team["id"].as_str().unwrap().to_owned();
    let mut members = Vec::new();
    for login in ["lead-anna", "lead-boris"] {
        let (_, id) = app.user(&admin, login, "operator").await;
        let (status, _) = send(
            admin.patch(app.url(&format!("/api/users/{id}"))).json(&json!({"team_id": team_id})),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        members.push(id);
    }
    members.sort();
    let (status, form) = send(admin.post(app.url("/api/lead-forms")).json(&json!({
        "name": "Заявка с сайта", "team_id": team_id, "allowed_origins": ["https://okna.example"]
    })))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{form}");
    assert_eq!(form["callback_minutes"], 15, "15 minutes unless said otherwise");
    let token = form["token"].as_str().unwrap().to_owned();
    let url = app.url(&format!("/api/forms/{token}/leads"));
    let public = app.client();

    // An HTML form's post, from the listed site, with its UTM tags.
    let before = switchboard_store::now_ms();
    let res = public
        .post(&url)
        .header("origin", "https://okna.example")
        .header("referer", "https://okna.example/okna?utm_source=yandex")
        .header("accept-language", "ru")
        .form(&[
            ("name", "Иван Петров"),
            ("phone", "8 (916) 555-12-34"),
            ("message", "Нужны окна в квартиру"),
            ("utm_source", "yandex"),
            ("utm_campaign", "okna-zima"),
            ("website", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["access-control-allow-origin"], "https://okna.example");
    assert!(res.text().await.unwrap().contains("Спасибо"), "a thank-you page in Russian");

    let (_, leads) = send(admin.get(app.url("/api/leads"))).await;
    assert_eq!(leads["total"], 1, "{leads}");
    let lead = &leads["items"][0];
    assert_eq!(
        (lead["phone_e164"].as_str(), lead["utm_source"].as_str(), lead["utm_campaign"].as_str()),
        (Some("+79165551234"), Some("yandex"), Some("okna-zima"))
    );
    assert_eq!(lead["referrer"], "https://okna.example/okna?utm_source=yandex");
    assert_eq!(lead["contact_created"], true);
    let (_, contact) = send(
        admin.get(app.url(&format!("/api/contacts/{}", lead["contact_id"].as_str().unwrap()))),
    )
    .await;
    assert_eq!(
        (contact["first_name"].as_str(), contact["last_name"].as_str()),
        (Some("Иван"), Some("Петров"))
    );
    let (_, deal) =
        send(admin.get(app.url(&format!("/api/deals/{}", lead["deal_id"].as_str().unwrap()))))
            .await;
    let (_, stages) = send(admin.get(app.url("/api/pipeline/stages"))).await;
    assert_eq!(deal["stage_id"], stages[0]["id"], "the pipeline's first stage");
    assert_eq!(deal["title"], "Заявка с сайта: Петров Иван");
    let (_, task) =
        send(admin.get(app.url(&format!("/api/tasks/{}", lead["task_id"].as_str().unwrap()))))
            .await;
    let due = task["due_at"].as_i64().unwrap();
    assert!(
        (before + 15 * 60_000..=switchboard_store::now_ms() + 15 * 60_000).contains(&due),
        "due in 15 minutes: {task}"
    );
    assert_eq!(task["callback"], true, "escalated like any callback when overdue");
    assert_eq!(task["phone_e164"], "+79165551234");
    assert_eq!(task["deal_id"], lead["deal_id"]);
    let first = task["assignee_id"].as_str().unwrap().to_owned();
    assert!(members.contains(&first), "a team member takes it: {task}");

    // The same person again, the number spelt another way, as JSON: the same contact, its
    // owner takes it; a stranger goes to the other member in turn.
    let (status, _) =
        send(public.post(&url).json(&json!({"phone": "+7 916 555 12 34", "name": "Иван"}))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) =
        send(public.post(&url).json(&json!({"email": "Olga@Example.ru", "name": "Ольга"}))).await;
    assert_eq!(status, StatusCode::OK);
    let (_, leads) = send(admin.get(app.url("/api/leads"))).await;
    assert_eq!(leads["total"], 3);
    let items = leads["items"].as_array().unwrap();
    assert_eq!(items[1]["contact_id"], lead["contact_id"], "never a second contact");
    assert_eq!(items[1]["contact_created"], false);
    assert_eq!(items[1]["assignee_id"], first.as_str(), "the contact's owner");
    assert_ne!(items[0]["assignee_id"], first.as_str(), "the next member in turn");
    let (_, found) =
        send(admin.get(app.url("/api/contacts")).query(&[("phone", "+79165551234")])).await;
    assert_eq!(found["total"], 1);
    let (_, olga) =
        send(admin.get(app.url(&format!("/api/tasks/{}", items[0]["task_id"].as_str().unwrap()))))
            .await;
    assert_eq!(olga["kind"], "email", "no number: an email task");
});

app_test!(lead_forms_refuse_bad_posts_and_count_spam, |app| {
    let admin = app.admin().await;
    let (_, form) = send(admin.post(app.url("/api/lead-forms")).json(&json!({
        "name": "Сайт", "callback_minutes": 5, "allowed_origins": ["https://okna.example"]
    })))
    .await;
    let token = form["token"].as_str().unwrap().to_owned();
    let url = app.url(&format!("/api/forms/{token}/leads"));
    let public = app.client();
    let leads = || async { send(admin.get(app.url("/api/leads"))).await.1["total"].clone() };

    // Missing or wrong fields: a 4xx naming them, in the visitor's language.
    for (body, field) in [
        (json!({"name": "Иван"}), "phone"),
        (json!({"phone": "12"}), "phone"),
        (json!({"email": "not-an-email"}), "email"),
        (json!({"phone": "+79160000001", "name": "x".repeat(201)}), "name"),
    ] {
        let (status, err) =
            send(public.post(&url).header("accept-language", "ru").json(&body)).await;
        assert_eq!(
            (status, err["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{body}: {err}"
        );
    }
    let (status, err) =
        send(public.post(&url).header("accept-language", "ru").json(&json!({"phone": "12"}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["message"], "Телефон: это не номер телефона", "{err}");
    // An unknown token, another site's page.
    let (status, _) =
        send(public.post(app.url("/api/forms/nope/leads")).json(&json!({"phone": "+79160000001"})))
            .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(
        public
            .post(&url)
            .header("origin", "https://evil.example")
            .json(&json!({"phone": "+79160000001"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The browser's preflight: yes for the listed site, no for another.
    let preflight = |origin: &'static str| {
        public
            .request(reqwest::Method::OPTIONS, &url)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .send()
    };
    let yes = preflight("https://okna.example").await.unwrap();
    assert_eq!(yes.status(), StatusCode::NO_CONTENT);
    assert_eq!(yes.headers()["access-control-allow-origin"], "https://okna.example");
    assert_eq!(preflight("https://evil.example").await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(leads().await, 0, "nothing stored yet");

    // The honeypot: the same answer as a lead, but nothing is stored and it is counted.
    let (status, body) =
        send(public.post(&url).json(&json!({"phone": "+79160000002", "website": "http://spam"})))
            .await;
    assert_eq!((status, body["ok"].clone()), (StatusCode::OK, Value::Bool(true)));
    assert_eq!(leads().await, 0);
    // Too many from one address in a minute: 429, counted, the rest not stored.
    let mut taken = 0;
    let mut refused = 0;
    for i in 0..25 {
        let (status, _) =
            send(public.post(&url).json(&json!({"phone": format!("+7916000{i:04}")}))).await;
        match status {
            StatusCode::OK => taken += 1,
            StatusCode::TOO_MANY_REQUESTS => refused += 1,
            other => panic!("{other}"),
        }
    }
    // The refused posts above counted towards the minute too.
    assert!(taken > 0 && refused > 0 && taken + refused == 25, "{taken} taken, {refused} refused");
    assert_eq!(leads().await, json!(taken));
    let (_, forms) = send(admin.get(app.url("/api/lead-forms"))).await;
    assert_eq!(forms[0]["spam"], 1 + refused, "{forms}");
    assert_eq!(forms[0]["leads"], taken);

    // Integrations sign in; the snippet is for admins.
    let (status, _) =
        send(public.post(app.url("/api/leads")).json(&json!({"phone": "+79161110000"}))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, lead) = send(
        admin.post(app.url("/api/leads")).json(&json!({"phone": "+79161110000", "source": "1c"})),
    )
    .await;
    assert_eq!(
        (status, lead["channel"].as_str(), lead["source"].as_str()),
        (StatusCode::CREATED, Some("api"), Some("1c")),
        "{lead}"
    );
    let id = form["id"].as_str().unwrap();
    let snippet = admin
        .get(app.url(&format!("/api/lead-forms/{id}/snippet")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        snippet.contains(&format!("/api/forms/{token}/leads"))
            && snippet.contains("name=\"website\""),
        "{snippet}"
    );
    let (status, _) = send(
        admin
            .post(app.url("/api/lead-forms"))
            .json(&json!({"name": "Плохая", "allowed_origins": ["okna.example/path"]})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
});
