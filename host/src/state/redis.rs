//! The Redis state store, for replicas that share state. Counters are retry-safe through a
//! Lua script (the number an event got is remembered next to the counter), claims are a
//! compare-and-set script; every key carries a hash tag so that the keys one script touches
//! live in one slot of a Redis Cluster. Optionally each number and claim waits for replicas
//! (`WAIT`); a Redis out of memory is named as such; and the memory settings that decide
//! whether numbers can be lost (`maxmemory-policy`) are read for `doctor` and start-up.

use std::time::Duration;

use anyhow::Context as _;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands as _, Script};
use tokio::sync::OnceCell;

use super::{EVENT_MEMORY, Entry, EntryKind, Op, Reply, StateError, StateStore};

/// The next number of a counter for one event's n-th ask: the remembered one, or INCR.
const NEXT: &str = r"
local known = redis.call('GET', KEYS[2])
if known then return tonumber(known) end
local n = redis.call('INCR', KEYS[1])
redis.call('SET', KEYS[2], n, 'EX', ARGV[1])
return n
";

/// Claims KEYS[1] for event ARGV[1] for ARGV[2] seconds unless another event holds it.
const CLAIM: &str = r"
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
";

/// Deletes KEYS[1] if event ARGV[1] holds it.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
";

/// A Redis server holding the state of every replica.
pub struct RedisStore {
    client: redis::Client,
    connection: OnceCell<ConnectionManager>,
    next: Script,
    claim: Script,
    release: Script,
    /// Replicas that must acknowledge each `next` and `claim`; 0 for none.
    wait_replicas: u32,
}

/// What `INFO memory` says about eviction and room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryReport {
    /// `maxmemory-policy`: only `noeviction` keeps every counter and claim.
    pub policy: String,
    /// Bytes in use.
    pub used: u64,
    /// The limit in bytes; 0 for none.
    pub max: u64,
}

impl MemoryReport {
    /// `Err` with the line to fix it unless the policy keeps every key.
    pub fn check(&self) -> Result<(), String> {
        if self.policy == "noeviction" {
            return Ok(());
        }
        Err(format!(
            "Redis maxmemory-policy is {}: when it fills, Redis evicts keys, and an evicted counter hands its numbers out again; set `maxmemory-policy noeviction` in redis.conf (or `CONFIG SET maxmemory-policy noeviction` and `CONFIG REWRITE`)",
            self.policy
        ))
    }

    /// `used_memory` against `maxmemory`, in MiB.
    pub fn usage(&self) -> String {
        let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
        if self.max == 0 {
            format!(
                "{:.1} MiB used, no maxmemory (Redis may take all the machine's memory)",
                mib(self.used)
            )
        } else {
            format!(
                "{:.1} MiB used of maxmemory {:.1} MiB ({:.0} %)",
                mib(self.used),
                mib(self.max),
                self.used as f64 * 100.0 / self.max as f64
            )
        }
    }
}

/// Reads `maxmemory_policy`, `used_memory` and `maxmemory` from `INFO memory`'s text.
fn parse_memory(info: &str) -> Option<MemoryReport> {
    let field = |name: &str| {
        info.lines()
            .find_map(|line| line.trim_end().strip_prefix(name)?.strip_prefix(':'))
            .map(str::to_owned)
    };
    Some(MemoryReport {
        policy: field("maxmemory_policy")?,
        used: field("used_memory")?.parse().ok()?,
        max: field("maxmemory")?.parse().ok()?,
    })
}

/// Whether Redis refused the write because it is out of memory (`OOM command not allowed…`,
/// also when a script's write meets it).
fn is_oom(error: &redis::RedisError) -> bool {
    error.code() == Some("OOM") || error.to_string().contains("OOM command not allowed")
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password: never printed.
        f.debug_struct("RedisStore").finish_non_exhaustive()
    }
}

impl RedisStore {
    /// A store at `url` (`redis://`, `rediss://`, `redis+unix://`); connects on first use.
    pub fn new(url: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(url).context(
            "state_url is not a Redis URL (redis://host:port, rediss://…, redis+unix:///path)",
        )?;
        Ok(Self {
            client,
            connection: OnceCell::new(),
            next: Script::new(NEXT),
            claim: Script::new(CLAIM),
            release: Script::new(RELEASE),
            wait_replicas: 0,
        })
    }

    /// Each `next` and `claim` waits until `replicas` replicas acknowledged it.
    pub fn with_wait(mut self, replicas: u32) -> Self {
        self.wait_replicas = replicas;
        self
    }

