//! Weekly e-mail digests for guardians who subscribe (regulation 1.6, see
//! docs/regulation.md).
//!
//! A guardian subscribes an address per child on the account page; a link
//! sent to the address confirms it before anything else is sent. `tabel
//! mail` (from cron, after the nightly build) sends one message per
//! confirmed subscription and week: a plain-text and an HTML part (marks,
//! absences, homework for the next lessons, teachers' notes) and the week's
//! printout as PDF, with a one-click unsubscribe link (RFC 8058). A send
//! log makes it idempotent; temporary failures are retried with backoff,
//! permanent ones recorded for the office; one bad address stops nothing
//! else. A guardian whose link to the child was removed, or whose account
//! is disabled, gets nothing.

pub mod digest;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::accounts;
use crate::config::{Mail, MailSecurity};
use crate::db::Database;

/// The environment variable holding the SMTP password.
pub const PASSWORD_ENV: &str = "TABEL_SMTP_PASSWORD";

/// Checks the `[mail]` settings; the error names the key.
pub fn check(settings: &Mail) -> Result<()> {
    if settings.host.is_empty() {
        bail!("[mail] host is not set in tabel.toml: no mail can be sent");
    }
    sender(settings)?;
    let url = url::Url::parse(&settings.base_url).with_context(|| {
        format!(
            "[mail] base_url {:?} is not a URL (e.g. https://tabel.school.example)",
            settings.base_url
        )
    })?;
    if !matches!(url.scheme(), "https" | "http") {
        bail!("[mail] base_url must be an https:// address");
    }
    if settings.security == MailSecurity::None
        && !matches!(settings.host.as_str(), "127.0.0.1" | "::1" | "localhost")
    {
        bail!(
            "[mail] security = \"none\" is allowed only for a relay on this machine, not {:?}",
            settings.host
        );
    }
    if settings.attempts == 0 {
        bail!("[mail] attempts must be at least 1");
    }
    Ok(())
}

fn sender(settings: &Mail) -> Result<Mailbox> {
    settings
        .from
        .parse()
        .with_context(|| format!("[mail] from {:?} is not an e-mail address", settings.from))
}

/// The SMTP transport the settings describe.
pub fn transport(settings: &Mail) -> Result<AsyncSmtpTransport<Tokio1Executor>> {
    check(settings)?;
    let port = settings.port.unwrap_or(match settings.security {
        MailSecurity::Tls => 465,
        MailSecurity::Starttls => 587,
        MailSecurity::None => 25,
    });
    let tls = || {
        TlsParameters::new(settings.host.clone())
            .with_context(|| format!("cannot set up TLS for {}", settings.host))
    };
    let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(settings.host.clone())
        .port(port)
        .timeout(Some(Duration::from_secs(settings.timeout_seconds)))
        .tls(match settings.security {
            MailSecurity::Starttls => Tls::Required(tls()?),
            MailSecurity::Tls => Tls::Wrapper(tls()?),
            MailSecurity::None => Tls::None,
        });
    if let Some(user) = &settings.user {
        let password = std::env::var(PASSWORD_ENV).with_context(|| {
            format!("[mail] user is set: the SMTP password must be in {PASSWORD_ENV}")
        })?;
        b = b.credentials(Credentials::new(user.clone(), password));
    }
    Ok(b.build())
}

/// Checks an address a guardian typed; returns it trimmed.
pub fn check_address(address: &str) -> Option<String> {
    let a = address.trim();
    let ok = a.len() <= 254
        && !a
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>\"(),;:[]\\".contains(c))
        && a.parse::<lettre::Address>().is_ok();
    ok.then(|| a.to_owned())
}

/// A subscription as the account page and the office see it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Subscription {
    pub id: i64,
    pub account_id: i64,
    pub student_id: i64,
    pub address: String,
    /// The capability in the unsubscribe links of its digests.
    pub token: String,
    pub created_at: String,
    pub confirmed_at: Option<String>,
    pub unsubscribed_at: Option<String>,
    /// When the latest confirmation link went out.
    pub confirm_sent_at: Option<String>,
}

