//! Plain text helpers shared by every layer: Russian collation, Latin
//! transliteration, making text safe for a spreadsheet cell, and for a
//! terminal.

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

/// A cell for a CSV file opened in a spreadsheet: text that a spreadsheet
/// would read as a formula gets a leading apostrophe.
pub fn csv_safe(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_owned()
    }
}

/// Text safe to print on a terminal: control characters (a newline that
/// would start a line of its own, an escape sequence that moves the cursor
/// or recolours) and the marks that reorder text right to left are shown
/// escaped, `\n`, `\u{1b}`, `\u{202e}`. Everything else is printed as it
/// is.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| {
        c.is_control()
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if unsafe_char(c) => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
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
    fn printable_text_cannot_start_a_line_or_move_the_cursor() {
        assert_eq!(printable("Иванова Мария"), "Иванова Мария");
        assert_eq!(
            printable("x\n2026-11-28T09:00:00Z office ok"),
            "x\\n2026-11-28T09:00:00Z office ok"
        );
        assert_eq!(printable("\u{1b}[2K\rvalid"), "\\u{1b}[2K\\rvalid");
        assert_eq!(printable("a\u{202e}b\u{85}"), "a\\u{202e}b\\u{85}");
    }

    #[test]
    fn transliteration() {
        assert_eq!(translit("Щукина Юлия"), "shchukinayuliya");
        assert_eq!(translit("Ёлкин-Львов"), "elkinlvov");
    }
}
