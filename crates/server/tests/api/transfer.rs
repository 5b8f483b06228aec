//! Import and export over HTTP, and the settings admins change in the browser (dispositions,
//! retention, custom fields): what each refuses, and that they reach the store on both backends.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::app_test;
use crate::helpers::send;

const CSV: &str = "Фамилия;Имя;Телефон;Город\nИванова;Мария;8 (916) 123-45-67;Тула\nПлохой;;123;\n;;;\nПетров;Пётр;+7 903 000 11 22;Орёл\n";

async fn wait_done(client: &reqwest::Client, app: &crate::helpers::TestApp, id: &str) -> Value {
    let url = app.url(&format!("/api/imports/{id}"));
    switchboard_testkit::eventually(Duration::from_secs(5), "the import finished", || async {
        let (status, job) = send(client.get(&url)).await;
        assert_eq!(status, StatusCode::OK, "{job}");
        (job["status"] == "done" || job["status"] == "failed").then_some(job)
    })
    .await
}

app_test!(upload_map_preview_run_and_report, |app| {
    let admin = app.admin().await;
    let (manager, _) = app.user(&admin, "imp-manager", "manager").await;
    let (operator, _) = app.user(&admin, "imp-operator", "operator").await;
    let upload = |client: &reqwest::Client, name: &str, body: &'static [u8]| {
        client.post(app.url("/api/imports")).query(&[("name", name)]).body(body)
    };

    // Refusals: the role, an empty file, a type we cannot read, a header with nothing usable.
    assert_eq!(send(upload(&operator, "a.csv", CSV.as_bytes())).await.0, StatusCode::FORBIDDEN);
    let (status, err) = send(upload(&manager, "a.csv", b"")).await;
    assert_eq!((status, err["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("file")));
    let (status, err) = send(upload(&manager, "a.pdf", b"%PDF-1.4")).await;
    assert_eq!(
        (status, err["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("file")),
        "{err}"
    );
    let (status, err) = send(upload(&manager, "a.xlsx", b"not a zip at all")).await;
    assert_eq!(
        (status, err["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("file")),
        "{err}"
    );

    // The columns are guessed; the unknown one is left out.
    let (status, up) = send(upload(&manager, "люди.csv", CSV.as_bytes())).await;
    assert_eq!(status, StatusCode::CREATED, "{up}");
    assert_eq!(up["rows"], 4);
    assert_eq!(up["mapping"], json!(["last_name", "first_name", "phone", "ignore"]));
    let id = up["id"].as_str().unwrap().to_owned();
    // Someone else's upload is not found, even by another manager.
    let (other, _) = app.user(&admin, "imp-manager-2", "manager").await;
    assert_eq!(
        send(other.get(app.url(&format!("/api/imports/{id}")))).await.0,
        StatusCode::NOT_FOUND
    );

    // A custom field made after the upload can take the city column.
    let (status, _) = send(admin.post(app.url("/api/custom-fields")).json(
        &json!({"entity": "contact", "key": "city", "label": "Город", "field_type": "text"}),
    ))
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let mapping = json!(["last_name", "first_name", "mobile", "custom.city"]);
    let (status, err) = send(
        manager
            .post(app.url(&format!("/api/imports/{id}/preview")))
            .json(&json!({"mapping": ["last_name", "first_name", "fax", "ignore"]})),
    )
    .await;
    assert_eq!(
        (status, err["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("mapping[2]")),
        "{err}"
    );
    let (status, err) = send(
        manager
            .post(app.url(&format!("/api/imports/{id}/preview")))
            .json(&json!({"mapping": ["last_name"]})),
    )
    .await;
    assert_eq!(
        (status, err["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("mapping")),
        "{err}"
    );
    let (status, err) = send(
        manager
            .post(app.url(&format!("/api/imports/{id}/preview")))
            .json(&json!({"mapping": ["ignore", "ignore", "ignore", "ignore"]})),
    )
    .await;
    assert_eq!(
        (status, err["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("mapping")),
        "nothing identifies a contact: {err}"
    );
    let (status, preview) = send(
        manager
            .post(app.url(&format!("/api/imports/{id}/preview")))
            .json(&json!({"mapping": mapping})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(
        (preview["ok"].as_u64(), preview["rejected"].as_u64()),
        (Some(2), Some(1)),
        "{preview}"
    );
    assert_eq!(preview["rows"][1]["line"], 3);
    assert!(preview["rows"][1]["error"].as_str().unwrap().starts_with("Телефон"), "{preview}");
    let (status, err) = send(
        manager
            .post(app.url(&format!("/api/imports/{id}/run")))
            .json(&json!({"mapping": mapping, "on_duplicate": "maybe"})),
    )
    .await;
    assert_eq!(
        (status, err["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("on_duplicate"))
    );
    let (status, err) = send(
        manager
            .post(app.url(&format!("/api/imports/{id}/run")))
            .json(&json!({"mapping": mapping, "default_owner": "ghost"})),
    )
    .await;
    assert_eq!(
        (status, err["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("default_owner"))
    );
    assert_eq!(
        send(manager.get(app.url(&format!("/api/imports/{id}/report")))).await.0,
        StatusCode::CONFLICT,
        "no report before the run"
    );

    let (status, started) = send(
        manager
            .post(app.url(&format!("/api/imports/{id}/run")))
            .json(&json!({"mapping": mapping, "default_owner": "imp-manager"})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{started}");
    let job = wait_done(&manager, app, &id).await;
    assert_eq!(
        (
            job["status"].as_str(),
            job["created"].as_u64(),
            job["rejected"].as_u64(),
            job["blank"].as_u64()
        ),
        (Some("done"), Some(2), Some(1), Some(1)),
        "{job}"
    );
    assert_eq!(job["processed"], job["rows"]);
    assert_eq!(
        job["report"],
        json!([{"line": 3, "result": "rejected", "contact_id": "", "field": "Телефон", "reason": job["report"][0]["reason"]}])
    );
    let (status, again) = send(
        manager.post(app.url(&format!("/api/imports/{id}/run"))).json(&json!({"mapping": mapping})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    let res = manager.get(app.url(&format!("/api/imports/{id}/report"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("filename*=UTF-8''%D0%BB%D1%8E%D0%B4%D0%B8.report.csv")
    );
    let report = res.text().await.unwrap();
    assert!(
        report
            .trim_start_matches('\u{feff}')
            .starts_with("line,result,contact_id,field,reason\n3,rejected,,Телефон,"),
        "{report}"
    );

    let (_, found) =
        send(admin.get(app.url("/api/contacts")).query(&[("phone", "+7 916 1234567")])).await;
    let maria = &found["items"][0];
    assert_eq!(
        (
            maria["last_name"].as_str(),
            maria["custom"]["city"].as_str(),
            maria["phones"][0]["kind"].as_str()
        ),
        (Some("Иванова"), Some("Тула"), Some("mobile")),
        "{found}"
    );
    let (_, users) = send(admin.get(app.url("/api/users"))).await;
    let manager_id =
        users.as_array().unwrap().iter().find(|u| u["login"] == "imp-manager").unwrap()["id"]
            .clone();
    assert_eq!(maria["owner_id"], manager_id, "rows without an owner go to the chosen one");
});

app_test!(export_follows_the_list_filters, |app| {
    let admin = app.admin().await;
    let (operator, _) = app.user(&admin, "exp-operator", "operator").await;
    for (first, phone) in [("Анна", "+79160000001"), ("Борис", "+79160000002")] {
        let (status, _) = send(
            admin
                .post(app.url("/api/contacts"))
                .json(&json!({"first_name": first, "last_name": "Тестова", "phones": [phone]})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (_, company) =
        send(admin.post(app.url("/api/companies")).json(&json!({"name": "ООО Ромашка"}))).await;
    let (_, _) = send(
        admin
            .post(app.url("/api/deals"))
            .json(&json!({"title": "Бумага", "amount": 1500.5, "company_id": company["id"]})),
    )
    .await;
    let (_, _) =
        send(admin.post(app.url("/api/deals")).json(&json!({"title": "Скрепки", "amount": 10})))
            .await;

    assert_eq!(send(operator.get(app.url("/api/export/contacts"))).await.0, StatusCode::FORBIDDEN);
    let (status, err) =
        send(admin.get(app.url("/api/export/contacts")).query(&[("format", "pdf")])).await;
    assert_eq!((status, err["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("format")));
    assert_eq!(send(admin.get(app.url("/api/export/users"))).await.0, StatusCode::NOT_FOUND);
    let (status, err) =
        send(admin.get(app.url("/api/export/contacts")).query(&[("phone", "12")])).await;
    assert_eq!(
        (status, err["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("phone")),
        "a bad filter is refused like on the list"
    );

    let res = admin
        .get(app.url("/api/export/contacts"))
        .query(&[("format", "csv"), ("phone", "8 916 000-00-02")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let text = res.text().await.unwrap();
    assert!(text.contains("Борис") && !text.contains("Анна"), "{text}");

    let res = admin
        .get(app.url("/api/export/deals"))
        .query(&[("format", "xlsx"), ("q", "бумага")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let table = switchboard_import::read_table_bytes(
        "deals.xlsx",
        &res.bytes().await.unwrap(),
        switchboard_import::CsvOptions::default(),
    )
    .unwrap();
    assert_eq!(table.rows.len(), 1);
    let cell =
        |name: &str| table.rows[0].1[table.headers.iter().position(|h| h == name).unwrap()].clone();
    assert_eq!(
        (cell("Title"), cell("Amount"), cell("Company"), cell("Status")),
        ("Бумага".to_owned(), "1500.5".to_owned(), "ООО Ромашка".to_owned(), "Open".to_owned())
    );

    let res = admin
        .get(app.url("/api/export/companies"))
        .query(&[("format", "csv")])
        .send()
        .await
        .unwrap();
    assert!(res.text().await.unwrap().contains("ООО Ромашка"));
    let (_, audit) =
        send(admin.get(app.url("/api/audit")).query(&[("action", "deal.export")])).await;
    assert_eq!(audit["items"][0]["detail"]["rows"], 1, "{audit}");
});

// Exports for a Russian reader, opened as Russian Excel would: the XLSX read by a
// spreadsheet reader cell by cell (headers in Russian, the amount a number, the dates date
// cells, the status a word), and the CSV with a BOM, `;` between fields, a decimal comma and
// Russian dates; the contacts' Russian headers map back onto the import's fields.
app_test!(exports_open_in_russian_excel_cell_by_cell, |app| {
    use calamine::{Data, Reader};
    let admin = app.admin().await;
    let (_, company) =
        send(admin.post(app.url("/api/companies")).json(&json!({"name": "ООО «Ромашка»"}))).await;
    let (status, deal) = send(admin.post(app.url("/api/deals")).json(
        &json!({"title": "Бумага; А4", "amount": 1500.5, "currency": "RUB", "company_id": company["id"]}),
    ))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{deal}");
    let (status, _) =
        send(admin.post(app.url("/api/contacts")).json(
            &json!({"first_name": "Анна", "last_name": "Тестова", "phones": ["+79160000001"]}),
        ))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let download = |list: &str, format: &str| {
        admin
            .get(app.url(&format!("/api/export/{list}")))
            .query(&[("format", format)])
            .header("accept-language", "ru-RU,ru;q=0.9")
            .send()
    };

    let bytes = download("deals", "xlsx").await.unwrap().bytes().await.unwrap();
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    let rows: Vec<&[Data]> = sheet.rows().collect();
    let headers: Vec<String> = rows[0].iter().map(|c| c.to_string()).collect();
    assert_eq!(
        headers,
        [
            "ID",
            "Название",
            "Этап",
            "Статус",
            "Сумма",
            "Валюта",
            "Вероятность, %",
            "ID контакта",
            "Компания",
            "Ответственный",
            "Причина проигрыша",
            "Конкурент",
            "Создан",
            "Закрыта"
        ]
    );
    assert_eq!(rows.len(), 2, "one deal");
    let row = rows[1];
    assert_eq!(row[0], Data::String(deal["id"].as_str().unwrap().to_owned()));
    assert_eq!(row[1], Data::String("Бумага; А4".into()));
    assert_eq!(row[2], Data::String("Новая".into()), "the default stage in Russian");
    assert_eq!(row[3], Data::String("В работе".into()));
    assert_eq!(row[4], Data::Float(1500.5), "the amount is a number");
    assert_eq!(row[5], Data::String("RUB".into()));
    assert_eq!(row[8], Data::String("ООО «Ромашка»".into()));
    assert_eq!(row[13], Data::Empty, "not closed");
    let Data::DateTime(created) = &row[12] else { panic!("a date cell: {:?}", row[12]) };
    let created_ms = (created.as_f64() - 25_569.0) * 86_400_000.0;
    let deal_created = deal["created_at"].as_f64().unwrap();
    assert!((created_ms - deal_created).abs() < 1_000.0, "{created_ms} vs {deal_created}");

    let res = download("deals", "csv").await.unwrap();
    let text = res.text().await.unwrap();
    let text = text.strip_prefix('\u{feff}').expect("a BOM, for Excel to read UTF-8");
    let mut lines = text.lines();
    assert!(lines.next().unwrap().starts_with("ID;Название;Этап;Статус;Сумма;Валюта;"), "{text}");
    let cells: Vec<String> = csv::ReaderBuilder::new()
        .delimiter(b';')
        .has_headers(false)
        .from_reader(lines.next().unwrap().as_bytes())
        .records()
        .next()
        .unwrap()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(cells[1], "Бумага; А4");
    assert_eq!(cells[4], "1500,5", "a decimal comma");
    let date = &cells[12];
    assert!(
        date.len() == 19 && date.as_bytes()[2] == b'.' && date.as_bytes()[5] == b'.',
        "dd.mm.yyyy hh:mm:ss: {date}"
    );

    let text = download("contacts", "csv").await.unwrap().text().await.unwrap();
    let table = switchboard_import::read_table_bytes(
        "contacts.csv",
        text.as_bytes(),
        switchboard_import::CsvOptions::default(),
    )
    .unwrap();
    assert_eq!(
        table.headers,
        [
            "ID",
            "Фамилия",
            "Имя",
            "Отчество",
            "Телефоны",
            "Почта",
            "Компания",
            "Должность",
            "Ответственный",
            "Создан"
        ]
    );
    let map = switchboard_import::ColumnMap::from_headers(&table.headers, &[]).unwrap();
    assert_eq!(
        map.targets[1..5],
        [
            switchboard_import::Target::LastName,
            switchboard_import::Target::FirstName,
            switchboard_import::Target::MiddleName,
            switchboard_import::Target::Phone(switchboard_core::entity::PhoneKind::Other)
        ],
        "the import reads the Russian headers back"
    );
});

app_test!(settings_change_dispositions_and_retention, |app| {
    let admin = app.admin().await;
    let (supervisor, _) = app.user(&admin, "set-supervisor", "supervisor").await;
    assert_eq!(send(supervisor.get(app.url("/api/settings"))).await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        send(supervisor.patch(app.url("/api/settings")).json(&json!({"retention_days": 5})))
            .await
            .0,
        StatusCode::FORBIDDEN
    );

    let (status, before) = send(admin.get(app.url("/api/settings"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        before["source"],
        json!({"dispositions": "config", "loss_reasons": "config", "retention_days": "config"})
    );
    for (body, field) in [
        (json!({"dispositions": []}), "dispositions"),
        (json!({"dispositions": ["ok", "x".repeat(61)]}), "dispositions[1]"),
        (json!({"dispositions": ["ok", "a\nb"]}), "dispositions[1]"),
        (json!({"dispositions": ["Заказ оформлен", "заказ оформлен"]}), "dispositions[1]"),
        (json!({"loss_reasons": []}), "loss_reasons"),
        (json!({"retention_days": 100000}), "retention_days"),
        (json!({"retention_days": -1}), "retention_days"),
    ] {
        let (status, err) = send(admin.patch(app.url("/api/settings")).json(&body)).await;
        assert_eq!(
            (status, err["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{body}: {err}"
        );
    }
    let (status, after) = send(
        admin
            .patch(app.url("/api/settings"))
            .json(&json!({"dispositions": ["sold", "Заказ оформлен"], "retention_days": 30})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{after}");
    assert_eq!(
        (after["dispositions"].clone(), after["retention_days"].clone()),
        (json!(["sold", "Заказ оформлен"]), json!(30)),
        "labels in any script"
    );
    assert_eq!(
        after["source"],
        json!({"dispositions": "admin", "loss_reasons": "config", "retention_days": "admin"})
    );
    // Loss reasons: the defaults' keys, then the administrator's own list, which anyone who
    // closes deals reads.
    let (_, reasons) = send(supervisor.get(app.url("/api/loss-reasons"))).await;
    assert_eq!(reasons[0], "price", "{reasons}");
    let (status, _) = send(
        admin
            .patch(app.url("/api/settings"))
            .json(&json!({"loss_reasons": ["Дорого", "Ушли к конкуренту"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, reasons) = send(supervisor.get(app.url("/api/loss-reasons"))).await;
    assert_eq!(reasons, json!(["Дорого", "Ушли к конкуренту"]));
    assert_eq!(
        app.store().retention_days(7).await.unwrap(),
        30,
        "the retention job reads the admin's value"
    );
    let (_, audit) =
        send(admin.get(app.url("/api/audit")).query(&[("action", "setting.update")])).await;
    let retention = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["entity_id"] == "recordings.retention_days")
        .unwrap();
    assert_eq!(
        (retention["detail"]["before"].clone(), retention["detail"]["after"].clone()),
        (Value::Null, json!(30))
    );
    // A second change records the value it replaced.
    send(admin.patch(app.url("/api/settings")).json(&json!({"retention_days": 60}))).await;
    let (_, audit) = send(
        admin
            .get(app.url("/api/audit"))
            .query(&[("action", "setting.update"), ("entity_id", "recordings.retention_days")]),
    )
    .await;
    assert_eq!(
        (
            audit["items"][0]["detail"]["before"].clone(),
            audit["items"][0]["detail"]["after"].clone()
        ),
        (json!(30), json!(60))
    );
});

app_test!(custom_fields_change_label_choices_and_required, |app| {
    let admin = app.admin().await;
    let (manager, _) = app.user(&admin, "cf-manager", "manager").await;
    let (_, field) = send(admin.post(app.url("/api/custom-fields")).json(&json!({"entity": "contact", "key": "tier", "label": "Уровень", "field_type": "choice", "choices": ["gold"]}))).await;
    let url = app.url(&format!("/api/custom-fields/{}", field["id"].as_str().unwrap()));
    assert_eq!(
        send(manager.patch(&url).json(&json!({"label": "x"}))).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, err) = send(admin.patch(&url).json(&json!({"label": "  "}))).await;
    assert_eq!((status, err["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("label")));
    let (status, err) = send(admin.patch(&url).json(&json!({"choices": []}))).await;
    assert_eq!(
        (status, err["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("choices")),
        "a choice field keeps at least one choice"
    );
    let (status, err) = send(admin.patch(&url).json(&json!({"key": "other"}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "the key is fixed: {err}");
    assert_eq!(
        send(admin.patch(app.url("/api/custom-fields/nope")).json(&json!({"label": "x"}))).await.0,
        StatusCode::NOT_FOUND
    );

    let (status, changed) = send(admin.patch(&url).json(
        &json!({"label": "Уровень клиента", "choices": ["gold", "silver"], "required": true}),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(
        (
            changed["label"].as_str(),
            changed["choices"].clone(),
            changed["required"].as_bool(),
            changed["key"].as_str()
        ),
        (Some("Уровень клиента"), json!(["gold", "silver"]), Some(true), Some("tier"))
    );
    // The new choice is accepted at once, and the field is now required.
    let (status, _) = send(
        admin
            .post(app.url("/api/contacts"))
            .json(&json!({"first_name": "Ира", "custom": {"tier": "silver"}})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, err) =
        send(admin.post(app.url("/api/contacts")).json(&json!({"first_name": "Оля"}))).await;
    assert_eq!(
        (status, err["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("custom.tier")),
        "{err}"
    );
    let (_, audit) =
        send(admin.get(app.url("/api/audit")).query(&[("action", "custom_field.update")])).await;
    assert_eq!(audit["items"][0]["detail"]["before"]["label"], "Уровень");
    assert_eq!(audit["items"][0]["detail"]["after"]["choices"], json!(["gold", "silver"]));
});

app_test!(russian_excel_csv_upload_is_detected_and_can_be_overridden, |app| {
    let admin = app.admin().await;
    // What Russian Excel saves as "CSV (разделители — точка с запятой)": Windows-1251, `;`, CRLF.
    let text = "Фамилия;Имя;Телефон\r\nИванова;Мария;8 (916) 123-45-67\r\n\r\nПлохой;Номер;123\r\n";
    let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode(text);
    let bytes = bytes.into_owned();
    let upload = |query: Vec<(&'static str, &'static str)>| {
        admin.post(app.url("/api/imports")).query(&query).body(bytes.clone())
    };
    let (status, up) = send(upload(vec![("name", "клиенты.csv")])).await;
    assert_eq!(status, StatusCode::CREATED, "{up}");
    assert_eq!(up["csv"], json!({"encoding": "windows-1251", "separator": ";"}));
    assert_eq!(up["headers"], json!(["Фамилия", "Имя", "Телефон"]));
    assert_eq!(up["mapping"], json!(["last_name", "first_name", "phone"]));
    // The preview numbers rows as the file's lines (the header is line 1, the blank line 3).
    let id = up["id"].as_str().unwrap();
    let (status, preview) = send(
        admin
            .post(app.url(&format!("/api/imports/{id}/preview")))
            .json(&json!({"mapping": up["mapping"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    let lines: Vec<u64> =
        preview["rows"].as_array().unwrap().iter().map(|r| r["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, [2, 4]);
    assert!(preview["rows"][1]["error"].as_str().unwrap().starts_with("Телефон"), "{preview}");
    // The user says otherwise: read as they say.
    let (status, up) =
        send(upload(vec![("name", "клиенты.csv"), ("encoding", "koi8-r"), ("separator", ",")]))
            .await;
    assert_eq!(status, StatusCode::CREATED, "{up}");
    assert_eq!(up["csv"], json!({"encoding": "KOI8-R", "separator": ","}));
    assert_eq!(up["headers"].as_array().unwrap().len(), 1);
    let (status, err) = send(upload(vec![("name", "клиенты.csv"), ("encoding", "klingon")])).await;
    assert_eq!(
        (status, err["field"].as_str(), err["input"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("encoding"), Some("klingon"))
    );
    let (status, err) = send(upload(vec![("name", "клиенты.csv"), ("separator", "|")])).await;
    assert_eq!(
        (status, err["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("separator"))
    );
});
