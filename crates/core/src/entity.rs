//! The CRM records as the rest of the system sees them. Times are epoch milliseconds (UTC);
//! money is kept in minor units (kopecks, cents) so sums are exact.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::EpochMs;
use crate::role::Role;

/// Declares a lowercase string enum with `as_str`, `Display`, `FromStr` and serde in one place.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// The name used in the API and the store.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(UnknownValue {
                        value: other.to_owned(),
                        expected: &[$($text),+],
                    }),
                }
            }
        }
    };
}
pub(crate) use string_enum;

/// A string that is not one of an enum's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown value {value:?} (expected one of {expected:?})")]
pub struct UnknownValue {
    /// What was given.
    pub value: String,
    /// The accepted values.
    pub expected: &'static [&'static str],
}

string_enum! {
    /// Where a deal stands.
    DealStatus {
        /// Still being worked.
        Open => "open",
        /// Closed with a sale.
        Won => "won",
        /// Closed without a sale.
        Lost => "lost",
    }
}

string_enum! {
    /// What a task asks for.
    TaskKind {
        /// Call someone (callbacks are these).
        Call => "call",
        /// Meet someone.
        Meeting => "meeting",
        /// Write to someone.
        Email => "email",
        /// Anything else.
        Todo => "todo",
    }
}

string_enum! {
    /// Where a task stands.
    TaskStatus {
        /// Not done yet.
        Open => "open",
        /// Done, with a result.
        Done => "done",
        /// Will not be done.
        Cancelled => "cancelled",
    }
}

string_enum! {
    /// What kind of phone a contact's number is.
    PhoneKind {
        /// A mobile phone.
        Mobile => "mobile",
        /// A work phone.
        Work => "work",
        /// A home phone.
        Home => "home",
        /// Anything else.
        Other => "other",
    }
}

/// Custom field values by key, as returned by the API.
pub type CustomValues = BTreeMap<String, Value>;

/// A person who logs in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct User {
    /// Row id.
    pub id: String,
    /// Login name, unique.
    pub login: String,
    /// Display name.
    pub name: String,
    /// What they may do.
    pub role: Role,
    /// Their team, if any.
    pub team_id: Option<String>,
    /// Whether they may log in.
    pub active: bool,
    /// The pages' language they chose (`en`, `ru`); none means the browser's.
    #[serde(default)]
    pub language: Option<String>,
    /// Their skills (a language, a product) with levels 1 to 5, for skills routing.
    #[serde(default)]
    pub skills: crate::acd::Skills,
    /// When the account was created.
    pub created_at: EpochMs,
}

/// Audio played to callers, uploaded or spoken by the synthesizer (the built-in prompts are
/// not stored). Its audio is read separately.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Prompt {
    /// Row id.
    pub id: String,
    /// Unique name.
    pub name: String,
    /// What language it speaks ("ru" or "en").
    pub language: String,
    /// Where it came from: `upload` or `speech`.
    pub source: String,
    /// The text spoken, for `speech`.
    pub text: Option<String>,
    /// The uploaded file's name, for `upload`.
    pub file_name: Option<String>,
    /// How long it plays.
    pub duration_ms: i64,
    /// Who created it (user id).
    pub created_by: Option<String>,
    /// When it was created.
    pub created_at: EpochMs,
}

/// A group of users led by a supervisor (overdue work escalates to them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Team {
    /// Row id.
    pub id: String,
    /// Unique name.
    pub name: String,
    /// The supervisor's user id.
    pub supervisor_id: Option<String>,
    /// When the team was created.
    pub created_at: EpochMs,
}

/// An organisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Company {
    /// Row id.
    pub id: String,
    /// Name as people write it.
    pub name: String,
    /// Russian taxpayer number (ИНН) or any registration number.
    pub tax_id: Option<String>,
    /// Web site.
    pub website: Option<String>,
    /// Postal address.
    pub address: Option<String>,
    /// Bank and registration details printed on documents.
    #[serde(default)]
    pub requisites: Requisites,
    /// Responsible user.
    pub owner_id: Option<String>,
    /// Custom field values.
    #[schema(value_type = Object)]
    pub custom: CustomValues,
    /// Created at.
    pub created_at: EpochMs,
    /// Last changed at.
    pub updated_at: EpochMs,
}

