//! The one typst engine: the PDF/A documents (summary statements, weekly
//! printouts).
//!
//! Built once per build and shared by every worker (it is `Send + Sync`):
//! the fonts compiled into the binary (never the machine's), the templates
//! embedded and overridable file by file like the HTML ones, and no file
//! access beyond those templates. Data reaches typst only as `sys.inputs`
//! values, never as source, so teacher text full of typst markup prints
//! literally.
//!
//! Several documents of one kind are typeset in one compile (pages of one
//! class, say) and split into one PDF each: the fixed cost of a compile is
//! paid once per batch. Each document restarts the page counter, so its
//! pages, and so its bytes, do not depend on its neighbours in the batch.

pub mod sign;
mod syntax;
mod text;

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use sha2::{Digest, Sha256};
use typst::diag::{Severity, SourceDiagnostic, Warned};
use typst::foundations::{Bytes, Datetime, Dict, IntoValue, Smart, Value};
use typst::text::Font;
use typst_as_lib::{TypstEngine, TypstTemplateCollection};
use typst_layout::PagedDocument;
use typst_pdf::{PdfOptions, PdfStandard, PdfStandards, Timestamp};

pub use text::Coverage;

use crate::gradebook::Date;

/// The embedded templates: name and source.
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "common.typ",
        include_str!("../../../report-templates/typst/common.typ"),
    ),
    (
        "statement.typ",
        include_str!("../../../report-templates/typst/statement.typ"),
    ),
    (
        "printout.typ",
        include_str!("../../../report-templates/typst/printout.typ"),
    ),
];

/// Fonts of this repository (`fonts/`, with their licence), beside typst's own.
const FONTS: &[&[u8]] = &[
    include_bytes!("../../../fonts/PTS55F.ttf"),
    include_bytes!("../../../fonts/PTS56F.ttf"),
    include_bytes!("../../../fonts/PTS75F.ttf"),
    include_bytes!("../../../fonts/PTS76F.ttf"),
    include_bytes!("../../../fonts/PTN57F.ttf"),
    include_bytes!("../../../fonts/PTN77F.ttf"),
];

/// After each batch, comemo's cache keeps entries used within this many
/// batches. A batch of one class's documents reuses its own layouts and
/// shaped text; keeping more across batches measured no faster and took
/// memory (keeping everything took a test process to 1.8 GB; 4 batches
/// doubled the peak of 0).
const CACHE_AGE: usize = 0;

/// One document to typeset.
#[derive(Debug, Clone)]
pub struct Doc {
    /// The data the template shows, as `sys.inputs.docs.at(i)`: a JSON
    /// object, kept as bytes (a nightly build holds thousands at a time).
    pub data: Vec<u8>,
    /// PDF title.
    pub title: String,
    /// PDF author.
    pub author: String,
    /// A stable identifier (the path in the release): the PDF's document id.
    pub ident: String,
    /// Creation date written into the PDF (00:00 UTC): from the data, never the clock.
    pub date: Date,
    /// Whether the PDF carries a tag tree (its structure, for screen
    /// readers): statements do; printouts, made for paper, do not, which
    /// halves their size.
    pub tagged: bool,
}

/// The typst engine with its fonts and templates.
pub struct Typesetter {
    engine: TypstEngine<TypstTemplateCollection>,
    coverage: Coverage,
    /// Hash of the templates, the fonts and the engine: part of every
    /// document's input hash.
    pub version: String,
}

