//! Binding the gate to a socket: HTTP/1.1 straight on hyper, one task per
//! connection, graceful shutdown on SIGTERM after the access log is written.

/// How long a worker thread runs requests without a break before it lets
/// the other runnable threads on its CPU go first: a TLS proxy in front,
/// the database, the access log's writer, a load generator. Without it a
/// busy worker runs whole scheduler slices, and every connection whose next
/// step waits on one of those threads waits that long: on two shared cores
/// the 304 path's p99 was 4.5–5.0 ms without, 3.3–3.6 ms with it (at 500 µs:
/// 4.0–4.3 ms; below 250 µs, no better).
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use axum::extract::ConnectInfo;

use super::{Gate, Settings, app};
use crate::db::Database;

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

/// Binds `listen` and serves until SIGTERM or Ctrl-C; then drains the access log.
pub async fn serve(db: Database, settings: Settings, listen: SocketAddr) -> Result<()> {
    let (gate, writer) = Gate::new(db, settings).await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let bound = listener.local_addr().unwrap_or(listen);
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
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(err) => {
                    // Out of descriptors and the like: wait, then go on.
                    tracing::error!("cannot accept a connection: {err}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
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
            .header_read_timeout(std::time::Duration::from_secs(30))
            .serve_connection(hyper_util::rt::TokioIo::new(tcp), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
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
