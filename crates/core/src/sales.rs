//! The sales process after the deal card: pipelines and the rules that run when a deal enters
//! a stage, the product catalogue, and the arithmetic of a deal's line items.
//!
//! Money is in minor units (kopecks); a quantity in thousandths; a discount and a VAT rate in
//! hundredths of a percent (`2000` is 20%). Every line is rounded once, half away from zero,
//! and the totals are sums of rounded lines, the way an invoice prints them.

use serde::{Deserialize, Serialize};

use crate::EpochMs;
use crate::entity::{TaskKind, UnknownValue, string_enum};
use crate::role::Role;

/// A sequence of stages a deal moves through (sales, service, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Pipeline {
    /// Row id.
    pub id: String,
    /// Name, unique.
    pub name: String,
    /// For the pipeline the system made and nobody renamed (`sales`): the pages say it in the
    /// reader's language.
    pub key: Option<String>,
    /// Order in the pipeline switcher.
    pub position: i64,
    /// Created at.
    pub created_at: EpochMs,
}

string_enum! {
    /// What a stage rule does.
    RuleAction {
        /// Creates a task.
        Task => "task",
        /// Sends an in-app notification.
        Notify => "notify",
    }
}

string_enum! {
    /// Whom a stage rule's task or notification goes to.
    RuleAssignee {
        /// The deal's owner.
        Owner => "owner",
        /// One named user.
        User => "user",
        /// A role: the active user of it with the fewest open tasks takes a task; every active
        /// user of it gets a notification.
        Role => "role",
    }
}

/// Something that happens when a deal enters a stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StageRule {
    /// Row id.
    pub id: String,
    /// The stage whose entry runs it.
    pub stage_id: String,
    /// A task or a notification.
    pub action: RuleAction,
    /// The task's kind (tasks only).
    pub task_kind: TaskKind,
    /// The task's subject, or the notification's text.
    pub subject: String,
    /// To whom.
    pub assignee: RuleAssignee,
    /// The user, when `assignee` is `user`.
    pub assignee_user_id: Option<String>,
    /// The role, when `assignee` is `role`.
    pub assignee_role: Option<Role>,
    /// Due this many hours after the deal entered the stage (or, with `due_field`, at this
    /// hour UTC of that date).
    pub due_hours: Option<i64>,
    /// A deal custom field of type date: the task is due on that date.
    pub due_field: Option<String>,
    /// Order among the stage's rules.
    pub position: i64,
    /// Created at.
    pub created_at: EpochMs,
}

/// A product or service in the catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Product {
    /// Row id.
    pub id: String,
    /// Name as printed on documents.
    pub name: String,
    /// Article number, unique when given.
    pub sku: Option<String>,
    /// Unit of measure (`шт`, `м²`, `ч`).
    pub unit: String,
    /// Price per unit, minor units.
    pub price_minor: i64,
    /// ISO 4217 code of the price.
    pub currency: String,
    /// VAT rate in hundredths of a percent; `None` when sold without VAT.
    pub vat_rate: Option<i64>,
    /// Offered for new line items.
    pub active: bool,
    /// Created at.
    pub created_at: EpochMs,
    /// Last changed at.
    pub updated_at: EpochMs,
}

/// One line of a deal: what the product was when it was added, and how much of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DealItem {
    /// Row id.
    pub id: String,
    /// The deal.
    pub deal_id: String,
    /// The catalogue entry it came from, if any.
    pub product_id: Option<String>,
    /// Name.
    pub name: String,
    /// Article number.
    pub sku: Option<String>,
    /// Unit of measure.
    pub unit: String,
    /// Quantity in thousandths (1500 is 1.5).
    pub quantity_milli: i64,
    /// Price per unit, minor units.
    pub price_minor: i64,
    /// Discount in hundredths of a percent.
    pub discount: i64,
    /// VAT rate in hundredths of a percent; `None` without VAT.
    pub vat_rate: Option<i64>,
    /// Order on the deal.
    pub position: i64,
    /// Created at.
    pub created_at: EpochMs,
    /// The line's sum after discount (what [`line_amount`] says), minor units.
    pub amount_minor: i64,
}

