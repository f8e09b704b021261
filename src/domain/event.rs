//! Events that leave the service: what happened, for other systems. The list is kept here,
//! once, with the Chinese names the console shows.

use crate::wire_enum;

wire_enum!(
    /// The kind of an event sent to other systems.
    EventType {
        DoorCheckOpened = "door_check.opened" / "新增上门核查",
        VisitRecorded = "visit.recorded" / "记录上门结果",
        CaseOpened = "case.opened" / "执法案件立案",
        CaseDecided = "case.decided" / "执法案件作出决定",
        TipReceived = "tip.received" / "收到群众举报",
        ReminderOverdueSoon = "reminder.overdue_soon" / "逾期前提醒",
        ReminderConfirmationDue = "reminder.confirmation_due" / "确认到期提醒",
        DigestPolice = "digest.police" / "民警每日汇总",
    }
);

wire_enum!(
    /// How a destination is reached: its table in `renfang.toml` and its name in the console.
    ChannelKind {
        Webhook = "webhook" / "Webhook",
        WeCom = "wecom" / "企业微信机器人",
        DingTalk = "dingtalk" / "钉钉机器人",
        Sms = "sms" / "短信网关",
    }
);

impl ChannelKind {
    /// The event types a destination of this kind takes when its `events` are not given:
    /// the chat robots the "at once" alerts and the police digest, SMS the reminders.
    pub fn default_events(self) -> &'static [EventType] {
        match self {
            ChannelKind::Webhook => &[],
            ChannelKind::WeCom | ChannelKind::DingTalk => {
                &[EventType::DigestPolice, EventType::DoorCheckOpened]
            }
            ChannelKind::Sms => SMS_EVENTS,
        }
    }
}

/// The event types an SMS can go out for: those with a person to text (the sublandlord of
/// the unit, or the tenant), found when the message is delivered.
pub const SMS_EVENTS: &[EventType] = &[
    EventType::ReminderOverdueSoon,
    EventType::ReminderConfirmationDue,
];

/// Whether events of the type named `wire` are served by the pull feed. SMS reminders and
/// chat digests (`reminder.…`, `digest.…`) are messages to people, not facts for other
/// systems: they stay out of the feed, decided by the name so that types added later follow.
pub fn in_feed(wire: &str) -> bool {
    !(wire.starts_with("reminder.") || wire.starts_with("digest."))
}

/// An event to keep and send: its kind, the community it concerns and what other systems
/// may see of it (ids, codes, addresses, times; never document numbers, names or phones).
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub kind: EventType,
    pub community_id: i64,
    pub data: serde_json::Value,
}

/// Which events a destination takes: every kind (`*`) or the ones listed, and every
/// community or the ones listed by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub events: Vec<String>,
    pub communities: Vec<String>,
}

impl Route {
    /// Whether an event of `kind` in the community named `community` goes this way.
    pub fn takes(&self, kind: EventType, community: &str) -> bool {
        let kind_ok = self.events.iter().any(|e| e == "*" || e == kind.as_str());
        let community_ok =
            self.communities.is_empty() || self.communities.iter().any(|c| c == community);
        kind_ok && community_ok
    }
}

/// The delay before the attempt after `attempts` failed ones: exponential from `base_secs`,
/// doubling, capped at `cap_secs`, with full jitter (`unit` in [0, 1) picks within it).
pub fn backoff_secs(attempts: u32, base_secs: u64, cap_secs: u64, unit: f64) -> u64 {
    let exp = base_secs.saturating_mul(1u64 << attempts.saturating_sub(1).min(30));
    let ceiling = exp.min(cap_secs).max(1);
    ((ceiling as f64) * unit.clamp(0.0, 1.0)).round().max(1.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_takes_listed_kinds_and_communities_only() {
        let r = Route {
            events: vec!["visit.recorded".into()],
            communities: vec!["影佳".into()],
        };
        assert!(r.takes(EventType::VisitRecorded, "影佳"));
        assert!(!r.takes(EventType::CaseOpened, "影佳"));
        assert!(!r.takes(EventType::VisitRecorded, "张江"));
        let all = Route {
            events: vec!["*".into()],
            communities: vec![],
        };
        assert!(all.takes(EventType::TipReceived, "张江"));
    }

    #[test]
    fn reminders_and_digests_stay_out_of_the_feed_by_their_name() {
        assert!(in_feed("visit.recorded"));
        assert!(in_feed("case.opened"));
        assert!(!in_feed("reminder.sms_sent"));
        assert!(!in_feed("reminder.overdue_upload"));
        assert!(!in_feed("digest.police_chat"));
        // The prefix is the whole first part of the name, not any name that begins alike.
        assert!(in_feed("reminders_log.kept"));
    }

    #[test]
    fn the_backoff_doubles_within_its_cap_and_never_is_zero() {
        assert_eq!(backoff_secs(1, 30, 21_600, 1.0), 30);
        assert_eq!(backoff_secs(3, 30, 21_600, 1.0), 120);
        assert_eq!(backoff_secs(12, 30, 21_600, 1.0), 21_600);
        assert_eq!(backoff_secs(5, 30, 21_600, 0.0), 1);
        assert!(backoff_secs(4, 30, 21_600, 0.5) <= 240);
    }
}
