//! How an entry travels from a request to the writer: encoded into one
//! shared buffer, and decoded into the columns it is stored in.

use anyhow::{Result, bail};
use chrono::{Datelike, Timelike};
use serde::Serialize;

use super::{AGENT_CHARS, Event, LOGIN_CHARS, PATH_CHARS, clip};

/// Appends an entry: the time (27 bytes), then its body (see [`encode_body`]).
#[cfg(test)]
pub(super) fn encode(buf: &mut Vec<u8>, at: chrono::DateTime<chrono::Utc>, e: &Event<'_>) {
    buf.extend_from_slice(&stamp(at));
    encode_body(buf, e);
}

/// Appends an entry's body: a flag byte and the account id (8 bytes,
/// little-endian), then seven texts (login, role, action, path, result,
/// address, user agent), each a 4-byte little-endian length (all ones for
/// none) and its bytes.
pub(super) fn encode_body(buf: &mut Vec<u8>, e: &Event<'_>) {
    buf.push(u8::from(e.account_id.is_some()));
    buf.extend_from_slice(&e.account_id.unwrap_or(0).to_le_bytes());
    let mut text = |s: Option<&[u8]>| match s {
        // PostgreSQL cannot store a NUL in text, and one such entry would
        // hold up every entry after it: it becomes U+FFFD.
        Some(s) if s.contains(&0) => {
            let s = String::from_utf8_lossy(s).replace('\0', "\u{FFFD}");
            buf.extend_from_slice(&(s.len() as u32).to_le_bytes());
            buf.extend_from_slice(s.as_bytes());
        }
        Some(s) => {
            // Every text is clipped far below 4 GiB.
            buf.extend_from_slice(&(s.len() as u32).to_le_bytes());
            buf.extend_from_slice(s);
        }
        None => buf.extend_from_slice(&u32::MAX.to_le_bytes()),
    };
    text(e.login.map(|s| clip(s, LOGIN_CHARS).as_bytes()));
    text(e.role.map(str::as_bytes));
    text(Some(e.action.as_bytes()));
    text(e.path.map(|s| clip(s, PATH_CHARS).as_bytes()));
    text(Some(e.result.as_bytes()));
    let mut address = [0u8; 48];
    let address = match e.address {
        Some(ip) => {
            use std::io::Write;
            let mut cursor = std::io::Cursor::new(&mut address[..]);
            let _ = write!(cursor, "{ip}");
            let n = cursor.position() as usize;
            &address[..n]
        }
        None => b"unknown",
    };
    text(Some(address));
    text(e.user_agent.map(|s| clip(s, AGENT_CHARS).as_bytes()));
}

/// A stored entry's columns, read back from the buffer.
#[derive(Debug, Serialize, PartialEq)]
pub(super) struct Row<'a>(
    pub(super) &'a str,
    pub(super) Option<i64>,
    pub(super) Option<&'a str>,
    pub(super) Option<&'a str>,
    pub(super) Option<&'a str>,
    pub(super) Option<&'a str>,
    pub(super) Option<&'a str>,
    pub(super) Option<&'a str>,
    pub(super) Option<&'a str>,
);

/// The entries of a buffer [`encode`] wrote.
pub(super) fn decode(mut buf: &[u8]) -> Result<Vec<Row<'_>>> {
    fn take<'a>(buf: &mut &'a [u8], n: usize) -> Result<&'a [u8]> {
        if buf.len() < n {
            bail!("the access log buffer ends inside an entry");
        }
        let (head, tail) = buf.split_at(n);
        *buf = tail;
        Ok(head)
    }
    fn text<'a>(buf: &mut &'a [u8]) -> Result<Option<&'a str>> {
        let len = u32::from_le_bytes(take(buf, 4)?.try_into()?);
        if len == u32::MAX {
            return Ok(None);
        }
        Ok(Some(std::str::from_utf8(take(buf, len as usize)?)?))
    }
    let mut rows = Vec::new();
    while !buf.is_empty() {
        let at = std::str::from_utf8(take(&mut buf, 27)?)?;
        let known = take(&mut buf, 1)?[0] == 1;
        let id = i64::from_le_bytes(take(&mut buf, 8)?.try_into()?);
        rows.push(Row(
            at,
            known.then_some(id),
            text(&mut buf)?,
            text(&mut buf)?,
            text(&mut buf)?,
            text(&mut buf)?,
            text(&mut buf)?,
            text(&mut buf)?,
            text(&mut buf)?,
        ));
    }
    Ok(rows)
}

