//! Putting binary attachments back in place of their `{"_placeholder":true,"num":i}` objects.

use bytes::Bytes;
use rmpv::Value;

use crate::error::DecodeError;

/// Replaces every placeholder in `values` by its attachment. Every placeholder must refer to an
/// announced attachment and every attachment must be referred to.
pub(crate) fn reconstruct(
    values: &mut [Value],
    attachments: Vec<Bytes>,
) -> Result<(), DecodeError> {
    let mut uses = vec![0usize; attachments.len()];
    for v in values.iter() {
        count_uses(v, &mut uses)?;
    }
    if let Some(index) = uses.iter().position(|&n| n == 0) {
        return Err(DecodeError::UnusedAttachment { index });
    }
    let mut slots: Vec<Option<Bytes>> = attachments.into_iter().map(Some).collect();
    for v in values.iter_mut() {
        replace(v, &mut slots, &mut uses);
    }
    Ok(())
}

/// `Some(num)` when `map` is a placeholder (`_placeholder` is `true`; with duplicate keys the last one
/// counts, as with `JSON.parse`).
fn placeholder_num(pairs: &[(Value, Value)]) -> Option<Result<u64, DecodeError>> {
    let last = |name: &str| {
        pairs
            .iter()
            .rev()
            .find(|(k, _)| k.as_str() == Some(name))
            .map(|(_, v)| v)
    };
    if last("_placeholder") != Some(&Value::Boolean(true)) {
        return None;
    }
    Some(
        last("num")
            .and_then(Value::as_u64)
            .ok_or(DecodeError::InvalidPlaceholder),
    )
}

fn count_uses(v: &Value, uses: &mut [usize]) -> Result<(), DecodeError> {
    match v {
        Value::Map(pairs) => match placeholder_num(pairs) {
            Some(num) => {
                let num = num?;
                let attachments = uses.len();
                let slot = usize::try_from(num)
                    .ok()
                    .and_then(|i| uses.get_mut(i))
                    .ok_or(DecodeError::PlaceholderOutOfRange { num, attachments })?;
                *slot += 1;
            }
            None => {
                for (_, item) in pairs {
                    count_uses(item, uses)?;
                }
            }
        },
        Value::Array(items) => {
            for item in items {
                count_uses(item, uses)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Second pass, after [`count_uses`] validated every placeholder: the last use of an attachment takes
/// it (no copy when the frame buffer is not shared), earlier uses copy it.
fn replace(v: &mut Value, slots: &mut [Option<Bytes>], uses: &mut [usize]) {
    match v {
        Value::Map(pairs) => match placeholder_num(pairs) {
            Some(Ok(num)) => {
                let Ok(i) = usize::try_from(num) else { return };
                let (Some(slot), Some(left)) = (slots.get_mut(i), uses.get_mut(i)) else {
                    return;
                };
                *left = left.saturating_sub(1);
                let bytes: Vec<u8> = if *left == 0 {
                    slot.take().map(Vec::from).unwrap_or_default()
                } else {
                    slot.as_deref().map(<[u8]>::to_vec).unwrap_or_default()
                };
                *v = Value::Binary(bytes);
            }
            Some(Err(_)) => {}
            None => pairs
                .iter_mut()
                .for_each(|(_, item)| replace(item, slots, uses)),
        },
        Value::Array(items) => items.iter_mut().for_each(|item| replace(item, slots, uses)),
        _ => {}
    }
}