/// A Russian organisation's registration and bank details (its ИНН is the company's `tax_id`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Requisites {
    /// КПП.
    pub kpp: Option<String>,
    /// ОГРН (ОГРНИП).
    pub ogrn: Option<String>,
    /// The bank's name.
    pub bank_name: Option<String>,
    /// The bank's БИК.
    pub bik: Option<String>,
    /// Settlement account (р/с).
    pub bank_account: Option<String>,
    /// The bank's correspondent account (к/с).
    pub corr_account: Option<String>,
}

/// One of a contact's phone numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ContactPhone {
    /// E.164 form, e.g. `+79161234567`.
    pub number: String,
    /// Extension, if any.
    pub extension: Option<String>,
    /// What kind of phone it is.
    pub kind: PhoneKind,
}

/// A person the call centre talks to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Contact {
    /// Row id.
    pub id: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Patronymic (отчество).
    pub middle_name: String,
    /// Job title.
    pub position: Option<String>,
    /// Their company.
    pub company_id: Option<String>,
    /// Responsible user.
    pub owner_id: Option<String>,
    /// Phone numbers, first is primary.
    pub phones: Vec<ContactPhone>,
    /// Email addresses (lowercase), first is primary.
    pub emails: Vec<String>,
    /// Custom field values.
    #[schema(value_type = Object)]
    pub custom: CustomValues,
    /// Created at.
    pub created_at: EpochMs,
    /// Last changed at.
    pub updated_at: EpochMs,
}

impl Contact {
    /// "Last First Middle" as Russian users read a name, skipping empty parts.
    pub fn display_name(&self) -> String {
        [&self.last_name, &self.first_name, &self.middle_name]
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A step of the sales pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PipelineStage {
    /// Row id.
    pub id: String,
    /// The pipeline it belongs to.
    pub pipeline_id: String,
    /// Name, unique within its pipeline.
    pub name: String,
    /// For a stage the system made and nobody renamed, its catalogue key (`new`,
    /// `qualified`, `proposal`, `negotiation`): the pages say it in the reader's language.
    #[serde(default)]
    pub key: Option<String>,
    /// Order on the board, ascending.
    pub position: i64,
    /// Default win probability of deals in it, percent.
    pub probability: i64,
    /// What a deal must have before it may enter: `amount`, `contact_id`, `company_id`,
    /// `owner_id`, `items`, or a deal custom field's key.
    #[serde(default)]
    pub required_fields: Vec<String>,
    /// Created at.
    pub created_at: EpochMs,
}

/// A sales opportunity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Deal {
    /// Row id.
    pub id: String,
    /// What is being sold.
    pub title: String,
    /// The person.
    pub contact_id: Option<String>,
    /// The organisation.
    pub company_id: Option<String>,
    /// Current pipeline stage.
    pub stage_id: String,
    /// Amount in minor units (kopecks).
    pub amount_minor: Option<i64>,
    /// True when a user typed the amount; false when it follows the line items.
    #[serde(default)]
    pub amount_manual: bool,
    /// When it is expected to close (the forecast's month).
    #[serde(default)]
    pub expected_close_at: Option<EpochMs>,
    /// ISO 4217 code.
    pub currency: String,
    /// Win probability, percent.
    pub probability: Option<i64>,
    /// Open, won or lost.
    pub status: DealStatus,
    /// Why it was lost.
    pub loss_reason: Option<String>,
    /// Who won it instead.
    pub competitor: Option<String>,
    /// Responsible user.
    pub owner_id: Option<String>,
    /// When it was won or lost.
    pub closed_at: Option<EpochMs>,
    /// Custom field values.
    #[schema(value_type = Object)]
    pub custom: CustomValues,
    /// Created at.
    pub created_at: EpochMs,
    /// Last changed at.
    pub updated_at: EpochMs,
}

/// One change of a deal's stage or status, with who made it and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DealChange {
    /// Row id.
    pub id: String,
    /// The deal.
    pub deal_id: String,
    /// Stage before (absent on creation).
    pub from_stage_id: Option<String>,
    /// Stage after.
    pub to_stage_id: String,
    /// Status before (absent on creation).
    pub from_status: Option<DealStatus>,
    /// Status after.
    pub to_status: DealStatus,
    /// Loss reason given with the change.
    pub reason: Option<String>,
    /// Competitor given with the change.
    pub competitor: Option<String>,
    /// Who changed it.
    pub changed_by: Option<String>,
    /// When.
    pub changed_at: EpochMs,
}

