//! Prompts and voice menus in Chromium, in Russian: an admin uploads an audio file and has a
//! text spoken, hears one in the page's player, builds a menu in the tree editor (a prompt,
//! keys 1 and 2 to two queues), is told in Russian which step is wrong when a key leads to a
//! step without a queue, and saves; the flow the API keeps is the one built. A step turned
//! into an outside number without the country code is refused, said in Russian.

use serde_json::json;

use crate::calls::Scene;
use crate::crm::{Page, sign_in, user};
use crate::harness::{Gateway, GatewayOptions};

pub(crate) async fn prompts_and_the_voice_menu_editor_in_russian() {
    let gw = Gateway::start(GatewayOptions::default()).await;
    user(&gw, "alla", "Алла Админ", "admin", None).await;
    let sales = gw.queue("101", &[], json!({"name": "Продажи"})).await;
    let support = gw.queue("102", &[], json!({"name": "Поддержка"})).await;
    let Scene { scratch, wav, caller_dir: _, mut driver } = Scene::new("browser-flows");
    let who = sign_in(&mut driver, &gw, "alla", &wav).await;
    let mut a = Page { driver: &mut driver, who, base: gw.base.clone() };

    // Prompts: a file (the fake microphone's tone WAV) and a spoken text.
    a.goto("/admin?section=prompts&lang=ru").await;
    a.wait("#upload-prompt").await;
    a.fill("#upload-prompt input[name=name]", "Музыка ожидания").await;
    let file = scratch.0.join("музыка.wav");
    std::fs::copy(&wav, &file).unwrap();
    a.driver
        .must(json!({"cmd": "upload", "agent": a.who, "selector": "#upload-prompt input[name=file]", "path": file}))
        .await;
    a.click("#upload-prompt-ok").await;
    a.wait_text("#prompts", "Музыка ожидания").await;
    a.fill("#speak-prompt input[name=name]", "Меню").await;
    a.fill("#speak-prompt textarea[name=text]", "Отдел продаж — один. Поддержка — два.").await;
    a.click("#speak-prompt-ok").await;
    a.wait_text("#prompts", "Отдел продаж").await;
    // The player plays what callers hear.
    let played = a
        .eval("(async () => { const el = document.querySelector('#prompts audio'); el.muted = true; await el.play(); await new Promise((r) => setTimeout(r, 400)); return el.currentTime > 0 && !el.error; })()")
        .await;
    assert_eq!(played, json!(true), "the prompt plays in the page");
    // Not audio: refused, said in Russian.
    let text = scratch.0.join("contacts.wav");
    std::fs::write(&text, "name,phone\n").unwrap();
    a.fill("#upload-prompt input[name=name]", "Плохой").await;
    a.driver
        .must(json!({"cmd": "upload", "agent": a.who, "selector": "#upload-prompt input[name=file]", "path": text}))
        .await;
    a.click("#upload-prompt-ok").await;
    a.wait_text("#prompt-error", "не распознан как звук").await;
    a.screenshot("prompts.png").await;
    let prompts = gw.get(&gw.admin, "/api/prompts").await;
    let menu_prompt =
        prompts["prompts"].as_array().unwrap().iter().find(|p| p["name"] == "Меню").unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();

    // The voice menu: the new entry point starts as a menu with an operator queue.
    a.click("#tab-flows").await;
    a.click("#new-entry").await;
    a.wait("#flow-tree").await;
    a.fill("#ep-name", "Основная линия").await;
    a.fill("#ep-numbers", "200").await;
    let select = |selector: &str, value: serde_json::Value| json!({"cmd": "select", "agent": "alla", "selector": selector, "value": value});
    let menu = "Главное меню";
    a.driver
        .must(select(&format!("select[data-add-prompt='{menu}|prompts']"), json!(menu_prompt)))
        .await;
    a.driver.must(select(&format!("select[data-add-key='{menu}']"), json!("1"))).await;
    a.driver.must(select(&format!("select[data-add-key='{menu}']"), json!("2"))).await;
    let steps =
        a.eval("[...document.querySelectorAll('.flow-node')].map((n) => n.dataset.node)").await;
    let new: Vec<String> = steps
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s.as_str().filter(|s| s.starts_with("Шаг")).map(str::to_owned))
        .collect();
    assert_eq!(new.len(), 2, "a step for each key: {steps}");
    for (step, name) in new.iter().zip(["Продажи", "Поддержка"]) {
        a.fill(&format!("input[data-rename='{step}']"), name).await;
        a.driver.must(json!({"cmd": "press", "agent": a.who, "key": "Tab"})).await;
    }
    a.driver.must(select("select[data-queue='Продажи']", json!(sales))).await;
    // Support's step has no queue yet: saving names it, in Russian, and marks its card.
    a.driver.must(select("select[data-queue='Оператор']", json!(sales))).await;
    a.click("#save-flow").await;
    a.wait_text("#flow-error", "Поддержка: очередь не выбрана").await;
    assert_eq!(a.count(".flow-node.problem[data-node='Поддержка']").await, 1);
    a.driver.must(select("select[data-queue='Поддержка']", json!(support))).await;
    a.click("#save-flow").await;
    a.wait_text("#entry-points", "Основная линия").await;
    a.click("#entry-points button[data-edit]").await;
    a.wait("#flow-tree").await;
    a.screenshot("voice-menu.png").await;

    let entries = gw.get(&gw.admin, "/api/entry-points").await;
    let flow = &entries[0]["flow"];
    assert_eq!(entries[0]["numbers"], json!(["200"]));
    assert_eq!(flow["start"], menu);
    assert_eq!(flow["nodes"][menu]["prompts"], json!([menu_prompt]));
    assert_eq!(flow["nodes"][menu]["choices"], json!({"1": "Продажи", "2": "Поддержка"}));
    assert_eq!(flow["nodes"]["Поддержка"]["queue_id"], support.as_str());
    assert_eq!(entries[0]["problems"], json!([]));

    // Support becomes an outside number (the sales queue when it does not answer): a number
    // without the country code is refused, said in Russian.
    a.driver.must(select("select[data-type='Поддержка']", json!("forward"))).await;
    a.wait("input[data-text='Поддержка|number']").await;
    a.fill("input[data-text='Поддержка|number']", "8 495 123-45-67").await;
    a.driver.must(json!({"cmd": "press", "agent": a.who, "key": "Tab"})).await;
    a.driver.must(select("select[data-target='Поддержка|on_fail']", json!("Продажи"))).await;
    a.click("#save-flow").await;
    a.wait_text("#flow-error", "Поддержка: номер нужен в международном формате").await;
    a.fill("input[data-text='Поддержка|number']", "+7 495 123-45-67").await;
    a.driver.must(json!({"cmd": "press", "agent": a.who, "key": "Tab"})).await;
    a.click("#save-flow").await;
    a.wait("#entry-points").await;
    let forward: serde_json::Value = crate::harness::eventually(
        std::time::Duration::from_secs(10),
        "the forward step saved",
        || async {
            let entries = gw.get(&gw.admin, "/api/entry-points").await;
            let node = entries[0]["flow"]["nodes"]["Поддержка"].clone();
            (node["type"] == "forward").then_some(node)
        },
    )
    .await;
    assert_eq!(
        forward,
        json!({"type": "forward", "number": "+7 495 123-45-67", "ring_s": 30, "on_fail": "Продажи"})
    );
    driver.quit().await;
    gw.stop().await;
}

