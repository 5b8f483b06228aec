//! The built-in test peers: a caller that places a real SIP call into a gateway and plays a
//! tone or a WAV file, and a desk phone that answers every call. Both report what they hear
//! (packets, level, the strongest test frequency), so a newcomer without a PBX or phones can
//! see the product work end to end, and can save what they heard to a WAV file.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rsipstack::EndpointBuilder;
use rsipstack::dialog::dialog::DialogState;
use rsipstack::dialog::dialog_layer::DialogLayer;
use rsipstack::dialog::invitation::InviteOption;
use rsipstack::sip::prelude::HeadersExt;
use rsipstack::sip::{Header, Method, StatusCode, StatusCodeKind, Uri};
use rsipstack::transport::TransportLayer;
use rsipstack::transport::udp::UdpConnection;
use switchboard_media::g711::{alaw_to_linear, linear_to_ulaw, ulaw_to_linear};
use switchboard_media::rtp::{RtpPacket, build};
use switchboard_media::tone::{dominant, goertzel_power, sine_ulaw};
use tokio::net::UdpSocket;
use tokio_util::sync::CancellationToken;

use crate::sdp::{self, Codec, SessionDescription};

/// What to play.
#[derive(Debug, Clone)]
pub enum Sound {
    /// A sine at this frequency.
    Tone(f64),
    /// A WAV file (16-bit PCM, any rate; mono or the first channel).
    Wav(PathBuf),
}

/// What one side heard.
#[derive(Debug, Clone, Default)]
pub struct Heard {
    /// RTP packets received.
    pub packets: u64,
    /// Samples decoded.
    pub samples: usize,
    /// Strongest of 440, 1000 and 2000 Hz over the last second, if anything arrived.
    pub dominant_hz: Option<f64>,
    /// RMS level of the last second, in dBFS.
    pub level_dbfs: Option<f64>,
}

impl std::fmt::Display for Heard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.dominant_hz, self.level_dbfs) {
            (Some(hz), Some(db)) => write!(
                f,
                "{} RTP packets, {:.1} s of audio, strongest test tone {hz} Hz at {db:.1} dBFS",
                self.packets,
                self.samples as f64 / 8000.0
            ),
            _ => write!(f, "{} RTP packets, no audio", self.packets),
        }
    }
}

/// A simulated call's settings.
#[derive(Debug, Clone)]
pub struct CallOptions {
    /// The gateway's SIP address.
    pub gateway: SocketAddr,
    /// Caller's number.
    pub from: String,
    /// Called number (a queue's number).
    pub to: String,
    /// Local address to use.
    pub local_ip: IpAddr,
    /// What to play.
    pub sound: Sound,
    /// How long to talk once answered.
    pub talk: Duration,
    /// How long to wait for an answer.
    pub answer_timeout: Duration,
    /// Save what was heard here (8 kHz mono WAV).
    pub record: Option<PathBuf>,
}

/// Why a simulated call did not happen.
#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    /// The gateway refused the call.
    #[error("the gateway answered {reason}")]
    Refused {
        /// SIP status.
        code: u16,
        /// Reason phrase.
        reason: String,
    },
    /// No final answer in time.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

fn other(e: impl std::fmt::Display) -> SimulateError {
    SimulateError::Other(e.to_string())
}

/// Loads the sound as 8 kHz 16-bit samples (one second of tone loops seamlessly).
fn samples(sound: &Sound) -> Result<Vec<i16>, SimulateError> {
    match sound {
        Sound::Tone(hz) => {
            Ok(sine_ulaw(*hz, 0.35, 0, 8000).into_iter().map(ulaw_to_linear).collect())
        }
        Sound::Wav(path) => {
            let mut reader = hound::WavReader::open(path)
                .map_err(|e| other(format!("{}: {e}", path.display())))?;
            let spec = reader.spec();
            if spec.sample_format != hound::SampleFormat::Int || spec.bits_per_sample != 16 {
                return Err(other(format!(
                    "{}: only 16-bit PCM WAV files are supported",
                    path.display()
                )));
            }
            let channels = usize::from(spec.channels.max(1));
            let all: Vec<i16> = reader.samples::<i16>().collect::<Result<_, _>>().map_err(other)?;
            let mono: Vec<i16> = all.chunks(channels).map(|c| c[0]).collect();
            // Resample by nearest sample: good enough to hear and to find a tone.
            let rate = f64::from(spec.sample_rate.max(1));
            let out_len = (mono.len() as f64 * 8000.0 / rate) as usize;
            let resampled: Vec<i16> = (0..out_len)
                .map(|i| mono[((i as f64 * rate / 8000.0) as usize).min(mono.len() - 1)])
                .collect();
            if resampled.is_empty() {
                return Err(other(format!("{}: no audio", path.display())));
            }
            Ok(resampled)
        }
    }
}

