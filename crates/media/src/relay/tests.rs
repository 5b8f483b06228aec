use std::net::Ipv4Addr;
use std::sync::Mutex as StdMutex;

use super::*;
use crate::g711::{alaw_to_linear, linear_to_ulaw};
use crate::rtp::build;
use crate::tone::{dominant, sine_ulaw};

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

async fn peer() -> (UdpSocket, SocketAddr) {
    let s = UdpSocket::bind((LOOPBACK, 0)).await.unwrap();
    let a = s.local_addr().unwrap();
    (s, a)
}

async fn recv(s: &UdpSocket) -> Vec<u8> {
    let mut buf = vec![0u8; 2048];
    let (n, _) = tokio::time::timeout(Duration::from_secs(2), s.recv_from(&mut buf))
        .await
        .expect("a packet within 2 s")
        .unwrap();
    buf.truncate(n);
    buf
}

fn collecting() -> (EventSink, Arc<StdMutex<Vec<MediaEvent>>>) {
    let seen = Arc::new(StdMutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    (Box::new(move |e| sink.lock().unwrap().push(e)), seen)
}

#[test]
fn ports_are_even_and_come_back() {
    let pool = PortPool::new(LOOPBACK, 41_000, 41_005);
    assert_eq!(pool.available(), 3);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let a = pool.bind().unwrap();
        assert_eq!(a.port() % 2, 0);
        assert_eq!(pool.available(), 2);
        drop(a);
        assert_eq!(pool.available(), 3);
        let held: Vec<RtpSocket> = (0..3).map(|_| pool.bind().unwrap()).collect();
        assert_eq!(pool.bind().unwrap_err().kind(), io::ErrorKind::AddrInUse);
        drop(held);
    });
}

#[tokio::test]
async fn relays_both_ways_transcoding_and_rewriting() {
    let pool = PortPool::new(LOOPBACK, 41_100, 41_199);
    let (caller, _) = peer().await;
    let (agent, agent_addr) = peer().await;
    let a = pool.bind().unwrap();
    let b = pool.bind().unwrap();
    let (a_local, b_local) = (a.local(), b.local());
    let (sink, _) = collecting();
    // The caller speaks PCMU, the agent PCMA; the SDP addresses are right for the agent but
    // the caller's packets come from elsewhere (NAT): the relay must answer where they come from.
    let _bridge = bridge(
        (a, LegMedia::new(PT_PCMU, Some(101), Some("127.0.0.1:9".parse().unwrap()))),
        (b, LegMedia::new(PT_PCMA, Some(96), Some(agent_addr))),
        BridgeOptions { dead_peer: Duration::ZERO },
        sink,
    );
    let tone = sine_ulaw(1000.0, 0.5, 0, 160);
    for i in 0..3u16 {
        caller
            .send_to(
                &build(i == 0, PT_PCMU, 500 + i, 1000 + u32::from(i) * 160, 0xCAFE, &tone),
                a_local,
            )
            .await
            .unwrap();
    }
    let mut seqs = Vec::new();
    for _ in 0..3 {
        let pkt = recv(&agent).await;
        let p = RtpPacket::parse(&pkt).unwrap();
        assert_eq!(p.payload_type, PT_PCMA);
        assert_ne!(p.ssrc, 0xCAFE, "the agent sees the relay's own SSRC");
        let samples: Vec<i16> = p.payload(&pkt).iter().map(|&b| alaw_to_linear(b)).collect();
        assert_eq!(dominant(&samples, &[440.0, 1000.0, 2000.0]), Some(1000.0));
        seqs.push(p.sequence);
    }
    assert_eq!(seqs[1], seqs[0].wrapping_add(1));
    assert_eq!(seqs[2], seqs[0].wrapping_add(2));
    // The agent answers; it reaches the caller at the address its packets came from.
    let back: Vec<u8> = sine_ulaw(2000.0, 0.5, 0, 160)
        .iter()
        .map(|&u| crate::g711::linear_to_alaw(crate::g711::ulaw_to_linear(u)))
        .collect();
    agent.send_to(&build(false, PT_PCMA, 1, 160, 0xBEEF, &back), b_local).await.unwrap();
    let pkt = recv(&caller).await;
    let p = RtpPacket::parse(&pkt).unwrap();
    assert_eq!(p.payload_type, PT_PCMU);
    let samples: Vec<i16> =
        p.payload(&pkt).iter().map(|&b| crate::g711::ulaw_to_linear(b)).collect();
    assert_eq!(dominant(&samples, &[440.0, 1000.0, 2000.0]), Some(2000.0));
    let _ = linear_to_ulaw(0);
}