    /// `maxmemory-policy`, `used_memory` and `maxmemory`, from `INFO memory`.
    pub async fn memory(&self) -> anyhow::Result<MemoryReport> {
        let mut con = self
            .connection()
            .await
            .map_err(|_| anyhow::anyhow!("cannot connect to Redis"))?;
        let info: String = redis::cmd("INFO")
            .arg("memory")
            .query_async(&mut con)
            .await
            .map_err(|e| anyhow::anyhow!("INFO memory failed: {}", e.kind_label()))?;
        parse_memory(&info).context("INFO memory lacks maxmemory_policy, used_memory or maxmemory")
    }

    /// The shared connection, made on first use. While Redis is down each call tries again
    /// (bounded by the call's deadline); once made, it reconnects by itself.
    async fn connection(&self) -> Result<ConnectionManager, StateError> {
        self.connection
            .get_or_try_init(|| async {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(Duration::from_secs(1)))
                    .set_response_timeout(Some(Duration::from_secs(2)))
                    .set_number_of_retries(1);
                ConnectionManager::new_with_config(self.client.clone(), config).await
            })
            .await
            .cloned()
            .map_err(|e| {
                tracing::warn!(error = %e.kind_label(), "state store: cannot connect to Redis");
                StateError::Unavailable
            })
    }
}

/// Key of `name` of `kind` in `plugin`'s namespace: `importhook:{<len>:<plugin>:<kind>:<name>}`.
/// The length prefix keeps names apart whatever they contain; the braces are the hash tag.
fn key(plugin: &str, kind: &str, name: &str) -> String {
    format!("importhook:{{{}:{plugin}:{kind}:{name}}}", plugin.len())
}

/// The event memory of a counter: inside the counter's hash tag, so in its slot.
fn memo_key(counter_key: &str, event: &str, nth: u32) -> String {
    format!("{counter_key}:event:{}:{event}:{nth}", event.len())
}

fn kind_tag(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::Counter => "c",
        EntryKind::Claim => "l",
        EntryKind::Record => "r",
    }
}

trait KindLabel {
    fn kind_label(&self) -> String;
}

impl KindLabel for redis::RedisError {
    /// The error's kind and category, without its detail (which may quote a key or the URL).
    fn kind_label(&self) -> String {
        format!("{:?} ({})", self.kind(), self.category())
    }
}

