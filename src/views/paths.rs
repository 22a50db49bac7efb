//! The one URL scheme of a release: every path a build writes is made
//! here, and every path the gate serves is parsed here, into the same
//! [`Page`]. A request path is parsed by our code against this strict
//! pattern; nothing a client sends is ever joined onto a folder.
//!
//! ```text
//! s/<student>/index.html         this week and the list of weeks
//! s/<student>/w/<YYYY-Www>.html  one school week
//! s/<student>/marks.html         marks per subject and period
//! s/<student>/print/<YYYY-Www>.pdf   the week's printout
//! s/<student>/year-<YYYY-YYYY>.html  an earlier school year: its last week, every week
//! s/<student>/marks-<YYYY-YYYY>.html marks of an earlier school year
//! c/<class>/index.html           roster and statements (a class is of one year)
//! c/<class>/statement-<p>.html   a summary statement (and .pdf)
//! school/index.html              the office's overview (one school)
//! school/<slug>/index.html       the same, per school of a district
//! assets/tabel.<hash>.css        the stylesheet
//! index.html, 404.html, robots.txt
//! ```
//!
//! A release also holds files that are not pages: each student's news
//! (`s/<student>/news.json`, see [`news_file`]), which the gate reads for
//! its home page. No pattern here parses them, so none is ever served.
//!
//! Keys are opaque: 16–64 lower-case letters and digits.

use std::fmt;

/// True for an opaque key: 16–64 lower-case letters and digits (the
/// importer refuses any other).
pub fn is_key(s: &str) -> bool {
    (16..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// True for an ISO week id `YYYY-Www`.
fn is_week(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 8
        && b[..4].iter().all(u8::is_ascii_digit)
        && &b[4..6] == b"-W"
        && b[6..].iter().all(u8::is_ascii_digit)
}

/// True for a school year `YYYY-YYYY`.
fn is_year(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 9
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..].iter().all(u8::is_ascii_digit)
}

/// The year of a file name `<prefix><YYYY-YYYY>.html`.
fn year_in<'a>(file: &'a str, prefix: &str) -> Option<&'a str> {
    file.strip_prefix(prefix)?
        .strip_suffix(".html")
        .filter(|y| is_year(y))
}

