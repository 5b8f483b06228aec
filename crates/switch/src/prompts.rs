//! The audio of the prompts a call flow plays, from memory: stored prompts come with the
//! directory; the built-in phrases are decoded once, on first use, for both languages.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use switchboard_core::flow::BUILTIN;
use switchboard_media::prompt;
use switchboard_media::relay::Sound;

use crate::Switch;

/// Built-in phrases by (language, key).
type Phrases = HashMap<(&'static str, &'static str), Arc<[u8]>>;

/// Every built-in phrase's μ-law.
static BUILT_IN: LazyLock<Phrases> = LazyLock::new(|| {
    let mut all = HashMap::new();
    for p in prompt::built_in() {
        for language in ["ru", "en"] {
            all.insert((language, p.key), p.audio(language).ulaw);
        }
    }
    all
});

/// Whether `key` is a built-in phrase (for checking flows).
pub fn is_built_in(key: &str) -> bool {
    prompt::built_in_prompt(key).is_some()
}

impl Switch {
    /// What a queue's callers hear while waiting: its own sound (`ringback`, `music`, a
    /// prompt played over and over), else the gateway's default; `None` for silence.
    pub(super) fn queue_sound(&self, sound: Option<&str>) -> Option<Sound> {
        match sound {
            None => self.waiting_sound.clone(),
            Some("ringback") => Some(Sound::ringback()),
            Some("music") => Some(Sound::music()),
            Some(id) => match self.directory.prompt(id) {
                Some(audio) => Some(Sound::Loop(audio)),
                None => self.waiting_sound.clone(),
            },
        }
    }

    /// The audio of a prompt reference (`builtin:<key>` in `language`, or a stored prompt's
    /// id); `None` when there is no such prompt (any more).
    pub(super) fn prompt_audio(&self, reference: &str, language: &str) -> Option<Arc<[u8]>> {
        match reference.strip_prefix(BUILTIN) {
            Some(key) => {
                let language = if language == "ru" { "ru" } else { "en" };
                BUILT_IN.get(&(language, key)).cloned()
            }
            None => self.directory.prompt(reference),
        }
    }
}

/// The beep before a voicemail message: 1 kHz for 400 ms, as μ-law.
pub(crate) fn beep() -> Vec<u8> {
    switchboard_media::tone::sine_ulaw(1000.0, 0.3, 0, 3200)
}
