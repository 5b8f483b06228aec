//! The funnel's day rollups. A funnel over a million deals cannot read every deal and its
//! history, so two tables keep what the report sums, by the UTC day each deal was created:
//! `deal_funnel_days` (deals by pipeline, the position they reached, their stage now, status
//! and currency, with their amounts) and `deal_stay_days` (finished stays per stage). A third,
//! `deal_forecast_slots`, keeps the open deals by the quarter hour they are expected to close
//! in (every real UTC offset is whole quarter hours, so a local month is whole slots), with
//! their amounts weighted by probability.
//!
//! Every write to a deal takes the deal's part out before it changes the row and puts it back
//! after, in the same transaction ([`count_deal`], [`count_stays`]), so the rollups always
//! equal a recount ([`Store::rebuild_funnel`], which a test compares them with). The report
//! reads the rollups for the whole UTC days of its period and the deals themselves for the
//! hours at either end.

use std::collections::HashMap;

use sqlx::AnyConnection;
use sqlx::Row;

use crate::sql::Sql;
use crate::{Store, StoreError};

/// A UTC day in ms: the rollups' key is `created_at / DAY_MS`.
pub(crate) const DAY_MS: i64 = 86_400_000;

/// The funnel's figures for a set of deals: (reached position, stage now, status, currency)
/// -> (deals, sum of their amounts).
pub(crate) type FunnelGroups = HashMap<(i64, String, String, String), (i64, i64)>;

/// Finished stays per stage: stage -> (total ms, stays).
pub(crate) type Stays = HashMap<String, (i64, i64)>;

/// Pushes the finished stays of the deals `filter` selects (SQL over `d`, the deal, and `dc`,
/// its changes), by stage and the deal's creation day. A stay runs from the change that
/// entered a stage to the next change that left it; status changes keep the stage.
fn push_stays(sql: &mut Sql, filter: impl FnOnce(&mut Sql)) {
    sql.push(
        "SELECT prev_stage AS stage_id, day, CAST(SUM(changed_at - prev_at) AS BIGINT) AS total_ms, COUNT(*) AS stays FROM (\
         SELECT dc.changed_at, d.created_at / 86400000 AS day, \
         LAG(dc.to_stage_id) OVER (PARTITION BY dc.deal_id ORDER BY dc.changed_at, dc.id) AS prev_stage, \
         LAG(dc.changed_at) OVER (PARTITION BY dc.deal_id ORDER BY dc.changed_at, dc.id) AS prev_at \
         FROM deal_changes dc JOIN deals d ON d.id = dc.deal_id \
         WHERE (dc.from_stage_id IS NULL OR dc.from_stage_id <> dc.to_stage_id) AND ",
    );
    filter(sql);
    sql.push(") t WHERE prev_stage IS NOT NULL GROUP BY prev_stage, day");
}

const FUNNEL_KEY: &str = "pipeline_id, day, reached, stage_id, status, currency";

/// Adds (`sign` 1) or takes out (`sign` -1) one deal's part of `deal_funnel_days` and, if it
/// is open, of `deal_forecast_slots`, as its row stands now.
pub(crate) async fn count_deal(
    conn: &mut AnyConnection,
    deal_id: &str,
    sign: i64,
) -> Result<(), StoreError> {
    let mut sql = Sql::new(&format!(
        "INSERT INTO deal_funnel_days ({FUNNEL_KEY}, deals, amount_minor) \
         SELECT s.pipeline_id, d.created_at / 86400000, d.reached_position, d.stage_id, d.status, d.currency, "
    ));
    sql.bind(sign).push(", ").bind(sign).push(
        " * COALESCE(d.amount_minor, 0) FROM deals d JOIN pipeline_stages s ON s.id = d.stage_id WHERE d.id = ",
    );
    sql.bind(deal_id.to_owned()).push(&format!(
        " ON CONFLICT ({FUNNEL_KEY}) DO UPDATE SET deals = deal_funnel_days.deals + excluded.deals, \
         amount_minor = deal_funnel_days.amount_minor + excluded.amount_minor"
    ));
    sql.execute(&mut *conn).await?;
    count_forecast(conn, deal_id, sign).await
}

const FORECAST_KEY: &str = "pipeline_id, currency, dated, slot";

