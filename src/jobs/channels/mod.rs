//! The channels a message leaves by, one module each: a signed JSON webhook, a WeCom or a
//! DingTalk group robot (Markdown), an HTTP SMS gateway. The dispatcher knows only
//! [`Channel`]; a new kind is a variant here, its module, and its table in the config.

mod dingtalk;
pub mod sms;
mod webhook;
mod wecom;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::config::{DingTalk, Settings, Sms, WeCom, Webhook};
use crate::crypto::Vault;
use crate::domain::event::{ChannelKind, EventType};
use crate::store::Store;
use crate::store::outbox::Claimed;

/// The longest answer body read from a receiver.
const ANSWER_BYTES: usize = 64 * 1024;

/// A configured destination and how it is reached.
#[derive(Clone)]
pub enum Channel {
    Webhook(Webhook),
    WeCom(WeCom),
    DingTalk(DingTalk),
    Sms(Sms),
}

/// What a delivery needs besides the message: the HTTP client, the store and the key (to
/// find and open a recipient's phone), the public URL (for links) and the instant.
pub struct Reach<'a> {
    pub client: &'a reqwest::Client,
    pub store: &'a Store,
    pub vault: &'a Vault,
    pub public_url: &'a str,
    pub at: DateTime<Utc>,
}

/// How one delivery attempt went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Taken (the HTTP status).
    Delivered { status: i64 },
    /// Not taken; worth another attempt later.
    Failed { status: Option<i64>, error: String },
    /// No attempt can succeed (there is no one to send it to): given up at once.
    Undeliverable { error: String },
}

impl Channel {
    /// Every configured destination by name.
    pub fn all(settings: &Settings) -> HashMap<String, Channel> {
        let webhook = settings
            .webhook
            .iter()
            .map(|d| (d.name.clone(), Channel::Webhook(d.clone())));
        let wecom = settings
            .wecom
            .iter()
            .map(|d| (d.name.clone(), Channel::WeCom(d.clone())));
        let dingtalk = settings
            .dingtalk
            .iter()
            .map(|d| (d.name.clone(), Channel::DingTalk(d.clone())));
        let sms = settings
            .sms
            .iter()
            .map(|d| (d.name.clone(), Channel::Sms(d.clone())));
        webhook.chain(wecom).chain(dingtalk).chain(sms).collect()
    }

    /// The kind, as the config and the console name it.
    pub fn kind(&self) -> ChannelKind {
        match self {
            Channel::Webhook(_) => ChannelKind::Webhook,
            Channel::WeCom(_) => ChannelKind::WeCom,
            Channel::DingTalk(_) => ChannelKind::DingTalk,
            Channel::Sms(_) => ChannelKind::Sms,
        }
    }

    /// Whether quiet hours hold its messages: texts to people's phones wait for the
    /// morning; group chats and other systems are not woken by a message.
    pub fn keeps_quiet_hours(&self) -> bool {
        matches!(self, Channel::Sms(_))
    }

    /// Makes one delivery attempt of `message`.
    pub async fn deliver(&self, reach: &Reach<'_>, message: &Claimed) -> Outcome {
        match self {
            Channel::Webhook(hook) => webhook::deliver(hook, reach, message).await,
            Channel::WeCom(robot) => wecom::deliver(robot, reach, message).await,
            Channel::DingTalk(robot) => dingtalk::deliver(robot, reach, message).await,
            Channel::Sms(gateway) => sms::deliver(gateway, reach, message).await,
        }
    }
}

/// The event type and data of a message's payload.
fn event_of(message: &Claimed) -> Result<(EventType, Value), Outcome> {
    let kind = EventType::parse(&message.event_type).ok_or_else(|| Outcome::Undeliverable {
        error: format!("unknown event type {:?}", message.event_type),
    })?;
    let payload: Value =
        serde_json::from_str(&message.payload).map_err(|e| Outcome::Undeliverable {
            error: format!("the stored payload is not JSON: {e}"),
        })?;
    Ok((kind, payload["data"].clone()))
}

/// Sends `request`; a 2xx answer gives its status and (the start of) its body, anything
/// else a failed outcome. The error never names the URL (an SMS gateway's has the phone).
async fn send(request: reqwest::RequestBuilder) -> Result<(i64, String), Outcome> {
    let response = request.send().await.map_err(|e| Outcome::Failed {
        status: None,
        error: error_chain(&e.without_url()),
    })?;
    let status = response.status();
    let code = i64::from(status.as_u16());
    if !status.is_success() {
        return Err(Outcome::Failed {
            status: Some(code),
            error: format!("HTTP {}", status.as_u16()),
        });
    }
    // Read in chunks up to the bound: a receiver that answers without end costs no more.
    let mut response = response;
    let mut bytes = Vec::new();
    while bytes.len() < ANSWER_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            Ok(None) => break,
            Err(e) => {
                return Err(Outcome::Failed {
                    status: Some(code),
                    error: error_chain(&e.without_url()),
                });
            }
        }
    }
    let body = String::from_utf8_lossy(&bytes[..bytes.len().min(ANSWER_BYTES)]).into_owned();
    Ok((code, body))
}

/// A group robot's answer: HTTP 200 with `{"errcode":0,…}` is delivery; another errcode is
/// a failure kept as `errcode N: errmsg`.
fn robot_answer(status: i64, body: &str) -> Outcome {
    let answer: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    match answer["errcode"].as_i64() {
        Some(0) => Outcome::Delivered { status },
        Some(code) => Outcome::Failed {
            status: Some(status),
            error: format!(
                "errcode {code}: {}",
                answer["errmsg"].as_str().unwrap_or_default()
            ),
        },
        None => Outcome::Failed {
            status: Some(status),
            error: "the robot's answer has no errcode".into(),
        },
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_robot_answer_is_delivery_only_with_errcode_zero() {
        assert_eq!(
            robot_answer(200, r#"{"errcode":0,"errmsg":"ok"}"#),
            Outcome::Delivered { status: 200 }
        );
        assert_eq!(
            robot_answer(200, r#"{"errcode":93000,"errmsg":"invalid webhook url"}"#),
            Outcome::Failed {
                status: Some(200),
                error: "errcode 93000: invalid webhook url".into()
            }
        );
        assert!(matches!(
            robot_answer(200, "<html>"),
            Outcome::Failed { .. }
        ));
    }
}