impl Subscription {
    /// "active", "unconfirmed" or "ended".
    pub fn state(&self) -> &'static str {
        if self.unsubscribed_at.is_some() {
            "ended"
        } else if self.confirmed_at.is_some() {
            "active"
        } else {
            "unconfirmed"
        }
    }
}

const COLUMNS: &str = "id, account_id, student_id, address, token, created_at, confirmed_at, \
     unsubscribed_at, confirm_sent_at";

/// Hours after which a confirmation link no longer confirms (and a request
/// not sent by then is not sent at all).
pub const CONFIRM_HOURS: i64 = 48;
/// Hours before a subscription's confirmation may be asked for again: a
/// form posted again and again sends one message, not one per post.
pub const RESEND_HOURS: i64 = 3;
/// Confirmations an account may ask for in 24 hours (all its children).
pub const DAILY_REQUESTS: i64 = 5;

/// What came of asking for a subscription.
#[derive(Debug)]
pub enum Subscribed {
    /// Asked for: the confirmation goes out with the next send.
    Asked(Subscription),
    /// The address is the subscription's already, and confirmed.
    Active,
    /// A confirmation was asked for lately; this many minutes to wait.
    Recent(i64),
    /// The account asked for [`DAILY_REQUESTS`] in the last 24 hours.
    Daily,
}

/// Subscribes `address` to the digest of `student_id` for `account_id`
/// (replacing an earlier address of the same pair, which must be confirmed
/// anew), within the limits: one confirmation per subscription in
/// [`RESEND_HOURS`], [`DAILY_REQUESTS`] per account a day. The caller has
/// checked that the account may read the student.
pub async fn subscribe(
    db: &Database,
    account_id: i64,
    student_id: i64,
    address: &str,
) -> Result<Subscribed> {
    let Some(address) = check_address(address) else {
        bail!("{address:?} is not an e-mail address");
    };
    let token = accounts::session::random_token(32);
    let at = chrono::Utc::now();
    let now = accounts::stamp(at);
    let day_ago = accounts::stamp(at - chrono::Duration::hours(24));
    let mut tx = db.write_tx().await?;
    sqlx::query("DELETE FROM mail_request WHERE account_id = $1 AND at < $2")
        .bind(account_id)
        .bind(&day_ago)
        .execute(&mut *tx)
        .await?;
    let old: Option<(i64, String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT id, address, confirmed_at, unsubscribed_at FROM mail_subscription \
         WHERE account_id = $1 AND student_id = $2",
    )
    .bind(account_id)
    .bind(student_id)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some((_, old_address, Some(_), None)) = &old
        && *old_address == address
    {
        return Ok(Subscribed::Active);
    }
    let (today,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM mail_request WHERE account_id = $1 AND at >= $2")
            .bind(account_id)
            .bind(&day_ago)
            .fetch_one(&mut *tx)
            .await?;
    if today >= DAILY_REQUESTS {
        return Ok(Subscribed::Daily);
    }
    if let Some((id, ..)) = &old {
        let (last,): (Option<String>,) =
            sqlx::query_as("SELECT MAX(at) FROM mail_request WHERE subscription_id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
        let next = last
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&chrono::Utc) + chrono::Duration::hours(RESEND_HOURS));
        if let Some(next) = next
            && next > at
        {
            return Ok(Subscribed::Recent((next - at).num_minutes() + 1));
        }
    }
    let id = match old {
        Some((id, ..)) => {
            sqlx::query(
                "UPDATE mail_subscription SET address = $1, token = $2, created_at = $3, \
                 confirmed_at = NULL, unsubscribed_at = NULL, confirm_hash = NULL, confirm_sent_at = NULL \
                 WHERE id = $4",
            )
            .bind(&address)
            .bind(&token)
            .bind(&now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM mail_log WHERE subscription_id = $1 AND kind = 'confirm'")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            id
        }
        None => {
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO mail_subscription (account_id, student_id, address, token, created_at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(account_id)
            .bind(student_id)
            .bind(&address)
            .bind(&token)
            .bind(&now)
            .fetch_one(&mut *tx)
            .await?;
            id
        }
    };
    sqlx::query(
        "INSERT INTO mail_request (account_id, subscription_id, address, at) VALUES ($1, $2, $3, $4)",
    )
    .bind(account_id)
    .bind(id)
    .bind(&address)
    .bind(&now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    let sub = by_token(db, &token)
        .await?
        .context("the subscription just written is gone")?;
    Ok(Subscribed::Asked(sub))
}

/// The subscription whose unsubscribe links carry `token`.
pub async fn by_token(db: &Database, token: &str) -> Result<Option<Subscription>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM mail_subscription WHERE token = $1"
    ))
    .bind(token)
    .fetch_optional(db.pool())
    .await?)
}