#[async_trait::async_trait]
impl StateStore for RedisStore {
    fn backend(&self) -> &'static str {
        "redis"
    }

    async fn apply(&self, op: Op) -> Result<Reply, StateError> {
        let mut con = self.connection().await?;
        let result: redis::RedisResult<Reply> = match &op {
            Op::Next {
                plugin,
                counter,
                event,
                nth,
            } => {
                let counter_key = key(plugin, "c", counter);
                self.next
                    .key(&counter_key)
                    .key(memo_key(&counter_key, event, *nth))
                    .arg(EVENT_MEMORY.as_secs())
                    .invoke_async(&mut con)
                    .await
                    .map(Reply::Number)
            }
            Op::Claim {
                plugin,
                value,
                event,
                ttl,
            } => self
                .claim
                .key(key(plugin, "l", value))
                .arg(&**event)
                .arg(*ttl)
                .invoke_async::<i64>(&mut con)
                .await
                .map(|held| Reply::Held(held == 1)),
            Op::Release {
                plugin,
                value,
                event,
            } => self
                .release
                .key(key(plugin, "l", value))
                .arg(&**event)
                .invoke_async::<i64>(&mut con)
                .await
                .map(|_| Reply::Done),
            Op::Get { plugin, key: name } => con
                .get::<_, Option<Vec<u8>>>(key(plugin, "r", name))
                .await
                .map(Reply::Value),
            Op::Set {
                plugin,
                key: name,
                value,
                ttl,
            } => {
                let record = key(plugin, "r", name);
                match ttl {
                    Some(ttl) => con.set_ex::<_, _, ()>(record, value, u64::from(*ttl)).await,
                    None => con.set::<_, _, ()>(record, value).await,
                }
                .map(|()| Reply::Done)
            }
            Op::Delete { plugin, kind, name } => con
                .del::<_, i64>(key(plugin, kind_tag(*kind), name))
                .await
                .map(|n| Reply::Deleted(n > 0)),
        };
        result.map_err(|e| {
            if is_oom(&e) {
                tracing::error!(
                    operation = op.label(),
                    "state store: Redis is full (used_memory reached maxmemory; noeviction refuses writes): raise maxmemory or delete entries (importhook state)"
                );
                return StateError::Full;
            }
            tracing::warn!(error = %e.kind_label(), operation = op.label(), "state store: Redis call failed");
            StateError::Unavailable
        })
    }

    async fn apply_by(&self, op: Op, deadline: std::time::Instant) -> Result<Reply, StateError> {
        let replicated = matches!(op, Op::Next { .. } | Op::Claim { .. });
        let label = op.label();
        let reply = self.apply(op).await?;
        if self.wait_replicas == 0 || !replicated {
            return Ok(reply);
        }
        // Four fifths of the time left, so that a missing acknowledgement is answered as such
        // before the caller cuts the call at its deadline; never 0 (WAIT 0 blocks forever).
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let timeout_ms = (left.as_millis() as u64 * 4 / 5).max(1);
        let mut con = self.connection().await?;
        let acknowledged: redis::RedisResult<u32> = redis::cmd("WAIT")
            .arg(self.wait_replicas)
            .arg(timeout_ms)
            .query_async(&mut con)
            .await;
        match acknowledged {
            Ok(n) if n >= self.wait_replicas => Ok(reply),
            Ok(n) => {
                tracing::warn!(
                    operation = label,
                    acknowledged = n,
                    wanted = self.wait_replicas,
                    "state store: Redis replicas did not acknowledge the write in time; the call fails"
                );
                Err(StateError::Unreplicated)
            }
            Err(e) => {
                tracing::warn!(error = %e.kind_label(), operation = label, "state store: Redis WAIT failed");
                Err(StateError::Unavailable)
            }
        }
    }

    async fn list(&self, plugin: &str) -> anyhow::Result<Vec<Entry>> {
        let mut con = self
            .connection()
            .await
            .map_err(|_| anyhow::anyhow!("cannot connect to Redis"))?;
        let prefix = format!("importhook:{{{}:{plugin}:", plugin.len());
        let pattern = format!("{}*", glob_escape(&prefix));
        let mut keys: Vec<String> = Vec::new();
        {
            let mut iter = con.scan_match::<_, String>(&pattern).await?;
            while let Some(item) = iter.next_item().await {
                keys.push(item?);
            }
        }
        keys.sort();
        let mut entries = Vec::new();
        for full in keys {
            // `<prefix><kind>:<name>}` and nothing after the closing brace (event memories
            // carry more after it).
            let Some(rest) = full.strip_prefix(&prefix).and_then(|r| r.strip_suffix('}')) else {
                continue;
            };
            let Some((tag, name)) = rest.split_once(':') else {
                continue;
            };
            let kind = match tag {
                "c" => EntryKind::Counter,
                "l" => EntryKind::Claim,
                "r" => EntryKind::Record,
                _ => continue,
            };
            let ttl: i64 = con.ttl(&full).await?;
            let expires_at = (ttl > 0).then(|| super::now_unix() + ttl.unsigned_abs());
            let summary = match kind {
                EntryKind::Counter => con
                    .get::<_, Option<String>>(&full)
                    .await?
                    .unwrap_or_default(),
                EntryKind::Claim => format!(
                    "held by event {}",
                    con.get::<_, Option<String>>(&full)
                        .await?
                        .unwrap_or_default()
                ),
                EntryKind::Record => format!("{} bytes", con.strlen::<_, u64>(&full).await?),
            };
            entries.push(Entry {
                kind,
                name: name.to_owned(),
                summary,
                expires_at,
            });
        }
        Ok(entries)
    }

    async fn ping(&self) -> bool {
        let Ok(mut con) = self.connection().await else {
            return false;
        };
        redis::cmd("PING")
            .query_async::<String>(&mut con)
            .await
            .is_ok()
    }
}

/// Escapes Redis glob characters so a plugin name matches only itself.
fn glob_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_one_counter_share_a_hash_tag_and_names_cannot_collide() {
        let counter = key("p", "c", "login");
        assert_eq!(counter, "importhook:{1:p:c:login}");
        let memo = memo_key(&counter, "evt", 2);
        assert!(memo.starts_with(&counter), "{memo}");
        // "p:c" + "x" and "p" + "c:x" differ by the length prefix.
        assert_ne!(key("p:c", "c", "x"), key("p", "c", "c:x"));
        assert_eq!(glob_escape("a*b[c]"), "a\\*b\\[c\\]");
    }

    #[test]
    fn info_memory_is_read_and_only_noeviction_passes() {
        let info = "# Memory\r\nused_memory:1048576\r\nused_memory_human:1.00M\r\nmaxmemory:4194304\r\nmaxmemory_human:4.00M\r\nmaxmemory_policy:allkeys-lru\r\n";
        let report = parse_memory(info).expect("parsed");
        assert_eq!(report.used, 1_048_576);
        assert_eq!(report.max, 4_194_304);
        assert_eq!(report.usage(), "1.0 MiB used of maxmemory 4.0 MiB (25 %)");
        let why = report.check().expect_err("evicting");
        assert!(
            why.contains("allkeys-lru") && why.contains("maxmemory-policy noeviction"),
            "{why}"
        );
        let keeping = MemoryReport {
            policy: "noeviction".into(),
            ..report
        };
        assert!(keeping.check().is_ok());
        assert!(parse_memory("used_memory:1\r\n").is_none());
    }
}