/// A time as [`crate::accounts::stamp`] writes it
/// (`2026-11-28T18:46:00.123456Z`), without the formatting machinery.
pub(super) fn stamp(t: chrono::DateTime<chrono::Utc>) -> [u8; 27] {
    let mut b = *b"0000-00-00T00:00:00.000000Z";
    let mut put = |at: usize, width: usize, mut v: u32| {
        for i in (at..at + width).rev() {
            b[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, 4, t.year().clamp(0, 9999) as u32);
    put(5, 2, t.month());
    put(8, 2, t.day());
    put(11, 2, t.hour());
    put(14, 2, t.minute());
    put(17, 2, t.second());
    put(20, 6, t.nanosecond() % 1_000_000_000 / 1000);
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_the_rest_of_the_database_writes_them() {
        for t in [
            "2026-11-28T18:46:00.000000Z",
            "2026-01-01T00:00:00.000001Z",
            "1999-12-31T23:59:59.999999Z",
            "2026-06-09T07:05:03.120000Z",
        ] {
            let at = chrono::DateTime::parse_from_rfc3339(t)
                .unwrap()
                .with_timezone(&chrono::Utc);
            assert_eq!(std::str::from_utf8(&stamp(at)).unwrap(), t);
            assert_eq!(crate::accounts::stamp(at), t);
        }
        // Nanoseconds below a microsecond are dropped, as stamp() does.
        let at = chrono::DateTime::from_timestamp(1_780_000_000, 123_456_789).unwrap();
        assert_eq!(
            std::str::from_utf8(&stamp(at)).unwrap(),
            crate::accounts::stamp(at)
        );
    }

    #[test]
    fn entries_come_back_as_they_went_in_clipped() {
        let hostile = "\"'\\\0\r\nSet-Cookie: x=1; <script>é€😀";
        let long_path: String = "/ж".repeat(400);
        let at = chrono::DateTime::from_timestamp(1_780_000_000, 5_000).unwrap();
        let mut buf = Vec::new();
        encode(
            &mut buf,
            at,
            &Event {
                account_id: Some(42),
                login: Some(hostile),
                role: Some("guardian"),
                action: "file",
                path: Some(&long_path),
                result: "ok",
                address: Some("2001:db8::1".parse().unwrap()),
                user_agent: Some(hostile),
            },
        );
        encode(
            &mut buf,
            at,
            &Event {
                action: "login",
                result: "csrf",
                ..Event::default()
            },
        );
        let rows = decode(&buf).unwrap();
        assert_eq!(rows.len(), 2);
        let hostile = &hostile.replace('\0', "\u{FFFD}");
        let r = &rows[0];
        assert_eq!(r.0, crate::accounts::stamp(at));
        assert_eq!(r.1, Some(42));
        assert_eq!(r.2, Some(hostile.as_str()));
        assert_eq!(r.3, Some("guardian"));
        assert_eq!((r.4, r.6), (Some("file"), Some("ok")));
        // 300 characters, cut between characters, not inside one.
        let path = r.5.unwrap();
        assert_eq!(path.chars().count(), PATH_CHARS);
        assert!(long_path.starts_with(path));
        assert_eq!(r.7, Some("2001:db8::1"));
        assert_eq!(r.8, Some(hostile.as_str()));
        assert_eq!(
            rows[1],
            Row(
                r.0,
                None,
                None,
                None,
                Some("login"),
                None,
                Some("csrf"),
                Some("unknown"),
                None
            )
        );
        // A cut buffer is refused, not misread.
        assert!(decode(&buf[..buf.len() - 1]).is_err());
    }
}
