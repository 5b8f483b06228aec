//! G.711 μ-law (PCMU, payload type 0) and A-law (PCMA, payload type 8): decoding to 16-bit
//! linear PCM, encoding from it, and direct PCMU <-> PCMA conversion for relaying between legs
//! that negotiated different laws (the exception path; the same law is passed through).

/// μ-law bias added before encoding (ITU-T G.711).
const ULAW_BIAS: i32 = 0x84;
/// Largest magnitude μ-law encodes.
const ULAW_CLIP: i32 = 32_635;

/// Decodes one μ-law byte to linear PCM.
pub fn ulaw_to_linear(byte: u8) -> i16 {
    let u = !byte;
    let sign = u & 0x80;
    let exponent = i32::from((u >> 4) & 0x07);
    let mantissa = i32::from(u & 0x0F);
    let magnitude = (((mantissa << 3) + ULAW_BIAS) << exponent) - ULAW_BIAS;
    // The magnitude is at most 32,124, so it fits.
    let value = if sign != 0 { -magnitude } else { magnitude };
    value as i16
}

/// Encodes one linear PCM sample as μ-law.
pub fn linear_to_ulaw(sample: i16) -> u8 {
    let mut value = i32::from(sample);
    let sign: u8 = if value < 0 {
        value = -value;
        0x80
    } else {
        0
    };
    let value = value.min(ULAW_CLIP) + ULAW_BIAS;
    // The segment is the position of the highest set bit above bit 7.
    let mut exponent: u8 = 7;
    let mut mask = 0x4000;
    while exponent > 0 && value & mask == 0 {
        exponent -= 1;
        mask >>= 1;
    }
    let mantissa = ((value >> (i32::from(exponent) + 3)) & 0x0F) as u8;
    !(sign | (exponent << 4) | mantissa)
}

/// Decodes one A-law byte to linear PCM.
pub fn alaw_to_linear(byte: u8) -> i16 {
    let a = byte ^ 0x55;
    let sign = a & 0x80;
    let exponent = i32::from((a >> 4) & 0x07);
    let mantissa = i32::from(a & 0x0F);
    let magnitude = if exponent == 0 {
        (mantissa << 4) + 8
    } else {
        ((mantissa << 4) + 0x108) << (exponent - 1)
    };
    // A-law's sign bit set means positive.
    let value = if sign != 0 { magnitude } else { -magnitude };
    value as i16
}

/// Encodes one linear PCM sample as A-law.
pub fn linear_to_alaw(sample: i16) -> u8 {
    let mut value = i32::from(sample);
    let sign: u8 = if value >= 0 {
        0x80
    } else {
        value = -value - 1;
        0
    };
    let value = value.min(0x7FFF);
    let byte = if value < 256 {
        (value >> 4) as u8
    } else {
        let mut exponent: u8 = 1;
        while exponent < 7 && value >= (256 << exponent) {
            exponent += 1;
        }
        let mantissa = ((value >> (i32::from(exponent) + 3)) & 0x0F) as u8;
        (exponent << 4) | mantissa
    };
    (sign | byte) ^ 0x55
}

/// Lookup tables for converting between the laws without going through code each time.
pub struct Transcoder {
    ulaw_to_alaw: [u8; 256],
    alaw_to_ulaw: [u8; 256],
}

impl Default for Transcoder {
    fn default() -> Self {
        Transcoder::new()
    }
}

impl Transcoder {
    /// Builds both tables (512 conversions, once).
    pub fn new() -> Transcoder {
        let mut ulaw_to_alaw = [0u8; 256];
        let mut alaw_to_ulaw = [0u8; 256];
        for byte in 0..=255u8 {
            ulaw_to_alaw[usize::from(byte)] = linear_to_alaw(ulaw_to_linear(byte));
            alaw_to_ulaw[usize::from(byte)] = linear_to_ulaw(alaw_to_linear(byte));
        }
        Transcoder { ulaw_to_alaw, alaw_to_ulaw }
    }

    /// Converts a PCMU payload to PCMA in place.
    pub fn ulaw_to_alaw(&self, payload: &mut [u8]) {
        for byte in payload {
            *byte = self.ulaw_to_alaw[usize::from(*byte)];
        }
    }

    /// Converts a PCMA payload to PCMU in place.
    pub fn alaw_to_ulaw(&self, payload: &mut [u8]) {
        for byte in payload {
            *byte = self.alaw_to_ulaw[usize::from(*byte)];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes() {
        assert_eq!(ulaw_to_linear(0xFF), 0);
        assert_eq!(ulaw_to_linear(0x7F), 0);
        assert_eq!(ulaw_to_linear(0x80), 32_124);
        assert_eq!(ulaw_to_linear(0x00), -32_124);
        assert_eq!(linear_to_ulaw(0), 0xFF);
        assert_eq!(alaw_to_linear(0xD5), 8);
        assert_eq!(alaw_to_linear(0x55), -8);
        assert_eq!(alaw_to_linear(0xAA), 32_256);
        assert_eq!(linear_to_alaw(0), 0xD5);
    }

    #[test]
    fn every_code_round_trips() {
        for byte in 0..=255u8 {
            // μ-law has two codes for zero (0x7F and 0xFF); both decode to 0, which encodes as 0xFF.
            let expected = if byte == 0x7F { 0xFF } else { byte };
            assert_eq!(linear_to_ulaw(ulaw_to_linear(byte)), expected, "ulaw {byte:#04x}");
            assert_eq!(linear_to_alaw(alaw_to_linear(byte)), byte, "alaw {byte:#04x}");
        }
    }

    #[test]
    fn encoding_error_is_within_the_step_size() {
        for sample in (i16::MIN..=i16::MAX).step_by(7) {
            let via_ulaw = i32::from(ulaw_to_linear(linear_to_ulaw(sample)));
            let via_alaw = i32::from(alaw_to_linear(linear_to_alaw(sample)));
            let s = i32::from(sample).clamp(-32_635, 32_635);
            // The quantisation step grows with the magnitude: 1/16 of it is a safe bound.
            let tolerance = (s.abs() / 16).max(16) + 8;
            assert!((via_ulaw - s).abs() <= tolerance, "ulaw {sample} -> {via_ulaw}");
            assert!(
                (via_alaw - i32::from(sample)).abs()
                    <= tolerance.max(i32::from(sample).abs() / 16 + 16),
                "alaw {sample} -> {via_alaw}"
            );
        }
    }

    #[test]
    fn transcoding_keeps_the_signal() {
        let t = Transcoder::new();
        let mut payload: Vec<u8> = (0..160)
            .map(|i| linear_to_ulaw(((f64::from(i) * 0.785).sin() * 8000.0) as i16))
            .collect();
        let original: Vec<i16> = payload.iter().map(|&b| ulaw_to_linear(b)).collect();
        t.ulaw_to_alaw(&mut payload);
        let through_alaw: Vec<i16> = payload.iter().map(|&b| alaw_to_linear(b)).collect();
        for (a, b) in original.iter().zip(&through_alaw) {
            assert!((i32::from(*a) - i32::from(*b)).abs() <= 300, "{a} vs {b}");
        }
        t.alaw_to_ulaw(&mut payload);
        assert_eq!(payload.len(), 160);
    }
}
