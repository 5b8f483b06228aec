//! Making a document: the values a deal fills a template with, rendering on a blocking
//! thread, numbering, approval and who is told. The API's `POST /api/deals/{id}/documents`
//! and the demo generator both make documents this way.

use std::collections::BTreeMap;

use switchboard_core::entity::Deal;
use switchboard_core::role::Role;
use switchboard_core::sales::{Document, DocumentTemplate, approval_reason};
use switchboard_docs::{ItemsTable, Values};
use switchboard_store::{Actor, NewDocument, Store};

use crate::error::{ApiError, ApiResult};
use crate::i18n::{Lang, t};
use crate::routes::documents::document_settings;

/// Setting: our company's requisites as documents print them (a JSON object: name, inn, kpp,
/// ogrn, address, bank, bik, account, corr_account, director, phone, email).
pub const SELLER_SETTING: &str = "documents.seller";

/// Makes `template`'s document for `deal`: rendered to PDF first (a template that fails leaves
/// nothing behind), then stored with the next number of its kind this year (`utc_offset_ms`
/// says where the year and the date are). Above the approval limits it waits for an approver,
/// who is told in the app.
pub async fn make_document(
    store: &Store,
    actor: &Actor,
    deal: &Deal,
    template: &DocumentTemplate,
    utc_offset_ms: i64,
) -> Result<Document, ApiError> {
    let settings = document_settings(store).await?;
    let now = switchboard_store::now_ms();
    let (date, year) = switchboard_docs::date(now, utc_offset_ms);
    for _ in 0..5 {
        let seq = store.next_document_number(template.kind, year).await?;
        let (values, total, max_discount, currency) =
            values(store, &deal.id, seq, &date, &template.name).await?;
        let source = template.source.clone();
        let pdf = tokio::task::spawn_blocking(move || switchboard_docs::render(&source, &values))
            .await
            .map_err(|_| ApiError::invalid("template_id", "the document could not be rendered"))?
            .map_err(|e| {
                ApiError::invalid("template_id", format!("the template does not render: {e}"))
            })?;
        let reason = approval_reason(
            total,
            max_discount,
            settings.approval_amount.map(|a| (a * 100.0).round() as i64),
            settings.approval_discount.map(|d| (d * 100.0).round() as i64),
        );
        let new = NewDocument {
            deal_id: deal.id.clone(),
            template_id: template.id.clone(),
            kind: template.kind,
            title: template.name.clone(),
            year,
            seq,
            total_minor: total,
            currency,
            max_discount,
            approval_reason: reason.map(str::to_owned),
            pdf,
        };
        if let Some(doc) = store.insert_document(actor, new).await? {
            if reason.is_some() {
                let to = approvers(store, settings.approver_role).await?;
                let body = format!("{} № {} · {}", doc.title, doc.number, deal.title);
                store.notify_users(&to, "approval", Some(&deal.id), &body).await?;
            }
            return Ok(doc);
        }
    }
    Err(ApiError::Conflict("documents are being numbered too fast; try again".into()))
}

