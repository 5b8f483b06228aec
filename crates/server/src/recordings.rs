//! Recording files outside calls: the repair of files a crash left unfinished (at start-up)
//! and the retention job that deletes old ones.

use std::path::Path;
use std::time::Duration;

use serde_json::json;
use switchboard_media::recording::repair_wav;
use switchboard_store::Store;
use tracing::{info, warn};

use switchboard_store::now_ms;

/// Brings every recording whose length was never written (the process died while it was
/// open) up to date: its WAV header is made to cover the audio on disk and the call record
/// gets the length. Returns how many were repaired.
pub async fn repair_unfinished(store: &Store, root: &Path) -> anyhow::Result<usize> {
    let mut repaired = 0;
    for rec in store.unfinished_recordings().await? {
        let Some(path) = switchboard_core::recording::resolve(root, &rec.path) else {
            warn!(call_id = rec.call_id, "recording path is not under the root; ignored");
            continue;
        };
        let result = tokio::task::spawn_blocking(move || repair_wav(&path)).await?;
        match result {
            Ok(len) => {
                store
                    .recording_finished(
                        &rec.call_id,
                        i64::try_from(len.duration_ms).unwrap_or(i64::MAX),
                        i64::try_from(len.size).unwrap_or(i64::MAX),
                    )
                    .await?;
                info!(
                    call_id = rec.call_id,
                    duration_ms = len.duration_ms,
                    header_fixed = len.repaired,
                    "recovered an unfinished recording"
                );
                repaired += 1;
            }
            Err(e) => {
                warn!(call_id = rec.call_id, error = %e, "cannot recover an unfinished recording");
                store.recording_failed(&rec.call_id, now_ms(), &e.to_string()).await?;
            }
        }
    }
    Ok(repaired)
}

/// Deletes the recordings of calls offered more than `days` days before `now` (none on legal
/// hold); each deletion is logged, audited and marked on the call. Returns how many.
pub async fn purge_expired(
    store: &Store,
    root: &Path,
    days: u32,
    now: i64,
) -> anyhow::Result<usize> {
    if days == 0 {
        return Ok(0);
    }
    let cutoff = now - i64::from(days) * 86_400_000;
    let mut purged = 0;
    loop {
        let batch = store.expired_recordings(cutoff, 500).await?;
        if batch.is_empty() {
            break;
        }
        let mut progress = false;
        for rec in batch {
            let Some(path) = switchboard_core::recording::resolve(root, &rec.path) else {
                warn!(call_id = rec.call_id, "recording path is not under the root; not deleted");
                store
                    .recording_purged(
                        &rec.call_id,
                        now,
                        json!({"path": rec.path, "file": "not under the root"}),
                    )
                    .await?;
                continue;
            };
            // Marked first: a call put on legal hold in between keeps its file.
            if !store
                .recording_purged(
                    &rec.call_id,
                    now,
                    json!({"path": rec.path, "retention_days": days}),
                )
                .await?
            {
                continue;
            }
            progress = true;
            match tokio::fs::remove_file(&path).await {
                Ok(()) => {
                    info!(call_id = rec.call_id, path = rec.path, "recording deleted by retention")
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => info!(
                    call_id = rec.call_id,
                    path = rec.path,
                    "recording already gone; marked purged"
                ),
                Err(e) => {
                    warn!(call_id = rec.call_id, path = rec.path, error = %e, "cannot delete recording")
                }
            }
            purged += 1;
        }
        if !progress {
            break;
        }
    }
    Ok(purged)
}

/// Runs [`purge_expired`] every `every`, with the retention an admin set in the browser or
/// else `configured_days`.
pub async fn retention_loop(
    store: Store,
    root: std::path::PathBuf,
    configured_days: u32,
    every: Duration,
) {
    let mut tick = tokio::time::interval(every.max(Duration::from_secs(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let days = match store.retention_days(configured_days).await {
            Ok(days) => days,
            Err(e) => {
                warn!(error = %e, "cannot read the retention setting; the retention job waits");
                continue;
            }
        };
        match purge_expired(&store, &root, days, now_ms()).await {
            Ok(n) if n > 0 => {
                info!(recordings = n, retention_days = days, "retention deleted recordings")
            }
            Ok(_) => {}
            Err(e) => warn!(error = %e, "retention job failed"),
        }
    }
}
