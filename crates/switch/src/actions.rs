//! The call machine's executor: inputs in, effects carried out. An effect that can fail at
//! once (ringing, bridging, dialling) is answered with an input at once, and what the machine
//! makes of the answer is carried out before the effects that were already waiting.

use std::collections::VecDeque;
use std::sync::Arc;

use switchboard_core::EpochMs;
use switchboard_media::relay::Sound;
use switchboard_sip::edge::DialTarget;
use tracing::{debug, warn};

use crate::machine::{CallInput, Effect, Endpoint};
use crate::protocol::SwitchError;
use crate::{Switch, now_ms};

impl Switch {
    /// Hands the machine an input now and carries out what it returns.
    pub(super) fn feed(&mut self, input: CallInput) -> Result<(), SwitchError> {
        let now = now_ms();
        let effects = self.machine.handle(input, now)?;
        self.carry_out(effects, now);
        Ok(())
    }

    /// Hands the machine an input whose refusal only means that the call or agent moved on.
    pub(super) fn feed_event(&mut self, input: CallInput) {
        if let Err(e) = self.feed(input) {
            debug!(error = %e, "the call machine did not take an input");
        }
    }

    /// Carries out effects in order; the answers of effects are handled at once.
    pub(super) fn carry_out(&mut self, effects: Vec<Effect>, now: EpochMs) {
        let mut queue = VecDeque::from(effects);
        while let Some(effect) = queue.pop_front() {
            let Some(answer) = self.execute(effect) else { continue };
            match self.machine.handle(answer, now) {
                Ok(more) => {
                    for effect in more.into_iter().rev() {
                        queue.push_front(effect);
                    }
                }
                Err(e) => debug!(error = %e, "the call machine did not take an answer"),
            }
        }
    }

