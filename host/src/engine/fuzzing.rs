//! Entry points for the fuzz targets in `fuzz/` (not a stable API).

use std::sync::Arc;

use serde_json::json;

use super::bindings::{self, plugin::types};
use super::working::Working;
use crate::okta::ImportRequest;

fn take<'a>(data: &mut &'a [u8], n: usize) -> &'a [u8] {
    let n = n.min(data.len());
    let (head, tail) = data.split_at(n);
    *data = tail;
    head
}

fn value(data: &mut &[u8]) -> types::Value {
    let kind = take(data, 1).first().copied().unwrap_or(0);
    let len = take(data, 1).first().copied().unwrap_or(0) as usize * 4;
    let bytes = take(data, len);
    let text = String::from_utf8_lossy(bytes).into_owned();
    let mut eight = [0u8; 8];
    for (slot, byte) in eight.iter_mut().zip(bytes) {
        *slot = *byte;
    }
    match kind % 8 {
        0 => types::Value::Null,
        1 => types::Value::Boolean(len.is_multiple_of(2)),
        2 => types::Value::Integer(i64::from_le_bytes(eight)),
        3 => types::Value::Number(f64::from_le_bytes(eight)),
        4 => types::Value::Text(text),
        5 => types::Value::List(
            text.split(',')
                .map(|s| types::Scalar::Text(s.to_owned()))
                .collect(),
        ),
        6 => types::Value::Json(text),
        _ => types::Value::Text(text.repeat(len)),
    }
}

/// Decodes `data` into a plugin outcome, validates it as the host does, and checks that an
/// accepted one always yields a response Okta accepts.
pub fn validate_outcome_bytes(mut data: &[u8]) {
    let data = &mut data;
    let attributes = |data: &mut &[u8]| {
        let count = take(data, 1).first().copied().unwrap_or(0) % 8;
        (0..count)
            .map(|_| {
                let name_len = take(data, 1).first().copied().unwrap_or(0) as usize;
                let name = String::from_utf8_lossy(take(data, name_len)).into_owned();
                types::Attribute {
                    name,
                    value: value(data),
                }
            })
            .collect::<Vec<_>>()
    };
    let app_user_updates = attributes(data);
    let user_updates = attributes(data);
    let decision = match take(data, 1).first().copied().unwrap_or(0) % 3 {
        0 => None,
        1 => Some(types::Decision::CreateUser),
        _ => {
            let len = take(data, 1).first().copied().unwrap_or(0) as usize;
            Some(types::Decision::LinkUser(
                String::from_utf8_lossy(take(data, len)).into_owned(),
            ))
        }
    };
    let note_len = take(data, 1).first().copied().unwrap_or(0) as usize * 2;
    let note = (note_len > 0).then(|| String::from_utf8_lossy(take(data, note_len)).into_owned());
    let outcome = types::Outcome {
        app_user_updates,
        user_updates,
        decision,
        note,
    };
    let request: ImportRequest = serde_json::from_value(json!({
        "eventId": "e", "eventType": "com.okta.import.transform",
        "data": {"action": {"result": "CREATE_USER"}}
    }))
    .expect("request");
    let mut working = Working::from_request(&Arc::new(request));
    let accepted = bindings::contribution(outcome)
        .ok()
        .filter(|contribution| working.check(contribution).is_ok());
    if let Some(contribution) = accepted {
        working.apply(contribution);
        match working.response().to_checked_json() {
            Ok(_) | Err(crate::okta::ResponseError::TooLarge(_)) => {}
            Err(e) => panic!("validated output produced an invalid response: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fuzzing_decoder_handles_arbitrary_bytes() {
        for seed in 0u8..=255 {
            let data: Vec<u8> = (0..300u32)
                .map(|i| (i as u8).wrapping_mul(seed).wrapping_add(seed))
                .collect();
            validate_outcome_bytes(&data);
        }
        validate_outcome_bytes(&[]);
    }
}