/// Plays `samples` (looped) as PCMU to `to` from `socket` every 20 ms until `stop`.
async fn play(socket: Arc<UdpSocket>, to: SocketAddr, samples: Vec<i16>, stop: CancellationToken) {
    let frames: Vec<u8> = samples.iter().map(|&s| linear_to_ulaw(s)).collect();
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    let (mut seq, mut ts, mut at) = (1u16, 0u32, 0usize);
    let ssrc = std::process::id().wrapping_mul(2_654_435_761);
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            _ = tick.tick() => {
                let mut payload = Vec::with_capacity(160);
                for _ in 0..160 {
                    payload.push(frames[at % frames.len()]);
                    at += 1;
                }
                let _ = socket.send_to(&build(seq == 1, 0, seq, ts, ssrc, &payload), to).await;
                seq = seq.wrapping_add(1);
                ts = ts.wrapping_add(160);
            }
        }
    }
}

/// Receives RTP on `socket` until `stop`; returns the decoded audio and the packet count.
async fn listen(socket: Arc<UdpSocket>, stop: CancellationToken) -> (Vec<i16>, u64) {
    let mut audio = Vec::new();
    let mut packets = 0;
    let mut buf = vec![0u8; 2048];
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            r = socket.recv_from(&mut buf) => {
                let Ok((n, _)) = r else { break };
                if let Ok(p) = RtpPacket::parse(&buf[..n]) {
                    let decode: Option<fn(u8) -> i16> = match p.payload_type { 0 => Some(ulaw_to_linear), 8 => Some(alaw_to_linear), _ => None };
                    if let Some(decode) = decode {
                        packets += 1;
                        audio.extend(p.payload(&buf[..n]).iter().map(|&b| decode(b)));
                    }
                }
            }
        }
    }
    (audio, packets)
}

fn describe(audio: &[i16], packets: u64) -> Heard {
    let last = &audio[audio.len().saturating_sub(8000)..];
    if last.is_empty() {
        return Heard { packets, ..Heard::default() };
    }
    let rms = (last.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / last.len() as f64).sqrt();
    let candidates = [440.0, 1000.0, 2000.0];
    let strongest = dominant(last, &candidates).filter(|hz| goertzel_power(last, *hz) > 1000.0);
    Heard {
        packets,
        samples: audio.len(),
        dominant_hz: strongest,
        level_dbfs: Some(20.0 * (rms.max(1.0) / 32768.0).log10()),
    }
}

fn save(path: &Path, audio: &[i16]) -> Result<(), SimulateError> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).map_err(other)?;
    for &s in audio {
        w.write_sample(s).map_err(other)?;
    }
    w.finalize().map_err(other)
}

struct Stack {
    dialogs: Arc<DialogLayer>,
    local: SocketAddr,
    cancel: CancellationToken,
    incoming: Option<rsipstack::transaction::TransactionReceiver>,
}

async fn stack(bind: SocketAddr) -> Result<Stack, SimulateError> {
    let cancel = CancellationToken::new();
    let transport = TransportLayer::new(cancel.clone());
    let udp = UdpConnection::create_connection(bind, None, Some(cancel.child_token()))
        .await
        .map_err(other)?;
    let local = udp.get_addr().get_socketaddr().map_err(other)?;
    transport.add_transport(udp.into());
    let endpoint = EndpointBuilder::new()
        .with_user_agent("Switchboard-simulator")
        .with_transport_layer(transport)
        .with_cancel_token(cancel.clone())
        .build();
    let incoming = endpoint.incoming_transactions().map_err(other)?;
    let dialogs = Arc::new(DialogLayer::new(endpoint.inner.clone()));
    let inner = endpoint.inner.clone();
    tokio::spawn(async move {
        let _endpoint = endpoint;
        let _ = inner.serve().await;
    });
    Ok(Stack { dialogs, local, cancel, incoming: Some(incoming) })
}

