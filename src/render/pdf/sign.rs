//! A signature inside a PDF (ISO 32000-1 12.8; PAdES, ETSI EN 319 142-1),
//! added as an incremental update: the typeset bytes stay as they are, and
//! after them come the last page with a signature widget in `/Annots`, the
//! catalog with an `/AcroForm`, the invisible widget (with an empty
//! appearance, as PDF/A asks of every annotation), the signature dictionary
//! with a zero-filled `/Contents` of a reserved size, a cross-reference
//! table and a trailer. `/ByteRange` covers every byte but that hex string,
//! and the CMS signature of those bytes is written into it
//! (docs/signing.md). The document's metadata is not touched, so its
//! PDF/A-2b declaration still describes it.
//!
//! Reading goes the other way: from the trailer to the form's signature
//! fields, their byte ranges and signatures.

use std::io::Write;

use anyhow::{Context, Result, anyhow, bail};
use chrono::{DateTime, Utc};

use super::syntax::{Dict, Document, Lexer, Obj};

/// The PAdES signature's `/SubFilter`.
pub const SUB_FILTER: &str = "ETSI.CAdES.detached";

/// The signature field to add.
#[derive(Debug, Clone)]
pub struct Field {
    /// The field's name (`/T`).
    pub name: String,
    /// The signer in words (`/Name`), shown by PDF readers.
    pub signer: Option<String>,
    /// Why it is signed (`/Reason`).
    pub reason: Option<String>,
    /// The claimed time of signing (`/M`).
    pub time: DateTime<Utc>,
    /// Bytes reserved for the CMS signature.
    pub reserve: usize,
}

/// A PDF with a signature field whose `/Contents` is still zeros.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub pdf: Vec<u8>,
    /// The hex string `<…>`: from its `<` to just after its `>`.
    gap: (usize, usize),
}

/// A PDF text string: UTF-16BE with its byte order mark.
fn text(s: &str) -> Obj {
    let mut v = vec![0xfe, 0xff];
    for u in s.encode_utf16() {
        v.extend(u.to_be_bytes());
    }
    Obj::Str(v)
}

fn name(s: &str) -> Obj {
    Obj::Name(s.as_bytes().to_vec())
}

fn num(n: impl ToString) -> Obj {
    Obj::Num(n.to_string())
}

/// `/ByteRange` before its numbers are known: the same width as after.
const RANGE_PLACEHOLDER: &str = "[0 0000000000 0000000000 0000000000]";

