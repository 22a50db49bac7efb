//! Just enough of PDF's syntax (ISO 32000-1, 7.2–7.5) to add a signature
//! to a finished PDF and to read signatures back: objects, the classic
//! cross-reference table and trailer (what typst writes), indirect
//! objects at their offsets. Anything it does not understand is an error,
//! never a guess; bytes from a bag are untrusted, so depth and loops are
//! bounded.

use std::collections::HashMap;

use anyhow::{Context, Result, anyhow, bail};

/// Nesting deeper than this is refused.
const MAX_DEPTH: usize = 64;

/// A PDF object.
#[derive(Debug, Clone, PartialEq)]
pub enum Obj {
    Null,
    Bool(bool),
    /// A number as written (integers and reals alike).
    Num(String),
    /// A name, without its slash, `#xx` escapes resolved.
    Name(Vec<u8>),
    /// A string (literal or hexadecimal), its bytes.
    Str(Vec<u8>),
    Array(Vec<Obj>),
    Dict(Dict),
    Ref(u32, u16),
}

/// A dictionary, its keys in their order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Dict(pub Vec<(Vec<u8>, Obj)>);

impl Dict {
    pub fn get(&self, key: &str) -> Option<&Obj> {
        self.0
            .iter()
            .find(|(k, _)| k == key.as_bytes())
            .map(|(_, v)| v)
    }

    /// Sets `key` (replacing it where it was, else at the end).
    pub fn set(&mut self, key: &str, value: Obj) {
        match self.0.iter_mut().find(|(k, _)| k == key.as_bytes()) {
            Some((_, v)) => *v = value,
            None => self.0.push((key.as_bytes().to_vec(), value)),
        }
    }
}

impl Obj {
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Obj::Num(n) => n.parse().ok(),
            _ => None,
        }
    }

    pub fn as_name(&self) -> Option<&[u8]> {
        match self {
            Obj::Name(n) => Some(n),
            _ => None,
        }
    }

    pub fn as_dict(&self) -> Option<&Dict> {
        match self {
            Obj::Dict(d) => Some(d),
            _ => None,
        }
    }

    /// Writes the object in PDF syntax.
    pub fn write(&self, out: &mut Vec<u8>) {
        match self {
            Obj::Null => out.extend_from_slice(b"null"),
            Obj::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Obj::Num(n) => out.extend_from_slice(n.as_bytes()),
            Obj::Name(n) => write_name(n, out),
            Obj::Str(s) => {
                out.push(b'<');
                out.extend_from_slice(data_encoding::HEXUPPER.encode(s).as_bytes());
                out.push(b'>');
            }
            Obj::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b' ');
                    }
                    item.write(out);
                }
                out.push(b']');
            }
            Obj::Dict(d) => d.write(out),
            Obj::Ref(n, g) => out.extend_from_slice(format!("{n} {g} R").as_bytes()),
        }
    }
}

impl Dict {
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"<<");
        for (k, v) in &self.0 {
            write_name(k, out);
            out.push(b' ');
            v.write(out);
        }
        out.extend_from_slice(b">>");
    }
}

fn write_name(n: &[u8], out: &mut Vec<u8>) {
    out.push(b'/');
    for &c in n {
        if c.is_ascii_alphanumeric() || b"-_.+*,;:=@!'".contains(&c) {
            out.push(c);
        } else {
            out.extend_from_slice(format!("#{c:02X}").as_bytes());
        }
    }
}

fn is_white(c: u8) -> bool {
    matches!(c, 0 | 9 | 10 | 12 | 13 | 32)
}

fn is_delim(c: u8) -> bool {
    b"()<>[]{}/%".contains(&c)
}

/// A reader over a PDF's bytes.
pub struct Lexer<'a> {
    pub data: &'a [u8],
    pub pos: usize,
}