/// What open deals add to `deal_forecast_slots` (SQL over `d`, the deal, and `s`, its stage):
/// one deal's part times `sign`, or (`None`) the sums of a group.
fn push_forecast_values(sql: &mut Sql, sign: Option<i64>) {
    sql.push(
        "s.pipeline_id, d.currency, CASE WHEN d.expected_close_at IS NULL THEN 0 ELSE 1 END, \
         COALESCE(d.expected_close_at / 900000, 0), ",
    );
    let weighted = "(COALESCE(d.amount_minor, 0) * COALESCE(d.probability, s.probability) / 100)";
    match sign {
        Some(sign) => {
            sql.bind(sign).push(", ").bind(sign).push(" * COALESCE(d.amount_minor, 0), ");
            sql.bind(sign).push(&format!(" * {weighted}"));
        }
        None => {
            sql.push(&format!(
                "COUNT(*), CAST(COALESCE(SUM(d.amount_minor), 0) AS BIGINT), CAST(SUM({weighted}) AS BIGINT)"
            ));
        }
    }
}

/// Adds (`sign` 1) or takes out (`sign` -1) one deal's part of `deal_forecast_slots` if it is
/// open, as its row stands now.
async fn count_forecast(
    conn: &mut AnyConnection,
    deal_id: &str,
    sign: i64,
) -> Result<(), StoreError> {
    let mut sql = Sql::new(&format!(
        "INSERT INTO deal_forecast_slots ({FORECAST_KEY}, deals, amount_minor, weighted_minor) SELECT "
    ));
    push_forecast_values(&mut sql, Some(sign));
    sql.push(" FROM deals d JOIN pipeline_stages s ON s.id = d.stage_id WHERE d.status = 'open' AND d.id = ");
    sql.bind(deal_id.to_owned()).push(&format!(
        " ON CONFLICT ({FORECAST_KEY}) DO UPDATE SET deals = deal_forecast_slots.deals + excluded.deals, \
         amount_minor = deal_forecast_slots.amount_minor + excluded.amount_minor, \
         weighted_minor = deal_forecast_slots.weighted_minor + excluded.weighted_minor"
    ));
    sql.execute(conn).await?;
    Ok(())
}

/// Adds (`sign` 1) or takes out (`sign` -1) one deal's finished stays in `deal_stay_days`.
pub(crate) async fn count_stays(
    conn: &mut AnyConnection,
    deal_id: &str,
    sign: i64,
) -> Result<(), StoreError> {
    let mut sql = Sql::new(
        "INSERT INTO deal_stay_days (stage_id, day, total_ms, stays) SELECT stage_id, day, ",
    );
    sql.bind(sign).push(" * total_ms, ").bind(sign).push(" * stays FROM (");
    push_stays(&mut sql, |sql| {
        sql.push("dc.deal_id = ").bind(deal_id.to_owned());
    });
    sql.push(
        ") s WHERE true ON CONFLICT (stage_id, day) DO UPDATE SET total_ms = deal_stay_days.total_ms + excluded.total_ms, \
         stays = deal_stay_days.stays + excluded.stays",
    );
    sql.execute(conn).await?;
    Ok(())
}

/// The highest position a deal reached: the highest of its current pipeline's stages that its
/// history entered (0: none).
const REACHED: &str = "reached_position = COALESCE((SELECT MAX(s.position) FROM deal_changes dc \
     JOIN pipeline_stages s ON s.id = dc.to_stage_id WHERE dc.deal_id = deals.id \
     AND s.pipeline_id = (SELECT p.pipeline_id FROM pipeline_stages p WHERE p.id = deals.stage_id)), 0)";

/// Sets one deal's `reached_position` from its history (after a change is recorded).
pub(crate) async fn set_reached(conn: &mut AnyConnection, deal_id: &str) -> Result<(), StoreError> {
    let mut sql = Sql::new(&format!("UPDATE deals SET {REACHED} WHERE id = "));
    sql.bind(deal_id.to_owned());
    sql.execute(conn).await?;
    Ok(())
}

/// Day numbers: the whole UTC days inside `[from, to)`, as `[first, end)` (empty when
/// `first >= end`).
pub(crate) fn whole_days(from: i64, to: i64) -> (i64, i64) {
    (-(-from).div_euclid(DAY_MS), to.div_euclid(DAY_MS))
}

fn add_groups(groups: &mut FunnelGroups, rows: Vec<sqlx::any::AnyRow>) -> Result<(), StoreError> {
    for row in rows {
        let key = (
            row.try_get::<i64, _>("reached")?,
            row.try_get::<String, _>("stage_id")?,
            row.try_get::<String, _>("status")?,
            row.try_get::<String, _>("currency")?,
        );
        let e = groups.entry(key).or_insert((0, 0));
        e.0 += row.try_get::<i64, _>("deals")?;
        e.1 += row.try_get::<i64, _>("amount_minor")?;
    }
    Ok(())
}

fn add_stays(stays: &mut Stays, rows: Vec<sqlx::any::AnyRow>) -> Result<(), StoreError> {
    for row in rows {
        let e = stays.entry(row.try_get("stage_id")?).or_insert((0, 0));
        e.0 += row.try_get::<i64, _>("total_ms")?;
        e.1 += row.try_get::<i64, _>("stays")?;
    }
    Ok(())
}