#[tokio::test]
async fn dtmf_is_relayed_under_the_other_payload_type_and_reported_once() {
    let pool = PortPool::new(LOOPBACK, 41_200, 41_299);
    let (caller, _) = peer().await;
    let (agent, agent_addr) = peer().await;
    let a = pool.bind().unwrap();
    let a_local = a.local();
    let b = pool.bind().unwrap();
    let (sink, seen) = collecting();
    let _bridge = bridge(
        (a, LegMedia::new(PT_PCMU, Some(101), None)),
        (b, LegMedia::new(PT_PCMU, Some(96), Some(agent_addr))),
        BridgeOptions { dead_peer: Duration::ZERO },
        sink,
    );
    for (i, end) in [false, true, true, true].into_iter().enumerate() {
        let ev = TelephoneEvent {
            event: 5,
            end,
            volume: 10,
            duration: 160 * (u16::try_from(i).unwrap() + 1),
        };
        caller
            .send_to(
                &build(i == 0, 101, 10 + u16::try_from(i).unwrap(), 8000, 1, &ev.to_bytes()),
                a_local,
            )
            .await
            .unwrap();
        let pkt = recv(&agent).await;
        assert_eq!(RtpPacket::parse(&pkt).unwrap().payload_type, 96);
    }
    assert_eq!(*seen.lock().unwrap(), vec![MediaEvent::Dtmf { side: Side::A, digit: '5' }]);
}

/// `ms` of a DTMF key's two tones as μ-law.
fn key_tones(row: f64, column: f64, ms: usize) -> Vec<u8> {
    (0..ms * 8)
        .map(|i| {
            let t = i as f64 / 8000.0;
            let v = ((std::f64::consts::TAU * row * t).sin()
                + (std::f64::consts::TAU * column * t).sin())
                * 8000.0;
            linear_to_ulaw(v as i16)
        })
        .collect()
}

#[tokio::test]
async fn keys_in_the_audio_of_a_leg_without_telephone_events_are_reported() {
    let pool = PortPool::new(LOOPBACK, 41_300, 41_399);
    let (caller, _) = peer().await;
    let (agent, agent_addr) = peer().await;
    let a = pool.bind().unwrap();
    let a_local = a.local();
    let b = pool.bind().unwrap();
    let (sink, seen) = collecting();
    // The caller negotiated no telephone-event: their '#' (941 + 1477 Hz) comes as audio.
    let _bridge = bridge(
        (a, LegMedia::new(PT_PCMU, None, None)),
        (b, LegMedia::new(PT_PCMU, Some(96), Some(agent_addr))),
        BridgeOptions { dead_peer: Duration::ZERO },
        sink,
    );
    let audio = [key_tones(941.0, 1477.0, 120), vec![0xFF; 160 * 3]].concat();
    for (i, frame) in audio.chunks(160).enumerate() {
        let seq = u16::try_from(i).unwrap();
        caller
            .send_to(&build(i == 0, PT_PCMU, seq, u32::from(seq) * 160, 7, frame), a_local)
            .await
            .unwrap();
        let _ = recv(&agent).await;
    }
    assert_eq!(*seen.lock().unwrap(), vec![MediaEvent::Dtmf { side: Side::A, digit: '#' }]);
}

