//! Homework as a teacher writes it: the task for a lesson, composed from the
//! subject's templates (`by_subject`), the lesson's topic and place in the
//! year, and the fixed phrases and links of `data/homework.txt` and
//! `data/links.txt`.

mod by_subject;

use std::sync::LazyLock;

use super::{hours_of, list, topics};

/// The sections of `data/homework.txt`.
#[derive(Debug)]
struct Phrases {
    /// Beginnings of organisational lesson topics, never named in homework.
    organisational: Vec<&'static str>,
    reminder: Vec<&'static str>,
    announcement: Vec<&'static str>,
    link_intro: Vec<&'static str>,
    essay: Vec<&'static str>,
    final_essay: Vec<&'static str>,
    music: Vec<&'static str>,
    art: Vec<&'static str>,
    technology_primary: Vec<&'static str>,
    technology: Vec<&'static str>,
    pe: Vec<&'static str>,
}

static PHRASES: LazyLock<Phrases> = LazyLock::new(|| {
    const FILE: &str = "homework.txt";
    let mut sections = list::sections(FILE, include_str!("../data/homework.txt"));
    let mut take = |name: &str| {
        let i = sections
            .iter()
            .position(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("{FILE}: no section [{name}]"));
        let (_, items) = sections.remove(i);
        // The dice choose among a section's lines; an empty one has none.
        assert!(!items.is_empty(), "{FILE}: section [{name}] is empty");
        items
    };
    let phrases = Phrases {
        organisational: take("organisational"),
        reminder: take("reminder"),
        announcement: take("announcement"),
        link_intro: take("link intro"),
        essay: take("essay"),
        final_essay: take("final essay"),
        music: take("music"),
        art: take("art"),
        technology_primary: take("technology primary"),
        technology: take("technology"),
        pe: take("pe"),
    };
    if let Some((name, _)) = sections.first() {
        panic!("{FILE}: unknown section [{name}]");
    }
    phrases
});

/// `(subject codes, Wikipedia articles)` of `data/links.txt`.
static WIKI: LazyLock<Vec<(Vec<&'static str>, Vec<&'static str>)>> = LazyLock::new(|| {
    list::sections("links.txt", include_str!("../data/links.txt"))
        .into_iter()
        .map(|(codes, articles)| (codes.split_whitespace().collect(), articles))
        .collect()
});

/// Wikipedia articles for a subject; empty if it has none.
fn wiki(code: &str) -> &'static [&'static str] {
    WIKI.iter()
        .find(|(codes, _)| codes.contains(&code))
        .map_or(&[], |(_, articles)| articles.as_slice())
}

/// The splitmix64 finaliser: a stable, well-mixing 64-bit hash step.
pub(super) const fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Deterministic dice seeded from the arguments of [`homework`] (stable across Rust versions).
#[derive(Debug, Clone)]
struct Dice(u64);

impl Dice {
    fn new(code: &str, grade: u8, lesson_no: u32, pick: u64) -> Self {
        // FNV-1a over the subject code, then mix in the rest.
        let mut h: u64 = 0xCBF2_9CE4_8422_2325;
        for b in code.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01B3);
        }
        h ^= (u64::from(grade) << 40) ^ u64::from(lesson_no);
        Dice(splitmix(h) ^ splitmix(pick ^ 0x5851_F42D_4C95_7F2D))
    }

    fn next(&mut self) -> u64 {
        self.0 = splitmix(self.0);
        self.0
    }

    /// A number in `0..n` (`n` ≥ 1).
    fn below(&mut self, n: u32) -> u32 {
        (self.next() % u64::from(n.max(1))) as u32
    }

    /// True with probability 1/n.
    fn one_in(&mut self, n: u32) -> bool {
        self.below(n) == 0
    }

    /// One element of a non-empty slice.
    fn choose<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u32) as usize]
    }
}

/// How far into the school year a lesson is.
#[derive(Debug, Clone, Copy)]
struct Progress {
    /// Lessons already given (0 for the first lesson).
    n: u32,
    /// Lessons in the year.
    lessons: u32,
}

impl Progress {
    /// A number that grows from `start` to about `start + total` over the year
    /// (a page, an exercise, a paragraph of the textbook).
    fn at(self, start: u32, total: u32) -> u32 {
        let v = u64::from(self.n) * u64::from(total) / u64::from(self.lessons.max(1));
        start.saturating_add(u32::try_from(v).unwrap_or(u32::MAX))
    }
}

/// Everything a homework template needs.
#[derive(Debug)]
struct Hw {
    d: Dice,
    p: Progress,
    grade: u8,
    topic: &'static str,
}

impl Hw {
    /// Whether the lesson's topic can be named in homework: not a revision,
    /// safety briefing, test or other organisational lesson.
    fn topic_fits(&self) -> bool {
        !self.topic.is_empty()
            && !PHRASES
                .organisational
                .iter()
                .any(|m| self.topic.starts_with(m))
    }

    /// «по теме «…»», without nesting guillemets inside guillemets.
    fn theme(&self) -> String {
        if self.topic.contains('«') {
            format!("по теме: {}", self.topic)
        } else {
            format!("по теме «{}»", self.topic)
        }
    }
}