/// The oldest time a confirmation link may have been sent and still confirm.
fn confirm_since() -> String {
    accounts::stamp(chrono::Utc::now() - chrono::Duration::hours(CONFIRM_HOURS))
}

/// The unconfirmed subscription whose live confirmation link carries `token`.
pub async fn by_confirm_token(db: &Database, token: &str) -> Result<Option<Subscription>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM mail_subscription WHERE confirm_hash = $1 AND confirm_sent_at >= $2 \
         AND confirmed_at IS NULL AND unsubscribed_at IS NULL"
    ))
    .bind(accounts::session::token_hash(token))
    .bind(confirm_since())
    .fetch_optional(db.pool())
    .await?)
}

/// Subscriptions of an account.
pub async fn of_account(db: &Database, account_id: i64) -> Result<Vec<Subscription>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM mail_subscription WHERE account_id = $1 ORDER BY id"
    ))
    .bind(account_id)
    .fetch_all(db.pool())
    .await?)
}

/// Confirms the subscription whose live confirmation link carries `token`
/// (once: the link confirms nothing more); false if there is none.
pub async fn confirm(db: &Database, token: &str) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE mail_subscription SET confirmed_at = $1, confirm_hash = NULL \
         WHERE confirm_hash = $2 AND confirm_sent_at >= $3 AND confirmed_at IS NULL AND unsubscribed_at IS NULL",
    )
    .bind(accounts::now())
    .bind(accounts::session::token_hash(token))
    .bind(confirm_since())
    .execute(db.pool())
    .await?;
    Ok(r.rows_affected() > 0)
}

/// Ends the subscription of `token`; false if there is none running.
pub async fn unsubscribe(db: &Database, token: &str) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE mail_subscription SET unsubscribed_at = $1 WHERE token = $2 AND unsubscribed_at IS NULL",
    )
    .bind(accounts::now())
    .bind(token)
    .execute(db.pool())
    .await?;
    Ok(r.rows_affected() > 0)
}

/// Ends subscription `id` of `account_id` (from the account page).
pub async fn unsubscribe_own(db: &Database, account_id: i64, id: i64) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE mail_subscription SET unsubscribed_at = $1 \
         WHERE id = $2 AND account_id = $3 AND unsubscribed_at IS NULL",
    )
    .bind(accounts::now())
    .bind(id)
    .bind(account_id)
    .execute(db.pool())
    .await?;
    Ok(r.rows_affected() > 0)
}

/// Live subscriptions whose guardian may still receive them: the account
/// is a guardian's, enabled, and still linked to the child.
const ELIGIBLE: &str = "FROM mail_subscription m \
     JOIN student s ON s.id = m.student_id \
     JOIN account a ON a.id = m.account_id \
     JOIN guardian_student gs ON gs.guardian_id = a.guardian_id AND gs.student_id = m.student_id \
     WHERE m.unsubscribed_at IS NULL AND a.disabled = 0 AND a.role = 'guardian'";

