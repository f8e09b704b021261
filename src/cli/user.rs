//! `renfang user add`, `disable` and `enable`: accounts from the command line.

use std::io::BufRead;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Subcommand;

use crate::config::Settings;
use crate::service::{
    self,
    accounts::{self, Account, NewStaff},
};
use crate::store::Store;

pub use crate::domain::sublandlord::MIN_PASSWORD_CHARS;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Creates a staff user; the password is read from standard input (one line).
    Add {
        #[arg(long)]
        username: String,
        /// admin, police, enforcement, community, property or integration (another
        /// system that reads the event feed of its communities).
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
    let changed = accounts::set_disabled(&store, None, Account::Named(&username), disable).await;
    store.close().await;
    let what = if disable { "disabled" } else { "enabled" };
    match changed {
        Ok(id) => {
            println!("{what} user {username} (id {id})");
            Ok(ExitCode::SUCCESS)
        }
        Err(service::Error::NotFound) => bail!("no user named {username:?}"),
        Err(e) => Err(e.into()),
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

/// Checks and creates a staff account, as the console does; shared with the demo.
pub async fn add_staff(
    store: &Store,
    username: &str,
    role: &str,
    community_names: &[String],
    password: &str,
) -> anyhow::Result<i64> {
    let new = NewStaff {
        username,
        role,
        communities: community_names,
        password,
    };
    match accounts::add_staff(store, None, new).await {
        Ok(id) => Ok(id),
        Err(service::Error::Validation(fields)) => {
            let reasons: Vec<&str> = fields.iter().map(|f| f.message_en).collect();
            bail!("{}", reasons.join("; "))
        }
        Err(service::Error::Conflict(_)) => bail!("user {:?} already exists", username.trim()),
        Err(e) => Err(e.into()),
    }
}