/// Places one call into the gateway, talks for `talk`, hangs up, and reports what it heard.
/// `progress` is told each step.
pub async fn place_call(
    options: CallOptions,
    progress: impl Fn(&str),
) -> Result<Heard, SimulateError> {
    let sound = samples(&options.sound)?;
    let mut stack = stack(SocketAddr::new(options.local_ip, 0)).await?;
    let rtp = Arc::new(UdpSocket::bind(SocketAddr::new(options.local_ip, 0)).await.map_err(other)?);
    let rtp_port = rtp.local_addr().map_err(other)?.port();
    let offer = sdp::offer_sdp(Codec::Pcmu, (options.local_ip, rtp_port), 1, 1);
    let me = stack.local;
    // A SIP user part takes no spaces or brackets: "8 (916) 123-45-67" is sent as 89161234567.
    let from: String =
        options.from.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '+').collect();
    let uri = |user: &str, at: SocketAddr| {
        Uri::try_from(format!("sip:{user}@{at}").as_str()).map_err(other)
    };
    let invite = InviteOption {
        caller: uri(&from, me)?,
        callee: uri(&options.to, options.gateway)?,
        contact: uri(&from, me)?,
        content_type: Some("application/sdp".into()),
        offer: Some(offer.into_bytes()),
        destination: Some(rsipstack::transport::SipAddr::from(options.gateway)),
        ..Default::default()
    };
    // Answer in-dialog requests (the BYE if the other side hangs up first).
    let mut incoming = stack.incoming.take();
    let dialogs = Arc::clone(&stack.dialogs);
    tokio::spawn(async move {
        let Some(incoming) = incoming.as_mut() else { return };
        while let Some(mut tx) = incoming.recv().await {
            if let Some(mut d) = dialogs.match_dialog(&tx) {
                tokio::spawn(async move {
                    let _ = d.handle(&mut tx).await;
                });
            } else if tx.original.method != Method::Ack {
                tokio::spawn(async move {
                    let _ = tx.reply(StatusCode::CallTransactionDoesNotExist).await;
                });
            }
        }
    });
    let (state_tx, mut state_rx) = stack.dialogs.new_dialog_state_channel();
    progress(&format!("calling {} at {} from {}", options.to, options.gateway, options.from));
    let (dialog, handle) = stack.dialogs.do_invite_async(invite, state_tx).map_err(other)?;
    let ended = CancellationToken::new();
    let watch = ended.clone();
    let report = tokio::spawn(async move {
        while let Some(state) = state_rx.recv().await {
            match state {
                DialogState::Early(_, resp) => println!("{}", resp.status_code),
                DialogState::Terminated(..) => {
                    watch.cancel();
                    break;
                }
                _ => {}
            }
        }
    });
    let result = match tokio::time::timeout(options.answer_timeout, handle).await {
        Err(_) => {
            let _ = dialog.cancel().await;
            stack.cancel.cancel();
            return Err(SimulateError::Timeout(options.answer_timeout));
        }
        Ok(r) => r.map_err(other)?.map_err(other)?,
    };
    let resp = match result.1 {
        Some(r) if r.status_code.kind() == StatusCodeKind::Successful => r,
        Some(r) => {
            stack.cancel.cancel();
            let reason = r.status_code.to_string();
            let reason = if reason.starts_with(&r.status_code.code().to_string()) {
                reason
            } else {
                format!("{} {reason}", r.status_code.code())
            };
            return Err(SimulateError::Refused { code: r.status_code.code(), reason });
        }
        None => return Err(other("no final response")),
    };
    let remote = std::str::from_utf8(&resp.body)
        .ok()
        .and_then(|b| SessionDescription::parse(b).ok())
        .and_then(|sd| sdp::read_answer(&sd).ok())
        .and_then(|a| a.remote);
    let Some((ip, port)) = remote else { return Err(other("the answer has no usable SDP")) };
    progress(&format!("answered: talking for {} s", options.talk.as_secs()));
    let stop = CancellationToken::new();
    let player =
        tokio::spawn(play(Arc::clone(&rtp), SocketAddr::new(ip, port), sound, stop.clone()));
    let listener = tokio::spawn(listen(Arc::clone(&rtp), stop.clone()));
    let hung_up_by_peer = tokio::select! {
        () = tokio::time::sleep(options.talk) => false,
        () = ended.cancelled() => true,
    };
    stop.cancel();
    let _ = player.await;
    let (audio, packets) = listener.await.map_err(other)?;
    if hung_up_by_peer {
        progress("the other side hung up");
    } else {
        let _ = dialog.bye().await;
        progress("hung up");
    }
    report.abort();
    stack.cancel.cancel();
    if let Some(path) = &options.record {
        save(path, &audio)?;
    }
    Ok(describe(&audio, packets))
}

