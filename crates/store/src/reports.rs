//! The sales reports: the funnel of deals created in a period, leads by source and campaign,
//! why deals were lost, each manager's calls, leads and sales, and the weighted forecast.
//! Every figure is a count or a sum over rows the API also lists, so a test can recount it.

use std::collections::BTreeMap;

use sqlx::Row;

use crate::sql::Sql;
use crate::{Store, StoreError};

/// Which deals, leads and calls a report reads.
#[derive(Debug, Clone)]
pub struct ReportFilter {
    /// From (epoch ms, inclusive).
    pub from: i64,
    /// To (epoch ms, exclusive).
    pub to: i64,
    /// The pipeline (the funnel and forecast need one; `None`: the first).
    pub pipeline_id: Option<String>,
    /// A lead is handled in time when its callback was done, or called, within this many
    /// minutes.
    pub lead_minutes: i64,
    /// Revenue is summed in this currency (deals in others are counted, not summed).
    pub currency: String,
    /// The call center's offset from UTC, ms (the forecast's months).
    pub utc_offset_ms: i64,
}

/// One stage of the funnel.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct FunnelStage {
    /// The stage.
    pub stage_id: String,
    /// Its order.
    pub position: i64,
    /// Deals of the cohort that reached it (a won deal reached every stage).
    pub reached: i64,
    /// Of them, still open in it now.
    pub open_here: i64,
    /// Average time a deal stayed in it before moving on, ms (`None`: none moved on yet).
    pub avg_ms_in_stage: Option<i64>,
}

/// Deals created in the period, by the stage they reached.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Funnel {
    /// The pipeline.
    pub pipeline_id: String,
    /// Deals created in the period in this pipeline.
    pub created: i64,
    /// Of them, won.
    pub won: i64,
    /// Of them, lost.
    pub lost: i64,
    /// Of them, won: their amounts in the report's currency.
    pub won_minor: i64,
    /// Stage by stage.
    pub stages: Vec<FunnelStage>,
}

/// Leads from one source and campaign, and what they became.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct SourceRow {
    /// `utm_source`, else the given source, else the form's name, else the channel.
    pub source: String,
    /// `utm_campaign` (empty: none).
    pub campaign: String,
    /// Leads that came in the period.
    pub leads: i64,
    /// Deals they made.
    pub deals: i64,
    /// Of those, won.
    pub won: i64,
    /// The won deals' amounts.
    pub revenue_minor: i64,
}

/// Lost deals of one reason (or lost to one competitor).
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct LossRow {
    /// The reason as stored (a key such as `price`, or a label), or the competitor.
    pub key: String,
    /// Deals lost in the period.
    pub deals: i64,
    /// Their amounts.
    pub amount_minor: i64,
}

/// One manager's period.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct ManagerRow {
    /// The user.
    pub user_id: String,
    /// Calls they placed.
    pub calls_made: i64,
    /// Calls they answered.
    pub calls_received: i64,
    /// Talk time of both, ms.
    pub talk_ms: i64,
    /// Leads assigned to them.
    pub leads: i64,
    /// Of those, handled in time.
    pub leads_in_time: i64,
    /// Deals of theirs won in the period.
    pub deals_won: i64,
    /// Their amounts.
    pub revenue_minor: i64,
}

/// Open deals expected to close in one month.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct ForecastRow {
    /// `YYYY-MM`, or empty for deals without an expected close.
    pub month: String,
    /// Open deals.
    pub deals: i64,
    /// Their amounts.
    pub amount_minor: i64,
    /// Their amounts times their probability (the deal's own, else its stage's).
    pub weighted_minor: i64,
}

/// Every report for one period.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct SalesReport {
    /// The funnel.
    pub funnel: Funnel,
    /// Leads by source and campaign.
    pub sources: Vec<SourceRow>,
    /// Lost deals by reason.
    pub loss_reasons: Vec<LossRow>,
    /// Lost deals by competitor.
    pub competitors: Vec<LossRow>,
    /// Each manager.
    pub managers: Vec<ManagerRow>,
    /// The weighted forecast by month.
    pub forecast: Vec<ForecastRow>,
}

