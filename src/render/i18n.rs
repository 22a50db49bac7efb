//! Interface words of pages and documents, in Russian (the default) and
//! English. Templates read them as `t.<name>`; nothing in a template is
//! written in one language only.

use serde::Serialize;

use crate::config::Language;
use crate::gradebook::Date;

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
    pub data_as_of: &'static str,
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
}

/// Russian interface.
pub const RU: Labels = Labels {
    lang: "ru",
    diary: "Дневник",
    week: "Неделя",
    prev_week: "← предыдущая неделя",
    next_week: "следующая неделя →",
    this_week: "Эта неделя",
    all_weeks: "Все недели",
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
    data_as_of: "Данные на",
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
};

/// English interface.
pub const EN: Labels = Labels {
    lang: "en",
    diary: "Diary",
    week: "Week",
    prev_week: "← previous week",
    next_week: "next week →",
    this_week: "This week",
    all_weeks: "All weeks",
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
    data_as_of: "Data as of",
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
};

/// The labels of a language.
pub fn labels(lang: Language) -> &'static Labels {
    match lang {
        Language::Ru => &RU,
        Language::En => &EN,
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

/// Sort key for Russian names: Ё sorts with Е, case is ignored.
pub fn collation_key(text: &str) -> String {
    text.chars()
        .flat_map(char::to_lowercase)
        .map(|c| if c == 'ё' { 'е' } else { c })
        .collect()
}

/// Latin transliteration for logins and e-mail addresses (after ГОСТ 7.79-2000
/// system B, simplified to ASCII letters and digits).
pub fn translit(text: &str) -> String {
    let mut out = String::new();
    for c in text.to_lowercase().chars() {
        let t = match c {
            'а' => "a",
            'б' => "b",
            'в' => "v",
            'г' => "g",
            'д' => "d",
            'е' | 'ё' | 'э' => "e",
            'ж' => "zh",
            'з' => "z",
            'и' | 'й' => "i",
            'к' => "k",
            'л' => "l",
            'м' => "m",
            'н' => "n",
            'о' => "o",
            'п' => "p",
            'р' => "r",
            'с' => "s",
            'т' => "t",
            'у' => "u",
            'ф' => "f",
            'х' => "kh",
            'ц' => "ts",
            'ч' => "ch",
            'ш' => "sh",
            'щ' => "shch",
            'ы' => "y",
            'ю' => "yu",
            'я' => "ya",
            c if c.is_ascii_alphanumeric() => {
                out.push(c);
                continue;
            }
            _ => "",
        };
        out.push_str(t);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yo_sorts_with_ye() {
        let mut names = vec!["Ёлкин", "Андреев", "Ежов", "Жуков", "Яковлев", "Ерёмин"];
        names.sort_by_key(|n| collation_key(n));
        assert_eq!(
            names,
            ["Андреев", "Ежов", "Ёлкин", "Ерёмин", "Жуков", "Яковлев"]
        );
    }

    #[test]
    fn transliteration() {
        assert_eq!(translit("Щукина Юлия"), "shchukinayuliya");
        assert_eq!(translit("Ёлкин-Львов"), "elkinlvov");
    }

    #[test]
    fn dates_in_words() {
        let d = Date::parse_iso("2026-11-23").unwrap();
        assert_eq!(day_month(Language::Ru, d), "23 ноября");
        assert_eq!(weekday(Language::Ru, d), "понедельник");
        assert_eq!(short_date(Language::Ru, d), "23.11.2026");
    }
}
