//! Leads from outside: the web forms that take them (each with a public token) and every lead
//! as it arrived, with its source and what it made (contact, deal, callback task). Turning a
//! lead into those records is [`Store::take_lead`]; the caller serialises intake so that two
//! leads from one number never make two contacts.

use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;
use switchboard_core::entity::{Contact, PhoneKind, TaskKind};
use switchboard_core::{PhoneNumber, new_id};

use crate::sql::Sql;
use crate::{
    Actor, ContactFilter, NewContact, NewDeal, NewPhone, NewTask, Page, PageRequest, Store,
    StoreError, audit, now_ms,
};

/// A form on a website that sends leads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LeadForm {
    /// Row id.
    pub id: String,
    /// Unique name; also the subject of its leads' callback tasks and the start of their deals'
    /// titles.
    pub name: String,
    /// The secret part of the form's address (`/api/forms/{token}/leads`).
    pub token: String,
    /// Minutes within which a lead is to be called back.
    pub callback_minutes: i64,
    /// Whose members take the leads in turn (when the contact has no owner).
    pub team_id: Option<String>,
    /// Origins (`https://example.ru`) whose pages may post to it; `*` for any.
    pub allowed_origins: Vec<String>,
    /// Whether it takes leads.
    pub active: bool,
    /// Posts refused as spam (the honeypot filled, too many from one address).
    pub spam: i64,
    /// Leads taken.
    pub leads: i64,
    /// Created at.
    pub created_at: i64,
}

/// A form to create, or what one becomes.
#[derive(Debug, Clone)]
pub struct NewLeadForm {
    /// Unique name, 1-100 characters.
    pub name: String,
    /// 1-1440.
    pub callback_minutes: i64,
    /// The team whose members take its leads.
    pub team_id: Option<String>,
    /// Origins allowed to post.
    pub allowed_origins: Vec<String>,
    /// Takes leads.
    pub active: bool,
}

/// Where a lead came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LeadSource {
    /// The integration's or the form's own word for it.
    pub source: Option<String>,
    /// `utm_source`.
    pub utm_source: Option<String>,
    /// `utm_medium`.
    pub utm_medium: Option<String>,
    /// `utm_campaign`.
    pub utm_campaign: Option<String>,
    /// `utm_term`.
    pub utm_term: Option<String>,
    /// `utm_content`.
    pub utm_content: Option<String>,
    /// The page the visitor came from.
    pub referrer: Option<String>,
}

/// A lead to take: who and where from. At least a phone or an email.
#[derive(Debug, Clone)]
pub struct NewLead {
    /// The form it came through (None: the API).
    pub form: Option<LeadForm>,
    /// The person's name as they wrote it.
    pub name: Option<String>,
    /// Their number.
    pub phone: Option<PhoneNumber>,
    /// Their email (normalised).
    pub email: Option<String>,
    /// What they wrote.
    pub message: Option<String>,
    /// Where it came from.
    pub source: LeadSource,
    /// Who takes it when the contact has no owner: the candidates in the order they take
    /// turns (the caller's choice: a team's active members).
    pub candidates: Vec<String>,
}

/// A lead as stored, with what it made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Lead {
    /// Row id.
    pub id: String,
    /// The form it came through.
    pub form_id: Option<String>,
    /// `form` or `api`.
    pub channel: String,
    /// The name given.
    pub name: Option<String>,
    /// The number given (E.164).
    pub phone_e164: Option<String>,
    /// The email given.
    pub email: Option<String>,
    /// The message.
    pub message: Option<String>,
    /// Where it came from.
    #[serde(flatten)]
    pub source: LeadSource,
    /// The contact it found or made.
    pub contact_id: Option<String>,
    /// Whether that contact is new.
    pub contact_created: bool,
    /// The deal it made.
    pub deal_id: Option<String>,
    /// The callback (or email) task it made.
    pub task_id: Option<String>,
    /// Who takes it.
    pub assignee_id: Option<String>,
    /// When it arrived.
    pub created_at: i64,
}

