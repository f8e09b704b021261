//! A `[[webhook]]`: the message's JSON posted as it is, signed with the destination's
//! secret; any 2xx answer is delivery. A receiver drops repeats by `Idempotency-Key`.

use hmac::Mac;

use super::{Outcome, Reach, send};
use crate::config::Webhook;
use crate::store::outbox::Claimed;

/// Posts the message signed; answers the outcome.
pub(super) async fn deliver(hook: &Webhook, reach: &Reach<'_>, message: &Claimed) -> Outcome {
    let timestamp = reach.at.timestamp();
    let request = reach
        .client
        .post(&hook.url)
        .header("content-type", "application/json")
        .header("idempotency-key", &message.idempotency_key)
        .header("x-renfang-event", &message.event_type)
        .header("x-renfang-timestamp", timestamp.to_string())
        .header(
            "x-renfang-signature",
            signature(&hook.secret, timestamp, &message.payload),
        )
        .body(message.payload.clone());
    match send(request).await {
        Ok((status, _)) => Outcome::Delivered { status },
        Err(failed) => failed,
    }
}

/// `sha256=<hex>`: HMAC-SHA256 of `<timestamp>.<body>` under `secret`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_covers_the_timestamp_and_the_body() {
        let a = signature("0123456789abcdef", 1_700_000_000, "{}");
        assert!(a.starts_with("sha256=") && a.len() == 7 + 64);
        assert_ne!(a, signature("0123456789abcdef", 1_700_000_001, "{}"));
        assert_ne!(a, signature("0123456789abcdef", 1_700_000_000, "{ }"));
        assert_ne!(a, signature("0123456789abcdeX", 1_700_000_000, "{}"));
    }
}
