//! The sales reports equal a recount: the demo's deals, leads, calls and tasks are read back
//! through the lists the API gives anyone, counted here by the reports' stated definitions,
//! and compared with `/api/reports/sales` figure by figure.

use std::collections::{BTreeMap, HashMap, HashSet};

use reqwest::Client;
use serde_json::{Value, json};
use switchboard_core::stats::StatsConfig;
use switchboard_server::demo::{DemoOptions, seed_demo};

use crate::app_test;
use crate::helpers::{TestApp, send};

async fn all(app: &TestApp, client: &Client, path: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for page in 1.. {
        let sep = if path.contains('?') { '&' } else { '?' };
        let (_, body) =
            send(client.get(app.url(&format!("{path}{sep}page={page}&per_page=500")))).await;
        let items = body["items"].as_array().cloned().unwrap_or_default();
        let total = body["total"].as_u64().unwrap_or(0) as usize;
        out.extend(items);
        if out.len() >= total || page > 100 {
            break;
        }
    }
    out
}

fn i(v: &Value) -> i64 {
    v.as_i64().unwrap_or(0)
}

app_test!(sales_reports_equal_a_recount_on_demo_data, |app| {
    let admin = app.admin().await;
    let now = switchboard_store::now_ms();
    let options = DemoOptions {
        days: 2,
        agents: 4,
        contacts: 120,
        seed: 11,
        now,
        utc_offset_ms: 0,
        events: false,
        stats: StatsConfig::default(),
        lang: Default::default(),
        recordings: None,
    };
    let made = seed_demo(app.store(), &options, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$0C6Qb1/Vq2qkJ1a6Vv8wB0yq0pM2Q1mQ2m3n4o5p6q8").await.unwrap();
    assert!(made.leads > 10 && made.documents > 0, "{made:?}");
    let leads = all(app, &admin, "/api/leads").await;
    assert_eq!(leads.len(), made.leads);
    // Two leads are called back at once: handled in time.
    for lead in leads.iter().take(2) {
        let task = lead["task_id"].as_str().unwrap();
        let (status, _) = send(
            admin
                .post(app.url(&format!("/api/tasks/{task}/complete")))
                .json(&json!({"result": "перезвонили"})),
        )
        .await;
        assert_eq!(status, reqwest::StatusCode::OK);
    }

    let (from, to) = (now - 3 * 86_400_000, switchboard_store::now_ms() + 60_000);
    let (status, report) = send(
        admin.get(app.url(&format!("/api/reports/sales?from={from}&to={to}&lead_minutes=15"))),
    )
    .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{report}");

    // The funnel: deals created in the period, the highest stage each reached (won: all).
    let (_, stages) = send(admin.get(app.url("/api/pipeline/stages"))).await;
    let stages = stages.as_array().unwrap().clone();
    let pipeline = report["funnel"]["pipeline_id"].as_str().unwrap().to_owned();
    let position: HashMap<String, i64> = stages
        .iter()
        .filter(|s| s["pipeline_id"] == pipeline.as_str())
        .map(|s| (s["id"].as_str().unwrap().to_owned(), i(&s["position"])))
        .collect();
    let top = position.values().copied().max().unwrap();
    let deals = all(app, &admin, "/api/deals").await;
    let cohort: Vec<&Value> = deals
        .iter()
        .filter(|d| {
            (from..to).contains(&i(&d["created_at"]))
                && position.contains_key(d["stage_id"].as_str().unwrap())
        })
        .collect();
    assert_eq!(i(&report["funnel"]["created"]), cohort.len() as i64);
    assert_eq!(
        i(&report["funnel"]["won"]),
        cohort.iter().filter(|d| d["status"] == "won").count() as i64
    );
    assert_eq!(
        i(&report["funnel"]["lost"]),
        cohort.iter().filter(|d| d["status"] == "lost").count() as i64
    );
    let won_sum: i64 =
        cohort.iter().filter(|d| d["status"] == "won").map(|d| i(&d["amount_minor"])).sum();
    assert_eq!(i(&report["funnel"]["won_minor"]), won_sum);
    let mut reached: Vec<i64> = Vec::new();
    for d in &cohort {
        let (_, history) =
            send(admin.get(app.url(&format!("/api/deals/{}/history", d["id"].as_str().unwrap()))))
                .await;
        let highest = history
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| position.get(c["to_stage_id"].as_str().unwrap()))
            .copied()
            .max()
            .unwrap_or(0);
        reached.push(if d["status"] == "won" { top } else { highest });
    }
    for stage in report["funnel"]["stages"].as_array().unwrap() {
        let p = i(&stage["position"]);
        assert_eq!(
            i(&stage["reached"]),
            reached.iter().filter(|r| **r >= p).count() as i64,
            "{stage}"
        );
        let here = cohort
            .iter()
            .filter(|d| d["status"] == "open" && d["stage_id"] == stage["stage_id"])
            .count() as i64;
        assert_eq!(i(&stage["open_here"]), here, "{stage}");
    }
    assert!(report["funnel"]["stages"].as_array().unwrap().iter().any(|s| i(&s["reached"]) > 0));

    // Sources: leads by utm_source (else the given source, else the form), and campaign.
    let (_, forms) = send(admin.get(app.url("/api/lead-forms"))).await;
    let form_name: HashMap<String, String> = forms
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["id"].as_str().unwrap().to_owned(), f["name"].as_str().unwrap().to_owned()))
        .collect();
    let deal_by_id: HashMap<&str, &Value> =
        deals.iter().map(|d| (d["id"].as_str().unwrap(), d)).collect();
    // (source, campaign) -> (leads, their deals, won, revenue)
    type Tally = (i64, HashSet<String>, i64, i64);
    let mut sources: BTreeMap<(String, String), Tally> = BTreeMap::new();
    for l in &leads {
        let text = |k: &str| l[k].as_str().filter(|s| !s.is_empty()).map(str::to_owned);
        let source = text("utm_source")
            .or_else(|| text("source"))
            .or_else(|| l["form_id"].as_str().and_then(|f| form_name.get(f).cloned()))
            .unwrap_or_else(|| l["channel"].as_str().unwrap().to_owned());
        let e = sources.entry((source, text("utm_campaign").unwrap_or_default())).or_default();
        e.0 += 1;
        if let Some(deal) = l["deal_id"].as_str()
            && e.1.insert(deal.to_owned())
            && deal_by_id[deal]["status"] == "won"
        {
            e.2 += 1;
            e.3 += i(&deal_by_id[deal]["amount_minor"]);
        }
    }
    let reported: BTreeMap<(String, String), (i64, i64, i64, i64)> = report["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                (
                    s["source"].as_str().unwrap().to_owned(),
                    s["campaign"].as_str().unwrap().to_owned(),
                ),
                (i(&s["leads"]), i(&s["deals"]), i(&s["won"]), i(&s["revenue_minor"])),
            )
        })
        .collect();
    let recounted: BTreeMap<(String, String), (i64, i64, i64, i64)> =
        sources.into_iter().map(|(k, (n, d, w, r))| (k, (n, d.len() as i64, w, r))).collect();
    assert_eq!(reported, recounted);
    assert!(reported.len() >= 3, "several sources: {reported:?}");

    // Loss reasons and competitors: deals lost in the period.
    let lost: Vec<&Value> = deals
        .iter()
        .filter(|d| d["status"] == "lost" && (from..to).contains(&i(&d["closed_at"])))
        .collect();
    for (column, table) in [("loss_reason", "loss_reasons"), ("competitor", "competitors")] {
        let mut counted: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        for d in lost.iter().filter(|d| d[column].is_string()) {
            let e = counted.entry(d[column].as_str().unwrap().to_owned()).or_default();
            e.0 += 1;
            e.1 += i(&d["amount_minor"]);
        }
        let reported: BTreeMap<String, (i64, i64)> = report[table]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (r["key"].as_str().unwrap().to_owned(), (i(&r["deals"]), i(&r["amount_minor"])))
            })
            .collect();
        assert_eq!(reported, counted, "{table}");
    }

    // Managers: calls offered in the period, leads assigned, deals won in the period.
    let calls = all(app, &admin, "/api/calls").await;
    let mut managers: BTreeMap<String, [i64; 7]> = BTreeMap::new();
    for c in calls
        .iter()
        .filter(|c| c["agent_id"].is_string() && (from..to).contains(&i(&c["offered_at"])))
    {
        let m = managers.entry(c["agent_id"].as_str().unwrap().to_owned()).or_default();
        if c["direction"] == "outbound" {
            m[0] += 1
        } else if c["answered_at"].is_number() {
            m[1] += 1
        }
        m[2] += i(&c["talk_ms"]);
    }
    for l in leads.iter().filter(|l| l["assignee_id"].is_string()) {
        let m = managers.entry(l["assignee_id"].as_str().unwrap().to_owned()).or_default();
        m[3] += 1;
        let (_, task) =
            send(admin.get(app.url(&format!("/api/tasks/{}", l["task_id"].as_str().unwrap()))))
                .await;
        if task["completed_at"]
            .as_i64()
            .is_some_and(|done| done - i(&l["created_at"]) <= 15 * 60_000)
        {
            m[4] += 1;
        }
    }
    for d in deals.iter().filter(|d| {
        d["status"] == "won"
            && d["owner_id"].is_string()
            && (from..to).contains(&i(&d["closed_at"]))
    }) {
        let m = managers.entry(d["owner_id"].as_str().unwrap().to_owned()).or_default();
        m[5] += 1;
        m[6] += i(&d["amount_minor"]);
    }
    let reported: BTreeMap<String, [i64; 7]> = report["managers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["user_id"].as_str().unwrap().to_owned(),
                [
                    "calls_made",
                    "calls_received",
                    "talk_ms",
                    "leads",
                    "leads_in_time",
                    "deals_won",
                    "revenue_minor",
                ]
                .map(|k| i(&m[k])),
            )
        })
        .collect();
    assert_eq!(reported, managers);
    assert_eq!(
        reported.values().map(|m| m[4]).sum::<i64>(),
        2,
        "the two leads called back at once"
    );

    // The forecast: open deals by the month they should close, weighted by probability.
    let stage_p: HashMap<&str, i64> =
        stages.iter().map(|s| (s["id"].as_str().unwrap(), i(&s["probability"]))).collect();
    let mut months: BTreeMap<String, (i64, i64, i64)> = BTreeMap::new();
    for d in deals
        .iter()
        .filter(|d| d["status"] == "open" && position.contains_key(d["stage_id"].as_str().unwrap()))
    {
        let month = d["expected_close_at"]
            .as_i64()
            .map(|at| {
                let (y, m, _) = switchboard_core::recording::civil_date(at);
                format!("{y}-{m:02}")
            })
            .unwrap_or_default();
        let p = d["probability"].as_i64().unwrap_or(stage_p[d["stage_id"].as_str().unwrap()]);
        let e = months.entry(month).or_default();
        e.0 += 1;
        e.1 += i(&d["amount_minor"]);
        e.2 += i(&d["amount_minor"]) * p / 100;
    }
    let reported: BTreeMap<String, (i64, i64, i64)> = report["forecast"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["month"].as_str().unwrap().to_owned(),
                (i(&f["deals"]), i(&f["amount_minor"]), i(&f["weighted_minor"])),
            )
        })
        .collect();
    assert_eq!(reported, months);
    assert!(reported.keys().any(|m| !m.is_empty()), "some open deals have an expected close");

    // The exports: the funnel as XLSX opens, and every table exports as CSV in Russian.
    for table in ["funnel", "sources", "loss_reasons", "competitors", "managers", "forecast"] {
        let res = admin
            .get(app.url(&format!(
                "/api/reports/sales/export?table={table}&format=csv&from={from}&to={to}"
            )))
            .header("accept-language", "ru")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), reqwest::StatusCode::OK, "{table}");
        let text = res.text().await.unwrap();
        assert!(text.starts_with('\u{feff}'), "a BOM for Excel");
        let rows = text.lines().count() - 1;
        let expected = report[if table == "funnel" { "funnel" } else { table }]
            .as_array()
            .map_or_else(|| report["funnel"]["stages"].as_array().unwrap().len(), Vec::len);
        assert_eq!(rows, expected, "{table}: {text}");
    }
    let res = admin
        .get(app.url(&format!(
            "/api/reports/sales/export?table=sources&format=xlsx&from={from}&to={to}"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::OK);
    assert!(res.bytes().await.unwrap().starts_with(b"PK"), "an XLSX file");
});
