//! `tabel accounts …`: the office's side of the gate's accounts.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Subcommand;

use crate::accounts::{self, Role};
use crate::config::Settings;
use crate::db::Database;

/// `tabel accounts …`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create an account; without --password-stdin a random one-time password is printed.
    Add {
        /// The login.
        #[arg(long)]
        login: String,
        /// guardian, student, teacher or admin.
        #[arg(long, value_enum)]
        role: Role,
        /// External id of the guardian, student or staff member (an admin without one reads every school).
        #[arg(long, value_name = "EXTERNAL_ID")]
        person: Option<String>,
        /// Read the password from standard input instead.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List every account.
    List,
    /// Set a new one-time password (printed, or read with --password-stdin); ends the sessions
    /// and, after a breach, lets the owner back in with it.
    Passwd {
        /// The login.
        #[arg(long)]
        login: String,
        /// Read the password from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disable an account (its sessions end at once).
    Disable {
        /// The login.
        #[arg(long)]
        login: String,
    },
    /// Enable a disabled account.
    Enable {
        /// The login.
        #[arg(long)]
        login: String,
    },
    /// Show an account's active sessions.
    Sessions {
        /// The login.
        #[arg(long)]
        login: String,
    },
    /// End every session of an account.
    Revoke {
        /// The login.
        #[arg(long)]
        login: String,
    },
    /// Create accounts for every guardian (or teacher) without one, and write
    /// `login,password,person_id,full_name,children` for the office to hand out.
    Provision {
        /// guardian or teacher.
        #[arg(long, value_enum)]
        role: Role,
        /// The CSV file to write (created with mode 0600).
        #[arg(long, value_name = "FILE.csv")]
        out: PathBuf,
    },
}

fn read_password() -> Result<String> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .context("cannot read the password from standard input")?;
    let p = text.trim_end_matches(['\n', '\r']).to_owned();
    accounts::password::check(&p)?;
    Ok(p)
}

/// Runs `tabel accounts …`.
pub async fn run(settings: &Settings, cmd: Command) -> Result<ExitCode> {
    super::with_database(settings, async |db| {
        manage(db, cmd).await?;
        Ok(ExitCode::SUCCESS)
    })
    .await
}

async fn manage(db: &Database, cmd: Command) -> Result<()> {
    match cmd {
        Command::Add {
            login,
            role,
            person,
            password_stdin,
        } => {
            let given = if password_stdin {
                Some(read_password()?)
            } else {
                None
            };
            let (account, password) =
                accounts::add(db, &login, role, person.as_deref(), given).await?;
            if password_stdin {
                println!("account {} ({}) created", account.login, account.role);
            } else {
                println!(
                    "account {} ({}) created; one-time password: {password}",
                    account.login, account.role
                );
            }
        }
        Command::List => {
            println!(
                "{:<28} {:<9} {:<9} {:<8} created",
                "login", "role", "state", "password"
            );
            for a in accounts::list(db).await? {
                println!(
                    "{:<28} {:<9} {:<9} {:<8} {}",
                    a.login,
                    a.role,
                    if a.disabled != 0 {
                        "disabled"
                    } else if a.breached_at.is_some() {
                        // Waits for a one-time password (`passwd`).
                        "breached"
                    } else {
                        "active"
                    },
                    if a.must_change_password != 0 {
                        "one-time"
                    } else {
                        "own"
                    },
                    a.created_at
                );
            }
        }
        Command::Passwd {
            login,
            password_stdin,
        } => {
            let a = accounts::get(db, &login).await?;
            let p = if password_stdin {
                read_password()?
            } else {
                accounts::password::random()
            };
            accounts::set_password(db, a.id, &p, false).await?;
            if password_stdin {
                println!("password of {login} set (one-time); its sessions ended");
            } else {
                println!("one-time password of {login}: {p} (its sessions ended)");
            }
        }
        Command::Disable { login } => {
            let a = accounts::get(db, &login).await?;
            accounts::set_disabled(db, a.id, true).await?;
            println!("{login} disabled; its sessions ended");
        }
        Command::Enable { login } => {
            let a = accounts::get(db, &login).await?;
            accounts::set_disabled(db, a.id, false).await?;
            println!("{login} enabled");
        }
        Command::Sessions { login } => {
            let a = accounts::get(db, &login).await?;
            let list = accounts::session::list(db, a.id).await?;
            println!("{} active session(s) of {login}", list.len());
            for s in list {
                println!(
                    "  #{:<6} since {}  last {}  from {}  {}",
                    s.id,
                    s.created_at,
                    s.last_seen_at,
                    s.address.unwrap_or_default(),
                    s.user_agent.unwrap_or_default()
                );
            }
        }
        Command::Revoke { login } => {
            let a = accounts::get(db, &login).await?;
            let n = accounts::session::end_all(db, a.id, None).await?;
            println!("{n} session(s) of {login} ended");
        }
        Command::Provision { role, out } => {
            if out.exists() {
                bail!(
                    "{} exists; the provisioning file is never overwritten",
                    out.display()
                );
            }
            let rows = accounts::provision(db, role).await?;
            let mut file = std::fs::OpenOptions::new();
            file.write(true).create_new(true);
            std::os::unix::fs::OpenOptionsExt::mode(&mut file, 0o600);
            let file = file
                .open(&out)
                .with_context(|| format!("cannot create {}", out.display()))?;
            let mut w = csv::Writer::from_writer(file);
            w.write_record(["login", "password", "person_id", "full_name", "children"])?;
            for r in &rows {
                w.write_record(r.iter().map(|c| crate::text::csv_safe(c)))?;
            }
            w.flush()?;
            println!(
                "{} account(s) created; logins and one-time passwords are in {}",
                rows.len(),
                out.display()
            );
        }
    }
    Ok(())
}
