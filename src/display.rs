//! How people read what the service keeps: instants in local time (`RENFANG_TZ`) in Chinese
//! form, how long ago, and audit entries in words. Pages, exports and reports all go through
//! here, so a time or a code reads the same everywhere; the JSON API keeps RFC 3339 and the
//! wire names for machines.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::domain::case::{EvidenceKind, Violation};
use crate::domain::door_check::{Outcome, Reason, Status};
use crate::domain::role::Role;
use crate::domain::sublandlord::FilingStatus;
use crate::domain::tip::TipState;
use crate::domain::unit::{RentalMode, UnitState};

/// An instant as people read it: local time in `tz`, to the minute (`2026-12-04 16:59`).
pub fn local_time(tz: Tz, ms: i64) -> String {
    instant(ms)
        .with_timezone(&tz)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// The local day of an instant (`2026-12-04`).
pub fn local_date(tz: Tz, ms: i64) -> String {
    instant(ms)
        .with_timezone(&tz)
        .format("%Y-%m-%d")
        .to_string()
}

/// How far `then` is from `now`, the way people say it: `刚刚`, `5 分钟前`, `3 小时前`,
/// `3 天前`, or for the future `2 天后`.
pub fn relative(now_ms: i64, then_ms: i64) -> String {
    let (gap, suffix) = if then_ms <= now_ms {
        (now_ms - then_ms, "前")
    } else {
        (then_ms - now_ms, "后")
    };
    let minutes = gap / 60_000;
    match minutes {
        0 => "刚刚".into(),
        1..=59 => format!("{minutes} 分钟{suffix}"),
        60..=1_439 => format!("{} 小时{suffix}", minutes / 60),
        _ => format!("{} 天{suffix}", minutes / 1_440),
    }
}

/// Local time with how long ago it was: `2026-12-04 16:59（3 天前）`.
pub fn local_time_ago(tz: Tz, now_ms: i64, ms: i64) -> String {
    format!("{}（{}）", local_time(tz, ms), relative(now_ms, ms))
}

fn instant(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// What an audit entry's action means, in Chinese; an action this table does not know is
/// shown as recorded, so nothing is hidden.
pub fn audit_action(action: &str) -> &str {
    match action {
        "occupants.register" => "登记居住人员",
        "occupants.confirm" => "确认人员无变化",
        "occupant.move_out" => "登记搬离",
        "occupant.move_out_undone" => "撤销搬离",
        "occupant.reveal" => "查看完整证件号码",
        "occupant.purge" => "按保存期限删除居住人员",
        "unit.create" => "新建房屋",
        "unit.import" => "导入房屋",
        "unit.vacancy" => "申报空置",
        "unit.vacancy_undone" => "撤销空置申报",
        "unit.rotate_poster" => "更换二维码",
        "filing.create" => "二房东报备",
        "filing.approve" => "通过报备",
        "filing.reject" => "驳回报备",
        "door_check.open" => "发起上门核查",
        "door_check.result" => "记录核查结果",
        "door_check.assign" => "分派上门核查",
        "door_check.purge_notes" => "按保存期限删除核查备注",
        "visit_photo.purge" => "按保存期限删除现场照片",
        "occupants.register_at_door" => "民警现场登记人员",
        "sublandlord.reveal_phone" => "查看二房东完整电话",
        "tip.triage" => "处理线索",
        "tip.purge" => "按保存期限删除线索",
        "tip.link_unit" => "线索对应到房屋",
        "user.create" => "新建账号",
        "user.password" => "修改密码",
        "user.disable" => "停用账号",
        "user.enable" => "启用账号",
        "sublandlord.signup_refused" => "拒绝二房东注册",
        "sublandlord.reveal" => "查看二房东完整姓名和手机号",
        "export.door_checks" => "导出上门核查清单",
        "export.monthly_report" => "导出月报",
        "export.ledger" => "导出重点二房东台账",
        "case.evidence" => "添加执法案件证据",
        "case.decision" => "记录执法案件处理决定",
        "case.close" => "执法案件结案",
        "export.cases" => "导出执法案件清单",
        "outbox.retry" => "立即重试外发消息",
        other => other,
    }
}

/// What an audit entry is about (`unit:12`), in Chinese (`房屋 #12`).
pub fn audit_subject(subject: &str) -> String {
    let Some((kind, id)) = subject.split_once(':') else {
        return subject.to_string();
    };
    let kind = match kind {
        "unit" => "房屋",
        "occupant" => "居住人员",
        "user" => "账号",
        "person" => "证件持有人",
        "door_check" => "上门核查",
        "tip" => "线索",
        "filing" => "报备",
        "community" => "社区",
        "report" => "月报",
        "phone" => "手机号",
        "visit_photo" => "现场照片",
        "case" => "执法案件",
        "outbox_message" => "外发消息",
        "outbox_destination" => "外发接收方",
        _ => return subject.to_string(),
    };
    match kind {
        "月报" => format!("{kind} {id}"),
        // A phone's key is a hash: its digits say nothing to a reader.
        "手机号" => format!("{kind}（已脱敏）"),
        _ => format!("{kind} #{id}"),
    }
}

/// An audit entry's details (a JSON object) as labelled lines a person reads; text that is
/// not a JSON object is one line as it is.
pub fn audit_detail(detail: &str) -> Vec<(String, String)> {
    let Ok(serde_json::Value::Object(fields)) = serde_json::from_str(detail) else {
        return vec![("详情".into(), detail.to_string())];
    };
    fields
        .iter()
        .map(|(key, value)| (detail_key(key).to_string(), detail_value(key, value)))
        .collect()
}

fn detail_key(key: &str) -> &str {
    match key {
        "outcome" => "结果",
        "destination" => "接收方",
        "messages" => "消息数",
        "reason" => "原因",
        "state" => "状态",
        "status" => "状态",
        "rental_mode" => "出租方式",
        "role" => "角色",
        "communities" => "社区",
        "community_id" => "社区",
        "rows" => "行数",
        "moved_out" => "搬离人数",
        "remaining" => "剩余人数",
        "renewed" => "再次申报",
        "unit" | "unit_id" => "房屋",
        "other_unit_id" => "另一房屋",
        "officer" => "分派给账号",
        "tip_id" => "线索",
        "sublandlord" => "二房东",
        "occupants" => "人数",
        "stored" => "定时生成",
        "moved_out_on" => "搬离日期",
        "undoes" => "撤销的记录",
        "vacancy" => "撤销空置",
        "restored" => "恢复在住人数",
        "registration_id" => "登记",
        "filing_id" => "报备",
        "new_unit" => "新建房屋",
        "created" => "新建",
        "self_registered" => "自行注册",
        "receipt" => "回执号",
        "by" => "操作方",
        "checks" => "核查事项",
        "met" => "见到人数",
        "photo" => "现场照片",
        "violation" => "违法类型",
        "penalty_yuan" => "罚款（元）",
        "decision_number" => "决定书文号",
        "decided_on" => "决定日期",
        "evidence_id" => "证据",
        "kind" => "证据类型",
        other => other,
    }
}

fn detail_value(key: &str, value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::String(code) => code_label(key, code).unwrap_or(code).to_string(),
        Value::Bool(true) => "是".into(),
        Value::Bool(false) => "否".into(),
        Value::Null => "无".into(),
        Value::Number(n) => match key {
            "unit" | "unit_id" | "other_unit_id" | "tip_id" | "undoes" | "registration_id"
            | "officer" | "filing_id" | "sublandlord" | "checks" | "evidence_id" => format!("#{n}"),
            _ => n.to_string(),
        },
        // An account with no communities listed sees them all.
        Value::Array(items) if items.is_empty() && key == "communities" => "全部".into(),
        Value::Array(items) if items.is_empty() => "无".into(),
        Value::Array(items) => items
            .iter()
            .map(|v| detail_value(key, v))
            .collect::<Vec<_>>()
            .join("、"),
        Value::Object(_) => value.to_string(),
    }
}

/// The Chinese label of a code stored under `key`, when the key names an enumeration.
fn code_label(key: &str, code: &str) -> Option<&'static str> {
    match key {
        "outcome" => Outcome::parse(code).map(Outcome::label_zh),
        "reason" => Reason::parse(code).map(Reason::label_zh),
        "state" => TipState::parse(code)
            .map(TipState::label_zh)
            .or_else(|| UnitState::parse(code).map(UnitState::label_zh)),
        "status" => Status::parse(code)
            .map(Status::label_zh)
            .or_else(|| FilingStatus::parse(code).map(FilingStatus::label_zh)),
        "rental_mode" => RentalMode::parse(code).map(RentalMode::label_zh),
        "violation" => Violation::parse(code).map(Violation::label_zh),
        "kind" => EvidenceKind::parse(code).map(EvidenceKind::label_zh),
        "role" => Role::parse(code).map(Role::label_zh),
        "by" => match code {
            "tenant" => Some("租客本人"),
            "account" => Some("账号"),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHANGHAI: Tz = chrono_tz::Asia::Shanghai;

    fn ms(rfc: &str) -> i64 {
        DateTime::parse_from_rfc3339(rfc)
            .unwrap()
            .timestamp_millis()
    }

    #[test]
    fn times_are_local_and_to_the_minute() {
        let at = ms("2026-12-04T08:59:14Z");
        assert_eq!(local_time(SHANGHAI, at), "2026-12-04 16:59");
        assert_eq!(
            local_date(SHANGHAI, ms("2026-12-04T16:30:00Z")),
            "2026-12-05"
        );
    }

    #[test]
    fn relative_times_read_as_people_say_them() {
        let now = ms("2026-12-04T08:00:00Z");
        assert_eq!(relative(now, now - 20_000), "刚刚");
        assert_eq!(relative(now, now - 5 * 60_000), "5 分钟前");
        assert_eq!(relative(now, now - 3 * 3_600_000), "3 小时前");
        assert_eq!(relative(now, now - 3 * 86_400_000 - 1), "3 天前");
        assert_eq!(relative(now, now + 2 * 86_400_000), "2 天后");
        assert_eq!(
            local_time_ago(SHANGHAI, now, now - 86_400_000),
            "2026-12-03 16:00（1 天前）"
        );
    }

    /// Every action the source records (`action: "unit.create"`, and the purge's and the
    /// account switch's) has its words here.
    #[test]
    fn every_recorded_action_has_its_words() {
        fn walk(dir: &std::path::Path, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    out.push(std::fs::read_to_string(path).unwrap());
                }
            }
        }
        let mut sources = Vec::new();
        walk(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut sources,
        );
        let mut actions = Vec::new();
        for text in &sources {
            for start in ["action: \"", "retention_entry(\"", "                \""] {
                for (i, _) in text.match_indices(start) {
                    let rest = &text[i + start.len()..];
                    let code = &rest[..rest.find('"').unwrap_or(0)];
                    let shape = code.split_once('.').is_some_and(|(a, b)| {
                        !a.is_empty()
                            && !b.is_empty()
                            && code
                                .chars()
                                .all(|c| c.is_ascii_lowercase() || c == '_' || c == '.')
                    });
                    if shape && !["html", "css"].iter().any(|ext| code.ends_with(ext)) {
                        actions.push(code.to_string());
                    }
                }
            }
        }
        assert!(actions.len() > 20, "{actions:?}");
        let unlabelled: Vec<&String> = actions
            .iter()
            .filter(|a| audit_action(a) == a.as_str())
            .collect();
        assert!(unlabelled.is_empty(), "{unlabelled:?}");
    }

    #[test]
    fn audit_entries_read_in_words() {
        assert_eq!(audit_action("door_check.result"), "记录核查结果");
        assert_eq!(audit_action("something.new"), "something.new");
        assert_eq!(audit_subject("unit:12"), "房屋 #12");
        assert_eq!(audit_subject("report:2026-11"), "月报 2026-11");
        assert_eq!(audit_subject("free text"), "free text");
        assert_eq!(
            audit_detail(r#"{"outcome":"violation","unit_id":3,"renewed":true}"#),
            [
                ("结果".to_string(), "发现违规".to_string()),
                ("再次申报".to_string(), "是".to_string()),
                ("房屋".to_string(), "#3".to_string()),
            ]
        );
        assert_eq!(
            audit_detail(r#"{"status":"filed","communities":[]}"#),
            [
                ("社区".to_string(), "全部".to_string()),
                ("状态".to_string(), "已生效".to_string()),
            ]
        );
        assert_eq!(
            audit_detail("not json"),
            [("详情".to_string(), "not json".to_string())]
        );
    }
}
