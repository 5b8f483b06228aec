//! What reached a port, by frequency: a packet capture (dumpcap) of the loopback interface,
//! its PCMU decoded, a tone checked with Goertzel; and recordings read back.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use switchboard_media::g711::ulaw_to_linear;
use switchboard_media::rtp::RtpPacket;
use switchboard_media::tone::goertzel_power;

/// A packet capture on the loopback interface (dumpcap, from the tshark package).
pub struct Capture {
    child: Option<Child>,
    file: PathBuf,
}

impl Capture {
    /// Starts capturing UDP to or from any of `ports`; returns once dumpcap is capturing.
    pub async fn start(dir: &Path, ports: &[u16]) -> Capture {
        let filter = ports.iter().map(|p| format!("udp port {p}")).collect::<Vec<_>>().join(" or ");
        Capture::start_filter(dir, &filter).await
    }

    /// Starts capturing what a capture filter (`udp src portrange 20000-29999`) lets through.
    pub async fn start_filter(dir: &Path, filter: &str) -> Capture {
        let file = dir.join("capture.pcap");
        let child = Command::new("dumpcap")
            .args(["-q", "-i", "lo", "-P", "-B", "64", "-f", filter, "-w"])
            .arg(&file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dumpcap runs (apt-get install tshark)");
        // The file's pcap header is written once dumpcap has opened the interface.
        let header = || async { std::fs::metadata(&file).is_ok_and(|m| m.len() >= 24) };
        crate::wait::until(Duration::from_secs(10), "dumpcap capturing", header).await;
        // A deliberate margin: the filter is compiled and attached just after the header.
        tokio::time::sleep(Duration::from_millis(300)).await;
        Capture { child: Some(child), file }
    }

    /// Stops the capture (SIGINT, so the file is complete) and returns the UDP datagrams.
    pub async fn stop(mut self) -> Vec<Datagram> {
        if let Some(mut child) = self.child.take() {
            // A deliberate margin: the last datagrams a peer just saw (the BYE that ended its
            // scenario) may still be in the capture's buffer; dumpcap stops reading at SIGINT.
            tokio::time::sleep(Duration::from_millis(300)).await;
            let _ = Command::new("kill").args(["-INT", &child.id().to_string()]).status();
            // Bounded: a dumpcap that ignores SIGINT is killed below.
            let exited = || std::future::ready(child.try_wait().ok().flatten().map(|_| ()));
            let _ = crate::wait::within(Duration::from_secs(10), exited).await;
            let _ = child.kill();
            let _ = child.wait();
        }
        parse_pcap(&std::fs::read(&self.file).unwrap_or_default())
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// One captured UDP datagram.
#[derive(Debug, Clone)]
pub struct Datagram {
    pub src_port: u16,
    pub dst_port: u16,
    pub payload: Vec<u8>,
    /// When it was captured (ms since the epoch).
    pub at_ms: i64,
    /// The same in microseconds.
    pub at_us: i64,
}

/// Reads a classic pcap file (Ethernet or Linux cooked link layer, IPv4/UDP only).
pub fn parse_pcap(bytes: &[u8]) -> Vec<Datagram> {
    let mut out = Vec::new();
    if bytes.len() < 24 {
        return out;
    }
    let magic = u32::from_le_bytes(bytes[0..4].try_into().unwrap());
    let le = matches!(magic, 0xa1b2_c3d4 | 0xa1b2_3c4d);
    let nanos = matches!(magic, 0xa1b2_3c4d | 0x4d3c_b2a1);
    let read32 = |b: &[u8]| {
        let a: [u8; 4] = b.try_into().unwrap();
        if le { u32::from_le_bytes(a) } else { u32::from_be_bytes(a) }
    };
    let link = read32(&bytes[20..24]);
    let link_len = match link {
        1 => 14,
        113 => 16,
        276 => 20,
        _ => return out,
    };
    let mut at = 24;
    while at + 16 <= bytes.len() {
        let incl = read32(&bytes[at + 8..at + 12]) as usize;
        let fraction = i64::from(read32(&bytes[at + 4..at + 8]));
        let at_us = i64::from(read32(&bytes[at..at + 4])) * 1_000_000
            + if nanos { fraction / 1000 } else { fraction };
        let at_ms = at_us / 1000;
        let start = at + 16;
        let end = (start + incl).min(bytes.len());
        at = start + incl;
        let frame = &bytes[start..end];
        if frame.len() < link_len + 28 {
            continue;
        }
        let ip = &frame[link_len..];
        if ip[0] >> 4 != 4 || ip[9] != 17 {
            continue;
        }
        let ihl = usize::from(ip[0] & 0x0f) * 4;
        if ip.len() < ihl + 8 {
            continue;
        }
        let udp = &ip[ihl..];
        let src_port = u16::from_be_bytes([udp[0], udp[1]]);
        let dst_port = u16::from_be_bytes([udp[2], udp[3]]);
        let len = usize::from(u16::from_be_bytes([udp[4], udp[5]])).clamp(8, udp.len());
        out.push(Datagram { src_port, dst_port, payload: udp[8..len].to_vec(), at_ms, at_us });
    }
    out
}

/// The audio (PCMU) sent to `port`, decoded.
pub fn audio_to(datagrams: &[Datagram], port: u16) -> Vec<i16> {
    audio_to_between(datagrams, port, i64::MIN, i64::MAX)
}

/// The audio (PCMU) sent to `port` and captured from `from_ms` to `to_ms` (epoch ms), decoded.
pub fn audio_to_between(datagrams: &[Datagram], port: u16, from_ms: i64, to_ms: i64) -> Vec<i16> {
    let mut samples = Vec::new();
    for d in datagrams.iter().filter(|d| d.dst_port == port && (from_ms..to_ms).contains(&d.at_ms))
    {
        if let Ok(p) = RtpPacket::parse(&d.payload)
            && p.payload_type == 0
        {
            samples.extend(p.payload(&d.payload).iter().map(|&b| ulaw_to_linear(b)));
        }
    }
    samples
}

/// Asserts that `samples` hold a clean tone at `hz`: at least half a second of it, and its
/// power ten times that of the other test tones.
pub fn assert_tone(samples: &[i16], hz: f64, what: &str) {
    assert!(samples.len() >= 4000, "{what}: only {} samples of PCMU arrived", samples.len());
    let window = &samples[samples.len() - 4000..];
    let power = goertzel_power(window, hz);
    for other in [440.0, 1000.0, 2000.0].into_iter().filter(|f| (*f - hz).abs() > 1.0) {
        let p = goertzel_power(window, other);
        assert!(
            power > 10.0 * p,
            "{what}: {hz} Hz power {power:.0} is not ten times the {other} Hz power {p:.0}"
        );
    }
    assert!(power > 1000.0, "{what}: {hz} Hz is too weak ({power:.0})");
}

/// The first file named `name` under `dir` (depth-first).
pub fn find_file(dir: &Path, name: &str) -> Option<PathBuf> {
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if let Some(found) = find_file(&path, name) {
                return Some(found);
            }
        } else if path.file_name().is_some_and(|n| n == name) {
            return Some(path);
        }
    }
    None
}

/// A stereo 8 kHz 16-bit WAV's (left, right) channels; panics unless hound opens it.
pub fn wav_channels(path: &Path) -> (Vec<i16>, Vec<i16>) {
    let mut reader = hound::WavReader::open(path)
        .unwrap_or_else(|e| panic!("{} opens with hound: {e}", path.display()));
    let spec = reader.spec();
    assert_eq!(
        (spec.channels, spec.sample_rate, spec.bits_per_sample),
        (2, 8000, 16),
        "stereo 8 kHz 16-bit"
    );
    let samples: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
    (
        samples.iter().step_by(2).copied().collect(),
        samples.iter().skip(1).step_by(2).copied().collect(),
    )
}