fn month_of(at: i64, offset: i64) -> String {
    let (y, m, _) = switchboard_core::recording::civil_date(at + offset);
    format!("{y}-{m:02}")
}

impl Store {
    /// Every sales report for `filter`.
    pub async fn sales_report(&self, filter: &ReportFilter) -> Result<SalesReport, StoreError> {
        let pipeline = self.report_pipeline(filter).await?;
        Ok(SalesReport {
            funnel: self.funnel(filter, &pipeline.id).await?,
            sources: self.source_rows(filter).await?,
            loss_reasons: self.loss_rows(filter, "loss_reason").await?,
            competitors: self.loss_rows(filter, "competitor").await?,
            managers: self.manager_rows(filter).await?,
            forecast: self.forecast(filter, &pipeline.id).await?,
        })
    }

    async fn report_pipeline(
        &self,
        filter: &ReportFilter,
    ) -> Result<switchboard_core::sales::Pipeline, StoreError> {
        match &filter.pipeline_id {
            Some(id) => self.pipeline(id).await,
            None => self
                .list_pipelines()
                .await?
                .into_iter()
                .next()
                .ok_or(StoreError::not_found("pipeline")),
        }
    }

    /// The funnel alone (what [`Store::sales_report`] holds as `funnel`).
    pub async fn funnel_report(&self, filter: &ReportFilter) -> Result<Funnel, StoreError> {
        let pipeline = self.report_pipeline(filter).await?;
        self.funnel(filter, &pipeline.id).await
    }

    async fn funnel(&self, f: &ReportFilter, pipeline: &str) -> Result<Funnel, StoreError> {
        let stages: Vec<_> =
            self.list_stages().await?.into_iter().filter(|s| s.pipeline_id == pipeline).collect();
        let (groups, stays) = self.funnel_groups(pipeline, f.from, f.to).await?;
        let top = stages.iter().map(|s| s.position).max().unwrap_or(0);
        let (mut created, mut won, mut lost, mut won_minor) = (0, 0, 0, 0);
        for ((_, _, status, currency), (deals, amount)) in &groups {
            created += deals;
            match status.as_str() {
                "won" => {
                    won += deals;
                    if *currency == f.currency {
                        won_minor += amount;
                    }
                }
                "lost" => lost += deals,
                _ => {}
            }
        }
        let funnel_stages = stages
            .iter()
            .map(|s| FunnelStage {
                stage_id: s.id.clone(),
                position: s.position,
                // A won deal reached every stage.
                reached: groups
                    .iter()
                    .filter(|((reached, _, status, _), _)| {
                        (if status == "won" { top } else { *reached }) >= s.position
                    })
                    .map(|(_, (deals, _))| deals)
                    .sum(),
                open_here: groups
                    .iter()
                    .filter(|((_, stage, status, _), _)| status == "open" && *stage == s.id)
                    .map(|(_, (deals, _))| deals)
                    .sum(),
                avg_ms_in_stage: stays
                    .get(&s.id)
                    .filter(|(_, n)| *n > 0)
                    .map(|(total, n)| total / n),
            })
            .collect();
        Ok(Funnel {
            pipeline_id: pipeline.to_owned(),
            created,
            won,
            lost,
            won_minor,
            stages: funnel_stages,
        })
    }

