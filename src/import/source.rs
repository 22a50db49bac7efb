//! Reading CSV files as offices and other systems write them: UTF-8 with or
//! without a BOM, windows-1251 from Excel, `,` or `;`, CRLF, no final
//! newline; and the folder or .zip archive that holds them.

use std::fs::File;
use std::io::{BufReader, Cursor, Read};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::error::Problem;

/// Text encoding of the input files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8, unless a file is not UTF-8 and reads as Russian windows-1251.
    #[default]
    Auto,
    /// UTF-8 only.
    Utf8,
    /// windows-1251 (cp1251), as Excel saves CSV on a Russian Windows.
    Windows1251,
}

impl Encoding {
    /// Parses `auto`, `utf-8` or `windows-1251` (also `cp1251`).
    pub fn parse(text: &str) -> Option<Encoding> {
        match text.to_ascii_lowercase().replace('_', "-").as_str() {
            "auto" => Some(Encoding::Auto),
            "utf-8" | "utf8" => Some(Encoding::Utf8),
            "windows-1251" | "cp1251" | "win-1251" | "win1251" => Some(Encoding::Windows1251),
            _ => None,
        }
    }
}

/// How to read the CSV files.
#[derive(Debug, Clone, Copy, Default)]
pub struct CsvOptions {
    /// Text encoding.
    pub encoding: Encoding,
    /// Field delimiter; `None`: `;` when the header has more of them than `,`.
    pub delimiter: Option<u8>,
}

/// A folder or a .zip archive of CSV files.
#[derive(Debug)]
pub enum Input {
    /// A folder on disk.
    Dir(PathBuf),
    /// A .zip archive: its files by base name, each read only when asked for.
    Zip {
        /// The archive.
        path: PathBuf,
        /// Its files.
        entries: Vec<ZipEntry>,
    },
}

/// A file of a .zip archive, as its directory describes it.
#[derive(Debug, Clone)]
pub struct ZipEntry {
    /// The base name (archives made by hand often wrap the files in a folder).
    pub name: String,
    /// Its place in the archive.
    index: usize,
    /// Its size unpacked, as declared.
    size: u64,
}

/// The largest file a .zip archive may unpack to: a city's marks fit.
pub const ZIP_ENTRY_BYTES: u64 = 2 << 30;
/// The most all the files of a .zip archive may unpack to.
pub const ZIP_TOTAL_BYTES: u64 = 8 << 30;
/// How many times its packed size a file may unpack to. CSV packs 5 to 20
/// times; a run of zeros made to fill memory, a thousand times.
pub const ZIP_RATIO: u64 = 100;

/// "1.5 GiB", "12.0 MiB": sizes in messages.
fn size_text(bytes: u64) -> String {
    if bytes >= 1 << 30 {
        format!("{:.1} GiB", bytes as f64 / f64::from(1u32 << 30))
    } else {
        format!("{:.1} MiB", bytes as f64 / f64::from(1u32 << 20))
    }
}

