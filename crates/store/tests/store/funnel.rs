//! The funnel's day rollups and the forecast's: every kind of write to a deal keeps them equal
//! to a recount, and the report reads the same funnel from them as from the deals themselves.

use super::*;

const DAY: i64 = 86_400_000;

fn filter(from: i64, to: i64, pipeline: &str) -> ReportFilter {
    ReportFilter {
        from,
        to,
        pipeline_id: Some(pipeline.to_owned()),
        lead_minutes: 15,
        currency: "RUB".into(),
        utc_offset_ms: 3 * 3_600_000,
    }
}

/// The rollups as they are, then as a recount makes them: equal.
async fn assert_counted(store: &Store, when: &str) {
    let live = store.funnel_rollups().await.unwrap();
    store.rebuild_funnel(None).await.unwrap();
    assert_eq!(live, store.funnel_rollups().await.unwrap(), "after {when}");
}

both_backends!(funnel_rollups_equal_a_recount, |db| {
    let store = &db.store;
    let actor = Actor::user(admin(store).await);
    let sales = store.list_pipelines().await.unwrap()[0].id.clone();
    let stages: Vec<_> =
        store.list_stages().await.unwrap().into_iter().filter(|s| s.pipeline_id == sales).collect();
    assert!(stages.len() >= 4);
    let service = store.create_pipeline(&actor, "Сервис", None).await.unwrap();
    let intake = store
        .create_stage(
            &actor,
            NewStage {
                pipeline_id: Some(service.id.clone()),
                name: "Заявка".into(),
                probability: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let unused = store
        .create_stage(
            &actor,
            NewStage {
                pipeline_id: Some(sales.clone()),
                name: "Пустая".into(),
                probability: 50,
                ..Default::default()
            },
        )
        .await
        .unwrap();

    let mut deals = Vec::new();
    for i in 0..8 {
        let deal = store
            .create_deal(
                &actor,
                NewDeal {
                    title: format!("Окна {i}"),
                    amount_minor: Some(100_000 * (i + 1)),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        deals.push(deal.id);
    }
    assert_counted(store, "creating").await;
    // Forward, back (the highest stays), forward again.
    store.move_deal(&actor, &deals[0], &stages[2].id).await.unwrap();
    store.move_deal(&actor, &deals[0], &stages[1].id).await.unwrap();
    store.move_deal(&actor, &deals[1], &stages[3].id).await.unwrap();
    store.move_deal(&actor, &deals[2], &stages[1].id).await.unwrap();
    assert_counted(store, "moves").await;
    let moved = store.get_deal(&deals[0]).await.unwrap();
    assert_eq!(moved.stage_id, stages[1].id);
    // Won, lost, won then reopened.
    store.set_deal_status(&actor, &deals[1], DealStatus::Won, None, None).await.unwrap();
    store
        .set_deal_status(&actor, &deals[2], DealStatus::Lost, Some("price".into()), None)
        .await
        .unwrap();
    store.set_deal_status(&actor, &deals[3], DealStatus::Won, None, None).await.unwrap();
    store.set_deal_status(&actor, &deals[3], DealStatus::Open, None, None).await.unwrap();
    assert_counted(store, "closing and reopening").await;
    // The amount typed, then following a line, the currency changed.
    store
        .update_deal(
            &actor,
            &deals[4],
            DealChanges { amount_minor: Some(Some(777)), ..Default::default() },
        )
        .await
        .unwrap();
    store
        .update_deal(
            &actor,
            &deals[5],
            DealChanges { currency: Some("USD".into()), ..Default::default() },
        )
        .await
        .unwrap();
    // Expected to close (one of them with a probability of its own), then not.
    let close = store.get_deal(&deals[0]).await.unwrap().created_at + 40 * DAY;
    let own: [(usize, Option<Option<i64>>); 3] = [(0, None), (3, Some(Some(35))), (6, None)];
    for (i, probability) in own {
        store
            .update_deal(
                &actor,
                &deals[i],
                DealChanges {
                    expected_close_at: Some(Some(close)),
                    probability,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
    }
    store
        .update_deal(
            &actor,
            &deals[6],
            DealChanges { expected_close_at: Some(None), ..Default::default() },
        )
        .await
        .unwrap();
    store
        .add_deal_item(
            &actor,
            &deals[6],
            NewDealItem {
                name: Some("Окно ПВХ".into()),
                unit: Some("шт".into()),
                quantity_milli: 2_000,
                price_minor: Some(1_500_000),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_counted(store, "amounts").await;
    // To the other pipeline and back: it reached the sales stage it re-enters, not more.
    store.move_deal(&actor, &deals[7], &stages[3].id).await.unwrap();
    store.move_deal(&actor, &deals[7], &intake.id).await.unwrap();
    assert_counted(store, "a move to another pipeline").await;
    // A deal removed; a stage reordered; an empty stage removed.
    store.delete_deal(&actor, &deals[4]).await.unwrap();
    assert_counted(store, "a deletion").await;
    store
        .update_stage(
            &actor,
            &stages[1].id,
            StageChanges { position: Some(stages[3].position + 10), ..Default::default() },
        )
        .await
        .unwrap();
    assert_counted(store, "a reorder").await;
    store
        .update_stage(
            &actor,
            &stages[0].id,
            StageChanges { probability: Some(stages[0].probability + 5), ..Default::default() },
        )
        .await
        .unwrap();
    assert_counted(store, "a stage's probability changed").await;
    store.delete_stage(&actor, &unused.id).await.unwrap();
    assert_counted(store, "removing a stage").await;

    // The report from the rollups (whole UTC days) equals the report from the deals (a period
    // that holds no whole day), for both pipelines.
    let created = store.get_deal(&deals[0]).await.unwrap().created_at;
    let day = created / DAY;
    for pipeline in [&sales, &service.id] {
        let from_rollups =
            store.sales_report(&filter(day * DAY, (day + 2) * DAY, pipeline)).await.unwrap().funnel;
        let from_deals = store
            .sales_report(&filter(day * DAY + 1, (day + 2) * DAY - 1, pipeline))
            .await
            .unwrap()
            .funnel;
        assert_eq!(from_rollups, from_deals);
    }
    let funnel =
        store.sales_report(&filter(day * DAY, (day + 2) * DAY, &sales)).await.unwrap().funnel;
    assert_eq!((funnel.created, funnel.won, funnel.lost), (6, 1, 1));
    assert_eq!(funnel.won_minor, 200_000);
    // Stage 1, moved to the end, was entered by deals 0 and 2; deal 1 won (every stage): those
    // three reached every stage, the other three only the first.
    let reached = |id: &str| funnel.stages.iter().find(|s| s.stage_id == id).unwrap().reached;
    assert_eq!(reached(&stages[0].id), 6);
    assert_eq!(reached(&stages[2].id), 3);
    assert_eq!(reached(&stages[1].id), 3);
    let first = funnel.stages.iter().find(|s| s.stage_id == stages[0].id).unwrap();
    assert!(first.avg_ms_in_stage.is_some(), "deals moved on from the first stage");
    // The forecast: deals 0 (at the probability it took from its first stage) and 3 (35%) are
    // expected to close in one month; deal 6 no longer has a date.
    let p0 = store.get_deal(&deals[0]).await.unwrap().probability.unwrap();
    let report = store.sales_report(&filter(day * DAY, (day + 2) * DAY, &sales)).await.unwrap();
    let dated: Vec<_> = report.forecast.iter().filter(|r| !r.month.is_empty()).collect();
    assert_eq!(dated.len(), 1);
    assert_eq!((dated[0].deals, dated[0].amount_minor), (2, 500_000));
    assert_eq!(dated[0].weighted_minor, 100_000 * p0 / 100 + 140_000);
    let other =
        store.sales_report(&filter(day * DAY, (day + 2) * DAY, &service.id)).await.unwrap().funnel;
    assert_eq!(other.created, 1);
    assert_eq!(other.stages[0].open_here, 1);
});