/// Adds a signature field to `pdf` with room for a signature of
/// `field.reserve` bytes.
pub fn prepare(pdf: &[u8], field: &Field) -> Result<Prepared> {
    let doc = Document::read(pdf)?;
    let root_num = doc.trailer_ref("Root")?;
    let mut root = match doc.get(root_num)? {
        Obj::Dict(d) => d,
        _ => bail!("PDF: the catalog is not a dictionary"),
    };
    if root.get("AcroForm").is_some() {
        bail!("the PDF has a form already (is it signed?); tabel signs only PDFs it typeset");
    }
    let pages = doc.pages()?;
    let page_num = *pages.last().context("PDF: no page")?;
    let mut page = match doc.get(page_num)? {
        Obj::Dict(d) => d,
        _ => bail!("PDF: the last page is not a dictionary"),
    };
    let size = doc
        .trailer
        .get("Size")
        .and_then(Obj::as_int)
        .context("PDF: the trailer has no /Size")? as u32;
    let (widget, appearance, sig) = (size, size + 1, size + 2);
    // The page's annotations, with the widget.
    let mut annots_obj: Option<(u32, Obj)> = None;
    match page.get("Annots").cloned() {
        None => page.set("Annots", Obj::Array(vec![Obj::Ref(widget, 0)])),
        Some(Obj::Array(mut a)) => {
            a.push(Obj::Ref(widget, 0));
            page.set("Annots", Obj::Array(a));
        }
        Some(Obj::Ref(n, _)) => match doc.get(n)? {
            Obj::Array(mut a) => {
                a.push(Obj::Ref(widget, 0));
                annots_obj = Some((n, Obj::Array(a)));
            }
            _ => bail!("PDF: /Annots is not an array"),
        },
        Some(_) => bail!("PDF: /Annots is not an array"),
    }
    root.set(
        "AcroForm",
        Obj::Dict(Dict(vec![
            (b"Fields".to_vec(), Obj::Array(vec![Obj::Ref(widget, 0)])),
            (b"SigFlags".to_vec(), num(3)),
        ])),
    );
    let widget_dict = Dict(vec![
        (b"Type".to_vec(), name("Annot")),
        (b"Subtype".to_vec(), name("Widget")),
        (b"FT".to_vec(), name("Sig")),
        (b"T".to_vec(), text(&field.name)),
        // Print and Locked.
        (b"F".to_vec(), num(132)),
        (
            b"Rect".to_vec(),
            Obj::Array(vec![num(0), num(0), num(0), num(0)]),
        ),
        (b"P".to_vec(), Obj::Ref(page_num, 0)),
        (b"V".to_vec(), Obj::Ref(sig, 0)),
        (
            b"AP".to_vec(),
            Obj::Dict(Dict(vec![(b"N".to_vec(), Obj::Ref(appearance, 0))])),
        ),
    ]);
    let mut sig_dict = Dict(vec![
        (b"Type".to_vec(), name("Sig")),
        (b"Filter".to_vec(), name("Adobe.PPKLite")),
        (b"SubFilter".to_vec(), name(SUB_FILTER)),
        (
            b"M".to_vec(),
            Obj::Str(
                field
                    .time
                    .format("D:%Y%m%d%H%M%S+00'00'")
                    .to_string()
                    .into_bytes(),
            ),
        ),
    ]);
    if let Some(s) = &field.signer {
        sig_dict.set("Name", text(s));
    }
    if let Some(r) = &field.reason {
        sig_dict.set("Reason", text(r));
    }

    let mut out = pdf.to_vec();
    if !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    let mut xref: Vec<(u32, usize)> = Vec::new();
    let mut put = |out: &mut Vec<u8>, num: u32, body: &dyn Fn(&mut Vec<u8>)| {
        xref.push((num, out.len()));
        out.extend_from_slice(format!("{num} 0 obj\n").as_bytes());
        body(out);
        out.extend_from_slice(b"\nendobj\n");
    };
    put(&mut out, page_num, &|o| page.write(o));
    if let Some((n, a)) = &annots_obj {
        put(&mut out, *n, &|o| a.write(o));
    }
    put(&mut out, root_num, &|o| root.write(o));
    put(&mut out, widget, &|o| widget_dict.write(o));
    put(&mut out, appearance, &|o| {
        o.extend_from_slice(
            b"<</Type/XObject/Subtype/Form/BBox[0 0 0 0]/Length 0>>\nstream\n\nendstream",
        )
    });
    // The signature dictionary, its /ByteRange and /Contents last.
    xref.push((sig, out.len()));
    out.extend_from_slice(format!("{sig} 0 obj\n").as_bytes());
    let mut head = Vec::new();
    sig_dict.write(&mut head);
    head.truncate(head.len() - 2);
    out.extend_from_slice(&head);
    out.extend_from_slice(b"/ByteRange ");
    let range_at = out.len();
    out.extend_from_slice(RANGE_PLACEHOLDER.as_bytes());
    out.extend_from_slice(b"/Contents ");
    let gap_start = out.len();
    out.push(b'<');
    out.resize(out.len() + 2 * field.reserve, b'0');
    out.push(b'>');
    let gap_end = out.len();
    out.extend_from_slice(b">>\nendobj\n");
    // The cross-reference section of this revision.
    xref.sort();
    let xref_at = out.len();
    out.extend_from_slice(b"xref\n0 1\n0000000000 65535 f\r\n");
    let mut i = 0;
    while i < xref.len() {
        let mut j = i;
        while j + 1 < xref.len() && xref[j + 1].0 == xref[j].0 + 1 {
            j += 1;
        }
        out.extend_from_slice(format!("{} {}\n", xref[i].0, j - i + 1).as_bytes());
        for (_, offset) in &xref[i..=j] {
            out.extend_from_slice(format!("{offset:010} 00000 n\r\n").as_bytes());
        }
        i = j + 1;
    }
    let mut trailer = Dict(vec![
        (b"Size".to_vec(), num(sig + 1)),
        (b"Root".to_vec(), Obj::Ref(root_num, 0)),
    ]);
    for key in ["Info", "ID"] {
        if let Some(v) = doc.trailer.get(key) {
            trailer.set(key, v.clone());
        }
    }
    trailer.set("Prev", num(doc.startxref));
    out.extend_from_slice(b"trailer\n");
    trailer.write(&mut out);
    write!(out, "\nstartxref\n{xref_at}\n%%EOF\n")?;
    // Now the byte range is known.
    let len = out.len();
    let range = format!("[0 {gap_start} {gap_end} {}]", len - gap_end);
    if range.len() > RANGE_PLACEHOLDER.len() {
        bail!("PDF: the file is too large to sign");
    }
    let padded = format!("{range:<width$}", width = RANGE_PLACEHOLDER.len());
    out[range_at..range_at + padded.len()].copy_from_slice(padded.as_bytes());
    Ok(Prepared {
        pdf: out,
        gap: (gap_start, gap_end),
    })
}

