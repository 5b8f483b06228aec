use super::*;
use crate::g711::ulaw_to_linear;
use crate::tone::goertzel_power;

fn linear(audio: &Audio) -> Vec<i16> {
    audio.ulaw.iter().map(|b| ulaw_to_linear(*b)).collect()
}

/// A 16-bit WAV of `hz` (left) and `right_hz` (right, when stereo) at `rate`.
fn wav(rate: u32, channels: u16, hz: f64, seconds: f64) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut out = Cursor::new(Vec::new());
    let mut writer = hound::WavWriter::new(&mut out, spec).unwrap();
    for i in 0..(f64::from(rate) * seconds) as u32 {
        let t = f64::from(i) / f64::from(rate);
        let value = ((std::f64::consts::TAU * hz * t).sin() * 12_000.0) as i16;
        for _ in 0..channels {
            writer.write_sample(value).unwrap();
        }
    }
    writer.finalize().unwrap();
    out.into_inner()
}

fn dominant(samples: &[i16], hz: f64, other: f64) -> bool {
    goertzel_power(samples, hz) > 50.0 * goertzel_power(samples, other)
}

#[test]
fn a_44_1_khz_wav_becomes_8_khz_mu_law_of_the_same_length_and_pitch() {
    let audio = decode(&wav(44_100, 1, 1000.0, 2.0), Some("wav"), 60).unwrap();
    assert!((15_950..=16_050).contains(&audio.ulaw.len()), "{} samples", audio.ulaw.len());
    assert_eq!(audio.duration_ms() / 100, 20, "about two seconds");
    let samples = linear(&audio);
    assert!(dominant(&samples[4000..12_000], 1000.0, 600.0));
    // The level survives: about 12,000 of 32,767.
    let peak = samples[4000..12_000].iter().map(|s| s.unsigned_abs()).max().unwrap();
    assert!((9_000..14_000).contains(&peak), "peak {peak}");
}

#[test]
fn stereo_at_48_khz_is_mixed_to_mono() {
    let audio = decode(&wav(48_000, 2, 425.0, 1.0), None, 60).unwrap();
    assert!((7_950..=8_050).contains(&audio.ulaw.len()));
    assert!(dominant(&linear(&audio)[1000..7000], 425.0, 1000.0));
}

#[test]
fn mp3_and_ogg_vorbis_uploads_decode() {
    let mp3 =
        decode(include_bytes!("../../tests/fixtures/tone-600hz.mp3"), Some("mp3"), 60).unwrap();
    assert!(dominant(&linear(&mp3)[2000..10_000], 600.0, 1000.0));
    // No hint: the content says what it is.
    let ogg = decode(include_bytes!("../../tests/fixtures/tone-700hz.ogg"), None, 60).unwrap();
    // 1.5 s; the decoder may keep the last Vorbis block's padding (a few ms).
    assert!((11_900..=12_400).contains(&ogg.ulaw.len()), "{}", ogg.ulaw.len());
    assert!(dominant(&linear(&ogg)[2000..10_000], 700.0, 1000.0));
}

#[test]
fn what_is_not_audio_too_long_or_silent_is_refused_with_the_reason() {
    let text = decode(b"name,phone\nIvan,+79161234567\n", Some("wav"), 60);
    assert!(matches!(text, Err(AudioError::NotAudio(_))), "{text:?}");
    let mut truncated = wav(8000, 1, 1000.0, 1.0);
    truncated.truncate(30);
    assert!(matches!(decode(&truncated, None, 60), Err(AudioError::NotAudio(_))));
    assert_eq!(
        decode(&wav(16_000, 1, 1000.0, 3.0), None, 2),
        Err(AudioError::TooLong { max_seconds: 2 })
    );
    assert_eq!(decode(&wav(8000, 1, 0.0, 1.0), None, 60), Err(AudioError::Empty));
    assert!(matches!(decode(&[], None, 60), Err(AudioError::NotAudio(_))));
}

#[test]
fn the_player_gets_a_16_bit_wav_of_the_prompt() {
    let audio = decode(&wav(8000, 1, 1000.0, 0.5), None, 60).unwrap();
    let out = to_wav(&audio.ulaw);
    let reader = hound::WavReader::new(Cursor::new(out)).unwrap();
    assert_eq!(reader.spec().sample_rate, 8000);
    assert_eq!(reader.spec().bits_per_sample, 16);
    assert_eq!(reader.len() as usize, audio.ulaw.len());
}

#[test]
fn every_built_in_prompt_speaks_in_both_languages() {
    let keys: Vec<&str> = built_in().map(|p| p.key).collect();
    for key in ["greeting", "recording_notice", "all_busy", "after_hours", "voicemail"] {
        assert!(keys.contains(&key), "{key}");
    }
    for key in
        ["callback_offer", "callback_confirmed", "invalid_choice", "position_more", "wait_less"]
    {
        assert!(keys.contains(&key), "{key}");
    }
    for n in 1..=MAX_POSITION {
        assert!(keys.contains(&format!("position_{n}").as_str()));
    }
    for n in 1..=MAX_MINUTES {
        assert!(keys.contains(&format!("wait_{n}").as_str()));
    }
    for prompt in built_in() {
        for language in ["ru", "en"] {
            let audio = prompt.audio(language);
            let ms = audio.duration_ms();
            assert!((700..15_000).contains(&ms), "{} in {language}: {ms} ms", prompt.key);
        }
        assert!(!prompt.text_ru.is_ascii() && prompt.text_en.is_ascii(), "{}", prompt.key);
    }
    assert_eq!(
        built_in_prompt("wait_2").unwrap().text_ru,
        "Примерное время ожидания — две минуты."
    );
    assert!(built_in_prompt("nope").is_none());
}

#[test]
fn the_installed_synthesizer_speaks_russian_and_english() {
    // .ci/run installs espeak-ng, so this runs everywhere the suite runs.
    let synth = Synthesizer::find().expect("espeak-ng is installed");
    assert!(synth.version.contains("eSpeak"), "{}", synth.version);
    let ru = synth.speak("Здравствуйте! Все операторы заняты.", "ru", 60).unwrap();
    let en = synth.speak("-v hello --stdout", "en", 60).unwrap();
    assert!(
        ru.duration_ms() > 1000 && en.duration_ms() > 500,
        "{} {}",
        ru.duration_ms(),
        en.duration_ms()
    );
    assert!(matches!(
        synth.speak(&"слово ".repeat(200), "ru", 2),
        Err(SpeechError::Audio(AudioError::TooLong { .. }))
    ));
    assert!(Synthesizer::at("/nonexistent/espeak-ng".into()).is_none());
}

use speech::{SpeechError, Synthesizer};