#[tokio::test]
async fn silence_after_speech_is_reported_once_when_watched() {
    let pool = PortPool::new(LOOPBACK, 41_400, 41_499);
    let (caller, _) = peer().await;
    let (agent, agent_addr) = peer().await;
    let a = pool.bind().unwrap();
    let a_local = a.local();
    let b = pool.bind().unwrap();
    let (sink, seen) = collecting();
    let handle = bridge(
        (a, LegMedia::new(PT_PCMU, Some(101), None)),
        (b, LegMedia::new(PT_PCMU, Some(96), Some(agent_addr))),
        BridgeOptions { dead_peer: Duration::ZERO },
        sink,
    );
    handle.watch_silence(Side::A, Some(Duration::from_millis(300)));
    let voice = sine_ulaw(440.0, 0.3, 0, 160);
    let quiet = vec![0xFFu8; 160];
    // Speech for 200 ms, then silent frames: reported after 300 ms of them, once.
    for i in 0..40u16 {
        let frame = if i < 10 { &voice } else { &quiet };
        caller
            .send_to(&build(i == 0, PT_PCMU, i, u32::from(i) * 160, 9, frame), a_local)
            .await
            .unwrap();
        let _ = recv(&agent).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        let silences =
            seen.lock().unwrap().iter().filter(|e| matches!(e, MediaEvent::Silence { .. })).count();
        if i < 13 {
            assert_eq!(silences, 0, "frame {i}: speech ended only a few frames ago");
        }
    }
    let silences = seen.lock().unwrap().clone();
    assert_eq!(silences, vec![MediaEvent::Silence { side: Side::A }]);
}

#[tokio::test]
async fn garbage_is_dropped_and_a_silent_peer_is_reported() {
    let pool = PortPool::new(LOOPBACK, 41_300, 41_399);
    let (caller, _) = peer().await;
    let (agent, agent_addr) = peer().await;
    let a = pool.bind().unwrap();
    let a_local = a.local();
    let b = pool.bind().unwrap();
    let (sink, seen) = collecting();
    let handle = bridge(
        (a, LegMedia::new(PT_PCMU, None, None)),
        (b, LegMedia { expect_packets: false, ..LegMedia::new(PT_PCMU, None, Some(agent_addr)) }),
        BridgeOptions { dead_peer: Duration::from_millis(300) },
        sink,
    );
    caller.send_to(b"not rtp at all", a_local).await.unwrap();
    caller.send_to(&build(false, PT_PCMU, 1, 1, 1, &[0xFF; 160]), a_local).await.unwrap();
    // The garbage was not relayed; the good packet was.
    let pkt = recv(&agent).await;
    assert_eq!(pkt.len(), 172);
    // The caller then goes silent: reported once, within bounded time. The agent, not
    // expected to send, is never reported.
    let deadline = Instant::now() + Duration::from_secs(3);
    while seen.lock().unwrap().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(*seen.lock().unwrap(), vec![MediaEvent::PeerDead { side: Side::A }]);
    drop(handle);
}

#[tokio::test]
async fn a_packet_leg_relays_over_channels_both_ways() {
    let pool = PortPool::new(LOOPBACK, 41_400, 41_499);
    let (caller, caller_addr) = peer().await;
    let a = pool.bind().unwrap();
    let a_local = a.local();
    let (to_relay, from_peer) = tokio::sync::mpsc::channel(16);
    let (to_peer, mut from_relay) = tokio::sync::mpsc::channel(16);
    let (sink, _) = collecting();
    let _bridge = bridge(
        (a, LegMedia::new(PT_PCMU, None, Some(caller_addr))),
        (PacketPort { from_peer, to_peer }, LegMedia::packets(PT_PCMU, Some(126))),
        BridgeOptions { dead_peer: Duration::ZERO },
        sink,
    );
    // Caller -> browser: the packet arrives on the channel, rewritten.
    caller
        .send_to(&build(true, PT_PCMU, 7, 800, 0xCAFE, &sine_ulaw(1000.0, 0.5, 0, 160)), a_local)
        .await
        .unwrap();
    let pkt =
        tokio::time::timeout(Duration::from_secs(2), from_relay.recv()).await.unwrap().unwrap();
    let p = RtpPacket::parse(&pkt).unwrap();
    assert_eq!(p.payload_type, PT_PCMU);
    assert_ne!(p.ssrc, 0xCAFE);
    // Browser -> caller: a packet put on the channel reaches the caller's socket.
    to_relay
        .send(build(false, PT_PCMU, 1, 160, 0xBEEF, &sine_ulaw(2000.0, 0.5, 0, 160)))
        .await
        .unwrap();
    let pkt = recv(&caller).await;
    let p = RtpPacket::parse(&pkt).unwrap();
    let samples: Vec<i16> =
        p.payload(&pkt).iter().map(|&b| crate::g711::ulaw_to_linear(b)).collect();
    assert_eq!(dominant(&samples, &[440.0, 1000.0, 2000.0]), Some(2000.0));
}

