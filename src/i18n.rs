//! Interface words of pages and documents, in Russian (the default) and
//! English. Templates read them as `t.<name>`; nothing in a template is
//! written in one language only.

use serde::Serialize;

use crate::gradebook::Date;

/// Interface language of generated pages, documents and the gate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Russian (the default).
    #[default]
    Ru,
    /// English.
    En,
}

/// Every interface word the templates use.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Labels {
    pub lang: &'static str,
    pub diary: &'static str,
    pub week: &'static str,
    pub prev_week: &'static str,
    pub next_week: &'static str,
    pub this_week: &'static str,
    pub all_weeks: &'static str,
    pub week_running: &'static str,
    pub marks: &'static str,
    pub today: &'static str,
    pub no_lessons: &'static str,
    pub day_off: &'static str,
    pub lesson_no: &'static str,
    pub subject: &'static str,
    pub topic: &'static str,
    pub homework: &'static str,
    pub mark: &'static str,
    pub weight: &'static str,
    pub absence: &'static str,
    pub notes: &'static str,
    pub legend: &'static str,
    pub class: &'static str,
    pub class_teacher: &'static str,
    pub students: &'static str,
    pub student: &'static str,
    pub number: &'static str,
    pub full_name: &'static str,
    pub absences: &'static str,
    pub of_them_ill: &'static str,
    pub lessons_missed: &'static str,
    pub statement: &'static str,
    pub statements: &'static str,
    pub period: &'static str,
    pub average: &'static str,
    pub weighted_average: &'static str,
    pub period_mark: &'static str,
    pub trend: &'static str,
    pub date: &'static str,
    pub kind: &'static str,
    pub school: &'static str,
    pub schools: &'static str,
    pub classes: &'static str,
    pub progress: &'static str,
    pub quality: &'static str,
    pub sou: &'static str,
    pub excellent: &'static str,
    pub good: &'static str,
    pub one_three: &'static str,
    pub failing: &'static str,
    pub not_assessed: &'static str,
    pub no_periods: &'static str,
    pub printouts: &'static str,
    pub not_found: &'static str,
    pub not_found_text: &'static str,
    pub home_title: &'static str,
    pub home_text: &'static str,
    pub login: &'static str,
    pub updated: &'static str,
    pub teacher: &'static str,
    pub late: &'static str,
    pub year: &'static str,
    pub account: &'static str,
    pub logout: &'static str,
    pub login_name: &'static str,
    pub password: &'static str,
    pub current_password: &'static str,
    pub new_password: &'static str,
    pub repeat_password: &'static str,
    pub change_password: &'static str,
    pub must_change: &'static str,
    pub sessions: &'static str,
    pub end_session: &'static str,
    pub this_session: &'static str,
    pub started: &'static str,
    pub last_seen: &'static str,
    pub address: &'static str,
    pub device: &'static str,
    pub breach_title: &'static str,
    pub breach_text: &'static str,
    pub breach_button: &'static str,
    pub your_children: &'static str,
    pub your_classes: &'static str,
    pub office: &'static str,
    pub nothing_to_read: &'static str,
    pub login_failed: &'static str,
    pub form_expired: &'static str,
    pub too_many_attempts: &'static str,
    pub wrong_password: &'static str,
    pub passwords_differ: &'static str,
    pub password_unchanged: &'static str,
    pub password_short: &'static str,
    pub password_long: &'static str,
    pub password_common: &'static str,
    pub statement_title: &'static str,
    /// What an archive bag holds (its External-Description).
    pub archive_description: &'static str,
    pub school_year: &'static str,
    pub year_short: &'static str,
    pub exam_short: &'static str,
    pub final_short: &'static str,
    pub statistics: &'static str,
    pub director: &'static str,
    pub deputy: &'static str,
    pub signature: &'static str,
    pub name_in_full: &'static str,
    pub seal: &'static str,
    pub doc_date: &'static str,
    pub doc_number: &'static str,
    pub produced_by: &'static str,
    pub page: &'static str,
    pub page_of: &'static str,
    pub printout_title: &'static str,
    pub parent_signature: &'static str,
    pub pdf: &'static str,
    pub total: &'static str,
    pub ill_short: &'static str,
    /// Before the day a student left a class: «выбыл».
    pub left_class: &'static str,
    /// Heading of the links to earlier school years.
    pub past_years: &'static str,
    /// Before the day a student joined a class: «прибыл».
    pub joined_class: &'static str,
    /// Column head of the weighted average where space is short.
    pub weighted_short: &'static str,
    /// How a term mark comes out; `{rule}`: the thresholds, `{min}`: the marks it needs.
    pub rule_text: &'static str,
    /// One threshold of the rule: `{mark}`, `{from}`.
    pub rule_item: &'static str,
    /// The range of averages that gives a mark: `{from}`, `{until}`.
    pub band: &'static str,
    /// The range of the top mark: `{from}`.
    pub band_top: &'static str,
    /// Summary of the calculation of a term mark.
    pub calculation: &'static str,
    /// Before the average of the term marks that gives the year mark.
    pub year_average: &'static str,
    /// A period mark that is not what the rule gives: `{set}`, `{rule}`.
    pub teacher_set: &'static str,
    /// Too few marks for a finished term: `{n}`, `{min}`.
    pub few_marks: &'static str,
    /// The running term so far: `{mark}`, `{avg}`.
    pub so_far: &'static str,
    /// The running term with too few marks yet: `{n}`, `{min}`.
    pub so_far_few: &'static str,
    /// No marks in the running term yet.
    pub no_marks_yet: &'static str,
    /// One more mark: `{value}`, `{weight}`.
    pub more_one: &'static str,
    /// Several more marks: `{count}` (a word), `{value}`, `{weight}`.
    pub more_many: &'static str,
    /// Between two ways to the next mark.
    pub or: &'static str,
    /// What it takes to reach the next mark: `{options}`, `{target}`.
    pub next_mark: &'static str,
    /// The next mark is far off: `{target}`.
    pub next_far: &'static str,
    /// Counting words for marks, one to ten.
    pub counts: [&'static str; 10],
    /// Home page: heading of a child's news.
    pub news_marks_since: &'static str,
    /// Home page: marks of the last days, when there was no earlier visit: `{days}`.
    pub news_marks_recent: &'static str,
    /// Home page: no new marks.
    pub news_no_marks: &'static str,
    /// Home page: more marks than listed: `{n}`.
    pub news_more_marks: &'static str,
    /// Home page: homework for the next school day: `{day}`.
    pub news_homework: &'static str,
    /// Home page: no homework known for that day.
    pub news_no_homework: &'static str,
    /// Home page: absences of this week.
    pub news_absences: &'static str,
    /// Home page: none this week.
    pub news_no_absences: &'static str,
    /// Home page: the latest notes from teachers.
    pub news_notes: &'static str,
    /// Home page: the student's own heading.
    pub news_yours: &'static str,
}

