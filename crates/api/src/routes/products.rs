//! `/api/products` (the catalogue), a deal's line items (`/api/deals/{id}/items`) and the
//! sales settings (`/api/sales/settings`: VAT rates, prices with or without VAT, currency).
//!
//! Requests speak as people do: `price` in major units (1500.50), `quantity` as a number
//! (1.5), `discount` and `vat_rate` in percent (22, or `null` for no VAT). Responses keep the
//! store's exact integers (`price_minor`, `quantity_milli`, hundredths of a percent).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, patch};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use switchboard_core::Action;
use switchboard_core::sales::{DealItem, ItemTotals, Product};
use switchboard_store::products::{CURRENCY, DEFAULT_VAT_RATE, VAT_RATES};
use switchboard_store::{DealItemChanges, NewDealItem, NewProduct, ProductChanges, SalesSettings};
use utoipa::ToSchema;

use super::{amount_to_minor, nullable};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{CurrentUser, JsonBody, QueryParams};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/products", get(list).post(create))
        .route("/api/products/{id}", get(read).patch(update).delete(remove))
        .route("/api/deals/{id}/items", get(items).post(add_item))
        .route("/api/deals/{id}/items/{item}", patch(update_item).delete(remove_item))
        .route("/api/sales/settings", get(settings).put(update_settings))
}

/// A percent (0-100, up to two decimals) in hundredths.
fn hundredths(field: &str, percent: f64) -> Result<i64, ApiError> {
    if !percent.is_finite() || !(0.0..=100.0).contains(&percent) {
        return Err(ApiError::invalid(field, "must be 0-100"));
    }
    Ok((percent * 100.0).round() as i64)
}

/// A quantity (more than 0, up to three decimals) in thousandths.
fn thousandths(quantity: f64) -> Result<i64, ApiError> {
    if !quantity.is_finite() || quantity <= 0.0 || quantity > 1e9 {
        return Err(ApiError::invalid("quantity", "must be more than 0"));
    }
    Ok((quantity * 1000.0).round().max(1.0) as i64)
}

fn vat(rate: Option<f64>) -> Result<Option<i64>, ApiError> {
    rate.map(|r| hundredths("vat_rate", r)).transpose()
}

/// A product to add, or its changes (`null` clears `sku` and `vat_rate`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProductBody {
    name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    sku: Option<Option<String>>,
    unit: Option<String>,
    /// Major units.
    price: Option<f64>,
    /// ISO 4217; the default currency when left out.
    currency: Option<String>,
    /// Percent; `null` for goods without VAT; the default rate when left out.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<f64>)]
    vat_rate: Option<Option<f64>>,
    active: Option<bool>,
}

/// Catalogue search.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ProductQuery {
    /// Words of the name, or the exact SKU.
    q: Option<String>,
    /// Withdrawn products too.
    all: Option<bool>,
}

/// The catalogue, by name (active products unless `all`).
#[utoipa::path(get, path = "/api/products", params(ProductQuery), tag = "sales", responses((status = 200, body = [Product])))]
pub(crate) async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    QueryParams(q): QueryParams<ProductQuery>,
) -> ApiResult<Json<Vec<Product>>> {
    user.require(Action::ReadCrm)?;
    Ok(Json(state.store().list_products(q.q.as_deref(), q.all.unwrap_or(false)).await?))
}

/// One product.
#[utoipa::path(get, path = "/api/products/{id}", tag = "sales", responses((status = 200, body = Product), (status = 404)))]
pub(crate) async fn read(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Product>> {
    user.require(Action::ReadCrm)?;
    Ok(Json(state.store().product(&id).await?))
}

/// Adds a product (manager, admin).
#[utoipa::path(post, path = "/api/products", request_body = ProductBody, tag = "sales", responses((status = 201, body = Product), (status = 403), (status = 409), (status = 422)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(b): JsonBody<ProductBody>,
) -> ApiResult<(StatusCode, Json<Product>)> {
    user.require(Action::ManageCatalogue)?;
    let vat_rate = match b.vat_rate {
        Some(rate) => vat(rate)?,
        None => state.store().sales_settings().await?.default_vat_rate,
    };
    let new = NewProduct {
        name: b.name.unwrap_or_default(),
        sku: b.sku.flatten(),
        unit: b.unit.unwrap_or_default(),
        price_minor: amount_to_minor(
            "price",
            b.price.ok_or_else(|| ApiError::invalid("price", "must not be empty"))?,
        )?,
        currency: b.currency,
        vat_rate,
    };
    Ok((StatusCode::CREATED, Json(state.store().create_product(&user.actor(), new).await?)))
}

