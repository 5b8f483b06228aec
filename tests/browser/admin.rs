//! Import, export and administration in Chromium: a manager imports a messy XLSX with Russian
//! headers and reads the row report, exports a filtered list as CSV and XLSX; an admin walks
//! every administration section (users, teams, queues, phones and a trunk registered to a SIPp
//! registrar, stages, custom fields, dispositions and retention) and finds each change in the
//! audit log; operators and supervisors do not get these pages.

use std::time::Duration;

use serde_json::json;

use crate::calls::Scene;
use crate::crm::{Page, sign_in, user};
use crate::harness::{Gateway, GatewayOptions, SippRun};

/// The file a call center would bring: Russian headers, a full name in one column, numbers
/// typed every way (one stored by Excel as a number), two phones in one cell, a blank line,
/// a bad phone, a bad email, an unknown owner and a column nobody maps.
fn messy_workbook(path: &std::path::Path) {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (col, header) in
        ["ФИО", "Телефон", "Эл. почта", "Компания", "Должность", "Ответственный", "Примечание"]
            .iter()
            .enumerate()
    {
        sheet.write_string(0, col as u16, *header).unwrap();
    }
    let rows: [[&str; 7]; 7] = [
        [
            "Иванов Иван Иванович",
            "8 (916) 123-45-67",
            "Ivan@Example.ru",
            "ООО Ромашка",
            "директор",
            "",
            "звонить после обеда",
        ],
        [
            "Петрова Анна",
            "+7 903 111 22 33; 8 495 123 45 67",
            "",
            "ООО Ромашка",
            "бухгалтер",
            "maria",
            "",
        ],
        ["Сидоров Пётр", "12345", "", "", "", "", ""],
        ["", "", "не-почта", "", "", "", ""],
        ["", "", "", "", "", "", ""],
        ["Кузнецов Пётр", "NUMBER", "", "", "", "", "старый клиент"],
        ["Смирнова Ольга", "+7 926 000 00 01", "", "", "", "nobody", ""],
    ];
    for (i, row) in rows.iter().enumerate() {
        let line = i as u32 + 1;
        for (col, value) in row.iter().enumerate() {
            if *value == "NUMBER" {
                // Excel turns a typed 89035556677 into a number.
                sheet.write_number(line, col as u16, 89_035_556_677.0).unwrap();
            } else if !value.is_empty() {
                sheet.write_string(line, col as u16, *value).unwrap();
            }
        }
    }
    book.save(path).unwrap();
}

