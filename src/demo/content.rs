//! Data for the demo school: Russian names, the federal curriculum per grade,
//! lesson topics, homework, kinds of work, notes to parents and streets.
//!
//! The lists are text files in `src/demo/data` (its README says what each
//! holds), compiled in and parsed once, at first use, so a school can read
//! and edit them without reading Rust. Everything is deterministic: the
//! generator supplies its own randomness (`pick`).

mod homework;
mod list;
#[cfg(test)]
mod tests;

use std::sync::LazyLock;

pub use homework::homework;

// ---------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------

/// A male given name with the patronymics formed from it.
#[derive(Debug, Clone, Copy)]
pub struct MaleName {
    /// The given name, e.g. «Сергей».
    pub name: &'static str,
    /// The patronymic of a son, e.g. «Сергеевич».
    pub patronymic_m: &'static str,
    /// The patronymic of a daughter, e.g. «Сергеевна».
    pub patronymic_f: &'static str,
}

/// Male given names with their correct patronymics.
pub static MALE_NAMES: LazyLock<Vec<MaleName>> = LazyLock::new(|| {
    list::items(include_str!("data/names/male.txt"))
        .map(|line| {
            let [name, patronymic_m, patronymic_f] = list::words("names/male.txt", line);
            MaleName {
                name,
                patronymic_m,
                patronymic_f,
            }
        })
        .collect()
});

/// Female given names.
pub static FEMALE_NAMES: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| list::items(include_str!("data/names/female.txt")).collect());

/// A family name in its masculine and feminine forms.
#[derive(Debug, Clone, Copy)]
pub struct FamilyName {
    /// The masculine form, e.g. «Иванов».
    pub m: &'static str,
    /// The feminine form, e.g. «Иванова».
    pub f: &'static str,
}

/// Family names in both forms: -ов/-ев/-ин, -ский/-цкий, -ой, Ё, invariant and non-Russian ones.
pub static FAMILY_NAMES: LazyLock<Vec<FamilyName>> = LazyLock::new(|| {
    list::items(include_str!("data/names/family.txt"))
        .map(
            |line| match line.split_whitespace().collect::<Vec<_>>()[..] {
                // An invariant name is written once.
                [name] => FamilyName { m: name, f: name },
                [m, f] => FamilyName { m, f },
                _ => panic!("names/family.txt: «{line}» is not one or two words"),
            },
        )
        .collect()
});

// ---------------------------------------------------------------------------
// Curriculum
// ---------------------------------------------------------------------------

/// One school subject of the federal curriculum.
#[derive(Debug, Clone, Copy)]
pub struct SubjectDef {
    /// Stable code used as external id suffix, ASCII lower snake case.
    pub code: &'static str,
    /// Full Russian name, e.g. «Русский язык».
    pub name: &'static str,
    /// Short Russian name for narrow table columns, e.g. «Рус. яз.».
    pub short: &'static str,
    /// English name.
    pub name_en: &'static str,
    /// Major subject: more marks per lesson.
    pub major: bool,
    /// The class is split into two groups for this subject.
    pub split: bool,
    /// Assessed pass/fail («зач»/«незач») instead of 5…1.
    pub pass_fail: bool,
    /// Hours per week for grades 1..=11 (index 0 = grade 1); 0 = not taught in that grade.
    pub hours: [u8; 11],
}

/// Every subject with its hours per grade, in the order subjects are listed in a gradebook.
///
/// Hours follow the federal basic curricula (ФОП НОО, ООО, СОО; five-day week,
/// universal profile in grades 10–11).
pub static SUBJECTS: LazyLock<Vec<SubjectDef>> = LazyLock::new(|| {
    const FILE: &str = "curriculum.txt";
    list::items(include_str!("data/curriculum.txt"))
        .map(|line| {
            let [code, name, short, name_en, flags, hours] = list::fields(FILE, line);
            let flags: Vec<&str> = flags.split_whitespace().collect();
            if let Some(f) = flags
                .iter()
                .find(|f| !matches!(**f, "major" | "split" | "pass-fail" | "-"))
            {
                panic!("{FILE}: unknown flag «{f}» of {code}");
            }
            SubjectDef {
                code,
                name,
                short,
                name_en,
                major: flags.contains(&"major"),
                split: flags.contains(&"split"),
                pass_fail: flags.contains(&"pass-fail"),
                hours: list::numbers(FILE, hours),
            }
        })
        .collect()
});

/// The subject with this code, if any.
fn subject(code: &str) -> Option<&'static SubjectDef> {
    SUBJECTS.iter().find(|s| s.code == code)
}

/// Weekly hours of a subject in a grade; 0 for unknown subjects and grades outside 1..=11.
fn hours_of(code: &str, grade: u8) -> u8 {
    match (subject(code), grade) {
        (Some(s), 1..=11) => s.hours[usize::from(grade - 1)],
        _ => 0,
    }
}