/// Homework for a lesson as teacher Markdown, or None for lessons that get none.
///
/// `lesson_no` is the lesson's ordinal in the subject's year (from 1), `pick` any
/// pseudo-random number; the result depends on the arguments only.
pub fn homework(subject_code: &str, grade: u8, lesson_no: u32, pick: u64) -> Option<String> {
    let hours = hours_of(subject_code, grade);
    if hours == 0 {
        return None;
    }
    let mut d = Dice::new(subject_code, grade, lesson_no, pick);
    let none_percent = match subject_code {
        "pe" => 94,
        "music" => 65,
        "art" | "technology" => 55,
        "orkse" | "odnknr" => 55,
        "obzr" | "project" => 40,
        "probability" | "informatics" => 35,
        _ => 28,
    };
    if d.below(100) < none_percent {
        return None;
    }
    let lessons = u32::from(hours) * 34;
    // Lessons past the nominal year (34 weeks) stay at its end of the textbook.
    let n = lesson_no.saturating_sub(1).min(lessons);
    let list = topics(subject_code, grade);
    let topic = if list.is_empty() {
        ""
    } else {
        list[(n as usize * list.len() / lessons as usize).min(list.len() - 1)]
    };
    let mut c = Hw {
        d,
        p: Progress { n, lessons },
        grade,
        topic,
    };
    let mut text = match subject_code {
        "russian" => by_subject::hw_russian(&mut c),
        "reading" => by_subject::hw_reading(&mut c),
        "literature" => by_subject::hw_literature(&mut c),
        "foreign" => by_subject::hw_foreign(&mut c),
        "math" | "algebra" => by_subject::hw_math(&mut c),
        "geometry" => by_subject::hw_geometry(&mut c),
        "probability" => by_subject::hw_probability(&mut c),
        "informatics" => by_subject::hw_informatics(&mut c),
        "history" | "social" => by_subject::hw_humanities(&mut c, subject_code == "history"),
        "geography" | "biology" => by_subject::hw_natural(&mut c, subject_code == "geography"),
        "world" => by_subject::hw_world(&mut c),
        "physics" => by_subject::hw_physics(&mut c),
        "chemistry" => by_subject::hw_chemistry(&mut c),
        "music" | "art" | "technology" => by_subject::hw_arts(&mut c, subject_code),
        "pe" => by_subject::hw_pe(&mut c),
        "obzr" => by_subject::hw_obzr(&mut c),
        "orkse" | "odnknr" => by_subject::hw_values(&mut c),
        _ => by_subject::hw_project(&mut c),
    };
    // Reminders about tests and exercise books make no sense for these subjects.
    let plain = matches!(
        subject_code,
        "pe" | "music" | "art" | "technology" | "orkse" | "odnknr" | "project"
    );
    if !plain && c.d.one_in(12) {
        text.push(' ');
        text.push_str(c.d.choose(&PHRASES.reminder));
    }
    if !plain && c.d.one_in(10) {
        text.push_str("\n\n");
        text.push_str(c.d.choose(&PHRASES.announcement));
    }
    if c.d.one_in(25) {
        let link = link(&mut c.d, subject_code, grade);
        text.push_str("\n\n");
        text.push_str(c.d.choose(&PHRASES.link_intro));
        text.push(' ');
        text.push_str(&link);
    }
    Some(text)
}

/// A Markdown link to a plausible educational page for the subject.
fn link(d: &mut Dice, code: &str, grade: u8) -> String {
    let wiki = wiki(code);
    let special = match code {
        "russian" => Some("[справочное бюро Грамоты](https://gramota.ru/)"),
        "math" | "algebra" | "geometry" | "probability" if grade >= 10 => {
            Some("[тренажёр «Решу ЕГЭ»](https://math-ege.sdamgia.ru/)")
        }
        "math" | "algebra" | "geometry" | "probability" if grade >= 8 => {
            Some("[тренажёр «Решу ОГЭ»](https://math-oge.sdamgia.ru/)")
        }
        "informatics" => Some("[задачи К. Ю. Полякова](https://kpolyakov.spb.ru/school/ege.htm)"),
        "foreign" if grade <= 4 => {
            Some("[LearnEnglish Kids](https://learnenglishkids.britishcouncil.org/)")
        }
        "foreign" => Some("[LearnEnglish Teens](https://learnenglishteens.britishcouncil.org/)"),
        "history" => Some("[портал «История.РФ»](https://histrf.ru/)"),
        _ => None,
    };
    match (d.below(3), special) {
        (0, _) if !wiki.is_empty() => {
            let article = d.choose(wiki);
            format!("[статья в Википедии](https://ru.wikipedia.org/wiki/{article})")
        }
        (1, Some(special)) => special.to_string(),
        _ => format!(
            "[видеоурок на РЭШ](https://resh.edu.ru/subject/lesson/{}/start/{}/)",
            1000 + d.below(6900),
            100_000 + d.below(600_000)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases_and_links_load() {
        assert!(PHRASES.organisational.contains(&"Повторение"));
        for (codes, articles) in WIKI.iter() {
            assert!(!articles.is_empty());
            for code in codes {
                assert!(super::super::subject(code).is_some(), "links for {code}");
            }
        }
        assert!(!wiki("history").is_empty());
        assert!(wiki("pe").is_empty());
    }
}
