//! The callbacks work queue in the browser, in Russian: a supervisor hands ten missed calls to
//! an operator in one go; the operator calls one back through the softphone and closes it
//! with a result.

use std::time::Duration;

use serde_json::json;
use switchboard_core::call::EndReason;
use switchboard_core::callback::CallbackPolicy;
use switchboard_core::entity::CallDirection;
use switchboard_store::{MissedCall, NewCall};

use crate::agent::Agent;
use crate::calls::{Scene, go_available};
use crate::crm::{Page, sign_in, user};
use crate::harness::{
    AGENT_PASSWORD, Capture, Gateway, GatewayOptions, SippRun, assert_tone, audio_to,
};

/// Twelve missed calls to the queue over the last hour and a half, each a callback nobody
/// has yet, due 15 minutes after it (the first ones overdue); their task ids in order.
async fn missed_calls(gw: &Gateway, queue: &str) -> Vec<String> {
    let policy = CallbackPolicy { due_after_ms: 15 * 60_000, escalate_after_ms: 0 };
    let now = crate::calls::epoch_ms();
    let mut ids = Vec::new();
    for i in 0..12 {
        let at = now - (90 - i * 7) * 60_000;
        let number = format!("+7916555{i:04}");
        let call = gw
            .store
            .create_call(NewCall {
                direction: CallDirection::Inbound,
                from_e164: number.clone(),
                to_e164: "100".into(),
                queue_id: Some(queue.into()),
                offered_at: at - 30_000,
                id: None,
                origin: None,
                agent_id: None,
                task_id: None,
            })
            .await
            .unwrap();
        gw.store.call_ended(&call.id, at, EndReason::Abandoned, 0).await.unwrap();
        let missed = MissedCall {
            call_id: call.id,
            e164: number,
            queue_id: Some(queue.into()),
            at,
            reason: EndReason::Abandoned,
            not_before: None,
        };
        ids.push(gw.store.callback_for_missed(&policy, &missed).await.unwrap().id);
    }
    ids
}

/// The administrator's user id.
async fn gw_admin_id(gw: &Gateway) -> String {
    gw.get(&gw.admin, "/api/me").await["id"].as_str().unwrap().to_owned()
}