/// Weekly hours of grade `grade` (1..=11) summed over SUBJECTS.
pub fn weekly_hours(grade: u8) -> u32 {
    SUBJECTS
        .iter()
        .map(|s| u32::from(hours_of(s.code, grade)))
        .sum()
}

// ---------------------------------------------------------------------------
// Lesson topics
// ---------------------------------------------------------------------------

/// Topics of one subject for a range of grades, in teaching order.
#[derive(Debug, Clone)]
struct TopicSet {
    code: &'static str,
    from: u8,
    to: u8,
    topics: Vec<&'static str>,
}

/// `(subject code, text)` of each file in `data/topics`, named by its code;
/// a macro, because `include_str!` needs every path spelled out.
macro_rules! topic_files {
    ($($code:ident),* $(,)?) => {
        [$((
            stringify!($code),
            include_str!(concat!("data/topics/", stringify!($code), ".txt")),
        )),*]
    };
}

/// Lesson topics per subject and grade range; a subject's ranges never overlap.
static TOPIC_SETS: LazyLock<Vec<TopicSet>> = LazyLock::new(|| {
    let files = topic_files!(
        russian,
        reading,
        literature,
        foreign,
        math,
        algebra,
        geometry,
        probability,
        informatics,
        history,
        social,
        geography,
        world,
        biology,
        physics,
        chemistry,
        orkse,
        odnknr,
        music,
        art,
        technology,
        pe,
        obzr,
        project,
    );
    let mut sets = Vec::new();
    for (code, text) in files {
        let file = format!("topics/{code}.txt");
        for (grades, topics) in list::sections(&file, text) {
            let (from, to) = grades.split_once('-').unwrap_or((grades, grades));
            let grade = |g: &str| -> u8 {
                g.trim()
                    .parse()
                    .unwrap_or_else(|_| panic!("{file}: [{grades}] is not a grade or grades"))
            };
            sets.push(TopicSet {
                code,
                from: grade(from),
                to: grade(to),
                topics,
            });
        }
    }
    sets
});

/// Lesson topics of a subject for a grade, in teaching order; empty if the subject is unknown.
pub fn topics(subject_code: &str, grade: u8) -> &'static [&'static str] {
    TOPIC_SETS
        .iter()
        .find(|t| t.code == subject_code && (t.from..=t.to).contains(&grade))
        .map_or(&[], |t| &t.topics)
}

// ---------------------------------------------------------------------------
// Kinds of work
// ---------------------------------------------------------------------------

/// A kind of graded work with its default weight.
#[derive(Debug, Clone, Copy)]
pub struct WorkKind {
    /// Stable code, ASCII lower snake case.
    pub code: &'static str,
    /// Russian title, as in a gradebook.
    pub title: &'static str,
    /// English title.
    pub title_en: &'static str,
    /// Default weight of a mark of this kind in the weighted average.
    pub weight: f64,
}

/// Kinds of work with their default weights.
pub static WORK_KINDS: LazyLock<Vec<WorkKind>> = LazyLock::new(|| {
    const FILE: &str = "work_kinds.txt";
    list::items(include_str!("data/work_kinds.txt"))
        .map(|line| {
            let [code, title, title_en, weight] = list::fields(FILE, line);
            let [weight] = list::numbers(FILE, weight);
            WorkKind {
                code,
                title,
                title_en,
                weight,
            }
        })
        .collect()
});

/// `(subject code, work kind codes)`, most frequent kind first.
static SUBJECT_WORK_KINDS: LazyLock<Vec<(&'static str, Vec<&'static str>)>> = LazyLock::new(|| {
    list::items(include_str!("data/subject_work_kinds.txt"))
        .map(|line| {
            let [code, kinds] = list::fields("subject_work_kinds.txt", line);
            (code, kinds.split_whitespace().collect())
        })
        .collect()
});

/// Which work kinds suit a subject (codes from WORK_KINDS), most frequent first.
pub fn work_kinds_for(subject_code: &str) -> &'static [&'static str] {
    // For a subject the data file does not list.
    const OTHER: &[&str] = &["classwork", "homework", "oral", "test"];
    SUBJECT_WORK_KINDS
        .iter()
        .find(|(code, _)| *code == subject_code)
        .map_or(OTHER, |(_, kinds)| kinds)
}

// ---------------------------------------------------------------------------
// Notes to parents, comments on marks, streets
// ---------------------------------------------------------------------------

/// Notes a teacher writes to parents, as Markdown; `{name}` stands for the student's given name.
pub static NOTES: LazyLock<Vec<String>> = LazyLock::new(|| {
    list::items(include_str!("data/notes.txt"))
        .map(list::unescape)
        .collect()
});

/// Comments a teacher now and then adds to a mark.
pub static MARK_COMMENTS: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| list::items(include_str!("data/mark_comments.txt")).collect());

/// Street names for addresses.
pub static STREETS: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| list::items(include_str!("data/streets.txt")).collect());
