//! Homework templates, one function per subject (or kindred subjects):
//! what a teacher of that subject sets, with page, exercise and paragraph
//! numbers that advance through the year.

use super::{Hw, PHRASES};

pub(super) fn hw_russian(c: &mut Hw) -> String {
    let page = c.p.at(4, 250) + c.d.below(2);
    let ex = c.p.at(1, 620) + c.d.below(3);
    let par = c.p.at(1, 90);
    if c.grade == 1 && c.d.one_in(3) {
        return format!(
            "Прописи, с. {}: дописать строчки до конца, *аккуратно*.",
            c.p.at(3, 120)
        );
    }
    match c.d.below(10) {
        0 => format!("Упр. {ex}, с. {page}."),
        1 => format!("Упр. {ex} и {}.", ex + 2),
        2 => format!("Выучить правило на с. {page}. Упр. {ex}."),
        3 if c.grade >= 5 => format!("§ {par}, упр. {ex} (*письменно*)."),
        3 => format!("С. {page}, упр. {ex} — *письменно*; правило в рамке выучить."),
        4 => format!(
            "1. Повторить правило на с. {page}.\n2. Упр. {ex} — выполнить по заданию.\n3. Упр. {} — *устно*.",
            ex + 1
        ),
        5 => format!("Словарные слова на с. {page} — **выучить**, будет словарный диктант."),
        6 if c.topic_fits() => format!("Упр. {ex}. Составить 5 предложений {}.", c.theme()),
        7 => format!(
            "- упр. {ex};\n- правило на с. {page} — наизусть;\n- повторить словарные слова."
        ),
        8 if c.grade >= 9 => {
            let exam = if c.grade >= 10 { "ЕГЭ" } else { "ОГЭ" };
            format!(
                "Подготовка к {exam}: вариант № {}, задания 1–{}. Ответы записать в бланк.",
                1 + c.d.below(36),
                8 + c.d.below(10)
            )
        }
        _ => format!("Упр. {ex} (задания 1, 2), упр. {} — *устно*.", ex + 1),
    }
}

pub(super) fn hw_reading(c: &mut Hw) -> String {
    let page = c.p.at(4, 300);
    let to = page + 2 + c.d.below(4);
    match c.d.below(8) {
        0 => format!("Прочитать с. {page}–{to}, ответить на вопросы."),
        1 => format!("Выразительное чтение текста на с. {page}–{to}."),
        2 => format!("Выучить стихотворение на с. {page} **наизусть**."),
        3 => format!("Пересказ текста на с. {page}–{to} (*подробный*)."),
        4 if c.topic.contains('«') => {
            format!("Нарисовать иллюстрацию к произведению: {}.", c.topic)
        }
        4 => "Нарисовать иллюстрацию к прочитанному произведению.".to_string(),
        5 => format!(
            "1. Прочитать с. {page}–{to}.\n2. Ответить на вопросы 1–{} *устно*.\n3. Выписать незнакомые слова.",
            3 + c.d.below(4)
        ),
        6 => format!(
            "Рабочая тетрадь, с. {}, задания {}, {}.",
            c.p.at(3, 80),
            1 + c.d.below(3),
            4 + c.d.below(3)
        ),
        _ => format!(
            "Читать 15 минут каждый день; заполнить читательский дневник. С. {page} — перечитать."
        ),
    }
}