    async fn source_rows(&self, f: &ReportFilter) -> Result<Vec<SourceRow>, StoreError> {
        let mut sql = Sql::new(
            "SELECT COALESCE(NULLIF(l.utm_source, ''), NULLIF(l.source, ''), fm.name, l.channel) AS src, COALESCE(l.utm_campaign, '') AS campaign, \
             l.deal_id, d.status, d.currency, d.amount_minor FROM leads l LEFT JOIN lead_forms fm ON fm.id = l.form_id \
             LEFT JOIN deals d ON d.id = l.deal_id WHERE l.created_at >= ",
        );
        sql.bind(f.from).push(" AND l.created_at < ").bind(f.to);
        let mut rows: BTreeMap<(String, String), (SourceRow, Vec<String>)> = BTreeMap::new();
        for row in sql.fetch_all(&self.pool).await? {
            let key: (String, String) = (row.try_get("src")?, row.try_get("campaign")?);
            let entry = rows.entry(key.clone()).or_insert_with(|| {
                (
                    SourceRow {
                        source: key.0,
                        campaign: key.1,
                        leads: 0,
                        deals: 0,
                        won: 0,
                        revenue_minor: 0,
                    },
                    Vec::new(),
                )
            });
            entry.0.leads += 1;
            let deal: Option<String> = row.try_get("deal_id")?;
            if let Some(deal) = deal
                && !entry.1.contains(&deal)
            {
                entry.1.push(deal);
                entry.0.deals += 1;
                let status: Option<String> = row.try_get("status")?;
                if status.as_deref() == Some("won") {
                    entry.0.won += 1;
                    let currency: Option<String> = row.try_get("currency")?;
                    if currency.as_deref() == Some(f.currency.as_str()) {
                        entry.0.revenue_minor +=
                            row.try_get::<Option<i64>, _>("amount_minor")?.unwrap_or(0);
                    }
                }
            }
        }
        let mut out: Vec<SourceRow> = rows.into_values().map(|(r, _)| r).collect();
        out.sort_by(|a, b| {
            b.leads.cmp(&a.leads).then(a.source.cmp(&b.source)).then(a.campaign.cmp(&b.campaign))
        });
        Ok(out)
    }

