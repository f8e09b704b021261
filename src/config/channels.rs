//! The outbox's destinations in `renfang.toml`, one array of tables per channel kind:
//! `[[webhook]]`, `[[wecom]]`, `[[dingtalk]]` and `[[sms]]`. Names are unique across all of
//! them; secrets may come from the environment (`secret_env`, `url_env`, `env:NAME`).

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use anyhow::{Context, bail};
use serde::Deserialize;

use crate::domain::event::{ChannelKind, EventType, Route, SMS_EVENTS};

/// The tables of the file that are destinations, not settings.
pub(super) const TABLES: &[&str] = &["webhook", "wecom", "dingtalk", "sms"];

/// A `[[webhook]]` destination: signed JSON posts of the events it takes.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Webhook {
    /// Its name in the console, the metrics and the messages' keys.
    pub name: String,
    /// Where events are posted.
    pub url: String,
    /// The HMAC-SHA256 key of the signature header.
    #[serde(default)]
    pub secret: String,
    /// The environment variable holding the secret instead of `secret`.
    #[serde(default)]
    pub secret_env: Option<String>,
    /// Event types taken (`["*"]`: all).
    pub events: Vec<String>,
    /// Communities (by name) whose events are taken; empty: all.
    #[serde(default)]
    pub communities: Vec<String>,
}

/// A `[[wecom]]` destination: a WeCom (企业微信) group robot, sent Markdown.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeCom {
    pub name: String,
    /// The robot's webhook URL, its key included.
    #[serde(default)]
    pub url: String,
    /// The environment variable holding the URL instead of `url`.
    #[serde(default)]
    pub url_env: Option<String>,
    #[serde(default = "chat_events")]
    pub events: Vec<String>,
    #[serde(default)]
    pub communities: Vec<String>,
}

/// A `[[dingtalk]]` destination: a DingTalk (钉钉) group robot, sent Markdown, signed when it
/// has a secret.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DingTalk {
    pub name: String,
    /// The robot's webhook URL, its `access_token` included.
    pub url: String,
    /// The robot's signing secret (`SEC…`); empty: the robot is not in signed mode.
    #[serde(default)]
    pub secret: String,
    /// The environment variable holding the secret instead of `secret`.
    #[serde(default)]
    pub secret_env: Option<String>,
    #[serde(default = "chat_events")]
    pub events: Vec<String>,
    #[serde(default)]
    pub communities: Vec<String>,
}

/// An `[[sms]]` destination: an HTTP SMS gateway described by a request template with the
/// placeholders `{phone}` and `{text}`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sms {
    pub name: String,
    pub url: String,
    /// `POST` (the default), `GET` or `PUT`.
    #[serde(default = "post")]
    pub method: String,
    /// Request headers; a value `env:NAME` is read from the environment.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The request body template (empty: no body).
    #[serde(default)]
    pub body: String,
    /// For gateways that answer 200 with an error code: the JSON field (dotted path,
    /// `Response.Error.Code`) that must equal `success_value`.
    #[serde(default)]
    pub success_field: Option<String>,
    #[serde(default)]
    pub success_value: Option<String>,
    #[serde(default = "sms_events")]
    pub events: Vec<String>,
    #[serde(default)]
    pub communities: Vec<String>,
}

fn chat_events() -> Vec<String> {
    names(ChannelKind::WeCom.default_events())
}

fn sms_events() -> Vec<String> {
    names(SMS_EVENTS)
}

fn names(kinds: &[EventType]) -> Vec<String> {
    kinds.iter().map(|k| k.as_str().to_string()).collect()
}

fn post() -> String {
    "POST".into()
}

/// Every configured destination, by kind.
#[derive(Clone, Default, Debug)]
pub struct Destinations {
    pub webhook: Vec<Webhook>,
    pub wecom: Vec<WeCom>,
    pub dingtalk: Vec<DingTalk>,
    pub sms: Vec<Sms>,
}

impl Destinations {
    /// Each destination's name, kind and the events it takes.
    pub fn routes(&self) -> Vec<(String, ChannelKind, Route)> {
        routes(&self.webhook, &self.wecom, &self.dingtalk, &self.sms)
    }
}

/// Each destination's name, kind and the events it takes, kind by kind.
pub(super) fn routes(
    webhook: &[Webhook],
    wecom: &[WeCom],
    dingtalk: &[DingTalk],
    sms: &[Sms],
) -> Vec<(String, ChannelKind, Route)> {
    fn each<'a, T: 'a>(
        list: &'a [T],
        kind: ChannelKind,
        parts: impl Fn(&T) -> (&String, &Vec<String>, &Vec<String>) + 'a,
    ) -> impl Iterator<Item = (String, ChannelKind, Route)> + 'a {
        list.iter().map(move |d| {
            let (name, events, communities) = parts(d);
            let route = Route {
                events: events.clone(),
                communities: communities.clone(),
            };
            (name.clone(), kind, route)
        })
    }
    each(webhook, ChannelKind::Webhook, |d| {
        (&d.name, &d.events, &d.communities)
    })
    .chain(each(wecom, ChannelKind::WeCom, |d| {
        (&d.name, &d.events, &d.communities)
    }))
    .chain(each(dingtalk, ChannelKind::DingTalk, |d| {
        (&d.name, &d.events, &d.communities)
    }))
    .chain(each(sms, ChannelKind::Sms, |d| {
        (&d.name, &d.events, &d.communities)
    }))
    .collect()
}