impl Input {
    /// Opens a folder, or a .zip archive (OneRoster sets travel as zips).
    /// An archive that would unpack to more than the caps allow — a file
    /// above [`ZIP_ENTRY_BYTES`], all above [`ZIP_TOTAL_BYTES`], or a large
    /// file packed more than [`ZIP_RATIO`] times — is refused before
    /// anything is unpacked, whether or not its files are used.
    pub fn open(path: &Path) -> Result<Input> {
        let meta =
            std::fs::metadata(path).with_context(|| format!("cannot open {}", path.display()))?;
        if meta.is_dir() {
            return Ok(Input::Dir(path.to_owned()));
        }
        let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let mut zip = zip::ZipArchive::new(BufReader::new(file)).with_context(|| {
            format!("{} is neither a folder nor a .zip archive", path.display())
        })?;
        let mut entries: Vec<ZipEntry> = Vec::new();
        let mut total = 0u64;
        for i in 0..zip.len() {
            // Read without unpacking: only the directory's record.
            let entry = zip
                .by_index_raw(i)
                .with_context(|| format!("cannot read entry {i} of {}", path.display()))?;
            if entry.is_dir() {
                continue;
            }
            let full = entry
                .name()
                .with_context(|| format!("entry {i} of {} has no readable name", path.display()))?
                .into_owned();
            let (size, packed) = (entry.size(), entry.compressed_size());
            let refuse = |why: String| {
                anyhow::anyhow!(
                    "{}: {full:?} {why}; nothing was read (unpack the archive and import the folder if it is genuine)",
                    path.display()
                )
            };
            if size > ZIP_ENTRY_BYTES {
                return Err(refuse(format!(
                    "would unpack to {}, more than the {} a file of an archive may",
                    size_text(size),
                    size_text(ZIP_ENTRY_BYTES)
                )));
            }
            if size > 1 << 20 && size / packed.max(1) > ZIP_RATIO {
                return Err(refuse(format!(
                    "would unpack to {} from {} bytes, more than {ZIP_RATIO} times its size (a zip bomb?)",
                    size_text(size),
                    packed
                )));
            }
            total += size;
            if total > ZIP_TOTAL_BYTES {
                return Err(refuse(format!(
                    "brings what the archive unpacks to above {}",
                    size_text(ZIP_TOTAL_BYTES)
                )));
            }
            let name = full.rsplit('/').next().unwrap_or_default().to_owned();
            if name.starts_with('.') || full.starts_with("__MACOSX/") {
                continue;
            }
            if entries.iter().any(|e| e.name == name) {
                bail!("{} holds two files named {name}", path.display());
            }
            entries.push(ZipEntry {
                name,
                index: i,
                size,
            });
        }
        Ok(Input::Zip {
            path: path.to_owned(),
            entries,
        })
    }

    /// The named file with its size, or `None` when it is not there.
    pub fn file(&self, name: &str) -> Result<Option<(Box<dyn Read + Send>, u64)>> {
        match self {
            Input::Dir(dir) => {
                let path = dir.join(name);
                match File::open(&path) {
                    Ok(f) => {
                        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
                        Ok(Some((Box::new(BufReader::with_capacity(1 << 20, f)), len)))
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(e).with_context(|| format!("cannot open {}", path.display())),
                }
            }
            Input::Zip { path, entries } => {
                let Some(entry) = entries.iter().find(|e| e.name == name) else {
                    return Ok(None);
                };
                let reader = Unzipped::start(path.clone(), entry.clone())?;
                Ok(Some((Box::new(reader) as Box<dyn Read + Send>, entry.size)))
            }
        }
    }

    /// Names of the files present.
    pub fn names(&self) -> Result<Vec<String>> {
        match self {
            Input::Dir(dir) => {
                let mut out = Vec::new();
                for entry in std::fs::read_dir(dir)
                    .with_context(|| format!("cannot list {}", dir.display()))?
                {
                    let entry = entry?;
                    if entry.file_type()?.is_file() {
                        out.push(entry.file_name().to_string_lossy().into_owned());
                    }
                }
                out.sort();
                Ok(out)
            }
            Input::Zip { entries, .. } => Ok(entries.iter().map(|e| e.name.clone()).collect()),
        }
    }
}

/// A file of a .zip archive, unpacked by a thread of its own as it is read:
/// a few chunks at a time in memory, never the whole file, and never more
/// than the archive's directory declared.
struct Unzipped {
    chunks: std::sync::mpsc::Receiver<std::io::Result<Vec<u8>>>,
    chunk: Cursor<Vec<u8>>,
}

impl Unzipped {
    fn start(path: PathBuf, entry: ZipEntry) -> Result<Unzipped> {
        let (tx, rx) = std::sync::mpsc::sync_channel(4);
        std::thread::Builder::new()
            .name("tabel-unzip".into())
            .spawn(move || {
                let unpack = || -> std::io::Result<()> {
                    let file = File::open(&path)?;
                    let mut zip = zip::ZipArchive::new(BufReader::new(file))?;
                    let mut reader = zip.by_index(entry.index)?;
                    let mut left = entry.size;
                    loop {
                        let mut chunk = vec![0u8; 1 << 16];
                        let n = reader.read(&mut chunk)?;
                        if n == 0 {
                            return Ok(());
                        }
                        left = left.checked_sub(n as u64).ok_or_else(|| {
                            std::io::Error::other(format!(
                                "{} unpacks to more than its archive declares",
                                entry.name
                            ))
                        })?;
                        chunk.truncate(n);
                        // The reader went away: stop unpacking.
                        if tx.send(Ok(chunk)).is_err() {
                            return Ok(());
                        }
                    }
                };
                if let Err(e) = unpack() {
                    let _ = tx.send(Err(e));
                }
            })
            .context("cannot start unpacking")?;
        Ok(Unzipped {
            chunks: rx,
            chunk: Cursor::new(Vec::new()),
        })
    }
}

impl Read for Unzipped {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let n = self.chunk.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            match self.chunks.recv() {
                Ok(chunk) => self.chunk = Cursor::new(chunk?),
                // The file is done.
                Err(_) => return Ok(0),
            }
        }
    }
}

