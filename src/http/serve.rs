//! Binding the gate to a socket: HTTP/1.1 straight on hyper, one task per
//! connection, graceful shutdown on SIGTERM after the access log is written.
//!
//! A flood of connections must not starve the gate: the soft limit on open
//! files is raised to the hard one at start, connections are capped in all
//! and per address (below that limit, so the database and the files served
//! always find a descriptor), headers must arrive within 30 s and a form's
//! body within `body_timeout`, and a failing `accept` is logged at most
//! once in ten seconds with a count of what was not.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use axum::extract::ConnectInfo;

use super::{Gate, Settings, app};
use crate::db::Database;

/// How long a worker thread runs requests without a break before it lets
/// the other runnable threads on its CPU go first: a TLS proxy in front,
/// the database, the access log's writer, a load generator. Without it a
/// busy worker runs whole scheduler slices, and every connection whose next
/// step waits on one of those threads waits that long: on two shared cores
/// the 304 path's p99 was 4.5–5.0 ms without, 3.3–3.6 ms with it (at 500 µs:
/// 4.0–4.3 ms; below 250 µs, no better).
const RUN_BEFORE_YIELD: Duration = Duration::from_micros(250);

thread_local! {
    /// When this thread last started running without a break.
    static RUNNING_SINCE: std::cell::Cell<Option<Instant>> = const { std::cell::Cell::new(None) };
}

/// For the async runtime's `on_thread_unpark`: a worker thread starts
/// running after a break.
pub fn worker_woke() {
    RUNNING_SINCE.set(Some(Instant::now()));
}

/// Called as a request starts: after [`RUN_BEFORE_YIELD`] of running, the
/// thread yields its CPU once (`sched_yield`: back at once if nothing else
/// waits for the CPU).
fn share_the_cpu() {
    let now = Instant::now();
    match RUNNING_SINCE.get() {
        Some(since) if now.duration_since(since) < RUN_BEFORE_YIELD => {}
        Some(_) => {
            std::thread::yield_now();
            RUNNING_SINCE.set(Some(Instant::now()));
        }
        None => RUNNING_SINCE.set(Some(now)),
    }
}

/// Descriptors kept free of connections: the database's, the access log's,
/// files being served, the release's manifests.
const RESERVED_FILES: u64 = 256;

/// Raises the soft limit on open files to the hard one; returns the soft
/// limit in force.
fn raise_file_limit() -> u64 {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    // An unlimited hard limit cannot be the soft one (the kernel caps it).
    let want = limit.maximum.unwrap_or(1 << 20).min(1 << 20);
    let have = limit.current.unwrap_or(want);
    if have >= want {
        return have;
    }
    match setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(want),
            maximum: limit.maximum,
        },
    ) {
        Ok(()) => want,
        Err(err) => {
            tracing::warn!("cannot raise the open-file limit from {have} to {want}: {err}");
            have
        }
    }
}

/// The connections open now, in all and per address.
#[derive(Debug)]
struct Connections {
    open: Mutex<(usize, HashMap<IpAddr, usize>)>,
    max: usize,
    per_address: usize,
    /// Proxies: everyone's connections come from them.
    unlimited: Vec<IpAddr>,
}

/// Why a connection was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Full {
    /// As many connections as the gate takes.
    All,
    /// As many from this address as one address may have.
    Address,
}

impl Connections {
    /// A place for a connection from `ip`, held until the guard is dropped.
    fn take(self: &Arc<Self>, ip: IpAddr) -> Result<Slot, Full> {
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if open.0 >= self.max {
            return Err(Full::All);
        }
        let counted = !self.unlimited.contains(&ip);
        if counted {
            let n = open.1.entry(ip).or_insert(0);
            if *n >= self.per_address {
                return Err(Full::Address);
            }
            *n += 1;
        }
        open.0 += 1;
        Ok(Slot {
            connections: self.clone(),
            ip: counted.then_some(ip),
        })
    }
}

/// One connection's place; given back when dropped.
#[derive(Debug)]
struct Slot {
    connections: Arc<Connections>,
    ip: Option<IpAddr>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self
            .connections
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        open.0 = open.0.saturating_sub(1);
        if let Some(ip) = self.ip
            && let Some(n) = open.1.get_mut(&ip)
        {
            *n -= 1;
            if *n == 0 {
                open.1.remove(&ip);
            }
        }
    }
}

/// A log line that may repeat many times a second (a failing `accept`, a
/// refused connection): written at most once per `every`, saying how many
/// were left out since.
#[derive(Debug)]
pub(super) struct Throttle {
    every: Duration,
    last: Option<Instant>,
    left_out: u64,
}

impl Throttle {
    /// A throttle letting one line through per `every`.
    pub(super) fn new(every: Duration) -> Throttle {
        Throttle {
            every,
            last: None,
            left_out: 0,
        }
    }

