//! Documents from templates: an offer with a large discount waits for approval, is approved,
//! rendered to PDF (read back with poppler's `pdftotext`: the client, the lines, the total and
//! the amount in words) and e-mailed to a real SMTP conversation (a sink on loopback, spoken
//! to by lettre); invoices are numbered per kind and year and listed on the deal's timeline;
//! a template with an unknown placeholder is refused naming it.

use std::sync::{Arc, Mutex};

use base64::Engine;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use switchboard_store::Backend;

use crate::app_test;
use crate::helpers::{TestApp, send};

/// A mail server that takes every message (and refuses recipients at `bounce.example`),
/// keeping what it was given.
async fn smtp_sink() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mail = Arc::new(Mutex::new(Vec::new()));
    let kept = mail.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let kept = kept.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 sink ESMTP\r\n").await.ok();
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(body) = data.as_mut() {
                        if line == "." {
                            kept.lock().unwrap().push(std::mem::take(body));
                            data = None;
                            write.write_all(b"250 queued\r\n").await.ok();
                        } else {
                            body.push_str(&line);
                            body.push('\n');
                        }
                        continue;
                    }
                    let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                    let answer: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 sink\r\n",
                        "MAIL" => b"250 ok\r\n",
                        "RCPT" if line.contains("bounce.example") => b"550 no such mailbox\r\n",
                        "RCPT" => b"250 ok\r\n",
                        "DATA" => {
                            data = Some(String::new());
                            b"354 go on\r\n"
                        }
                        "QUIT" => {
                            write.write_all(b"221 bye\r\n").await.ok();
                            break;
                        }
                        _ => b"250 ok\r\n",
                    };
                    write.write_all(answer).await.ok();
                }
            });
        }
    });
    (port, mail)
}

/// The text of a PDF, as poppler reads it, with every kind of space made plain.
async fn pdf_text(pdf: &[u8]) -> String {
    let path =
        std::env::temp_dir().join(format!("sb-doc-{}.pdf", uuid::Uuid::now_v7().as_simple()));
    std::fs::write(&path, pdf).unwrap();
    let out = tokio::process::Command::new("pdftotext")
        .arg("-layout")
        .arg(&path)
        .arg("-")
        .output()
        .await
        .expect("pdftotext (poppler-utils) is installed");
    let _ = std::fs::remove_file(&path);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).replace(['\u{202f}', '\u{a0}'], " ")
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("no id in {v}")).to_owned()
}

async fn app_with_mail(backend: Backend) -> (TestApp, Arc<Mutex<Vec<String>>>) {
    let (port, mail) = smtp_sink().await;
    let app = TestApp::spawn_with(backend, |s| {
        s.smtp.host = "127.0.0.1".into();
        s.smtp.port = port;
        s.smtp.from = "sales@okna.example".into();
    })
    .await;
    (app, mail)
}

#[tokio::test]
async fn an_offer_with_a_large_discount_is_approved_rendered_and_mailed_sqlite() {
    offer_story(Backend::Sqlite).await;
}

#[tokio::test]
async fn an_offer_with_a_large_discount_is_approved_rendered_and_mailed_postgres() {
    offer_story(Backend::Postgres).await;
}