/// A manager imports the messy file: the columns are guessed from the Russian headers, the
/// preview flags the bad lines, the run shows progress and ends with a row report naming each
/// refused line and why (also as a CSV download); the contacts are findable by any spelling.
/// Then the manager exports a filtered contact list as CSV and XLSX. An operator has no
/// import page, no export links and no export API.
pub(crate) async fn import_messy_xlsx_and_export() {
    let gw = Gateway::start(GatewayOptions::default()).await;
    user(&gw, "maria", "Maria Manager", "manager", None).await;
    user(&gw, "olga", "Olga Operator", "operator", None).await;
    // Already in the CRM: the import's line 7 matches it by phone.
    let existing = gw
        .post(&gw.admin, "/api/contacts", json!({"first_name": "Пётр", "phones": ["+79035556677"]}))
        .await;
    let existing_id = existing["id"].as_str().unwrap().to_owned();
    let Scene { scratch, wav, caller_dir: _, mut driver } = Scene::new("browser-import");
    let file = scratch.0.join("клиенты.xlsx");
    messy_workbook(&file);

    let who = sign_in(&mut driver, &gw, "maria", &wav).await;
    let mut m = Page { driver: &mut driver, who, base: gw.base.clone() };
    m.goto("/contacts").await;
    m.click("#nav-import_export").await;
    m.wait("#upload-form").await;
    m.driver
        .must(json!({"cmd": "upload", "agent": m.who, "selector": "#import-file", "path": file}))
        .await;
    m.click("#upload").await;
    m.wait_text("#file-title", "7").await;
    let mapping =
        m.eval("[...document.querySelectorAll('select.target')].map((s) => s.value)").await;
    assert_eq!(
        mapping,
        json!(["full_name", "phone", "email", "company", "position", "owner", "ignore"]),
        "columns guessed from Russian headers"
    );
    // The preview checks every row without writing: lines 4 and 5 are refused already.
    m.wait_text("#preview-counts", "4").await;
    let flagged = m.eval("[...document.querySelectorAll('#preview tr.rejected td:first-child')].map((td) => td.textContent)").await;
    assert_eq!(flagged, json!(["4", "5"]), "the preview flags the bad phone and the bad email");
    assert_eq!(
        gw.get(&gw.admin, "/api/contacts?q=Иванов").await["total"],
        0,
        "the preview writes nothing"
    );

    m.click("#run-button").await;
    m.wait("#import-summary[data-rejected]").await;
    let summary = m.eval("document.querySelector('#import-summary').textContent").await;
    assert!(summary.as_str().unwrap().contains("Created: 2"), "{summary}");
    assert_eq!(m.eval("document.querySelector('#import-progress').value === document.querySelector('#import-progress').max").await, json!(true), "the bar is full");
    let report = m.eval("[...document.querySelectorAll('#import-report tbody tr')].map((tr) => [...tr.cells].slice(0, 4).map((td) => td.textContent))").await;
    let lines: Vec<(String, String, String)> = report
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r[0].as_str().unwrap().to_owned(),
                r[1].as_str().unwrap().to_owned(),
                r[2].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let line = |n: &str| {
        lines
            .iter()
            .find(|l| l.0 == n)
            .unwrap_or_else(|| panic!("line {n} is in the report: {report}"))
            .clone()
    };
    assert_eq!((line("4").1, line("4").2), ("Rejected".to_owned(), "Телефон".to_owned()));
    assert_eq!((line("5").1, line("5").2), ("Rejected".to_owned(), "Эл. почта".to_owned()));
    assert_eq!((line("8").1, line("8").2), ("Rejected".to_owned(), "owner".to_owned()));
    assert!(
        ["Merged", "Already present"].contains(&line("7").1.as_str()),
        "line 7 went to the existing contact: {report}"
    );
    m.screenshot("import.png").await;
    // The same report as a file.
    let download =
        m.driver.must(json!({"cmd": "download", "agent": m.who, "selector": "#report-link"})).await;
    assert_eq!(download["name"], "клиенты.report.csv");
    let csv = download["text"].as_str().unwrap();
    assert!(csv.contains("line,result,contact_id,field,reason"), "{csv}");
    assert!(
        csv.contains("4,rejected,,Телефон,")
            && csv.contains("8,rejected,,owner,no user with login nobody"),
        "{csv}"
    );
    assert!(
        csv.contains(&format!("7,merged,{existing_id},"))
            || csv.contains(&format!("7,unchanged,{existing_id},")),
        "{csv}"
    );

    // What landed: found by the number as people write it, the two-phone cell as two phones.
    let ivan = gw.get(&gw.admin, "/api/contacts/lookup?phone=%2B7%20916%201234567").await;
    assert_eq!(ivan["matches"][0]["last_name"], "Иванов");
    assert_eq!(ivan["matches"][0]["emails"], json!(["ivan@example.ru"]));
    let anna = gw.get(&gw.admin, "/api/contacts/lookup?phone=84951234567").await;
    assert_eq!(anna["matches"][0]["first_name"], "Анна");
    assert_eq!(anna["matches"][0]["phones"].as_array().unwrap().len(), 2);
    let audit = gw.get(&gw.admin, "/api/audit?action=contact.import_file").await;
    assert_eq!(audit["items"][0]["detail"]["created"], 2, "{audit}");

    // Export what a filter shows.
    m.goto("/contacts").await;
    m.wait("#contacts").await;
    m.fill("#search", "Петрова").await;
    m.click("#search-button").await;
    m.wait_text("#contacts tbody", "Петрова Анна").await;
    m.until("document.querySelector('#export-csv') && document.querySelector('#export-csv').href.includes('q=')", "the export link carries the filter").await;
    let csv =
        m.driver.must(json!({"cmd": "download", "agent": m.who, "selector": "#export-csv"})).await;
    assert_eq!(csv["name"], "contacts.csv");
    let text = csv["text"].as_str().unwrap();
    assert!(
        text.contains("Петрова") && !text.contains("Иванов"),
        "the export keeps the filter: {text}"
    );
    assert!(text.contains("+79031112233, +74951234567"), "{text}");
    let bytes = m.eval("fetch(document.querySelector('#export-xlsx').href).then((r) => r.arrayBuffer()).then((b) => Array.from(new Uint8Array(b)))").await;
    let bytes: Vec<u8> = bytes
        .as_array()
        .unwrap()
        .iter()
        .map(|b| u8::try_from(b.as_u64().unwrap()).unwrap())
        .collect();
    let table = switchboard_import::read_table_bytes(
        "contacts.xlsx",
        &bytes,
        switchboard_import::CsvOptions::default(),
    )
    .unwrap();
    assert_eq!(table.rows.len(), 1, "one contact matches the filter");
    // Headers in the page's language, which the import reads back either way.
    let last_name = table.headers.iter().position(|h| h == "Last name" || h == "Фамилия").unwrap();
    assert_eq!(table.rows[0].1[last_name], "Петрова");
    let exports = gw.get(&gw.admin, "/api/audit?action=contact.export").await;
    assert_eq!(exports["total"], 2, "each export is audit-logged: {exports}");

    // A CSV saved by Russian Excel (Windows-1251, `;`, CRLF): detected and shown, changeable.
    let text =
        "Фамилия;Имя;Телефон\r\nСмирнов;Олег;+7 926 555 44 33\r\nКозлова;Вера;8 926 555 44 34\r\n";
    let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode(text);
    let file = scratch.0.join("excel.csv");
    std::fs::write(&file, &bytes).unwrap();
    m.goto("/import").await;
    m.wait("#upload-form").await;
    m.driver
        .must(json!({"cmd": "upload", "agent": m.who, "selector": "#import-file", "path": file}))
        .await;
    m.click("#upload").await;
    m.wait("#csv-format").await;
    assert_eq!(m.eval("[document.querySelector('#csv-encoding').value, document.querySelector('#csv-separator').value]").await, json!(["windows-1251", ";"]));
    m.wait_text("#mapping tbody", "Фамилия").await;
    m.wait_text("#preview-counts", "2").await;
    assert_eq!(m.eval("[...document.querySelectorAll('#preview tbody tr td:first-child')].map((td) => td.textContent)").await, json!(["2", "3"]), "the file's own line numbers");
    // Read as another encoding, the letters go wrong; back, they are right again.
    m.driver.must(json!({"cmd": "select", "agent": m.who, "selector": "#csv-encoding", "value": "KOI8-R"})).await;
    m.until("!document.querySelector('#mapping tbody').textContent.includes('Фамилия') && document.querySelector('#csv-encoding').value === 'KOI8-R'", "read again as KOI8-R").await;
    m.driver.must(json!({"cmd": "select", "agent": m.who, "selector": "#csv-encoding", "value": "windows-1251"})).await;
    m.wait_text("#mapping tbody", "Фамилия").await;
    m.click("#run-button").await;
    m.wait("#import-summary[data-rejected]").await;
    let smirnov = gw.get(&gw.admin, "/api/contacts/lookup?phone=89265554433").await;
    assert_eq!(smirnov["matches"][0]["last_name"], "Смирнов", "{smirnov}");

    // The operator gets none of it.
    let who = sign_in(m.driver, &gw, "olga", &wav).await;
    let mut o = Page { driver: m.driver, who, base: gw.base.clone() };
    o.goto("/contacts").await;
    o.wait("#contacts").await;
    o.wait("#total").await;
    assert_eq!(
        o.count("#nav-import_export").await + o.count("#export-csv").await,
        0,
        "no import or export for an operator"
    );
    assert_eq!(o.status("/import").await, 403);
    assert_eq!(o.status("/api/export/contacts?format=csv").await, 403);
    let refused = o.eval("fetch('/api/imports?name=x.csv', { method: 'POST', body: 'phone\\n+79161234567\\n' }).then((r) => r.status)").await;
    assert_eq!(refused, json!(403));
    driver.quit().await;
    gw.stop().await;
}