impl std::fmt::Debug for Typesetter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Typesetter")
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl Typesetter {
    /// Loads the fonts and the templates; a template in `overrides`
    /// replaces the embedded one of the same name.
    pub fn new(overrides: Option<&Path>) -> Result<Typesetter> {
        let mut hasher = Sha256::new();
        hasher.update(env!("CARGO_PKG_VERSION"));
        hasher.update("typst 0.15.1, typst-pdf 0.15.1, PDF/A-2b");
        let mut sources = Vec::new();
        for (name, source) in TEMPLATES {
            let source = match overrides.map(|dir| dir.join(name)).filter(|p| p.exists()) {
                Some(path) => std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read template {}", path.display()))?,
                None => (*source).to_owned(),
            };
            hasher.update(name.as_bytes());
            hasher.update(source.as_bytes());
            sources.push((*name, source));
        }
        let mut fonts: Vec<Font> = Vec::new();
        for data in FONTS.iter().copied().chain(typst_assets::fonts()) {
            hasher.update((data.len() as u64).to_le_bytes());
            fonts.extend(Font::iter(Bytes::new(data)));
        }
        let coverage = Coverage::new(&fonts);
        let engine = TypstEngine::builder()
            .fonts(fonts)
            .with_static_source_file_resolver(sources)
            .comemo_evict_max_age(None)
            .build();
        let version = data_encoding::HEXLOWER.encode(&hasher.finalize()[..8]);
        Ok(Typesetter {
            engine,
            coverage,
            version,
        })
    }

    /// The characters the embedded fonts have.
    pub fn coverage(&self) -> &Coverage {
        &self.coverage
    }

    /// Typesets `docs` with `template` in one compile and returns one PDF/A
    /// per document. `lang` is the documents' language ("ru", "en").
    pub fn typeset(&self, template: &str, lang: &str, docs: &[&Doc]) -> Result<Vec<Vec<u8>>> {
        if docs.is_empty() {
            return Ok(Vec::new());
        }
        let mut inputs = Dict::new();
        inputs.insert("lang".into(), lang.into_value());
        let data: Vec<Value> = docs
            .iter()
            .map(|d| {
                let mut replaced = BTreeSet::new();
                let json: serde_json::Value = serde_json::from_slice(&d.data).unwrap_or_default();
                let value = text::to_value(&json, &self.coverage, &mut replaced);
                if !replaced.is_empty() {
                    let chars: Vec<String> = replaced
                        .iter()
                        .map(|c| format!("U+{:04X}", *c as u32))
                        .collect();
                    tracing::warn!(
                        document = %d.ident,
                        chars = %chars.join(" "),
                        "no embedded font has these characters; printed as {}",
                        self.coverage.replacement
                    );
                }
                value
            })
            .collect();
        inputs.insert("docs".into(), Value::Array(data.into_iter().collect()));
        let world = self
            .engine
            .world_builder(template)
            .with_inputs(inputs)
            .build()
            .map_err(|e| anyhow!("cannot set up typst for {template}: {e}"))?;
        let started = std::time::Instant::now();
        let Warned { output, warnings } = typst::compile::<PagedDocument>(&world);
        let compiled = started.elapsed();
        report(template, &warnings);
        let document = output.map_err(|errors| anyhow!("{template}: {}", messages(&errors)))?;
        let pages = document.pages();
        // Every document restarts the page counter: its first page is number 1.
        let starts: Vec<usize> = (0..pages.len()).filter(|&i| pages[i].number == 1).collect();
        if starts.len() != docs.len() || starts.first() != Some(&0) {
            bail!(
                "{template}: {} documents made {} (of {} pages)",
                docs.len(),
                starts.len(),
                pages.len()
            );
        }
        let mut out = Vec::with_capacity(docs.len());
        for (k, doc) in docs.iter().enumerate() {
            let end = starts.get(k + 1).copied().unwrap_or(pages.len());
            let mut info = typst::model::Document::info(&document).clone();
            info.title = Some(doc.title.as_str().into());
            info.author = vec![doc.author.as_str().into()];
            info.date = Smart::Auto;
            let single = PagedDocument::new(pages[starts[k]..end].iter().cloned().collect(), info);
            out.push(
                self.export(&single, doc)
                    .with_context(|| format!("cannot write {}", doc.ident))?,
            );
        }
        typst::comemo::evict(CACHE_AGE);
        tracing::debug!(
            template,
            docs = docs.len(),
            compile_ms = compiled.as_millis() as u64,
            export_ms = (started.elapsed() - compiled).as_millis() as u64,
            "typeset"
        );
        Ok(out)
    }

    fn export(&self, document: &PagedDocument, doc: &Doc) -> Result<Vec<u8>> {
        use chrono::Datelike;
        let d = doc.date.0;
        let datetime = Datetime::from_ymd_hms(d.year(), d.month() as u8, d.day() as u8, 0, 0, 0)
            .ok_or_else(|| anyhow!("date {d} out of range"))?;
        let standards =
            PdfStandards::new(&[PdfStandard::A_2b]).map_err(|e| anyhow!("{}", e.message()))?;
        let options = PdfOptions {
            ident: Smart::Custom(doc.ident.clone()),
            creator: Smart::Custom(Some(format!(
                "tabel {} (typst 0.15.1)",
                env!("CARGO_PKG_VERSION")
            ))),
            timestamp: Some(Timestamp::new_utc(datetime)),
            page_ranges: None,
            standards,
            tagged: doc.tagged,
            pretty: false,
        };
        typst_pdf::pdf(document, &options).map_err(|errors| anyhow!("{}", messages(&errors)))
    }
}

fn messages(diags: &[SourceDiagnostic]) -> String {
    let list: Vec<String> = diags
        .iter()
        .map(|d| {
            let hints: String = d
                .hints
                .iter()
                .map(|h| format!(" (hint: {})", h.v))
                .collect();
            format!("{}{hints}", d.message)
        })
        .collect();
    list.join("; ")
}

/// Logs typst's warnings, each distinct one once per batch.
fn report(template: &str, warnings: &[SourceDiagnostic]) {
    let distinct: BTreeSet<String> = warnings
        .iter()
        .filter(|w| w.severity == Severity::Warning)
        .map(|w| w.message.to_string())
        .collect();
    for w in distinct {
        tracing::warn!(template, "typst: {w}");
    }
}