pub(crate) async fn supervisor_reassigns_ten_and_an_operator_calls_back_and_closes() {
    let Scene { scratch, wav, caller_dir, mut driver } = Scene::new("browser-callbacks");
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
    let sup = user(&gw, "sveta", "Светлана Петрова", "supervisor", None).await;
    let team =
        gw.post(&gw.admin, "/api/teams", json!({"name": "Линия 1", "supervisor_id": sup})).await;
    let team_id = team["id"].as_str().unwrap();
    let anna = user(&gw, "anna", "Анна Смирнова", "operator", Some(team_id)).await;
    let boris = user(&gw, "boris", "Борис Орлов", "operator", Some(team_id)).await;
    let queue = gw.queue("100", &[&anna, &boris], json!({})).await;
    let tasks = missed_calls(&gw, &queue).await;

    // The supervisor ticks the ten soonest due and hands them to Anna.
    let who = sign_in(&mut driver, &gw, "sveta", &wav).await;
    let mut p = Page { driver: &mut driver, who, base: gw.base.clone() };
    p.goto("/callbacks?lang=ru").await;
    p.wait_text("#content", "пропущенный звонок").await;
    assert_eq!(p.count("#callbacks tbody tr").await, 12, "the twelve, nobody's yet");
    let choices =
        p.eval("[...document.querySelectorAll('#bulk-assignee option')].map((o) => o.value)").await;
    for id in ["none", anna.as_str(), boris.as_str()] {
        assert!(choices.as_array().unwrap().iter().any(|v| v == id), "{id} in {choices}");
    }
    assert!(
        !choices.to_string().contains(&gw_admin_id(&gw).await),
        "the admin is in no team of hers"
    );
    for id in &tasks[..10] {
        p.click(&format!("#callbacks .pick[value='{id}']")).await;
    }
    p.wait_text("#selected-count", "Выбрано: 10").await;
    p.eval(&format!("(() => {{ const s = document.getElementById('bulk-assignee'); s.value = {}; s.dispatchEvent(new Event('change')); return s.value; }})()", json!(anna))).await;
    p.click("#bulk-assign").await;
    p.until("[...document.querySelectorAll('#callbacks td.assignee')].filter((td) => td.textContent.includes('Анна Смирнова')).length === 10", "ten rows now Anna's").await;
    p.screenshot("callbacks-ru.png").await;
    let audit = gw.get(&gw.admin, "/api/audit?action=task.assign&per_page=50").await;
    assert_eq!(audit["total"], 10, "each reassignment audited: {audit}");
    for id in &tasks[..10] {
        let task = gw.get(&gw.admin, &format!("/api/tasks/{id}")).await;
        assert_eq!(task["assignee_id"], anna.as_str());
    }
    driver.must(json!({"cmd": "close", "agent": "sveta"})).await;

    // Anna calls the first one back from the list: the console dials it through the PBX.
    let capture = Capture::start(&scratch.0, &[pbx.media_port]).await;
    let pbx_media = pbx.media_port;
    let pbx_port = pbx.port;
    let pbx = pbx.spawn();
    crate::harness::wait_udp_bound(pbx_port).await;
    let a = Agent::sign_in(&mut driver, &gw.base, "anna", AGENT_PASSWORD, &wav).await;
    go_available(&mut driver, &a).await;
    let mut p = Page { driver: &mut driver, who: a.name.clone(), base: gw.base.clone() };
    p.goto("/callbacks?lang=ru&assignee_id=me").await;
    p.wait_text("#content", "пропущенный звонок").await;
    assert_eq!(p.count("#callbacks tbody tr").await, 10);
    let first = &tasks[0];
    p.click(&format!("#callbacks .call[data-id='{first}']")).await;
    p.wait("#call-status[data-status=connected]").await;
    driver.must(json!({"cmd": "wait", "agent": a.name, "selector": "#call-status[data-status=ended]", "timeout": 20000})).await;
    assert!(pbx.wait(Duration::from_secs(20)).await, "the customer was called and hung up");
    assert_tone(&audio_to(&capture.stop().await, pbx_media), 2000.0, "the customer hears Anna");

    // Back on the list: one attempt; she closes it with a result and a comment.
    let mut p = Page { driver: &mut driver, who: a.name.clone(), base: gw.base.clone() };
    p.goto("/callbacks?lang=ru&assignee_id=me").await;
    p.wait_text(&format!("#callbacks tr[data-id='{first}'] td.attempts"), "1").await;
    p.click(&format!("#callbacks .close[data-id='{first}']")).await;
    p.wait("#close-result").await;
    p.eval("(() => { const s = document.getElementById('close-result'); s.value = 'reached'; return s.value; })()").await;
    p.fill("#close-comment", "договорились о встрече").await;
    p.click("#dialog-ok").await;
    p.until(
        &format!("!document.querySelector(\"#callbacks tr[data-id='{first}']\")"),
        "closed, off the open list",
    )
    .await;
    let task = gw.get(&gw.admin, &format!("/api/tasks/{first}")).await;
    assert_eq!(
        (task["status"].as_str(), task["result"].as_str()),
        (Some("done"), Some("reached: договорились о встрече"))
    );
    p.goto("/callbacks?lang=ru&status=done").await;
    p.wait_text(
        &format!("#callbacks tr[data-id='{first}'] td.result"),
        "дозвонились: договорились о встрече",
    )
    .await;
    assert_eq!(
        gw.get(&gw.admin, "/api/callbacks?assignee_id=none").await["total"],
        2,
        "Boris's queue still has two"
    );
    driver.quit().await;
    gw.stop().await;
}