/// An admin walks the administration: creates a user (with a generated password shown once)
/// and a team with a supervisor, a queue with members and a strategy, gives the user a SIP
/// extension, sees the trunk registered to a SIPp registrar, adds a stage and a custom field,
/// changes the dispositions and the retention; every change is in the audit log, and the new
/// disposition is offered to agents. Operators, supervisors and managers get no admin page.
pub(crate) async fn admin_sections_and_refusals() {
    let scratch_reg = crate::harness::Scratch::new("browser-admin-registrar");
    let registrar = SippRun {
        keys: vec![("password", "reg-secret".into()), ("expires", "2".into())],
        ..SippRun::new("registrar.xml", &scratch_reg.tone_dir("pbx", 440.0))
    };
    let registrar_uri = format!("sip:127.0.0.1:{}", registrar.port);
    let registrar = registrar.spawn();
    let gw = Gateway::start(GatewayOptions {
        registrations: vec![("provider".into(), registrar_uri, "reg-secret".into(), 2)],
        ..GatewayOptions::default()
    })
    .await;
    user(&gw, "sveta", "Sveta Supervisor", "supervisor", None).await;
    user(&gw, "maria", "Maria Manager", "manager", None).await;
    user(&gw, "alla", "Alla Admin", "admin", None).await;
    let Scene { scratch: _scratch, wav, caller_dir: _, mut driver } = Scene::new("browser-admin");

    // Refused roles: no header link, 403 on the page and on the admin APIs.
    for login in ["sveta", "maria"] {
        let who = sign_in(&mut driver, &gw, login, &wav).await;
        let mut p = Page { driver: &mut driver, who, base: gw.base.clone() };
        p.goto("/contacts").await;
        p.wait("#contacts").await;
        assert_eq!(p.count("#nav-admin").await, 0, "{login} has no admin link");
        assert_eq!(p.status("/admin").await, 403, "{login} may not open /admin");
        assert_eq!(p.status("/api/settings").await, 403, "{login} may not read the settings");
        let patch = p.eval("fetch('/api/settings', { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ retention_days: 1 }) }).then((r) => r.status)").await;
        assert_eq!(patch, json!(403));
    }

    let who = sign_in(&mut driver, &gw, "alla", &wav).await;
    let mut a = Page { driver: &mut driver, who, base: gw.base.clone() };
    a.goto("/contacts").await;
    a.click("#nav-admin").await;
    a.wait("#users").await;

    // A user with a generated password.
    a.click("#new-user").await;
    a.fill("#dialog input[name=login]", "oleg").await;
    a.fill("#dialog input[name=name]", "Oleg Operator").await;
    a.click("#dialog-ok").await;
    let password = a.wait("#generated-password").await;
    assert!(password.len() >= 12, "a generated password is shown once: {password:?}");
    a.click("#dialog-ok").await;
    a.wait_text("#users", "Oleg Operator").await;
    let users = gw.get(&gw.admin, "/api/users").await;
    let oleg = users.as_array().unwrap().iter().find(|u| u["login"] == "oleg").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let sveta = users.as_array().unwrap().iter().find(|u| u["login"] == "sveta").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // A team supervised by Sveta, with Oleg in it.
    a.click("#tab-teams").await;
    a.click("#new-team").await;
    a.fill("#dialog input[name=name]", "Продажи").await;
    a.driver.must(json!({"cmd": "select", "agent": a.who, "selector": "#dialog select[name=supervisor_id]", "value": sveta})).await;
    a.click("#dialog-ok").await;
    a.wait_text("#teams", "Продажи").await;
    a.wait_text("#teams", "Sveta Supervisor").await;
    let team = gw.get(&gw.admin, "/api/teams").await;
    let team_id = team[0]["id"].as_str().unwrap().to_owned();
    a.click("#tab-users").await;
    a.click(&format!("#users button[data-edit='{oleg}']")).await;
    a.driver.must(json!({"cmd": "select", "agent": a.who, "selector": "#dialog select[name=team_id]", "value": team_id})).await;
    a.click("#dialog-ok").await;
    a.wait_text(&format!("#users tr[data-id='{oleg}']"), "Продажи").await;

    // Oleg's SIP phone: an extension with a password.
    a.click(&format!("#users button[data-sip='{oleg}']")).await;
    a.fill("#dialog input[name=extension]", "201").await;
    a.fill("#dialog input[name=password]", "phone-secret-1").await;
    a.click("#dialog-ok").await;
    a.wait("#users").await;
    assert_eq!(gw.get(&gw.admin, &format!("/api/users/{oleg}/sip")).await["extension"], "201");

    // A queue: round robin, Oleg a member, not recorded.
    a.click("#tab-queues").await;
    a.click("#new-queue").await;
    a.fill("#dialog input[name=name]", "Поддержка").await;
    a.fill("#dialog input[name=number]", "300").await;
    a.driver.must(json!({"cmd": "select", "agent": a.who, "selector": "#dialog select[name=strategy]", "value": "round_robin"})).await;
    a.click(&format!("#dialog input[name='m-{oleg}']")).await;
    a.click("#dialog input[name=record]").await;
    a.click("#dialog-ok").await;
    a.wait_text("#queues", "Поддержка").await;
    let queues = gw.get(&gw.admin, "/api/queues").await;
    let queue = queues.as_array().unwrap().iter().find(|q| q["name"] == "Поддержка").unwrap();
    assert_eq!(
        (queue["strategy"].clone(), queue["members"].clone(), queue["record"].clone()),
        (json!("round_robin"), json!([oleg]), json!(false))
    );

    // The trunk's registration, live.
    a.click("#tab-telephony").await;
    a.driver.must(json!({"cmd": "wait", "agent": a.who, "selector": "#trunks tr[data-state=registered]", "timeout": 15000})).await;
    a.wait_text("#trunks", "provider").await;

    // A stage and a custom field.
    a.click("#tab-stages").await;
    a.click("#new-stage").await;
    a.fill("#dialog input[name=name]", "Счёт выставлен").await;
    a.fill("#dialog input[name=probability]", "70").await;
    a.click("#dialog-ok").await;
    a.wait_text("#stages", "Счёт выставлен").await;
    a.click("#tab-fields").await;
    a.click("#new-field").await;
    a.fill("#dialog input[name=key]", "tier").await;
    a.fill("#dialog input[name=label]", "Уровень").await;
    a.driver.must(json!({"cmd": "select", "agent": a.who, "selector": "#dialog select[name=field_type]", "value": "choice"})).await;
    a.fill("#dialog input[name=choices]", "gold, silver").await;
    a.click("#dialog-ok").await;
    a.wait_text("#fields", "Уровень").await;
    // Edited: a new label and a third choice.
    let field = gw.get(&gw.admin, "/api/custom-fields?entity=contact").await;
    let field_id = field[0]["id"].as_str().unwrap().to_owned();
    a.click(&format!("#fields button[data-edit='{field_id}']")).await;
    a.fill("#dialog input[name=label]", "Уровень клиента").await;
    a.fill("#dialog input[name=choices]", "gold, silver, bronze").await;
    a.click("#dialog-ok").await;
    a.wait_text("#fields", "gold, silver, bronze").await;
    a.wait_text("#fields", "Уровень клиента").await;
    // A bad key is refused inside the dialog, naming the field.
    a.click("#new-field").await;
    a.eval("document.querySelector('#dialog input[name=key]').removeAttribute('pattern')").await;
    a.fill("#dialog input[name=key]", "Bad Key").await;
    a.fill("#dialog input[name=label]", "x").await;
    a.click("#dialog-ok").await;
    a.wait_text("#dialog-error", "key").await;
    a.click("#dialog-cancel").await;

    // Dispositions and retention.
    a.click("#tab-settings").await;
    a.wait("#settings-form").await;
    a.fill("#dispositions", "resolved\ncallback_later\nwrong_number").await;
    a.fill("#retention-days", "90").await;
    a.click("#save-settings").await;
    a.wait("#settings-saved:not([hidden])").await;
    let settings = gw.get(&gw.admin, "/api/settings").await;
    assert_eq!(settings["dispositions"], json!(["resolved", "callback_later", "wrong_number"]));
    assert_eq!(
        (settings["retention_days"].clone(), settings["source"]["retention_days"].clone()),
        (json!(90), json!("admin"))
    );
    // Labels in any script are fine; the same one twice is not (here the key and its words).
    a.fill("#dispositions", "resolved\nResolved").await;
    a.click("#save-settings").await;
    a.wait_text("#error", "dispositions[1]").await;
    a.screenshot("admin.png").await;

    // Every change is in the audit log, browsable.
    a.click("#nav-audit_log").await;
    for action in [
        "user.create",
        "user.update",
        "user.sip_endpoint",
        "team.create",
        "queue.create",
        "stage.create",
        "custom_field.create",
        "custom_field.update",
        "setting.update",
    ] {
        a.wait(&format!("#audit tr[data-action='{action}'] .sentence")).await;
    }
    // Said as a sentence, the raw record behind a toggle.
    let line = a.eval("document.querySelector(\"#audit tr[data-action='team.create'] .sentence\").textContent").await;
    assert!(line.as_str().unwrap().contains(": team created"), "{line}");
    let audit = gw.get(&gw.admin, "/api/audit?action=setting.update").await;
    let retention = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["entity_id"] == "recordings.retention_days")
        .expect("the retention change is audited");
    assert_eq!(retention["detail"]["after"], 90);
    // The console offers the new disposition.
    a.goto("/console").await;
    let offered = a
        .eval("[...document.querySelectorAll('#form-disposition option')].map((o) => o.value)")
        .await;
    assert_eq!(offered, json!(["resolved", "callback_later", "wrong_number"]));
    assert!(
        registrar.wait(Duration::from_secs(30)).await,
        "the registrar accepted the gateway's REGISTERs"
    );
    driver.quit().await;
    gw.stop().await;
}