/// The destinations of `path` (absent: none), each checked, with the secrets named by
/// `*_env` and `env:NAME` read from the environment.
pub(super) fn read(path: &Path) -> anyhow::Result<Destinations> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(Destinations::default());
    };
    #[derive(Deserialize)]
    struct File {
        #[serde(default)]
        webhook: Vec<Webhook>,
        #[serde(default)]
        wecom: Vec<WeCom>,
        #[serde(default)]
        dingtalk: Vec<DingTalk>,
        #[serde(default)]
        sms: Vec<Sms>,
    }
    let mut table: toml::Table =
        toml::from_str(&text).with_context(|| format!("reading {}", path.display()))?;
    table.retain(|k, _| {
        let k: &str = k;
        TABLES.contains(&k)
    });
    let file: File = toml::Value::Table(table)
        .try_into()
        .with_context(|| format!("{}: the destination tables", path.display()))?;
    let mut all = Destinations {
        webhook: file.webhook,
        wecom: file.wecom,
        dingtalk: file.dingtalk,
        sms: file.sms,
    };
    for hook in &mut all.webhook {
        from_env(&mut hook.secret, &hook.secret_env, &hook.name)?;
        if hook.secret.len() < 16 {
            bail!(
                "webhook {:?}: the secret needs 16 characters or more",
                hook.name
            );
        }
    }
    for robot in &mut all.wecom {
        from_env(&mut robot.url, &robot.url_env, &robot.name)?;
    }
    for robot in &mut all.dingtalk {
        from_env(&mut robot.secret, &robot.secret_env, &robot.name)?;
    }
    for gateway in &mut all.sms {
        for (header, value) in &mut gateway.headers {
            if let Some(var) = value.strip_prefix("env:") {
                *value = std::env::var(var).with_context(|| {
                    format!("sms {:?}: header {header}: {var} is not set", gateway.name)
                })?;
            }
        }
        let method = gateway.method.to_uppercase();
        if !["GET", "POST", "PUT"].contains(&method.as_str()) {
            bail!("sms {:?}: method must be GET, POST or PUT", gateway.name);
        }
        gateway.method = method;
        if gateway.success_field.is_some() != gateway.success_value.is_some() {
            bail!(
                "sms {:?}: success_field and success_value go together",
                gateway.name
            );
        }
        if let Some(kind) = gateway
            .events
            .iter()
            .find(|e| !SMS_EVENTS.iter().any(|k| k.as_str() == *e))
        {
            bail!(
                "sms {:?}: {kind:?} has no one to text; an SMS gateway takes {}",
                gateway.name,
                sms_events().join(", ")
            );
        }
    }
    let mut names = HashSet::new();
    for (name, kind, route) in all.routes() {
        if name.is_empty() || !names.insert(name.clone()) {
            bail!(
                "{}: destination names must be set and different (across webhook, wecom, \
                 dingtalk and sms)",
                path.display()
            );
        }
        let url = match kind {
            ChannelKind::Webhook => all.webhook.iter().find(|d| d.name == name).map(|d| &d.url),
            ChannelKind::WeCom => all.wecom.iter().find(|d| d.name == name).map(|d| &d.url),
            ChannelKind::DingTalk => all.dingtalk.iter().find(|d| d.name == name).map(|d| &d.url),
            ChannelKind::Sms => all.sms.iter().find(|d| d.name == name).map(|d| &d.url),
        };
        let url = url.map(String::as_str).unwrap_or_default();
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            bail!(
                "{} {name:?}: url must be https:// or http://",
                kind.as_str()
            );
        }
        for event in &route.events {
            if event != "*" && EventType::parse(event).is_none() {
                bail!("{} {name:?}: unknown event type {event:?}", kind.as_str());
            }
        }
    }
    Ok(all)
}

/// Replaces `value` by the environment variable `var` names, if one is named.
fn from_env(value: &mut String, var: &Option<String>, name: &str) -> anyhow::Result<()> {
    if let Some(var) = var {
        *value = std::env::var(var).with_context(|| format!("{name:?}: {var} is not set"))?;
    }
    Ok(())
}

/// Debug output names a destination and what it takes, never its secrets (a robot's URL
/// is one: its key is in it).
macro_rules! debug_without_secrets {
    ($($kind:ident),+) => {$(
        impl std::fmt::Debug for $kind {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($kind))
                    .field("name", &self.name)
                    .field("events", &self.events)
                    .field("communities", &self.communities)
                    .finish_non_exhaustive()
            }
        }
    )+};
}

debug_without_secrets!(Webhook, WeCom, DingTalk, Sms);
