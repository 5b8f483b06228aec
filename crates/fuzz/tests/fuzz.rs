//! The fuzz targets run on stable Rust: bolero's random engine generates, for each input, a
//! seed to start from and a list of edits (bytes set, inserted, removed, lines repeated, the
//! tail cut off), so the inputs stay close enough to real messages to reach past the first
//! line. A third of the inputs are a seed with one edit, a third with up to four, a third
//! plain random bytes.
//!
//! Inputs per target: `SWITCHBOARD_FUZZ_INPUTS` (20,000 by default, what CI runs); the long
//! runs in docs/BENCHMARKS.md set it to 1,000,000. `BOLERO_RANDOM_SEED` replays a run.
#![allow(clippy::unwrap_used)]

use bolero::check;
use bolero::generator::TypeGenerator;

/// One change to a seed. Positions and lengths are taken modulo the input's length.
#[derive(Debug, Clone, TypeGenerator)]
enum Edit {
    Set {
        at: u16,
        byte: u8,
    },
    Insert {
        at: u16,
        bytes: Vec<u8>,
    },
    Remove {
        at: u16,
        len: u8,
    },
    /// Repeats the line around `at` (a header twice, a body line many times).
    RepeatLine {
        at: u16,
        times: u8,
    },
    /// Writes a byte that matters to parsers: CR, LF, space, colon, semicolon, '<', '%', 0.
    Special {
        at: u16,
        which: u8,
    },
    Truncate {
        at: u16,
    },
}

#[derive(Debug, Clone, TypeGenerator)]
enum Input {
    /// A seed with one edit: most stay valid enough to reach the deepest code.
    Touched {
        seed: u8,
        edit: Edit,
    },
    /// A seed with up to four edits.
    Mutated {
        seed: u8,
        edits: Vec<Edit>,
    },
    Random(Vec<u8>),
}

/// The largest UDP datagram: what a peer can send in one.
const MAX_INPUT: usize = 65_535;

fn build(input: &Input, seeds: &[Vec<u8>]) -> Vec<u8> {
    let (seed, edits) = match input {
        Input::Random(bytes) => return bytes.clone(),
        Input::Touched { seed, edit } => (seed, std::slice::from_ref(edit)),
        Input::Mutated { seed, edits } => (seed, edits.as_slice()),
    };
    let mut data = seeds[usize::from(*seed) % seeds.len()].clone();
    for edit in edits.iter().take(4) {
        let at = |pos: u16, data: &[u8]| usize::from(pos) % (data.len() + 1);
        match edit {
            Edit::Set { at: pos, byte } => {
                if !data.is_empty() {
                    let i = usize::from(*pos) % data.len();
                    data[i] = *byte;
                }
            }
            Edit::Insert { at: pos, bytes } => {
                let i = at(*pos, &data);
                data.splice(i..i, bytes.iter().take(64).copied());
            }
            Edit::Remove { at: pos, len } => {
                let i = at(*pos, &data);
                let end = (i + usize::from(*len)).min(data.len());
                data.drain(i..end);
            }
            Edit::RepeatLine { at: pos, times } => {
                let i = at(*pos, &data);
                let start = data[..i].iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
                let end =
                    data[i..].iter().position(|&b| b == b'\n').map_or(data.len(), |p| i + p + 1);
                let line = data[start..end].to_vec();
                for _ in 0..usize::from(*times % 32) {
                    data.splice(end..end, line.iter().copied());
                }
            }
            Edit::Special { at: pos, which } => {
                let byte = b"\r\n :;<%\0"[usize::from(*which) % 8];
                let i = at(*pos, &data);
                data.insert(i, byte);
            }
            Edit::Truncate { at: pos } => {
                let i = at(*pos, &data);
                data.truncate(i);
            }
        }
        // No input is longer than the largest UDP datagram (repeated lines grow fast).
        data.truncate(MAX_INPUT);
    }
    data
}

fn inputs() -> usize {
    std::env::var("SWITCHBOARD_FUZZ_INPUTS").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000)
}

fn run(seeds: &[Vec<u8>], target: fn(&[u8])) {
    // The seeds themselves first: each must pass through unharmed.
    for seed in seeds {
        target(seed);
    }
    let started = std::time::Instant::now();
    check!().with_type::<Input>().with_iterations(inputs()).for_each(|input| {
        target(&build(input, seeds));
    });
    // What the inputs reached so far in this process (the targets run in parallel threads,
    // so a stage's count may include another target's inputs of the same kind).
    eprintln!(
        "fuzz: {} inputs in {:?}; reached: {:?}",
        inputs(),
        started.elapsed(),
        switchboard_fuzz::REACHED.report()
    );
}

#[test]
fn sip_datagram() {
    run(&switchboard_fuzz::seeds::sip(), switchboard_fuzz::sip_datagram);
}

#[test]
fn sdp_body() {
    run(&switchboard_fuzz::seeds::sdp(), switchboard_fuzz::sdp_body);
}

#[test]
fn rtp_stream() {
    run(&switchboard_fuzz::seeds::rtp(), switchboard_fuzz::rtp_stream);
}

#[test]
fn dtmf_events() {
    run(&switchboard_fuzz::seeds::dtmf(), switchboard_fuzz::dtmf_events);
}

#[test]
fn websocket_command() {
    run(&switchboard_fuzz::seeds::websocket(), switchboard_fuzz::websocket_command);
}
