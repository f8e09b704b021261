//! An `[[sms]]` gateway: one HTTP request per text, made from the configured template with
//! `{phone}` and `{text}` filled in. The phone is in no event and no message: it is found
//! and opened when the message is sent (the sublandlord's for `reminder.overdue_soon`, the
//! tenant's for `reminder.confirmation_due`), and is never logged or kept with an attempt.

use serde_json::Value;

use super::{Outcome, Reach, event_of, send};
use crate::config::Sms;
use crate::crypto::Purpose;
use crate::domain::event::EventType;
use crate::domain::message::{link_of, sms_text};
use crate::qr::template::xml_escape;
use crate::service::self_service::link_with;
use crate::store::outbox::Claimed;
use crate::store::{reminders, self_service, sublandlords};

/// The error of a message with no one to send it to.
pub const NO_PHONE: &str = "无可用手机号";
/// The error of a reminder whose deadline moved (an upload, a confirmation, a vacancy)
/// between queueing and sending, e.g. while it waited for the quiet hours to end.
pub const NO_LONGER_DUE: &str = "提醒已失效：期限已变";

pub(super) async fn deliver(gateway: &Sms, reach: &Reach<'_>, message: &Claimed) -> Outcome {
    let (kind, data) = match event_of(message) {
        Ok(event) => event,
        Err(undeliverable) => return undeliverable,
    };
    match still_due(reach, kind, &data).await {
        Ok(true) => {}
        Ok(false) => {
            return Outcome::Undeliverable {
                error: NO_LONGER_DUE.into(),
            };
        }
        Err(error) => {
            return Outcome::Failed {
                status: None,
                error,
            };
        }
    }
    let (phone, link) = match recipient(reach, kind, &data).await {
        Ok(Some(found)) => found,
        Ok(None) => {
            return Outcome::Undeliverable {
                error: NO_PHONE.into(),
            };
        }
        Err(error) => {
            return Outcome::Failed {
                status: None,
                error,
            };
        }
    };
    let text = sms_text(kind, &data, &link);
    let request = render(gateway, &phone, &text);
    let method =
        reqwest::Method::from_bytes(gateway.method.as_bytes()).unwrap_or(reqwest::Method::POST);
    let mut builder = reach.client.request(method, &request.url);
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    if !request.body.is_empty() {
        builder = builder.body(request.body);
    }
    let (status, answer) = match send(builder).await {
        Ok(answered) => answered,
        Err(failed) => return failed,
    };
    match (&gateway.success_field, &gateway.success_value) {
        (Some(field), Some(want)) => {
            let got = field_of(&answer, field);
            if got.as_deref() == Some(want.as_str()) {
                Outcome::Delivered { status }
            } else {
                // Only a short code is kept: a whole answer could echo the phone number.
                let got = match got {
                    Some(code) if code.chars().count() <= 40 && !code.starts_with(['{', '[']) => {
                        code
                    }
                    Some(_) => "(not a code)".into(),
                    None => "(absent)".into(),
                };
                Outcome::Failed {
                    status: Some(status),
                    error: format!("{field} = {got}"),
                }
            }
        }
        _ => Outcome::Delivered { status },
    }
}

/// Whether the clock a reminder was queued for still runs as it did (a reminder without
/// the clock's start is taken as due).
async fn still_due(reach: &Reach<'_>, kind: EventType, data: &Value) -> Result<bool, String> {
    let clock_kind = match kind {
        EventType::ReminderOverdueSoon => data["reason"].as_str().unwrap_or_default(),
        EventType::ReminderConfirmationDue => "unconfirmed",
        _ => return Ok(true),
    };
    let (Some(unit), Some(clock_from)) = (data["unit_id"].as_i64(), data["clock_from"].as_i64())
    else {
        return Ok(true);
    };
    reminders::still_due(reach.store, unit, clock_kind, clock_from)
        .await
        .map_err(|e| format!("looking up the unit's clock: {e}"))
}

/// The phone to text and the link to give, if there is someone: `Err` only when the
/// look-up itself failed (worth a retry).
async fn recipient(
    reach: &Reach<'_>,
    kind: EventType,
    data: &Value,
) -> Result<Option<(String, String)>, String> {
    let id = |key: &str| data[key].as_i64();
    let found = match kind {
        EventType::ReminderOverdueSoon => {
            let Some(sublandlord) = id("sublandlord_id") else {
                return Ok(None);
            };
            sublandlords::sealed_phone(reach.store, sublandlord)
                .await
                .map_err(|e| format!("looking up the sublandlord: {e}"))?
                .map(|sealed| (sealed, link_of(data, reach.public_url, "/my/units")))
        }
        EventType::ReminderConfirmationDue => {
            let (Some(occupant), Some(registration)) = (id("occupant_id"), id("registration_id"))
            else {
                return Ok(None);
            };
            self_service::tenant_contact(reach.store, occupant, registration)
                .await
                .map_err(|e| format!("looking up the tenant: {e}"))?
                .map(|(sealed, receipt)| {
                    (sealed, link_with(reach.vault, reach.public_url, &receipt))
                })
        }
        _ => None,
    };
    let Some((sealed, link)) = found else {
        return Ok(None);
    };
    let phone = reach
        .vault
        .open(Purpose::Phone, &sealed)
        .map_err(|_| "the phone number could not be opened with this data key".to_string())?;
    Ok((!phone.trim().is_empty()).then_some((phone, link)))
}