    async fn loss_rows(&self, f: &ReportFilter, column: &str) -> Result<Vec<LossRow>, StoreError> {
        let mut sql = Sql::new(&format!(
            "SELECT {column} AS k, COUNT(*) AS n, CAST(COALESCE(SUM(CASE WHEN currency = "
        ));
        sql.bind(f.currency.clone());
        sql.push(&format!(
            " THEN amount_minor ELSE 0 END), 0) AS BIGINT) AS amount FROM deals WHERE status = 'lost' AND {column} IS NOT NULL AND closed_at >= "
        ));
        sql.bind(f.from).push(" AND closed_at < ").bind(f.to);
        sql.push(&format!(" GROUP BY {column} ORDER BY n DESC, k"));
        sql.fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                Ok(LossRow {
                    key: row.try_get("k")?,
                    deals: row.try_get("n")?,
                    amount_minor: row.try_get("amount")?,
                })
            })
            .collect()
    }

    async fn manager_rows(&self, f: &ReportFilter) -> Result<Vec<ManagerRow>, StoreError> {
        let mut rows: BTreeMap<String, ManagerRow> = BTreeMap::new();
        let blank = |id: &str| ManagerRow {
            user_id: id.to_owned(),
            calls_made: 0,
            calls_received: 0,
            talk_ms: 0,
            leads: 0,
            leads_in_time: 0,
            deals_won: 0,
            revenue_minor: 0,
        };
        let mut calls = Sql::new(
            "SELECT agent_id, direction, answered_at, talk_ms FROM calls WHERE agent_id IS NOT NULL AND offered_at >= ",
        );
        calls.bind(f.from).push(" AND offered_at < ").bind(f.to);
        for row in calls.fetch_all(&self.pool).await? {
            let agent: String = row.try_get("agent_id")?;
            let direction: String = row.try_get("direction")?;
            let answered: Option<i64> = row.try_get("answered_at")?;
            let talk: Option<i64> = row.try_get("talk_ms")?;
            let r = rows.entry(agent.clone()).or_insert_with(|| blank(&agent));
            if direction == "outbound" {
                r.calls_made += 1;
            } else if answered.is_some() {
                r.calls_received += 1;
            }
            r.talk_ms += talk.unwrap_or(0);
        }
        // A lead is handled in time when its callback was completed, or a call was placed
        // from it, within the minutes.
        let window = f.lead_minutes * 60_000;
        let mut leads = Sql::new(
            "SELECT l.assignee_id, l.created_at, t.completed_at, \
             (SELECT MIN(c.offered_at) FROM calls c WHERE c.task_id = l.task_id AND c.direction = 'outbound') AS first_call \
             FROM leads l LEFT JOIN tasks t ON t.id = l.task_id WHERE l.assignee_id IS NOT NULL AND l.created_at >= ",
        );
        leads.bind(f.from).push(" AND l.created_at < ").bind(f.to);
        for row in leads.fetch_all(&self.pool).await? {
            let user: String = row.try_get("assignee_id")?;
            let created: i64 = row.try_get("created_at")?;
            let done: Option<i64> = row.try_get("completed_at")?;
            let called: Option<i64> = row.try_get("first_call")?;
            let r = rows.entry(user.clone()).or_insert_with(|| blank(&user));
            r.leads += 1;
            if [done, called].iter().flatten().any(|at| *at - created <= window) {
                r.leads_in_time += 1;
            }
        }
        let mut won = Sql::new(
            "SELECT owner_id, currency, amount_minor FROM deals WHERE status = 'won' AND owner_id IS NOT NULL AND closed_at >= ",
        );
        won.bind(f.from).push(" AND closed_at < ").bind(f.to);
        for row in won.fetch_all(&self.pool).await? {
            let user: String = row.try_get("owner_id")?;
            let currency: String = row.try_get("currency")?;
            let r = rows.entry(user.clone()).or_insert_with(|| blank(&user));
            r.deals_won += 1;
            if currency == f.currency {
                r.revenue_minor += row.try_get::<Option<i64>, _>("amount_minor")?.unwrap_or(0);
            }
        }
        Ok(rows.into_values().collect())
    }

    async fn forecast(
        &self,
        f: &ReportFilter,
        pipeline: &str,
    ) -> Result<Vec<ForecastRow>, StoreError> {
        // From the rollup: a row per quarter hour that open deals are expected to close in.
        let mut sql = Sql::new(
            "SELECT dated, slot, CAST(SUM(deals) AS BIGINT) AS deals, CAST(SUM(amount_minor) AS BIGINT) AS amount, \
             CAST(SUM(weighted_minor) AS BIGINT) AS weighted FROM deal_forecast_slots WHERE pipeline_id = ",
        );
        sql.bind(pipeline.to_owned()).push(" AND currency = ").bind(f.currency.clone());
        sql.push(" GROUP BY dated, slot");
        let mut months: BTreeMap<String, ForecastRow> = BTreeMap::new();
        for row in sql.fetch_all(&self.pool).await? {
            let dated = row.try_get::<i64, _>("dated")? != 0;
            let slot: i64 = row.try_get("slot")?;
            let month =
                if dated { month_of(slot * 900_000, f.utc_offset_ms) } else { String::new() };
            let r = months.entry(month.clone()).or_insert(ForecastRow {
                month,
                deals: 0,
                amount_minor: 0,
                weighted_minor: 0,
            });
            r.deals += row.try_get::<i64, _>("deals")?;
            r.amount_minor += row.try_get::<i64, _>("amount")?;
            r.weighted_minor += row.try_get::<i64, _>("weighted")?;
        }
        // Deals expected to close but no longer open leave rows of zeros behind.
        months.retain(|_, r| r.deals != 0);
        // Dated months first, in order; undated last.
        let (mut dated, undated): (Vec<_>, Vec<_>) =
            months.into_values().partition(|r| !r.month.is_empty());
        dated.extend(undated);
        Ok(dated)
    }
}
