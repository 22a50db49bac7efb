//! Teacher Markdown to safe HTML: the one owner of the pulldown-cmark
//! options and of the sanitizer.
//!
//! Teachers' text is hostile input. Raw HTML (block and inline) is shown as
//! text, never passed through; links keep only `http`, `https`, `mailto` and
//! relative targets; images are never loaded (their description is shown);
//! and the result goes through ammonia with a narrow allow-list as a second
//! line of defence.

use std::collections::HashSet;
use std::sync::LazyLock;

use pulldown_cmark::{CowStr, Event, LinkType, Options, Parser, Tag, TagEnd};
use serde::Serialize;

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::empty();
    b.add_tags([
        "p",
        "br",
        "em",
        "strong",
        "del",
        "code",
        "pre",
        "blockquote",
        "ul",
        "ol",
        "li",
        "a",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
    ])
    .add_tag_attributes("a", ["href"])
    .add_tag_attributes("ol", ["start"])
    .url_schemes(HashSet::from(["http", "https", "mailto"]))
    .url_relative(ammonia::UrlRelative::PassThrough)
    .link_rel(Some("noopener noreferrer nofollow"));
    b
});

/// The parser options every piece of teacher Markdown is read with.
fn options() -> Options {
    Options::ENABLE_STRIKETHROUGH
}

/// True for a link target a parent may follow: http, https, mailto or a
/// relative path. Control characters and spaces anywhere reject it, so
/// `\tjavascript:` and friends never pass.
pub fn is_safe_url(url: &str) -> bool {
    if url.is_empty() || url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return false;
    }
    let lower = url.to_ascii_lowercase();
    for scheme in ["http://", "https://", "mailto:"] {
        if lower.starts_with(scheme) {
            return true;
        }
    }
    // Relative: no scheme before the first '/', '?' or '#', and not
    // protocol-relative ("//host"), which would leave the site.
    let head = lower.split(['/', '?', '#']).next().unwrap_or("");
    !head.contains(':') && !lower.starts_with("//") && !lower.starts_with("\\")
}

/// Renders teacher Markdown to sanitized HTML.
///
/// A class's homework and topics appear on every student's week page, so
/// the same text is asked for again and again within a build: each thread
/// keeps the latest few thousand answers (the function is pure).
pub fn to_html(markdown: &str) -> String {
    thread_local! {
        static MEMO: std::cell::RefCell<std::collections::HashMap<String, String>> =
            std::cell::RefCell::default();
    }
    if let Some(hit) = MEMO.with_borrow(|m| m.get(markdown).cloned()) {
        return hit;
    }
    let html = render_html(markdown);
    MEMO.with_borrow_mut(|m| {
        if m.len() >= 4096 {
            m.clear();
        }
        m.insert(markdown.to_owned(), html.clone());
    });
    html
}

fn render_html(markdown: &str) -> String {
    let mut in_unsafe_link = Vec::new();
    let events = Parser::new_ext(markdown, options()).filter_map(|event| match event {
        // Raw HTML is the teacher's text, shown as typed.
        Event::Html(html) | Event::InlineHtml(html) => Some(Event::Text(html)),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => {
            let safe = link_type == LinkType::Email || is_safe_url(&dest_url);
            in_unsafe_link.push(!safe);
            safe.then_some(Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }))
        }
        Event::End(TagEnd::Link) => {
            let unsafe_link = in_unsafe_link.pop().unwrap_or(true);
            (!unsafe_link).then_some(Event::End(TagEnd::Link))
        }
        // No image is ever fetched: its description stays as text.
        Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => None,
        Event::Start(Tag::Heading {
            level,
            id,
            classes,
            attrs,
        }) => {
            // Headings start at h3: the page owns h1 and h2.
            let level = level.max(pulldown_cmark::HeadingLevel::H3);
            Some(Event::Start(Tag::Heading {
                level,
                id,
                classes,
                attrs,
            }))
        }
        Event::End(TagEnd::Heading(level)) => Some(Event::End(TagEnd::Heading(
            level.max(pulldown_cmark::HeadingLevel::H3),
        ))),
        Event::TaskListMarker(done) => Some(Event::Text(CowStr::from(if done {
            "[x] "
        } else {
            "[ ] "
        }))),
        other => Some(other),
    });
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    SANITIZER.clean(&html).to_string()
}