/// A gateway request with its placeholders filled in.
#[derive(Debug, PartialEq, Eq)]
struct Request {
    url: String,
    headers: Vec<(String, String)>,
    body: String,
}

/// Fills `{phone}` and `{text}` in: URL-encoded in the URL, as they are in headers, and in
/// the body as its `Content-Type` needs (JSON string escapes, form encoding, or raw).
fn render(gateway: &Sms, phone: &str, text: &str) -> Request {
    let content_type = gateway
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
        .map(|(_, value)| value.to_ascii_lowercase())
        .unwrap_or_default();
    let body_encoding: fn(&str) -> String = if content_type.contains("json") {
        json_escaped
    } else if content_type.contains("x-www-form-urlencoded") {
        url_encoded
    } else if content_type.contains("xml") {
        xml_escape
    } else {
        raw
    };
    Request {
        url: fill(&gateway.url, phone, text, url_encoded),
        headers: gateway
            .headers
            .iter()
            .map(|(name, value)| (name.clone(), fill(value, phone, text, raw)))
            .collect(),
        body: fill(&gateway.body, phone, text, body_encoding),
    }
}

/// Replaces the placeholders in one pass, so a text that contains `{phone}` stays as it is.
fn fill(template: &str, phone: &str, text: &str, encode: fn(&str) -> String) -> String {
    let mut out = String::with_capacity(template.len() + text.len());
    let mut rest = template;
    while let Some(at) = rest.find('{') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("{phone}") {
            out.push_str(&encode(phone));
            rest = after;
        } else if let Some(after) = tail.strip_prefix("{text}") {
            out.push_str(&encode(text));
            rest = after;
        } else {
            out.push('{');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

fn json_escaped(value: &str) -> String {
    let quoted = serde_json::to_string(value).expect("a string serialises");
    quoted[1..quoted.len() - 1].to_string()
}

fn url_encoded(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

fn raw(value: &str) -> String {
    value.to_string()
}

/// The answer's JSON field at a dotted path (`Response.SendStatusSet.0.Code`), as text.
fn field_of(answer: &str, path: &str) -> Option<String> {
    let answer: Value = serde_json::from_str(answer).ok()?;
    let pointer: String = path.split('.').map(|part| format!("/{part}")).collect();
    match answer.pointer(&pointer)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gateway(content_type: &str, body: &str) -> Sms {
        Sms {
            name: "sms".into(),
            url: "http://gw/send?to={phone}&msg={text}".into(),
            method: "POST".into(),
            headers: [
                ("Content-Type".to_string(), content_type.to_string()),
                ("X-To".to_string(), "{phone}".to_string()),
            ]
            .into(),
            body: body.into(),
            success_field: None,
            success_value: None,
            events: vec![],
            communities: vec![],
        }
    }

    const TEXT: &str = "【人房共管】\"A&B\" 路 {phone}";

    #[test]
    fn an_xml_body_gets_the_text_escaped_as_character_data() {
        let filled = render(
            &gateway(
                "text/xml; charset=utf-8",
                "<sms><to>{phone}</to><msg>{text}</msg></sms>",
            ),
            "13900000001",
            "A&B <路> \"1号\"",
        );
        assert_eq!(
            filled.body,
            "<sms><to>13900000001</to><msg>A&amp;B &lt;路&gt; &quot;1号&quot;</msg></sms>"
        );
    }

    #[test]
    fn a_json_body_gets_the_text_escaped_as_a_string() {
        let r = render(
            &gateway("application/json", r#"{"to":"{phone}","msg":"{text}"}"#),
            "13800138000",
            TEXT,
        );
        let body: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(body["msg"], TEXT, "the text's own {{phone}} stays");
        assert_eq!(body["to"], "13800138000");
        assert_eq!(r.headers[1], ("X-To".into(), "13800138000".into()));
        assert!(
            r.url
                .starts_with("http://gw/send?to=13800138000&msg=%E3%80%90")
        );
        assert!(r.url.contains("%22A%26B%22+"), "{}", r.url);
    }

    #[test]
    fn a_form_body_is_url_encoded_and_other_bodies_are_raw() {
        let r = render(
            &gateway("application/x-www-form-urlencoded", "to={phone}&msg={text}"),
            "13800138000",
            TEXT,
        );
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(r.body.as_bytes())
            .into_owned()
            .collect();
        assert_eq!(
            pairs,
            [
                ("to".to_string(), "13800138000".to_string()),
                ("msg".to_string(), TEXT.to_string())
            ]
        );
        let r = render(&gateway("text/plain", "{phone}:{text}"), "1", "a&b");
        assert_eq!(r.body, "1:a&b");
    }

    #[test]
    fn the_success_field_is_read_by_its_dotted_path() {
        let answer = r#"{"Code":"OK","Response":{"Set":[{"Code":"Ok"}]},"n":0}"#;
        assert_eq!(field_of(answer, "Code").as_deref(), Some("OK"));
        assert_eq!(
            field_of(answer, "Response.Set.0.Code").as_deref(),
            Some("Ok")
        );
        assert_eq!(field_of(answer, "n").as_deref(), Some("0"));
        assert_eq!(field_of(answer, "Missing"), None);
        assert_eq!(field_of("not json", "Code"), None);
    }
}