/// Changes a product (manager, admin). Deals' lines keep what they were given.
#[utoipa::path(patch, path = "/api/products/{id}", request_body = ProductBody, tag = "sales", responses((status = 200, body = Product), (status = 403)))]
pub(crate) async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<ProductBody>,
) -> ApiResult<Json<Product>> {
    user.require(Action::ManageCatalogue)?;
    let changes = ProductChanges {
        name: b.name,
        sku: b.sku,
        unit: b.unit,
        price_minor: b.price.map(|p| amount_to_minor("price", p)).transpose()?,
        currency: b.currency,
        vat_rate: b.vat_rate.map(vat).transpose()?,
        active: b.active,
    };
    Ok(Json(state.store().update_product(&user.actor(), &id, changes).await?))
}

/// Deletes a product (manager, admin); deals' lines made from it stay.
#[utoipa::path(delete, path = "/api/products/{id}", tag = "sales", responses((status = 204), (status = 403)))]
pub(crate) async fn remove(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    user.require(Action::ManageCatalogue)?;
    state.store().delete_product(&user.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A deal's lines and what they come to.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DealItems {
    items: Vec<DealItem>,
    totals: ItemTotals,
    /// The deal's currency.
    currency: String,
}

async fn deal_items(state: &AppState, deal_id: &str) -> ApiResult<DealItems> {
    let deal = state.store().get_deal(deal_id).await?;
    Ok(DealItems {
        items: state.store().deal_items(deal_id).await?,
        totals: state.store().deal_item_totals(deal_id).await?,
        currency: deal.currency,
    })
}

async fn editable(state: &AppState, user: &CurrentUser, deal_id: &str) -> ApiResult<()> {
    let deal = state.store().get_deal(deal_id).await?;
    user.require_edit(deal.owner_id.as_deref(), None)
}

/// A line to add: a product (its name, unit, price and VAT unless given) or typed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ItemBody {
    product_id: Option<String>,
    name: Option<String>,
    unit: Option<String>,
    /// Default 1.
    quantity: Option<f64>,
    /// Major units per unit.
    price: Option<f64>,
    /// Percent.
    discount: Option<f64>,
    /// Percent, `null` for none.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<f64>)]
    vat_rate: Option<Option<f64>>,
    position: Option<i64>,
}

/// A deal's lines and totals.
#[utoipa::path(get, path = "/api/deals/{id}/items", tag = "sales", responses((status = 200, body = DealItems), (status = 404)))]
pub(crate) async fn items(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<DealItems>> {
    user.require(Action::ReadCrm)?;
    Ok(Json(deal_items(&state, &id).await?))
}

/// Adds a line (the deal's owner, supervisor and above); the deal's amount follows unless typed.
#[utoipa::path(post, path = "/api/deals/{id}/items", request_body = ItemBody, tag = "sales", responses((status = 201, body = DealItems), (status = 403), (status = 422)))]
pub(crate) async fn add_item(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<ItemBody>,
) -> ApiResult<(StatusCode, Json<DealItems>)> {
    editable(&state, &user, &id).await?;
    let new = NewDealItem {
        product_id: b.product_id.filter(|p| !p.is_empty()),
        name: b.name,
        unit: b.unit,
        quantity_milli: thousandths(b.quantity.unwrap_or(1.0))?,
        price_minor: b.price.map(|p| amount_to_minor("price", p)).transpose()?,
        discount: b.discount.map(|d| hundredths("discount", d)).transpose()?.unwrap_or(0),
        vat_rate: b.vat_rate.map(vat).transpose()?,
    };
    state.store().add_deal_item(&user.actor(), &id, new).await?;
    Ok((StatusCode::CREATED, Json(deal_items(&state, &id).await?)))
}

/// Changes a line.
#[utoipa::path(patch, path = "/api/deals/{id}/items/{item}", request_body = ItemBody, tag = "sales", responses((status = 200, body = DealItems), (status = 403), (status = 422)))]
pub(crate) async fn update_item(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, item)): Path<(String, String)>,
    JsonBody(b): JsonBody<ItemBody>,
) -> ApiResult<Json<DealItems>> {
    editable(&state, &user, &id).await?;
    if b.product_id.is_some() {
        return Err(ApiError::invalid(
            "product_id",
            "a line's product cannot change; add a new line",
        ));
    }
    let changes = DealItemChanges {
        name: b.name,
        unit: b.unit,
        quantity_milli: b.quantity.map(thousandths).transpose()?,
        price_minor: b.price.map(|p| amount_to_minor("price", p)).transpose()?,
        discount: b.discount.map(|d| hundredths("discount", d)).transpose()?,
        vat_rate: b.vat_rate.map(vat).transpose()?,
        position: b.position,
    };
    state.store().update_deal_item(&user.actor(), &id, &item, changes).await?;
    Ok(Json(deal_items(&state, &id).await?))
}