/// Bytes looked at to guess the encoding and the delimiter.
const SNIFF: usize = 1 << 20;

/// Guesses whether bytes that are not UTF-8 are Russian text in windows-1251:
/// nearly every byte above 0x7F must be a Cyrillic letter or common
/// punctuation of that code page. UTF-8 Cyrillic fails this test, since
/// half of its bytes are continuation bytes 0x80–0xBF.
fn looks_like_cp1251(bytes: &[u8]) -> bool {
    let high: Vec<u8> = bytes.iter().copied().filter(|b| *b >= 0x80).collect();
    if high.is_empty() {
        return false;
    }
    let ok = high
        .iter()
        .filter(|&&b| {
            b >= 0xC0
                || matches!(
                    b,
                    0xA8 | 0xB8 | 0xAB | 0xBB | 0xB9 | 0x96 | 0x97 | 0xA0 | 0x85
                )
        })
        .count();
    ok * 10 >= high.len() * 9
}

/// The delimiter of a header line: `;` when it has more of them than `,`.
fn sniff_delimiter(prefix: &[u8]) -> u8 {
    let line = prefix.split(|b| *b == b'\n').next().unwrap_or_default();
    let (mut commas, mut semis, mut quoted) = (0, 0, false);
    for &b in line {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => commas += 1,
            b';' if !quoted => semis += 1,
            _ => {}
        }
    }
    if semis > commas { b';' } else { b',' }
}

/// One CSV file being read record by record.
pub struct CsvFile {
    /// File name for messages.
    pub name: String,
    /// Header names, trimmed.
    pub header: Vec<String>,
    reader: csv::Reader<Box<dyn Read + Send>>,
    record: csv::ByteRecord,
    /// Rows that had one empty field more than the header.
    pub trailing_fields: u64,
    /// Oddities accepted while opening (BOM, encoding guessed).
    pub notes: Vec<String>,
    /// Bytes in the file, for progress.
    pub size: u64,
    /// Lines end in CRLF: the reader counts each terminator's `\n` into the
    /// next record's start, one line short.
    crlf: bool,
    /// Records read, the header included.
    records: u64,
}

impl std::fmt::Debug for CsvFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvFile")
            .field("name", &self.name)
            .field("header", &self.header)
            .finish_non_exhaustive()
    }
}

/// The outcome of reading one record.
#[derive(Debug)]
pub enum Next {
    /// A record; its fields are in [`CsvFile::field`].
    Row,
    /// A record that cannot be used; the problem says why.
    Bad(Problem),
    /// End of file.
    End,
}

