//! Paths in manifests: which are safe, and how they are encoded.

/// Why a path in a manifest or in `fetch.txt` is not safe to use, if it is not.
pub fn unsafe_path(path: &str) -> Option<&'static str> {
    if path.is_empty() {
        return Some("the path is empty");
    }
    if path.contains('\\') {
        return Some("the path uses backslashes (a Windows path)");
    }
    if path.starts_with('/') {
        return Some("the path is absolute");
    }
    if path.starts_with('~') {
        return Some("the path starts with ~ (a home folder)");
    }
    let b = path.as_bytes();
    if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
        return Some("the path starts with a drive letter");
    }
    if path.contains('\0') {
        return Some("the path contains a NUL character");
    }
    for part in path.split('/') {
        match part {
            ".." => return Some("the path goes up with .. (outside the bag)"),
            "." | "" => return Some("the path has an empty or . component"),
            _ => {}
        }
    }
    None
}

/// Undoes the percent-encoding RFC 8493 §2.1.3 asks for in manifest paths:
/// only `%0A`, `%0D` and `%25`; any other `%` is literal.
pub(super) fn decode_path(raw: &str) -> String {
    if !raw.contains('%') {
        return raw.to_owned();
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let code = rest.get(i + 1..i + 3).map(str::to_ascii_uppercase);
        match code.as_deref() {
            Some("0A") => out.push('\n'),
            Some("0D") => out.push('\r'),
            Some("25") => out.push('%'),
            _ => {
                out.push('%');
                rest = &rest[i + 1..];
                continue;
            }
        }
        rest = &rest[i + 3..];
    }
    out.push_str(rest);
    out
}

/// Encodes a path for a manifest line (the inverse of `decode_path`).
pub fn encode_path(path: &str) -> String {
    path.replace('%', "%25")
        .replace('\n', "%0A")
        .replace('\r', "%0D")
}

/// Splits text into lines on CRLF, LF or CR.
pub(super) fn lines(text: &str) -> Vec<&str> {
    let mut out: Vec<&str> = text.split('\n').collect();
    for l in &mut out {
        *l = l.strip_suffix('\r').unwrap_or(l);
    }
    if out.last() == Some(&"") {
        out.pop();
    }
    out.into_iter()
        .flat_map(|l| l.split('\r'))
        .collect::<Vec<_>>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_outside_the_bag_are_unsafe() {
        for bad in [
            "../x",
            "data/../../x",
            "/tmp/foo",
            "~/foo",
            "~root/foo",
            "C:\\Windows\\x",
            "c:/x",
            "\\\\?\\UNC\\server\\x",
            "data\\..\\x",
            "data//x",
            "data/./x",
            "",
        ] {
            assert!(unsafe_path(bad).is_some(), "{bad:?} should be unsafe");
        }
        for good in [
            "data/a.txt",
            "data/%test2.txt",
            "data/dir1/~test3.txt",
            "bag-info.txt",
        ] {
            assert_eq!(unsafe_path(good), None, "{good:?}");
        }
    }

    #[test]
    fn only_three_escapes_are_decoded() {
        assert_eq!(decode_path("data/%7Etest1.txt"), "data/%7Etest1.txt");
        assert_eq!(decode_path("data/%test2.txt"), "data/%test2.txt");
        assert_eq!(decode_path("data/a%0Ab%0dc%25d%"), "data/a\nb\rc%d%");
        assert_eq!(decode_path(&encode_path("data/a\nb%c")), "data/a\nb%c");
    }

    #[test]
    fn lines_split_on_any_newline() {
        assert_eq!(lines("a\r\nb\nc\rd"), vec!["a", "b", "c", "d"]);
        assert_eq!(lines("a\n"), vec!["a"]);
        assert_eq!(lines("a"), vec!["a"]);
    }
}
