//! Plain text helpers shared by every layer: Russian collation, Latin
//! transliteration, and making text safe for a spreadsheet cell.

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
}
