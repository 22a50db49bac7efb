//! Subscriptions to the weekly e-mail digest: subscribing on the account
//! page (one confirmation per child in a few hours, a few a day), and the
//! links in the messages (confirm, unsubscribe). The links carry a random
//! token, which is their only authority, one for confirming (stored only
//! hashed, valid for two days) and one for unsubscribing; a GET shows a page
//! with a button and only the POST changes anything (so a mail scanner that
//! opens links confirms nothing), except that a POST to the unsubscribe
//! link with no page in between is the one-click unsubscribe of RFC 8058.

use std::sync::Arc;

use axum::extract::{Query, Request, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::Gate;
use super::account::account_page;
use super::error::{Error, Result};
use super::forms::posted;
use super::respond::{Frame, frame, redirect, render};
use super::words::words;
use crate::accounts::Role;
use crate::gradebook::lookup;
use crate::mail::{self, Sink, Subscribed, Summary, digest::MailLabels};

#[derive(Deserialize)]
struct SubscribeForm {
    student: String,
    address: String,
}

/// Sends pending confirmation requests in the background.
fn send_confirmations_soon(gate: &Arc<Gate>) {
    let Some(settings) = gate.settings.mail.clone() else {
        return;
    };
    let (db, lang) = (gate.db.clone(), gate.settings.language);
    tokio::spawn(async move {
        let sink = match mail::transport(&settings) {
            Ok(transport) => Sink::Smtp {
                transport,
                attempts: 1,
                first_delay: std::time::Duration::ZERO,
            },
            Err(err) => {
                tracing::error!("cannot send mail: {err:#}");
                return;
            }
        };
        let mut summary = Summary::default();
        if let Err(err) = mail::send_confirmations(&db, &settings, lang, &sink, &mut summary).await
        {
            tracing::error!("cannot send confirmation requests: {err:#}");
        }
        for f in summary.temporary.iter().chain(&summary.permanent) {
            tracing::warn!("confirmation request not sent: {f}");
        }
    });
}

/// `POST /account/mail`: subscribes an address to a child's digest.
pub async fn subscribe(State(gate): State<Arc<Gate>>, req: Request) -> Result {
    let p = posted::<SubscribeForm>(&gate, req).await?;
    let (a, form) = (&p.a, &p.form);
    let l = mail::digest::labels(gate.settings.language);
    // Only a guardian, only for their own child, only with mail set up.
    if gate.settings.mail.is_none()
        || a.session.account.role != Role::Guardian
        || !a.access.students.contains(&form.student)
    {
        return Err(Error::NotFound);
    }
    let Some(address) = mail::check_address(&form.address) else {
        return account_page(
            &gate,
            a,
            None,
            Some(l.bad_address.to_owned()),
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    let student = lookup::student(&gate.db, &form.student)
        .await?
        .ok_or(Error::NotFound)?;
    let w = words(gate.settings.language);
    let refused =
        |msg: String| account_page(&gate, a, None, Some(msg), StatusCode::TOO_MANY_REQUESTS);
    match mail::subscribe(&gate.db, a.session.account.id, student.id, &address).await? {
        Subscribed::Asked(_) => {}
        Subscribed::Active => {
            return account_page(
                &gate,
                a,
                Some(w.mail_active.to_owned()),
                None,
                StatusCode::OK,
            )
            .await;
        }
        Subscribed::Recent(minutes) => {
            gate.audit.log(p.event("mail-subscribe", "limited")).await;
            return refused(w.mail_recent.replace("{minutes}", &minutes.to_string())).await;
        }
        Subscribed::Daily => {
            gate.audit.log(p.event("mail-subscribe", "limited")).await;
            return refused(
                w.mail_daily
                    .replace("{n}", &mail::DAILY_REQUESTS.to_string()),
            )
            .await;
        }
    }
    gate.audit.log(p.event("mail-subscribe", "ok")).await;
    send_confirmations_soon(&gate);
    account_page(
        &gate,
        a,
        Some(format!("{} {address}", l.confirm_sent)),
        None,
        StatusCode::OK,
    )
    .await
}

#[derive(Deserialize)]
struct EndForm {
    subscription: i64,
}

/// `POST /account/mail/end`: ends one of the account's subscriptions.
pub async fn end(State(gate): State<Arc<Gate>>, req: Request) -> Result {
    let p = posted::<EndForm>(&gate, req).await?;
    mail::unsubscribe_own(&gate.db, p.a.session.account.id, p.form.subscription).await?;
    gate.audit.log(p.event("mail-unsubscribe", "ok")).await;
    Ok(redirect("/account"))
}

#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    t: String,
}

#[derive(Serialize)]
struct LinkView {
    frame: Frame,
    l: &'static MailLabels,
    title: &'static str,
    /// The form to show (confirm or unsubscribe), with its action.
    action: Option<String>,
    button: &'static str,
    message: Option<&'static str>,
    address: Option<String>,
}

fn link_page(
    gate: &Gate,
    title: &'static str,
    action: Option<String>,
    button: &'static str,
    message: Option<&'static str>,
    address: Option<String>,
    status: StatusCode,
) -> Result {
    let l = mail::digest::labels(gate.settings.language);
    // These pages sit one folder down, at /mail/….
    let mut frame = frame(gate, title);
    frame.root = "../";
    let view = LinkView {
        frame,
        l,
        title,
        action,
        button,
        message,
        address,
    };
    Ok(render(gate, "mail.html", &view, status)?)
}

/// A page that says `message`.
fn notice(gate: &Gate, title: &'static str, message: &'static str, status: StatusCode) -> Result {
    link_page(gate, title, None, "", Some(message), None, status)
}

/// A page with one button that POSTs to `action`, for `address`.
fn button(
    gate: &Gate,
    title: &'static str,
    action: String,
    label: &'static str,
    address: String,
) -> Result {
    link_page(
        gate,
        title,
        Some(action),
        label,
        None,
        Some(address),
        StatusCode::OK,
    )
}

/// A token is base64url of 32 bytes; anything else is not looked up.
fn plausible(token: &str) -> bool {
    token.len() == 43
        && token
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
}

/// The subscription of an unsubscribe link's token, if the token is one.
async fn by_link(gate: &Gate, token: &str) -> Result<Option<mail::Subscription>> {
    if !plausible(token) {
        return Ok(None);
    }
    Ok(mail::by_token(&gate.db, token).await?)
}

/// The subscription a live confirmation link's token confirms, if any.
async fn by_confirm_link(gate: &Gate, token: &str) -> Result<Option<mail::Subscription>> {
    if !plausible(token) {
        return Ok(None);
    }
    Ok(mail::by_confirm_token(&gate.db, token).await?)
}

/// `GET /mail/confirm?t=…`: a page with the button that confirms.
pub async fn confirm_page(State(gate): State<Arc<Gate>>, Query(q): Query<TokenQuery>) -> Result {
    let l = mail::digest::labels(gate.settings.language);
    match by_confirm_link(&gate, &q.t).await? {
        Some(s) => button(
            &gate,
            l.confirm_title,
            format!("/mail/confirm?t={}", q.t),
            l.confirm_button,
            s.address,
        ),
        _ => notice(&gate, l.confirm_title, l.bad_link, StatusCode::NOT_FOUND),
    }
}

/// `POST /mail/confirm?t=…`: confirms the address.
pub async fn confirm(State(gate): State<Arc<Gate>>, Query(q): Query<TokenQuery>) -> Result {
    let l = mail::digest::labels(gate.settings.language);
    let ok = plausible(&q.t) && mail::confirm(&gate.db, &q.t).await?;
    if ok {
        notice(&gate, l.confirm_title, l.confirmed, StatusCode::OK)
    } else {
        notice(&gate, l.confirm_title, l.bad_link, StatusCode::NOT_FOUND)
    }
}

/// `GET /mail/unsubscribe?t=…`: a page with the button that unsubscribes.
pub async fn unsubscribe_page(
    State(gate): State<Arc<Gate>>,
    Query(q): Query<TokenQuery>,
) -> Result {
    let l = mail::digest::labels(gate.settings.language);
    match by_link(&gate, &q.t).await? {
        Some(s) if s.state() != "ended" => button(
            &gate,
            l.unsubscribe_title,
            format!("/mail/unsubscribe?t={}", q.t),
            l.unsubscribe,
            s.address,
        ),
        Some(_) => notice(&gate, l.unsubscribe_title, l.unsubscribed, StatusCode::OK),
        None => notice(
            &gate,
            l.unsubscribe_title,
            l.bad_link,
            StatusCode::NOT_FOUND,
        ),
    }
}

/// `POST /mail/unsubscribe?t=…`: from our page, or a mail program's
/// one-click unsubscribe (RFC 8058). Repeating it is harmless.
pub async fn unsubscribe(State(gate): State<Arc<Gate>>, Query(q): Query<TokenQuery>) -> Result {
    let l = mail::digest::labels(gate.settings.language);
    if by_link(&gate, &q.t).await?.is_none() {
        return notice(
            &gate,
            l.unsubscribe_title,
            l.bad_link,
            StatusCode::NOT_FOUND,
        );
    }
    mail::unsubscribe(&gate.db, &q.t).await?;
    notice(&gate, l.unsubscribe_title, l.unsubscribed, StatusCode::OK)
}
