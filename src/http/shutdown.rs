//! Stopping on a signal without dropping a connection the server had taken.
//!
//! actix-server, on its own SIGTERM handling, tells its accept thread and its workers to stop at
//! the same moment: a connection the accept thread takes in between, or one queued for a worker
//! that has not yet read it, is closed unanswered (its worker drops queued connections once it is
//! shutting down). Here the listener is paused first (no connection is taken any more; new ones
//! wait in the kernel's backlog), the connections already taken are given a moment to reach their
//! workers, and only then does the graceful stop begin: requests in flight are answered within the
//! grace period. Connections made after the signal are reset when the listener closes.

use std::time::Duration;

use actix_web::dev::ServerHandle;
use tokio::signal::unix::{SignalKind, signal};

/// How long connections taken before the pause have to reach their workers (a worker busy with
/// other connections reads its queue between them; 200 ms proved too short on a loaded machine).
const SETTLE: Duration = Duration::from_secs(1);

/// Waits for SIGTERM (graceful stop, as above) or SIGINT / SIGQUIT (immediate stop, as actix
/// does), then stops the server of `handle`. Spawn it on the server's actix system.
pub async fn stop_on_signal(handle: ServerHandle) {
    let (Ok(mut term), Ok(mut int), Ok(mut quit)) =
        (signal(SignalKind::terminate()), signal(SignalKind::interrupt()), signal(SignalKind::quit()))
    else {
        log::error!("signal handlers could not be installed: stop the server with SIGKILL");
        return;
    };
    let graceful = tokio::select! {
        _ = term.recv() => true,
        _ = int.recv() => false,
        _ = quit.recv() => false,
    };
    if graceful {
        log::info!("SIGTERM: no new connection is taken; answering the requests in flight");
        handle.pause().await;
        tokio::time::sleep(SETTLE).await;
    } else {
        log::info!("SIGINT or SIGQUIT: stopping now");
    }
    handle.stop(graceful).await;
}