/// Russian interface.
pub static RU: Labels = Labels {
    lang: "ru",
    diary: "Дневник",
    week: "Неделя",
    prev_week: "← предыдущая неделя",
    next_week: "следующая неделя →",
    this_week: "Эта неделя",
    all_weeks: "Все недели",
    week_running: "Неделя ещё идёт: она на странице ученика.",
    marks: "Оценки",
    today: "сегодня",
    no_lessons: "Уроков нет",
    day_off: "выходной",
    lesson_no: "Урок",
    subject: "Предмет",
    topic: "Тема",
    homework: "Домашнее задание",
    mark: "Оценка",
    weight: "вес",
    absence: "Пропуск",
    notes: "Сообщения учителей",
    legend: "Обозначения",
    class: "Класс",
    class_teacher: "Классный руководитель",
    students: "Учащиеся",
    student: "Учащийся",
    number: "№",
    full_name: "Фамилия, имя, отчество",
    absences: "Пропуски",
    of_them_ill: "из них по болезни",
    lessons_missed: "пропущено уроков",
    statement: "Сводная ведомость",
    statements: "Сводные ведомости",
    period: "Период",
    average: "Средний балл",
    weighted_average: "Средневзвешенный",
    period_mark: "Итог",
    trend: "Динамика",
    date: "Дата",
    kind: "Вид работы",
    school: "Школа",
    schools: "Школы",
    classes: "Классы",
    progress: "Успеваемость, %",
    quality: "Качество, %",
    sou: "СОУ, %",
    excellent: "Отличники",
    good: "Хорошисты",
    one_three: "С одной «3»",
    failing: "Неуспевающие",
    not_assessed: "Не аттестованы",
    no_periods: "Ни один период ещё не завершён.",
    printouts: "Распечатки",
    not_found: "Страница не найдена",
    not_found_text: "Такой страницы нет или она вам недоступна.",
    home_title: "Электронный дневник",
    home_text: "Войдите, чтобы увидеть дневник своего ребёнка.",
    login: "Войти",
    updated: "Обновлено",
    teacher: "Учитель",
    late: "опоздание",
    year: "Год",
    account: "Учётная запись",
    logout: "Выйти",
    login_name: "Логин",
    password: "Пароль",
    current_password: "Текущий пароль",
    new_password: "Новый пароль",
    repeat_password: "Новый пароль ещё раз",
    change_password: "Сменить пароль",
    must_change: "Это одноразовый пароль. Придумайте свой пароль, чтобы продолжить: не короче 8 символов, можно из нескольких слов.",
    sessions: "Активные сеансы",
    end_session: "Завершить",
    this_session: "этот сеанс",
    started: "Начат",
    last_seen: "Последнее действие",
    address: "Адрес",
    device: "Устройство",
    breach_title: "Сообщить о компрометации пароля",
    breach_text: "Если ваш пароль мог стать известен кому-то ещё, сообщите об этом: все сеансы будут завершены, потребуется новый пароль, а школа увидит ваше сообщение (п. 4.3 положения).",
    breach_button: "Сообщить о компрометации",
    your_children: "Дети",
    your_classes: "Классы",
    office: "Администрация",
    nothing_to_read: "Пока нечего показать: учётная запись не связана ни с одним учащимся или классом.",
    login_failed: "Неверный логин или пароль.",
    form_expired: "Форма устарела. Попробуйте ещё раз.",
    too_many_attempts: "Слишком много неудачных попыток входа. Попробуйте снова через {minutes} мин.",
    wrong_password: "Текущий пароль указан неверно.",
    passwords_differ: "Новые пароли не совпадают.",
    password_unchanged: "Новый пароль совпадает с текущим.",
    password_short: "Пароль слишком короткий: нужно не меньше 8 символов.",
    password_long: "Пароль слишком длинный: не больше 128 символов.",
    password_common: "Этот пароль слишком распространён. Выберите другой.",
    statement_title: "Сводная ведомость итоговой успеваемости",
    archive_description: "Сводные ведомости итоговой успеваемости за учебный год",
    school_year: "Учебный год",
    year_short: "Год",
    exam_short: "Экз.",
    final_short: "Итог.",
    statistics: "Итоги",
    director: "Директор",
    deputy: "Заместитель директора по учебной работе",
    signature: "подпись",
    name_in_full: "расшифровка подписи",
    seal: "М.П.",
    doc_date: "Дата",
    doc_number: "Документ №",
    produced_by: "Сформировано системой tabel по снимку данных",
    page: "стр.",
    page_of: "из",
    printout_title: "Выписка из электронного дневника",
    parent_signature: "Подпись родителя (законного представителя)",
    pdf: "PDF",
    total: "всего",
    ill_short: "по болезни",
    left_class: "выбыл",
    past_years: "Прошлые учебные годы",
    joined_class: "прибыл",
    weighted_short: "Ср. взв.",
    rule_text: "Оценка за период — средневзвешенный балл: каждая оценка умножается на свой вес (контрольная весит больше ответа на уроке), сумма делится на сумму весов, а результат округляется по правилу школы: {rule}. Нужно не меньше {min} оценок, иначе ставится «н/а».",
    rule_item: "«{mark}» — от {from}",
    band: "от {from} до {until}",
    band_top: "от {from}",
    calculation: "Расчёт",
    year_average: "Среднее оценок за периоды",
    teacher_set: "Учитель выставил «{set}», хотя по правилу выходит «{rule}».",
    few_marks: "Оценок {n}, а нужно не меньше {min}: по правилу выходит «н/а».",
    so_far: "Сейчас выходит «{mark}» ({avg}).",
    so_far_few: "Пока оценок {n}, а для оценки за период нужно не меньше {min}.",
    no_marks_yet: "Оценок пока нет.",
    more_one: "ещё одна «{value}» с весом {weight}",
    more_many: "ещё {count} «{value}» с весом {weight}",
    or: "или",
    next_mark: "{options} — и выйдет «{target}».",
    next_far: "До «{target}» далеко: не хватит и десяти «5».",
    counts: [
        "одна",
        "две",
        "три",
        "четыре",
        "пять",
        "шесть",
        "семь",
        "восемь",
        "девять",
        "десять",
    ],
    news_marks_since: "Новые оценки с {day}",
    news_marks_recent: "Оценки за последние {days} дней",
    news_no_marks: "Новых оценок нет.",
    news_more_marks: "и ещё {n} — на странице оценок",
    news_homework: "Домашнее задание на {day}",
    news_no_homework: "Заданий на этот день нет.",
    news_absences: "Пропуски на этой неделе",
    news_no_absences: "Пропусков нет.",
    news_notes: "Сообщения учителей",
    news_yours: "Ваш дневник",
};