/// Removes a line.
#[utoipa::path(delete, path = "/api/deals/{id}/items/{item}", tag = "sales", responses((status = 200, body = DealItems), (status = 403)))]
pub(crate) async fn remove_item(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, item)): Path<(String, String)>,
) -> ApiResult<Json<DealItems>> {
    editable(&state, &user, &id).await?;
    state.store().delete_deal_item(&user.actor(), &id, &item).await?;
    Ok(Json(deal_items(&state, &id).await?))
}

/// The sales settings.
#[utoipa::path(get, path = "/api/sales/settings", tag = "sales", responses((status = 200, body = SalesSettings)))]
pub(crate) async fn settings(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<SalesSettings>> {
    user.require(Action::ReadCrm)?;
    Ok(Json(state.store().sales_settings().await?))
}

/// New sales settings; what is left out stays.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SalesSettingsBody {
    prices_include_vat: Option<bool>,
    /// Percent, e.g. `[22, 10, 0]`.
    vat_rates: Option<Vec<f64>>,
    /// Percent, `null` for none.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<f64>)]
    default_vat_rate: Option<Option<f64>>,
    currency: Option<String>,
}

/// Changes the sales settings (admin).
#[utoipa::path(put, path = "/api/sales/settings", request_body = SalesSettingsBody, tag = "sales", responses((status = 200, body = SalesSettings), (status = 403), (status = 422)))]
pub(crate) async fn update_settings(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(b): JsonBody<SalesSettingsBody>,
) -> ApiResult<Json<SalesSettings>> {
    user.require(Action::ManageSettings)?;
    let actor = user.actor();
    let store = state.store();
    if let Some(rates) = &b.vat_rates {
        for (i, rate) in rates.iter().enumerate() {
            hundredths(&format!("vat_rates[{i}]"), *rate)?;
        }
    }
    if let Some(Some(rate)) = b.default_vat_rate {
        hundredths("default_vat_rate", rate)?;
    }
    let currency = match &b.currency {
        Some(c) if c.len() == 3 && c.chars().all(|ch| ch.is_ascii_alphabetic()) => {
            Some(c.to_ascii_uppercase())
        }
        Some(_) => {
            return Err(ApiError::invalid(
                "currency",
                "expected a three-letter ISO 4217 code such as RUB",
            ));
        }
        None => None,
    };
    if let Some(include) = b.prices_include_vat
        && include != store.sales_settings().await?.prices_include_vat
    {
        // Deals whose amount follows their lines follow the new rule at once.
        store.set_prices_include_vat(&actor, include).await?;
    }
    if let Some(rates) = b.vat_rates {
        store.set_setting(&actor, VAT_RATES, &json!(rates)).await?;
    }
    if let Some(rate) = b.default_vat_rate {
        store.set_setting(&actor, DEFAULT_VAT_RATE, &json!(rate)).await?;
    }
    if let Some(currency) = currency {
        store.set_setting(&actor, CURRENCY, &Value::String(currency)).await?;
    }
    Ok(Json(store.sales_settings().await?))
}
