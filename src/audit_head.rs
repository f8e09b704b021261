//! The audit log's newest position, kept where a database writer cannot reach it.
//!
//! Keyed links stop a database writer from changing a row or recomputing the chain, but
//! deleting the newest rows leaves every remaining link intact. So after each commit that
//! appended audit rows, the newest row's id and keyed hash are also written to a file
//! (`RENFANG_AUDIT_HEAD_FILE`, by default `renfang.head` beside a SQLite database) and,
//! with `RENFANG_REDIS_URL`, to a Redis key. They are written after the commit, so a crash
//! in between leaves the head behind the log, never ahead of it: verification accepts a
//! head behind the log (the later rows are held by their keyed links) and reports a head
//! ahead of it, which means the newest rows were removed.
//!
//! Writes happen on a task of their own and only the newest head is written, so a burst of
//! audited requests costs one file write, not one each. A head never moves back: each
//! place keeps the larger id, also when several processes write it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sqlx::AnyPool;
use tokio::sync::{Mutex, watch};

use crate::config::Settings;

/// How long one Redis write or read may take before it is given up.
const REDIS_TIMEOUT: Duration = Duration::from_secs(2);

/// Sets the head only if it moves forward; a slower writer never moves it back.
const ADVANCE_SCRIPT: &str = r"
local current = redis.call('GET', KEYS[1])
if current then
  local id = tonumber(string.match(current, '^%d+'))
  if id and id >= tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2])
return 1";

/// The newest audit row: its id and keyed hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub id: i64,
    pub hash: Vec<u8>,
}

impl Head {
    fn encode(&self) -> String {
        let hex: String = self.hash.iter().map(|b| format!("{b:02x}")).collect();
        format!("{} {hex}", self.id)
    }

    fn decode(text: &str) -> Option<Self> {
        let (id, hex) = text.trim().split_once(' ')?;
        let hash = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
            .collect::<Option<Vec<u8>>>()?;
        Some(Self {
            id: id.parse().ok()?,
            hash,
        })
    }
}

/// One place a head is kept.
enum Place {
    File(PathBuf),
    Redis { client: redis::Client, key: String },
}

impl Place {
    fn describe(&self) -> String {
        match self {
            Place::File(path) => path.display().to_string(),
            Place::Redis { key, .. } => format!("Redis key {key}"),
        }
    }
}

/// The places and the connection writes share; one write at a time.
struct Writer {
    places: Vec<Place>,
    redis: Mutex<Option<redis::aio::MultiplexedConnection>>,
    /// The database whose log the head anchors: a head moves on only from a row that is
    /// still there as it was.
    pool: AnyPool,
}

/// Where this instance keeps the head, and the newest one it has committed.
pub struct HeadAnchor {
    writer: Arc<Writer>,
    newest: watch::Sender<Option<Head>>,
}

impl HeadAnchor {
    /// The places the settings name (none: `None`), with a task that writes each new head.
    /// Must be called on a Tokio runtime.
    pub fn open(settings: &Settings, pool: AnyPool) -> anyhow::Result<Option<Arc<Self>>> {
        let mut places = Vec::new();
        if let Some(path) = settings.audit_head_path() {
            places.push(Place::File(path));
        }
        if let Some(url) = &settings.redis_url {
            let client = redis::Client::open(url.as_str()).context("parsing RENFANG_REDIS_URL")?;
            let key = format!("{}audit:head", settings.redis_prefix);
            places.push(Place::Redis { client, key });
        }
        if places.is_empty() {
            return Ok(None);
        }
        let writer = Arc::new(Writer {
            places,
            redis: Mutex::new(None),
            pool,
        });
        let (newest, changes) = watch::channel(None);
        tokio::spawn(keep(writer.clone(), changes));
        Ok(Some(Arc::new(Self { writer, newest })))
    }

    /// Records that `head` has committed; it is written soon after, unless a newer one
    /// comes first.
    pub fn advance(&self, head: Head) {
        self.newest.send_if_modified(|current| {
            let newer = current.as_ref().is_none_or(|c| c.id < head.id);
            if newer {
                *current = Some(head);
            }
            newer
        });
    }

    /// Writes the newest committed head now (before the process exits).
    pub async fn flush(&self) {
        let head = self.newest.borrow().clone();
        if let Some(head) = head {
            self.writer.write(&head).await;
        }
    }

    /// The head each place holds (`None` where none was written yet), with the place's name.
    pub async fn read(&self) -> anyhow::Result<Vec<(String, Option<Head>)>> {
        let mut heads = Vec::new();
        let mut redis = None;
        for place in &self.writer.places {
            heads.push((place.describe(), held(place, &mut redis).await?));
        }
        Ok(heads)
    }
}

/// The head `place` holds now (`None` where none was written yet).
async fn held(
    place: &Place,
    redis: &mut Option<redis::aio::MultiplexedConnection>,
) -> anyhow::Result<Option<Head>> {
    let text: Option<String> = match place {
        Place::File(path) => match tokio::fs::read_to_string(path).await {
            Ok(text) => Some(text),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
            Err(err) => {
                return Err(err).with_context(|| format!("reading {}", path.display()));
            }
        },
        Place::Redis { client, key } => {
            if redis.is_none() {
                *redis = Some(connect(client).await?);
            }
            let conn = redis.as_mut().expect("opened above");
            tokio::time::timeout(REDIS_TIMEOUT, redis::cmd("GET").arg(key).query_async(conn))
                .await
                .context("Redis did not answer")?
                .context("reading the audit head from Redis")?
        }
    };
    text.map(|text| {
        Head::decode(&text)
            .with_context(|| format!("the audit head in {} is damaged", place.describe()))
    })
    .transpose()
}

