//! A caller who waits hears something from the first second: early media. The edge answers
//! the INVITE with 183 Session Progress carrying our SDP answer and starts the caller's bridge
//! with a [`Source`] on the agent's side. When an agent is connected the caller gets 200 OK
//! with the same SDP and the agent's leg replaces the source on the same bridge, so the
//! caller's RTP stream goes on without a gap and the call is answered once. The same bridge
//! plays music to a caller the agent puts on hold.

use rsipstack::sip::Header;
use switchboard_media::relay::{self, BridgeOptions, LegMedia, PT_PCMU, Side, Sound, Source};

use super::{EdgeError, SipEdge, leg_media, media_sink, session_id, sip_err};

/// A caller hearing our sound before anyone answered.
pub(super) struct Early {
    pub(super) bridge: relay::BridgeHandle,
    pub(super) caller_port: u16,
    /// The SDP sent in the 183, sent again in the 200 OK.
    pub(super) sdp: String,
}

impl SipEdge {
    /// Plays `sound` to a caller not yet answered (183 with SDP, then the sound), until an
    /// agent is connected or the call ends. A call already answered, or already hearing a
    /// sound, is left as it is.
    pub fn play_waiting(&self, call_id: &str, sound: Sound) -> Result<(), EdgeError> {
        let no_call = || EdgeError::NoCall(call_id.to_owned());
        let mut calls = self.inner.calls.lock().map_err(|_| no_call())?;
        let call = calls.get_mut(call_id).ok_or_else(no_call)?;
        if call.early.is_some() || call.connected.is_some() || call.parked.is_some() {
            return Ok(());
        }
        let socket = call.caller_socket.take().ok_or_else(no_call)?;
        call.sdp_version += 1;
        let sdp = call.caller_answer.to_sdp(
            (self.inner.config.advertised_ip, socket.port()),
            session_id(),
            call.sdp_version,
        );
        let content_type = vec![Header::ContentType("application/sdp".into())];
        if let Err(e) = call.caller.ringing(Some(content_type), Some(sdp.clone().into_bytes())) {
            call.caller_socket = Some(socket);
            return Err(sip_err(e));
        }
        // No 180 after the 183: some phones would mute our sound for a ring of their own.
        call.ringing_sent = true;
        let caller_port = socket.port();
        // The caller need not send before the answer: their silence is not a dead line yet.
        let caller = LegMedia { expect_packets: false, ..leg_media(&call.caller_answer) };
        let nobody =
            LegMedia { send: false, expect_packets: false, ..LegMedia::packets(PT_PCMU, None) };
        let bridge = relay::bridge(
            (socket, caller),
            (Source::new(sound), nobody),
            BridgeOptions { dead_peer: self.inner.config.dead_peer },
            media_sink(std::sync::Arc::downgrade(&self.inner), call_id.to_owned()),
        );
        call.early = Some(Early { bridge, caller_port, sdp });
        Ok(())
    }
}

impl SipEdge {
    /// Plays `sound` to the caller instead of the agent (the agent put them on hold); `None`
    /// gives them the agent back. False when the call has no bridge.
    pub fn hold_music(&self, call_id: &str, sound: Option<Sound>) -> bool {
        self.with_bridge(call_id, |bridge| bridge.play(Side::A, sound)).is_some()
    }

    /// Plays `sound` to a caller in the call flow (prompts, then what follows them), in place
    /// of the waiting sound; `None` goes back to it. When a playlist's clips end the edge
    /// reports [`super::EdgeEvent::SoundDone`]. False when the call has no bridge yet.
    pub fn play_to_caller(&self, call_id: &str, sound: Option<Sound>) -> bool {
        let Ok(calls) = self.inner.calls.lock() else { return false };
        let Some(call) = calls.get(call_id) else { return false };
        let bridge = call
            .early
            .as_ref()
            .map(|e| &e.bridge)
            .or(call.parked.as_ref().map(|p| &p.bridge))
            .or(call.connected.as_ref().map(|c| &c.bridge));
        bridge.map(|b| b.play(Side::A, sound)).is_some()
    }

    /// Answers a caller in the call flow (200 OK with the SDP of the 183, sent first when
    /// there was none): they now hear our sound on an answered call, and keys always reach
    /// us. The agent who answers later takes the sound's place without a second answer.
    pub fn answer_caller(&self, call_id: &str) -> Result<(), EdgeError> {
        self.play_waiting(call_id, Sound::Loop(Vec::new().into()))?;
        let no_call = || EdgeError::NoCall(call_id.to_owned());
        let mut calls = self.inner.calls.lock().map_err(|_| no_call())?;
        let call = calls.get_mut(call_id).ok_or_else(no_call)?;
        let Some(early) = call.early.take() else { return Ok(()) };
        if let Err(e) = call.caller.accept(
            Some(vec![Header::ContentType("application/sdp".into())]),
            Some(early.sdp.clone().into_bytes()),
        ) {
            call.early = Some(early);
            return Err(sip_err(e));
        }
        early.bridge.update(Side::A, leg_media(&call.caller_answer));
        call.parked = Some(super::Parked { bridge: early.bridge, caller_port: early.caller_port });
        Ok(())
    }
}

impl Early {
    /// An agent answers: 200 OK with the SDP of the 183, the caller's leg now expected to
    /// send, and the agent in place of the sound.
    pub(super) fn answer(
        self,
        call: &super::Call,
        io: relay::LegIo,
        media: LegMedia,
    ) -> Result<(relay::BridgeHandle, u16), EdgeError> {
        call.caller
            .accept(
                Some(vec![Header::ContentType("application/sdp".into())]),
                Some(self.sdp.into_bytes()),
            )
            .map_err(sip_err)?;
        self.bridge.update(Side::A, leg_media(&call.caller_answer));
        self.bridge.play(Side::A, None);
        self.bridge.replace(Side::B, io, media);
        Ok((self.bridge, self.caller_port))
    }
}
