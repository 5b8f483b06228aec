//! The product catalogue and deals' line items. A deal's amount follows its items (what the
//! client pays, VAT included) until a user types an amount; the VAT rates, whether prices
//! include VAT, and the default currency are settings, never constants.

use serde_json::{Value, json};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use switchboard_core::new_id;
use switchboard_core::sales::{DealItem, ItemTotals, Product, line_amount, totals};
use switchboard_core::text::search_key;

use crate::funnel;
use crate::sql::{Sql, flag, like_contains};
use crate::{Actor, Store, StoreError, audit, now_ms};

/// Setting: whether catalogue and line prices include VAT (a JSON bool; true by default, as
/// Russian retail prices do).
pub const PRICES_INCLUDE_VAT: &str = "sales.prices_include_vat";
/// Setting: the VAT rates offered, percent (a JSON array of numbers).
pub const VAT_RATES: &str = "sales.vat_rates";
/// Setting: the rate new products get, percent (a JSON number, or null for none).
pub const DEFAULT_VAT_RATE: &str = "sales.default_vat_rate";
/// Setting: the currency of new deals and products (ISO 4217).
pub const CURRENCY: &str = "sales.currency";

/// The sales settings as the store applies them.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct SalesSettings {
    /// Whether prices include VAT.
    pub prices_include_vat: bool,
    /// VAT rates offered, hundredths of a percent.
    pub vat_rates: Vec<i64>,
    /// The rate new products get, hundredths of a percent.
    pub default_vat_rate: Option<i64>,
    /// The default currency.
    pub currency: String,
}

/// A product to create.
#[derive(Debug, Clone, Default)]
pub struct NewProduct {
    /// Name.
    pub name: String,
    /// Article number.
    pub sku: Option<String>,
    /// Unit of measure.
    pub unit: String,
    /// Price per unit, minor units.
    pub price_minor: i64,
    /// Currency; `None` is the default.
    pub currency: Option<String>,
    /// VAT rate, hundredths of a percent; `None` without VAT.
    pub vat_rate: Option<i64>,
}

/// Changes to a product.
#[derive(Debug, Clone, Default)]
pub struct ProductChanges {
    /// New name.
    pub name: Option<String>,
    /// New article number.
    pub sku: Option<Option<String>>,
    /// New unit.
    pub unit: Option<String>,
    /// New price.
    pub price_minor: Option<i64>,
    /// New currency.
    pub currency: Option<String>,
    /// New VAT rate.
    pub vat_rate: Option<Option<i64>>,
    /// Offered or withdrawn.
    pub active: Option<bool>,
}

/// A line to add to a deal: from the catalogue (what is not given comes from the product) or
/// typed (name, unit and price needed).
#[derive(Debug, Clone, Default)]
pub struct NewDealItem {
    /// The product.
    pub product_id: Option<String>,
    /// Name (a product's by default).
    pub name: Option<String>,
    /// Unit (a product's by default).
    pub unit: Option<String>,
    /// Quantity in thousandths.
    pub quantity_milli: i64,
    /// Price per unit (a product's by default).
    pub price_minor: Option<i64>,
    /// Discount, hundredths of a percent.
    pub discount: i64,
    /// VAT rate (a product's by default); `Some(None)` without VAT.
    pub vat_rate: Option<Option<i64>>,
}

/// Changes to a line.
#[derive(Debug, Clone, Default)]
pub struct DealItemChanges {
    /// New name.
    pub name: Option<String>,
    /// New unit.
    pub unit: Option<String>,
    /// New quantity.
    pub quantity_milli: Option<i64>,
    /// New price.
    pub price_minor: Option<i64>,
    /// New discount.
    pub discount: Option<i64>,
    /// New VAT rate.
    pub vat_rate: Option<Option<i64>>,
    /// New position.
    pub position: Option<i64>,
}

const PRODUCT_COLUMNS: &str =
    "id, name, sku, unit, price_minor, currency, vat_rate, active, created_at, updated_at";

