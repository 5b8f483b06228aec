//! Bringing the header of an unfinished WAV file up to date with what is on disk: after a
//! crash the sizes in the header are those of the last periodic update, while audio may have
//! been written after it. The data chunk is made to cover every whole sample frame in the
//! file (a torn last frame is cut off), so the file plays to its last written sample.

use std::fs::OpenOptions;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

use super::track::RATE;

/// What a repaired (or checked) file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WavLength {
    /// Length of the audio in milliseconds.
    pub duration_ms: u64,
    /// Size of the file in bytes.
    pub size: u64,
    /// Whether the header had to be changed.
    pub repaired: bool,
}

/// The header hound writes for our format: RIFF, fmt (16 bytes, PCM, 2 channels, 8 kHz,
/// 16 bits) and an empty data chunk.
fn empty_header() -> [u8; 44] {
    let mut h = [0u8; 44];
    h[0..4].copy_from_slice(b"RIFF");
    h[4..8].copy_from_slice(&36u32.to_le_bytes());
    h[8..12].copy_from_slice(b"WAVE");
    h[12..16].copy_from_slice(b"fmt ");
    h[16..20].copy_from_slice(&16u32.to_le_bytes());
    h[20..22].copy_from_slice(&1u16.to_le_bytes());
    h[22..24].copy_from_slice(&2u16.to_le_bytes());
    h[24..28].copy_from_slice(&RATE.to_le_bytes());
    h[28..32].copy_from_slice(&(RATE * 4).to_le_bytes());
    h[32..34].copy_from_slice(&4u16.to_le_bytes());
    h[34..36].copy_from_slice(&16u16.to_le_bytes());
    h[36..40].copy_from_slice(b"data");
    h
}

fn bad(why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why.to_owned())
}

/// Makes the WAV file at `path` consistent with its length on disk. A file too short to hold
/// its header (the process died right after creating it) gets a fresh empty header.
pub fn repair_wav(path: &Path) -> io::Result<WavLength> {
    let mut file = OpenOptions::new().read(true).write(true).open(path)?;
    let len = file.metadata()?.len();
    let mut head = [0u8; 12];
    if len < 44 {
        let header = empty_header();
        file.set_len(0)?;
        file.seek(SeekFrom::Start(0))?;
        file.write_all(&header)?;
        file.sync_all()?;
        return Ok(WavLength { duration_ms: 0, size: 44, repaired: true });
    }
    file.read_exact(&mut head)?;
    if &head[0..4] != b"RIFF" || &head[8..12] != b"WAVE" {
        return Err(bad("not a RIFF/WAVE file"));
    }
    // Walk the chunks to "data", reading the block size and rate from "fmt ".
    let mut at = 12u64;
    let mut block_align = 4u64;
    let mut rate = u64::from(RATE);
    loop {
        if at + 8 > len {
            return Err(bad("no data chunk"));
        }
        let mut chunk = [0u8; 8];
        file.seek(SeekFrom::Start(at))?;
        file.read_exact(&mut chunk)?;
        let size = u64::from(u32::from_le_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]));
        if &chunk[0..4] == b"fmt " {
            let mut fmt = [0u8; 16];
            file.read_exact(&mut fmt)?;
            rate = u64::from(u32::from_le_bytes([fmt[4], fmt[5], fmt[6], fmt[7]])).max(1);
            block_align = u64::from(u16::from_le_bytes([fmt[12], fmt[13]])).max(1);
        }
        if &chunk[0..4] == b"data" {
            let data_start = at + 8;
            let available = len - data_start;
            let data = (available - available % block_align).min(u64::from(u32::MAX) - 64);
            let repaired = data != size || data_start + data != len;
            if repaired {
                file.set_len(data_start + data)?;
                file.seek(SeekFrom::Start(at + 4))?;
                file.write_all(&u32::try_from(data).unwrap_or(u32::MAX).to_le_bytes())?;
                file.seek(SeekFrom::Start(4))?;
                file.write_all(
                    &u32::try_from(data_start + data - 8).unwrap_or(u32::MAX).to_le_bytes(),
                )?;
                file.sync_all()?;
            }
            let frames = data / block_align;
            return Ok(WavLength {
                duration_ms: frames * 1000 / rate,
                size: data_start + data,
                repaired,
            });
        }
        at += 8 + size + size % 2;
    }
}
