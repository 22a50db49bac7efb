//! `tabel accounts`, `tabel breach` and `tabel audit`: the office's side of
//! the gate, from the command line.

use std::io::{Read, Write};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};

use super::{password, session};
use crate::accounts::audit;
use crate::db::Database;

/// `tabel accounts …`.
#[derive(Debug, Subcommand)]
pub enum AccountsCommand {
    /// Create an account; without --password-stdin a random one-time password is printed.
    Add {
        /// The login.
        #[arg(long)]
        login: String,
        /// guardian, student, teacher or admin.
        #[arg(long, value_parser = ["guardian", "student", "teacher", "admin"])]
        role: String,
        /// External id of the guardian, student or staff member (an admin without one reads every school).
        #[arg(long, value_name = "EXTERNAL_ID")]
        person: Option<String>,
        /// Read the password from standard input instead.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List every account.
    List,
    /// Set a new one-time password (printed, or read with --password-stdin); ends the sessions.
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
        #[arg(long, value_parser = ["guardian", "teacher"])]
        role: String,
        /// The CSV file to write (created with mode 0600).
        #[arg(long, value_name = "FILE.csv")]
        out: PathBuf,
    },
}

/// `tabel breach`.
#[derive(Debug, Args)]
pub struct BreachArgs {
    /// The account whose credentials leaked.
    #[arg(long)]
    pub login: String,
    /// When the leak was noticed (UTC; e.g. "2026-11-28 09:30"); default: now.
    #[arg(long, value_name = "TIME")]
    pub noticed_at: Option<String>,
}

/// `tabel audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only this login.
    #[arg(long)]
    pub login: Option<String>,
    /// From this time (UTC, inclusive).
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// Up to this time (UTC, exclusive).
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
    /// Only paths starting with this (e.g. s/<student-key>/ for "who opened this student's files").
    #[arg(long, value_name = "PATH")]
    pub path: Option<String>,
    /// Output format.
    #[arg(long, default_value = "table", value_parser = ["table", "csv"])]
    pub format: String,
}

fn read_password() -> Result<String> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .context("cannot read the password from standard input")?;
    let p = text.trim_end_matches(['\n', '\r']).to_owned();
    password::check(&p)?;
    Ok(p)
}

/// Runs `tabel accounts …`.
pub async fn accounts(db: &Database, cmd: AccountsCommand) -> Result<()> {
    match cmd {
        AccountsCommand::Add {
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
                super::add(db, &login, &role, person.as_deref(), given).await?;
            if password_stdin {
                println!("account {} ({}) created", account.login, account.role);
            } else {
                println!(
                    "account {} ({}) created; one-time password: {password}",
                    account.login, account.role
                );
            }
        }
        AccountsCommand::List => {
            println!(
                "{:<28} {:<9} {:<9} {:<8} created",
                "login", "role", "state", "password"
            );
            for a in super::list(db).await? {
                println!(
                    "{:<28} {:<9} {:<9} {:<8} {}",
                    a.login,
                    a.role,
                    if a.disabled != 0 {
                        "disabled"
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
        AccountsCommand::Passwd {
            login,
            password_stdin,
        } => {
            let a = super::get(db, &login).await?;
            let p = if password_stdin {
                read_password()?
            } else {
                password::random()
            };
            super::set_password(db, a.id, &p, false).await?;
            if password_stdin {
                println!("password of {login} set (one-time); its sessions ended");
            } else {
                println!("one-time password of {login}: {p} (its sessions ended)");
            }
        }
        AccountsCommand::Disable { login } => {
            let a = super::get(db, &login).await?;
            super::set_disabled(db, a.id, true).await?;
            println!("{login} disabled; its sessions ended");
        }
        AccountsCommand::Enable { login } => {
            let a = super::get(db, &login).await?;
            super::set_disabled(db, a.id, false).await?;
            println!("{login} enabled");
        }
        AccountsCommand::Sessions { login } => {
            let a = super::get(db, &login).await?;
            let list = session::list(db, a.id).await?;
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
        AccountsCommand::Revoke { login } => {
            let a = super::get(db, &login).await?;
            let n = session::end_all(db, a.id, None).await?;
            println!("{n} session(s) of {login} ended");
        }
        AccountsCommand::Provision { role, out } => {
            if out.exists() {
                bail!(
                    "{} exists; the provisioning file is never overwritten",
                    out.display()
                );
            }
            let rows = super::provision(db, &role).await?;
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

/// Runs `tabel breach`.
pub async fn breach(db: &Database, args: BreachArgs) -> Result<()> {
    let a = super::get(db, &args.login).await?;
    let noticed = match &args.noticed_at {
        Some(t) => super::stamp(super::parse_time(t)?),
        None => super::now(),
    };
    let marked = super::breach(db, a.id, &noticed, "cli").await?;
    println!(
        "breach of {} recorded (noticed {noticed}): sessions ended, a new password is required, \
         {marked} access-log entr{} since then marked invalid",
        args.login,
        if marked == 1 { "y" } else { "ies" }
    );
    Ok(())
}

/// Runs `tabel audit`.
pub async fn audit(db: &Database, args: AuditArgs) -> Result<()> {
    let time = |t: &Option<String>| -> Result<Option<String>> {
        t.as_deref()
            .map(|t| Ok(super::stamp(super::parse_time(t)?)))
            .transpose()
    };
    let filter = audit::Filter {
        login: args.login.clone(),
        from: time(&args.from)?,
        to: time(&args.to)?,
        path: args.path.clone(),
    };
    let rows = audit::query(db, &filter).await?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.format == "csv" {
        let mut w = csv::Writer::from_writer(out);
        w.write_record([
            "at",
            "login",
            "role",
            "action",
            "path",
            "result",
            "address",
            "user_agent",
            "valid",
        ])?;
        for r in rows {
            w.write_record(
                [
                    r.at,
                    r.login.unwrap_or_default(),
                    r.role.unwrap_or_default(),
                    r.action,
                    r.path.unwrap_or_default(),
                    r.result,
                    r.address.unwrap_or_default(),
                    r.user_agent.unwrap_or_default(),
                    if r.invalid != 0 {
                        "INVALID".into()
                    } else {
                        "valid".into()
                    },
                ]
                .map(|c| crate::text::csv_safe(&c)),
            )?;
        }
        w.flush()?;
    } else {
        for r in &rows {
            writeln!(
                out,
                "{} {:<20} {:<9} {:<12} {:<9} {}{}{}",
                r.at,
                r.login.as_deref().unwrap_or("-"),
                r.role.as_deref().unwrap_or("-"),
                r.action,
                r.result,
                r.path.as_deref().unwrap_or(""),
                r.address
                    .as_deref()
                    .map(|a| format!("  from {a}"))
                    .unwrap_or_default(),
                if r.invalid != 0 {
                    "  [INVALID: breach]"
                } else {
                    ""
                },
            )?;
        }
        writeln!(
            out,
            "{} entr{}",
            rows.len(),
            if rows.len() == 1 { "y" } else { "ies" }
        )?;
    }
    Ok(())
}