impl CsvFile {
    /// Opens `name` from `input`; `Ok(None)` when absent. An empty file, a
    /// header that is not text, or a duplicate column is a problem.
    pub fn open(
        input: &Input,
        name: &str,
        options: CsvOptions,
    ) -> Result<Option<Result<CsvFile, Problem>>> {
        let Some((mut raw, size)) = input.file(name)? else {
            return Ok(None);
        };
        let mut prefix = Vec::with_capacity(SNIFF.min(size as usize + 1));
        raw.by_ref()
            .take(SNIFF as u64)
            .read_to_end(&mut prefix)
            .with_context(|| format!("cannot read {name}"))?;
        let mut notes = Vec::new();
        let problem = |message: String| Problem {
            file: name.to_owned(),
            line: 1,
            column: "1".into(),
            value: None,
            message,
        };
        let mut bom = false;
        if prefix.starts_with(&[0xEF, 0xBB, 0xBF]) {
            prefix.drain(..3);
            bom = true;
            notes.push(format!("{name}: skipped a UTF-8 byte-order mark"));
        }
        if prefix.iter().all(|b| b.is_ascii_whitespace()) && prefix.len() < SNIFF {
            return Ok(Some(Err(problem(
                "the file is empty; expected a header row".into(),
            ))));
        }
        let utf8_ok = match std::str::from_utf8(&prefix) {
            Ok(_) => true,
            // Cut in the middle of a character at the end of the sample.
            Err(e) => e.error_len().is_none(),
        };
        let cp1251 = match options.encoding {
            Encoding::Windows1251 => true,
            Encoding::Utf8 => false,
            Encoding::Auto => !bom && !utf8_ok && looks_like_cp1251(&prefix),
        };
        let prefix_head: Vec<u8> = prefix.iter().take(4096).copied().collect();
        let crlf = prefix.windows(2).any(|w| w == b"\r\n");
        let stream: Box<dyn Read + Send> = if cp1251 {
            if options.encoding == Encoding::Auto {
                notes.push(format!(
                    "{name}: not UTF-8; read as windows-1251 (say --encoding to choose)"
                ));
            }
            let mut all = prefix;
            raw.read_to_end(&mut all)
                .with_context(|| format!("cannot read {name}"))?;
            let (text, _, _) = encoding_rs::WINDOWS_1251.decode(&all);
            Box::new(Cursor::new(text.into_owned().into_bytes()))
        } else {
            Box::new(Cursor::new(prefix).chain(raw))
        };
        // ',' and ';' are the same bytes in windows-1251 and UTF-8.
        let delimiter = options
            .delimiter
            .unwrap_or_else(|| sniff_delimiter(&prefix_head));
        if delimiter == b';' && options.delimiter.is_none() {
            notes.push(format!("{name}: fields are separated by ';'"));
        }
        let mut file = CsvFile {
            name: name.to_owned(),
            header: Vec::new(),
            reader: csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .delimiter(delimiter)
                .buffer_capacity(1 << 16)
                .from_reader(stream),
            record: csv::ByteRecord::new(),
            trailing_fields: 0,
            notes,
            size,
            crlf,
            records: 0,
        };
        file.records = 1;
        match file.reader.read_byte_record(&mut file.record) {
            Ok(true) => {}
            Ok(false) => {
                return Ok(Some(Err(problem(
                    "the file is empty; expected a header row".into(),
                ))));
            }
            Err(e) => return Ok(Some(Err(problem(format!("cannot read the header: {e}"))))),
        }
        for (i, field) in file.record.iter().enumerate() {
            let Ok(text) = std::str::from_utf8(field) else {
                return Ok(Some(Err(Problem {
                    column: (i + 1).to_string(),
                    ..problem(
                        "the header is not valid UTF-8 (for Excel files try --encoding windows-1251)"
                            .into(),
                    )
                })));
            };
            let text = text.trim().to_owned();
            if !text.is_empty() && file.header.contains(&text) {
                return Ok(Some(Err(Problem {
                    column: text.clone(),
                    ..problem("this column appears twice in the header".into())
                })));
            }
            file.header.push(text);
        }
        // A header ending in a delimiter has an empty last name: the same
        // harmless trailing field as in rows.
        if file.header.len() > 1 && file.header.last().is_some_and(String::is_empty) {
            file.header.pop();
            file.notes
                .push(format!("{name}: the header ends with an empty field"));
        }
        Ok(Some(Ok(file)))
    }

    /// Reads the next record.
    pub fn next_record(&mut self) -> Next {
        self.records += 1;
        match self.reader.read_byte_record(&mut self.record) {
            Ok(false) => Next::End,
            Err(e) => Next::Bad(Problem {
                file: self.name.clone(),
                line: e.position().map_or(0, |p| p.line()),
                column: "1".into(),
                value: None,
                message: format!("cannot read the record: {e}"),
            }),
            Ok(true) => {
                let n = self.record.len();
                let want = self.header.len();
                // A blank line (possible at the end of Excel files).
                if n == 1 && self.record[0].is_empty() {
                    return self.next_record();
                }
                if n == want + 1 && self.record[want].is_empty() {
                    self.trailing_fields += 1;
                    self.record.truncate(want);
                    return Next::Row;
                }
                if n != want {
                    return Next::Bad(Problem {
                        file: self.name.clone(),
                        line: self.line(),
                        column: (n.min(want) + 1).to_string(),
                        value: None,
                        message: format!(
                            "the row has {n} fields but the header has {want} (a missing or extra delimiter, or an unclosed quote?)"
                        ),
                    });
                }
                Next::Row
            }
        }
    }