/// Writes each new head until the anchor is dropped.
async fn keep(writer: Arc<Writer>, mut changes: watch::Receiver<Option<Head>>) {
    while changes.changed().await.is_ok() {
        let head = changes.borrow_and_update().clone();
        if let Some(head) = head {
            writer.write(&head).await;
        }
    }
}

impl Writer {
    /// Writes `head` to every place that holds an older one. A failure is logged: the
    /// place stays behind, which verification tolerates.
    async fn write(&self, head: &Head) {
        let mut redis = self.redis.lock().await;
        for place in &self.places {
            // Someone who deleted the newest rows would otherwise see the next append
            // chain onto what is left and move the head past the gap: the head the place
            // holds must still name a row of the log, unchanged, before it moves on.
            match held(place, &mut redis).await {
                Ok(Some(old)) if old.id < head.id => match self.in_log(&old).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::error!(
                            place = place.describe(),
                            row = old.id,
                            "the audit row the head names is gone or changed; the head stays \
                             there as evidence (run `renfang audit verify`)"
                        );
                        continue;
                    }
                    Err(err) => {
                        tracing::warn!(
                            error = format!("{err:#}"),
                            "could not check the audit head against the log"
                        );
                        continue;
                    }
                },
                Ok(_) => {}
                Err(err) => {
                    if matches!(place, Place::Redis { .. }) {
                        *redis = None;
                    }
                    tracing::warn!(
                        place = place.describe(),
                        error = format!("{err:#}"),
                        "could not read the audit log's newest row"
                    );
                    continue;
                }
            }
            let written = match place {
                Place::File(path) => {
                    let (path, head) = (path.clone(), head.clone());
                    tokio::task::spawn_blocking(move || write_file(&path, &head))
                        .await
                        .unwrap_or_else(|e| Err(anyhow::anyhow!("{e}")))
                }
                Place::Redis { client, key } => {
                    let written = write_redis(client, &mut redis, key, head).await;
                    if written.is_err() {
                        // A broken connection is opened afresh next time.
                        *redis = None;
                    }
                    written
                }
            };
            if let Err(err) = written {
                tracing::warn!(
                    place = place.describe(),
                    error = format!("{err:#}"),
                    "could not record the audit log's newest row"
                );
            }
        }
    }

    /// Whether the row `head` names is in the log with the hash the head holds.
    async fn in_log(&self, head: &Head) -> anyhow::Result<bool> {
        let hash: Option<Vec<u8>> = sqlx::query_scalar("select hash from audit_log where id = $1")
            .bind(head.id)
            .fetch_optional(&self.pool)
            .await
            .context("reading the anchored audit row")?;
        Ok(hash.as_deref() == Some(head.hash.as_slice()))
    }
}

async fn connect(client: &redis::Client) -> anyhow::Result<redis::aio::MultiplexedConnection> {
    tokio::time::timeout(REDIS_TIMEOUT, client.get_multiplexed_async_connection())
        .await
        .context("Redis did not answer")?
        .context("connecting to Redis")
}

async fn write_redis(
    client: &redis::Client,
    conn: &mut Option<redis::aio::MultiplexedConnection>,
    key: &str,
    head: &Head,
) -> anyhow::Result<()> {
    if conn.is_none() {
        *conn = Some(connect(client).await?);
    }
    let conn = conn.as_mut().expect("opened above");
    let script = redis::Script::new(ADVANCE_SCRIPT);
    let mut call = script.prepare_invoke();
    call.key(key).arg(head.id).arg(head.encode());
    tokio::time::timeout(REDIS_TIMEOUT, call.invoke_async::<i64>(conn))
        .await
        .context("Redis did not answer")?
        .context("writing the audit head to Redis")?;
    Ok(())
}

/// Replaces the file (write, flush to disk, rename) unless it already holds a newer head.
fn write_file(path: &std::path::Path, head: &Head) -> anyhow::Result<()> {
    use std::io::Write;
    if let Ok(text) = std::fs::read_to_string(path)
        && Head::decode(&text).is_some_and(|held| held.id >= head.id)
    {
        return Ok(());
    }
    // Several anchors may share a file in one process (instances in tests): each write has
    // a temporary file of its own.
    let temporary = path.with_extension(format!("tmp{:016x}", rand::random::<u64>()));
    let mut file = std::fs::File::create(&temporary)
        .with_context(|| format!("creating {}", temporary.display()))?;
    writeln!(file, "{}", head.encode())?;
    file.sync_all()?;
    std::fs::rename(&temporary, path).with_context(|| format!("replacing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_head_reads_back_as_written_and_damage_is_refused() {
        let head = Head {
            id: 42,
            hash: vec![0, 1, 0xab, 0xff],
        };
        assert_eq!(head.encode(), "42 0001abff");
        assert_eq!(Head::decode("42 0001abff\n"), Some(head));
        assert_eq!(Head::decode("42 0001ab4"), None);
        assert_eq!(Head::decode("x 00"), None);
        assert_eq!(Head::decode(""), None);
    }

    #[test]
    fn a_file_head_never_moves_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("renfang.head");
        let at = |id| Head {
            id,
            hash: vec![id as u8],
        };
        write_file(&path, &at(5)).unwrap();
        write_file(&path, &at(3)).unwrap();
        assert_eq!(
            Head::decode(&std::fs::read_to_string(&path).unwrap()),
            Some(at(5))
        );
        write_file(&path, &at(9)).unwrap();
        assert_eq!(
            Head::decode(&std::fs::read_to_string(&path).unwrap()),
            Some(at(9))
        );
    }
}
