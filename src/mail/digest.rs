//! The weekly digest: what a message says, and sending one per confirmed
//! subscription and week.

use std::collections::{BTreeMap, HashMap};

use anyhow::{Context, Result, bail};
use serde::Serialize;

use super::{ELIGIBLE, Outcome, RunOptions, Sink, Summary, claim, log, message};
use crate::db::Database;
use crate::gradebook::{self, Date, YearChoice};
use crate::i18n::Language;
use crate::render::html::Templates;
use crate::render::pdf::Typesetter;
use crate::views::documents;
use crate::views::paths::Page;
use crate::views::week::WeekView;
use crate::views::{Index, LegendItem};

/// The words of the messages.
#[derive(Debug, Serialize)]
pub struct MailLabels {
    pub lang: &'static str,
    pub subject: &'static str,
    pub marks: &'static str,
    pub no_marks: &'static str,
    pub absences: &'static str,
    pub no_absences: &'static str,
    pub homework: &'static str,
    pub no_homework: &'static str,
    pub notes: &'static str,
    pub weight: &'static str,
    pub legend: &'static str,
    pub printout: &'static str,
    pub open_diary: &'static str,
    pub why: &'static str,
    pub unsubscribe: &'static str,
    pub confirm_subject: &'static str,
    pub confirm_intro: &'static str,
    pub confirm_action: &'static str,
    pub confirm_ignore: &'static str,
    pub child: &'static str,
    pub section: &'static str,
    pub section_text: &'static str,
    pub address: &'static str,
    pub subscribe: &'static str,
    pub state_active: &'static str,
    pub state_unconfirmed: &'static str,
    pub confirm_sent: &'static str,
    pub bad_address: &'static str,
    pub confirm_title: &'static str,
    pub confirm_button: &'static str,
    pub confirmed: &'static str,
    pub unsubscribe_title: &'static str,
    pub unsubscribed: &'static str,
    pub bad_link: &'static str,
}

const RU: MailLabels = MailLabels {
    lang: "ru",
    subject: "Дневник",
    marks: "Отметки",
    no_marks: "Отметок за неделю нет.",
    absences: "Пропуски",
    no_absences: "Пропусков нет.",
    homework: "Домашние задания к следующим урокам",
    no_homework: "Домашних заданий нет.",
    notes: "Записи учителей",
    weight: "вес",
    legend: "Обозначения",
    printout: "Распечатка дневника за неделю — во вложении (PDF).",
    open_diary: "Дневник в личном кабинете",
    why: "Вы получаете это письмо, потому что подписались на еженедельную рассылку дневника в личном кабинете.",
    unsubscribe: "Отписаться от рассылки",
    confirm_subject: "Подтвердите подписку на дневник",
    confirm_intro: "В личном кабинете электронного дневника этот адрес указан для еженедельной рассылки дневника.",
    confirm_action: "Чтобы получать письма, подтвердите адрес по ссылке:",
    confirm_ignore: "Если вы не подписывались, ничего не делайте: писем больше не будет.",
    child: "Обучающийся",
    section: "Дневник на электронную почту",
    section_text: "Раз в неделю — отметки, пропуски, домашние задания и записи учителей, с распечаткой дневника во вложении. Адрес нужно подтвердить по ссылке из письма.",
    address: "Адрес электронной почты",
    subscribe: "Подписаться",
    state_active: "рассылка идёт на",
    state_unconfirmed: "ждёт подтверждения по ссылке из письма, отправленного на",
    confirm_sent: "Письмо со ссылкой для подтверждения отправлено на",
    bad_address: "Это не адрес электронной почты.",
    confirm_title: "Подтверждение подписки",
    confirm_button: "Подтвердить подписку",
    confirmed: "Адрес подтверждён: дневник будет приходить раз в неделю.",
    unsubscribe_title: "Отписка от рассылки",
    unsubscribed: "Вы отписались: писем больше не будет.",
    bad_link: "Ссылка недействительна или уже использована.",
};

