//! The sales story in Chromium, against a real PBX (SIPp) and a real webhook receiver: a
//! visitor's form post makes a contact, a deal and a 15-minute callback; the operator calls
//! back from the tasks page (the call is linked to the deal, the receiver hears of it); on the
//! deal page she moves the deal on (the stage's rule gives the measurer a task), adds a product
//! at a large discount and makes an offer, which waits for the head of sales; he approves it
//! in his browser, and the PDF says who, what, how much, and the sum in words.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::calls::{Scene, go_available};
use crate::crm::{Page, sign_in, user};
use crate::harness::{AGENT_PASSWORD, Gateway, GatewayOptions, SippRun};

/// A webhook receiver on loopback: its URL and the events' names it got.
async fn receiver() -> (String, Arc<Mutex<Vec<String>>>) {
    let got: Arc<Mutex<Vec<String>>> = Arc::default();
    let keep = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap| {
            let keep = keep.clone();
            async move {
                let event = headers
                    .get("x-switchboard-event")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                keep.lock().unwrap().push(event);
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, got)
}

async fn wait_events(got: &Arc<Mutex<Vec<String>>>, want: &[&str]) {
    for _ in 0..200 {
        if want.iter().all(|w| got.lock().unwrap().iter().any(|e| e == w)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("webhook events {:?}, wanted {want:?}", got.lock().unwrap());
}

pub(crate) async fn from_a_web_form_to_an_approved_offer() {
    let Scene { scratch: _scratch, wav, caller_dir, mut driver } = Scene::new("browser-sales");
    let pbx = SippRun {
        pause_ms: 3000,
        keys: vec![("password", "pbx-secret".into())],
        ..SippRun::new("pbx_customer.xml", &caller_dir)
    };
    let gw = Gateway::start(GatewayOptions {
        outbound: Some((format!("sip:{{digits}}@127.0.0.1:{}", pbx.port), "pbx-secret".into())),
        ..GatewayOptions::default()
    })
    .await;
    let (hook, events) = receiver().await;
    gw.post(&gw.admin, "/api/webhooks", json!({"url": hook, "events": ["*"]})).await;
    let team = gw.post(&gw.admin, "/api/teams", json!({"name": "Окна-тест"})).await;
    let team_id = team["id"].as_str().unwrap().to_owned();
    let anna = user(&gw, "anna", "Anna Operator", "operator", Some(&team_id)).await;
    let measurer = user(&gw, "measurer", "Max Measurer", "operator", None).await;
    user(&gw, "head", "Helen Head", "manager", None).await;
    gw.queue("100", &[&anna], json!({})).await;
    let form = gw
        .post(
            &gw.admin,
            "/api/lead-forms",
            json!({"name": "okna.example", "team_id": team_id, "allowed_origins": ["*"]}),
        )
        .await;
    let stages = gw.get(&gw.admin, "/api/pipeline/stages").await;
    let second = stages[1]["id"].as_str().unwrap().to_owned();
    gw.post(&gw.admin, &format!("/api/pipeline/stages/{second}/rules"), json!({"action": "task", "task_kind": "meeting", "subject": "Выехать на замер", "assignee": "user", "assignee_user_id": measurer, "due_hours": 24})).await;
    gw.post(
        &gw.admin,
        "/api/products",
        json!({"name": "Окно ПВХ 1200×1400", "sku": "W-1", "unit": "шт", "price": 12200}),
    )
    .await;
    let (status, _) = gw.put(&gw.admin, "/api/documents/settings", json!({"seller": {"name": "ООО «Окна Плюс»", "inn": "7701234567"}, "approval_amount": null, "approval_discount": 15, "approver_role": "manager"})).await;
    assert_eq!(status, 200);

    // A visitor fills in the site's form.
    let res = reqwest::Client::new()
        .post(format!("{}/api/forms/{}/leads", gw.base, form["token"].as_str().unwrap()))
        .form(&[
            ("name", "Ольга Смирнова"),
            ("phone", "8 (916) 555-01-02"),
            ("utm_source", "yandex"),
            ("website", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let leads = gw.get(&gw.admin, "/api/leads").await;
    let lead = &leads["items"][0];
    let (deal_id, task_id) = (
        lead["deal_id"].as_str().unwrap().to_owned(),
        lead["task_id"].as_str().unwrap().to_owned(),
    );
    let task = gw.get(&gw.admin, &format!("/api/tasks/{task_id}")).await;
    assert_eq!(task["assignee_id"], anna.as_str(), "the team's member takes it");
    let due_in = task["due_at"].as_i64().unwrap() - lead["created_at"].as_i64().unwrap();
    assert_eq!(due_in, 15 * 60_000, "call back within 15 minutes");

    // Anna's console shows the new lead at once (not in 15 minutes, when it is due) and she
    // calls back in one click; the call is the deal's.
    let a = crate::agent::Agent::sign_in(&mut driver, &gw.base, "anna", AGENT_PASSWORD, &wav).await;
    go_available(&mut driver, &a).await;
    let pbx_port = pbx.port;
    let pbx = pbx.spawn();
    crate::harness::wait_udp_bound(pbx_port).await;
    let lead_row = format!("#tasks-due li.lead[data-task='{task_id}']");
    driver
        .must(json!({"cmd": "wait", "agent": a.name, "selector": lead_row, "timeout": 20000}))
        .await;
    driver
        .must(
            json!({"cmd": "click", "agent": a.name, "selector": format!("{lead_row} .call-back")}),
        )
        .await;
    driver.must(json!({"cmd": "wait", "agent": a.name, "selector": "#call-status[data-status=connected]", "timeout": 20000})).await;
    driver.must(json!({"cmd": "wait", "agent": a.name, "selector": "#call-status[data-status=ended]", "timeout": 20000})).await;
    assert!(pbx.wait(Duration::from_secs(20)).await, "the PBX got the call");
    let calls = gw.get(&gw.admin, "/api/calls").await;
    let call = gw.wait_call_ended(calls["items"][0]["id"].as_str().unwrap()).await;
    assert_eq!(
        (call["call"]["task_id"].as_str(), call["call"]["deal_id"].as_str()),
        (Some(task_id.as_str()), Some(deal_id.as_str()))
    );
    wait_events(&events, &["lead.created", "call.ringing", "call.answered", "call.ended"]).await;

    // On the deal page: the next stage gives the measurer his visit; a product at 20% off; an offer.
    let mut p = Page { driver: &mut driver, who: a.name.clone(), base: gw.base.clone() };
    p.goto(&format!("/deals/{deal_id}")).await;
    p.wait("#deal-stage").await;
    p.driver
        .must(json!({"cmd": "select", "agent": a.name, "selector": "#deal-stage", "value": second}))
        .await;
    p.attached(&format!("#deal-stage option[value='{second}'][selected]")).await;
    let visits =
        gw.get(&gw.admin, &format!("/api/tasks?deal_id={deal_id}&assignee_id={measurer}")).await;
    assert_eq!(visits["items"][0]["subject"], "Выехать на замер", "{visits}");
    p.click("#add-item").await;
    p.attached("#product-list option").await;
    p.fill("#item-product", "Окно ПВХ 1200×1400 (W-1)").await;
    p.fill("#dialog input[name=quantity]", "2").await;
    p.fill("#dialog input[name=discount]", "20").await;
    p.click("#dialog-ok").await;
    p.wait_text("#items-total", "19").await;
    let deal = gw.get(&gw.admin, &format!("/api/deals/{deal_id}")).await;
    assert_eq!(deal["amount_minor"], 1_952_000, "the amount follows the products");
    let templates = gw.get(&gw.admin, "/api/document-templates").await;
    let offer = templates.as_array().unwrap().iter().find(|t| t["kind"] == "offer").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    p.driver
        .must(
            json!({"cmd": "select", "agent": a.name, "selector": "#doc-template", "value": offer}),
        )
        .await;
    p.click("#make-document").await;
    p.wait("#documents .badge[data-status=pending]").await;

    // The head of sales approves it in his browser.
    let head = sign_in(p.driver, &gw, "head", &wav).await;
    let mut h = Page { driver: &mut driver, who: head, base: gw.base.clone() };
    h.goto(&format!("/deals/{deal_id}")).await;
    h.click("#documents [data-approve]").await;
    h.wait("#documents .badge[data-status=approved]").await;
    let docs = gw.get(&gw.admin, &format!("/api/deals/{deal_id}/documents")).await;
    let doc = &docs[0];
    assert_eq!((doc["status"].as_str(), doc["number"].as_str()), (Some("approved"), Some("1")));
    let pdf = gw
        .admin
        .get(format!("{}/api/documents/{}/pdf", gw.base, doc["id"].as_str().unwrap()))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let path = std::env::temp_dir().join(format!("sb-offer-{}.pdf", std::process::id()));
    std::fs::write(&path, &pdf).unwrap();
    let out =
        std::process::Command::new("pdftotext").arg(&path).arg("-").output().expect("pdftotext");
    let _ = std::fs::remove_file(&path);
    let text = String::from_utf8_lossy(&out.stdout).replace(['\u{202f}', '\u{a0}'], " ");
    for expected in [
        "Коммерческое предложение № 1",
        "Смирнова Ольга",
        "Окно ПВХ 1200×1400",
        "19 520,00",
        "Девятнадцать тысяч пятьсот двадцать рублей 00 копеек",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from the offer:\n{text}");
    }
    wait_events(&events, &["document.approved", "deal.stage_changed", "task.created"]).await;
    let _: Value = Value::Null;
    driver.quit().await;
    gw.stop().await;
}
