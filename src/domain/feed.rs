//! The pull feed of events: where a consumer stands (an opaque cursor), which types it
//! asks for and how many at once.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::event::{EventType, in_feed};

/// Events answered when the request names no limit.
pub const DEFAULT_LIMIT: u32 = 100;
/// The most events one request may ask for.
pub const MAX_LIMIT: u32 = 1000;

/// A place in the feed: after the event `id` written by transaction `txid`. The feed is
/// ordered by (txid, id); clients see it only as an opaque string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cursor {
    pub txid: i64,
    pub id: i64,
}

impl Cursor {
    /// Before the first event.
    pub const START: Cursor = Cursor { txid: 0, id: 0 };

    /// Reads a cursor this service gave out; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(s).ok()?;
        let bytes: [u8; 16] = bytes.try_into().ok()?;
        let (txid, id) = bytes.split_at(8);
        let cursor = Cursor {
            txid: i64::from_be_bytes(txid.try_into().ok()?),
            id: i64::from_be_bytes(id.try_into().ok()?),
        };
        (cursor.txid >= 0 && cursor.id >= 0).then_some(cursor)
    }

    /// The string handed to clients.
    pub fn encode(self) -> String {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.txid.to_be_bytes());
        bytes[8..].copy_from_slice(&self.id.to_be_bytes());
        URL_SAFE_NO_PAD.encode(bytes)
    }
}

/// Why a feed request cannot be answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedQueryError {
    /// `after` is not a cursor this service gave out.
    Cursor,
    /// A name in `types` is not an event type of the feed.
    UnknownType(String),
    /// `limit` is not a whole number from 1 to [`MAX_LIMIT`].
    Limit,
}

impl std::fmt::Display for FeedQueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FeedQueryError::Cursor => f.write_str("after 不是本服务给出的游标"),
            FeedQueryError::UnknownType(name) => write!(f, "未知的事件类型：{name}"),
            FeedQueryError::Limit => write!(f, "limit 应为 1 到 {MAX_LIMIT} 的整数"),
        }
    }
}

/// A checked feed request: where to start, which types (never empty: no filter means every
/// type of the feed), how many.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedQuery {
    pub after: Cursor,
    pub types: Vec<EventType>,
    pub limit: u32,
}

impl FeedQuery {
    /// Checks the query parameters as sent: `after` (absent: from the beginning), `types`
    /// (comma-separated wire names; absent or blank: all) and `limit`.
    pub fn parse(
        after: Option<&str>,
        types: Option<&str>,
        limit: Option<&str>,
    ) -> Result<Self, FeedQueryError> {
        let after = match after {
            None => Cursor::START,
            Some(s) => Cursor::parse(s).ok_or(FeedQueryError::Cursor)?,
        };
        let mut chosen = Vec::new();
        for name in types.unwrap_or("").split(',').map(str::trim) {
            if name.is_empty() {
                continue;
            }
            let kind = EventType::parse(name)
                .filter(|t| in_feed(t.as_str()))
                .ok_or_else(|| FeedQueryError::UnknownType(name.to_string()))?;
            if !chosen.contains(&kind) {
                chosen.push(kind);
            }
        }
        if chosen.is_empty() {
            chosen = feed_types();
        }
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(s) => s
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or(FeedQueryError::Limit)?,
        };
        Ok(FeedQuery {
            after,
            types: chosen,
            limit,
        })
    }
}

/// Every event type the feed serves.
pub fn feed_types() -> Vec<EventType> {
    EventType::ALL
        .iter()
        .copied()
        .filter(|t| in_feed(t.as_str()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_what_it_wrote_and_nothing_else() {
        let c = Cursor {
            txid: 7_400_123,
            id: 42,
        };
        assert_eq!(Cursor::parse(&c.encode()), Some(c));
        assert_eq!(Cursor::parse(&Cursor::START.encode()), Some(Cursor::START));
        assert_eq!(Cursor::parse(""), None);
        assert_eq!(Cursor::parse("42"), None);
        assert_eq!(Cursor::parse("not a cursor!"), None);
        let negative = Cursor { txid: -1, id: 3 };
        assert_eq!(Cursor::parse(&negative.encode()), None);
        assert!(Cursor { txid: 2, id: 1 } > Cursor { txid: 1, id: 9 });
    }

    #[test]
    fn a_query_takes_known_types_and_a_limit_in_range() {
        let q = FeedQuery::parse(None, None, None).unwrap();
        assert_eq!(q.after, Cursor::START);
        assert_eq!(q.limit, DEFAULT_LIMIT);
        assert_eq!(q.types, feed_types());
        let q = FeedQuery::parse(
            None,
            Some("case.opened, visit.recorded,case.opened"),
            Some("5"),
        )
        .unwrap();
        assert_eq!(
            q.types,
            vec![EventType::CaseOpened, EventType::VisitRecorded]
        );
        assert_eq!(q.limit, 5);
        assert_eq!(
            FeedQuery::parse(None, Some("case.opened,case.eaten"), None),
            Err(FeedQueryError::UnknownType("case.eaten".into()))
        );
        for bad in ["0", "1001", "-1", "ten", ""] {
            assert_eq!(
                FeedQuery::parse(None, None, Some(bad)),
                Err(FeedQueryError::Limit),
                "{bad}"
            );
        }
        assert_eq!(
            FeedQuery::parse(Some("garbage"), None, None),
            Err(FeedQueryError::Cursor)
        );
    }
}