impl<'a> Lexer<'a> {
    /// A reader at `pos` (past the end: at the end, where every read fails).
    pub fn new(data: &'a [u8], pos: usize) -> Lexer<'a> {
        Lexer {
            data,
            pos: pos.min(data.len()),
        }
    }

    /// Skips white space and comments.
    pub fn skip(&mut self) {
        while let Some(&c) = self.data.get(self.pos) {
            if is_white(c) {
                self.pos += 1;
            } else if c == b'%' {
                while let Some(&c) = self.data.get(self.pos) {
                    if c == b'\n' || c == b'\r' {
                        break;
                    }
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    /// A bare word (a keyword or a number) at the position.
    fn word(&mut self) -> &'a [u8] {
        let start = self.pos;
        while let Some(&c) = self.data.get(self.pos) {
            if is_white(c) || is_delim(c) {
                break;
            }
            self.pos += 1;
        }
        &self.data[start..self.pos]
    }

    /// Expects the keyword `kw` next.
    pub fn keyword(&mut self, kw: &str) -> Result<()> {
        self.skip();
        let at = self.pos;
        let w = self.word();
        if w != kw.as_bytes() {
            bail!(
                "PDF: expected {kw:?} at byte {at}, found {:?}",
                String::from_utf8_lossy(&w[..w.len().min(20)])
            );
        }
        Ok(())
    }

    /// An unsigned integer next.
    pub fn integer(&mut self) -> Result<u64> {
        self.skip();
        let at = self.pos;
        let w = self.word();
        std::str::from_utf8(w)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| anyhow!("PDF: expected a number at byte {at}"))
    }

    /// The object at the position.
    pub fn object(&mut self) -> Result<Obj> {
        self.object_at_depth(0)
    }

    fn object_at_depth(&mut self, depth: usize) -> Result<Obj> {
        if depth > MAX_DEPTH {
            bail!("PDF: objects nested too deep");
        }
        self.skip();
        let at = self.pos;
        let Some(&c) = self.data.get(self.pos) else {
            bail!("PDF: the file ends where an object should be");
        };
        match c {
            b'/' => {
                self.pos += 1;
                let raw = self.word();
                Ok(Obj::Name(unescape_name(raw)))
            }
            b'(' => self.literal().map(Obj::Str),
            b'<' if self.data.get(self.pos + 1) == Some(&b'<') => {
                self.pos += 2;
                let mut d = Dict::default();
                loop {
                    self.skip();
                    if self.data[self.pos..].starts_with(b">>") {
                        self.pos += 2;
                        return Ok(Obj::Dict(d));
                    }
                    let key = match self.object_at_depth(depth + 1)? {
                        Obj::Name(n) => n,
                        _ => bail!("PDF: a dictionary key that is not a name near byte {at}"),
                    };
                    let value = self.object_at_depth(depth + 1)?;
                    d.0.push((key, value));
                }
            }
            b'<' => {
                self.pos += 1;
                let start = self.pos;
                let end = self.data[start..]
                    .iter()
                    .position(|&c| c == b'>')
                    .map(|p| start + p)
                    .ok_or_else(|| anyhow!("PDF: an unterminated hex string at byte {at}"))?;
                self.pos = end + 1;
                let mut digits: Vec<u8> = self.data[start..end]
                    .iter()
                    .copied()
                    .filter(|c| !is_white(*c))
                    .collect();
                if digits.iter().any(|c| !c.is_ascii_hexdigit()) {
                    bail!("PDF: a hex string with other characters at byte {at}");
                }
                if digits.len() % 2 == 1 {
                    digits.push(b'0');
                }
                digits.make_ascii_uppercase();
                Ok(Obj::Str(
                    data_encoding::HEXUPPER
                        .decode(&digits)
                        .map_err(|e| anyhow!("PDF: {e}"))?,
                ))
            }
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip();
                    match self.data.get(self.pos) {
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Obj::Array(items));
                        }
                        Some(_) => items.push(self.object_at_depth(depth + 1)?),
                        None => bail!("PDF: an unterminated array at byte {at}"),
                    }
                }
            }
            _ => {
                let w = self.word();
                match w {
                    b"null" => Ok(Obj::Null),
                    b"true" => Ok(Obj::Bool(true)),
                    b"false" => Ok(Obj::Bool(false)),
                    _ if !w.is_empty()
                        && w.iter()
                            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'-' | b'+')) =>
                    {
                        // `N G R` is a reference.
                        let after = self.pos;
                        if w.iter().all(u8::is_ascii_digit) {
                            self.skip();
                            let g = self.word();
                            if !g.is_empty() && g.iter().all(u8::is_ascii_digit) {
                                self.skip();
                                if self.word() == b"R" {
                                    let n = std::str::from_utf8(w)?.parse()?;
                                    let g = std::str::from_utf8(g)?.parse()?;
                                    return Ok(Obj::Ref(n, g));
                                }
                            }
                            self.pos = after;
                        }
                        Ok(Obj::Num(String::from_utf8_lossy(w).into_owned()))
                    }
                    _ => bail!(
                        "PDF: an unexpected {:?} at byte {at}",
                        String::from_utf8_lossy(&w[..w.len().min(20)])
                    ),
                }
            }
        }
    }

    /// A literal string `( … )` with its escapes resolved.
    fn literal(&mut self) -> Result<Vec<u8>> {
        let at = self.pos;
        self.pos += 1;
        let mut out = Vec::new();
        let mut depth = 1;
        loop {
            let Some(&c) = self.data.get(self.pos) else {
                bail!("PDF: an unterminated string at byte {at}");
            };
            self.pos += 1;
            match c {
                b'(' => {
                    depth += 1;
                    out.push(c);
                }
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(out);
                    }
                    out.push(c);
                }
                b'\\' => {
                    let Some(&e) = self.data.get(self.pos) else {
                        bail!("PDF: an unterminated string at byte {at}");
                    };
                    self.pos += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'\r' => {
                            if self.data.get(self.pos) == Some(&b'\n') {
                                self.pos += 1;
                            }
                        }
                        b'\n' => {}
                        b'0'..=b'7' => {
                            let mut v = (e - b'0') as u32;
                            for _ in 0..2 {
                                match self.data.get(self.pos) {
                                    Some(&d @ b'0'..=b'7') => {
                                        v = v * 8 + (d - b'0') as u32;
                                        self.pos += 1;
                                    }
                                    _ => break,
                                }
                            }
                            out.push(v as u8);
                        }
                        other => out.push(other),
                    }
                }
                _ => out.push(c),
            }
        }
    }
}