string_enum! {
    /// What a document is.
    DocKind {
        /// Коммерческое предложение.
        Offer => "offer",
        /// Счёт на оплату.
        Invoice => "invoice",
        /// Договор.
        Contract => "contract",
        /// Акт.
        Act => "act",
    }
}

string_enum! {
    /// Where a document stands.
    DocStatus {
        /// Needs no approval: may be sent.
        Ready => "ready",
        /// Waits for an approver.
        Pending => "pending",
        /// Approved: may be sent.
        Approved => "approved",
        /// Rejected: may not be sent.
        Rejected => "rejected",
    }
}

impl DocStatus {
    /// Whether a document in this state may be e-mailed.
    pub fn sendable(self) -> bool {
        matches!(self, DocStatus::Ready | DocStatus::Approved)
    }
}

/// A document template: typst source with `{{placeholders}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DocumentTemplate {
    /// Row id.
    pub id: String,
    /// What it makes.
    pub kind: DocKind,
    /// Name, unique; the document's title.
    pub name: String,
    /// For a template the system made and nobody renamed (`invoice`): the pages say its name
    /// in the reader's language.
    #[serde(default)]
    pub key: Option<String>,
    /// The source.
    pub source: String,
    /// Offered on deals.
    pub active: bool,
    /// Created at.
    pub created_at: EpochMs,
    /// Last changed at.
    pub updated_at: EpochMs,
}

/// A document made for a deal (its PDF is served separately).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Document {
    /// Row id.
    pub id: String,
    /// The deal.
    pub deal_id: String,
    /// The template it was made from.
    pub template_id: Option<String>,
    /// What it is.
    pub kind: DocKind,
    /// Its title (the template's name).
    pub title: String,
    /// Its number within its kind and year.
    pub number: String,
    /// The year of its number.
    pub year: i64,
    /// What the client pays, minor units.
    pub total_minor: i64,
    /// Currency.
    pub currency: String,
    /// The largest line discount, hundredths of a percent.
    pub max_discount: i64,
    /// Ready, pending, approved or rejected.
    pub status: DocStatus,
    /// Why it needs approval: `amount` or `discount`.
    pub approval_reason: Option<String>,
    /// Who approved or rejected it.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<EpochMs>,
    /// The approver's comment.
    pub decision_comment: Option<String>,
    /// The PDF's size in bytes.
    pub pdf_size: i64,
    /// Who made it.
    pub created_by: Option<String>,
    /// When.
    pub created_at: EpochMs,
    /// Its e-mails, oldest first.
    #[serde(default)]
    pub sends: Vec<DocumentSend>,
}

/// One e-mail of a document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DocumentSend {
    /// To whom.
    pub to_address: String,
    /// By whom.
    pub sent_by: Option<String>,
    /// When.
    pub sent_at: EpochMs,
    /// What the mail server said when it refused; `None` when it took the message.
    pub error: Option<String>,
}

/// Whether a document needs approval, and why: its total above `amount_limit` (minor units)
/// or a line's discount above `discount_limit` (hundredths of a percent). `None`: it does not.
pub fn approval_reason(
    total_minor: i64,
    max_discount: i64,
    amount_limit: Option<i64>,
    discount_limit: Option<i64>,
) -> Option<&'static str> {
    if discount_limit.is_some_and(|limit| max_discount > limit) {
        Some("discount")
    } else if amount_limit.is_some_and(|limit| total_minor > limit) {
        Some("amount")
    } else {
        None
    }
}

/// Divides rounding half away from zero.
fn div_round(n: i128, d: i128) -> i128 {
    let q = n / d;
    let r = n % d;
    if 2 * r.abs() >= d.abs() { q + n.signum() * d.signum() } else { q }
}