/// Teacher Markdown as one line of plain text of at most `max` characters
/// (cut at a word, with «…»), for short summaries: the text of its blocks,
/// list markers kept, links as their text and target (as [`to_blocks`]).
/// It is text, to be escaped where it is shown.
pub fn to_text(markdown: &str, max: usize) -> String {
    let mut out = String::new();
    for b in to_blocks(markdown) {
        if !out.is_empty() {
            out.push(' ');
        }
        if !b.marker.is_empty() {
            out.push_str(&b.marker);
            out.push(' ');
        }
        for s in &b.spans {
            if s.br {
                out.push(' ');
            }
            out.push_str(&s.text);
        }
    }
    let words: Vec<&str> = out.split_whitespace().collect();
    let mut text = String::new();
    for w in words {
        let len = text.chars().count() + w.chars().count() + usize::from(!text.is_empty());
        if len > max {
            text.push('…');
            return text;
        }
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(w);
    }
    text
}

/// A run of teacher text with its emphasis, for typeset documents.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Span {
    /// The text, shown literally.
    pub text: String,
    /// Bold.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub strong: bool,
    /// Italic.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub emph: bool,
    /// Struck through.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub strike: bool,
    /// Inline code.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub code: bool,
    /// A line break before the text.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub br: bool,
}

/// A block of teacher text: a paragraph, a list item, a quote, a heading or code.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Block {
    /// "p", "item", "quote", "heading" or "code".
    pub kind: &'static str,
    /// The list marker of an item ("•", "3.").
    #[serde(skip_serializing_if = "String::is_empty")]
    pub marker: String,
    /// Nesting depth of lists (0 outside lists).
    #[serde(skip_serializing_if = "is_zero")]
    pub depth: usize,
    /// The text.
    pub spans: Vec<Span>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Reads teacher Markdown into plain blocks of text for typst, which gets