async fn offer_story(backend: Backend) {
    let (app, mail) = app_with_mail(backend).await;
    let admin = app.admin().await;
    let (head, head_id) = app.user(&admin, "head-approver", "manager").await;
    let (agent, agent_id) = app.user(&admin, "offer-agent", "operator").await;
    let (status, settings) = send(admin.put(app.url("/api/documents/settings")).json(&json!({
        "seller": {"name": "ООО «Окна Плюс»", "inn": "7701234567", "kpp": "770101001", "bank": "ПАО Сбербанк",
                   "bik": "044525225", "account": "40702810900000000001", "corr_account": "30101810400000000225",
                   "director": "Смирнов А. В.", "address": "Москва, ул. Лесная, 5"},
        "approval_amount": null, "approval_discount": 15, "approver_role": "manager"
    }))).await;
    assert_eq!(status, StatusCode::OK, "{settings}");
    assert_eq!(settings["email_enabled"], true);

    let (_, company) = send(agent.post(app.url("/api/companies")).json(&json!({
        "name": "ООО «Ромашка»", "tax_id": "5001234567", "address": "Химки, ул. Мира, 1",
        "requisites": {"kpp": "500101001", "bank_name": "АО Альфа-Банк", "bik": "044525593", "bank_account": "40702810000000000002"}
    }))).await;
    assert_eq!(company["requisites"]["kpp"], "500101001", "{company}");
    let (_, contact) = send(agent.post(app.url("/api/contacts")).json(&json!({
        "first_name": "Ольга", "last_name": "Лебедева", "phones": ["+79161234500"], "emails": ["olga@romashka.example"], "company_id": id(&company)
    }))).await;
    let (_, deal) = send(agent.post(app.url("/api/deals")).json(&json!({
        "title": "Остекление офиса", "contact_id": id(&contact), "company_id": id(&company)
    })))
    .await;
    let deal_id = id(&deal);
    let (_, window) = send(
        head.post(app.url("/api/products"))
            .json(&json!({"name": "Окно ПВХ 1200×1400", "unit": "шт", "price": 12200})),
    )
    .await;
    let (status, _) = send(
        agent
            .post(app.url(&format!("/api/deals/{deal_id}/items")))
            .json(&json!({"product_id": id(&window), "quantity": 2, "discount": 20})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    let (_, templates) = send(agent.get(app.url("/api/document-templates"))).await;
    let template = |kind: &str| {
        templates
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["kind"] == kind)
            .map(id)
            .unwrap_or_else(|| panic!("no {kind} in {templates}"))
    };
    let docs_url = app.url(&format!("/api/deals/{deal_id}/documents"));

    // 20% is above the 15% the settings allow: the offer waits, and the head of sales is told.
    let (status, offer) =
        send(agent.post(&docs_url).json(&json!({"template_id": template("offer")}))).await;
    assert_eq!(status, StatusCode::CREATED, "{offer}");
    assert_eq!(
        (offer["status"].as_str(), offer["approval_reason"].as_str(), offer["number"].as_str()),
        (Some("pending"), Some("discount"), Some("1"))
    );
    assert_eq!(offer["total_minor"], 1_952_000);
    let offer_id = id(&offer);
    let (_, notes) = send(head.get(app.url("/api/notifications?unread=true"))).await;
    assert!(
        notes
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "approval" && n["deal_id"] == deal_id.as_str()),
        "{notes}"
    );
    let send_url = app.url(&format!("/api/documents/{offer_id}/send"));
    let (status, refused) = send(agent.post(&send_url).json(&json!({}))).await;
    assert_eq!(status, StatusCode::CONFLICT, "only approved documents go out: {refused}");
    let (status, _) =
        send(agent.post(app.url(&format!("/api/documents/{offer_id}/approve"))).json(&json!({})))
            .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "an operator does not approve");
    let (status, err) =
        send(head.post(app.url(&format!("/api/documents/{offer_id}/reject"))).json(&json!({})))
            .await;
    assert_eq!(
        (status, err["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("comment"))
    );
    let (status, approved) = send(
        head.post(app.url(&format!("/api/documents/{offer_id}/approve")))
            .json(&json!({"comment": "Согласовано, постоянный клиент"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    assert_eq!(
        (approved["status"].as_str(), approved["decided_by"].as_str()),
        (Some("approved"), Some(head_id.as_str()))
    );
    let (_, notes) = send(agent.get(app.url("/api/notifications?unread=true"))).await;
    assert!(notes.as_array().unwrap().iter().any(|n| n["kind"] == "document_approved"), "{notes}");

    // The PDF says who, what, how much, and the sum in words.
    let res = agent.get(app.url(&format!("/api/documents/{offer_id}/pdf"))).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "application/pdf");
    let pdf = res.bytes().await.unwrap().to_vec();
    assert!(pdf.starts_with(b"%PDF"), "a PDF");
    let text = pdf_text(&pdf).await;
    for expected in [
        "Коммерческое предложение № 1",
        "ООО «Ромашка»",
        "ООО «Окна Плюс»",
        "Окно ПВХ 1200×1400",
        "19 520,00",
        "Девятнадцать тысяч пятьсот двадцать рублей 00 копеек",
        "Ольга",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from the offer:\n{text}");
    }

    // Sent to the contact's address: the sink got it, with the same PDF attached.
    let (status, sent) = send(agent.post(&send_url).json(&json!({}))).await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    assert_eq!(
        (sent["sends"][0]["to_address"].as_str(), sent["sends"][0]["error"].as_str()),
        (Some("olga@romashka.example"), None)
    );
    let message = mail.lock().unwrap().last().cloned().expect("the sink got the message");
    assert!(message.contains("To: olga@romashka.example"), "{message}");
    assert!(message.contains("application/pdf"), "{message}");
    let attachment: String = message
        .split("Content-Type: application/pdf")
        .nth(1)
        .expect("a PDF part")
        .split("Content-Transfer-Encoding: base64")
        .nth(1)
        .expect("in base64")
        .lines()
        .skip_while(|l| l.trim().is_empty() || l.contains(':'))
        .take_while(|l| !l.trim().is_empty() && !l.starts_with("--"))
        .collect();
    let attached = base64::engine::general_purpose::STANDARD.decode(attachment.trim()).unwrap();
    assert!(
        attached == pdf,
        "the attachment is the document ({} bytes, the document {})",
        attached.len(),
        pdf.len()
    );
    // A refusal by the mail server is logged and said.
    let (status, _) =
        send(agent.post(&send_url).json(&json!({"to": "nobody@bounce.example"}))).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let (_, doc) = send(agent.get(app.url(&format!("/api/documents/{offer_id}")))).await;
    assert_eq!(doc["sends"].as_array().unwrap().len(), 2);
    assert!(doc["sends"][1]["error"].as_str().unwrap().contains("550"), "{doc}");

    // Invoices have their own numbers, and every document is on the deal's timeline.
    for expected in ["1", "2"] {
        let (status, invoice) =
            send(agent.post(&docs_url).json(&json!({"template_id": template("invoice")}))).await;
        assert_eq!(
            (status, invoice["number"].as_str()),
            (StatusCode::CREATED, Some(expected)),
            "{invoice}"
        );
    }
    let (_, listed) = send(agent.get(&docs_url)).await;
    assert_eq!(listed.as_array().unwrap().len(), 3);
    let invoice_pdf = agent
        .get(app.url(&format!("/api/documents/{}/pdf", id(&listed[0]))))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let text = pdf_text(&invoice_pdf).await;
    for expected in [
        "Счёт на оплату № 2",
        "044525225",
        "5001234567",
        "Девятнадцать тысяч пятьсот двадцать рублей 00 копеек",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from the invoice:\n{text}");
    }
    let (_, timeline) = send(agent.get(app.url(&format!("/api/deals/{deal_id}/timeline")))).await;
    let docs: Vec<(&str, &str)> = timeline
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "document")
        .filter_map(|i| Some((i["doc_kind"].as_str()?, i["text"].as_str()?)))
        .collect();
    assert_eq!(docs.len(), 3, "{timeline}");
    assert!(docs.contains(&("offer", "1")) && docs.contains(&("invoice", "2")), "{docs:?}");
    let _ = agent_id;
    app.finish().await;
}

app_test!(templates_with_unknown_placeholders_or_errors_are_refused, |app| {
    let admin = app.admin().await;
    let (_, templates) = send(admin.get(app.url("/api/document-templates"))).await;
    assert_eq!(
        templates.as_array().unwrap().len(),
        4,
        "offer, invoice, contract and act to start with"
    );
    let act =
        id(&templates.as_array().unwrap().iter().find(|t| t["kind"] == "act").unwrap().clone());
    let (status, err) = send(
        admin
            .patch(app.url(&format!("/api/document-templates/{act}")))
            .header("accept-language", "en")
            .json(&json!({"source": "Акт для {{client.name}}\nИНН {{client.inn_number}}"})),
    )
    .await;
    assert_eq!(
        (status, err["field"].as_str(), err["input"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("source"), Some("client.inn_number")),
        "{err}"
    );
    assert!(err["message"].as_str().unwrap().contains("client.inn_number"), "{err}");
    let (status, err) =
        send(admin.post(app.url("/api/document-templates")).json(
            &json!({"kind": "invoice", "name": "Кривой", "source": "#let x = (\n{{total}}"}),
        ))
        .await;
    assert_eq!(
        (status, err["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("source")),
        "{err}"
    );
    let (status, made) = send(admin.post(app.url("/api/document-templates")).json(&json!({"kind": "invoice", "name": "Счёт (короткий)", "source": "= Счёт № {{doc.number}}\n{{items}}\nИтого: {{total}}"}))).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let (_, placeholders) = send(admin.get(app.url("/api/document-templates/placeholders"))).await;
    assert!(placeholders.as_array().unwrap().iter().any(|p| p["name"] == "total_in_words"));
});