/// English interface.
pub static EN: Labels = Labels {
    lang: "en",
    diary: "Diary",
    week: "Week",
    prev_week: "← previous week",
    next_week: "next week →",
    this_week: "This week",
    all_weeks: "All weeks",
    week_running: "The week is still under way: it is on the student's start page.",
    marks: "Marks",
    today: "today",
    no_lessons: "No lessons",
    day_off: "day off",
    lesson_no: "Lesson",
    subject: "Subject",
    topic: "Topic",
    homework: "Homework",
    mark: "Mark",
    weight: "weight",
    absence: "Absence",
    notes: "Notes from teachers",
    legend: "Legend",
    class: "Class",
    class_teacher: "Class teacher",
    students: "Students",
    student: "Student",
    number: "No.",
    full_name: "Full name",
    absences: "Absences",
    of_them_ill: "of them ill",
    lessons_missed: "lessons missed",
    statement: "Summary statement",
    statements: "Summary statements",
    period: "Period",
    average: "Average",
    weighted_average: "Weighted average",
    period_mark: "Final",
    trend: "Trend",
    date: "Date",
    kind: "Kind of work",
    school: "School",
    schools: "Schools",
    classes: "Classes",
    progress: "Progress, %",
    quality: "Quality, %",
    sou: "SOU, %",
    excellent: "Excellent",
    good: "Good",
    one_three: "With one «3»",
    failing: "Failing",
    not_assessed: "Not assessed",
    no_periods: "No period has ended yet.",
    printouts: "Printouts",
    not_found: "Page not found",
    not_found_text: "This page does not exist or is not available to you.",
    home_title: "School diary",
    home_text: "Log in to see your child's diary.",
    login: "Log in",
    updated: "Updated",
    teacher: "Teacher",
    late: "late",
    year: "Year",
    account: "Account",
    logout: "Log out",
    login_name: "Login",
    password: "Password",
    current_password: "Current password",
    new_password: "New password",
    repeat_password: "New password again",
    change_password: "Change password",
    must_change: "This is a one-time password. Choose your own to continue: at least 8 characters; several words are fine.",
    sessions: "Active sessions",
    end_session: "End",
    this_session: "this session",
    started: "Started",
    last_seen: "Last seen",
    address: "Address",
    device: "Device",
    breach_title: "Report a leaked password",
    breach_text: "If someone else may know your password, report it: every session ends, a new password is required, and the school sees your report (clause 4.3 of the regulation).",
    breach_button: "Report the leak",
    your_children: "Children",
    your_classes: "Classes",
    office: "Office",
    nothing_to_read: "Nothing to show yet: the account is not linked to any student or class.",
    login_failed: "Wrong login or password.",
    form_expired: "The form has expired. Please try again.",
    too_many_attempts: "Too many failed attempts. Try again in {minutes} min.",
    wrong_password: "The current password is wrong.",
    passwords_differ: "The new passwords differ.",
    password_unchanged: "The new password is the current one.",
    password_short: "The password is too short: at least 8 characters.",
    password_long: "The password is too long: at most 128 characters.",
    password_common: "This password is too common. Choose another.",
    statement_title: "Summary statement of final marks",
    archive_description: "Summary statements of final marks of the school year",
    school_year: "School year",
    year_short: "Year",
    exam_short: "Exam",
    final_short: "Final",
    statistics: "Summary",
    director: "Director",
    deputy: "Deputy director for academic work",
    signature: "signature",
    name_in_full: "name",
    seal: "Seal",
    doc_date: "Date",
    doc_number: "Document No.",
    produced_by: "Produced by tabel from data snapshot",
    page: "page",
    page_of: "of",
    printout_title: "Extract from the electronic diary",
    parent_signature: "Parent's (guardian's) signature",
    pdf: "PDF",
    total: "total",
    ill_short: "ill",
    left_class: "left",
    past_years: "Earlier school years",
    joined_class: "joined",
    weighted_short: "Wtd. avg.",
    rule_text: "A term mark is the weighted average: each mark is multiplied by its weight (a test weighs more than an oral answer), the sum is divided by the sum of the weights, and the result is rounded by the school's rule: {rule}. A term mark needs at least {min} marks, otherwise it is «н/а» (not assessed).",
    rule_item: "«{mark}» from {from}",
    band: "{from} to {until}",
    band_top: "{from} and above",
    calculation: "The calculation",
    year_average: "Average of the term marks",
    teacher_set: "The teacher set «{set}», although the rule gives «{rule}».",
    few_marks: "{n} marks, and at least {min} are needed: the rule gives «н/а».",
    so_far: "So far it comes out «{mark}» ({avg}).",
    so_far_few: "{n} marks so far; a term mark needs at least {min}.",
    no_marks_yet: "No marks yet.",
    more_one: "one more «{value}» of weight {weight}",
    more_many: "{count} more «{value}» of weight {weight}",
    or: "or",
    next_mark: "{options}, and it comes out «{target}».",
    next_far: "«{target}» is far off: even ten «5» would not do.",
    counts: [
        "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    ],
    news_marks_since: "New marks since {day}",
    news_marks_recent: "Marks of the last {days} days",
    news_no_marks: "No new marks.",
    news_more_marks: "and {n} more on the marks page",
    news_homework: "Homework for {day}",
    news_no_homework: "No homework for that day.",
    news_absences: "Absences this week",
    news_no_absences: "No absences.",
    news_notes: "Notes from teachers",
    news_yours: "Your diary",
};

/// The labels of a language.
pub fn labels(lang: Language) -> &'static Labels {
    match lang {
        Language::Ru => &RU,
        Language::En => &EN,
    }
}