/// Clamps to the i64 range (a line cannot overflow what the store keeps).
fn to_i64(v: i128) -> i64 {
    v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// A line's sum: quantity × price, less the discount, rounded to the minor unit.
pub fn line_amount(quantity_milli: i64, price_minor: i64, discount: i64) -> i64 {
    let gross = i128::from(quantity_milli) * i128::from(price_minor);
    let net = gross * i128::from(10_000 - discount);
    to_i64(div_round(net, 1000 * 10_000))
}

/// The discount a line gets, minor units: what the full price would be less the line's sum.
pub fn line_discount(quantity_milli: i64, price_minor: i64, discount: i64) -> i64 {
    line_amount(quantity_milli, price_minor, 0) - line_amount(quantity_milli, price_minor, discount)
}

/// The VAT in a line's sum: taken out of it when prices include VAT, else added on top.
pub fn line_vat(amount_minor: i64, vat_rate: Option<i64>, prices_include_vat: bool) -> i64 {
    let Some(rate) = vat_rate.filter(|r| *r > 0) else { return 0 };
    let (amount, rate) = (i128::from(amount_minor), i128::from(rate));
    to_i64(if prices_include_vat {
        div_round(amount * rate, 10_000 + rate)
    } else {
        div_round(amount * rate, 10_000)
    })
}

/// VAT at one rate over a deal's lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VatAtRate {
    /// The rate, hundredths of a percent.
    pub rate: i64,
    /// The VAT, minor units.
    pub vat_minor: i64,
}

/// A deal's line items summed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ItemTotals {
    /// Sum at full prices, minor units.
    pub gross_minor: i64,
    /// Discounts given, minor units.
    pub discount_minor: i64,
    /// Sum of the lines after discount.
    pub net_minor: i64,
    /// VAT in (or on top of) the lines.
    pub vat_minor: i64,
    /// VAT per rate, ascending.
    pub vat_by_rate: Vec<VatAtRate>,
    /// What the client pays: `net_minor`, plus `vat_minor` when prices exclude VAT.
    pub total_minor: i64,
    /// Whether prices include VAT.
    pub prices_include_vat: bool,
    /// The largest discount on any line, hundredths of a percent.
    pub max_discount: i64,
}

/// Sums lines of (quantity, price, discount, VAT rate).
pub fn totals(
    lines: impl IntoIterator<Item = (i64, i64, i64, Option<i64>)>,
    prices_include_vat: bool,
) -> ItemTotals {
    let mut t = ItemTotals {
        gross_minor: 0,
        discount_minor: 0,
        net_minor: 0,
        vat_minor: 0,
        vat_by_rate: Vec::new(),
        total_minor: 0,
        prices_include_vat,
        max_discount: 0,
    };
    for (quantity, price, discount, rate) in lines {
        let net = line_amount(quantity, price, discount);
        t.gross_minor += line_amount(quantity, price, 0);
        t.discount_minor += line_discount(quantity, price, discount);
        t.net_minor += net;
        t.max_discount = t.max_discount.max(discount);
        if let Some(rate) = rate.filter(|r| *r > 0) {
            let vat = line_vat(net, Some(rate), prices_include_vat);
            t.vat_minor += vat;
            match t.vat_by_rate.iter_mut().find(|v| v.rate == rate) {
                Some(v) => v.vat_minor += vat,
                None => t.vat_by_rate.push(VatAtRate { rate, vat_minor: vat }),
            }
        }
    }
    t.vat_by_rate.sort_by_key(|v| v.rate);
    t.total_minor = if prices_include_vat { t.net_minor } else { t.net_minor + t.vat_minor };
    t
}