const FORM_COLUMNS: &str = "f.id, f.name, f.token, f.callback_minutes, f.team_id, f.allowed_origins, f.active, f.spam, f.created_at, \
    (SELECT COUNT(*) FROM leads l WHERE l.form_id = f.id) AS leads";
const LEAD_COLUMNS: &str = "id, form_id, channel, name, phone_e164, email, message, source, utm_source, utm_medium, utm_campaign, \
    utm_term, utm_content, referrer, contact_id, contact_created, deal_id, task_id, assignee_id, created_at";

fn form_from_row(row: &AnyRow) -> Result<LeadForm, StoreError> {
    let origins: String = row.try_get("allowed_origins")?;
    Ok(LeadForm {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        token: row.try_get("token")?,
        callback_minutes: row.try_get("callback_minutes")?,
        team_id: row.try_get("team_id")?,
        allowed_origins: serde_json::from_str(&origins).unwrap_or_default(),
        active: row.try_get::<i64, _>("active")? != 0,
        spam: row.try_get("spam")?,
        leads: row.try_get("leads")?,
        created_at: row.try_get("created_at")?,
    })
}

fn lead_from_row(row: &AnyRow) -> Result<Lead, StoreError> {
    Ok(Lead {
        id: row.try_get("id")?,
        form_id: row.try_get("form_id")?,
        channel: row.try_get("channel")?,
        name: row.try_get("name")?,
        phone_e164: row.try_get("phone_e164")?,
        email: row.try_get("email")?,
        message: row.try_get("message")?,
        source: LeadSource {
            source: row.try_get("source")?,
            utm_source: row.try_get("utm_source")?,
            utm_medium: row.try_get("utm_medium")?,
            utm_campaign: row.try_get("utm_campaign")?,
            utm_term: row.try_get("utm_term")?,
            utm_content: row.try_get("utm_content")?,
            referrer: row.try_get("referrer")?,
        },
        contact_id: row.try_get("contact_id")?,
        contact_created: row.try_get::<i64, _>("contact_created")? != 0,
        deal_id: row.try_get("deal_id")?,
        task_id: row.try_get("task_id")?,
        assignee_id: row.try_get("assignee_id")?,
        created_at: row.try_get("created_at")?,
    })
}

fn check_form(new: &NewLeadForm) -> Result<String, StoreError> {
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(StoreError::invalid("name", "1 to 100 characters"));
    }
    if !(1..=1440).contains(&new.callback_minutes) {
        return Err(StoreError::invalid("callback_minutes", "must be between 1 and 1440"));
    }
    for (i, origin) in new.allowed_origins.iter().enumerate() {
        let ok = origin == "*"
            || origin.split_once("://").is_some_and(|(scheme, host)| {
                (scheme == "https" || scheme == "http")
                    && !host.is_empty()
                    && !host.contains(['/', ' ', '?', '#'])
            });
        if !ok {
            return Err(StoreError::invalid(
                format!("allowed_origins[{i}]"),
                "expected an origin such as https://example.ru, or *",
            ));
        }
    }
    Ok(name.to_owned())
}