impl Prepared {
    /// A PDF prepared earlier (`tabel archive sign-prepare`): its one
    /// signature whose `/Contents` is still zeros.
    pub fn read(pdf: Vec<u8>) -> Result<Prepared> {
        let found = signatures(&pdf)?;
        let Some(s) = found
            .into_iter()
            .find(|s| s.contents.iter().all(|&b| b == 0))
        else {
            bail!("the PDF has no signature field waiting for its signature");
        };
        s.whole.map_err(|e| anyhow!("{e}"))?;
        Ok(Prepared { pdf, gap: s.gap })
    }

    /// `/ByteRange`: offset and length of the bytes before and after the gap.
    pub fn byte_range(&self) -> [usize; 4] {
        let (a, b) = self.gap;
        [0, a, b, self.pdf.len() - b]
    }

    /// The bytes the signature covers, in two parts.
    pub fn signed(&self) -> [&[u8]; 2] {
        let (a, b) = self.gap;
        [&self.pdf[..a], &self.pdf[b..]]
    }

    /// The bytes reserved for the signature.
    pub fn capacity(&self) -> usize {
        (self.gap.1 - self.gap.0 - 2) / 2
    }

    /// The signed PDF: `der` written into the gap.
    pub fn embed(&self, der: &[u8]) -> Result<Vec<u8>> {
        if der.len() > self.capacity() {
            bail!(
                "the signature takes {} bytes and only {} are reserved",
                der.len(),
                self.capacity()
            );
        }
        let mut out = self.pdf.clone();
        let hex = data_encoding::HEXUPPER.encode(der);
        out[self.gap.0 + 1..self.gap.0 + 1 + hex.len()].copy_from_slice(hex.as_bytes());
        Ok(out)
    }
}

/// A signature found in a PDF.
#[derive(Debug, Clone)]
pub struct Found {
    /// The field's name.
    pub field: String,
    pub sub_filter: String,
    /// `/ByteRange` as written.
    pub byte_range: Vec<i64>,
    /// The decoded `/Contents` (the CMS and its zero padding).
    pub contents: Vec<u8>,
    /// `/M`, as written.
    pub time: Option<String>,
    /// Whether the byte range covers the whole file but exactly this
    /// signature's hex string, or why not.
    pub whole: Result<(), String>,
    gap: (usize, usize),
}

impl Found {
    /// The signed bytes, in two parts.
    pub fn signed<'a>(&self, pdf: &'a [u8]) -> [&'a [u8]; 2] {
        [&pdf[..self.gap.0], &pdf[self.gap.1.min(pdf.len())..]]
    }
}