/// Something to do by a due time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Task {
    /// Row id.
    pub id: String,
    /// Call, meeting, email or todo.
    pub kind: TaskKind,
    /// One line.
    pub subject: String,
    /// Details.
    pub description: Option<String>,
    /// When it is due.
    pub due_at: Option<EpochMs>,
    /// Who does it.
    pub assignee_id: Option<String>,
    /// About whom.
    pub contact_id: Option<String>,
    /// About which deal.
    pub deal_id: Option<String>,
    /// For a queue (a callback nobody owns yet).
    pub queue_id: Option<String>,
    /// The number to call back.
    pub phone_e164: Option<String>,
    /// The call that gave rise to it (the last missed one, for a callback).
    pub call_id: Option<String>,
    /// A callback (missed call or scheduled from the card): escalated when overdue.
    pub callback: bool,
    /// The call whose recording is the message the caller left (voicemail).
    pub voicemail_call_id: Option<String>,
    /// Missed calls from the number this callback stands for.
    pub missed_count: i64,
    /// Open, done or cancelled.
    pub status: TaskStatus,
    /// What came of it.
    pub result: Option<String>,
    /// When it was completed.
    pub completed_at: Option<EpochMs>,
    /// When it was escalated for being overdue.
    pub escalated_at: Option<EpochMs>,
    /// Who it was escalated to.
    pub escalated_to: Option<String>,
    /// Who created it.
    pub created_by: Option<String>,
    /// Created at.
    pub created_at: EpochMs,
    /// Last changed at.
    pub updated_at: EpochMs,
}

/// A free-text note on a contact, company or deal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Note {
    /// Row id.
    pub id: String,
    /// The text.
    pub body: String,
    /// On this contact.
    pub contact_id: Option<String>,
    /// On this company.
    pub company_id: Option<String>,
    /// On this deal.
    pub deal_id: Option<String>,
    /// Who wrote it.
    pub author_id: Option<String>,
    /// When.
    pub created_at: EpochMs,
}

/// Something a user is told outside a call: an escalated callback, for now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Notification {
    /// Row id.
    pub id: String,
    /// Who it is for.
    pub user_id: String,
    /// What it is about (`task_escalated`).
    pub kind: String,
    /// The task concerned.
    pub task_id: Option<String>,
    /// The deal concerned (a stage rule's notice, an approval).
    #[serde(default)]
    pub deal_id: Option<String>,
    /// One line for people.
    pub body: String,
    /// When it was made.
    pub created_at: EpochMs,
    /// When the user saw it.
    pub read_at: Option<EpochMs>,
}

/// One entry of the audit log: who did what to which record, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEntry {
    /// Row id.
    pub id: String,
    /// When.
    pub at: EpochMs,
    /// Who (absent for the system itself).
    pub user_id: Option<String>,
    /// What, e.g. `contact.create`.
    pub action: String,
    /// Record kind.
    pub entity: String,
    /// Record id.
    pub entity_id: Option<String>,
    /// Details of the change (never secrets).
    #[schema(value_type = Object)]
    pub detail: Value,
}

/// One item of a contact's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TimelineItem {
    /// When it happened.
    pub at: EpochMs,
    /// `note`, `task`, `deal`, `deal_change` or `call`.
    pub kind: String,
    /// The record's id.
    pub id: String,
    /// One line for the list, in English.
    pub summary: String,
    /// The item's own words, to show next to the translated fields below: a call's numbers
    /// and reason, a task's subject, a deal's title, a deal change's stages and reason, a note.
    pub text: String,
    /// For a call: `inbound` or `outbound`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<String>,
    /// For a call: how it ended (`caller_hangup`, `abandoned`, ...); absent while in progress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// For a call: the disposition the agent chose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disposition: Option<String>,
    /// For a task: `call`, `meeting`, `email` or `todo`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_kind: Option<String>,
    /// For a document: `offer`, `invoice`, `contract` or `act` (its `text` is its number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc_kind: Option<String>,
    /// A task's or deal's status, or the status a deal change moved the deal to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// For a call: the agent who took or placed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    /// For a recorded call the user may hear: where its recording plays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording_url: Option<String>,
}

string_enum! {
    /// Which way a call went.
    CallDirection {
        /// A customer called in.
        Inbound => "inbound",
        /// We called out.
        Outbound => "outbound",
    }
}