/// What a send attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    /// Failed for now (the server or the network); tried again next run.
    Temporary(String),
    /// Refused for good (a 5xx answer): recorded for the office.
    Permanent(String),
}

/// Where messages go: an SMTP server, or `.eml` files for `--dry-run`.
pub enum Sink {
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        attempts: u32,
        first_delay: Duration,
    },
    Files(PathBuf),
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Sink::Smtp { attempts, .. } => write!(f, "Sink::Smtp({attempts} attempts)"),
            Sink::Files(dir) => write!(f, "Sink::Files({})", dir.display()),
        }
    }
}

impl Sink {
    /// Sends `msg` (retrying temporary failures with backoff), or writes it as `name.eml`.
    pub async fn deliver(&self, msg: &Message, name: &str) -> Result<(Outcome, u32)> {
        match self {
            Sink::Files(dir) => {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
                let path = dir.join(format!("{name}.eml"));
                std::fs::write(&path, msg.formatted())
                    .with_context(|| format!("cannot write {}", path.display()))?;
                Ok((Outcome::Sent, 1))
            }
            Sink::Smtp {
                transport,
                attempts,
                first_delay,
            } => {
                let mut delay = *first_delay;
                let mut last = Outcome::Temporary(String::new());
                for n in 1..=*attempts {
                    match transport.send(msg.clone()).await {
                        Ok(_) => return Ok((Outcome::Sent, n)),
                        Err(e) if e.is_permanent() => {
                            return Ok((Outcome::Permanent(one_line(&e.to_string())), n));
                        }
                        Err(e) => last = Outcome::Temporary(one_line(&e.to_string())),
                    }
                    if n < *attempts {
                        tokio::time::sleep(delay).await;
                        delay *= 2;
                    }
                }
                Ok((last, *attempts))
            }
        }
    }

    /// Whether messages really go out (and the send log is written).
    pub fn live(&self) -> bool {
        matches!(self, Sink::Smtp { .. })
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Claims the sending of one message, so that two runs (the gate's and
/// cron's, say) never send it twice: a new entry, a temporary failure, or a
/// claim older than 15 minutes (a run that died) can be claimed.
async fn claim(db: &Database, subscription: i64, kind: &str, week: &str) -> Result<bool> {
    let now = chrono::Utc::now();
    let stale = (now - chrono::Duration::minutes(15))
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string();
    let r = sqlx::query(
        "INSERT INTO mail_log (subscription_id, kind, week, status, attempts, detail, at) \
         VALUES ($1, $2, $3, 'sending', 0, NULL, $4) \
         ON CONFLICT (subscription_id, kind, week) DO UPDATE SET status = 'sending', at = excluded.at \
         WHERE mail_log.status = 'temporary' OR (mail_log.status = 'sending' AND mail_log.at < $5)",
    )
    .bind(subscription)
    .bind(kind)
    .bind(week)
    .bind(accounts::now())
    .bind(stale)
    .execute(db.pool())
    .await
    .context("cannot write the send log")?;
    Ok(r.rows_affected() == 1)
}

/// Records a send attempt in the log (one row per subscription, kind and week).
async fn log(
    db: &Database,
    subscription: i64,
    kind: &str,
    week: &str,
    outcome: &Outcome,
    attempts: u32,
) -> Result<()> {
    let (status, detail) = match outcome {
        Outcome::Sent => ("sent", None),
        Outcome::Temporary(d) => ("temporary", Some(d.as_str())),
        Outcome::Permanent(d) => ("permanent", Some(d.as_str())),
    };
    // One statement: it waits for the write lock like any other, where a
    // read followed by a write in one transaction could fail at once on
    // SQLite when another sender writes at the same time.
    sqlx::query(
        "INSERT INTO mail_log (subscription_id, kind, week, status, attempts, detail, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (subscription_id, kind, week) DO UPDATE SET status = excluded.status, \
         attempts = mail_log.attempts + excluded.attempts, detail = excluded.detail, at = excluded.at",
    )
    .bind(subscription)
    .bind(kind)
    .bind(week)
    .bind(status)
    .bind(i64::from(attempts))
    .bind(detail)
    .bind(accounts::now())
    .execute(db.pool())
    .await
    .context("cannot write the send log")?;
    Ok(())
}

/// Counts of one run.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub confirmations: usize,
    pub digests: usize,
    pub temporary: Vec<String>,
    pub permanent: Vec<String>,
    pub skipped: usize,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "mail: {} confirmation request(s) and {} digest(s) sent, {} already sent before",
            self.confirmations, self.digests, self.skipped
        )?;
        for t in &self.temporary {
            writeln!(f, "  failed for now (tried again next run): {t}")?;
        }
        for p in &self.permanent {
            writeln!(f, "  refused for good (see `tabel mail list`): {p}")?;
        }
        Ok(())
    }
}