    /// Whether to write the line now: `Some(n)` with the number of lines
    /// left out before it, `None` to leave this one out.
    pub(super) fn pass(&mut self, now: Instant) -> Option<u64> {
        match self.last {
            Some(last) if now.duration_since(last) < self.every => {
                self.left_out += 1;
                None
            }
            _ => {
                self.last = Some(now);
                Some(std::mem::take(&mut self.left_out))
            }
        }
    }
}

/// " (N more like it in between)" when some were left out.
fn more(n: u64) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(" ({n} more like it in between)")
    }
}

/// Binds `listen` and serves until SIGTERM or Ctrl-C; then drains the access log.
pub async fn serve(db: Database, settings: Settings, listen: SocketAddr) -> Result<()> {
    let files = raise_file_limit();
    let room =
        usize::try_from(files.saturating_sub(RESERVED_FILES).max(files / 2)).unwrap_or(usize::MAX);
    let connections = Arc::new(Connections {
        open: Mutex::new((0, HashMap::new())),
        max: settings.max_connections.min(room),
        per_address: settings.max_connections_per_address,
        unlimited: settings.trusted_proxies.clone(),
    });
    let (gate, writer) = Gate::new(db, settings).await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let bound = listener.local_addr().unwrap_or(listen);
    tracing::info!(
        "at most {} connections ({} per address); {files} open files",
        connections.max,
        connections.per_address
    );
    tracing::info!("serving on http://{bound}");
    // The live release, and in the background its schools' files, are
    // read now rather than at the first request.
    let _ = gate.releases.live();
    let router = app(gate.clone());
    // HTTP/1.1 straight on hyper: one task per connection, no protocol
    // sniffing, the peer's address put in each request for the gate.
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let stop = shutdown_signal();
    tokio::pin!(stop);
    let mut accept_errors = Throttle::new(Duration::from_secs(10));
    let mut refusals = Throttle::new(Duration::from_secs(10));
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(err) => {
                    // Out of descriptors and the like: wait, then go on.
                    if let Some(n) = accept_errors.pass(Instant::now()) {
                        tracing::error!("cannot accept a connection: {err}{}", more(n));
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        // Over a cap the connection is closed at once: it holds no
        // descriptor, and the other clients go on being served.
        let slot = match connections.take(peer.ip()) {
            Ok(slot) => slot,
            Err(full) => {
                if let Some(n) = refusals.pass(Instant::now()) {
                    match full {
                        Full::All => tracing::warn!(
                            "refused a connection from {}: {} open, the most taken{}",
                            peer.ip(),
                            connections.max,
                            more(n)
                        ),
                        Full::Address => tracing::warn!(
                            "refused a connection from {}: {} open from it, the most one address may have{}",
                            peer.ip(),
                            connections.per_address,
                            more(n)
                        ),
                    }
                }
                drop(tcp);
                continue;
            }
        };
        // Small responses must not wait for Nagle and delayed ACKs.
        let _ = tcp.set_nodelay(true);
        let router = router.clone();
        let service =
            hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                let mut router = router.clone();
                async move {
                    share_the_cpu();
                    tower_service::Service::call(&mut router, req).await
                }
            });
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(Duration::from_secs(30))
            .serve_connection(hyper_util::rt::TokioIo::new(tcp), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
            drop(slot);
        });
    }
    drop(listener);
    drop(router);
    graceful.shutdown().await;
    // Every request is answered; the access log gets the rest, then stops.
    drop(gate);
    writer.await.context("the access log writer failed")?;
    tracing::info!("stopped; access log written");
    Ok(())
}

/// Completes on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_line_is_written_once_in_a_while_with_a_count() {
        let mut t = Throttle::new(Duration::from_secs(10));
        let start = Instant::now();
        assert_eq!(t.pass(start), Some(0));
        for i in 1..=200 {
            assert_eq!(t.pass(start + Duration::from_millis(i * 45)), None);
        }
        assert_eq!(t.pass(start + Duration::from_secs(10)), Some(200));
        assert_eq!(t.pass(start + Duration::from_secs(11)), None);
        assert_eq!(t.pass(start + Duration::from_secs(25)), Some(1));
    }

    #[test]
    fn connections_are_capped_in_all_and_per_address_but_not_for_proxies() {
        let proxy: IpAddr = "127.0.0.1".parse().unwrap();
        let c = Arc::new(Connections {
            open: Mutex::new((0, HashMap::new())),
            max: 5,
            per_address: 2,
            unlimited: vec![proxy],
        });
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let a1 = c.take(a).unwrap();
        let _a2 = c.take(a).unwrap();
        assert_eq!(c.take(a).unwrap_err(), Full::Address);
        drop(a1);
        let _a3 = c.take(a).unwrap();
        let _p = [c.take(proxy).unwrap(), c.take(proxy).unwrap()];
        let _b1 = c.take(b).unwrap();
        assert_eq!(c.take(b).unwrap_err(), Full::All);
        assert_eq!(c.take(proxy).unwrap_err(), Full::All);
    }
}
