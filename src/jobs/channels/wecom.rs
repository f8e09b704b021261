//! A `[[wecom]]` group robot (企业微信群机器人): the event in Chinese Markdown, posted to the
//! robot's webhook URL. It answers 200 with `{"errcode":0}` when it took the message.

use serde_json::json;

use super::{Outcome, Reach, event_of, robot_answer, send};
use crate::config::WeCom;
use crate::domain::message::{chat_markdown, clip_bytes};
use crate::store::outbox::Claimed;

/// The most content a WeCom Markdown message takes, in bytes of UTF-8.
const CONTENT_BYTES: usize = 4096;

pub(super) async fn deliver(robot: &WeCom, reach: &Reach<'_>, message: &Claimed) -> Outcome {
    let (kind, data) = match event_of(message) {
        Ok(event) => event,
        Err(undeliverable) => return undeliverable,
    };
    let content = chat_markdown(kind, &data, reach.public_url);
    let body = json!({
        "msgtype": "markdown",
        "markdown": { "content": clip_bytes(&content, CONTENT_BYTES) },
    });
    match send(reach.client.post(&robot.url).json(&body)).await {
        Ok((status, answer)) => robot_answer(status, &answer),
        Err(failed) => failed,
    }
}
