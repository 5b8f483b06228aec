//! Pipelines, their stages, and what happens when a deal enters a stage: the fields it must
//! have first, and the rules that create tasks and notify people.

use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use switchboard_core::entity::{Deal, PipelineStage, Task, TaskKind};
use switchboard_core::new_id;
use switchboard_core::role::Role;
use switchboard_core::sales::{Pipeline, RuleAction, RuleAssignee, StageRule};

use crate::funnel;
use crate::sql::{Sql, json_col, parse_col, parse_opt_col};
use crate::tasks::{NewTask, insert_task};
use crate::teams::require_ref;
use crate::{Actor, Store, StoreError, audit, now_ms};

/// A pipeline stage to create.
#[derive(Debug, Clone, Default)]
pub struct NewStage {
    /// The pipeline; `None` is the first.
    pub pipeline_id: Option<String>,
    /// Name, unique within the pipeline.
    pub name: String,
    /// Order on the board; `None` puts it last.
    pub position: Option<i64>,
    /// Default win probability, percent.
    pub probability: i64,
    /// The catalogue key of a stage the system made (`new`: the pages say `stage_new`).
    pub key: Option<String>,
    /// What a deal must have before entering.
    pub required_fields: Vec<String>,
}

/// Changes to a stage.
#[derive(Debug, Clone, Default)]
pub struct StageChanges {
    /// New name.
    pub name: Option<String>,
    /// New position.
    pub position: Option<i64>,
    /// New probability.
    pub probability: Option<i64>,
    /// New list of fields required before entering.
    pub required_fields: Option<Vec<String>>,
}

/// A stage rule to create.
#[derive(Debug, Clone)]
pub struct NewStageRule {
    /// A task or a notification.
    pub action: RuleAction,
    /// The task's kind.
    pub task_kind: TaskKind,
    /// The task's subject or the notification's text.
    pub subject: String,
    /// To whom.
    pub assignee: RuleAssignee,
    /// The user (assignee `user`).
    pub assignee_user_id: Option<String>,
    /// The role (assignee `role`).
    pub assignee_role: Option<Role>,
    /// Due hours after entering (or the hour UTC of `due_field`'s date).
    pub due_hours: Option<i64>,
    /// A deal date field the task is due on.
    pub due_field: Option<String>,
}

/// What entering a stage did.
#[derive(Debug, Clone)]
pub struct StageEntry {
    /// The deal as it is now.
    pub deal: Deal,
    /// Tasks the stage's rules created.
    pub tasks: Vec<Task>,
    /// Users a rule notified.
    pub notified: Vec<String>,
}

/// What a stage may require besides a deal custom field's key.
pub const REQUIRABLE: &[&str] = &["amount", "contact_id", "company_id", "owner_id", "items"];

const STAGE_COLUMNS: &str =
    "id, pipeline_id, name, key, position, probability, required_fields, created_at";

fn stage_from_row(row: &AnyRow) -> Result<PipelineStage, StoreError> {
    Ok(PipelineStage {
        id: row.try_get("id")?,
        pipeline_id: row.try_get("pipeline_id")?,
        name: row.try_get("name")?,
        key: row.try_get("key")?,
        position: row.try_get("position")?,
        probability: row.try_get("probability")?,
        required_fields: json_col(row, "required_fields")?,
        created_at: row.try_get("created_at")?,
    })
}

fn pipeline_from_row(row: &AnyRow) -> Result<Pipeline, StoreError> {
    Ok(Pipeline {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        key: row.try_get("key")?,
        position: row.try_get("position")?,
        created_at: row.try_get("created_at")?,
    })
}

const RULE_COLUMNS: &str = "id, stage_id, action, task_kind, subject, assignee, assignee_user_id, assignee_role, due_hours, due_field, position, created_at";

