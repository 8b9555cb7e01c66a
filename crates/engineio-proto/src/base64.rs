//! The one base64 flavour Engine.IO uses: the standard alphabet, padded on output.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use crate::DecodeError;

/// Peers encode with `Buffer#toString("base64")` or `btoa`, both padded; Node decodes
/// leniently, so a missing padding is tolerated here too (anything else is an error).
const ENGINE: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

pub(crate) fn encode(data: &[u8], out: &mut String) {
    ENGINE.encode_string(data, out);
}

/// Decodes `data`, which starts at byte `offset` of the caller's input. The result is at
/// most three quarters of the input's size, so it is bounded by what was received.
pub(crate) fn decode(data: &[u8], offset: usize) -> Result<Vec<u8>, DecodeError> {
    ENGINE.decode(data).map_err(|e| {
        let at = match e {
            base64::DecodeError::InvalidByte(i, _)
            | base64::DecodeError::InvalidLastSymbol(i, _) => i,
            base64::DecodeError::InvalidLength(_) | base64::DecodeError::InvalidPadding => {
                data.len()
            }
        };
        DecodeError::InvalidBase64 {
            offset: offset.saturating_add(at),
        }
    })
}

/// Length of the padded base64 form of `n` bytes.
pub(crate) fn encoded_len(n: usize) -> usize {
    n.div_ceil(3).saturating_mul(4)
}