/// A fingerprint of a language's interface words: the hex SHA-256 (first
/// 16 bytes) of their JSON. It stands for them where a page's inputs are
/// hashed ([`serialize_words`]); the templates' version hashes the JSON
/// itself.
pub fn words_fingerprint(t: &Labels) -> String {
    let json = serde_json::to_vec(t).unwrap_or_default();
    let digest = sha2::Digest::finalize(sha2::Digest::chain_update(
        <sha2::Sha256 as sha2::Digest>::new(),
        &json,
    ));
    data_encoding::HEXLOWER.encode(&digest[..16])
}

/// Serializes the interface words of a page (`Frame::t`): whole for the
/// templates, and as a fingerprint of them anywhere else, which is where a
/// page's inputs are hashed to tell whether it changed. Every page carries
/// the same few hundred words; serializing them twice for each rendered
/// page cost the city's school day about 3 % of its CPU
/// (docs/benchmarks.md, "Reading the previous release ahead, and the
/// words of every page"). Both forms are made once per language.
pub fn serialize_words<S: serde::Serializer>(t: &&'static Labels, s: S) -> Result<S::Ok, S::Error> {
    static WORDS: [std::sync::OnceLock<(minijinja::Value, String)>; 2] =
        [std::sync::OnceLock::new(), std::sync::OnceLock::new()];
    let cell = if std::ptr::eq(*t, &RU) {
        &WORDS[0]
    } else if std::ptr::eq(*t, &EN) {
        &WORDS[1]
    } else {
        // Words of no language above: not cached, serialized whole.
        return t.serialize(s);
    };
    // Asked before the cache is filled, which serializes for a value too.
    let for_value = minijinja::value::serializing_for_value();
    let (value, fingerprint) = cell.get_or_init(|| {
        (
            minijinja::Value::from_serialize(*t),
            format!("words:{}", words_fingerprint(t)),
        )
    });
    if for_value {
        value.serialize(s)
    } else {
        s.serialize_str(fingerprint)
    }
}