/// True for a school slug: 1–64 letters, digits, `-` or `_`.
fn is_slug(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// True for a statement file stem's period part (q1, h2, t3, year, exam, final).
fn is_period(s: &str) -> bool {
    matches!(s, "year" | "exam" | "final")
        || (s.len() == 2
            && matches!(s.as_bytes()[0], b'q' | b'h' | b't')
            && s.as_bytes()[1].is_ascii_digit())
}

/// A file of a release, by what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page<'a> {
    /// A student's start page: this week plus links to every week.
    StudentIndex { student: &'a str },
    /// A student's page of one school week (`YYYY-Www`).
    Week { student: &'a str, week: &'a str },
    /// A student's marks page.
    Marks { student: &'a str },
    /// A student's printout of one week (PDF).
    Printout { student: &'a str, week: &'a str },
    /// A student's page of an earlier school year (`YYYY-YYYY`): its last
    /// week and the list of its weeks.
    YearIndex { student: &'a str, year: &'a str },
    /// A student's marks of an earlier school year.
    YearMarks { student: &'a str, year: &'a str },
    /// A class's page.
    ClassIndex { class: &'a str },
    /// A class's summary statement of a period (`q1`, `year` …), as a page
    /// or typeset.
    Statement {
        class: &'a str,
        period: &'a str,
        pdf: bool,
    },
    /// The office's overview: of the only school, or of one school of several.
    School { slug: Option<&'a str> },
    /// The office's overview of an earlier school year.
    SchoolYear {
        slug: Option<&'a str>,
        year: &'a str,
    },
    /// The stylesheet, named by its content hash.
    Stylesheet { hash: &'a str },
    /// The public home page.
    Home,
    /// The page shown for a file that is not there.
    NotFound,
    /// Instructions for crawlers.
    Robots,
}

impl fmt::Display for Page<'_> {
    /// The path inside the release, without a leading `/`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Page::StudentIndex { student } => write!(f, "s/{student}/index.html"),
            Page::Week { student, week } => write!(f, "s/{student}/w/{week}.html"),
            Page::Marks { student } => write!(f, "s/{student}/marks.html"),
            Page::Printout { student, week } => write!(f, "s/{student}/print/{week}.pdf"),
            Page::YearIndex { student, year } => write!(f, "s/{student}/year-{year}.html"),
            Page::YearMarks { student, year } => write!(f, "s/{student}/marks-{year}.html"),
            Page::ClassIndex { class } => write!(f, "c/{class}/index.html"),
            Page::Statement { class, period, pdf } => {
                let ext = if *pdf { "pdf" } else { "html" };
                write!(f, "c/{class}/{}.{ext}", statement_stem(period))
            }
            Page::School { slug: None } => f.write_str("school/index.html"),
            Page::School { slug: Some(slug) } => write!(f, "school/{slug}/index.html"),
            Page::SchoolYear { slug: None, year } => write!(f, "school/year-{year}.html"),
            Page::SchoolYear {
                slug: Some(slug),
                year,
            } => write!(f, "school/{slug}/year-{year}.html"),
            Page::Stylesheet { hash } => write!(f, "assets/tabel.{hash}.css"),
            Page::Home => f.write_str("index.html"),
            Page::NotFound => f.write_str("404.html"),
            Page::Robots => f.write_str("robots.txt"),
        }
    }
}

impl Page<'_> {
    /// The path inside the release.
    pub fn path(&self) -> String {
        self.to_string()
    }

    /// The path as a link from the root of the site (`/s/…`).
    pub fn href(&self) -> String {
        format!("/{self}")
    }
}

/// A student's folder, the first two segments of all their files.
pub fn student_folder(student: &str) -> String {
    format!("s/{student}")
}

/// Where the build writes what is new for a student (`views::news`): data
/// for the gate's home page beside the student's pages, never served (no
/// [`Page`] is it, and [`parse`] rejects its path).
pub fn news_file(student: &str) -> String {
    format!("s/{student}/news.json")
}

/// The file-name stem of a statement of `period` (`statement-q1`).
pub fn statement_stem(period: &str) -> String {
    format!("statement-{period}")
}

/// A school's slug in paths: its external id if that is URL-safe, else
/// `id<N>` from its row id. An external id that itself reads `id<digits>`
/// takes the row-id form too, so two schools never share a slug.
pub fn school_slug(external_id: &str, id: i64) -> String {
    let reserved = external_id
        .strip_prefix("id")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    if !reserved && is_slug(external_id) {
        external_id.to_owned()
    } else {
        format!("id{id}")
    }
}

/// Parses a request path (as sent, before any decoding) into the file of a
/// release it names, or `None` if it is not one the gate serves.
pub fn parse(request: &str) -> Option<Page<'_>> {
    let rest = request.strip_prefix('/')?;
    // Percent signs, backslashes, dots in odd places, empty segments: none
    // of our paths has them, so none is accepted.
    if rest.is_empty()
        || rest.len() > 200
        || !rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./".contains(&b))
    {
        return None;
    }
    // No path of ours has more than four segments.
    let mut parts = [""; 4];
    let mut n = 0;
    for part in rest.split('/') {
        if n == parts.len() || part.is_empty() || part.starts_with('.') {
            return None;
        }
        parts[n] = part;
        n += 1;
    }
    let student = |key: &str| is_key(key);
    let page = match parts[..n] {
        ["s", key, "index.html"] if student(key) => Page::StudentIndex { student: key },
        ["s", key, "marks.html"] if student(key) => Page::Marks { student: key },
        ["s", key, "w", file] if student(key) => Page::Week {
            student: key,
            week: file.strip_suffix(".html").filter(|w| is_week(w))?,
        },
        ["s", key, "print", file] if student(key) => Page::Printout {
            student: key,
            week: file.strip_suffix(".pdf").filter(|w| is_week(w))?,
        },
        ["s", key, file] if student(key) => {
            if let Some(year) = year_in(file, "year-") {
                Page::YearIndex { student: key, year }
            } else {
                Page::YearMarks {
                    student: key,
                    year: year_in(file, "marks-")?,
                }
            }
        }
        ["c", key, "index.html"] if is_key(key) => Page::ClassIndex { class: key },
        ["c", key, file] if is_key(key) => {
            let stem = file.strip_prefix("statement-")?;
            let (period, pdf) = match stem.strip_suffix(".html") {
                Some(p) => (p, false),
                None => (stem.strip_suffix(".pdf")?, true),
            };
            if !is_period(period) {
                return None;
            }
            Page::Statement {
                class: key,
                period,
                pdf,
            }
        }
        ["school", "index.html"] => Page::School { slug: None },
        ["school", slug, "index.html"] if is_slug(slug) => Page::School { slug: Some(slug) },
        ["school", file] => Page::SchoolYear {
            slug: None,
            year: year_in(file, "year-")?,
        },
        ["school", slug, file] if is_slug(slug) => Page::SchoolYear {
            slug: Some(slug),
            year: year_in(file, "year-")?,
        },
        ["assets", file] => Page::Stylesheet {
            hash: file
                .strip_prefix("tabel.")
                .and_then(|f| f.strip_suffix(".css"))
                .filter(|h| {
                    (8..=64).contains(&h.len()) && h.bytes().all(|b| b.is_ascii_hexdigit())
                })?,
        },
        ["robots.txt"] => Page::Robots,
        ["404.html"] => Page::NotFound,
        ["index.html"] => Page::Home,
        _ => return None,
    };
    Some(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "abcdefghijklmnopqrstuvwxyz";

    #[test]
    fn our_paths_parse() {
        for p in [
            format!("/s/{KEY}/index.html"),
            format!("/s/{KEY}/marks.html"),
            format!("/s/{KEY}/w/2026-W48.html"),
            format!("/s/{KEY}/print/2026-W48.pdf"),
            format!("/c/{KEY}/index.html"),
            format!("/c/{KEY}/statement-q1.html"),
            format!("/c/{KEY}/statement-year.pdf"),
            "/school/index.html".to_owned(),
            "/school/demo-001/index.html".to_owned(),
            format!("/s/{KEY}/year-2025-2026.html"),
            format!("/s/{KEY}/marks-2025-2026.html"),
            "/school/year-2025-2026.html".to_owned(),
            "/school/demo-001/year-2025-2026.html".to_owned(),
            "/assets/tabel.0123456789ab.css".to_owned(),
            "/robots.txt".to_owned(),
            "/index.html".to_owned(),
            "/404.html".to_owned(),
        ] {
            // What is parsed is built back into the same path.
            assert_eq!(parse(&p).map(|page| page.href()), Some(p.clone()), "{p}");
        }
    }

    #[test]
    fn everything_else_does_not() {
        for p in [
            "/",
            "/manifest.json",
            "/COMPLETE",
            "/.git/config",
            "/s/../manifest.json",
            "/s/abcdefghijklmnopqrstuvwxyz/../../etc/passwd",
            "/s/%2e%2e/x",
            "/s/abcdefghijklmnopqrstuvwxyz/..%2fmarks.html",
            "/s/abcdefghijklmnopqrstuvwxyz/marks.html%00",
            "/s/ABCDEFGHIJKLMNOPQRSTUVWXYZ/index.html",
            "//etc/passwd",
            "/s//index.html",
            "/s/abc\\def/index.html",
            "/C:/x",
            "/c%3A/x",
            "/s/abcdefghijklmnopqrstuvwxyz/w/2026-W48.htm",
            "/s/abcdefghijklmnopqrstuvwxyz/w/../../x.html",
            "/assets/../manifest.json",
            "/assets/tabel.css",
            "/releases/x/index.html",
            "/current/index.html",
            "/s/abcdefghijklmnopqrstuvwxyz/index.html/",
            "/s/abcdefghijklmnopqrstuvwxyz",
            "/%ff",
            "/s/abcdefghijklmnopqrstuvwxyz/year-2025.html",
            "/s/abcdefghijklmnopqrstuvwxyz/marks-2025-26.html",
            "/s/abcdefghijklmnopqrstuvwxyz/year-2025-2026.htm",
            "/s/abcdefghijklmnopqrstuvwxyz/other.html",
            "/school/year-2025-2026.pdf",
            "/school/x/year-..-2026.html",
            "/s/abcdefghijklmnopqrstuvwxyz/news.json",
        ] {
            assert_eq!(parse(p), None, "{p}");
        }
    }

    #[test]
    fn news_files_are_never_pages() {
        let path = format!("/{}", news_file(KEY));
        assert_eq!(path, format!("/s/{KEY}/news.json"));
        assert_eq!(parse(&path), None);
    }

    #[test]
    fn school_slugs_are_url_safe_and_never_shared() {
        assert_eq!(school_slug("lyceum-7_b", 3), "lyceum-7_b");
        assert_eq!(school_slug("школа 5", 5), "id5");
        assert_eq!(school_slug("", 6), "id6");
        assert_eq!(school_slug(&"x".repeat(65), 8), "id8");
        // A school whose external id reads like another's row-id slug.
        assert_eq!(school_slug("id5", 7), "id7");
        assert_eq!(school_slug("id5", 5), "id5");
        assert_eq!(school_slug("idea", 9), "idea");
        assert_eq!(school_slug("id", 10), "id");
    }
}