impl Store {
    /// The funnel's groups and stays for deals created in `[from, to)` in `pipeline`: the
    /// rollups for whole UTC days, the deals themselves for the rest.
    pub(crate) async fn funnel_groups(
        &self,
        pipeline: &str,
        from: i64,
        to: i64,
    ) -> Result<(FunnelGroups, Stays), StoreError> {
        let mut groups = FunnelGroups::new();
        let mut stays = Stays::new();
        let (first, end) = whole_days(from, to);
        let raw = if first < end {
            let mut days = Sql::new(
                "SELECT reached, stage_id, status, currency, CAST(SUM(deals) AS BIGINT) AS deals, \
                 CAST(SUM(amount_minor) AS BIGINT) AS amount_minor FROM deal_funnel_days WHERE pipeline_id = ",
            );
            days.bind(pipeline.to_owned()).push(" AND day >= ").bind(first);
            days.push(" AND day < ").bind(end);
            days.push(" GROUP BY reached, stage_id, status, currency");
            add_groups(&mut groups, days.fetch_all(&self.pool).await?)?;
            let mut stay_days = Sql::new(
                "SELECT stage_id, CAST(SUM(total_ms) AS BIGINT) AS total_ms, CAST(SUM(stays) AS BIGINT) AS stays \
                 FROM deal_stay_days WHERE stage_id IN (SELECT id FROM pipeline_stages WHERE pipeline_id = ",
            );
            stay_days.bind(pipeline.to_owned()).push(") AND day >= ").bind(first);
            stay_days.push(" AND day < ").bind(end).push(" GROUP BY stage_id");
            add_stays(&mut stays, stay_days.fetch_all(&self.pool).await?)?;
            vec![(from, first * DAY_MS), (end * DAY_MS, to)]
        } else {
            vec![(from, to)]
        };
        for (a, b) in raw.into_iter().filter(|(a, b)| a < b) {
            let mut deals = Sql::new(
                "SELECT d.reached_position AS reached, d.stage_id, d.status, d.currency, COUNT(*) AS deals, \
                 CAST(COALESCE(SUM(d.amount_minor), 0) AS BIGINT) AS amount_minor \
                 FROM deals d JOIN pipeline_stages s ON s.id = d.stage_id WHERE s.pipeline_id = ",
            );
            deals.bind(pipeline.to_owned()).push(" AND d.created_at >= ").bind(a);
            deals.push(" AND d.created_at < ").bind(b);
            deals.push(" GROUP BY d.reached_position, d.stage_id, d.status, d.currency");
            add_groups(&mut groups, deals.fetch_all(&self.pool).await?)?;
            let mut sql = Sql::new("");
            push_stays(&mut sql, |sql| {
                sql.push("d.created_at >= ").bind(a).push(" AND d.created_at < ").bind(b);
            });
            add_stays(&mut stays, sql.fetch_all(&self.pool).await?)?;
        }
        Ok((groups, stays))
    }

    /// Recounts the funnel's rollups from the deals and their history: `pipeline`'s deals'
    /// reached positions, day rows and forecast (after its stages were reordered, one was
    /// removed or a stage's probability changed), or everything, stays included (`None`: after
    /// an upgrade or a bulk load).
    pub async fn rebuild_funnel(&self, pipeline: Option<&str>) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        rebuild(&mut tx, pipeline).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The rollups' rows, sorted, zero rows left out: what a test compares with a recount.
    pub async fn funnel_rollups(&self) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        let days = Sql::new(&format!(
            "SELECT {FUNNEL_KEY}, deals, amount_minor FROM deal_funnel_days WHERE deals <> 0 OR amount_minor <> 0"
        ));
        for row in days.fetch_all(&self.pool).await? {
            out.push(format!(
                "funnel {} {} {} {} {} {} = {} {}",
                row.try_get::<String, _>("pipeline_id")?,
                row.try_get::<i64, _>("day")?,
                row.try_get::<i64, _>("reached")?,
                row.try_get::<String, _>("stage_id")?,
                row.try_get::<String, _>("status")?,
                row.try_get::<String, _>("currency")?,
                row.try_get::<i64, _>("deals")?,
                row.try_get::<i64, _>("amount_minor")?,
            ));
        }
        let forecast = Sql::new(&format!(
            "SELECT {FORECAST_KEY}, deals, amount_minor, weighted_minor FROM deal_forecast_slots \
             WHERE deals <> 0 OR amount_minor <> 0 OR weighted_minor <> 0"
        ));
        for row in forecast.fetch_all(&self.pool).await? {
            out.push(format!(
                "forecast {} {} {} {} = {} {} {}",
                row.try_get::<String, _>("pipeline_id")?,
                row.try_get::<String, _>("currency")?,
                row.try_get::<i64, _>("dated")?,
                row.try_get::<i64, _>("slot")?,
                row.try_get::<i64, _>("deals")?,
                row.try_get::<i64, _>("amount_minor")?,
                row.try_get::<i64, _>("weighted_minor")?,
            ));
        }
        let stays = Sql::new(
            "SELECT stage_id, day, total_ms, stays FROM deal_stay_days WHERE total_ms <> 0 OR stays <> 0",
        );
        for row in stays.fetch_all(&self.pool).await? {
            out.push(format!(
                "stay {} {} = {} {}",
                row.try_get::<String, _>("stage_id")?,
                row.try_get::<i64, _>("day")?,
                row.try_get::<i64, _>("total_ms")?,
                row.try_get::<i64, _>("stays")?,
            ));
        }
        out.sort();
        Ok(out)
    }

    /// Builds the rollups once for a store that has deals but none counted (an upgrade).
    pub(crate) async fn prepare_funnel(&self) -> Result<(), StoreError> {
        let has_deals = Sql::new("SELECT COUNT(*) FROM (SELECT 1 FROM deals LIMIT 1) t")
            .fetch_count(&self.pool)
            .await?;
        let counted = Sql::new("SELECT COUNT(*) FROM (SELECT 1 FROM deal_funnel_days LIMIT 1) t")
            .fetch_count(&self.pool)
            .await?;
        if has_deals > 0 && counted == 0 {
            self.rebuild_funnel(None).await?;
        }
        Ok(())
    }
}

