//! The strict pattern of every path the gate serves from a release. A
//! request path is parsed here, by our code, into a release-relative path
//! built from known parts; nothing a client sends is ever joined onto a
//! folder.

/// True for an opaque key: 16–64 lower-case letters and digits.
fn is_key(s: &str) -> bool {
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

/// Parses a request path (as sent, before any decoding) into the path of a
/// release file, or `None` if it is not one the gate serves.
pub fn release_path(request: &str) -> Option<&str> {
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
    let ok = match &parts[..n] {
        ["s", key, "index.html" | "marks.html"] => is_key(key),
        ["s", key, "w", file] => is_key(key) && file.strip_suffix(".html").is_some_and(is_week),
        ["s", key, "print", file] => is_key(key) && file.strip_suffix(".pdf").is_some_and(is_week),
        ["c", key, "index.html"] => is_key(key),
        ["c", key, file] => {
            is_key(key)
                && file
                    .strip_prefix("statement-")
                    .and_then(|f| f.strip_suffix(".html").or_else(|| f.strip_suffix(".pdf")))
                    .is_some_and(is_period)
        }
        ["school", "index.html"] => true,
        ["school", slug, "index.html"] => is_slug(slug),
        ["assets", file] => file
            .strip_prefix("tabel.")
            .and_then(|f| f.strip_suffix(".css"))
            .is_some_and(|h| {
                (8..=64).contains(&h.len()) && h.bytes().all(|b| b.is_ascii_hexdigit())
            }),
        ["robots.txt"] | ["404.html"] | ["index.html"] => true,
        _ => false,
    };
    ok.then_some(rest)
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
            "/assets/tabel.0123456789ab.css".to_owned(),
            "/robots.txt".to_owned(),
        ] {
            assert_eq!(release_path(&p), Some(&p[1..]), "{p}");
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
        ] {
            assert_eq!(release_path(p), None, "{p}");
        }
    }
}