const MONTHS_RU: [&str; 12] = [
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS_RU: [&str; 7] = [
    "понедельник",
    "вторник",
    "среда",
    "четверг",
    "пятница",
    "суббота",
    "воскресенье",
];
const DAYS_EN: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// «23 ноября» / "23 November".
pub fn day_month(lang: Language, d: Date) -> String {
    use chrono::Datelike;
    let m = d.0.month0() as usize;
    match lang {
        Language::Ru => format!("{} {}", d.0.day(), MONTHS_RU[m]),
        Language::En => format!("{} {}", d.0.day(), MONTHS_EN[m]),
    }
}

/// «понедельник» / "Monday".
pub fn weekday(lang: Language, d: Date) -> &'static str {
    use chrono::Datelike;
    let i = d.0.weekday().num_days_from_monday() as usize;
    match lang {
        Language::Ru => DAYS_RU[i],
        Language::En => DAYS_EN[i],
    }
}

/// «23.11.2026» / "2026-11-23": a short date for tables.
pub fn short_date(lang: Language, d: Date) -> String {
    match lang {
        Language::Ru => d.0.format("%d.%m.%Y").to_string(),
        Language::En => d.to_string(),
    }
}

/// `pattern` with each `{name}` replaced by its value.
pub fn fill(pattern: &str, args: &[(&str, &str)]) -> String {
    let mut out = pattern.to_owned();
    for (name, value) in args {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// `text` with its first letter upper-case.
pub fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

/// «27 ноября, пятница» / "Friday, 27 November": a day after «на» or "for".
pub fn day_in_words(lang: Language, d: Date) -> String {
    match lang {
        Language::Ru => format!("{}, {}", day_month(lang, d), weekday(lang, d)),
        Language::En => format!("{}, {}", weekday(lang, d), day_month(lang, d)),
    }
}

/// Short column label of a period: «I»…«IV» for terms, «Год», «Экз.», «Итог.».
pub fn period_short(lang: Language, kind: crate::gradebook::PeriodKind, number: i64) -> String {
    use crate::gradebook::PeriodKind;
    let t = labels(lang);
    match kind {
        PeriodKind::Year => t.year_short.to_owned(),
        PeriodKind::Exam => t.exam_short.to_owned(),
        PeriodKind::Final => t.final_short.to_owned(),
        _ => match number {
            1 => "I".to_owned(),
            2 => "II".to_owned(),
            3 => "III".to_owned(),
            4 => "IV".to_owned(),
            n => n.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_words() {
        let d = Date::parse_iso("2026-11-23").unwrap();
        assert_eq!(day_month(Language::Ru, d), "23 ноября");
        assert_eq!(weekday(Language::Ru, d), "понедельник");
        assert_eq!(short_date(Language::Ru, d), "23.11.2026");
    }
}