const EN: MailLabels = MailLabels {
    lang: "en",
    subject: "Diary",
    marks: "Marks",
    no_marks: "No marks this week.",
    absences: "Absences",
    no_absences: "No absences.",
    homework: "Homework for the next lessons",
    no_homework: "No homework.",
    notes: "Notes from teachers",
    weight: "weight",
    legend: "Codes",
    printout: "The week's diary printout is attached (PDF).",
    open_diary: "The diary on the school's site",
    why: "You receive this because you subscribed to the weekly diary on your account page.",
    unsubscribe: "Unsubscribe",
    confirm_subject: "Confirm your subscription to the diary",
    confirm_intro: "This address was given on the school diary's account page for the weekly diary by e-mail.",
    confirm_action: "To receive the messages, confirm the address with this link:",
    confirm_ignore: "If you did not subscribe, do nothing: no more messages will come.",
    child: "Student",
    section: "The diary by e-mail",
    section_text: "Once a week: marks, absences, homework and teachers' notes, with the diary printout attached. The address must be confirmed with the link in the message sent to it.",
    address: "E-mail address",
    subscribe: "Subscribe",
    state_active: "sent every week to",
    state_unconfirmed: "awaits confirmation with the link sent to",
    confirm_sent: "A message with a confirmation link was sent to",
    bad_address: "This is not an e-mail address.",
    confirm_title: "Confirm the subscription",
    confirm_button: "Confirm the subscription",
    confirmed: "The address is confirmed: the diary will come once a week.",
    unsubscribe_title: "Unsubscribe",
    unsubscribed: "You are unsubscribed: no more messages will come.",
    bad_link: "This link is not valid or was used already.",
};

/// The labels of `lang`.
pub fn labels(lang: Language) -> &'static MailLabels {
    match lang {
        Language::Ru => &RU,
        Language::En => &EN,
    }
}

/// The Monday of ISO week `2026-W48`.
pub fn monday_of(week: &str) -> Result<Date> {
    let parsed = week.split_once("-W").and_then(|(y, w)| {
        let (y, w) = (y.parse::<i32>().ok()?, w.parse::<u32>().ok()?);
        chrono::NaiveDate::from_isoywd_opt(y, w, chrono::Weekday::Mon)
    });
    match parsed {
        Some(d) if week.len() == 8 => Ok(Date(d)),
        _ => bail!("{week:?} is not an ISO week like 2026-W48"),
    }
}

#[derive(Serialize)]
struct DigestMark {
    day: String,
    subject: String,
    value: String,
    kind: Option<String>,
    weight: String,
    title: Option<String>,
    comment: Option<String>,
}

#[derive(Serialize)]
struct DigestAbsence {
    day: String,
    subject: String,
    code: String,
}

#[derive(Serialize)]
struct DigestText {
    day: String,
    subject: Option<String>,
    author: Option<String>,
    /// The teacher's Markdown, for the text part.
    text: String,
    /// Sanitized HTML, for the HTML part.
    html: String,
}

#[derive(Serialize)]
struct DigestView<'a> {
    l: &'static MailLabels,
    school: &'a str,
    student: String,
    class: String,
    week_title: String,
    marks: Vec<DigestMark>,
    absences: Vec<DigestAbsence>,
    homework: Vec<DigestText>,
    notes: Vec<DigestText>,
    legend: Vec<LegendItem>,
    diary_url: String,
    unsubscribe_url: String,
    printout: bool,
}

/// What the digest of `view` says.
fn digest_view<'a>(
    l: &'static MailLabels,
    school: &'a str,
    view: &WeekView,
    diary_url: String,
    unsubscribe_url: String,
) -> DigestView<'a> {
    let mut marks = Vec::new();
    let mut absences = Vec::new();
    // The homework set last in each subject this week: due at its next lesson.
    let mut homework: BTreeMap<String, DigestText> = BTreeMap::new();
    let mut notes = Vec::new();
    for day in &view.days {
        for lesson in &day.lessons {
            for m in &lesson.marks {
                marks.push(DigestMark {
                    day: day.title.clone(),
                    subject: lesson.subject.clone(),
                    value: m.value.clone(),
                    kind: m.kind.clone(),
                    weight: m.weight.clone(),
                    title: m.title.clone(),
                    comment: m.comment.clone(),
                });
            }
            if let Some(code) = &lesson.absence {
                absences.push(DigestAbsence {
                    day: day.title.clone(),
                    subject: lesson.subject.clone(),
                    code: code.clone(),
                });
            }
            if let (Some(src), Some(html)) = (&lesson.homework_source, &lesson.homework) {
                homework.insert(
                    lesson.subject.clone(),
                    DigestText {
                        day: day.title.clone(),
                        subject: Some(lesson.subject.clone()),
                        author: None,
                        text: src.trim().to_owned(),
                        html: html.clone(),
                    },
                );
            }
        }
        for n in &day.notes {
            notes.push(DigestText {
                day: day.title.clone(),
                subject: n.subject.clone(),
                author: n.author.clone(),
                text: n.body_source.trim().to_owned(),
                html: n.body.clone(),
            });
        }
    }
    DigestView {
        l,
        school,
        student: view.student.clone(),
        class: view.class.clone(),
        week_title: view.week_title.clone(),
        marks,
        absences,
        homework: homework.into_values().collect(),
        notes,
        legend: view.legend.clone(),
        diary_url,
        unsubscribe_url,
        printout: true,
    }
}

