//! An agent peer against a client peer over loopback: real ICE, DTLS and SRTP.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use switchboard_media::g711::ulaw_to_linear;
use switchboard_media::rtp::{RtpPacket, build};
use switchboard_media::tone::{dominant, sine_ulaw};
use switchboard_webrtc::client::ClientOffer;
use switchboard_webrtc::{AgentPeer, PeerEvent, WebrtcConfig};
use tokio::sync::mpsc;

fn config() -> WebrtcConfig {
    WebrtcConfig { ip: IpAddr::V4(Ipv4Addr::LOCALHOST), gather_timeout: Duration::from_secs(2) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_attached_to_the_agent_peer_flows_both_ways() {
    let offer = ClientOffer::new(&config()).await.expect("client offer");
    let (reports_tx, mut reports) = mpsc::unbounded_channel();
    let (peer, answer) =
        AgentPeer::answer(&config(), offer.sdp.clone(), reports_tx).await.expect("agent answers");
    assert_eq!(peer.negotiated().audio_pt, 0, "PCMU agreed");
    assert!(answer.contains("a=candidate"), "the answer carries our candidates");
    let client =
        offer.connect(answer, 2000.0, Duration::from_secs(10)).await.expect("client connects");
    let report = tokio::time::timeout(Duration::from_secs(10), reports.recv())
        .await
        .expect("a report")
        .expect("open");
    assert_eq!(report.event, PeerEvent::Connected);
    assert_eq!(report.peer_id, peer.id());

    // Nothing is attached: the client's packets are dropped, nothing reaches it.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(client.heard.packets.load(Ordering::Relaxed), 0);

    let (mut port, media) = peer.attach();
    assert!(media.send);
    // Relay -> browser: a 1 kHz tone at 20 ms pace.
    let to_peer = port.to_peer.clone();
    let feeder = tokio::spawn(async move {
        for i in 0..100u16 {
            let packet = build(
                i == 0,
                0,
                1000 + i,
                u32::from(i) * 160,
                0xABCD,
                &sine_ulaw(1000.0, 0.5, u64::from(i) * 160, 160),
            );
            if to_peer.send(packet).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    // Browser -> relay: the client's 2 kHz tone.
    let mut samples = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while samples.len() < 1600 && Instant::now() < deadline {
        if let Ok(Some(datagram)) =
            tokio::time::timeout(Duration::from_secs(1), port.from_peer.recv()).await
        {
            let p = RtpPacket::parse(&datagram).expect("rtp");
            if p.payload_type == 0 {
                samples.extend(p.payload(&datagram).iter().map(|&b| ulaw_to_linear(b)));
            }
        }
    }
    assert!(samples.len() >= 1600, "the browser side's audio reached the relay");
    assert_eq!(dominant(&samples, &[440.0, 1000.0, 2000.0]), Some(2000.0));
    feeder.await.expect("feeder");
    let heard: Vec<i16> = client.heard.recent.lock().expect("lock").clone();
    assert!(heard.len() >= 1600, "the client heard the relay's packets ({} samples)", heard.len());
    assert_eq!(dominant(&heard, &[440.0, 1000.0, 2000.0]), Some(1000.0));

    // Detached: the browser's packets stop reaching the relay side.
    drop(port);
    client.close().await;
    peer.close().await;
}
