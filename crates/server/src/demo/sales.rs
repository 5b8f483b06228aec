//! The sales side of the demo: a product catalogue, leads from a website form and an
//! integration with their sources and campaigns, line items on their deals, deals moved along
//! the pipeline and some of them won or lost, and expected close dates for the forecast.

use switchboard_core::PhoneNumber;
use switchboard_core::entity::DealStatus;
use switchboard_core::sales::DocKind;
use switchboard_store::{Actor, LeadSource, NewDealItem, NewLead, NewLeadForm, NewProduct, Store};

use super::{DemoLang, Rng};

/// (name, unit, price in roubles, VAT in hundredths of a percent)
const PRODUCTS_RU: &[(&str, &str, i64, Option<i64>)] = &[
    ("Окно ПВХ 1200×1400", "шт", 12_200, Some(2200)),
    ("Балконный блок", "шт", 24_500, Some(2200)),
    ("Москитная сетка", "шт", 1_800, Some(2200)),
    ("Монтаж окна", "шт", 3_500, None),
    ("Замер", "выезд", 0, None),
];
const PRODUCTS_EN: &[(&str, &str, i64, Option<i64>)] = &[
    ("PVC window 1200×1400", "pcs", 12_200, Some(2200)),
    ("Balcony door unit", "pcs", 24_500, Some(2200)),
    ("Insect screen", "pcs", 1_800, Some(2200)),
    ("Window installation", "svc", 3_500, None),
    ("Measurement", "svc", 0, None),
];
/// (utm_source or the integration's source, campaign)
const SOURCES: &[(&str, &str)] = &[
    ("yandex", "okna-zima"),
    ("yandex", "balkony"),
    ("google", "okna-zima"),
    ("vk", ""),
    ("partner", ""),
];

/// What the sales demo made.
#[derive(Debug, Clone, Default)]
pub(super) struct SalesSummary {
    /// Leads taken.
    pub(super) leads: usize,
    /// Products in the catalogue.
    pub(super) products: usize,
    /// Documents made (invoices of won deals, offers of open ones).
    pub(super) documents: usize,
}

