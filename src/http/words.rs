//! Messages only the gate's own pages show: busy, a breach's lock-out, the
//! limits on confirmation mail. They are kept apart from `i18n::Labels`,
//! whose every word is part of each static page's input hash.

use crate::i18n::Language;

/// The gate's messages in one language.
#[derive(Debug)]
pub struct Words {
    /// Too many password checks at once.
    pub busy: &'static str,
    /// The right password of an account whose breach was reported.
    pub breached: &'static str,
    /// Shown on the login page after the owner reported a breach.
    pub breach_reported: &'static str,
    /// A confirmation was asked for this child lately; `{minutes}` until the next.
    pub mail_recent: &'static str,
    /// The account asked for as many confirmations as a day allows; `{n}`.
    pub mail_daily: &'static str,
    /// The address is confirmed already.
    pub mail_active: &'static str,
    /// The title of the page of a file the release store cannot give now.
    pub unavailable_title: &'static str,
    /// Its text.
    pub unavailable: &'static str,
}

const RU: Words = Words {
    busy: "Сервер сейчас занят. Попробуйте войти ещё раз через несколько секунд.",
    breached: "Пароль этой учётной записи объявлен скомпрометированным, и войти с ним больше нельзя. \
               Чтобы вернуться, получите в канцелярии школы одноразовый пароль: с ним вы войдёте и зададите новый.",
    breach_reported: "Сообщение об утечке пароля принято: все сеансы завершены, прежний пароль больше не действует. \
                      Чтобы войти снова, получите в канцелярии школы одноразовый пароль.",
    mail_recent: "Письмо для подтверждения недавно уже отправлено. Перейдите по ссылке из него \
                  или попросите новое через {minutes} мин.",
    mail_daily: "За сутки можно попросить не больше {n} писем для подтверждения. Попробуйте завтра.",
    mail_active: "Этот адрес уже подтверждён.",
    unavailable_title: "Страница временно недоступна",
    unavailable: "Хранилище, из которого сервер берёт страницы, сейчас не отвечает. \
                  Попробуйте открыть страницу ещё раз через несколько секунд.",
};

const EN: Words = Words {
    busy: "The server is busy right now. Please try to log in again in a few seconds.",
    breached: "This account's password was reported leaked and no longer logs in. \
               To get back in, ask the school office for a one-time password: log in with it and choose a new one.",
    breach_reported: "Your report is recorded: every session has ended and the old password no longer works. \
                      To log in again, ask the school office for a one-time password.",
    mail_recent: "A confirmation message was sent a short while ago. Follow its link, \
                  or ask for a new one in {minutes} min.",
    mail_daily: "No more than {n} confirmation messages can be asked for in a day. Please try tomorrow.",
    mail_active: "This address is confirmed already.",
    unavailable_title: "This page is unavailable for a moment",
    unavailable: "The storage the server takes its pages from is not answering right now. \
                  Please open the page again in a few seconds.",
};

/// The messages in `language`.
pub fn words(language: Language) -> &'static Words {
    match language {
        Language::Ru => &RU,
        Language::En => &EN,
    }
}