    /// Carries out one effect; returns its answer when it has one.
    fn execute(&mut self, effect: Effect) -> Option<CallInput> {
        match effect {
            Effect::Ring { call_id, agent_id, endpoint } => {
                let result = match &endpoint {
                    Endpoint::Sip(uri) => {
                        self.edge.offer(&call_id, &agent_id, uri).map_err(|e| e.to_string())
                    }
                    Endpoint::Browser if !self.browser_ready(&agent_id) => {
                        Err("the agent's browser is not connected".into())
                    }
                    Endpoint::Browser => {
                        self.edge.offer_browser(&call_id, &agent_id).map_err(|e| e.to_string())
                    }
                };
                Some(CallInput::Rung { call_id, agent_id, result })
            }
            Effect::CancelRing { call_id, leg } => {
                self.edge.cancel_offer(&call_id, &leg);
                None
            }
            Effect::Connect { call_id, agent_id, browser } => {
                let result = if browser {
                    self.connect_browser(&call_id, &agent_id)
                } else {
                    self.edge.connect(&call_id, &agent_id).map_err(|e| e.to_string())
                };
                Some(CallInput::Bridged { call_id, agent_id, result })
            }
            Effect::Park { call_id, agent_id } => {
                if let Err(e) = self.edge.park(&call_id, &agent_id) {
                    warn!(%call_id, %agent_id, error = %e, "cannot take the call off the agent");
                }
                self.detach(&agent_id);
                None
            }
            Effect::RingNumber { call_id, leg, e164 } => {
                let Some(config) = &self.outbound else {
                    return Some(CallInput::NumberFailed { call_id, code: None });
                };
                let uri = crate::transfer::target_uri(&config.target, &e164);
                let credential = config.credential.clone();
                match self.edge.offer_external(&call_id, &leg, &uri, credential) {
                    Ok(()) => None,
                    Err(e) => {
                        warn!(%call_id, error = %e, "cannot ring the transfer target");
                        Some(CallInput::NumberFailed { call_id, code: None })
                    }
                }
            }
            Effect::ConnectNumber { call_id, leg } => {
                let result = self.edge.connect(&call_id, &leg).map_err(|e| e.to_string());
                Some(CallInput::NumberBridged { call_id, leg, result })
            }
            Effect::PlayWaiting { call_id, sound } => {
                let sound = self.queue_sound(sound.as_deref());
                // Over the call flow's media when it has some; else early media starts now.
                if !self.edge.play_to_caller(&call_id, sound.clone())
                    && let Some(sound) = sound
                    && let Err(e) = self.edge.play_waiting(&call_id, sound)
                {
                    warn!(%call_id, error = %e, "cannot play the waiting sound");
                }
                None
            }
            Effect::Announce { call_id, prompts, language, sound } => {
                let clips: Vec<Arc<[u8]>> =
                    prompts.iter().filter_map(|p| self.prompt_audio(p, &language)).collect();
                let then =
                    self.queue_sound(sound.as_deref()).unwrap_or(Sound::Loop(Vec::new().into()));
                let sound = Sound::Playlist { clips: clips.into(), then: Box::new(then), id: 0 };
                self.edge.play_to_caller(&call_id, Some(sound));
                None
            }
            Effect::StartFlow { call_id, answer } => {
                let sound = self.waiting_sound.clone().unwrap_or(Sound::Loop(Vec::new().into()));
                let started = self.edge.play_waiting(&call_id, sound);
                let answered = if answer { self.edge.answer_caller(&call_id) } else { Ok(()) };
                if let Err(e) = started.and(answered) {
                    warn!(%call_id, error = %e, "cannot start the call flow's media");
                }
                None
            }
            Effect::Play { call_id, prompts, language, id } => {
                let clips: Vec<Arc<[u8]>> =
                    prompts.iter().filter_map(|p| self.prompt_audio(p, &language)).collect();
                if clips.len() < prompts.len() {
                    warn!(%call_id, ?prompts, "a prompt of the call flow is missing: skipped");
                }
                let then = Box::new(Sound::Loop(Vec::new().into()));
                let sound = Sound::Playlist { clips: clips.into(), then, id };
                if !self.edge.play_to_caller(&call_id, Some(sound)) {
                    warn!(%call_id, "cannot play prompts: the call has no media");
                }
                None
            }
            Effect::RecordMessage { call_id, silence_ms } => {
                if let Err(e) = self.edge.answer_caller(&call_id) {
                    warn!(%call_id, error = %e, "cannot answer the caller for voicemail");
                }
                let beep = Arc::from(crate::prompts::beep());
                let then = Box::new(Sound::Loop(Vec::new().into()));
                let sound = Sound::Playlist { clips: vec![beep].into(), then, id: 0 };
                self.edge.play_to_caller(&call_id, Some(sound));
                if silence_ms > 0 {
                    let limit = std::time::Duration::from_millis(silence_ms);
                    self.edge.watch_silence(&call_id, Some(limit));
                }
                match self.start_recording(&call_id) {
                    Some(path) => Some(CallInput::Recorded { call_id, path }),
                    None => {
                        warn!(%call_id, "voicemail is not recorded (recording is off)");
                        None
                    }
                }
            }
            Effect::StopMessage { call_id } => {
                self.edge.watch_silence(&call_id, None);
                self.finish_recording(&call_id);
                None
            }
            Effect::HoldSound { call_id, on } => {
                if let Some(sound) = &self.hold_sound {
                    self.edge.hold_music(&call_id, on.then(|| sound.clone()));
                }
                None
            }
            Effect::Answer { call_id } => {
                if let Err(e) = self.edge.answer_caller(&call_id) {
                    warn!(%call_id, error = %e, "cannot answer the caller");
                }
                None
            }
            Effect::Release { call_id, code } => {
                self.edge.release(&call_id, code);
                None
            }
            Effect::Detach { agent_id } => {
                self.detach(&agent_id);
                None
            }
            Effect::Dial { call_id, agent_id, e164, endpoint } => {
                let result = self.place_call(&call_id, &agent_id, &e164, &endpoint);
                if let Err(e) = &result {
                    self.dial_error = Some(e.clone());
                }
                Some(CallInput::Dialed { call_id, result })
            }
            Effect::StartRecording { call_id } => {
                let path = self.start_recording(&call_id)?;
                Some(CallInput::Recorded { call_id, path })
            }
            Effect::PauseRecording { call_id, paused } => {
                if let Some(recording) = self.recordings.get(call_id.as_str()) {
                    recording.set_paused(paused);
                }
                None
            }
            Effect::Forget { call_id } => {
                self.monitored_call_ended(&call_id);
                self.finish_recording(&call_id);
                None
            }
            Effect::BuildCard { call_id, number } => {
                self.build_card(call_id.into_string(), number);
                None
            }
            Effect::Log(write) => {
                self.write(write);
                None
            }
            Effect::Tell { agent_id, message } => {
                self.tell(&agent_id, message);
                None
            }
        }
    }

    /// Takes the agent's softphone (if any) off its call.
    fn detach(&self, agent_id: &str) {
        if let Some(softphone) = self.softphones.get(agent_id) {
            softphone.peer.detach();
        }
    }

    /// Click-to-call: rings the agent's desk phone, or puts the call on their softphone and
    /// calls the customer at once.
    fn place_call(
        &mut self,
        call_id: &str,
        agent_id: &str,
        e164: &str,
        endpoint: &Endpoint,
    ) -> Result<(), String> {
        let config = self.outbound.as_ref().ok_or("click-to-call is off")?;
        let target = DialTarget {
            uri: crate::transfer::target_uri(&config.target, e164),
            caller_id: config.caller_id.clone(),
            credential: config.credential.clone(),
            ring_timeout: config.ring_timeout,
        };
        match endpoint {
            Endpoint::Sip(uri) => {
                self.edge.dial(call_id, agent_id, uri, target).map_err(|e| e.to_string())
            }
            Endpoint::Browser => {
                let peer = self.softphone(agent_id)?;
                let (port, media) = peer.attach();
                self.edge.dial_browser(call_id, agent_id, port, media, target).map_err(|e| {
                    peer.detach();
                    e.to_string()
                })
            }
        }
    }
}