fn rule_from_row(row: &AnyRow) -> Result<StageRule, StoreError> {
    Ok(StageRule {
        id: row.try_get("id")?,
        stage_id: row.try_get("stage_id")?,
        action: parse_col(row, "action")?,
        task_kind: parse_col(row, "task_kind")?,
        subject: row.try_get("subject")?,
        assignee: parse_col(row, "assignee")?,
        assignee_user_id: row.try_get("assignee_user_id")?,
        assignee_role: parse_opt_col(row, "assignee_role")?,
        due_hours: row.try_get("due_hours")?,
        due_field: row.try_get("due_field")?,
        position: row.try_get("position")?,
        created_at: row.try_get("created_at")?,
    })
}

pub(crate) fn check_probability(field: &str, p: Option<i64>) -> Result<(), StoreError> {
    match p {
        Some(p) if !(0..=100).contains(&p) => Err(StoreError::invalid(field, "must be 0-100")),
        _ => Ok(()),
    }
}

fn check_name(name: &str) -> Result<String, StoreError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(StoreError::invalid("name", "1-100 characters"));
    }
    Ok(name.to_owned())
}

/// The stages a fresh install starts with: (key, name, probability). The pages show each in
/// the reader's language by its key until an administrator renames it.
const DEFAULT_STAGES: &[(&str, &str, i64)] = &[
    ("new", "New", 10),
    ("qualified", "Qualified", 30),
    ("proposal", "Proposal", 50),
    ("negotiation", "Negotiation", 70),
];

/// The date (`YYYY-MM-DD`) at `hour` o'clock UTC, epoch ms.
fn date_at_hour(date: &str, hour: i64) -> Option<i64> {
    let mut parts = date.get(..10)?.split('-');
    let (y, m, d): (i64, i64, i64) =
        (parts.next()?.parse().ok()?, parts.next()?.parse().ok()?, parts.next()?.parse().ok()?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 24 + hour.clamp(0, 23)) * 3_600_000)
}

impl Store {
    /// Creates the default pipeline and its stages when there are none. Idempotent.
    pub async fn seed_defaults(&self) -> Result<(), StoreError> {
        if self.list_pipelines().await?.is_empty() {
            self.create_pipeline(&Actor::system(), "Sales", Some("sales")).await?;
        }
        if Sql::new("SELECT COUNT(*) FROM pipeline_stages").fetch_count(&self.pool).await? > 0 {
            return Ok(());
        }
        for (i, (key, name, probability)) in DEFAULT_STAGES.iter().enumerate() {
            self.create_stage(
                &Actor::system(),
                NewStage {
                    name: (*name).to_owned(),
                    position: Some(i as i64 + 1),
                    probability: *probability,
                    key: Some((*key).to_owned()),
                    ..NewStage::default()
                },
            )
            .await?;
        }
        Ok(())
    }