/// Every signature of the PDF's form, in field order.
pub fn signatures(pdf: &[u8]) -> Result<Vec<Found>> {
    let doc = Document::read(pdf)?;
    let root = doc.get(doc.trailer_ref("Root")?)?;
    let Some(form) = root.as_dict().and_then(|d| d.get("AcroForm")) else {
        return Ok(Vec::new());
    };
    let form = doc.resolve(form)?;
    let fields = match form.as_dict().and_then(|d| d.get("Fields")) {
        Some(f) => doc.resolve(f)?,
        None => return Ok(Vec::new()),
    };
    let Obj::Array(fields) = fields else {
        bail!("PDF: the form's /Fields is not an array");
    };
    let mut out = Vec::new();
    for f in fields.iter().take(1000) {
        let f = doc.resolve(f)?;
        let Some(d) = f.as_dict() else { continue };
        if d.get("FT").and_then(Obj::as_name) != Some(b"Sig") {
            continue;
        }
        let field = match d.get("T") {
            Some(Obj::Str(s)) => text_of(s),
            _ => String::new(),
        };
        let Some(v) = d.get("V") else { continue };
        let v = doc.resolve(v)?;
        let v = v
            .as_dict()
            .ok_or_else(|| anyhow!("PDF: the signature of {field:?} is not a dictionary"))?;
        let byte_range: Vec<i64> = match v.get("ByteRange") {
            Some(Obj::Array(a)) => a.iter().filter_map(Obj::as_int).collect(),
            _ => Vec::new(),
        };
        let contents = match v.get("Contents") {
            Some(Obj::Str(s)) => s.clone(),
            _ => bail!("PDF: the signature of {field:?} has no /Contents"),
        };
        let sub_filter = v
            .get("SubFilter")
            .and_then(Obj::as_name)
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .unwrap_or_default();
        let time = match v.get("M") {
            Some(Obj::Str(s)) => Some(String::from_utf8_lossy(s).into_owned()),
            _ => None,
        };
        let (whole, gap) = coverage(pdf, &byte_range, &contents);
        out.push(Found {
            field,
            sub_filter,
            byte_range,
            contents,
            time,
            whole,
            gap,
        });
    }
    Ok(out)
}

/// Whether `range` is `[0 a b rest]` with `a..b` exactly a hex string
/// holding `contents` and `b + rest` the file's end.
fn coverage(pdf: &[u8], range: &[i64], contents: &[u8]) -> (Result<(), String>, (usize, usize)) {
    let &[0, a, b, c] = range else {
        return (
            Err(format!("its /ByteRange {range:?} is not [0 a b c]")),
            (0, 0),
        );
    };
    let (Ok(a), Ok(b), Ok(c)) = (usize::try_from(a), usize::try_from(b), usize::try_from(c)) else {
        return (
            Err(format!("its /ByteRange {range:?} has a negative number")),
            (0, 0),
        );
    };
    if a >= b || b > pdf.len() || c > pdf.len() {
        return (
            Err(format!("its /ByteRange {range:?} does not fit the file")),
            (0, 0),
        );
    }
    let gap = (a, b);
    if b + c != pdf.len() {
        return (
            Err(format!(
                "its /ByteRange ends at byte {} of {}: {} bytes after it are not signed",
                b + c,
                pdf.len(),
                pdf.len().saturating_sub(b + c)
            )),
            gap,
        );
    }
    // Exactly `<`, an even number of hex digits, `>`: nothing else (not
    // even white space) may hide in the unsigned bytes.
    let digits = &pdf[a + 1..b - 1];
    if pdf[a] != b'<'
        || pdf[b - 1] != b'>'
        || !digits.len().is_multiple_of(2)
        || !digits.iter().all(u8::is_ascii_hexdigit)
    {
        return (
            Err("the bytes left out of its /ByteRange are not its /Contents".into()),
            gap,
        );
    }
    match Lexer::new(pdf, a).object() {
        Ok(Obj::Str(s)) if s == contents => (Ok(()), gap),
        _ => (
            Err("the bytes left out of its /ByteRange are not its /Contents".into()),
            gap,
        ),
    }
}