    /// Line of the current record.
    pub fn line(&self) -> u64 {
        let line = self.record.position().map_or(0, |p| p.line());
        line + u64::from(self.crlf && self.records > 1)
    }

    /// Bytes read so far (for progress).
    pub fn offset(&self) -> u64 {
        self.record.position().map_or(0, |p| p.byte())
    }

    /// Field `i` of the current record as text, trimmed of surrounding spaces.
    pub fn field(&self, i: usize) -> Result<&str, Problem> {
        let bytes = self.record.get(i).unwrap_or_default();
        match std::str::from_utf8(bytes) {
            Ok(text) => Ok(text.trim()),
            Err(e) => Err(Problem {
                file: self.name.clone(),
                line: self.line(),
                column: self
                    .header
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| (i + 1).to_string()),
                value: Some(String::from_utf8_lossy(bytes).into_owned()),
                message: format!(
                    "is not valid UTF-8 (byte {} of the field; for files saved by Excel try --encoding windows-1251)",
                    e.valid_up_to() + 1
                ),
            }),
        }
    }

    /// Notes about this file worth a warning once it has been read.
    pub fn finish_notes(&mut self) -> Vec<String> {
        let mut notes = std::mem::take(&mut self.notes);
        if self.trailing_fields > 0 {
            notes.push(format!(
                "{}: {} row(s) end with one empty field more than the header; ignored it",
                self.name, self.trailing_fields
            ));
        }
        notes
    }
}

/// Parses a date written `YYYY-MM-DD` or `ДД.ММ.ГГГГ` (day and month may
/// have one digit, as Excel writes them).
pub fn parse_date(text: &str) -> Option<crate::gradebook::Date> {
    if let Some(d) = crate::gradebook::Date::parse_iso(text) {
        return Some(d);
    }
    let mut parts = text.split('.');
    let (d, m, y) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some()
        || y.len() != 4
        || d.is_empty()
        || d.len() > 2
        || m.is_empty()
        || m.len() > 2
    {
        return None;
    }
    crate::gradebook::Date::from_ymd(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

/// Parses a number written with `.` or a decimal comma.
pub fn parse_real(text: &str) -> Option<f64> {
    let v: f64 = if text.contains(',') && !text.contains('.') {
        text.replace(',', ".").parse().ok()?
    } else {
        text.parse().ok()?
    };
    v.is_finite().then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_both_spellings() {
        assert_eq!(parse_date("2026-09-01").unwrap().to_string(), "2026-09-01");
        assert_eq!(parse_date("01.09.2026").unwrap().to_string(), "2026-09-01");
        assert_eq!(parse_date("1.9.2026").unwrap().to_string(), "2026-09-01");
        assert!(parse_date("31.02.2026").is_none());
        assert!(parse_date("01.09.26").is_none());
        assert!(parse_date("2026/09/01").is_none());
    }

    #[test]
    fn numbers_with_a_decimal_comma() {
        assert_eq!(parse_real("1,5"), Some(1.5));
        assert_eq!(parse_real("2"), Some(2.0));
        assert_eq!(parse_real("1,000.5"), None);
        assert_eq!(parse_real("NaN"), None);
    }

    #[test]
    fn cp1251_is_told_from_broken_utf8() {
        let (cp, _, _) = encoding_rs::WINDOWS_1251.encode("Иванов;Пётр;Сергеевич");
        assert!(std::str::from_utf8(&cp).is_err());
        assert!(looks_like_cp1251(&cp));
        let mut broken = "Иванов,Пётр".as_bytes().to_vec();
        broken.insert(4, 0xFF);
        assert!(!looks_like_cp1251(&broken));
        assert_eq!(sniff_delimiter(b"a;b;c\n1,5;2;3"), b';');
        assert_eq!(sniff_delimiter(b"a,b,\"c;d\"\n"), b',');
    }
}
