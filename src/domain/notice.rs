//! The personal-data notice shown before collection (PIPL art. 17, 29).
//!
//! Changing the text means changing `NOTICE_VERSION`: each registration stores the version
//! its submitter saw, and a submission that saw an older one is refused.

/// Version of the notice below.
pub const NOTICE_VERSION: &str = "2026-11-v1";

/// How long occupants' personal data is kept after they move out (days).
pub const RETENTION_DAYS: u32 = 180;

/// One heading and its text.
pub struct NoticeSection {
    /// Short heading.
    pub title: &'static str,
    /// One or two sentences.
    pub body: &'static str,
}

/// The notice in Chinese.
pub const NOTICE_ZH: [NoticeSection; 5] = [
    NoticeSection {
        title: "收集什么",
        body: "每位居住人的姓名、证件类型和号码、联系电话（可不填）、所住房间和入住日期。",
    },
    NoticeSection {
        title: "为什么收集",
        body: "依据本市出租房屋管理规定，用于实有人口登记和出租房屋安全管理（人房共管），不作他用。",
    },
    NoticeSection {
        title: "谁能看到",
        body: "仅本社区民警、协管员及镇平安办等经授权的工作人员；证件号码加密保存，页面上只显示部分号码。",
    },
    NoticeSection {
        title: "保存多久",
        body: "搬离登记后 180 天内删除个人信息，仅保留不含个人信息的统计数字。",
    },
    NoticeSection {
        title: "找谁询问",
        body: "对登记信息有疑问、需要更正或删除，请联系所在社区居委会或拨打镇平安办电话。",
    },
];

/// The notice in English, for foreign residents.
pub const NOTICE_EN: [NoticeSection; 5] = [
    NoticeSection {
        title: "What we collect",
        body: "For each person living here: name, type and number of identity document, phone (optional), room and move-in date.",
    },
    NoticeSection {
        title: "Why",
        body: "Shanghai's rental housing rules require residents to be registered; the data is used for that and for housing safety only.",
    },
    NoticeSection {
        title: "Who sees it",
        body: "Only authorised community police and town office staff. Document numbers are stored encrypted and shown only in part.",
    },
    NoticeSection {
        title: "How long",
        body: "Personal data is deleted within 180 days after you move out; only anonymous counts are kept.",
    },
    NoticeSection {
        title: "Whom to ask",
        body: "For questions, corrections or deletion, contact your neighbourhood committee or the town office.",
    },
];

/// The Chinese notice as one plain text (for the JSON API).
pub fn notice_text_zh() -> String {
    NOTICE_ZH
        .iter()
        .map(|s| format!("{}：{}", s.title, s.body))
        .collect::<Vec<_>>()
        .join("\n")
}
