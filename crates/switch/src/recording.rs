//! Recording calls from the switch: a call is recorded from the moment it is bridged (unless
//! recording is off, for all calls or for its queue) into `root/YYYY/MM/DD/<call id>.wav`.
//! The path goes to the call record at once, the length when the file is closed. The tap stays
//! on the call's bridge through transfers; the file is closed whenever the call machine
//! forgets the call, however it ended.

use tracing::warn;

use super::{Switch, Write, now_ms};

impl Switch {
    /// Starts recording a call that has just been bridged; the file's path (relative to the
    /// recordings' root) when it was opened.
    pub(super) fn start_recording(&mut self, call_id: &str) -> Option<String> {
        let recorder = self.recorder.clone()?;
        if self.recordings.contains_key(call_id) {
            return None;
        }
        let Some(relative) = switchboard_core::recording::relative_path(call_id, now_ms()) else {
            warn!(call_id, "call id unfit for a file name; not recorded");
            return None;
        };
        // Only a call with a bridge gets a file (asking with no tap changes nothing).
        if !self.edge.record(call_id, None) {
            return None;
        }
        let recording = recorder.record(self.recordings_root.join(&relative));
        if !self.edge.record(call_id, Some(recording.tap())) {
            // The call ended in between: the recording is closed as it is dropped.
            return None;
        }
        self.recordings.insert(call_id.to_owned(), recording);
        Some(relative)
    }

    /// Closes a call's recording, if it has one (the call record gets the file's length).
    pub(super) fn finish_recording(&mut self, call_id: &str) {
        let Some(recording) = self.recordings.remove(call_id) else { return };
        let done = recording.finish();
        let writes = self.writes.clone();
        let call_id = call_id.to_owned();
        tokio::spawn(async move {
            if let Ok(finished) = done.await {
                writes.send(Write::RecordingDone { call_id, finished });
            }
        });
    }
}