/// A PDF text string as text (UTF-16BE with its mark, else bytes as Latin-1).
fn text_of(s: &[u8]) -> String {
    if let Some(rest) = s.strip_prefix(&[0xfe, 0xff]) {
        let units: Vec<u16> = rest
            .chunks(2)
            .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
            .collect();
        String::from_utf16_lossy(&units)
    } else {
        s.iter().map(|&b| b as char).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny one-page PDF with a classic cross-reference table.
    fn tiny() -> Vec<u8> {
        let mut out = b"%PDF-1.7\n".to_vec();
        let objs = [
            "<</Type/Catalog/Pages 2 0 R>>",
            "<</Type/Pages/Count 1/Kids[3 0 R]>>",
            "<</Type/Page/Parent 2 0 R/MediaBox[0 0 10 10]>>",
        ];
        let mut offsets = Vec::new();
        for (i, o) in objs.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
        }
        let x = out.len();
        out.extend_from_slice(b"xref\n0 4\n0000000000 65535 f\r\n");
        for o in offsets {
            out.extend_from_slice(format!("{o:010} 00000 n\r\n").as_bytes());
        }
        out.extend_from_slice(
            format!("trailer\n<</Size 4/Root 1 0 R/ID[(a)(b)]>>\nstartxref\n{x}\n%%EOF").as_bytes(),
        );
        out
    }

    #[test]
    fn a_prepared_pdf_is_the_original_plus_a_signature_field() {
        let pdf = tiny();
        let field = Field {
            name: "Signature1".into(),
            signer: Some("Школа (№ 17) \\ <x>".into()),
            reason: None,
            time: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            reserve: 100,
        };
        let p = prepare(&pdf, &field).unwrap();
        assert!(p.pdf.starts_with(&pdf));
        assert_eq!(p.capacity(), 100);
        let [_, a, b, c] = p.byte_range();
        assert_eq!(b + c, p.pdf.len());
        assert_eq!(&p.pdf[a..a + 3], b"<00");
        // Nothing signed yet: the field waits.
        let again = Prepared::read(p.pdf.clone()).unwrap();
        assert_eq!(again.byte_range(), p.byte_range());
        let signed = p.embed(&[0x30, 0x03, 1, 2, 3]).unwrap();
        assert_eq!(signed.len(), p.pdf.len());
        let found = signatures(&signed).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].field, "Signature1");
        assert_eq!(found[0].sub_filter, SUB_FILTER);
        assert!(found[0].whole.is_ok(), "{:?}", found[0].whole);
        assert_eq!(&found[0].contents[..5], &[0x30, 0x03, 1, 2, 3]);
        assert!(found[0].contents[5..].iter().all(|&b| b == 0));
        assert!(p.embed(&[0; 101]).is_err());
        // The page has the widget; the new revision reads as a whole.
        let doc = Document::read(&signed).unwrap();
        let page = doc.get(3).unwrap();
        assert_eq!(
            page.as_dict().unwrap().get("Annots"),
            Some(&Obj::Array(vec![Obj::Ref(4, 0)]))
        );
        assert!(prepare(&signed, &field).is_err(), "signed twice");
        // Bytes appended after the signature are not covered.
        let mut longer = signed.clone();
        longer.extend_from_slice(b"% more\n");
        let found = signatures(&longer).unwrap();
        assert!(found[0].whole.is_err());
    }

    /// Bytes from a bag are untrusted: garbage, truncations and changed
    /// bytes of a signed PDF are errors or findings, never a panic.
    #[test]
    fn garbage_and_damaged_pdfs_never_panic() {
        let field = Field {
            name: "Signature1".into(),
            signer: None,
            reason: None,
            time: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            reserve: 64,
        };
        let signed = prepare(&tiny(), &field)
            .unwrap()
            .embed(&[0x30, 0x03, 1, 2, 3])
            .unwrap();
        let mut inputs: Vec<Vec<u8>> = vec![
            Vec::new(),
            b"startxref".to_vec(),
            b"startxref\n99999999999999999999999\n%%EOF".to_vec(),
            b"xref\n4294967295 2\n0000000000 65535 n\r\n00000\xc3\xa90000 00000 n\r\ntrailer<<>>\nstartxref\n0\n".to_vec(),
            b"xref\n0 1\n0000000000 65535 f\r\ntrailer<</Root 1 0 R/Prev -5>>startxref\n0".to_vec(),
            b"1 0 obj\n<</ByteRange[-1 -2 -3 -4]/Contents<00>>>\nendobj\nstartxref\n0".to_vec(),
            "[".repeat(10_000).into_bytes(),
            "<<".repeat(10_000).into_bytes(),
        ];
        // Every prefix of the signed file's last 600 bytes.
        for cut in signed.len().saturating_sub(600)..signed.len() {
            inputs.push(signed[..cut].to_vec());
        }
        // Every byte of its tail changed, in a few ways.
        for at in signed.len().saturating_sub(700)..signed.len() {
            for with in [b' ', b'0', b'9', b'-', b'<', b'>', b'(', b'/', b'[', 0xff] {
                let mut m = signed.clone();
                m[at] = with;
                inputs.push(m);
            }
        }
        for input in &inputs {
            if let Ok(found) = signatures(input) {
                for f in &found {
                    let _ = f.signed(input);
                }
            }
            let _ = prepare(input, &field);
            let _ = Prepared::read(input.clone());
        }
    }
}