pub(super) fn hw_literature(c: &mut Hw) -> String {
    let page = c.p.at(5, 300);
    let to = page + 3 + c.d.below(8);
    let q = 3 + c.d.below(5);
    if c.topic.contains('«') && c.d.one_in(3) {
        return format!("Прочитать полностью: {}.", c.topic);
    }
    match c.d.below(9) {
        0 => format!("Прочитать статью учебника на с. {page}–{to}, ответить на вопросы 1–{q}."),
        1 => "Выучить наизусть отрывок (по выбору, 12–16 строк).".to_string(),
        2 => "Подготовить пересказ эпизода *близко к тексту*.".to_string(),
        3 => {
            let prompt = c.d.choose(&PHRASES.essay);
            format!("Написать мини-сочинение (8–10 предложений): «{prompt}».")
        }
        4 => "Составить цитатный план главы.".to_string(),
        5 => format!("Характеристика героя по плану на с. {page}, **письменно**."),
        6 if c.grade >= 10 => {
            let direction = c.d.choose(&PHRASES.final_essay);
            format!(
                "Подготовка к итоговому сочинению: подобрать 2 литературных аргумента по разделу «{direction}»."
            )
        }
        6 => format!("Ответить письменно на вопрос {q} на с. {to}."),
        7 => format!(
            "- прочитать с. {page}–{to};\n- выписать 5 цитат, характеризующих героя;\n- вопросы 1–{q} *устно*."
        ),
        _ => {
            format!("Повторить теорию литературы на с. {page}: *эпитет, метафора, олицетворение*.")
        }
    }
}

pub(super) fn hw_foreign(c: &mut Hw) -> String {
    let page = c.p.at(6, 140);
    let wb = c.p.at(4, 100);
    let ex = 1 + c.d.below(8);
    let module = c.p.at(1, 9);
    match c.d.below(8) {
        0 => format!(
            "SB p. {page}, ex. {ex}; WB p. {wb}, ex. {}.",
            1 + c.d.below(5)
        ),
        1 => format!("Выучить слова модуля {module} (с. {page}), будет проверка слов."),
        2 => format!("SB p. {page}, ex. {ex} — *письменно*."),
        3 if c.grade <= 4 => format!("Выучить рифмовку на с. {page}. WB p. {wb}."),
        3 if c.grade >= 10 => "Эссе (200–250 слов) по теме урока, **по плану**.".to_string(),
        3 => format!("Написать письмо другу (80–100 слов) по образцу на с. {page}."),
        4 => format!("Прочитать текст на с. {page}, перевести, выписать 10 новых слов."),
        5 => format!(
            "1. WB p. {wb}, ex. {ex}.\n2. Выучить слова на с. {page}.\n3. Повторить правило *Grammar Check*."
        ),
        6 => format!(
            "SB p. {page}, ex. {ex} — читать и переводить; ex. {} — *устно*.",
            ex + 1
        ),
        _ => format!("WB p. {wb}, ex. {ex}, {}.", ex + 2),
    }
}

pub(super) fn hw_math(c: &mut Hw) -> String {
    if c.grade <= 4 {
        let page = c.p.at(4, 240);
        let a = 1 + c.d.below(5);
        return match c.d.below(6) {
            0 => format!("С. {page}, № {a}, {}.", a + 2),
            1 => format!("С. {page}, № {a} и задача № {}.", a + 3),
            2 if (2..=3).contains(&c.grade) => format!(
                "С. {page}, № {a}. **Выучить таблицу умножения на {}.**",
                2 + c.d.below(8)
            ),
            3 => format!("Рабочая тетрадь, с. {}, № {a}–{}.", c.p.at(3, 120), a + 2),
            4 => format!(
                "1. С. {page}, № {a}.\n2. С. {page}, задача № {}.\n3. *По желанию:* задание на полях.",
                a + 2
            ),
            _ => format!("С. {page}, № {a} (1-й и 2-й столбики)."),
        };
    }
    let no = c.p.at(1, 1400) + c.d.below(4);
    let par = c.p.at(1, 40);
    match c.d.below(8) {
        0 => format!("№ {no}, {}, {}.", no + 2, no + 5),
        1 => format!("П. {par}, № {no}, {} (а, б).", no + 1),
        2 => format!("Выучить правила п. {par}. № {no}, {}.", no + 4),
        3 => format!(
            "1. Повторить п. {par}.\n2. № {no}, {}, {}.\n3. *Дополнительно:* № {}.",
            no + 1,
            no + 3,
            no + 9
        ),
        4 => format!(
            "№ {no}, {} — **обязательно**; № {} — *по желанию*.",
            no + 2,
            no + 7
        ),
        5 => format!(
            "Подготовиться к самостоятельной работе: п. {par}, № {no}, {}.",
            no + 1
        ),
        6 if c.grade >= 9 => {
            let exam = if c.grade >= 10 { "ЕГЭ" } else { "ОГЭ" };
            format!(
                "Сборник {exam}: вариант {}, задания 1–{}.",
                1 + c.d.below(36),
                6 + c.d.below(14)
            )
        }
        _ => format!("П. {par}, разобрать примеры; № {no}, {}.", no + 3),
    }
}

