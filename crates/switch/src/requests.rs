//! The API's requests: agent state, the status at a glance, reloads, consoles, wallboards,
//! click-to-call.

use switchboard_sip::edge::RegistrationStatus;

use crate::Switch;
use crate::protocol::{
    AgentView, ExtensionView, QueueView, RecordingView, RegistrationView, RelayView, SipFrontView,
    SipTablesView, TelephonyRequest, TelephonyStatus,
};

impl Switch {
    pub(super) fn on_request(&mut self, request: TelephonyRequest) {
        match request {
            TelephonyRequest::SetAgentState { user_id, target, reply } => {
                let result = self.set_agent_state(&user_id, target);
                let _ = reply.send(result);
            }
            TelephonyRequest::AgentState { user_id, reply } => {
                let _ = reply.send(self.machine.agent_state(&user_id));
            }
            TelephonyRequest::Status { reply } => {
                let registrations =
                    self.edge.registrations().into_iter().map(registration_view).collect();
                let agents = self
                    .machine
                    .agents()
                    .into_iter()
                    .map(|id| AgentView {
                        state: self.machine.agent_state(&id),
                        user_id: id.into(),
                    })
                    .collect();
                let queues = self
                    .directory
                    .queues
                    .iter()
                    .map(|q| {
                        let waiting = self.machine.waiting(&q.id);
                        QueueView {
                            queue_id: q.id.clone(),
                            waiting: waiting.len(),
                            oldest_since: waiting.first().map(|(_, at)| *at),
                        }
                    })
                    .collect();
                let extensions = self
                    .edge
                    .bindings()
                    .into_iter()
                    .map(|b| ExtensionView {
                        extension: b.extension,
                        contact: b.contact,
                        expires_in_s: b.expires_in.as_secs(),
                    })
                    .collect();
                let r = &*switchboard_media::recording::RECORDER_STATS;
                let load =
                    |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
                let recording = RecordingView {
                    files_open: load(&r.open),
                    frames: load(&r.frames),
                    dropped_frames: load(&r.dropped),
                    late_samples: load(&r.late_samples),
                    errors: load(&r.errors),
                };
                let m = &*switchboard_media::relay::RELAY_STATS;
                let relay = RelayView {
                    packets_in: load(&m.packets_in),
                    packets_out: load(&m.packets_out),
                    dropped: load(&m.dropped),
                    not_sent: load(&m.not_sent),
                };
                let front = switchboard_sip::edge::front_counters();
                let sip = SipFrontView {
                    answered: load(&front.answered),
                    dropped: load(&front.dropped),
                    large: load(&front.large),
                    tables: {
                        let t = self.edge.stack_sizes();
                        SipTablesView {
                            transactions: t.transactions,
                            finished_transactions: t.finished_transactions,
                            waiting_ack: t.waiting_ack,
                            dialogs: t.dialogs,
                            connections: t.connections,
                            calls: t.calls,
                            outbound: t.outbound,
                            nonces: t.nonces,
                        }
                    },
                };
                let restored_agents = self.restored.clone();
                let alerts = self.alerts();
                let sip_listen = self.edge.local_addr().to_string();
                let _ = reply.send(TelephonyStatus {
                    sip_listen,
                    active_calls: self.edge.active_calls(),
                    registrations,
                    agents,
                    queues,
                    extensions,
                    recording,
                    relay,
                    sip,
                    restored_agents,
                    alerts,
                });
            }
            TelephonyRequest::ReloadQueues { reply }
            | TelephonyRequest::ReloadExtensions { reply } => self.reload(reply),
            TelephonyRequest::ConsoleOpened { user_id, console_id, outbox } => {
                self.console_opened(user_id, console_id, outbox)
            }
            TelephonyRequest::ConsoleClosed { user_id, console_id } => {
                self.console_closed(&user_id, console_id)
            }
            TelephonyRequest::Console { user_id, console_id, command } => {
                self.on_console(user_id, console_id, command)
            }
            TelephonyRequest::Notify(n) => self.tell(&n.user_id, n.message),
            TelephonyRequest::Wallboard { user_id, board_id, event } => {
                self.on_wallboard(user_id, board_id, event)
            }
            TelephonyRequest::Dial { user_id, e164, task_id, reply } => {
                let result = self.dial(&user_id, &e164, task_id);
                let _ = reply.send(result);
            }
        }
    }
}

fn registration_view(r: RegistrationStatus) -> RegistrationView {
    RegistrationView {
        name: r.name,
        registrar: r.registrar,
        state: r.state,
        last_code: r.last_code,
        last_error: r.last_error,
        expires_s: r.expires_s,
        successes: r.successes,
        registered_at: r.registered_at,
    }
}