/// Builds the message `to` with the given parts; `unsubscribe` adds the
/// RFC 8058 headers.
pub fn message(
    settings: &Mail,
    to: &str,
    subject: &str,
    text: String,
    html: Option<String>,
    pdf: Option<(String, Vec<u8>)>,
    unsubscribe: Option<&str>,
) -> Result<Message> {
    let to: Mailbox = to
        .parse()
        .with_context(|| format!("{to:?} is not an e-mail address"))?;
    let mut b = Message::builder()
        .from(sender(settings)?)
        .to(to)
        .subject(subject)
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".into(),
        ));
    if let Some(url) = unsubscribe {
        b = b
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{url}>"),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".into(),
            ));
    }
    let body = match html {
        Some(html) => MultiPart::alternative_plain_html(text, html),
        None => MultiPart::alternative().singlepart(SinglePart::plain(text)),
    };
    let msg =
        match pdf {
            Some((name, bytes)) => b.multipart(MultiPart::mixed().multipart(body).singlepart(
                Attachment::new(name).body(bytes, ContentType::parse("application/pdf")?),
            )),
            None => b.multipart(body),
        };
    msg.context("cannot build the message")
}

/// Sends the confirmation request of every eligible subscription asked for
/// within [`CONFIRM_HOURS`] that has not had one; records what was sent
/// and what failed. The link's token is made now and only its hash stored;
/// a temporary failure leaves the request to the next run, with a new token.
pub async fn send_confirmations(
    db: &Database,
    settings: &Mail,
    lang: crate::i18n::Language,
    sink: &Sink,
    summary: &mut Summary,
) -> Result<()> {
    let pending: Vec<(i64, String, String, String)> = sqlx::query_as(&format!(
        "SELECT m.id, m.address, s.family_name, s.given_name {ELIGIBLE} \
         AND m.confirmed_at IS NULL AND m.confirm_hash IS NULL AND m.created_at >= $1 \
         ORDER BY m.id"
    ))
    .bind(confirm_since())
    .fetch_all(db.pool())
    .await
    .context("cannot read the subscriptions")?;
    for (id, address, family, given) in pending {
        let l = digest::labels(lang);
        let token = accounts::session::random_token(32);
        let hash = accounts::session::token_hash(&token);
        let link = settings.link(&format!("/mail/confirm?t={token}"));
        // The message names the child, not the account: it may reach
        // someone who is not the guardian.
        let text = format!(
            "{}\n\n{}: {given} {family}\n\n{}\n{link}\n\n{}\n",
            l.confirm_intro, l.child, l.confirm_action, l.confirm_ignore
        );
        let msg = message(
            settings,
            &address,
            &format!("{}: {given} {family}", l.confirm_subject),
            text,
            None,
            None,
            None,
        )?;
        // Claimed by storing the hash: two senders never send one twice.
        if sink.live() {
            let claimed = sqlx::query(
                "UPDATE mail_subscription SET confirm_hash = $1, confirm_sent_at = $2 \
                 WHERE id = $3 AND confirm_hash IS NULL AND confirmed_at IS NULL AND unsubscribed_at IS NULL",
            )
            .bind(&hash)
            .bind(accounts::now())
            .bind(id)
            .execute(db.pool())
            .await
            .context("cannot record a confirmation request")?
            .rows_affected();
            if claimed == 0 {
                continue;
            }
        }
        let (outcome, n) = sink.deliver(&msg, &format!("confirm-{id}")).await?;
        if sink.live() {
            log(db, id, "confirm", &address, &outcome, n).await?;
            if matches!(outcome, Outcome::Temporary(_)) {
                sqlx::query(
                    "UPDATE mail_subscription SET confirm_hash = NULL, confirm_sent_at = NULL \
                     WHERE id = $1 AND confirm_hash = $2",
                )
                .bind(id)
                .bind(&hash)
                .execute(db.pool())
                .await
                .context("cannot record a confirmation request")?;
            }
        }
        match outcome {
            Outcome::Sent => summary.confirmations += 1,
            Outcome::Temporary(d) => summary.temporary.push(format!("{address}: {d}")),
            Outcome::Permanent(d) => summary.permanent.push(format!("{address}: {d}")),
        }
    }
    Ok(())
}