pub(super) fn hw_geometry(c: &mut Hw) -> String {
    let (from, per_year) = if c.grade <= 9 { (7, 430) } else { (10, 400) };
    let year = u32::from(c.grade - from);
    let no = year * per_year + c.p.at(1, per_year) + c.d.below(3);
    let par = year * 30 + c.p.at(1, 30);
    match c.d.below(7) {
        0 => format!("П. {par}, № {no}, {}.", no + 2),
        1 => format!("Выучить доказательство теоремы из п. {par}. № {no}."),
        2 => format!(
            "П. {par}, вопросы {}–{} к главе, № {no}.",
            1 + c.d.below(6),
            8 + c.d.below(6)
        ),
        3 => format!(
            "1. П. {par} — определения **выучить**.\n2. № {no}, {}.\n3. Сделать чертёж к № {} *аккуратно, карандашом*.",
            no + 1,
            no + 3
        ),
        4 => format!(
            "№ {no}, {}, {} (с полным оформлением: дано, найти, решение).",
            no + 1,
            no + 4
        ),
        5 if c.topic_fits() => {
            format!(
                "Подготовиться к зачёту {}: билеты 1–{}.",
                c.theme(),
                6 + c.d.below(10)
            )
        }
        _ => format!("П. {par}, разобрать задачу из учебника; № {no}."),
    }
}

pub(super) fn hw_probability(c: &mut Hw) -> String {
    let from = if c.grade <= 9 { 7 } else { 10 };
    let year = u32::from(c.grade - from);
    let par = year * 20 + c.p.at(1, 20);
    let no = year * 120 + c.p.at(1, 120) + c.d.below(3);
    match c.d.below(5) {
        0 => format!("§ {par}, задачи {no}, {}.", no + 1),
        1 => format!("§ {par}, вопросы к параграфу *устно*, задача {no}."),
        2 => format!(
            "- § {par};\n- задачи {no}, {};\n- *по желанию:* задача {}.",
            no + 2,
            no + 5
        ),
        3 => format!(
            "Провести эксперимент: подбросить монету 50 раз, записать результаты в таблицу и найти частоту выпадения орла. § {par}."
        ),
        _ => format!("§ {par}, задача {no} (построить диаграмму в тетради)."),
    }
}

pub(super) fn hw_informatics(c: &mut Hw) -> String {
    let par = c.p.at(1, 24);
    let a = 1 + c.d.below(6);
    match c.d.below(6) {
        0 => format!("§ {par}, вопросы 1–{} *устно*.", 4 + c.d.below(5)),
        1 => format!("§ {par}, задания {a}–{} в рабочей тетради.", a + 2),
        2 if c.grade >= 8 => {
            "Дописать программу с урока и прислать файл `.py` в электронный дневник.".to_string()
        }
        3 => format!(
            "1. § {par}.\n2. Решить задачи {a}, {} из учебника.\n3. *Дополнительно:* составить свою задачу и решение.",
            a + 1
        ),
        4 if c.topic_fits() => format!("Повторить материал {}. § {par}, задание {a}.", c.theme()),
        _ => format!("§ {par}, выучить определения; задание {a} — *письменно*."),
    }
}