    /// The pipelines, in switcher order.
    pub async fn list_pipelines(&self) -> Result<Vec<Pipeline>, StoreError> {
        let rows = Sql::new(
            "SELECT id, name, key, position, created_at FROM pipelines ORDER BY position, name",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(pipeline_from_row).collect()
    }

    /// Adds a pipeline (last in order).
    pub async fn create_pipeline(
        &self,
        actor: &Actor,
        name: &str,
        key: Option<&str>,
    ) -> Result<Pipeline, StoreError> {
        let name = check_name(name)?;
        let pipelines = self.list_pipelines().await?;
        if let Some(existing) = pipelines.iter().find(|p| p.name == name) {
            return Err(StoreError::Duplicate {
                field: "name".into(),
                value: name,
                existing_id: existing.id.clone(),
            });
        }
        let id = new_id();
        let position = pipelines.iter().map(|p| p.position).max().unwrap_or(0) + 1;
        let mut tx = self.begin_write().await?;
        let mut sql =
            Sql::new("INSERT INTO pipelines (id, name, key, position, created_at) VALUES (");
        sql.bind(id.clone()).push(", ").bind(name.clone()).push(", ").bind(key.map(str::to_owned));
        sql.push(", ").bind(position).push(", ").bind(now_ms()).push(")");
        sql.execute(&mut *tx).await?;
        audit::record(
            &mut tx,
            actor,
            "pipeline.create",
            "pipeline",
            Some(&id),
            json!({"name": name}),
        )
        .await?;
        tx.commit().await?;
        self.pipeline(&id).await
    }

    /// One pipeline.
    pub async fn pipeline(&self, id: &str) -> Result<Pipeline, StoreError> {
        self.list_pipelines()
            .await?
            .into_iter()
            .find(|p| p.id == id)
            .ok_or(StoreError::not_found("pipeline"))
    }

    /// Renames or reorders a pipeline.
    pub async fn update_pipeline(
        &self,
        actor: &Actor,
        id: &str,
        name: Option<&str>,
        position: Option<i64>,
    ) -> Result<Pipeline, StoreError> {
        let current = self.pipeline(id).await?;
        let mut sql = Sql::new("UPDATE pipelines SET id = id");
        if let Some(name) = name {
            let name = check_name(name)?;
            if let Some(other) =
                self.list_pipelines().await?.into_iter().find(|p| p.name == name && p.id != id)
            {
                return Err(StoreError::Duplicate {
                    field: "name".into(),
                    value: name,
                    existing_id: other.id,
                });
            }
            if name != current.name {
                sql.push(", name = ").bind(name).push(", key = NULL");
            }
        }
        if let Some(position) = position {
            sql.push(", position = ").bind(position);
        }
        sql.push(" WHERE id = ").bind(id.to_owned());
        let mut tx = self.begin_write().await?;
        sql.execute(&mut *tx).await?;
        audit::record(
            &mut tx,
            actor,
            "pipeline.update",
            "pipeline",
            Some(id),
            json!({"name": name, "position": position}),
        )
        .await?;
        tx.commit().await?;
        self.pipeline(id).await
    }

    /// Removes a pipeline no deal is in, with its stages and their rules. The last one stays.
    pub async fn delete_pipeline(&self, actor: &Actor, id: &str) -> Result<(), StoreError> {
        self.pipeline(id).await?;
        if self.list_pipelines().await?.len() == 1 {
            return Err(StoreError::Conflict("the last pipeline cannot be deleted".into()));
        }
        let mut tx = self.begin_write().await?;
        let mut used = Sql::new(
            "SELECT COUNT(*) FROM deals WHERE stage_id IN (SELECT id FROM pipeline_stages WHERE pipeline_id = ",
        );
        used.bind(id.to_owned()).push(")");
        let deals = used.fetch_count(&mut *tx).await?;
        if deals > 0 {
            return Err(StoreError::Conflict(format!(
                "{deals} deals are in this pipeline; move them first"
            )));
        }
        let mut rules = Sql::new(
            "DELETE FROM stage_rules WHERE stage_id IN (SELECT id FROM pipeline_stages WHERE pipeline_id = ",
        );
        rules.bind(id.to_owned()).push(")");
        rules.execute(&mut *tx).await?;
        let mut stages = Sql::new("DELETE FROM pipeline_stages WHERE pipeline_id = ");
        stages.bind(id.to_owned());
        stages.execute(&mut *tx).await?;
        let mut sql = Sql::new("DELETE FROM pipelines WHERE id = ");
        sql.bind(id.to_owned());
        sql.execute(&mut *tx).await?;
        audit::record(&mut tx, actor, "pipeline.delete", "pipeline", Some(id), json!({})).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every stage of every pipeline, in board order (pipelines in their order, then stages).
    pub async fn list_stages(&self) -> Result<Vec<PipelineStage>, StoreError> {
        let columns: Vec<String> = STAGE_COLUMNS.split(", ").map(|c| format!("s.{c}")).collect();
        let rows = Sql::new(&format!(
            "SELECT {} FROM pipeline_stages s JOIN pipelines p ON p.id = s.pipeline_id ORDER BY p.position, p.name, s.position, s.name",
            columns.join(", ")
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(stage_from_row).collect()
    }

    /// One stage.
    pub async fn stage(&self, id: &str) -> Result<PipelineStage, StoreError> {
        let mut sql = Sql::new(&format!("SELECT {STAGE_COLUMNS} FROM pipeline_stages WHERE id = "));
        sql.bind(id.to_owned());
        stage_from_row(
            &sql.fetch_optional(&self.pool).await?.ok_or(StoreError::not_found("stage"))?,
        )
    }

    async fn check_required_fields(&self, fields: &[String]) -> Result<Vec<String>, StoreError> {
        let custom = self.list_custom_fields(Some(switchboard_core::EntityKind::Deal)).await?;
        let mut out = Vec::new();
        for (i, field) in fields.iter().enumerate() {
            let field = field.trim();
            if field.is_empty() || out.iter().any(|f| f == field) {
                continue;
            }
            if !REQUIRABLE.contains(&field) && !custom.iter().any(|c| c.key == field) {
                return Err(StoreError::invalid(
                    format!("required_fields[{i}]"),
                    format!("no such deal field: {field}"),
                ));
            }
            out.push(field.to_owned());
        }
        Ok(out)
    }

    /// Adds a stage.
    pub async fn create_stage(
        &self,
        actor: &Actor,
        new: NewStage,
    ) -> Result<PipelineStage, StoreError> {
        let name = check_name(&new.name)?;
        check_probability("probability", Some(new.probability))?;
        let pipeline = match &new.pipeline_id {
            Some(id) => self.pipeline(id).await.map_err(|_| {
                StoreError::invalid("pipeline_id", format!("no such pipeline: {id}"))
            })?,
            None => self
                .list_pipelines()
                .await?
                .into_iter()
                .next()
                .ok_or(StoreError::not_found("pipeline"))?,
        };
        let required = self.check_required_fields(&new.required_fields).await?;
        let stages: Vec<PipelineStage> = self
            .list_stages()
            .await?
            .into_iter()
            .filter(|s| s.pipeline_id == pipeline.id)
            .collect();
        if let Some(existing) = stages.iter().find(|s| s.name == name) {
            return Err(StoreError::Duplicate {
                field: "name".into(),
                value: name,
                existing_id: existing.id.clone(),
            });
        }
        let position = new
            .position
            .unwrap_or_else(|| stages.iter().map(|s| s.position).max().unwrap_or(0) + 1);
        let id = new_id();
        let mut tx = self.begin_write().await?;
        let mut sql = Sql::new(
            "INSERT INTO pipeline_stages (id, pipeline_id, name, key, position, probability, required_fields, created_at) VALUES (",
        );
        sql.bind(id.clone()).push(", ").bind(pipeline.id.clone()).push(", ").bind(name.clone());
        sql.push(", ").bind(new.key.clone()).push(", ").bind(position);
        sql.push(", ").bind(new.probability).push(", ").bind(json!(required).to_string());
        sql.push(", ").bind(now_ms()).push(")");
        sql.execute(&mut *tx).await?;
        audit::record(
            &mut tx,
            actor,
            "stage.create",
            "stage",
            Some(&id),
            json!({"name": name, "pipeline_id": pipeline.id, "position": position, "required_fields": required}),
        )
        .await?;
        tx.commit().await?;
        self.stage(&id).await
    }

    /// Changes a stage.
    pub async fn update_stage(
        &self,
        actor: &Actor,
        id: &str,
        changes: StageChanges,
    ) -> Result<PipelineStage, StoreError> {
        let current = self.stage(id).await?;
        check_probability("probability", changes.probability)?;
        let mut sql = Sql::new("UPDATE pipeline_stages SET id = id");
        if let Some(name) = &changes.name {
            let name = check_name(name)?;
            if let Some(other) = self
                .list_stages()
                .await?
                .into_iter()
                .find(|s| s.pipeline_id == current.pipeline_id && s.name == name && s.id != id)
            {
                return Err(StoreError::Duplicate {
                    field: "name".into(),
                    value: name,
                    existing_id: other.id,
                });
            }
            if name != current.name {
                // A name of the administrator's own replaces the catalogue's words.
                sql.push(", name = ").bind(name).push(", key = NULL");
            }
        }
        if let Some(position) = changes.position {
            sql.push(", position = ").bind(position);
        }
        if let Some(probability) = changes.probability {
            sql.push(", probability = ").bind(probability);
        }
        let required = match &changes.required_fields {
            Some(fields) => Some(self.check_required_fields(fields).await?),
            None => None,
        };
        if let Some(required) = &required {
            sql.push(", required_fields = ").bind(json!(required).to_string());
        }
        sql.push(" WHERE id = ").bind(id.to_owned());
        let mut tx = self.begin_write().await?;
        sql.execute(&mut *tx).await?;
        if changes.position.is_some_and(|p| p != current.position)
            || changes.probability.is_some_and(|p| p != current.probability)
        {
            // The deals' reached positions are positions, and the forecast weighs by the
            // stage's probability: recount the pipeline's.
            funnel::rebuild(&mut tx, Some(&current.pipeline_id)).await?;
        }
        audit::record(&mut tx, actor, "stage.update", "stage", Some(id), json!({"name": changes.name, "position": changes.position, "probability": changes.probability, "required_fields": required})).await?;
        tx.commit().await?;
        self.stage(id).await
    }

    /// Removes a stage that no deal is in, with its rules.
    pub async fn delete_stage(&self, actor: &Actor, id: &str) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let mut used = Sql::new("SELECT COUNT(*) FROM deals WHERE stage_id = ");
        used.bind(id.to_owned());
        let deals = used.fetch_count(&mut *tx).await?;
        if deals > 0 {
            return Err(StoreError::Conflict(format!(
                "{deals} deals are in this stage; move them first"
            )));
        }
        let mut rules = Sql::new("DELETE FROM stage_rules WHERE stage_id = ");
        rules.bind(id.to_owned());
        rules.execute(&mut *tx).await?;
        let mut sql = Sql::new("DELETE FROM pipeline_stages WHERE id = ");
        sql.bind(id.to_owned());
        let mut pipeline = Sql::new("SELECT pipeline_id FROM pipeline_stages WHERE id = ");
        pipeline.bind(id.to_owned());
        let pipeline: Option<String> = match pipeline.fetch_optional(&mut *tx).await? {
            Some(row) => Some(row.try_get("pipeline_id")?),
            None => None,
        };
        if sql.execute(&mut *tx).await? == 0 {
            return Err(StoreError::not_found("stage"));
        }
        // A deal whose highest stage was this one reached a lower one now.
        funnel::rebuild(&mut tx, pipeline.as_deref()).await?;
        audit::record(&mut tx, actor, "stage.delete", "stage", Some(id), json!({})).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A stage's rules in order (every stage's when `stage_id` is `None`).
    pub async fn stage_rules(&self, stage_id: Option<&str>) -> Result<Vec<StageRule>, StoreError> {
        let mut sql = Sql::new(&format!("SELECT {RULE_COLUMNS} FROM stage_rules"));
        if let Some(stage) = stage_id {
            sql.push(" WHERE stage_id = ").bind(stage.to_owned());
        }
        sql.push(" ORDER BY stage_id, position, created_at");
        sql.fetch_all(&self.pool).await?.iter().map(rule_from_row).collect()
    }

    /// Adds a rule to a stage (last in order).
    pub async fn create_stage_rule(
        &self,
        actor: &Actor,
        stage_id: &str,
        new: NewStageRule,
    ) -> Result<StageRule, StoreError> {
        self.stage(stage_id).await?;
        let subject = new.subject.trim().to_owned();
        if subject.is_empty() || subject.chars().count() > 300 {
            return Err(StoreError::invalid("subject", "1-300 characters"));
        }
        match new.assignee {
            RuleAssignee::User if new.assignee_user_id.is_none() => {
                return Err(StoreError::invalid("assignee_user_id", "must not be empty"));
            }
            RuleAssignee::Role if new.assignee_role.is_none() => {
                return Err(StoreError::invalid("assignee_role", "must not be empty"));
            }
            _ => {}
        }
        if new.due_hours.is_some_and(|h| !(0..=24 * 365).contains(&h)) {
            return Err(StoreError::invalid("due_hours", "must be 0-8760"));
        }
        if let Some(field) = &new.due_field {
            let dates = self.list_custom_fields(Some(switchboard_core::EntityKind::Deal)).await?;
            if !dates
                .iter()
                .any(|f| &f.key == field && f.field_type == switchboard_core::FieldType::Date)
            {
                return Err(StoreError::invalid(
                    "due_field",
                    format!("no such deal date field: {field}"),
                ));
            }
        }
        let position = self.stage_rules(Some(stage_id)).await?.len() as i64 + 1;
        let id = new_id();
        let mut tx = self.begin_write().await?;
        if let Some(user) = &new.assignee_user_id {
            require_ref(&mut tx, "users", "assignee_user_id", user).await?;
        }
        let mut sql = Sql::new(&format!("INSERT INTO stage_rules ({RULE_COLUMNS}) VALUES ("));
        sql.bind(id.clone()).push(", ").bind(stage_id.to_owned());
        sql.push(", ").bind(new.action.as_str().to_owned());
        sql.push(", ").bind(new.task_kind.as_str().to_owned());
        sql.push(", ").bind(subject.clone());
        sql.push(", ").bind(new.assignee.as_str().to_owned());
        sql.push(", ").bind(new.assignee_user_id.clone());
        sql.push(", ").bind(new.assignee_role.map(|r| r.as_str().to_owned()));
        sql.push(", ").bind(new.due_hours).push(", ").bind(new.due_field.clone());
        sql.push(", ").bind(position).push(", ").bind(now_ms()).push(")");
        sql.execute(&mut *tx).await?;
        audit::record(
            &mut tx,
            actor,
            "stage_rule.create",
            "stage",
            Some(stage_id),
            json!({"rule_id": id, "action": new.action, "subject": subject, "assignee": new.assignee,
                   "assignee_user_id": new.assignee_user_id, "assignee_role": new.assignee_role,
                   "due_hours": new.due_hours, "due_field": new.due_field}),
        )
        .await?;
        tx.commit().await?;
        let mut read = Sql::new(&format!("SELECT {RULE_COLUMNS} FROM stage_rules WHERE id = "));
        read.bind(id);
        rule_from_row(&read.fetch_optional(&self.pool).await?.ok_or(StoreError::not_found("rule"))?)
    }

    /// Removes a stage rule.
    pub async fn delete_stage_rule(&self, actor: &Actor, id: &str) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let mut sql = Sql::new("DELETE FROM stage_rules WHERE id = ");
        sql.bind(id.to_owned());
        if sql.execute(&mut *tx).await? == 0 {
            return Err(StoreError::not_found("rule"));
        }
        audit::record(&mut tx, actor, "stage_rule.delete", "stage_rule", Some(id), json!({}))
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The first of `stage.required_fields` that `deal` lacks.
    pub(crate) async fn missing_for_stage(
        &self,
        deal: &Deal,
        stage: &PipelineStage,
    ) -> Result<Option<String>, StoreError> {
        for field in &stage.required_fields {
            let present = match field.as_str() {
                "amount" => deal.amount_minor.is_some_and(|a| a > 0),
                "contact_id" => deal.contact_id.is_some(),
                "company_id" => deal.company_id.is_some(),
                "owner_id" => deal.owner_id.is_some(),
                "items" => {
                    let mut sql = Sql::new("SELECT COUNT(*) FROM deal_items WHERE deal_id = ");
                    sql.bind(deal.id.clone());
                    sql.fetch_count(&self.pool).await? > 0
                }
                key => deal.custom.get(key).is_some_and(|v| {
                    !(v.is_null() || v.as_str().is_some_and(|s| s.trim().is_empty()))
                }),
            };
            if !present {
                return Ok(Some(field.clone()));
            }
        }
        Ok(None)
    }

    /// Runs `stage`'s rules for `deal`, which just entered it, in the caller's transaction.
    /// Returns the created tasks' ids and the notified users.
    pub(crate) async fn run_stage_rules(
        &self,
        conn: &mut AnyConnection,
        actor: &Actor,
        deal: &Deal,
        stage: &PipelineStage,
        now: i64,
    ) -> Result<(Vec<String>, Vec<String>), StoreError> {
        let mut read =
            Sql::new(&format!("SELECT {RULE_COLUMNS} FROM stage_rules WHERE stage_id = "));
        read.bind(stage.id.clone()).push(" ORDER BY position, created_at");
        let rules: Vec<StageRule> = read
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(rule_from_row)
            .collect::<Result<_, _>>()?;
        let (mut tasks, mut notified) = (Vec::new(), Vec::new());
        for rule in rules {
            let people = self.rule_people(&mut *conn, &rule, deal, actor).await?;
            match rule.action {
                RuleAction::Task => {
                    let due_at = match (&rule.due_field, rule.due_hours) {
                        (Some(field), hour) => deal
                            .custom
                            .get(field)
                            .and_then(|v| v.as_str())
                            .and_then(|d| date_at_hour(d, hour.unwrap_or(9))),
                        (None, Some(hours)) => Some(now + hours * 3_600_000),
                        (None, None) => None,
                    };
                    let new = NewTask {
                        kind: rule.task_kind,
                        subject: rule.subject.clone(),
                        description: None,
                        due_at,
                        assignee_id: people.into_iter().next(),
                        contact_id: deal.contact_id.clone(),
                        deal_id: Some(deal.id.clone()),
                        callback_e164: None,
                    };
                    tasks.push(insert_task(&mut *conn, actor, &new, Some(&rule.id)).await?);
                }
                RuleAction::Notify => {
                    for user in people {
                        let mut sql = Sql::new(
                            "INSERT INTO notifications (id, user_id, kind, deal_id, body, created_at) VALUES (",
                        );
                        sql.bind(new_id()).push(", ").bind(user.clone()).push(", 'deal_stage', ");
                        sql.bind(deal.id.clone()).push(", ").bind(rule.subject.clone());
                        sql.push(", ").bind(now).push(")");
                        sql.execute(&mut *conn).await?;
                        notified.push(user);
                    }
                }
            }
        }
        Ok((tasks, notified))
    }

    /// Whom a rule's task goes to (the first) or its notification (all): the deal's owner
    /// (else whoever moved it), a user (else the owner), or a role's active users, the one
    /// with the fewest open tasks first.
    async fn rule_people(
        &self,
        conn: &mut AnyConnection,
        rule: &StageRule,
        deal: &Deal,
        actor: &Actor,
    ) -> Result<Vec<String>, StoreError> {
        let owner =
            || deal.owner_id.clone().or_else(|| actor.user_id.clone()).into_iter().collect();
        Ok(match rule.assignee {
            RuleAssignee::Owner => owner(),
            RuleAssignee::User => match &rule.assignee_user_id {
                Some(user) => vec![user.clone()],
                None => owner(),
            },
            RuleAssignee::Role => {
                let role = rule.assignee_role.map(|r| r.as_str()).unwrap_or("manager");
                let mut sql = Sql::new(
                    "SELECT u.id, (SELECT COUNT(*) FROM tasks t WHERE t.assignee_id = u.id AND t.status = 'open') AS open_tasks \
                     FROM users u WHERE u.active = 1 AND u.role = ",
                );
                sql.bind(role.to_owned()).push(" ORDER BY open_tasks, u.name, u.id");
                let people: Vec<String> = sql
                    .fetch_all(&mut *conn)
                    .await?
                    .iter()
                    .map(|r| r.try_get("id"))
                    .collect::<Result<_, _>>()?;
                if people.is_empty() { owner() } else { people }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::date_at_hour;

    #[test]
    fn a_date_field_becomes_a_due_time() {
        assert_eq!(date_at_hour("1970-01-01", 0), Some(0));
        assert_eq!(date_at_hour("2026-12-06", 9), Some(1_796_547_600_000));
        assert_eq!(date_at_hour("2024-02-29", 12), Some(1_709_208_000_000));
        assert_eq!(date_at_hour("2026-13-01", 9), None);
        assert_eq!(date_at_hour("soon", 9), None);
    }
}
