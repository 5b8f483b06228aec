//! The switch's configuration, read from the settings: the only place that turns `[sip]`,
//! `[media]`, `[recordings]` and `[callbacks]` into what the switch crate takes.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use anyhow::Context;
use switchboard_core::callback::CallbackPolicy;
use switchboard_media::recording::RecorderConfig;
use switchboard_sip::edge::{Account, EdgeConfig, Trunk};
use switchboard_switch::{OutboundConfig, SwitchConfig};

use crate::settings::Settings;

/// The switch's configuration; a setting that does not parse is an error naming it.
pub fn switch_config(settings: &Settings) -> anyhow::Result<SwitchConfig> {
    let media_ip: IpAddr = settings
        .media
        .ip
        .parse()
        .with_context(|| format!("media.ip {:?} is not an IP address", settings.media.ip))?;
    anyhow::ensure!(
        settings.media.rtp_port_min <= settings.media.rtp_port_max,
        "media.rtp_port_min must not exceed media.rtp_port_max"
    );
    let webrtc_ip: IpAddr = if settings.media.webrtc_ip.trim().is_empty() {
        media_ip
    } else {
        settings.media.webrtc_ip.parse().with_context(|| {
            format!("media.webrtc_ip {:?} is not an IP address", settings.media.webrtc_ip)
        })?
    };
    let recorder = settings.recordings.enabled.then(|| RecorderConfig {
        queue_frames: settings.recordings.queue_frames,
        flush_every: Duration::from_millis(settings.recordings.flush_ms.max(100)),
    });
    let default_queues: HashMap<String, String> = settings
        .sip
        .trunks
        .iter()
        .filter(|t| !t.queue.is_empty())
        .map(|t| (t.name.clone(), t.queue.clone()))
        .collect();
    Ok(SwitchConfig {
        edge: edge_config(settings)?,
        media_ip,
        rtp_port_min: settings.media.rtp_port_min,
        rtp_port_max: settings.media.rtp_port_max,
        webrtc_ip,
        recorder,
        recordings_root: settings.recordings.root.clone(),
        default_queues,
        outbound: outbound_settings(settings),
        callback_policy: callback_policy(settings),
        region: settings.region()?,
        waiting_sound: match settings.sip.waiting_sound.trim() {
            "ringback" => Some(switchboard_media::relay::Sound::ringback()),
            "none" | "" => None,
            other => {
                anyhow::bail!("sip.waiting_sound {other:?} is not one of \"ringback\" or \"none\"")
            }
        },
        hold_sound: match settings.sip.hold_sound.trim() {
            "music" => Some(switchboard_media::relay::Sound::music()),
            "none" | "" => None,
            other => {
                anyhow::bail!("sip.hold_sound {other:?} is not one of \"music\" or \"none\"")
            }
        },
    })
}

fn edge_config(settings: &Settings) -> anyhow::Result<EdgeConfig> {
    let sip = &settings.sip;
    let listen: SocketAddr = sip
        .listen
        .parse()
        .with_context(|| format!("sip.listen {:?} is not an address", sip.listen))?;
    let advertised_ip = if sip.advertised_ip.trim().is_empty() {
        anyhow::ensure!(
            !listen.ip().is_unspecified(),
            "sip.advertised_ip must be set when sip.listen is a wildcard address"
        );
        listen.ip()
    } else {
        sip.advertised_ip.parse().with_context(|| {
            format!("sip.advertised_ip {:?} is not an IP address", sip.advertised_ip)
        })?
    };
    let mut trunks = Vec::new();
    for t in &sip.trunks {
        let allow = t
            .allow
            .iter()
            .map(|a| a.parse().map_err(|e| anyhow::anyhow!("sip.trunks {:?}: {e}", t.name)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let credential =
            (!t.username.is_empty()).then(|| (t.username.clone(), t.password.expose().to_owned()));
        trunks.push(Trunk {
            name: t.name.clone(),
            allow,
            credential,
            queue: (!t.queue.is_empty()).then(|| t.queue.clone()),
        });
    }
    let accounts = sip
        .registrations
        .iter()
        .map(|r| Account {
            name: r.name.clone(),
            username: r.username.clone(),
            auth_username: (!r.auth_username.is_empty()).then(|| r.auth_username.clone()),
            password: r.password.expose().to_owned(),
            registrar: r.registrar.clone(),
            expiry_s: r.expiry_s.max(30),
            queue: (!r.queue.is_empty()).then(|| r.queue.clone()),
        })
        .collect();
    Ok(EdgeConfig {
        listen,
        advertised_ip,
        max_calls: sip.max_calls,
        user_agent: format!("Switchboard/{}", env!("CARGO_PKG_VERSION")),
        trunks,
        accounts,
        dead_peer: Duration::from_secs(settings.media.dead_peer_s),
    })
}

/// The callback rules from the settings.
pub fn callback_policy(settings: &Settings) -> CallbackPolicy {
    let ms = |s: u64| i64::try_from(s.saturating_mul(1000)).unwrap_or(i64::MAX);
    CallbackPolicy {
        due_after_ms: ms(settings.callbacks.due_after_s),
        escalate_after_ms: ms(settings.callbacks.escalate_after_s),
    }
}

fn outbound_settings(settings: &Settings) -> Option<OutboundConfig> {
    let o = &settings.sip.outbound;
    (!o.target.trim().is_empty()).then(|| OutboundConfig {
        target: o.target.trim().to_owned(),
        caller_id: o.caller_id.clone(),
        credential: (!o.username.is_empty())
            .then(|| (o.username.clone(), o.password.expose().to_owned())),
        ring_timeout: Duration::from_secs(o.ring_timeout_s.max(5)),
    })
}
