//! What an administrator must see now: recordings failing, the recordings' disk nearly full,
//! the database away. Read from the recorder's and the call-log writer's state whenever the
//! status is asked for (the admin page, `/metrics`), so nothing runs when nobody looks.

use std::path::Path;

use switchboard_media::recording::RECORDER_STATS;

use crate::Switch;
use crate::protocol::AlertView;

/// The recordings' disk is low when less than this share of it is free...
const LOW_SHARE: f64 = 0.05;
/// ...and less than this many bytes (a big disk at 4% still has room for months).
const LOW_BYTES: u64 = 1 << 30;

impl Switch {
    /// The alerts in force now.
    pub(super) fn alerts(&self) -> Vec<AlertView> {
        let mut alerts = Vec::new();
        if let Some((since, error)) = RECORDER_STATS.failing() {
            alerts.push(AlertView {
                kind: "recording_failed".into(),
                since,
                count: RECORDER_STATS.errors.load(std::sync::atomic::Ordering::Relaxed),
                error: Some(error),
            });
        }
        if self.recorder.is_some()
            && let Some((free, total)) = free_space(&self.recordings_root)
            && disk_low(free, total)
        {
            alerts.push(AlertView {
                kind: "recordings_disk_low".into(),
                since: 0,
                count: free,
                error: None,
            });
        }
        if let (waiting, Some(since)) = self.writes.state() {
            alerts.push(AlertView {
                kind: "database_unavailable".into(),
                since,
                count: waiting as u64,
                error: None,
            });
        }
        alerts
    }
}

/// Whether `free` of `total` bytes is too little (both limits crossed).
fn disk_low(free: u64, total: u64) -> bool {
    total > 0 && (free as f64) < (total as f64) * LOW_SHARE && free < LOW_BYTES
}

/// Free and total bytes of the file system holding `path` (or its nearest existing parent:
/// the recordings' folder is made with the first recording).
fn free_space(path: &Path) -> Option<(u64, u64)> {
    let existing = path.ancestors().find(|p| p.exists())?;
    let stat = rustix::fs::statvfs(existing).ok()?;
    Some((stat.f_bavail * stat.f_frsize, stat.f_blocks * stat.f_frsize))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_disk_is_low_only_when_both_the_share_and_the_bytes_are_small() {
        const GIB: u64 = 1 << 30;
        assert!(disk_low(100 << 20, 20 * GIB), "100 MiB of 20 GiB");
        assert!(!disk_low(2 * GIB, 20 * GIB), "10% free");
        assert!(!disk_low(40 * GIB, 1000 * GIB), "4% of 1 TB is still 40 GiB");
        assert!(disk_low(1 << 20, 64 << 20), "1 MiB of a 64 MiB disk");
        assert!(!disk_low(0, 0), "no size: not a disk to judge");
    }

    #[test]
    fn free_space_reads_the_nearest_existing_folder() {
        let (free, total) = free_space(Path::new("/tmp/does/not/exist/yet")).unwrap();
        assert!(total > 0 && free <= total);
    }
}