/// Business hours in Chromium, in Russian: an admin makes a schedule (a wrong hours field
/// is named in Russian), reads the production calendar into it (a bad row is listed with its
/// line, in Russian), and starts a voice menu with a business-hours step on it.
pub(crate) async fn business_hours_and_the_production_calendar_in_russian() {
    let gw = Gateway::start(GatewayOptions::default()).await;
    user(&gw, "alla", "Алла Админ", "admin", None).await;
    gw.queue("101", &[], json!({"name": "Продажи"})).await;
    let Scene { scratch, wav, caller_dir: _, mut driver } = Scene::new("browser-hours");
    let who = sign_in(&mut driver, &gw, "alla", &wav).await;
    let mut a = Page { driver: &mut driver, who, base: gw.base.clone() };
    let tab = json!({"cmd": "press", "agent": "alla", "key": "Tab"});

    a.goto("/admin?section=schedules&lang=ru").await;
    a.wait_text("#tab-schedules", "Часы работы").await;
    a.click("#new-schedule").await;
    a.wait("#week").await;
    a.fill("#sched-name", "Офис").await;
    a.driver.must(tab.clone()).await;
    a.fill("input[data-day='mon']", "9-18").await;
    a.driver.must(tab.clone()).await;
    a.fill("input[data-day='sat']", "10:00-14:00").await;
    a.driver.must(tab.clone()).await;
    a.click("#save-schedule").await;
    a.wait_text("#schedule-error", "Понедельник: часы пишутся так: 09:00-18:00").await;
    a.fill("input[data-day='mon']", "09:00-13:00, 14:00-18:00").await;
    a.driver.must(tab.clone()).await;
    a.click("#save-schedule").await;
    a.wait_text("#schedules", "Офис").await;
    let schedules = gw.get(&gw.admin, "/api/schedules").await;
    assert_eq!(schedules[0]["week"]["mon"], json!(["09:00-13:00", "14:00-18:00"]));
    assert_eq!(schedules[0]["week"]["sat"], json!(["10:00-14:00"]));

    // The production calendar, with a broken row.
    a.click("#schedules button[data-edit]").await;
    a.wait("#calendar-file").await;
    let csv = scratch.0.join("calendar2025.csv");
    std::fs::write(
        &csv,
        "Год/Месяц,Январь,Февраль,Март,Апрель,Май,Июнь,Июль,Август,Сентябрь,Октябрь,Ноябрь,Декабрь\n\
         2025,\"1,2,3,4,5,6,7,8,11,12,18,19,25,26\",\"1,2,8,9,15,16,22,23\",\"1,2,7*,8,9,15,16,22,23,29,30\",\"5,6,12,13,19,20,26,27,29*\",\"1,2,3,4,8,9,10,11,17,18,24,25,31\",\"1,7,8,11*,12,13,14,15,21,22,28,29\",\"5,6,12,13,19,20,26,27\",\"2,3,9,10,16,17,23,24,30,31\",\"6,7,13,14,20,21,27,28\",\"4,5,11,12,18,19,25,26\",\"1*,2,3,4,8,9,15,16,22,23,29,30\",\"6,7,13,14,20,21,27,28,31\"\n\
         2026,\"1,2,40\",,,,,,,,,,,\n",
    )
    .unwrap();
    a.driver
        .must(json!({"cmd": "upload", "agent": a.who, "selector": "#calendar-file", "path": csv}))
        .await;
    a.click("#import-calendar").await;
    a.wait_text("#calendar-result", "Добавлено дней").await;
    a.wait_text("#calendar-rejected", "Строка 3: январь: \"40\" — не день месяца").await;
    a.wait_text("#exceptions", "2025-01-03").await;
    a.eval("document.querySelector('#calendar-result').scrollIntoView({ block: 'end' })").await;
    a.screenshot("business-hours.png").await;
    a.click("#save-schedule").await;
    a.wait_text("#schedules", "Офис").await;
    let schedule = &gw.get(&gw.admin, "/api/schedules").await[0];
    assert_eq!(schedule["exceptions"]["2025-01-03"], json!([]));
    // 1 November 2025, a shortened working Saturday: this office's Saturday, an hour shorter.
    assert_eq!(schedule["exceptions"]["2025-11-01"], json!(["10:00-13:00"]));
    // 7 March, the eve of a holiday: Friday's hours, an hour shorter.
    assert_eq!(schedule["exceptions"]["2025-03-07"], json!(["09:00-17:00"]));

    // A voice menu that starts with the hours.
    a.click("#tab-flows").await;
    a.click("#new-entry").await;
    a.wait("#flow-tree").await;
    a.fill("#ep-name", "Основная линия").await;
    a.driver.must(tab.clone()).await;
    let select = |selector: &str, value: serde_json::Value| json!({"cmd": "select", "agent": "alla", "selector": selector, "value": value});
    a.driver.must(select("select[data-type='Главное меню']", json!("hours"))).await;
    a.wait_text("#flow-tree", "в нерабочее время").await;
    let sales = gw.get(&gw.admin, "/api/queues").await[0]["id"].as_str().unwrap().to_owned();
    a.driver.must(select("select[data-queue='Оператор']", json!(sales))).await;
    a.click("#save-flow").await;
    a.wait_text("#flow-error", "нет такого графика").await;
    a.driver.must(select("select[data-schedule='Главное меню']", json!(schedule["id"]))).await;
    a.click("#save-flow").await;
    a.wait_text("#entry-points", "Основная линия").await;
    let entries = gw.get(&gw.admin, "/api/entry-points").await;
    let start = &entries[0]["flow"]["nodes"]["Главное меню"];
    assert_eq!(
        (start["type"].as_str(), start["schedule_id"].as_str()),
        (Some("hours"), schedule["id"].as_str())
    );
    driver.quit().await;
    gw.stop().await;
}
