//! A `[[dingtalk]]` group robot (钉钉群机器人): the event in Chinese Markdown with a title.
//! In signed mode the URL carries `timestamp` (ms) and `sign`, the URL-encoded base64 of
//! HMAC-SHA256 under the secret of `"{timestamp}\n{secret}"`; the robot refuses a
//! timestamp more than an hour off, so it is the real clock's, not the dispatch instant.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::Mac;
use serde_json::json;

use super::{Outcome, Reach, event_of, robot_answer, send};
use crate::config::DingTalk;
use crate::domain::message::{chat_markdown, chat_title, clip_bytes};
use crate::store::outbox::Claimed;

/// The most text a DingTalk Markdown message takes, in bytes of UTF-8.
const TEXT_BYTES: usize = 20_000;

pub(super) async fn deliver(robot: &DingTalk, reach: &Reach<'_>, message: &Claimed) -> Outcome {
    let (kind, data) = match event_of(message) {
        Ok(event) => event,
        Err(undeliverable) => return undeliverable,
    };
    let text = chat_markdown(kind, &data, reach.public_url);
    let body = json!({
        "msgtype": "markdown",
        "markdown": {
            "title": chat_title(kind, &data),
            "text": clip_bytes(&text, TEXT_BYTES),
        },
    });
    let url = signed_url(robot, chrono::Utc::now().timestamp_millis());
    match send(reach.client.post(url).json(&body)).await {
        Ok((status, answer)) => robot_answer(status, &answer),
        Err(failed) => failed,
    }
}

/// The robot's URL, with `timestamp` and `sign` appended when it has a secret.
fn signed_url(robot: &DingTalk, timestamp_ms: i64) -> String {
    if robot.secret.is_empty() {
        return robot.url.clone();
    }
    let joint = if robot.url.contains('?') { '&' } else { '?' };
    format!(
        "{}{joint}timestamp={timestamp_ms}&sign={}",
        robot.url,
        sign(&robot.secret, timestamp_ms)
    )
}

/// The URL-encoded `sign` of a timestamp.
fn sign(secret: &str, timestamp_ms: i64) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes any key length");
    mac.update(format!("{timestamp_ms}\n{secret}").as_bytes());
    let base64 = STANDARD.encode(mac.finalize().into_bytes());
    url::form_urlencoded::byte_serialize(base64.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn robot(secret: &str) -> DingTalk {
        DingTalk {
            name: "town".into(),
            url: "https://oapi.dingtalk.com/robot/send?access_token=T".into(),
            secret: secret.into(),
            secret_env: None,
            events: vec![],
            communities: vec![],
        }
    }

    #[test]
    fn the_signed_url_carries_the_timestamp_and_an_encoded_signature() {
        let url = signed_url(&robot("SECabc"), 1_700_000_000_000);
        let (head, sign) = url.split_once("&sign=").unwrap();
        assert_eq!(
            head,
            "https://oapi.dingtalk.com/robot/send?access_token=T&timestamp=1700000000000"
        );
        assert!(!sign.contains(['+', '/', '=']), "{sign}");
        let decoded: String = url::form_urlencoded::parse(format!("s={sign}").as_bytes())
            .next()
            .unwrap()
            .1
            .into_owned();
        assert_eq!(STANDARD.decode(decoded).unwrap().len(), 32);
        assert_ne!(sign, super::sign("SECabd", 1_700_000_000_000));
        // A known answer, worked out independently of this code.
        assert_eq!(
            super::sign("secret", 1_700_000_000_000),
            "OuzzJR5%2BxZ4%2FEYwqtNt6sMYZQMTa%2FHEGvc9miJe7XzY%3D"
        );
        assert_eq!(signed_url(&robot(""), 1), robot("").url);
    }
}
