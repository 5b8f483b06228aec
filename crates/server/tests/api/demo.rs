//! The demo generator: a small seeded history whose rollups equal a recount, read back
//! through `/api/stats` with figures in sane ranges.

use reqwest::StatusCode;
use switchboard_core::stats::StatsConfig;
use switchboard_server::demo::{DemoOptions, seed_demo};

use crate::app_test;
use crate::helpers::send;

app_test!(seeded_demo_history_is_consistent, |app| {
    let admin = app.admin().await;
    let store = app.store();
    let now: i64 = 1_795_514_400_000;
    let options = DemoOptions {
        days: 3,
        agents: 4,
        contacts: 40,
        seed: 7,
        now,
        utc_offset_ms: 0,
        events: true,
        stats: StatsConfig::default(),
        lang: Default::default(),
        recordings: Some(std::env::temp_dir().join(format!("sb-demo-{}", uuid::Uuid::now_v7()))),
    };
    let made = seed_demo(store, &options, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$0C6Qb1/Vq2qkJ1a6Vv8wB0yq0pM2Q1mQ2m3n4o5p6q8").await.unwrap();
    assert!(made.calls > 300, "{made:?}");
    assert!(made.tasks > 0);
    // The generator's rollups are exactly what its calls contribute.
    assert_eq!(store.call_stats_rows().await.unwrap(), store.recount_call_stats().await.unwrap());
    // Seeding twice is refused.
    assert!(seed_demo(store, &options, "x").await.is_err());
    let day = 86_400_000;
    let (status, stats) = send(admin.get(app.url(&format!(
        "/api/stats?from={}&to={}&group=agent",
        now - 3 * day,
        now
    ))))
    .await;
    assert_eq!(status, StatusCode::OK);
    let m = &stats["total"]["metrics"];
    let sl = m["service_level"].as_f64().unwrap();
    assert!(m["offered"].as_i64().unwrap() > 300 && m["answered"].as_i64().unwrap() > 0, "{m}");
    assert!((0.0..=1.0).contains(&sl), "{m}");
    let occupancy = stats["total"]["occupancy"].as_f64().unwrap();
    assert!(occupancy > 0.2 && occupancy < 1.0, "occupancy {occupancy}");
    assert_eq!(
        stats["rows"].as_array().unwrap().iter().filter(|r| r["occupancy"].is_number()).count(),
        4,
        "every agent has a state log"
    );
    assert!(stats["callbacks"]["created"].as_i64().unwrap() > 0);
    // Some of the last day's calls have recordings that play: 8 s of stereo, both voices.
    let root = options.recordings.clone().unwrap();
    let mut files = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() { dirs.push(path) } else { files.push(path) }
        }
    }
    assert!(!files.is_empty(), "recordings were written under {}", root.display());
    let mut wav = hound::WavReader::open(&files[0]).unwrap();
    let spec = wav.spec();
    assert_eq!((spec.channels, spec.sample_rate), (2, 8_000));
    assert_eq!(wav.duration(), 64_000, "8 s");
    let samples: Vec<i16> = wav.samples::<i16>().map(Result::unwrap).collect();
    let loud = |channel: usize| samples.iter().skip(channel).step_by(2).any(|s| s.abs() > 1_000);
    assert!(loud(0) && loud(1), "both voices are heard");
    let (_, page) = send(admin.get(app.url("/api/recordings"))).await;
    assert_eq!(page["total"].as_u64().unwrap() as usize, files.len(), "{page}");
    std::fs::remove_dir_all(&root).unwrap();
});