/// The values a deal fills a template with.
async fn values(
    store: &Store,
    deal_id: &str,
    number: i64,
    date: &str,
    title: &str,
) -> ApiResult<(Values, i64, i64, String)> {
    let deal = store.get_deal(deal_id).await?;
    let items = store.deal_items(deal_id).await?;
    let totals = store.deal_item_totals(deal_id).await?;
    let settings = document_settings(store).await?;
    let contact = match &deal.contact_id {
        Some(id) => store.get_contact(id).await.ok(),
        None => None,
    };
    let company_id =
        deal.company_id.clone().or_else(|| contact.as_ref().and_then(|c| c.company_id.clone()));
    let company = match &company_id {
        Some(id) => store.get_company(id).await.ok(),
        None => None,
    };
    let owner = match &deal.owner_id {
        Some(id) => store.get_user(id).await.ok().map(|u| u.name),
        None => None,
    };
    let ru = Lang::Ru;
    let currency_word =
        if deal.currency == "RUB" { "руб.".to_owned() } else { deal.currency.clone() };
    let money = |minor: i64| format!("{} {currency_word}", switchboard_docs::money(minor));
    let percent = |hundredths: i64| {
        let whole = hundredths / 100;
        match hundredths % 100 {
            0 => format!("{whole} %"),
            frac => format!("{whole},{frac:02} %").replace("0 %", " %"),
        }
    };
    let (total, amount_only) = if items.is_empty() {
        let amount = deal.amount_minor.unwrap_or(0);
        (amount, true)
    } else {
        (totals.total_minor, false)
    };
    let vat_line = if amount_only || totals.vat_by_rate.is_empty() {
        t(ru, "doc_no_vat")
    } else {
        totals
            .vat_by_rate
            .iter()
            .map(|v| {
                let label = if totals.prices_include_vat {
                    t(ru, "doc_vat_included")
                } else {
                    t(ru, "doc_vat_on_top")
                };
                format!("{label} {}: {}", percent(v.rate), money(v.vat_minor))
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    let mut fields: BTreeMap<String, String> = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        fields.insert(k.to_owned(), v);
    };
    let s = &settings.seller;
    put("doc.title", title.to_owned());
    put("doc.number", number.to_string());
    put("doc.date", date.to_owned());
    for (k, v) in [
        ("name", &s.name),
        ("inn", &s.inn),
        ("kpp", &s.kpp),
        ("ogrn", &s.ogrn),
        ("address", &s.address),
        ("bank", &s.bank),
        ("bik", &s.bik),
        ("account", &s.account),
        ("corr_account", &s.corr_account),
        ("director", &s.director),
        ("phone", &s.phone),
        ("email", &s.email),
    ] {
        put(&format!("seller.{k}"), v.clone());
    }
    let person = contact.as_ref().map(|c| c.display_name()).unwrap_or_default();
    let client_name = company.as_ref().map(|c| c.name.clone()).unwrap_or_else(|| person.clone());
    put("client.name", client_name);
    put("client.person", person);
    put(
        "client.phone",
        contact
            .as_ref()
            .and_then(|c| c.phones.first())
            .map(|p| p.number.clone())
            .unwrap_or_default(),
    );
    put(
        "client.email",
        contact.as_ref().and_then(|c| c.emails.first()).cloned().unwrap_or_default(),
    );
    if let Some(c) = &company {
        let r = &c.requisites;
        for (k, v) in [
            ("inn", &c.tax_id),
            ("kpp", &r.kpp),
            ("ogrn", &r.ogrn),
            ("address", &c.address),
            ("bank", &r.bank_name),
            ("bik", &r.bik),
            ("account", &r.bank_account),
            ("corr_account", &r.corr_account),
        ] {
            put(&format!("client.{k}"), v.clone().unwrap_or_default());
        }
    }
    put("deal.title", deal.title.clone());
    put("manager.name", owner.unwrap_or_default());
    put("subtotal", money(if amount_only { total } else { totals.gross_minor }));
    put("discount", money(if amount_only { 0 } else { totals.discount_minor }));
    put("vat", money(if amount_only { 0 } else { totals.vat_minor }));
    put("vat_line", vat_line);
    put("total", money(total));
    put("total_in_words", switchboard_docs::amount_in_words(total, &deal.currency));
    put("currency", deal.currency.clone());
    let headers = [
        "doc_col_n",
        "doc_col_name",
        "doc_col_qty",
        "doc_col_unit",
        "doc_col_price",
        "doc_col_discount",
        "doc_col_vat",
        "doc_col_sum",
    ]
    .iter()
    .map(|k| t(ru, k))
    .collect();
    let quantity = |milli: i64| {
        let text = format!("{},{:03}", milli / 1000, milli % 1000);
        text.trim_end_matches('0').trim_end_matches(',').to_owned()
    };
    let rows = if amount_only {
        vec![vec![
            "1".into(),
            deal.title.clone(),
            "1".into(),
            t(ru, "doc_unit_service"),
            money(total),
            String::new(),
            String::new(),
            money(total),
        ]]
    } else {
        items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                vec![
                    (i + 1).to_string(),
                    item.name.clone(),
                    quantity(item.quantity_milli),
                    item.unit.clone(),
                    switchboard_docs::money(item.price_minor),
                    if item.discount > 0 { percent(item.discount) } else { String::new() },
                    item.vat_rate.map_or_else(|| t(ru, "doc_no_vat"), percent),
                    switchboard_docs::money(item.amount_minor),
                ]
            })
            .collect()
    };
    let items_table = ItemsTable {
        headers,
        numeric: vec![true, false, true, false, true, true, true, true],
        rows,
    };
    Ok((
        Values { fields, items: items_table },
        total,
        if amount_only { 0 } else { totals.max_discount },
        deal.currency,
    ))
}

/// Users who approve documents: the approver role's active users (admins only when the role
/// has nobody).
async fn approvers(store: &Store, role: Role) -> ApiResult<Vec<String>> {
    let users = store.list_users().await?;
    let of = |r: Role| {
        users.iter().filter(|u| u.active && u.role == r).map(|u| u.id.clone()).collect::<Vec<_>>()
    };
    let found = of(role);
    Ok(if found.is_empty() { of(Role::Admin) } else { found })
}
