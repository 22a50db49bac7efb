//! Data on its way into typst: JSON to typst values, and characters that no
//! embedded font has.
//!
//! PDF/A forbids the `.notdef` glyph, so typst refuses to export a
//! character that no font can show. Rather than fail a nightly build over
//! an emoji in a name, every string is checked against the fonts first; a
//! character none of them has is replaced by a visible mark and reported.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use typst::foundations::{Array, Dict, Value};
use typst::text::Font;

/// What the embedded fonts can show.
#[derive(Debug)]
pub struct Coverage {
    fonts: Vec<typst::text::Coverage>,
    /// Answers for characters outside the fast ranges, remembered.
    seen: Mutex<HashMap<char, bool>>,
    /// What replaces a character no font has.
    pub replacement: char,
}

impl Coverage {
    /// The coverage of `fonts`.
    pub fn new(fonts: &[Font]) -> Coverage {
        let mut c = Coverage {
            fonts: fonts.iter().map(|f| f.info().coverage.clone()).collect(),
            seen: Mutex::new(HashMap::new()),
            replacement: '?',
        };
        // U+FFFD «�» where a font has it, else a white square, else «?».
        c.replacement = ['\u{FFFD}', '\u{25A1}']
            .into_iter()
            .find(|&ch| c.has(ch))
            .unwrap_or('?');
        c
    }

    /// True if some embedded font has `ch`.
    pub fn has(&self, ch: char) -> bool {
        // Printable ASCII and Russian letters are in every text font we embed.
        if (' '..='~').contains(&ch)
            || ('\u{0410}'..='\u{044F}').contains(&ch)
            || ch == 'ё'
            || ch == 'Ё'
        {
            return true;
        }
        if let Ok(seen) = self.seen.lock()
            && let Some(&known) = seen.get(&ch)
        {
            return known;
        }
        let has = self.fonts.iter().any(|f| f.contains(ch as u32));
        if let Ok(mut seen) = self.seen.lock() {
            seen.insert(ch, has);
        }
        has
    }

    /// Makes `s` printable: control characters become spaces, invisible
    /// format characters no font has are dropped, and any other character
    /// no font has becomes the replacement mark, noted in `replaced`.
    pub fn sanitize<'s>(&self, s: &'s str, replaced: &mut BTreeSet<char>) -> Cow<'s, str> {
        if s.chars().all(|ch| !ch.is_control() && self.has(ch)) {
            return Cow::Borrowed(s);
        }
        let mut out = String::with_capacity(s.len());
        for ch in s.chars() {
            if ch.is_control() {
                out.push(' ');
            } else if self.has(ch) {
                out.push(ch);
            } else if is_invisible(ch) {
                // Joiners and variation selectors of emoji: nothing to show.
            } else {
                replaced.insert(ch);
                out.push(self.replacement);
            }
        }
        Cow::Owned(out)
    }
}

/// Format characters that draw nothing: zero-width spaces and joiners,
/// direction marks, variation selectors, tags.
fn is_invisible(ch: char) -> bool {
    matches!(ch,
        '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{FE00}'..='\u{FE0F}'
        | '\u{FEFF}' | '\u{E0000}'..='\u{E007F}' | '\u{E0100}'..='\u{E01EF}')
}

/// JSON data as a typst value: strings stay strings (text, never
/// markup), made printable by `coverage`.
pub fn to_value(
    json: &serde_json::Value,
    coverage: &Coverage,
    replaced: &mut BTreeSet<char>,
) -> Value {
    match json {
        serde_json::Value::Null => Value::None,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(0.0)),
        },
        serde_json::Value::String(s) => Value::Str(coverage.sanitize(s, replaced).as_ref().into()),
        serde_json::Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| to_value(v, coverage, replaced))
                .collect::<Array>(),
        ),
        serde_json::Value::Object(map) => {
            let mut dict = Dict::new();
            for (k, v) in map {
                dict.insert(k.as_str().into(), to_value(v, coverage, replaced));
            }
            Value::Dict(dict)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_without_a_font_are_replaced() {
        let fonts: Vec<Font> = typst_assets::fonts()
            .flat_map(|d| Font::iter(typst::foundations::Bytes::new(d)))
            .collect();
        let c = Coverage::new(&fonts);
        assert_eq!(c.replacement, '\u{FFFD}');
        let mut replaced = BTreeSet::new();
        assert_eq!(
            c.sanitize("Ёлкин #set $x$ \\ ]", &mut replaced),
            "Ёлкин #set $x$ \\ ]"
        );
        assert_eq!(c.sanitize("a\tb\u{0}c", &mut replaced), "a b c");
        assert!(replaced.is_empty());
        assert_eq!(
            c.sanitize("Аня 😀\u{FE0F} 王", &mut replaced),
            "Аня \u{FFFD} \u{FFFD}"
        );
        assert_eq!(replaced.into_iter().collect::<String>(), "王😀");
    }
}