#[tokio::test]
async fn a_leg_can_be_replaced_and_the_other_side_hears_one_stream() {
    let pool = PortPool::new(LOOPBACK, 41_500, 41_599);
    let (caller, caller_addr) = peer().await;
    let a = pool.bind().unwrap();
    let (first_tx, first_rx) = tokio::sync::mpsc::channel(16);
    let (first_out, _first_in) = tokio::sync::mpsc::channel(16);
    let (sink, _) = collecting();
    let bridge = bridge(
        (a, LegMedia::new(PT_PCMU, None, Some(caller_addr))),
        (PacketPort { from_peer: first_rx, to_peer: first_out }, LegMedia::packets(PT_PCMU, None)),
        BridgeOptions { dead_peer: Duration::ZERO },
        sink,
    );
    first_tx.send(build(false, PT_PCMU, 100, 16_000, 0x1111, &[0xFF; 160])).await.unwrap();
    let before = RtpPacket::parse(&recv(&caller).await).unwrap();
    // A second agent takes over: their packets reach the caller under the same SSRC, the
    // sequence simply continuing.
    let (second_tx, second_rx) = tokio::sync::mpsc::channel(16);
    let (second_out, _second_in) = tokio::sync::mpsc::channel(16);
    bridge.replace(
        Side::B,
        PacketPort { from_peer: second_rx, to_peer: second_out },
        LegMedia::packets(PT_PCMU, None),
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    second_tx.send(build(false, PT_PCMU, 7, 555, 0x2222, &[0xFF; 160])).await.unwrap();
    let after = RtpPacket::parse(&recv(&caller).await).unwrap();
    assert_eq!(after.ssrc, before.ssrc);
    assert_eq!(after.sequence, before.sequence.wrapping_add(1));
    assert!(
        first_tx.send(build(false, PT_PCMU, 101, 16_160, 0x1111, &[0xFF; 160])).await.is_err(),
        "the first agent's port is gone"
    );
}

#[tokio::test]
async fn a_waiting_caller_hears_ringback_then_the_agent_in_one_stream() {
    let pool = PortPool::new(LOOPBACK, 41_600, 41_699);
    let (caller, caller_addr) = peer().await;
    let a = pool.bind().unwrap();
    let (sink, _) = collecting();
    // The caller speaks A-law: the source's μ-law frames are converted like a peer's.
    let nobody =
        LegMedia { send: false, expect_packets: false, ..LegMedia::packets(PT_PCMU, None) };
    let bridge = bridge(
        (a, LegMedia::new(PT_PCMA, None, Some(caller_addr))),
        (Source::new(Sound::ringback()), nobody),
        BridgeOptions { dead_peer: Duration::from_millis(200) },
        sink,
    );
    let mut ringback = Vec::new();
    let mut last = None;
    for _ in 0..25 {
        let packet = recv(&caller).await;
        let p = RtpPacket::parse(&packet).unwrap();
        assert_eq!(p.payload_type, PT_PCMA);
        ringback.extend(p.payload(&packet).iter().map(|b| alaw_to_linear(*b)));
        last = Some(p);
    }
    assert_eq!(dominant(&ringback, &[425.0, 1000.0, 2000.0]), Some(425.0));
    let last = last.unwrap();
    // The agent answers: their audio follows the ringback with the next sequence number.
    let (agent_tx, agent_rx) = tokio::sync::mpsc::channel(16);
    let (agent_out, _agent_in) = tokio::sync::mpsc::channel(16);
    bridge.replace(
        Side::B,
        PacketPort { from_peer: agent_rx, to_peer: agent_out },
        LegMedia::packets(PT_PCMU, None),
    );
    let voice = sine_ulaw(2000.0, 0.5, 0, 160);
    agent_tx.send(build(true, PT_PCMU, 9, 90, 0x3333, &voice)).await.unwrap();
    // Ringback packets already on their way may come first; then only the agent.
    let agent = loop {
        let packet = recv(&caller).await;
        let p = RtpPacket::parse(&packet).unwrap();
        let samples: Vec<i16> = p.payload(&packet).iter().map(|b| alaw_to_linear(*b)).collect();
        if dominant(&samples, &[425.0, 2000.0]) == Some(2000.0) {
            break p;
        }
        assert!(p.sequence.wrapping_sub(last.sequence) < 5, "only a few ringback frames more");
    };
    assert_eq!(agent.ssrc, last.ssrc, "one stream for the caller");
    assert!(agent.sequence.wrapping_sub(last.sequence) < 6, "no gap in the numbering");
}

#[tokio::test]
async fn a_caller_on_hold_hears_music_instead_of_the_agent_then_the_agent_again() {
    let pool = PortPool::new(LOOPBACK, 41_700, 41_799);
    let (caller, caller_addr) = peer().await;
    let a = pool.bind().unwrap();
    let (agent_tx, agent_rx) = tokio::sync::mpsc::channel(64);
    let (agent_out, _agent_in) = tokio::sync::mpsc::channel(64);
    let (sink, _) = collecting();
    let bridge = bridge(
        (a, LegMedia::new(PT_PCMU, None, Some(caller_addr))),
        (PacketPort { from_peer: agent_rx, to_peer: agent_out }, LegMedia::packets(PT_PCMU, None)),
        BridgeOptions { dead_peer: Duration::ZERO },
        sink,
    );
    let voice = sine_ulaw(2000.0, 0.5, 0, 160);
    let mut agent_seq = 0u16;
    let mut speak = async |n: usize| {
        for _ in 0..n {
            agent_seq += 1;
            let ts = u32::from(agent_seq) * 160;
            agent_tx.send(build(false, PT_PCMU, agent_seq, ts, 0x4444, &voice)).await.unwrap();
        }
    };
    let heard = |packet: &[u8]| {
        let p = RtpPacket::parse(packet).unwrap();
        let samples: Vec<i16> =
            p.payload(packet).iter().map(|b| crate::g711::ulaw_to_linear(*b)).collect();
        (p, samples)
    };
    speak(1).await;
    let (before, _) = heard(&recv(&caller).await);
    // On hold: the caller hears the music (notes between 220 and 524 Hz), never the agent.
    bridge.play(Side::A, Some(Sound::music()));
    tokio::time::sleep(Duration::from_millis(30)).await;
    speak(3).await;
    let mut music = Vec::new();
    let mut last = before;
    for _ in 0..25 {
        let (p, samples) = heard(&recv(&caller).await);
        assert_eq!(p.ssrc, before.ssrc, "the caller's one stream");
        music.extend(samples);
        last = p;
    }
    assert_ne!(dominant(&music, &[261.63, 2000.0]), Some(2000.0), "the agent is not heard");
    assert!(crate::tone::goertzel_power(&music, 261.63) > 1000.0, "the music is");
    // Resumed: the agent again, on the same stream.
    bridge.play(Side::A, None);
    tokio::time::sleep(Duration::from_millis(30)).await;
    speak(1).await;
    let agent = loop {
        let (p, samples) = heard(&recv(&caller).await);
        if dominant(&samples, &[261.63, 329.63, 392.0, 2000.0]) == Some(2000.0) {
            break p;
        }
    };
    assert_eq!(agent.ssrc, before.ssrc);
    assert!(agent.sequence.wrapping_sub(last.sequence) < 5, "no gap in the numbering");
}

#[tokio::test]
async fn a_recorded_bridge_puts_each_leg_on_its_own_channel() {
    let pool = PortPool::new(LOOPBACK, 41_600, 41_699);
    let (caller, caller_addr) = peer().await;
    let (agent, agent_addr) = peer().await;
    let a = pool.bind().unwrap();
    let b = pool.bind().unwrap();
    let (a_local, b_local) = (a.local(), b.local());
    let (sink, _) = collecting();
    // The caller speaks PCMU at 440 Hz, the agent PCMA at 1 kHz.
    let bridge = bridge(
        (a, LegMedia::new(PT_PCMU, None, Some(caller_addr))),
        (b, LegMedia::new(PT_PCMA, None, Some(agent_addr))),
        BridgeOptions { dead_peer: Duration::ZERO },
        sink,
    );
    let dir = std::env::temp_dir().join(format!("switchboard-relay-rec-{}", std::process::id()));
    let recorder =
        crate::recording::Recorder::start(crate::recording::RecorderConfig::default()).unwrap();
    let rec = recorder.record(dir.join("call.wav"));
    bridge.record(Some(rec.tap()));
    tokio::time::sleep(Duration::from_millis(20)).await;
    let mut next = tokio::time::interval(Duration::from_millis(20));
    for i in 0..50u16 {
        next.tick().await;
        let start = u64::from(i) * 160;
        let caller_tone = sine_ulaw(440.0, 0.5, start, 160);
        let agent_tone: Vec<u8> = sine_ulaw(1000.0, 0.5, start, 160)
            .into_iter()
            .map(|b| crate::g711::linear_to_alaw(crate::g711::ulaw_to_linear(b)))
            .collect();
        caller
            .send_to(&build(false, PT_PCMU, i, u32::from(i) * 160, 1, &caller_tone), a_local)
            .await
            .unwrap();
        agent
            .send_to(&build(false, PT_PCMA, i, u32::from(i) * 160, 2, &agent_tone), b_local)
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let done = rec.finish().await.unwrap();
    assert_eq!((done.dropped_frames, done.error.clone()), (0, None));
    let pairs: Vec<i16> =
        hound::WavReader::open(&done.path).unwrap().samples::<i16>().map(Result::unwrap).collect();
    let left: Vec<i16> = pairs.chunks(2).map(|p| p[0]).collect();
    let right: Vec<i16> = pairs.chunks(2).map(|p| p[1]).collect();
    assert!(left.len() >= 7000, "{} samples", left.len());
    assert_eq!(dominant(&left[800..6400], &[440.0, 1000.0]), Some(440.0));
    assert_eq!(dominant(&right[800..6400], &[440.0, 1000.0]), Some(1000.0));
    let _ = std::fs::remove_dir_all(dir);
}

/// A supervisor on a live bridge (a packet leg, as the WebRTC edge gives): they hear both
/// sides mixed, whisper to the agent only, barge in to both, and come off again.
#[tokio::test]
async fn a_supervisor_listens_whispers_and_barges() {
    let pool = PortPool::new(LOOPBACK, 41_400, 41_499);
    let (caller, caller_addr) = peer().await;
    let (agent, agent_addr) = peer().await;
    let a = pool.bind().unwrap();
    let b = pool.bind().unwrap();
    let (a_local, b_local) = (a.local(), b.local());
    let (sink, _) = collecting();
    let handle = bridge(
        (a, LegMedia::new(PT_PCMU, None, Some(caller_addr))),
        (b, LegMedia::new(PT_PCMU, None, Some(agent_addr))),
        BridgeOptions { dead_peer: Duration::ZERO },
        sink,
    );
    let (to_relay, from_peer) = tokio::sync::mpsc::channel(64);
    let (to_peer, mut from_relay) = tokio::sync::mpsc::channel(64);
    handle.monitor(Some(Monitor {
        port: PacketPort { from_peer, to_peer },
        media: LegMedia::packets(PT_PCMU, None),
        mode: MonitorMode::Listen,
    }));
    let ulaw = |pkt: &[u8]| -> Vec<i16> {
        let p = RtpPacket::parse(pkt).unwrap();
        p.payload(pkt).iter().map(|&b| crate::g711::ulaw_to_linear(b)).collect()
    };
    // 30 frames each way and from the supervisor; what each side and the supervisor got.
    let mut round = async |offset: u32| -> (Vec<i16>, Vec<i16>, Vec<i16>) {
        let (mut to_caller, mut to_agent, mut to_sup) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..30u32 {
            let at = u64::from(offset + i) * 160;
            let seq = u16::try_from((offset + i) % 60_000).unwrap();
            caller
                .send_to(
                    &build(
                        false,
                        PT_PCMU,
                        seq,
                        160 * (offset + i),
                        1,
                        &sine_ulaw(1000.0, 0.25, at, 160),
                    ),
                    a_local,
                )
                .await
                .unwrap();
            agent
                .send_to(
                    &build(
                        false,
                        PT_PCMU,
                        seq,
                        160 * (offset + i),
                        2,
                        &sine_ulaw(2000.0, 0.25, at, 160),
                    ),
                    b_local,
                )
                .await
                .unwrap();
            // Refused once the supervisor is off the call.
            let _ = to_relay.try_send(build(
                false,
                PT_PCMU,
                seq,
                160 * (offset + i),
                3,
                &sine_ulaw(440.0, 0.25, at, 160),
            ));
            tokio::time::sleep(Duration::from_millis(20)).await;
            to_agent.extend(ulaw(&recv(&agent).await));
            to_caller.extend(ulaw(&recv(&caller).await));
            while let Ok(pkt) = from_relay.try_recv() {
                to_sup.extend(ulaw(&pkt));
            }
        }
        (to_caller, to_agent, to_sup)
    };
    let power = |s: &[i16], hz: f64| crate::tone::goertzel_power(&s[s.len() / 2..], hz);
    let hears = |s: &[i16], hz: f64, other: f64| power(s, hz) > 0.05 * power(s, other);

    let (to_caller, to_agent, to_sup) = round(0).await;
    assert!(
        to_sup.len() >= 160 * 20,
        "the supervisor gets a frame every 20 ms: {} samples",
        to_sup.len()
    );
    assert!(
        hears(&to_sup, 1000.0, 2000.0) && hears(&to_sup, 2000.0, 1000.0),
        "the supervisor hears both sides"
    );
    assert!(!hears(&to_sup, 440.0, 1000.0), "but not themselves");
    assert!(
        !hears(&to_agent, 440.0, 1000.0) && !hears(&to_caller, 440.0, 2000.0),
        "listening is silent to both sides"
    );

    handle.monitor_mode(MonitorMode::Whisper);
    let (to_caller, to_agent, _) = round(30).await;
    assert!(hears(&to_agent, 440.0, 1000.0), "the agent hears the whisper");
    assert!(!hears(&to_caller, 440.0, 2000.0), "the caller does not");

    handle.monitor_mode(MonitorMode::Barge);
    let (to_caller, to_agent, _) = round(60).await;
    assert!(
        hears(&to_agent, 440.0, 1000.0) && hears(&to_caller, 440.0, 2000.0),
        "barging: both sides hear the supervisor"
    );

    handle.monitor(None);
    let (to_caller, _, _) = round(90).await;
    assert!(!hears(&to_caller, 440.0, 2000.0), "off the call: nobody hears the supervisor");
    let drained = tokio::time::timeout(Duration::from_secs(2), async {
        while from_relay.recv().await.is_some() {}
    })
    .await;
    assert!(drained.is_ok(), "the supervisor's stream ends with the monitor");
}
