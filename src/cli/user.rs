//! `renfang user add`, `disable` and `enable`: accounts from the command line.

use std::io::BufRead;
use std::process::ExitCode;

use anyhow::{Context, bail};
use chrono::Utc;
use clap::Subcommand;

use crate::config::Settings;
use crate::domain::role::Role;
use crate::store::{self, Constraint, Store, StoreError, communities, users};

pub use crate::domain::sublandlord::MIN_PASSWORD_CHARS;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Creates a staff user; the password is read from standard input (one line).
    Add {
        #[arg(long)]
        username: String,
        /// admin, police, enforcement, community or property.
        #[arg(long)]
        role: String,
        /// A community the user may see (repeat for several).
        #[arg(long = "community")]
        communities: Vec<String>,
    },
    /// Disables an account: it cannot log in, and its sessions end at once.
    Disable {
        #[arg(long)]
        username: String,
    },
    /// Enables a disabled account again (its old sessions stay ended).
    Enable {
        #[arg(long)]
        username: String,
    },
}

pub async fn run(command: UserCommand, settings: Settings) -> anyhow::Result<ExitCode> {
    let (username, disable) = match command {
        UserCommand::Add {
            username,
            role,
            communities,
        } => return add(settings, &username, &role, &communities).await,
        UserCommand::Disable { username } => (username, true),
        UserCommand::Enable { username } => (username, false),
    };
    let store = super::open(&settings).await?;
    let now = store::millis(Utc::now());
    let changed = users::set_disabled(&store, None, username.trim(), disable, now).await;
    store.close().await;
    let what = if disable { "disabled" } else { "enabled" };
    match changed? {
        Some(id) => {
            println!("{what} user {username} (id {id})");
            Ok(ExitCode::SUCCESS)
        }
        None => bail!("no user named {username:?}"),
    }
}

async fn add(
    settings: Settings,
    username: &str,
    role: &str,
    communities: &[String],
) -> anyhow::Result<ExitCode> {
    let mut password = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut password)
        .context("reading the password from standard input")?;
    let password = password.trim_end_matches(['\r', '\n']).to_string();
    let store = super::open(&settings).await?;
    let id = add_staff(&store, username, role, communities, &password).await?;
    store.close().await;
    println!("created user {username} (id {id}, role {role})");
    Ok(ExitCode::SUCCESS)
}

/// Checks and creates a staff account; shared with the demo.
pub async fn add_staff(
    store: &Store,
    username: &str,
    role: &str,
    community_names: &[String],
    password: &str,
) -> anyhow::Result<i64> {
    add_staff_by(store, None, username, role, community_names, password).await
}

/// Creates a staff account on behalf of `by` (an admin in the console; `None` for the
/// command line), recorded as such in the audit log.
pub async fn add_staff_by(
    store: &Store,
    by: Option<i64>,
    username: &str,
    role: &str,
    community_names: &[String],
    password: &str,
) -> anyhow::Result<i64> {
    let role = Role::parse(role)
        .filter(|r| r.is_staff())
        .context("role must be admin, police, enforcement, community or property")?;
    let username = username.trim();
    if username.is_empty() || username.chars().count() > 64 || crate::domain::has_control(username)
    {
        bail!("username must be 1 to 64 characters");
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        bail!("password must be at least {MIN_PASSWORD_CHARS} characters");
    }
    let mut ids = Vec::new();
    for name in community_names {
        let community = communities::find_by_name(store, name.trim())
            .await?
            .with_context(|| format!("no community named {name:?}"))?;
        ids.push(community.id);
    }
    if !role.sees_all_communities() && ids.is_empty() {
        bail!("a {} user needs at least one --community", role.as_str());
    }
    let password = password.to_string();
    let hash =
        tokio::task::spawn_blocking(move || crate::crypto::hash_password(&password)).await??;
    let now = store::millis(Utc::now());
    match users::create(store, by, username, &hash, role.as_str(), &ids, now).await {
        Ok(id) => Ok(id),
        Err(StoreError::Unique(Constraint::Username)) => bail!("user {username:?} already exists"),
        Err(e) => Err(e.into()),
    }
}