/// A desk phone at `listen` that answers every call after `ring`, plays `sound` and reports
/// what it heard when each call ends. Runs until `stop`.
pub async fn answer_calls(
    listen_on: SocketAddr,
    sound: Sound,
    ring: Duration,
    stop: CancellationToken,
    report: impl Fn(&str) + Send + Sync + 'static,
) -> Result<SocketAddr, SimulateError> {
    let sound = samples(&sound)?;
    let mut stack = stack(listen_on).await?;
    let local = stack.local;
    let mut incoming = stack.incoming.take().ok_or_else(|| other("no transaction receiver"))?;
    let dialogs = Arc::clone(&stack.dialogs);
    let report = Arc::new(report);
    let cancel = stack.cancel.clone();
    tokio::spawn(async move {
        loop {
            let mut tx = tokio::select! {
                () = stop.cancelled() => break,
                t = incoming.recv() => match t { Some(t) => t, None => break },
            };
            if let Some(mut d) = dialogs.match_dialog(&tx) {
                tokio::spawn(async move {
                    let _ = d.handle(&mut tx).await;
                });
                continue;
            }
            match tx.original.method {
                Method::Invite => {}
                Method::Ack => continue,
                _ => {
                    tokio::spawn(async move {
                        let _ = tx.reply(StatusCode::OK).await;
                    });
                    continue;
                }
            }
            let offer = std::str::from_utf8(&tx.original.body)
                .ok()
                .and_then(|b| SessionDescription::parse(b).ok())
                .and_then(|sd| sdp::negotiate(&sd).ok());
            let Some(answer) = offer else {
                tokio::spawn(async move {
                    let _ = tx.reply(StatusCode::NotAcceptableHere).await;
                });
                continue;
            };
            let (state_tx, mut state_rx) = dialogs.new_dialog_state_channel();
            let Ok(mut dialog) = dialogs.get_or_create_server_invite(&tx, state_tx, None, None)
            else {
                continue;
            };
            let (samples, report, local_ip) = (sound.clone(), Arc::clone(&report), local.ip());
            let from = tx
                .original
                .from_header()
                .ok()
                .and_then(|f| f.uri().ok())
                .and_then(|u| u.auth.map(|a| a.user))
                .unwrap_or_default();
            let answering = dialog.clone();
            tokio::spawn(async move {
                let _ = dialog.handle(&mut tx).await;
            });
            tokio::spawn(async move {
                report(&format!("ringing: call from {from}"));
                let _ = answering.ringing(None, None);
                tokio::time::sleep(ring).await;
                let Ok(rtp) = UdpSocket::bind(SocketAddr::new(local_ip, 0)).await else { return };
                let rtp = Arc::new(rtp);
                let port = rtp.local_addr().map_or(0, |a| a.port());
                let body = answer.to_sdp((local_ip, port), 1, 1);
                if answering
                    .accept(
                        Some(vec![Header::ContentType("application/sdp".into())]),
                        Some(body.into_bytes()),
                    )
                    .is_err()
                {
                    return;
                }
                report("answered");
                let stop = CancellationToken::new();
                let player = answer.remote.map(|(ip, p)| {
                    tokio::spawn(play(
                        Arc::clone(&rtp),
                        SocketAddr::new(ip, p),
                        samples,
                        stop.clone(),
                    ))
                });
                let listener = tokio::spawn(listen(Arc::clone(&rtp), stop.clone()));
                let started = Instant::now();
                while let Some(state) = state_rx.recv().await {
                    if matches!(state, DialogState::Terminated(..)) {
                        break;
                    }
                }
                stop.cancel();
                if let Some(p) = player {
                    let _ = p.await;
                }
                if let Ok((audio, packets)) = listener.await {
                    report(&format!(
                        "call ended after {:.1} s; heard {}",
                        started.elapsed().as_secs_f64(),
                        describe(&audio, packets)
                    ));
                }
            });
        }
        cancel.cancel();
    });
    Ok(local)
}