fn unescape_name(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'#'
            && let Some(v) = raw
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
        } else {
            out.push(raw[i]);
            i += 1;
        }
    }
    out
}

/// A PDF file's objects, found through its cross-reference tables.
pub struct Document<'a> {
    pub data: &'a [u8],
    /// Where each object starts (the newest revision's).
    offsets: HashMap<u32, usize>,
    /// The newest trailer.
    pub trailer: Dict,
    /// Where the newest cross-reference table starts.
    pub startxref: usize,
}

impl<'a> Document<'a> {
    /// Reads the cross-reference tables of `data`, newest first.
    pub fn read(data: &'a [u8]) -> Result<Document<'a>> {
        let tail_start = data.len().saturating_sub(1024);
        let tail = &data[tail_start..];
        let at = tail
            .windows(9)
            .rposition(|w| w == b"startxref")
            .ok_or_else(|| anyhow!("PDF: no startxref near the end"))?;
        let mut lx = Lexer::new(data, tail_start + at + 9);
        let startxref = lx.integer()? as usize;
        let mut offsets = HashMap::new();
        let mut trailer: Option<Dict> = None;
        let mut next = Some(startxref);
        let mut seen = Vec::new();
        while let Some(at) = next {
            if seen.contains(&at) || seen.len() > 64 || at >= data.len() {
                bail!("PDF: the cross-reference tables loop or point outside the file");
            }
            seen.push(at);
            let mut lx = Lexer::new(data, at);
            lx.skip();
            if !data[lx.pos..].starts_with(b"xref") {
                bail!(
                    "PDF: no cross-reference table at byte {at} (cross-reference streams are not read)"
                );
            }
            lx.keyword("xref")?;
            loop {
                lx.skip();
                if data[lx.pos..].starts_with(b"trailer") {
                    break;
                }
                let first = lx.integer()? as u32;
                let count = lx.integer()? as u32;
                lx.skip();
                for i in 0..count {
                    let line = data
                        .get(lx.pos..lx.pos + 20)
                        .ok_or_else(|| anyhow!("PDF: the cross-reference table is cut short"))?;
                    let damaged =
                        || anyhow!("PDF: a damaged cross-reference entry at byte {}", lx.pos);
                    if !line[..10].iter().all(u8::is_ascii_digit) {
                        return Err(damaged());
                    }
                    let offset: usize = std::str::from_utf8(&line[..10])
                        .ok()
                        .and_then(|t| t.parse().ok())
                        .ok_or_else(damaged)?;
                    let num = first.checked_add(i).ok_or_else(damaged)?;
                    if line[17] == b'n' {
                        offsets.entry(num).or_insert(offset);
                    }
                    lx.pos += 20;
                }
            }
            lx.keyword("trailer")?;
            let t = match lx.object()? {
                Obj::Dict(d) => d,
                _ => bail!("PDF: the trailer is not a dictionary"),
            };
            next = t.get("Prev").and_then(Obj::as_int).map(|p| p as usize);
            if trailer.is_none() {
                trailer = Some(t);
            }
        }
        Ok(Document {
            data,
            offsets,
            trailer: trailer.context("PDF: no trailer")?,
            startxref,
        })
    }

    /// The object `num` (its stream data, if any, is not read).
    pub fn get(&self, num: u32) -> Result<Obj> {
        let at = *self
            .offsets
            .get(&num)
            .ok_or_else(|| anyhow!("PDF: object {num} is not in the file"))?;
        let mut lx = Lexer::new(self.data, at);
        let n = lx.integer()?;
        let _g = lx.integer()?;
        lx.keyword("obj")?;
        if n != num as u64 {
            bail!("PDF: the cross-reference table points object {num} at object {n}");
        }
        lx.object()
    }

    /// `obj`, or the object it refers to.
    pub fn resolve(&self, obj: &Obj) -> Result<Obj> {
        match obj {
            Obj::Ref(n, _) => self.get(*n),
            other => Ok(other.clone()),
        }
    }

    /// The number of the object `key` of the trailer refers to.
    pub fn trailer_ref(&self, key: &str) -> Result<u32> {
        match self.trailer.get(key) {
            Some(Obj::Ref(n, _)) => Ok(*n),
            _ => bail!("PDF: the trailer has no /{key} reference"),
        }
    }

    /// The object numbers of every page, in order.
    pub fn pages(&self) -> Result<Vec<u32>> {
        let root = self.get(self.trailer_ref("Root")?)?;
        let pages = root
            .as_dict()
            .and_then(|d| d.get("Pages"))
            .ok_or_else(|| anyhow!("PDF: the catalog has no /Pages"))?;
        let mut out = Vec::new();
        let Obj::Ref(n, _) = pages else {
            bail!("PDF: /Pages is not a reference");
        };
        let mut stack = vec![*n];
        let mut visited = 0;
        while let Some(n) = stack.pop() {
            visited += 1;
            if visited > 100_000 {
                bail!("PDF: the page tree loops");
            }
            let node = self.get(n)?;
            let d = node
                .as_dict()
                .ok_or_else(|| anyhow!("PDF: page tree node {n} is not a dictionary"))?;
            match d.get("Type").and_then(Obj::as_name) {
                Some(b"Page") => out.push(n),
                Some(b"Pages") => {
                    let Some(Obj::Array(kids)) = d.get("Kids") else {
                        bail!("PDF: page tree node {n} has no /Kids");
                    };
                    for k in kids.iter().rev() {
                        match k {
                            Obj::Ref(k, _) => stack.push(*k),
                            _ => bail!("PDF: a page that is not a reference"),
                        }
                    }
                }
                _ => bail!("PDF: page tree node {n} is neither /Page nor /Pages"),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Obj {
        Lexer::new(s.as_bytes(), 0).object().unwrap()
    }

    #[test]
    fn objects_read_and_write_back() {
        let o = parse(
            "<</Type/Page/MediaBox[0 0 841.8898 595.2756]/Parent 1 0 R/Lang(ru\\)x)/K<FEFF0041>/N#20x true/Z null>>",
        );
        let d = o.as_dict().unwrap();
        assert_eq!(d.get("Parent"), Some(&Obj::Ref(1, 0)));
        assert_eq!(d.get("Lang"), Some(&Obj::Str(b"ru)x".to_vec())));
        assert_eq!(d.get("K"), Some(&Obj::Str(vec![0xfe, 0xff, 0, 0x41])));
        assert_eq!(d.get("N x"), Some(&Obj::Bool(true)));
        let mut out = Vec::new();
        o.write(&mut out);
        assert_eq!(Lexer::new(&out, 0).object().unwrap(), o);
        assert_eq!(parse("[1 2 R 3]"), parse("[1 2 R 3]"));
        assert_eq!(
            parse("[1 2 3 0 R]"),
            Obj::Array(vec![
                Obj::Num("1".into()),
                Obj::Num("2".into()),
                Obj::Ref(3, 0)
            ])
        );
        assert!(Lexer::new(b"[1 2", 0).object().is_err());
        assert!(Lexer::new(b"<zz>", 0).object().is_err());
        let deep = "[".repeat(100);
        assert!(Lexer::new(deep.as_bytes(), 0).object().is_err());
    }
}