fn product_from_row(row: &AnyRow) -> Result<Product, StoreError> {
    Ok(Product {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        sku: row.try_get("sku")?,
        unit: row.try_get("unit")?,
        price_minor: row.try_get("price_minor")?,
        currency: row.try_get("currency")?,
        vat_rate: row.try_get("vat_rate")?,
        active: flag(row, "active")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

const ITEM_COLUMNS: &str = "id, deal_id, product_id, name, sku, unit, quantity_milli, price_minor, discount, vat_rate, position, created_at";

fn item_from_row(row: &AnyRow) -> Result<DealItem, StoreError> {
    let quantity_milli: i64 = row.try_get("quantity_milli")?;
    let price_minor: i64 = row.try_get("price_minor")?;
    let discount: i64 = row.try_get("discount")?;
    Ok(DealItem {
        id: row.try_get("id")?,
        deal_id: row.try_get("deal_id")?,
        product_id: row.try_get("product_id")?,
        name: row.try_get("name")?,
        sku: row.try_get("sku")?,
        unit: row.try_get("unit")?,
        quantity_milli,
        price_minor,
        discount,
        vat_rate: row.try_get("vat_rate")?,
        position: row.try_get("position")?,
        created_at: row.try_get("created_at")?,
        amount_minor: line_amount(quantity_milli, price_minor, discount),
    })
}

fn text_field(field: &str, value: &str, max: usize) -> Result<String, StoreError> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > max {
        return Err(StoreError::invalid(field, format!("1-{max} characters")));
    }
    Ok(value.to_owned())
}

fn check_vat(field: &str, rate: Option<i64>) -> Result<(), StoreError> {
    match rate {
        Some(r) if !(0..=10_000).contains(&r) => Err(StoreError::invalid(field, "must be 0-100")),
        _ => Ok(()),
    }
}

fn check_money(field: &str, minor: i64) -> Result<(), StoreError> {
    // A bound well under i64 keeps every line product in range.
    if !(0..=100_000_000_000_000).contains(&minor) {
        return Err(StoreError::invalid(field, "must not be negative"));
    }
    Ok(())
}

fn check_line(quantity_milli: Option<i64>, discount: Option<i64>) -> Result<(), StoreError> {
    if quantity_milli.is_some_and(|q| !(1..=1_000_000_000_000).contains(&q)) {
        return Err(StoreError::invalid("quantity", "must be more than 0"));
    }
    if discount.is_some_and(|d| !(0..=10_000).contains(&d)) {
        return Err(StoreError::invalid("discount", "must be 0-100"));
    }
    Ok(())
}

/// A percent setting (`22`, `7.5`) in hundredths.
fn percent(value: &Value) -> Option<i64> {
    value.as_f64().filter(|p| (0.0..=100.0).contains(p)).map(|p| (p * 100.0).round() as i64)
}

impl Store {
    /// The sales settings: the administrator's, else prices with VAT included, rates 22%,
    /// 10% and 0% (Russia's since 2026), 22% for new products, and roubles.
    pub async fn sales_settings(&self) -> Result<SalesSettings, StoreError> {
        let stored = self.settings().await?;
        Ok(SalesSettings {
            prices_include_vat: stored
                .get(PRICES_INCLUDE_VAT)
                .and_then(Value::as_bool)
                .unwrap_or(true),
            vat_rates: match stored.get(VAT_RATES) {
                Some(Value::Array(rates)) => rates.iter().filter_map(percent).collect(),
                _ => vec![2200, 1000, 0],
            },
            default_vat_rate: match stored.get(DEFAULT_VAT_RATE) {
                Some(Value::Null) => None,
                Some(v) => percent(v),
                None => Some(2200),
            },
            currency: stored
                .get(CURRENCY)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| "RUB".to_owned()),
        })
    }

    /// Products, by name; inactive ones too when asked; matching `q` in the name or SKU.
    pub async fn list_products(
        &self,
        q: Option<&str>,
        include_inactive: bool,
    ) -> Result<Vec<Product>, StoreError> {
        let mut sql = Sql::new(&format!("SELECT {PRODUCT_COLUMNS} FROM products WHERE 1 = 1"));
        if !include_inactive {
            sql.push(" AND active = 1");
        }
        if let Some(q) = q.map(str::trim).filter(|q| !q.is_empty()) {
            sql.push(" AND (name_key LIKE ")
                .bind(like_contains(&search_key(&[q])))
                .push(" ESCAPE '\\' OR sku = ")
                .bind(q.to_owned())
                .push(")");
        }
        sql.push(" ORDER BY name_key, id LIMIT 1000");
        sql.fetch_all(&self.pool).await?.iter().map(product_from_row).collect()
    }

    /// One product.
    pub async fn product(&self, id: &str) -> Result<Product, StoreError> {
        let mut sql = Sql::new(&format!("SELECT {PRODUCT_COLUMNS} FROM products WHERE id = "));
        sql.bind(id.to_owned());
        product_from_row(
            &sql.fetch_optional(&self.pool).await?.ok_or(StoreError::not_found("product"))?,
        )
    }

    async fn check_sku(&self, sku: Option<&str>, id: Option<&str>) -> Result<(), StoreError> {
        let Some(sku) = sku else { return Ok(()) };
        let mut sql = Sql::new("SELECT id FROM products WHERE sku = ");
        sql.bind(sku.to_owned());
        if let Some(row) = sql.fetch_optional(&self.pool).await? {
            let other: String = row.try_get("id")?;
            if Some(other.as_str()) != id {
                return Err(StoreError::Duplicate {
                    field: "sku".into(),
                    value: sku.to_owned(),
                    existing_id: other,
                });
            }
        }
        Ok(())
    }

    /// Adds a product.
    pub async fn create_product(
        &self,
        actor: &Actor,
        new: NewProduct,
    ) -> Result<Product, StoreError> {
        let name = text_field("name", &new.name, 300)?;
        let unit = text_field("unit", &new.unit, 20)?;
        let sku = new.sku.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        check_money("price", new.price_minor)?;
        check_vat("vat_rate", new.vat_rate)?;
        let currency = match new.currency {
            Some(c) => crate::deals::check_currency(&c)?,
            None => self.sales_settings().await?.currency,
        };
        self.check_sku(sku.as_deref(), None).await?;
        let id = new_id();
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let mut sql = Sql::new(
            "INSERT INTO products (id, name, name_key, sku, unit, price_minor, currency, vat_rate, active, created_at, updated_at) VALUES (",
        );
        sql.bind(id.clone()).push(", ").bind(name.clone()).push(", ").bind(search_key(&[&name]));
        sql.push(", ").bind(sku.clone()).push(", ").bind(unit.clone());
        sql.push(", ").bind(new.price_minor).push(", ").bind(currency.clone());
        sql.push(", ").bind(new.vat_rate).push(", 1, ").bind(now).push(", ").bind(now).push(")");
        sql.execute(&mut *tx).await?;
        audit::record(
            &mut tx,
            actor,
            "product.create",
            "product",
            Some(&id),
            json!({"name": name, "sku": sku, "unit": unit, "price_minor": new.price_minor, "currency": currency, "vat_rate": new.vat_rate}),
        )
        .await?;
        tx.commit().await?;
        self.product(&id).await
    }

    /// Changes a product. Line items already on deals keep what they were given.
    pub async fn update_product(
        &self,
        actor: &Actor,
        id: &str,
        changes: ProductChanges,
    ) -> Result<Product, StoreError> {
        self.product(id).await?;
        let mut sql = Sql::new("UPDATE products SET updated_at = ");
        sql.bind(now_ms());
        if let Some(name) = &changes.name {
            let name = text_field("name", name, 300)?;
            sql.push(", name_key = ").bind(search_key(&[&name])).push(", name = ").bind(name);
        }
        if let Some(sku) = &changes.sku {
            let sku = sku.as_ref().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
            self.check_sku(sku.as_deref(), Some(id)).await?;
            sql.push(", sku = ").bind(sku);
        }
        if let Some(unit) = &changes.unit {
            sql.push(", unit = ").bind(text_field("unit", unit, 20)?);
        }
        if let Some(price) = changes.price_minor {
            check_money("price", price)?;
            sql.push(", price_minor = ").bind(price);
        }
        if let Some(currency) = &changes.currency {
            sql.push(", currency = ").bind(crate::deals::check_currency(currency)?);
        }
        if let Some(rate) = changes.vat_rate {
            check_vat("vat_rate", rate)?;
            sql.push(", vat_rate = ").bind(rate);
        }
        if let Some(active) = changes.active {
            sql.push(", active = ").bind(i64::from(active));
        }
        sql.push(" WHERE id = ").bind(id.to_owned());
        let mut tx = self.begin_write().await?;
        sql.execute(&mut *tx).await?;
        audit::record(
            &mut tx,
            actor,
            "product.update",
            "product",
            Some(id),
            json!({"name": changes.name, "sku": changes.sku, "unit": changes.unit, "price_minor": changes.price_minor,
                   "currency": changes.currency, "vat_rate": changes.vat_rate, "active": changes.active}),
        )
        .await?;
        tx.commit().await?;
        self.product(id).await
    }

    /// Deletes a product. Lines made from it keep their copy.
    pub async fn delete_product(&self, actor: &Actor, id: &str) -> Result<(), StoreError> {
        let product = self.product(id).await?;
        let mut tx = self.begin_write().await?;
        let mut sql = Sql::new("DELETE FROM products WHERE id = ");
        sql.bind(id.to_owned());
        sql.execute(&mut *tx).await?;
        audit::record(
            &mut tx,
            actor,
            "product.delete",
            "product",
            Some(id),
            json!({"name": product.name}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A deal's lines in order.
    pub async fn deal_items(&self, deal_id: &str) -> Result<Vec<DealItem>, StoreError> {
        let mut sql = Sql::new(&format!("SELECT {ITEM_COLUMNS} FROM deal_items WHERE deal_id = "));
        sql.bind(deal_id.to_owned()).push(" ORDER BY position, created_at, id");
        sql.fetch_all(&self.pool).await?.iter().map(item_from_row).collect()
    }

    /// A deal's lines summed, with the VAT the settings say.
    pub async fn deal_item_totals(&self, deal_id: &str) -> Result<ItemTotals, StoreError> {
        let include = self.sales_settings().await?.prices_include_vat;
        let items = self.deal_items(deal_id).await?;
        Ok(totals(
            items.iter().map(|i| (i.quantity_milli, i.price_minor, i.discount, i.vat_rate)),
            include,
        ))
    }

    /// Sets whether prices include VAT, and in the same transaction sets the amount of every
    /// deal that follows its lines to their new total. Returns how many deals that was.
    pub async fn set_prices_include_vat(
        &self,
        actor: &Actor,
        include: bool,
    ) -> Result<usize, StoreError> {
        let mut tx = self.begin_write().await?;
        crate::settings::write_setting(&mut tx, actor, PRICES_INCLUDE_VAT, &Value::Bool(include))
            .await?;
        let deals: Vec<String> = Sql::new(
            "SELECT DISTINCT i.deal_id FROM deal_items i JOIN deals d ON d.id = i.deal_id WHERE d.amount_manual = 0",
        )
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|row| row.try_get("deal_id"))
        .collect::<Result<_, _>>()?;
        for deal in &deals {
            self.sync_deal_amount(&mut tx, deal).await?;
        }
        tx.commit().await?;
        Ok(deals.len())
    }

    /// Sets the deal's amount to what its lines total, unless a user typed it. No lines: no
    /// amount.
    pub(crate) async fn sync_deal_amount(
        &self,
        conn: &mut AnyConnection,
        deal_id: &str,
    ) -> Result<(), StoreError> {
        let mut read = Sql::new(&format!("SELECT {ITEM_COLUMNS} FROM deal_items WHERE deal_id = "));
        read.bind(deal_id.to_owned());
        let items: Vec<DealItem> = read
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(item_from_row)
            .collect::<Result<_, _>>()?;
        let mut setting = Sql::new("SELECT value FROM settings WHERE key = ");
        setting.bind(PRICES_INCLUDE_VAT.to_owned());
        let include = match setting.fetch_optional(&mut *conn).await? {
            Some(row) => row.try_get::<String, _>("value")? != "false",
            None => true,
        };
        let amount = (!items.is_empty()).then(|| {
            totals(
                items.iter().map(|i| (i.quantity_milli, i.price_minor, i.discount, i.vat_rate)),
                include,
            )
            .total_minor
        });
        let mut sql = Sql::new("UPDATE deals SET amount_minor = ");
        sql.bind(amount).push(" WHERE amount_manual = 0 AND id = ").bind(deal_id.to_owned());
        funnel::count_deal(&mut *conn, deal_id, -1).await?;
        sql.execute(&mut *conn).await?;
        funnel::count_deal(&mut *conn, deal_id, 1).await?;
        Ok(())
    }

    /// Adds a line to a deal; the deal's amount follows unless typed.
    pub async fn add_deal_item(
        &self,
        actor: &Actor,
        deal_id: &str,
        new: NewDealItem,
    ) -> Result<DealItem, StoreError> {
        let deal = self.get_deal(deal_id).await?;
        let product = match &new.product_id {
            Some(id) => Some(self.product(id).await.map_err(|_| {
                StoreError::invalid("product_id", format!("no such product: {id}"))
            })?),
            None => None,
        };
        check_line(Some(new.quantity_milli), Some(new.discount))?;
        let name = match (&new.name, &product) {
            (Some(name), _) => text_field("name", name, 300)?,
            (None, Some(p)) => p.name.clone(),
            (None, None) => return Err(StoreError::invalid("name", "must not be empty")),
        };
        let unit = match (&new.unit, &product) {
            (Some(unit), _) => text_field("unit", unit, 20)?,
            (None, Some(p)) => p.unit.clone(),
            (None, None) => return Err(StoreError::invalid("unit", "must not be empty")),
        };
        let price = match (new.price_minor, &product) {
            (Some(price), _) => price,
            (None, Some(p)) if p.currency == deal.currency => p.price_minor,
            (None, Some(p)) => {
                return Err(StoreError::invalid(
                    "price",
                    format!(
                        "the product is priced in {}, the deal is in {}",
                        p.currency, deal.currency
                    ),
                ));
            }
            (None, None) => return Err(StoreError::invalid("price", "must not be empty")),
        };
        check_money("price", price)?;
        let vat_rate = match (new.vat_rate, &product) {
            (Some(rate), _) => rate,
            (None, Some(p)) => p.vat_rate,
            (None, None) => self.sales_settings().await?.default_vat_rate,
        };
        check_vat("vat_rate", vat_rate)?;
        let position =
            self.deal_items(deal_id).await?.iter().map(|i| i.position).max().unwrap_or(0) + 1;
        let id = new_id();
        let mut tx = self.begin_write().await?;
        let mut sql = Sql::new(&format!("INSERT INTO deal_items ({ITEM_COLUMNS}) VALUES ("));
        sql.bind(id.clone())
            .push(", ")
            .bind(deal_id.to_owned())
            .push(", ")
            .bind(new.product_id.clone());
        sql.push(", ")
            .bind(name.clone())
            .push(", ")
            .bind(product.as_ref().and_then(|p| p.sku.clone()));
        sql.push(", ").bind(unit).push(", ").bind(new.quantity_milli).push(", ").bind(price);
        sql.push(", ").bind(new.discount).push(", ").bind(vat_rate).push(", ").bind(position);
        sql.push(", ").bind(now_ms()).push(")");
        sql.execute(&mut *tx).await?;
        self.sync_deal_amount(&mut tx, deal_id).await?;
        audit::record(
            &mut tx,
            actor,
            "deal.item_add",
            "deal",
            Some(deal_id),
            json!({"item_id": id, "name": name, "quantity_milli": new.quantity_milli, "price_minor": price, "discount": new.discount, "vat_rate": vat_rate}),
        )
        .await?;
        tx.commit().await?;
        self.deal_item(deal_id, &id).await
    }

    async fn deal_item(&self, deal_id: &str, id: &str) -> Result<DealItem, StoreError> {
        let mut sql = Sql::new(&format!("SELECT {ITEM_COLUMNS} FROM deal_items WHERE id = "));
        sql.bind(id.to_owned()).push(" AND deal_id = ").bind(deal_id.to_owned());
        item_from_row(&sql.fetch_optional(&self.pool).await?.ok_or(StoreError::not_found("item"))?)
    }

    /// Changes a line; the deal's amount follows unless typed.
    pub async fn update_deal_item(
        &self,
        actor: &Actor,
        deal_id: &str,
        id: &str,
        changes: DealItemChanges,
    ) -> Result<DealItem, StoreError> {
        self.deal_item(deal_id, id).await?;
        check_line(changes.quantity_milli, changes.discount)?;
        let mut sql = Sql::new("UPDATE deal_items SET id = id");
        if let Some(name) = &changes.name {
            sql.push(", name = ").bind(text_field("name", name, 300)?);
        }
        if let Some(unit) = &changes.unit {
            sql.push(", unit = ").bind(text_field("unit", unit, 20)?);
        }
        if let Some(q) = changes.quantity_milli {
            sql.push(", quantity_milli = ").bind(q);
        }
        if let Some(price) = changes.price_minor {
            check_money("price", price)?;
            sql.push(", price_minor = ").bind(price);
        }
        if let Some(discount) = changes.discount {
            sql.push(", discount = ").bind(discount);
        }
        if let Some(rate) = changes.vat_rate {
            check_vat("vat_rate", rate)?;
            sql.push(", vat_rate = ").bind(rate);
        }
        if let Some(position) = changes.position {
            sql.push(", position = ").bind(position);
        }
        sql.push(" WHERE id = ").bind(id.to_owned());
        let mut tx = self.begin_write().await?;
        sql.execute(&mut *tx).await?;
        self.sync_deal_amount(&mut tx, deal_id).await?;
        audit::record(
            &mut tx,
            actor,
            "deal.item_update",
            "deal",
            Some(deal_id),
            json!({"item_id": id, "name": changes.name, "quantity_milli": changes.quantity_milli, "price_minor": changes.price_minor,
                   "discount": changes.discount, "vat_rate": changes.vat_rate}),
        )
        .await?;
        tx.commit().await?;
        self.deal_item(deal_id, id).await
    }

    /// Removes a line; the deal's amount follows unless typed.
    pub async fn delete_deal_item(
        &self,
        actor: &Actor,
        deal_id: &str,
        id: &str,
    ) -> Result<(), StoreError> {
        let item = self.deal_item(deal_id, id).await?;
        let mut tx = self.begin_write().await?;
        let mut sql = Sql::new("DELETE FROM deal_items WHERE id = ");
        sql.bind(id.to_owned());
        sql.execute(&mut *tx).await?;
        self.sync_deal_amount(&mut tx, deal_id).await?;
        audit::record(
            &mut tx,
            actor,
            "deal.item_delete",
            "deal",
            Some(deal_id),
            json!({"item_id": id, "name": item.name}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