/// A subscription due for a digest.
#[derive(sqlx::FromRow)]
struct Due {
    id: i64,
    address: String,
    token: String,
    student_id: i64,
    school_id: i64,
    key: String,
}

/// Sends the digest of `opts.week` to every eligible confirmed subscription
/// that has not had it.
pub(super) async fn send_digests(
    db: &Database,
    settings: &crate::config::Mail,
    sink: &Sink,
    opts: &RunOptions,
    summary: &mut Summary,
) -> Result<()> {
    let monday = monday_of(&opts.week)?;
    let due: Vec<Due> = sqlx::query_as(&format!(
        "SELECT m.id, m.address, m.token, m.student_id, s.school_id, s.key {} \
         AND m.confirmed_at IS NOT NULL \
         AND NOT EXISTS (SELECT 1 FROM mail_log l WHERE l.subscription_id = m.id \
             AND l.kind = 'digest' AND l.week = $1 AND l.status IN ('sent', 'permanent')) \
         ORDER BY s.school_id, m.id",
        ELIGIBLE
    ))
    .bind(&opts.week)
    .fetch_all(db.pool())
    .await
    .context("cannot read the subscriptions")?;
    let done: Vec<(i64,)> = sqlx::query_as(
        "SELECT COUNT(*) FROM mail_log WHERE kind = 'digest' AND week = $1 AND status = 'sent'",
    )
    .bind(&opts.week)
    .fetch_all(db.pool())
    .await?;
    summary.skipped = done.first().map_or(0, |d| d.0 as usize);
    if due.is_empty() {
        return Ok(());
    }
    let templates = Templates::new(opts.templates.as_deref())?;
    let typesetter = Typesetter::new(opts.templates.as_deref())?;
    let l = labels(opts.language);
    let mut by_school: HashMap<i64, Vec<Due>> = HashMap::new();
    for d in due {
        by_school.entry(d.school_id).or_default().push(d);
    }
    let mut schools: Vec<_> = by_school.into_iter().collect();
    schools.sort_by_key(|(id, _)| *id);
    let sunday = Date(monday.0 + chrono::Days::new(6));
    for (school_id, subs) in schools {
        let snapshot = gradebook::load(db, school_id, YearChoice::On(monday))
            .await
            .with_context(|| format!("cannot load school {school_id}"))?;
        let ix = Index::new(&snapshot, opts.language, sunday, "");
        let Some(w) = ix.weeks.iter().position(|(_, m)| *m == monday) else {
            tracing::warn!(
                week = %opts.week,
                school = %snapshot.school.external_id,
                "the week is outside the school year; no digest"
            );
            continue;
        };
        for sub in subs {
            let Some(st) = snapshot.students.iter().find(|s| s.id == sub.student_id) else {
                continue;
            };
            let view = ix.week(st, w, false);
            let ident = format!("mail/{}/{}.pdf", sub.key, opts.week);
            let doc = documents::printout(&ix, st, &view, &ident);
            let pdf = typesetter
                .typeset("printout.typ", ix.t.lang, &[&doc])?
                .pop()
                .context("the printout was not typeset")?;
            let dv = digest_view(
                l,
                &snapshot.school.short_name,
                &view,
                settings.link(
                    &Page::Week {
                        student: &sub.key,
                        week: &opts.week,
                    }
                    .href(),
                ),
                settings.link(&format!("/mail/unsubscribe?t={}", sub.token)),
            );
            let text = templates.render("mail/digest.txt", &dv)?;
            let html = templates.render("mail/digest.html", &dv)?;
            let subject = format!(
                "{}: {}, {} — {}",
                l.subject, dv.student, dv.class, dv.week_title
            );
            let msg = message(
                settings,
                &sub.address,
                &subject,
                text,
                Some(html),
                Some((format!("diary-{}.pdf", opts.week), pdf)),
                Some(&dv.unsubscribe_url),
            )?;
            if sink.live() && !claim(db, sub.id, "digest", &opts.week).await? {
                continue;
            }
            let (outcome, n) = sink
                .deliver(&msg, &format!("digest-{}-{}", opts.week, sub.id))
                .await?;
            if sink.live() {
                log(db, sub.id, "digest", &opts.week, &outcome, n).await?;
            }
            match outcome {
                Outcome::Sent => summary.digests += 1,
                Outcome::Temporary(d) => summary.temporary.push(format!("{}: {d}", sub.address)),
                Outcome::Permanent(d) => summary.permanent.push(format!("{}: {d}", sub.address)),
            }
        }
    }
    Ok(())
}