/// One call, as logged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Call {
    /// Row id.
    pub id: String,
    /// In or out.
    pub direction: CallDirection,
    /// Caller, E.164 (or as received when it is not a phone number).
    pub from_e164: String,
    /// Called number.
    pub to_e164: String,
    /// Queue it entered.
    pub queue_id: Option<String>,
    /// Agent who took it.
    pub agent_id: Option<String>,
    /// Linked contact.
    pub contact_id: Option<String>,
    /// Linked deal.
    pub deal_id: Option<String>,
    /// When it was offered to the call center.
    pub offered_at: EpochMs,
    /// When an agent answered.
    pub answered_at: Option<EpochMs>,
    /// When it ended.
    pub ended_at: Option<EpochMs>,
    /// Time in queue until answered or abandoned.
    pub wait_ms: Option<i64>,
    /// Talk time.
    pub talk_ms: Option<i64>,
    /// Time on hold.
    pub hold_ms: i64,
    /// Why it ended (`caller_hangup`, `agent_hangup`, `abandoned`, `max_wait`, `interrupted`, ...).
    pub end_reason: Option<crate::call::EndReason>,
    /// Trunk or account an inbound call came through.
    pub origin: Option<String>,
    /// SIP status of a failed call.
    pub sip_code: Option<i64>,
    /// Why the customer called (the operator's words).
    pub reason: Option<String>,
    /// The outcome the operator chose from the configured list.
    pub disposition: Option<String>,
    /// The operator's notes.
    pub notes: Option<String>,
    /// After-call work time (from the end of the call to the agent's next state).
    pub wrapup_ms: Option<i64>,
    /// The task this call was placed for (a callback).
    pub task_id: Option<String>,
    /// Whether the call was recorded (the file may since have been purged).
    pub recorded: bool,
    /// Length of the recording, once it is finished.
    pub recording_duration_ms: Option<i64>,
    /// Size of the recording file in bytes, once it is finished.
    pub recording_size: Option<i64>,
    /// When retention deleted the recording.
    pub recording_purged_at: Option<EpochMs>,
    /// Kept past retention.
    pub legal_hold: bool,
}

/// A call queue: the number callers dial, how agents are chosen, and its time limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Queue {
    /// Row id.
    pub id: String,
    /// Unique name.
    pub name: String,
    /// The number (or SIP user) that routes calls here, unique.
    pub number: Option<String>,
    /// How agents are picked.
    pub strategy: crate::acd::Strategy,
    /// How long one agent rings before the next is tried.
    pub ring_timeout_ms: i64,
    /// How long a caller waits at most; then the call is released and counts as missed.
    pub max_wait_ms: i64,
    /// After-call work time given to the agent.
    pub wrap_up_ms: i64,
    /// Whether calls are recorded.
    pub record: bool,
    /// Service level: answered within this many ms ...
    pub sl_answer_ms: i64,
    /// ... for this percentage of calls.
    pub sl_target_pct: i64,
    /// Agents (user ids) serving the queue.
    pub members: Vec<String>,
    /// What callers hear while they wait: `ringback`, `music` (the built-in music), a stored
    /// prompt's id (played over and over), or `None` for the gateway's `sip.waiting_sound`.
    pub waiting_sound: Option<String>,
    /// Every so many seconds a waiting caller hears their position and the expected wait
    /// (0: never).
    pub announce_every_s: i64,
    /// The language of the announcements: "ru" or "en".
    pub language: String,
    /// A caller whose contact (or open deal) has an owner rings that owner alone for so many
    /// seconds before the queue's agents (0: no).
    pub owner_first_s: i64,
    /// A contact custom field (its key) whose set value makes the caller a VIP, served first.
    pub vip_field: Option<String>,
    /// The business hours outside which callers do not wait (none: always open).
    pub schedule_id: Option<String>,
    /// Outside them: `voicemail` (the after-hours prompt, then a message for the queue),
    /// `callback` (the prompt, then an offer to call back when the queue opens) or `hangup`
    /// (the after-hours prompt only).
    pub after_hours: String,
    /// A waiting caller is offered a callback after this many seconds (0: not for the wait).
    pub callback_after_s: i64,
    /// ... or at once when the queue's typical wait is over this many seconds (0: not for it).
    pub callback_over_wait_s: i64,
    /// Calls to a customer who asked for a callback before giving up.
    pub callback_attempts: i64,
    /// Seconds between them.
    pub callback_retry_s: i64,
    /// Skills an agent needs (each at least at its level) to be offered its calls.
    pub skills: crate::acd::Skills,
    /// When it was created.
    pub created_at: EpochMs,
}

/// One entry of a call's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CallEvent {
    /// Row id.
    pub id: String,
    /// The call.
    pub call_id: String,
    /// When.
    pub at: EpochMs,
    /// What happened.
    pub kind: crate::call::CallEventKind,
    /// The agent concerned.
    pub agent_id: Option<String>,
    /// Details.
    #[schema(value_type = Object)]
    pub detail: Value,
}
