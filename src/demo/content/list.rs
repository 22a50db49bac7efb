//! The plain-text format of the demo's data files (`src/demo/data`): one
//! item a line; blank lines and lines starting with `#` are skipped; a
//! `[name]` line opens a section; ` | ` separates the fields of a table row.
//!
//! The files are compiled in, so a malformed one is a defect of the build:
//! the parsers panic with the file's name, and the unit tests parse them all.

/// The items of a data file, trimmed, in file order.
pub(super) fn items(text: &'static str) -> impl Iterator<Item = &'static str> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
}

/// A data file's sections as `(name, items)`, in file order.
pub(super) fn sections(file: &str, text: &'static str) -> Vec<(&'static str, Vec<&'static str>)> {
    let mut out: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
    for line in items(text) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            out.push((name.trim(), Vec::new()));
        } else {
            match out.last_mut() {
                Some((_, list)) => list.push(line),
                None => panic!("{file}: «{line}» stands before the first [section]"),
            }
        }
    }
    out
}

/// The `N` fields of a table row.
pub(super) fn fields<const N: usize>(file: &str, line: &'static str) -> [&'static str; N] {
    exactly(file, line, line.split('|').map(str::trim))
}

/// The `N` whitespace-separated words of a line.
pub(super) fn words<const N: usize>(file: &str, line: &'static str) -> [&'static str; N] {
    exactly(file, line, line.split_whitespace())
}

/// The `N` whitespace-separated numbers of a field.
pub(super) fn numbers<T: std::str::FromStr, const N: usize>(file: &str, field: &str) -> [T; N] {
    let parsed: Vec<T> = field
        .split_whitespace()
        .map(|n| {
            n.parse()
                .unwrap_or_else(|_| panic!("{file}: «{n}» is not a number in «{field}»"))
        })
        .collect();
    let count = parsed.len();
    parsed
        .try_into()
        .unwrap_or_else(|_| panic!("{file}: {count} numbers instead of {N} in «{field}»"))
}

fn exactly<const N: usize>(
    file: &str,
    line: &str,
    parts: impl Iterator<Item = &'static str>,
) -> [&'static str; N] {
    let parts: Vec<&'static str> = parts.collect();
    let count = parts.len();
    parts
        .try_into()
        .unwrap_or_else(|_| panic!("{file}: {count} parts instead of {N} in «{line}»"))
}

/// An item with each `\n` turned into a line break.
pub(super) fn unescape(item: &str) -> String {
    item.replace("\\n", "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "# a comment\n\n[1-4]\n  first \nsecond\r\n[5]\nthird | 3\n";

    #[test]
    fn sections_skip_comments_and_blank_lines() {
        let s = sections("sample", SAMPLE);
        assert_eq!(
            s,
            vec![("1-4", vec!["first", "second"]), ("5", vec!["third | 3"])]
        );
        assert_eq!(fields::<2>("sample", s[1].1[0]), ["third", "3"]);
        assert_eq!(
            words::<2>("sample", "Иванов Иванова"),
            ["Иванов", "Иванова"]
        );
        assert_eq!(numbers::<u8, 3>("sample", "1 0 12"), [1, 0, 12]);
        assert_eq!(unescape("a\\nb"), "a\nb");
    }

    #[test]
    #[should_panic(expected = "sample: 1 parts instead of 2")]
    fn a_missing_field_is_named() {
        let _ = fields::<2>("sample", "only one");
    }

    #[test]
    #[should_panic(expected = "before the first [section]")]
    fn an_item_needs_a_section() {
        let _ = sections("sample", "orphan\n[a]\nb\n");
    }
}