impl Store {
    /// Creates a form with `token` (a fresh random secret from the caller; audit-logged).
    pub async fn create_lead_form(
        &self,
        actor: &Actor,
        new: NewLeadForm,
        token: String,
    ) -> Result<LeadForm, StoreError> {
        let name = check_form(&new)?;
        let mut tx = self.begin_write().await?;
        let mut dup = Sql::new("SELECT id FROM lead_forms WHERE name = ");
        dup.bind(name.clone());
        if let Some(row) = dup.fetch_optional(&mut *tx).await? {
            return Err(StoreError::Duplicate {
                field: "name".into(),
                value: name,
                existing_id: row.try_get("id")?,
            });
        }
        if let Some(team) = &new.team_id {
            crate::teams::require_ref(&mut tx, "teams", "team_id", team).await?;
        }
        let (id, now) = (new_id(), now_ms());
        let origins = json!(new.allowed_origins).to_string();
        let mut sql = Sql::new(
            "INSERT INTO lead_forms (id, name, token, callback_minutes, team_id, allowed_origins, active, created_at, updated_at) VALUES (",
        );
        sql.bind(id.clone()).push(", ").bind(name.clone()).push(", ").bind(token);
        sql.push(", ").bind(new.callback_minutes).push(", ").bind(new.team_id.clone());
        sql.push(", ").bind(origins).push(", ").bind(i64::from(new.active));
        sql.push(", ").bind(now).push(", ").bind(now).push(")");
        sql.execute(&mut *tx).await?;
        let detail = json!({"name": name, "callback_minutes": new.callback_minutes,
                            "team_id": new.team_id, "allowed_origins": new.allowed_origins});
        audit::record(&mut tx, actor, "lead_form.create", "lead_form", Some(&id), detail).await?;
        tx.commit().await?;
        self.get_lead_form(&id).await
    }

    /// Changes a form (audit-logged); its token stays.
    pub async fn update_lead_form(
        &self,
        actor: &Actor,
        id: &str,
        new: NewLeadForm,
    ) -> Result<LeadForm, StoreError> {
        self.get_lead_form(id).await?;
        let name = check_form(&new)?;
        let mut tx = self.begin_write().await?;
        if let Some(team) = &new.team_id {
            crate::teams::require_ref(&mut tx, "teams", "team_id", team).await?;
        }
        let mut sql = Sql::new("UPDATE lead_forms SET name = ");
        sql.bind(name.clone()).push(", callback_minutes = ").bind(new.callback_minutes);
        sql.push(", team_id = ").bind(new.team_id.clone());
        sql.push(", allowed_origins = ").bind(json!(new.allowed_origins).to_string());
        sql.push(", active = ").bind(i64::from(new.active));
        sql.push(", updated_at = ").bind(now_ms()).push(" WHERE id = ").bind(id.to_owned());
        sql.execute(&mut *tx).await.map_err(|e| match e {
            StoreError::Database(db) => crate::error::unique_violation(db, "name", &name),
            other => other,
        })?;
        let detail = json!({"name": name, "callback_minutes": new.callback_minutes,
                            "team_id": new.team_id, "allowed_origins": new.allowed_origins,
                            "active": new.active});
        audit::record(&mut tx, actor, "lead_form.update", "lead_form", Some(id), detail).await?;
        tx.commit().await?;
        self.get_lead_form(id).await
    }

    /// A form by id.
    pub async fn get_lead_form(&self, id: &str) -> Result<LeadForm, StoreError> {
        let mut sql = Sql::new(&format!("SELECT {FORM_COLUMNS} FROM lead_forms f WHERE f.id = "));
        sql.bind(id.to_owned());
        form_from_row(&sql.fetch_optional(&self.pool).await?.ok_or(StoreError::not_found("form"))?)
    }

    /// A form by its token (the public address).
    pub async fn lead_form_by_token(&self, token: &str) -> Result<LeadForm, StoreError> {
        let mut sql =
            Sql::new(&format!("SELECT {FORM_COLUMNS} FROM lead_forms f WHERE f.token = "));
        sql.bind(token.to_owned());
        form_from_row(&sql.fetch_optional(&self.pool).await?.ok_or(StoreError::not_found("form"))?)
    }

