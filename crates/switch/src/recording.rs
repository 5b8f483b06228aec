//! Recording calls from the switch: a call is recorded from the moment it is bridged (unless
//! recording is off, for all calls or for its queue) into `root/YYYY/MM/DD/<call id>.wav`.
//! The path goes to the call record at once, the length when the file is closed. The tap stays
//! on the call's bridge through transfers; the file is closed whenever the switch forgets the
//! call, however it ended.

use crate::protocol::AgentMessage;
use serde_json::json;
use switchboard_media::recording::Recording;
use tracing::warn;

use super::{CallInfo, Kind, Switch, Write, now_ms};

impl Switch {
    /// Starts recording a call that has just been bridged (no-op when it already is).
    pub(super) fn start_recording(&mut self, call_id: &str) {
        let Some(recorder) = self.recorder.clone() else { return };
        let Some(info) = self.calls.get(call_id) else { return };
        if info.recording.is_some() {
            return;
        }
        if let Some(queue) = &info.queue
            && self.record_queues.get(queue) == Some(&false)
        {
            return;
        }
        let now = now_ms();
        let Some(relative) = switchboard_core::recording::relative_path(call_id, now) else {
            warn!(call_id, "call id unfit for a file name; not recorded");
            return;
        };
        // Only a call with a bridge gets a file (asking with no tap changes nothing).
        if !self.edge.record(call_id, None) {
            return;
        }
        let recording = recorder.record(self.recordings_root.join(&relative));
        if !self.edge.record(call_id, Some(recording.tap())) {
            // The call ended in between: the recording is closed as it is dropped.
            return;
        }
        if let Some(info) = self.calls.get_mut(call_id) {
            info.recording = Some(recording);
        }
        self.write(Write::RecordingStarted {
            call_id: call_id.to_owned(),
            path: relative,
            at: now,
        });
    }

    /// Forgets a call, closing its recording (the call record gets the file's length).
    pub(super) fn remove_call(&mut self, call_id: &str) -> Option<CallInfo> {
        self.monitored_call_ended(call_id);
        let mut info = self.calls.remove(call_id)?;
        if let Some(recording) = info.recording.take() {
            self.finish_recording(call_id, recording);
        }
        Some(info)
    }

    fn finish_recording(&self, call_id: &str, recording: Recording) {
        let done = recording.finish();
        let writes = self.writes.clone();
        let call_id = call_id.to_owned();
        tokio::spawn(async move {
            if let Ok(finished) = done.await {
                let _ = writes.send(Write::RecordingDone { call_id, finished });
            }
        });
    }

    /// Pauses or resumes the recording of the agent's call, on the agent's word.
    pub(super) fn pause_recording(
        &mut self,
        user_id: &str,
        call_id: &str,
        paused: bool,
    ) -> Result<(), String> {
        let info = self
            .calls
            .get(call_id)
            .filter(|i| i.agent.as_deref() == Some(user_id))
            .ok_or("not your call")?;
        let recording = info.recording.as_ref().ok_or("this call is not being recorded")?;
        if recording.paused() != paused {
            recording.set_paused(paused);
            self.event(
                call_id,
                if paused { Kind::RecordingPaused } else { Kind::RecordingResumed },
                Some(user_id),
                json!({}),
            );
        }
        self.tell(user_id, AgentMessage::Recording { call_id: call_id.to_owned(), paused });
        Ok(())
    }
}