/// Reads a decimal typed by a person (`1,5`, `2.25`, `3`) as thousandths (quantities) or
/// hundredths (percentages): `scale` is 1000 or 100. `None` when it is not a number or has
/// more decimals than the scale keeps.
pub fn parse_scaled(text: &str, scale: i64) -> Option<i64> {
    let text = text.trim().replace(',', ".");
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    let digits = scale.to_string().len() - 1;
    if whole.is_empty() && frac.is_empty() || frac.len() > digits {
        return None;
    }
    let negative = whole.starts_with('-');
    let whole = whole.trim_start_matches('-');
    if !whole.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let w: i64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let f: i64 = if frac.is_empty() { 0 } else { format!("{frac:0<digits$}").parse().ok()? };
    let v = w.checked_mul(scale)?.checked_add(f)?;
    Some(if negative { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_quantity_times_price_less_discount_rounded_once() {
        // 1.5 m² at 3 333.33: 4 999.995 roubles, 4 500.00 with 10% off (449 999.55 kopecks).
        assert_eq!(line_amount(1500, 333_333, 0), 500_000); // 499 999.5 rounds up
        assert_eq!(line_amount(1500, 333_333, 1000), 450_000); // 449 999.55
        assert_eq!(line_amount(2000, 10_000, 2500), 15_000);
        assert_eq!(line_discount(2000, 10_000, 2500), 5_000);
        assert_eq!(line_amount(0, 10_000, 0), 0);
    }

    #[test]
    fn vat_is_taken_out_of_prices_that_include_it_or_added_on_top() {
        // 12 000.00 including 20%: VAT 2 000.00.
        assert_eq!(line_vat(1_200_000, Some(2000), true), 200_000);
        // 10 000.00 plus 20%: 2 000.00 on top.
        assert_eq!(line_vat(1_000_000, Some(2000), false), 200_000);
        // 22% (the rate since 2026) out of 100.00: 18.03.
        assert_eq!(line_vat(10_000, Some(2200), true), 1_803);
        assert_eq!(line_vat(10_000, None, true), 0);
        assert_eq!(line_vat(10_000, Some(0), false), 0);
    }

    #[test]
    fn totals_sum_rounded_lines_and_group_vat_by_rate() {
        let lines = [
            (1000, 1_220_000, 0, Some(2200)),
            (2000, 50_000, 1000, Some(1000)),
            (1000, 7_000, 0, None),
        ];
        let t = totals(lines, true);
        assert_eq!(t.gross_minor, 1_220_000 + 100_000 + 7_000);
        assert_eq!(t.discount_minor, 10_000);
        assert_eq!(t.net_minor, 1_220_000 + 90_000 + 7_000);
        assert_eq!(
            t.vat_by_rate,
            vec![
                VatAtRate { rate: 1000, vat_minor: 8_182 },
                VatAtRate { rate: 2200, vat_minor: 220_000 }
            ]
        );
        assert_eq!(t.vat_minor, 228_182);
        assert_eq!(t.total_minor, t.net_minor);
        assert_eq!(t.max_discount, 1000);
        let on_top = totals(lines, false);
        assert_eq!(on_top.total_minor, on_top.net_minor + on_top.vat_minor);
    }

    #[test]
    fn large_discounts_and_amounts_need_approval() {
        assert_eq!(approval_reason(100, 1500, None, Some(1000)), Some("discount"));
        assert_eq!(approval_reason(100, 1000, None, Some(1000)), None, "at the limit is allowed");
        assert_eq!(approval_reason(5_000_001, 0, Some(5_000_000), Some(1000)), Some("amount"));
        assert_eq!(approval_reason(5_000_001, 0, None, None), None);
    }

    #[test]
    fn typed_decimals_become_scaled_integers() {
        assert_eq!(parse_scaled("1,5", 1000), Some(1500));
        assert_eq!(parse_scaled("2.25", 100), Some(225));
        assert_eq!(parse_scaled("3", 1000), Some(3000));
        assert_eq!(parse_scaled(".5", 1000), Some(500));
        assert_eq!(parse_scaled("1.2345", 1000), None);
        assert_eq!(parse_scaled("abc", 100), None);
        assert_eq!(parse_scaled("", 100), None);
    }
}