    /// Every form, by name.
    pub async fn list_lead_forms(&self) -> Result<Vec<LeadForm>, StoreError> {
        let rows = Sql::new(&format!("SELECT {FORM_COLUMNS} FROM lead_forms f ORDER BY f.name"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(form_from_row).collect()
    }

    /// Counts a post refused as spam against its form.
    pub async fn count_lead_spam(&self, form_id: &str) -> Result<(), StoreError> {
        let mut sql = Sql::new("UPDATE lead_forms SET spam = spam + 1 WHERE id = ");
        sql.bind(form_id.to_owned());
        sql.execute(&self.pool).await?;
        Ok(())
    }

    /// Leads, newest first (of one form when given).
    pub async fn list_leads(
        &self,
        form_id: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<Lead>, StoreError> {
        let build = |select: &str| {
            let mut sql = Sql::new(select);
            sql.push(" FROM leads WHERE 1 = 1");
            if let Some(form) = form_id {
                sql.push(" AND form_id = ").bind(form.to_owned());
            }
            sql
        };
        let total = build("SELECT COUNT(*)").fetch_count(&self.pool).await?;
        let mut sql = build(&format!("SELECT {LEAD_COLUMNS}"));
        sql.push(" ORDER BY created_at DESC, id DESC LIMIT ").bind(i64::from(page.per_page));
        sql.push(" OFFSET ").bind(page.offset());
        let items =
            sql.fetch_all(&self.pool).await?.iter().map(lead_from_row).collect::<Result<_, _>>()?;
        Ok(Page { items, page: page.page, per_page: page.per_page, total })
    }

    /// The contact a lead is about: the one with its number, else with its email, else a new
    /// one owned by `owner`. Returns it and whether it is new.
    async fn lead_contact(
        &self,
        lead: &NewLead,
        owner: Option<&str>,
    ) -> Result<(Contact, bool), StoreError> {
        if let Some(phone) = &lead.phone
            && let Some(c) = self.find_contacts_by_phone(phone.e164()).await?.into_iter().next()
        {
            return Ok((c, false));
        }
        if let Some(email) = &lead.email {
            let filter = ContactFilter { email: Some(email.clone()), ..Default::default() };
            if let Some(c) =
                self.list_contacts(&filter, PageRequest::new(None, Some(1))).await?.items.pop()
            {
                return Ok((c, false));
            }
        }
        let name = lead.name.clone().unwrap_or_default();
        let (first, last) = match name.trim().split_once(' ') {
            Some((first, rest)) => (first.to_owned(), rest.trim().to_owned()),
            None => (name.trim().to_owned(), String::new()),
        };
        let new = NewContact {
            first_name: first,
            last_name: last,
            phones: lead
                .phone
                .iter()
                .map(|p| NewPhone { number: p.clone(), kind: PhoneKind::Other })
                .collect(),
            emails: lead.email.iter().cloned().collect(),
            owner_id: owner.map(str::to_owned),
            ..NewContact::default()
        };
        match self.create_contact(&Actor::system(), new).await {
            Ok(c) => Ok((c, true)),
            // Made a moment ago by another node's lead: that one.
            Err(StoreError::Duplicate { existing_id, .. }) => {
                Ok((self.get_contact(&existing_id).await?, false))
            }
            Err(e) => Err(e),
        }
    }

    /// Takes a lead: finds or makes its contact, makes a deal in the pipeline's first stage
    /// and a task to call back within the form's minutes (an email task when there is no
    /// number), assigned to the contact's owner or the next candidate in turn; records the
    /// lead with its source. The caller lets one lead in at a time.
    pub async fn take_lead(&self, lead: NewLead) -> Result<Lead, StoreError> {
        if lead.phone.is_none() && lead.email.is_none() {
            return Err(StoreError::invalid("phone", "a lead needs a phone or an email"));
        }
        let now = now_ms();
        let form_id = lead.form.as_ref().map(|f| f.id.clone());
        // Turns: the candidate after the one who took this form's previous lead.
        let previous: Option<String> = {
            let mut sql = Sql::new("SELECT assignee_id FROM leads WHERE ");
            match &form_id {
                Some(id) => sql.push("form_id = ").bind(id.clone()),
                None => sql.push("form_id IS NULL"),
            };
            sql.push(" ORDER BY created_at DESC, id DESC LIMIT 1");
            match sql.fetch_optional(&self.pool).await? {
                Some(row) => row.try_get("assignee_id")?,
                None => None,
            }
        };
        let next = (!lead.candidates.is_empty()).then(|| {
            let after = previous
                .and_then(|p| lead.candidates.iter().position(|c| *c == p))
                .map_or(0, |i| i + 1);
            lead.candidates[after % lead.candidates.len()].clone()
        });
        let (contact, created) = self.lead_contact(&lead, next.as_deref()).await?;
        let assignee = contact.owner_id.clone().or(next);
        let label = lead
            .form
            .as_ref()
            .map(|f| f.name.clone())
            .or_else(|| lead.source.source.clone())
            .unwrap_or_else(|| "API".to_owned());
        let who = contact.display_name();
        let deal = self
            .create_deal(
                &Actor::system(),
                NewDeal {
                    title: format!("{label}: {who}"),
                    contact_id: Some(contact.id.clone()),
                    company_id: contact.company_id.clone(),
                    stage_id: None,
                    pipeline_id: None,
                    amount_minor: None,
                    currency: None,
                    probability: None,
                    owner_id: assignee.clone(),
                    expected_close_at: None,
                    custom: Default::default(),
                },
            )
            .await?;
        let minutes = lead.form.as_ref().map_or(15, |f| f.callback_minutes);
        let task = self
            .create_task(
                &Actor::system(),
                NewTask {
                    kind: if lead.phone.is_some() { TaskKind::Call } else { TaskKind::Email },
                    subject: label.clone(),
                    description: lead.message.clone(),
                    due_at: Some(now + minutes * 60_000),
                    assignee_id: assignee.clone(),
                    contact_id: Some(contact.id.clone()),
                    deal_id: Some(deal.id.clone()),
                    callback_e164: lead.phone.as_ref().map(|p| p.e164().to_owned()),
                },
            )
            .await?;
        let id = new_id();
        let s = &lead.source;
        let mut sql = Sql::new(&format!("INSERT INTO leads ({LEAD_COLUMNS}) VALUES ("));
        sql.bind(id.clone()).push(", ").bind(form_id.clone()).push(", ");
        sql.bind(if lead.form.is_some() { "form" } else { "api" }.to_owned()).push(", ");
        sql.bind(lead.name.clone()).push(", ");
        sql.bind(lead.phone.as_ref().map(|p| p.e164().to_owned())).push(", ");
        sql.bind(lead.email.clone()).push(", ").bind(lead.message.clone()).push(", ");
        sql.bind(s.source.clone()).push(", ").bind(s.utm_source.clone()).push(", ");
        sql.bind(s.utm_medium.clone()).push(", ").bind(s.utm_campaign.clone()).push(", ");
        sql.bind(s.utm_term.clone()).push(", ").bind(s.utm_content.clone()).push(", ");
        sql.bind(s.referrer.clone()).push(", ").bind(contact.id.clone()).push(", ");
        sql.bind(i64::from(created)).push(", ").bind(deal.id.clone()).push(", ");
        sql.bind(task.id.clone()).push(", ").bind(assignee.clone()).push(", ").bind(now);
        sql.push(")");
        let mut tx = self.begin_write().await?;
        sql.execute(&mut *tx).await?;
        let detail = json!({"form_id": form_id, "contact_id": contact.id, "contact_created": created,
                            "deal_id": deal.id, "task_id": task.id, "assignee_id": assignee,
                            "utm_source": s.utm_source, "utm_campaign": s.utm_campaign});
        audit::record(&mut tx, &Actor::system(), "lead.create", "lead", Some(&id), detail).await?;
        tx.commit().await?;
        let mut read = Sql::new(&format!("SELECT {LEAD_COLUMNS} FROM leads WHERE id = "));
        read.bind(id);
        lead_from_row(&read.fetch_optional(&self.pool).await?.ok_or(StoreError::not_found("lead"))?)
    }
}