/// [`Store::rebuild_funnel`] in a transaction of the caller's.
pub(crate) async fn rebuild(
    tx: &mut AnyConnection,
    pipeline: Option<&str>,
) -> Result<(), StoreError> {
    let in_pipeline = |sql: &mut Sql, column: &str| {
        if let Some(p) = pipeline {
            sql.push(&format!(
                " WHERE {column} IN (SELECT id FROM pipeline_stages WHERE pipeline_id = "
            ));
            sql.bind(p.to_owned()).push(")");
        }
    };
    let mut reached = Sql::new(&format!("UPDATE deals SET {REACHED}"));
    in_pipeline(&mut reached, "stage_id");
    reached.execute(&mut *tx).await?;
    let mut clear = Sql::new("DELETE FROM deal_funnel_days");
    if let Some(p) = pipeline {
        clear.push(" WHERE pipeline_id = ").bind(p.to_owned());
    }
    clear.execute(&mut *tx).await?;
    let mut days = Sql::new(&format!(
        "INSERT INTO deal_funnel_days ({FUNNEL_KEY}, deals, amount_minor) \
             SELECT s.pipeline_id, d.created_at / 86400000, d.reached_position, d.stage_id, d.status, d.currency, \
             COUNT(*), CAST(COALESCE(SUM(d.amount_minor), 0) AS BIGINT) FROM deals d JOIN pipeline_stages s ON s.id = d.stage_id"
    ));
    in_pipeline(&mut days, "d.stage_id");
    days.push(
            " GROUP BY s.pipeline_id, d.created_at / 86400000, d.reached_position, d.stage_id, d.status, d.currency",
        );
    days.execute(&mut *tx).await?;
    let mut clear = Sql::new("DELETE FROM deal_forecast_slots");
    if let Some(p) = pipeline {
        clear.push(" WHERE pipeline_id = ").bind(p.to_owned());
    }
    clear.execute(&mut *tx).await?;
    let mut forecast = Sql::new(&format!(
        "INSERT INTO deal_forecast_slots ({FORECAST_KEY}, deals, amount_minor, weighted_minor) SELECT "
    ));
    push_forecast_values(&mut forecast, None);
    forecast
        .push(" FROM deals d JOIN pipeline_stages s ON s.id = d.stage_id WHERE d.status = 'open'");
    if let Some(p) = pipeline {
        forecast.push(" AND s.pipeline_id = ").bind(p.to_owned());
    }
    forecast.push(
        " GROUP BY s.pipeline_id, d.currency, CASE WHEN d.expected_close_at IS NULL THEN 0 ELSE 1 END, \
         COALESCE(d.expected_close_at / 900000, 0)",
    );
    forecast.execute(&mut *tx).await?;
    if pipeline.is_none() {
        Sql::new("DELETE FROM deal_stay_days").execute(&mut *tx).await?;
        let mut stays = Sql::new("INSERT INTO deal_stay_days (stage_id, day, total_ms, stays) ");
        push_stays(&mut stays, |sql| {
            sql.push("1 = 1");
        });
        stays.execute(&mut *tx).await?;
    }
    Ok(())
}