/// Options of a `tabel mail` run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The ISO week, `2026-W48`.
    pub week: String,
    /// Write `.eml` files into this folder instead of sending.
    pub dry_run: Option<PathBuf>,
    pub language: crate::i18n::Language,
    pub templates: Option<PathBuf>,
}

/// One run: confirmation requests, then the digests of `week`.
pub async fn run(db: &Database, settings: &Mail, opts: &RunOptions) -> Result<Summary> {
    check(settings)?;
    let sink = match &opts.dry_run {
        Some(dir) => Sink::Files(dir.clone()),
        None => Sink::Smtp {
            transport: transport(settings)?,
            attempts: settings.attempts,
            first_delay: Duration::from_secs(settings.retry_seconds),
        },
    };
    let mut summary = Summary::default();
    send_confirmations(db, settings, opts.language, &sink, &mut summary).await?;
    digest::send_digests(db, settings, &sink, opts, &mut summary).await?;
    Ok(summary)
}

/// A row of `tabel mail list`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ListRow {
    pub login: String,
    pub family_name: String,
    pub given_name: String,
    pub class: Option<String>,
    pub address: String,
    pub created_at: String,
    pub confirmed_at: Option<String>,
    pub unsubscribed_at: Option<String>,
    pub last_sent: Option<String>,
    pub failure: Option<String>,
}

/// Every subscription with its last digest and its latest failure.
pub async fn list(db: &Database) -> Result<Vec<ListRow>> {
    Ok(sqlx::query_as(
        "SELECT a.login, s.family_name, s.given_name, c.title AS class, m.address, m.created_at, \
                m.confirmed_at, m.unsubscribed_at, \
                (SELECT MAX(l.week) FROM mail_log l WHERE l.subscription_id = m.id \
                    AND l.kind = 'digest' AND l.status = 'sent') AS last_sent, \
                (SELECT l.status || ' ' || l.kind || ' ' || l.week || ': ' || COALESCE(l.detail, '') \
                    FROM mail_log l WHERE l.subscription_id = m.id \
                    AND l.status IN ('temporary', 'permanent') \
                    ORDER BY l.at DESC LIMIT 1) AS failure \
         FROM mail_subscription m \
         JOIN account a ON a.id = m.account_id \
         JOIN student s ON s.id = m.student_id \
         LEFT JOIN class c ON c.id = s.class_id \
         ORDER BY a.login, s.family_name, s.given_name, m.id",
    )
    .fetch_all(db.pool())
    .await?)
}

/// The folder `--dry-run` writes to by default.
pub fn preview_dir(output: &Path, week: &str) -> PathBuf {
    output.join("mail-preview").join(week)
}