pub(super) fn hw_humanities(c: &mut Hw, history: bool) -> String {
    let par = c.p.at(1, if history { 40 } else { 28 });
    let q = 3 + c.d.below(4);
    match c.d.below(9) {
        0 => format!("§ {par}, вопросы 1–{q} письменно."),
        1 => format!("§ {par}, пересказ; выучить термины."),
        2 => format!("§ {par}, заполнить таблицу в тетради."),
        3 if c.topic_fits() => {
            format!(
                "§ {par}. Подготовить сообщение {} (*по желанию*).",
                c.theme()
            )
        }
        4 if history => format!(
            "§ {par}, **выучить даты**; контурная карта, с. {}.",
            2 + c.p.at(1, 30)
        ),
        4 => format!("§ {par}, задание {q} рубрики «В классе и дома»."),
        5 => format!("§ {par}, составить план параграфа."),
        6 => format!("§ {par}, работа с документом: ответить на вопросы после текста."),
        7 => format!("- § {par};\n- термины — в словарик;\n- вопросы 1–{q} *устно*."),
        _ if c.grade >= 10 => format!(
            "Решить вариант № {} из сборника ЕГЭ (часть 1). § {par} — повторить.",
            1 + c.d.below(30)
        ),
        _ => format!("§ {par}, подготовить 3 вопроса по тексту для одноклассников."),
    }
}

pub(super) fn hw_natural(c: &mut Hw, geography: bool) -> String {
    let par = c.p.at(1, 36);
    let q = 3 + c.d.below(4);
    match c.d.below(7) {
        0 => format!("§ {par}, вопросы 1–{q} в конце параграфа."),
        1 if geography => {
            format!("§ {par}, отметить на *контурной карте* объекты из текста параграфа.")
        }
        1 => format!("§ {par}, зарисовать в тетрадь рисунок из параграфа и подписать части."),
        2 => format!("§ {par}, заполнить таблицу в тетради."),
        3 => format!("§ {par}, выучить термины, *подготовиться к тесту*."),
        4 if geography => format!("Атлас, с. {}: найти объекты из § {par}.", 4 + c.p.at(1, 40)),
        4 if c.topic_fits() => {
            format!("§ {par}, подготовить сообщение {} (по желанию).", c.theme())
        }
        5 => format!(
            "1. § {par}.\n2. Рабочая тетрадь, с. {}, задания {}, {}.\n3. Вопросы 1–{q} *устно*.",
            c.p.at(3, 90),
            1 + c.d.below(3),
            4 + c.d.below(3)
        ),
        _ => format!("§ {par}, пересказ."),
    }
}

pub(super) fn hw_world(c: &mut Hw) -> String {
    let page = c.p.at(4, 220);
    let wb = c.p.at(3, 90);
    match c.d.below(6) {
        0 => format!("Учебник, с. {page}–{}, рабочая тетрадь, с. {wb}.", page + 3),
        1 if c.topic_fits() => format!("Подготовить небольшое сообщение {}.", c.theme()),
        2 => "Понаблюдать за погодой и заполнить календарь погоды за неделю.".to_string(),
        3 => format!(
            "Рабочая тетрадь, с. {wb}, задания {}–{}.",
            1 + c.d.below(2),
            4 + c.d.below(3)
        ),
        4 => format!(
            "- прочитать с. {page}–{};\n- ответить на вопросы «Проверь себя»;\n- *по желанию:* нарисовать рисунок.",
            page + 3
        ),
        _ => format!(
            "Прочитать с. {page}–{}, пересказать *своими словами*.",
            page + 3
        ),
    }
}

