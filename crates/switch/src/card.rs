//! The client card: what a ringing agent sees of the caller before answering.
//!
//! Built once per incoming call from the caller's number: every contact with that number (all
//! of them when several match, for the agent to pick), each with company, owner, custom
//! fields, open deals with their stage, the last calls with outcomes and open tasks. With no
//! match the card is just the number and its last calls, and the console offers to create a
//! contact.

use std::collections::HashMap;

use serde::Serialize;
use switchboard_core::entity::{Call, Contact, DealStatus, Task, TaskStatus};
use switchboard_store::{DealFilter, PageRequest, Store, StoreError, TaskFilter};
use utoipa::ToSchema;

/// How many past calls and tasks a card carries per contact.
const CARD_CALLS: u32 = 5;
const CARD_TASKS: u32 = 10;
const CARD_DEALS: u32 = 10;

/// The client card for one incoming number.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClientCard {
    /// The caller's number, E.164 when it parsed.
    pub number: String,
    /// Contacts with that number (none: unknown caller; several: the agent picks).
    pub matches: Vec<CardContact>,
    /// The number's last calls when no contact matches.
    #[schema(value_type = Vec<Object>)]
    pub recent_calls: Vec<Call>,
}

/// One matching contact with what the agent needs to know.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CardContact {
    /// The contact (phones, emails, custom fields).
    #[schema(value_type = Object)]
    pub contact: Contact,
    /// Display name.
    pub name: String,
    /// Company name.
    pub company: Option<NamedRef>,
    /// Responsible user.
    pub owner: Option<NamedRef>,
    /// Open deals with their stage.
    pub open_deals: Vec<CardDeal>,
    /// Last calls, newest first.
    #[schema(value_type = Vec<Object>)]
    pub last_calls: Vec<Call>,
    /// Open tasks, soonest due first.
    #[schema(value_type = Vec<Object>)]
    pub open_tasks: Vec<Task>,
}

/// An id with a name.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NamedRef {
    /// Row id.
    pub id: String,
    /// Name.
    pub name: String,
}

/// An open deal on the card.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CardDeal {
    /// Deal id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Stage name.
    pub stage: String,
    /// Amount in minor units.
    pub amount_minor: Option<i64>,
    /// Currency.
    pub currency: String,
    /// Responsible user.
    pub owner_id: Option<String>,
}

/// Builds the card for `e164` (a number that did not parse is looked up as given); `call_id`,
/// the call the card is for, is left out of the past calls.
pub async fn client_card(
    store: &Store,
    e164: &str,
    call_id: &str,
) -> Result<ClientCard, StoreError> {
    let contacts = store.find_contacts_by_phone(e164).await?;
    let stages: HashMap<String, String> = if contacts.is_empty() {
        HashMap::new()
    } else {
        store.list_stages().await?.into_iter().map(|s| (s.id, s.name)).collect()
    };
    let mut matches = Vec::with_capacity(contacts.len());
    for contact in contacts {
        matches.push(card_contact(store, contact, &stages, call_id).await?);
    }
    let recent_calls =
        if matches.is_empty() { past_calls(store, None, e164, call_id).await? } else { Vec::new() };
    Ok(ClientCard { number: e164.to_owned(), matches, recent_calls })
}

async fn past_calls(
    store: &Store,
    contact_id: Option<&str>,
    e164: &str,
    call_id: &str,
) -> Result<Vec<Call>, StoreError> {
    let mut calls = store.recent_calls(contact_id, e164, CARD_CALLS + 1).await?;
    calls.retain(|c| c.id != call_id);
    calls.truncate(CARD_CALLS as usize);
    Ok(calls)
}

async fn card_contact(
    store: &Store,
    contact: Contact,
    stages: &HashMap<String, String>,
    call_id: &str,
) -> Result<CardContact, StoreError> {
    let company = match &contact.company_id {
        Some(id) => store.get_company(id).await.ok().map(|c| NamedRef { id: c.id, name: c.name }),
        None => None,
    };
    let owner = match &contact.owner_id {
        Some(id) => store.get_user(id).await.ok().map(|u| NamedRef { id: u.id, name: u.name }),
        None => None,
    };
    let deals = store
        .list_deals(
            &DealFilter {
                contact_id: Some(contact.id.clone()),
                status: Some(DealStatus::Open),
                ..Default::default()
            },
            PageRequest::new(Some(1), Some(CARD_DEALS)),
        )
        .await?;
    let open_deals = deals
        .items
        .into_iter()
        .map(|d| CardDeal {
            stage: stages.get(&d.stage_id).cloned().unwrap_or_default(),
            id: d.id,
            title: d.title,
            amount_minor: d.amount_minor,
            currency: d.currency,
            owner_id: d.owner_id,
        })
        .collect();
    let last_calls = past_calls(store, Some(&contact.id), "", call_id).await?;
    let tasks = store
        .list_tasks(
            &TaskFilter {
                contact_id: Some(contact.id.clone()),
                status: Some(TaskStatus::Open),
                ..Default::default()
            },
            PageRequest::new(Some(1), Some(CARD_TASKS)),
        )
        .await?;
    Ok(CardContact {
        name: contact.display_name(),
        contact,
        company,
        owner,
        open_deals,
        last_calls,
        open_tasks: tasks.items,
    })
}
