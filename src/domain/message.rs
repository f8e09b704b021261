//! The words of the outbox: what a chat group (WeCom, DingTalk) and a phone (SMS) are told
//! of each event type, in Chinese, from the event's data. Every text of the channels is
//! here, in one place.

use serde_json::Value;

use super::case::Violation;
use super::door_check::{Outcome, Reason};
use super::event::EventType;
use super::tip::Category;

/// The signature every text message carries (the operators require one).
pub const SMS_SIGNATURE: &str = "【人房共管】";

/// A chat message's title (DingTalk shows it in the conversation list).
pub fn chat_title(kind: EventType, data: &Value) -> String {
    format!("{} {}", text(data, "community"), kind.label_zh())
        .trim()
        .to_string()
}

/// The Markdown of a chat message (WeCom and DingTalk group robots); links are made from
/// `link_base` (the service's public URL) and the path the event names.
pub fn chat_markdown(kind: EventType, data: &Value, link_base: &str) -> String {
    let community = text(data, "community");
    let address = text(data, "address");
    let link = |label: &str, path: &str| format!("[{label}]({link_base}{path})");
    match kind {
        EventType::DigestPolice => format!(
            "**{community}** {}\n> 昨日新增待核查 {} 处，现共 {} 处待核查，逾期最久 {} 天\n> 昨日记录核查结果 {} 条\n{}",
            text(data, "day"),
            text(data, "new_checks"),
            text(data, "open_checks"),
            text(data, "longest_overdue_days"),
            text(data, "results_yesterday"),
            link("打开核查队列", &path_or(data, "/police")),
        ),
        EventType::DoorCheckOpened => format!(
            "**{community}** 新增上门核查\n> {address}\n> 原因：{}\n{}",
            label(data, "reason", |c| Reason::parse(c).map(Reason::label_zh)),
            link("打开核查队列", "/police"),
        ),
        EventType::VisitRecorded => {
            let referred = if data["referral_id"].is_null() {
                ""
            } else {
                "，已移交执法"
            };
            format!(
                "**{community}** 记录上门结果\n> {address}\n> 结果：{}{referred}",
                label(data, "outcome", |c| Outcome::parse(c)
                    .map(Outcome::label_zh)),
            )
        }
        EventType::CaseOpened => format!(
            "**{community}** 执法案件立案\n> {address}\n> 案件编号 {}\n{}",
            text(data, "case_id"),
            link("打开执法案件", "/enforcement"),
        ),
        EventType::CaseDecided => {
            let mut lines = format!(
                "**{community}** 执法案件作出决定\n> {address}\n> {}",
                label(data, "violation", |c| Violation::parse(c)
                    .map(Violation::label_zh)),
            );
            if let Some(yuan) = data["penalty_yuan"].as_i64().filter(|y| *y > 0) {
                lines.push_str(&format!("，罚款 {yuan} 元"));
            }
            let number = text(data, "decision_number");
            if !number.is_empty() {
                lines.push_str(&format!(
                    "\n> 决定书 {number}（{}）",
                    text(data, "decided_on")
                ));
            }
            lines
        }
        EventType::TipReceived => {
            let place = if address.is_empty() {
                "地址未能对应到房屋".to_string()
            } else {
                address
            };
            format!(
                "**{community}** 收到群众举报\n> {}：{place}\n{}",
                label(data, "category", |c| Category::parse(c)
                    .map(Category::label_zh)),
                link("打开举报", "/console/tips"),
            )
        }
        EventType::ReminderOverdueSoon => format!(
            "**{community}** 逾期前提醒\n> {address}\n> {} 天后（{}）将{}\n{}",
            text(data, "days_left"),
            text(data, "due_on"),
            label(data, "reason", |c| Reason::parse(c).map(Reason::label_zh)),
            link("打开房屋", &path_or(data, "/my/units")),
        ),
        EventType::ReminderConfirmationDue => format!(
            "**{community}** 确认到期提醒\n> {address}\n> 住户信息请于 {} 前确认",
            text(data, "due_on"),
        ),
    }
}

/// The text of an SMS, signed; `link` is where the person acts (their unit page, or a
/// tenant's self-service link). Short: one message of 70 characters where the address
/// allows.
pub fn sms_text(kind: EventType, data: &Value, link: &str) -> String {
    let address = text(data, "address");
    let body = match kind {
        EventType::ReminderOverdueSoon => {
            let what = match data["reason"].as_str() {
                Some("unconfirmed") => "住户信息需确认",
                _ => "尚无登记",
            };
            format!(
                "{address}{what}，{}天后（{}）逾期，请及时处理：{link}",
                text(data, "days_left"),
                short_date(&text(data, "due_on")),
            )
        }
        EventType::ReminderConfirmationDue => format!(
            "您在{address}的登记请于{}前确认：{link}",
            short_date(&text(data, "due_on")),
        ),
        other => format!("{}：{address} {link}", other.label_zh()),
    };
    format!("{SMS_SIGNATURE}{body}")
}

/// `link_base` joined to the path the event names (`path`), or to `fallback`.
pub fn link_of(data: &Value, link_base: &str, fallback: &str) -> String {
    format!("{link_base}{}", path_or(data, fallback))
}

