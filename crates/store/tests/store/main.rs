#![allow(clippy::unwrap_used)]
//! Store behaviour, each test run against SQLite and PostgreSQL.

#[macro_use]
extern crate switchboard_testkit;

use serde_json::json;
use switchboard_core::call::{CallEventKind, EndReason};
use switchboard_core::entity::{DealStatus, PhoneKind, TaskKind, TaskStatus};
use switchboard_core::{EntityKind, FieldType, PhoneNumber, Region, Role};
use switchboard_store::*;

mod calls;
mod contacts;
mod crm;
mod funnel;
mod recordings;
mod stats;
mod work_queue;

fn phone(s: &str) -> NewPhone {
    NewPhone { number: PhoneNumber::parse(s, Region::RU).expect(s), kind: PhoneKind::Mobile }
}

fn contact(first: &str, last: &str, phones: &[&str], emails: &[&str]) -> NewContact {
    NewContact {
        first_name: first.into(),
        last_name: last.into(),
        phones: phones.iter().map(|p| phone(p)).collect(),
        emails: emails.iter().map(|e| e.to_string()).collect(),
        ..Default::default()
    }
}

async fn admin(store: &Store) -> String {
    store
        .create_user(
            &Actor::system(),
            NewUser {
                login: format!("admin{}", switchboard_core::new_id()),
                name: "Admin".into(),
                role: Role::Admin,
                password_hash: "x".into(),
                team_id: None,
            },
        )
        .await
        .unwrap()
        .id
}

async fn user(store: &Store, role: Role, team_id: Option<String>) -> String {
    store
        .create_user(
            &Actor::system(),
            NewUser {
                login: format!("u{}", switchboard_core::new_id()),
                name: "U".into(),
                role,
                password_hash: "x".into(),
                team_id,
            },
        )
        .await
        .unwrap()
        .id
}

fn inbound(from: &str, at: i64, queue_id: Option<String>) -> NewCall {
    NewCall {
        direction: switchboard_core::entity::CallDirection::Inbound,
        from_e164: from.into(),
        to_e164: "+74950000000".into(),
        queue_id,
        offered_at: at,
        id: None,
        origin: None,
        agent_id: None,
        task_id: None,
    }
}