/// them as data: nothing in them is ever read as markup. Links keep their
/// text and, for a safe target that differs from it, the target in
/// parentheses (paper has no links); raw HTML and images are text.
pub fn to_blocks(markdown: &str) -> Vec<Block> {
    #[derive(Default)]
    struct Style {
        strong: usize,
        emph: usize,
        strike: usize,
    }
    let mut blocks: Vec<Block> = Vec::new();
    let mut style = Style::default();
    let mut lists: Vec<Option<u64>> = Vec::new();
    let mut quote = 0usize;
    let mut kind: Option<&'static str> = None;
    let mut links: Vec<(String, usize)> = Vec::new();
    let mut pending_br = false;
    let mut current = Block::default();
    fn flush(blocks: &mut Vec<Block>, current: &mut Block) {
        if current.spans.iter().any(|s| !s.text.trim().is_empty()) {
            blocks.push(std::mem::take(current));
        } else {
            *current = Block::default();
        }
    }
    let push = |current: &mut Block, style: &Style, text: &str, code: bool, br: &mut bool| {
        current.spans.push(Span {
            text: text.to_owned(),
            strong: style.strong > 0,
            emph: style.emph > 0,
            strike: style.strike > 0,
            code,
            br: std::mem::take(br),
        });
    };
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::Start(Tag::Paragraph) => {
                if current.spans.is_empty() {
                    current.kind = kind.unwrap_or(if quote > 0 { "quote" } else { "p" });
                } else {
                    pending_br = true;
                }
            }
            Event::End(TagEnd::Paragraph) if kind.is_none() => flush(&mut blocks, &mut current),
            Event::Start(Tag::Heading { .. }) => {
                flush(&mut blocks, &mut current);
                current.kind = "heading";
            }
            Event::End(TagEnd::Heading(_)) => flush(&mut blocks, &mut current),
            Event::Start(Tag::BlockQuote(_)) => {
                flush(&mut blocks, &mut current);
                quote += 1;
            }
            Event::End(TagEnd::BlockQuote(_)) => {
                flush(&mut blocks, &mut current);
                quote = quote.saturating_sub(1);
            }
            Event::Start(Tag::CodeBlock(_)) => {
                flush(&mut blocks, &mut current);
                current.kind = "code";
            }
            Event::End(TagEnd::CodeBlock) => flush(&mut blocks, &mut current),
            Event::Start(Tag::List(start)) => {
                flush(&mut blocks, &mut current);
                lists.push(start);
            }
            Event::End(TagEnd::List(_)) => {
                flush(&mut blocks, &mut current);
                lists.pop();
                kind = (!lists.is_empty()).then_some("item");
            }
            Event::Start(Tag::Item) => {
                flush(&mut blocks, &mut current);
                kind = Some("item");
                current.kind = "item";
                current.depth = lists.len();
                current.marker = match lists.last_mut() {
                    Some(Some(n)) => {
                        let m = format!("{n}.");
                        *n += 1;
                        m
                    }
                    _ => "•".to_owned(),
                };
            }
            Event::End(TagEnd::Item) => flush(&mut blocks, &mut current),
            Event::Start(Tag::Strong) => style.strong += 1,
            Event::End(TagEnd::Strong) => style.strong = style.strong.saturating_sub(1),
            Event::Start(Tag::Emphasis) => style.emph += 1,
            Event::End(TagEnd::Emphasis) => style.emph = style.emph.saturating_sub(1),
            Event::Start(Tag::Strikethrough) => style.strike += 1,
            Event::End(TagEnd::Strikethrough) => style.strike = style.strike.saturating_sub(1),
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                ..
            }) => {
                let safe = link_type == LinkType::Email || is_safe_url(&dest_url);
                let target = if safe {
                    dest_url.to_string()
                } else {
                    String::new()
                };
                links.push((target, current.spans.len()));
            }
            Event::End(TagEnd::Link) => {
                if let Some((target, from)) = links.pop() {
                    let shown: String = current.spans[from.min(current.spans.len())..]
                        .iter()
                        .map(|s| s.text.as_str())
                        .collect();
                    let bare = target.strip_prefix("mailto:").unwrap_or(&target);
                    if !target.is_empty() && shown != target && shown != bare {
                        push(
                            &mut current,
                            &style,
                            &format!(" ({bare})"),
                            false,
                            &mut pending_br,
                        );
                    }
                }
            }
            Event::Text(text) | Event::Html(text) | Event::InlineHtml(text) => {
                if current.kind.is_empty() {
                    current.kind = if quote > 0 { "quote" } else { "p" };
                }
                if current.kind == "code" {
                    for (i, line) in text.trim_end_matches('\n').split('\n').enumerate() {
                        let mut br = i > 0 || pending_br;
                        push(&mut current, &style, line, true, &mut br);
                        pending_br = false;
                    }
                } else {
                    push(&mut current, &style, &text, false, &mut pending_br);
                }
            }
            Event::Code(text) => push(&mut current, &style, &text, true, &mut pending_br),
            Event::SoftBreak => push(&mut current, &style, " ", false, &mut pending_br),
            Event::HardBreak => pending_br = true,
            Event::TaskListMarker(done) => push(
                &mut current,
                &style,
                if done { "[x] " } else { "[ ] " },
                false,
                &mut pending_br,
            ),
            Event::Rule => flush(&mut blocks, &mut current),
            _ => {}
        }
    }
    flush(&mut blocks, &mut current);
    for b in &mut blocks {
        if b.kind.is_empty() {
            b.kind = "p";
        }
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_homework() {
        let h = to_html(
            "Упр. 214, *с. 98*\n\n- задача 1\n- **задача 2**\n\n[видео](https://resh.edu.ru/x)",
        );
        assert!(h.contains("<em>с. 98</em>"), "{h}");
        assert!(h.contains("<li><strong>задача 2</strong></li>"), "{h}");
        assert!(
            h.contains(
                r#"<a href="https://resh.edu.ru/x" rel="noopener noreferrer nofollow">видео</a>"#
            ),
            "{h}"
        );
    }

    #[test]
    fn raw_html_is_text() {
        for evil in [
            "<script>alert(1)</script>",
            "a <img src=x onerror=alert(1)> b",
            "<svg><set attributeName=onload to=alert(1)></svg>",
            "<iframe src=//evil>",
            "&lt;script&gt;alert(1)&lt;/script&gt;",
            "<a href=\"javascript:alert(1)\">x</a>",
        ] {
            let h = to_html(evil);
            assert!(!h.contains("<script"), "{evil} → {h}");
            assert!(!h.contains("<img"), "{evil} → {h}");
            assert!(!h.contains("<svg"), "{evil} → {h}");
            assert!(!h.contains("<iframe"), "{evil} → {h}");
            // Shown as text (`&lt;a href=…`), never as a live link.
            assert!(!h.contains("<a href=\"javascript"), "{evil} → {h}");
        }
        assert!(to_html("<b>x</b>").contains("&lt;b&gt;x&lt;/b&gt;"));
    }

    #[test]
    fn unsafe_links_lose_their_target() {
        for link in [
            "[x](javascript:alert(1))",
            "[x](\tjavascript:alert(1))",
            "[x](JaVaScRiPt:alert(1))",
            "[x](java&#x09;script:alert(1))",
            "[x](data:text/html;base64,PHNjcmlwdD4=)",
            "[x](vbscript:msgbox)",
            "[x](//evil.example/)",
            "<javascript:alert(1)>",
        ] {
            let h = to_html(link);
            assert!(!h.contains("href"), "{link} → {h}");
        }
        assert!(to_html("[стр.](../w/2026-W40.html)").contains("href=\"../w/2026-W40.html\""));
        assert!(
            to_html("<mailto:teacher@example.ru>").contains("href=\"mailto:teacher@example.ru\"")
        );
    }

    #[test]
    fn images_are_not_loaded() {
        let h = to_html("![схема](https://evil.example/track.png)");
        assert!(!h.contains("<img"), "{h}");
        assert!(h.contains("схема"), "{h}");
    }

    #[test]
    fn url_rule() {
        assert!(is_safe_url("https://a.example/x?y#z"));
        assert!(is_safe_url("page.html#x"));
        assert!(!is_safe_url("javascript:x"));
        assert!(!is_safe_url(" https://x"));
        assert!(!is_safe_url("file:///etc/passwd"));
    }

    #[test]
    fn blocks_keep_text_and_emphasis_as_data() {
        let b = to_blocks(
            "Упр. 214, *с. 98*\n\n1. задача\n2. **задача 2**\n\n[видео](https://resh.edu.ru/x) [плохо](javascript:x)",
        );
        assert_eq!(b.len(), 4, "{b:?}");
        assert_eq!(
            b[0].spans[1],
            Span {
                text: "с. 98".into(),
                emph: true,
                ..Span::default()
            }
        );
        assert_eq!(
            (b[1].kind, b[1].marker.as_str(), b[2].marker.as_str()),
            ("item", "1.", "2.")
        );
        assert!(b[2].spans[0].strong);
        let text: String = b[3].spans.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(text, "видео (https://resh.edu.ru/x) плохо");
        let raw = to_blocks("#set text(red) <b>x</b> #read(\"/etc/passwd\") $x$ \\");
        let text: String = raw
            .iter()
            .flat_map(|b| &b.spans)
            .map(|s| s.text.as_str())
            .collect();
        assert!(
            text.contains("<b>x</b>") && text.contains("#read(\"/etc/passwd\")"),
            "{text}"
        );
    }
}