/// Cuts `text` to at most `max_bytes` bytes of UTF-8 without splitting a character.
pub fn clip_bytes(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn path_or(data: &Value, fallback: &str) -> String {
    match data["path"].as_str() {
        Some(p) if p.starts_with('/') => p.to_string(),
        _ => fallback.to_string(),
    }
}

/// A field as text: strings as they are, numbers written out, anything else empty.
fn text(data: &Value, key: &str) -> String {
    match &data[key] {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// The Chinese label of the code in `key`, or the code itself if it is not known.
fn label(data: &Value, key: &str, zh: impl Fn(&str) -> Option<&'static str>) -> String {
    let code = text(data, key);
    zh(&code).map(str::to_string).unwrap_or(code)
}

/// `2026-12-08` as `12月8日`.
fn short_date(day: &str) -> String {
    match chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d") {
        Ok(d) => {
            use chrono::Datelike;
            format!("{}月{}日", d.month(), d.day())
        }
        Err(_) => day.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const BASE: &str = "https://renfang.example.gov.cn";

    #[test]
    fn the_police_digest_reads_as_one_glance() {
        let data = json!({"day": "2026-12-06", "new_checks": 7, "open_checks": 23,
                          "longest_overdue_days": 12, "results_yesterday": 5,
                          "path": "/police", "community_id": 1, "community": "影佳"});
        assert_eq!(
            chat_markdown(EventType::DigestPolice, &data, BASE),
            "**影佳** 2026-12-06\n> 昨日新增待核查 7 处，现共 23 处待核查，逾期最久 12 天\n\
             > 昨日记录核查结果 5 条\n[打开核查队列](https://renfang.example.gov.cn/police)"
        );
        assert_eq!(
            chat_title(EventType::DigestPolice, &data),
            "影佳 民警每日汇总"
        );
    }

    #[test]
    fn codes_are_shown_by_their_chinese_labels() {
        let opened = json!({"door_check_id": 4, "unit_id": 9, "address": "影佳路 8号 801室",
                            "reason": "identity_conflict", "community": "影佳"});
        let md = chat_markdown(EventType::DoorCheckOpened, &opened, BASE);
        assert!(
            md.contains("证件多处在住") && md.contains("影佳路 8号 801室"),
            "{md}"
        );
        assert!(!md.contains("identity_conflict"));
        let decided = json!({"case_id": 3, "unit_id": 9, "address": "祥东路 1号",
                             "violation": "group_rental", "penalty_yuan": 5000,
                             "decision_number": "松综执罚〔2026〕921号",
                             "decided_on": "2026-12-05", "community": "祥东"});
        let md = chat_markdown(EventType::CaseDecided, &decided, BASE);
        assert!(
            md.contains("群租，罚款 5000 元") && md.contains("921号"),
            "{md}"
        );
        let visit = json!({"unit_id": 9, "address": "a", "outcome": "violation",
                           "checks": 1, "referral_id": 2, "community": "影佳"});
        let md = chat_markdown(EventType::VisitRecorded, &visit, BASE);
        assert!(md.contains("发现违规，已移交执法"), "{md}");
        let tip = json!({"tip_id": 1, "category": "daily_rental", "unit_id": null,
                         "address": null, "community": "影佳"});
        let md = chat_markdown(EventType::TipReceived, &tip, BASE);
        assert!(md.contains("日租房：地址未能对应到房屋"), "{md}");
    }

    #[test]
    fn every_event_type_has_words_for_chat_and_sms() {
        let data = json!({"address": "影佳路 1号", "community": "影佳", "due_on": "2026-12-08"});
        for kind in EventType::ALL {
            let md = chat_markdown(*kind, &data, BASE);
            assert!(md.starts_with("**影佳**"), "{kind:?}: {md}");
            assert!(sms_text(*kind, &data, "x").starts_with(SMS_SIGNATURE));
        }
    }

    #[test]
    fn reminders_by_sms_are_short_signed_and_carry_the_link() {
        let overdue = json!({"unit_id": 12, "address": "影佳路 100弄 1号 201室",
                             "reason": "no_upload", "days_left": 2, "due_on": "2026-12-08",
                             "sublandlord_id": 3, "path": "/my/units/12",
                             "community": "影佳"});
        let link = link_of(&overdue, BASE, "/my/units");
        assert_eq!(link, "https://renfang.example.gov.cn/my/units/12");
        let sms = sms_text(EventType::ReminderOverdueSoon, &overdue, &link);
        assert_eq!(
            sms,
            "【人房共管】影佳路 100弄 1号 201室尚无登记，2天后（12月8日）逾期，请及时处理：\
             https://renfang.example.gov.cn/my/units/12"
        );
        let without_link = sms.replace(&link, "");
        assert!(without_link.chars().count() <= 70, "{without_link}");
        let due = json!({"unit_id": 12, "address": "影佳路 100弄 1号 201室",
                         "occupant_id": 5, "registration_id": 4, "due_on": "2026-12-31"});
        let sms = sms_text(EventType::ReminderConfirmationDue, &due, "https://x/me/t");
        assert_eq!(
            sms,
            "【人房共管】您在影佳路 100弄 1号 201室的登记请于12月31日前确认：https://x/me/t"
        );
    }

    #[test]
    fn clipping_keeps_whole_characters() {
        assert_eq!(clip_bytes("影佳路", 9), "影佳路");
        assert_eq!(clip_bytes("影佳路", 8), "影佳");
        assert_eq!(clip_bytes("影佳路", 2), "");
        assert_eq!(clip_bytes("ab", 1), "a");
    }
}