pub(super) fn hw_physics(c: &mut Hw) -> String {
    let par = c.p.at(1, if c.grade <= 9 { 60 } else { 55 });
    let upr = (par / 2).max(1);
    let no = c.p.at(1, 450) + u32::from(c.grade.saturating_sub(7)) * 450 + c.d.below(3);
    match c.d.below(7) {
        0 => format!(
            "§ {par}, упр. {upr} ({}, {}).",
            1 + c.d.below(2),
            3 + c.d.below(2)
        ),
        1 => format!("§ {par}, ответить на вопросы после параграфа."),
        2 if c.grade <= 9 => format!("§ {par}, задачи № {no}, {} (сборник Лукашика).", no + 1),
        2 => format!("§ {par}, задачи из сборника Рымкевича № {no}, {}.", no + 3),
        3 => format!(
            "Оформить лабораторную работу № {}: вывод — **обязательно**.",
            c.p.at(1, 10)
        ),
        4 => format!("§ {par}, выучить формулы; решить задачи из карточки."),
        5 => format!(
            "1. § {par} — прочитать, выучить определения.\n2. Упр. {upr}.\n3. *Дополнительно:* задача № {no}."
        ),
        _ => format!("§ {par}, составить опорный конспект."),
    }
}

pub(super) fn hw_chemistry(c: &mut Hw) -> String {
    let par = c.p.at(1, 44);
    let u = 1 + c.d.below(6);
    match c.d.below(6) {
        0 => format!("§ {par}, упр. {u}, задача {}.", 1 + c.d.below(3)),
        1 => format!("§ {par}, выучить формулы и названия веществ."),
        2 => format!("Оформить практическую работу № {}.", c.p.at(1, 8)),
        3 => format!("§ {par}, составить уравнения реакций в тетради (упр. {u})."),
        4 => format!(
            "- § {par};\n- упр. {u}, {};\n- **выучить** таблицу растворимости (первые 3 строки).",
            u + 1
        ),
        _ => format!(
            "§ {par}, вопросы 1–{}, задача {}.",
            3 + c.d.below(4),
            1 + c.d.below(3)
        ),
    }
}

pub(super) fn hw_arts(c: &mut Hw, code: &str) -> String {
    let phrases = match code {
        "music" => &PHRASES.music,
        "art" => &PHRASES.art,
        _ if c.grade <= 4 => &PHRASES.technology_primary,
        _ => &PHRASES.technology,
    };
    c.d.choose(phrases).to_string()
}

pub(super) fn hw_pe(c: &mut Hw) -> String {
    c.d.choose(&PHRASES.pe).to_string()
}

pub(super) fn hw_obzr(c: &mut Hw) -> String {
    let par = c.p.at(1, 30);
    match c.d.below(5) {
        0 => format!("§ {par}, вопросы 1–{}.", 3 + c.d.below(4)),
        1 => "Выучить телефоны экстренных служб: **112**, 101, 102, 103, 104.".to_string(),
        2 if c.topic_fits() => format!("Составить памятку {}.", c.theme()),
        3 => format!("§ {par}, подготовить сообщение (*по желанию*)."),
        _ => format!("§ {par}, пересказ."),
    }
}

pub(super) fn hw_values(c: &mut Hw) -> String {
    match c.d.below(4) {
        0 => "Подготовить рассказ о традиции своей семьи.".to_string(),
        1 => "Нарисовать рисунок по теме урока.".to_string(),
        2 if c.topic_fits() => format!("Подобрать 3–5 пословиц {}.", c.theme()),
        _ => "Подготовить сообщение (*по желанию*).".to_string(),
    }
}

pub(super) fn hw_project(c: &mut Hw) -> String {
    match c.d.below(4) {
        0 => "1. Уточнить тему и сформулировать цель проекта.\n2. Подобрать не менее **5 источников**.\n3. Заполнить план-график работы.".to_string(),
        1 => "Подготовить черновик введения (1–2 страницы): актуальность, цель, задачи.".to_string(),
        2 => "Доработать презентацию (не более 10 слайдов) и текст выступления на *5–7 минут*.".to_string(),
        _ if c.topic_fits() => format!("Продолжить работу над проектом. Этап: *{}*.", c.topic),
        _ => "Продолжить работу над текстом проекта.".to_string(),
    }
}