/// Seeds the catalogue and leads for about one contact in four of `contacts` (id, number);
/// the site's form gives its leads to `team`'s members (a lead posted later finds them too).
#[allow(clippy::too_many_arguments)]
pub(super) async fn seed_sales(
    store: &Store,
    rng: &mut Rng,
    lang: DemoLang,
    team: Option<String>,
    agents: &[String],
    contacts: &[(String, String)],
    now: i64,
    utc_offset_ms: i64,
) -> anyhow::Result<SalesSummary> {
    let system = Actor::system();
    let mut summary = SalesSummary::default();
    let mut products = Vec::new();
    for (name, unit, price, vat) in if lang == DemoLang::Ru { PRODUCTS_RU } else { PRODUCTS_EN } {
        let p = store
            .create_product(
                &system,
                NewProduct {
                    name: (*name).into(),
                    sku: None,
                    unit: (*unit).into(),
                    price_minor: price * 100,
                    currency: None,
                    vat_rate: *vat,
                },
            )
            .await?;
        products.push(p.id);
    }
    summary.products = products.len();
    let form = store
        .create_lead_form(
            &system,
            NewLeadForm {
                // A site's name reads the same in every language.
                name: "okna-plus.ru".into(),
                callback_minutes: 15,
                team_id: team,
                allowed_origins: vec!["*".into()],
                active: true,
            },
            format!("demo{:016x}{:016x}", rng.next(), rng.next()),
        )
        .await?;
    // Our requisites, so the documents print a seller.
    let seller = if lang == DemoLang::Ru {
        serde_json::json!({"name": "ООО «Окна Плюс»", "inn": "7701234567", "kpp": "770101001", "address": "Москва, ул. Лесная, 5",
            "bank": "ПАО Сбербанк", "bik": "044525225", "account": "40702810900000000001", "corr_account": "30101810400000000225", "director": "Смирнов А. В."})
    } else {
        serde_json::json!({"name": "Windows Plus LLC", "inn": "7701234567", "address": "5 Forest St, Moscow", "director": "A. Smith"})
    };
    store.set_setting(&system, switchboard_api::documents::SELLER_SETTING, &seller).await?;
    let templates = store.document_templates().await?;
    let template = |kind: DocKind| templates.iter().find(|t| t.kind == kind).cloned();
    let stages = store.list_stages().await?;
    for (_, number) in contacts {
        if !rng.chance(25) {
            continue;
        }
        let (source, campaign) = *rng.pick(SOURCES);
        let by_form = source != "partner";
        let lead = store
            .take_lead(NewLead {
                form: by_form.then(|| form.clone()),
                name: None,
                phone: Some(PhoneNumber::parse(number, switchboard_core::Region::RU)?),
                email: None,
                message: None,
                source: LeadSource {
                    source: (!by_form).then(|| source.to_owned()),
                    utm_source: by_form.then(|| source.to_owned()),
                    utm_campaign: (!campaign.is_empty()).then(|| campaign.to_owned()),
                    ..LeadSource::default()
                },
                candidates: agents.to_vec(),
            })
            .await?;
        summary.leads += 1;
        let Some(deal_id) = lead.deal_id.clone() else { continue };
        // Most of them get products; then they move on, and some close.
        if rng.chance(70) {
            for _ in 0..rng.range(1, 3) {
                store
                    .add_deal_item(
                        &system,
                        &deal_id,
                        NewDealItem {
                            product_id: Some(rng.pick(&products).clone()),
                            quantity_milli: rng.range(1, 4) * 1000,
                            discount: if rng.chance(20) { 500 } else { 0 },
                            ..NewDealItem::default()
                        },
                    )
                    .await?;
            }
        }
        let ahead = rng.range(0, stages.len().saturating_sub(1) as i64) as usize;
        for stage in stages.iter().skip(1).take(ahead) {
            // A stage that requires what this deal lacks stops it there.
            if store.move_deal(&system, &deal_id, &stage.id).await.is_err() {
                break;
            }
        }
        match rng.range(0, 99) {
            0..25 => {
                // A won deal with products got its invoice.
                if !store.deal_items(&deal_id).await?.is_empty()
                    && let Some(invoice) = template(DocKind::Invoice)
                {
                    let deal = store.get_deal(&deal_id).await?;
                    switchboard_api::documents::make_document(
                        store,
                        &system,
                        &deal,
                        &invoice,
                        utc_offset_ms,
                    )
                    .await
                    .map_err(|e| anyhow::anyhow!("the demo's invoice: {e}"))?;
                    summary.documents += 1;
                }
                store.set_deal_status(&system, &deal_id, DealStatus::Won, None, None).await?;
            }
            25..40 => {
                let reason =
                    (*rng.pick(switchboard_store::settings::DEFAULT_LOSS_REASONS)).to_owned();
                let competitor = rng.chance(40).then(|| {
                    if lang == DemoLang::Ru { "ОкнаСтрой" } else { "WindowCo" }.to_owned()
                });
                store
                    .set_deal_status(&system, &deal_id, DealStatus::Lost, Some(reason), competitor)
                    .await?;
            }
            _ => {
                // Some open deals with products have an offer out.
                if rng.chance(30)
                    && !store.deal_items(&deal_id).await?.is_empty()
                    && let Some(offer) = template(DocKind::Offer)
                {
                    let deal = store.get_deal(&deal_id).await?;
                    switchboard_api::documents::make_document(
                        store,
                        &system,
                        &deal,
                        &offer,
                        utc_offset_ms,
                    )
                    .await
                    .map_err(|e| anyhow::anyhow!("the demo's offer: {e}"))?;
                    summary.documents += 1;
                }
                let expected = now + rng.range(5, 80) * 86_400_000;
                store
                    .update_deal(
                        &system,
                        &deal_id,
                        switchboard_store::DealChanges {
                            expected_close_at: Some(Some(expected)),
                            ..Default::default()
                        },
                    )
                    .await?;
            }
        }
    }
    Ok(summary)
}
