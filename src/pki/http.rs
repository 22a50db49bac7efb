//! The one HTTP request tabel makes: an RFC 3161 timestamp query POSTed
//! to a TSA (RFC 3161, section 3.4). Plain HTTP/1.1 over a socket, with
//! timeouts; TSAs answer over `http://`, and their answers are signed,
//! so the channel needs no protection of its own.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};

/// The largest answer read (a timestamp is a few kilobytes).
const MAX_ANSWER: u64 = 1 << 20;

/// `url` without its user name and password, to be shown.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

/// POSTs `body` to `url` and returns the answer's body; any status but
/// 200 is an error that says what the server said.
pub fn post(url: &str, content_type: &str, body: &[u8], timeout: Duration) -> Result<Vec<u8>> {
    let parsed = url::Url::parse(url).with_context(|| format!("{url:?} is not a URL"))?;
    match parsed.scheme() {
        "http" => {}
        "https" => bail!(
            "{}: tabel asks a TSA over http:// only (the answer is signed by the TSA, so it needs no TLS); most TSAs answer on http:// as well",
            redact(url)
        ),
        other => bail!("{}: the scheme {other:?} is not http", redact(url)),
    }
    let host = parsed.host_str().context("the URL has no host")?;
    let port = parsed.port_or_known_default().unwrap_or(80);
    let addrs: Vec<_> = (host, port)
        .to_socket_addrs()
        .with_context(|| format!("cannot resolve {host}"))?
        .collect();
    let mut stream = None;
    let mut last = None;
    for a in &addrs {
        match TcpStream::connect_timeout(a, timeout) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last = Some(e),
        }
    }
    let mut stream = match (stream, last) {
        (Some(s), _) => s,
        (None, Some(e)) => {
            return Err(e).with_context(|| format!("cannot connect to {host}:{port}"));
        }
        (None, None) => bail!("{host} has no address"),
    };
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let mut target = parsed.path().to_owned();
    if let Some(q) = parsed.query() {
        target.push('?');
        target.push_str(q);
    }
    let host_header = match parsed.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_owned(),
    };
    let mut head = format!(
        "POST {target} HTTP/1.1\r\nHost: {host_header}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\nUser-Agent: tabel/{}\r\n",
        body.len(),
        env!("CARGO_PKG_VERSION")
    );
    if !parsed.username().is_empty() {
        let user = url::form_urlencoded::parse(parsed.username().as_bytes())
            .map(|(k, _)| k.into_owned())
            .next()
            .unwrap_or_default();
        let pass = parsed
            .password()
            .map(|p| {
                url::form_urlencoded::parse(p.as_bytes())
                    .map(|(k, _)| k.into_owned())
                    .next()
                    .unwrap_or_default()
            })
            .unwrap_or_default();
        head.push_str(&format!(
            "Authorization: Basic {}\r\n",
            data_encoding::BASE64.encode(format!("{user}:{pass}").as_bytes())
        ));
    }
    head.push_str("\r\n");
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body))
        .with_context(|| format!("cannot send the request to {host}:{port}"))?;
    let mut answer = Vec::new();
    stream
        .take(MAX_ANSWER)
        .read_to_end(&mut answer)
        .with_context(|| format!("no complete answer from {host}:{port}"))?;
    parse_answer(&answer).with_context(|| format!("the answer of {host}:{port}"))
}

/// The body of an HTTP/1.1 answer, if its status is 200.
fn parse_answer(answer: &[u8]) -> Result<Vec<u8>> {
    let end = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| anyhow!("is not HTTP (no end of headers)"))?;
    let head = String::from_utf8_lossy(&answer[..end]);
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or_default();
    let code = status.split(' ').nth(1).unwrap_or_default();
    if !status.starts_with("HTTP/1.") {
        bail!(
            "is not HTTP: {:?}",
            status.chars().take(80).collect::<String>()
        );
    }
    if code != "200" {
        bail!(
            "is {:?}, not 200 OK",
            status.chars().take(80).collect::<String>()
        );
    }
    let mut length = None;
    let mut chunked = false;
    for l in lines {
        if let Some((k, v)) = l.split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
            if k == "content-length" {
                length = Some(v.parse::<usize>().context("a bad Content-Length")?);
            } else if k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked") {
                chunked = true;
            }
        }
    }
    let body = &answer[end + 4..];
    if chunked {
        let mut out = Vec::new();
        let mut rest = body;
        loop {
            let line_end = rest
                .windows(2)
                .position(|w| w == b"\r\n")
                .ok_or_else(|| anyhow!("a chunk without its size"))?;
            let size_text = String::from_utf8_lossy(&rest[..line_end]);
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .context("a bad chunk size")?;
            rest = &rest[line_end + 2..];
            if size == 0 {
                return Ok(out);
            }
            if rest.len() < size + 2 {
                bail!("ends inside a chunk");
            }
            out.extend_from_slice(&rest[..size]);
            rest = &rest[size + 2..];
        }
    }
    match length {
        Some(n) if body.len() < n => bail!("ends after {} of {n} bytes", body.len()),
        Some(n) => Ok(body[..n].to_vec()),
        None => Ok(body.to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_or_refused() {
        let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcdef";
        assert_eq!(parse_answer(ok).unwrap(), b"abc");
        let chunked =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\n";
        assert_eq!(parse_answer(chunked).unwrap(), b"abc");
        assert_eq!(
            redact("http://school:secret@tsa.example/tsp"),
            "http://tsa.example/tsp"
        );
        assert_eq!(redact("http://tsa.example/tsp"), "http://tsa.example/tsp");
        let err = parse_answer(b"HTTP/1.1 503 Busy\r\n\r\n").unwrap_err();
        assert!(format!("{err}").contains("503 Busy"), "{err}");
        assert!(parse_answer(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nab").is_err());
        assert!(parse_answer(b"garbage").is_err());
    }
}
