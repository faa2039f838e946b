//! One client connection after its TLS handshake: a deadline on every phase (a request head,
//! the wait for the next request, a write the client does not read), and the state its drain
//! needs (is a request being served, since when is it idle, does the next answer close it).
//!
//! hyper only bounds the header read, and from the moment a connection goes idle, so idle and
//! head cannot have deadlines of their own there, and a blocked write has none at all. The
//! deadlines live in [`DeadlineIo`], around the TLS stream, fed by the [`Tracker`] the service
//! updates as requests start and end.

use std::future::Future as _;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

use crate::server::config::Limits;

/// How long a draining connection must have been idle before it is closed. A client that has
/// just read an answer and sends its next request at once has it answered (with
/// `Connection: close`) instead of meeting a close in flight; one idle longer is no likelier to
/// be sending than at any idle timeout.
pub const DRAIN_IDLE_GRACE: Duration = Duration::from_secs(1);

/// After the server's close, how long the read side keeps reading and discarding. Closing a
/// socket with unread bytes sends a reset, which can destroy the last answer before the client
/// reads it; reading until the client closes too (or this passes) avoids that.
pub const LINGER: Duration = Duration::from_secs(2);

/// Most reads discarded in one poll while lingering, so a client sending without pause cannot
/// hold the worker.
const LINGER_READS_PER_POLL: usize = 32;

/// The per-phase deadlines of a connection.
#[derive(Debug, Clone, Copy)]
pub struct Deadlines {
    /// From a request's first byte (the handshake for the first request) to its full head.
    pub header: Duration,
    /// From an answer to the first byte of the next request.
    pub idle: Duration,
    /// Longest a write may stay blocked before it completes.
    pub write: Duration,
}

impl Deadlines {
    /// The deadlines configured in `limits`.
    pub fn from_limits(limits: &Limits) -> Self {
        Self {
            header: limits.header_timeout,
            idle: limits.idle_timeout,
            write: limits.write_timeout,
        }
    }
}

/// Where a connection is between requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Nothing being served; waiting since `since` for the first byte of a request. `first`
    /// while no request came yet.
    Waiting { since: Instant, first: bool },
    /// Bytes of a request head arrived; the head is due by `due`.
    Head { due: Instant },
    /// `n` requests handed to the service and not answered yet.
    Serving { n: usize },
}

#[derive(Debug)]
struct State {
    phase: Phase,
    /// Bytes written and not flushed yet: the connection is not idle while they are.
    unflushed: bool,
    /// The task of a read left pending with no deadline (while serving). A deadline is armed
    /// only by polling the read, and hyper does not poll it again when the answer ends, so
    /// the phase change that gives it a deadline wakes it.
    read_waiter: Option<Waker>,
}

/// What the connection's task, its service and its I/O share.
#[derive(Debug)]
pub struct Tracker {
    state: Mutex<State>,
    draining: AtomicBool,
    deadlines: Deadlines,
}

impl Tracker {
    /// A connection whose handshake just finished.
    pub fn new(deadlines: Deadlines) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State {
                phase: Phase::Waiting {
                    since: Instant::now(),
                    first: true,
                },
                unflushed: false,
                read_waiter: None,
            }),
            draining: AtomicBool::new(false),
            deadlines,
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Only this connection's task takes the lock, and nothing in it can panic.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts a request from the moment hyper hands it to the service until it is answered.
    pub fn begin_request(self: &Arc<Self>) -> RequestGuard {
        let mut state = self.state();
        state.phase = match state.phase {
            Phase::Serving { n } => Phase::Serving { n: n + 1 },
            _ => Phase::Serving { n: 1 },
        };
        RequestGuard(self.clone())
    }

    fn end_request(&self) {
        let waiter = {
            let mut state = self.state();
            state.phase = match state.phase {
                Phase::Serving { n } if n > 1 => Phase::Serving { n: n - 1 },
                _ => Phase::Waiting {
                    since: Instant::now(),
                    first: false,
                },
            };
            match state.phase {
                Phase::Waiting { .. } => state.read_waiter.take(),
                _ => None,
            }
        };
        // The idle deadline now applies to a read that may already be pending.
        if let Some(waiter) = waiter {
            waiter.wake();
        }
    }

    fn bytes_read(&self) {
        let mut state = self.state();
        if let Phase::Waiting { since, first } = state.phase {
            // The first request's head is due from the handshake, as a silent client's is.
            let from = if first { since } else { Instant::now() };
            state.phase = Phase::Head {
                due: from + self.deadlines.header,
            };
        }
    }

    /// [`Self::due_in`] the current phase.
    #[cfg(test)]
    fn read_due(&self) -> Option<(Instant, &'static str)> {
        self.due_in(self.state().phase)
    }

    /// When the read that just went pending in `waker`'s task must have brought bytes. With no
    /// deadline yet, `waker` is kept and woken when one begins (the answer ends), so that the
    /// read is polled again and arms its timer.
    fn pending_read_due(&self, waker: &Waker) -> Option<(Instant, &'static str)> {
        let mut state = self.state();
        let due = self.due_in(state.phase);
        if due.is_some() {
            state.read_waiter = None;
        } else if let Some(kept) = &mut state.read_waiter {
            // No new clone when it is the same task's (the usual case).
            kept.clone_from(waker);
        } else {
            state.read_waiter = Some(waker.clone());
        }
        due
    }

    /// When a read pending in `phase` must have brought bytes, and which deadline that is.
    fn due_in(&self, phase: Phase) -> Option<(Instant, &'static str)> {
        match phase {
            Phase::Waiting { since, first: true } => {
                Some((since + self.deadlines.header, "header"))
            }
            Phase::Waiting { since, .. } => Some((since + self.deadlines.idle, "idle")),
            Phase::Head { due } => Some((due, "header")),
            // The body and the answer have their own deadlines (body, request, write).
            Phase::Serving { .. } => None,
        }
    }

    fn set_unflushed(&self, unflushed: bool) {
        self.state().unflushed = unflushed;
    }

    /// How long the connection has been idle: nothing being served, no byte of a next request
    /// received, everything written flushed. `None` when it is not idle.
    pub fn idle_for(&self, now: Instant) -> Option<Duration> {
        let state = self.state();
        match state.phase {
            Phase::Waiting { since, .. } if !state.unflushed => {
                Some(now.saturating_duration_since(since))
            }
            _ => None,
        }
    }

    /// From now on every answer carries `Connection: close`.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::Release);
    }

    /// Whether answers now carry `Connection: close`.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }
}

/// One request being served on a connection; its drop ends it.
#[derive(Debug)]
pub struct RequestGuard(Arc<Tracker>);

impl RequestGuard {
    /// Whether the answer must close the connection.
    pub fn closes_connection(&self) -> bool {
        self.0.is_draining()
    }
}

impl Drop for RequestGuard {
    fn drop(&mut self) {
        self.0.end_request();
    }
}

/// The TLS stream with the connection's deadlines: a pending read fails at the header or idle
/// deadline, a write blocked longer than the write deadline fails, and shutdown lingers.
#[derive(Debug)]
pub struct DeadlineIo<T> {
    inner: T,
    tracker: Arc<Tracker>,
    read_timer: Option<Pin<Box<Sleep>>>,
    write_timer: Option<Pin<Box<Sleep>>>,
    /// Since when writes have been blocked; cleared once everything is flushed.
    write_blocked_since: Option<Instant>,
    /// Set once the close is sent: until when to keep discarding what the client sends.
    linger_until: Option<Instant>,
}

impl<T> DeadlineIo<T> {
    /// Wraps `inner`, the stream of the connection `tracker` follows.
    pub fn new(inner: T, tracker: Arc<Tracker>) -> Self {
        Self {
            inner,
            tracker,
            read_timer: None,
            write_timer: None,
            write_blocked_since: None,
            linger_until: None,
        }
    }

    /// A write could not proceed: fails once writes have been blocked for the write deadline.
    fn write_blocked<R>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<R>> {
        let since = *self.write_blocked_since.get_or_insert_with(Instant::now);
        let due = since + self.tracker.deadlines.write;
        if passed(&mut self.write_timer, due, cx) {
            tracing::debug!(
                write_timeout_ms = self.tracker.deadlines.write.as_millis() as u64,
                "write deadline passed: the client does not read; closing the connection"
            );
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "write deadline passed",
            )));
        }
        Poll::Pending
    }
}

/// Arms `timer` for `due` and polls it: whether `due` has passed (if not, the task is woken
/// when it does).
fn passed(timer: &mut Option<Pin<Box<Sleep>>>, due: Instant, cx: &mut Context<'_>) -> bool {
    let timer = timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(due)));
    if timer.deadline() != due {
        timer.as_mut().reset(due);
    }
    timer.as_mut().poll(cx).is_ready()
}

impl<T: AsyncRead + AsyncWrite + Unpin> AsyncRead for DeadlineIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.tracker.bytes_read();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => {
                if let Some((due, deadline)) = this.tracker.pending_read_due(cx.waker())
                    && passed(&mut this.read_timer, due, cx)
                {
                    tracing::debug!(deadline, "read deadline passed; closing the connection");
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "read deadline passed",
                    )));
                }
                Poll::Pending
            }
        }
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> AsyncWrite for DeadlineIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_write(cx, buf) {
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    this.tracker.set_unflushed(true);
                }
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.write_blocked(cx),
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_write_vectored(cx, bufs) {
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    this.tracker.set_unflushed(true);
                }
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.write_blocked(cx),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_flush(cx) {
            Poll::Ready(Ok(())) => {
                // Only a completed flush ends a blocked spell: a client reading a trickle
                // lets single writes through but never catches up.
                this.write_blocked_since = None;
                this.tracker.set_unflushed(false);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.write_blocked(cx),
        }
    }

    /// Sends the close (TLS `close_notify`, then FIN), then reads and discards until the client
    /// closes too or [`LINGER`] passes.
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let until = match this.linger_until {
            Some(until) => until,
            None => match Pin::new(&mut this.inner).poll_shutdown(cx) {
                Poll::Ready(Ok(())) => *this.linger_until.insert(Instant::now() + LINGER),
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return this.write_blocked(cx),
            },
        };
        let mut scratch = [0u8; 4096];
        for _ in 0..LINGER_READS_PER_POLL {
            let mut discard = ReadBuf::new(&mut scratch);
            match Pin::new(&mut this.inner).poll_read(cx, &mut discard) {
                // The client closed too (or the connection broke): done.
                Poll::Ready(Ok(())) if discard.filled().is_empty() => {
                    return Poll::Ready(Ok(()));
                }
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(_)) => return Poll::Ready(Ok(())),
                Poll::Pending => {
                    return if passed(&mut this.read_timer, until, cx) {
                        Poll::Ready(Ok(()))
                    } else {
                        Poll::Pending
                    };
                }
            }
        }
        if Instant::now() >= until {
            return Poll::Ready(Ok(()));
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deadlines() -> Deadlines {
        Deadlines {
            header: Duration::from_secs(5),
            idle: Duration::from_secs(30),
            write: Duration::from_secs(5),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn phases_pick_their_deadline() {
        let tracker = Tracker::new(deadlines());
        let born = Instant::now();
        assert_eq!(
            tracker.read_due(),
            Some((born + Duration::from_secs(5), "header"))
        );
        assert_eq!(tracker.idle_for(born), Some(Duration::ZERO));

        tokio::time::advance(Duration::from_secs(1)).await;
        tracker.bytes_read();
        // The first head is due from the handshake, not from its first byte.
        assert_eq!(
            tracker.read_due(),
            Some((born + Duration::from_secs(5), "header"))
        );
        assert_eq!(tracker.idle_for(Instant::now()), None);

        let request = tracker.begin_request();
        assert_eq!(tracker.read_due(), None, "no read deadline while serving");
        tracker.bytes_read();
        assert_eq!(tracker.read_due(), None);
        assert!(!request.closes_connection());
        drop(request);
        let answered = Instant::now();
        assert_eq!(
            tracker.read_due(),
            Some((answered + Duration::from_secs(30), "idle"))
        );

        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(
            tracker.idle_for(Instant::now()),
            Some(Duration::from_secs(2))
        );
        tracker.set_unflushed(true);
        assert_eq!(
            tracker.idle_for(Instant::now()),
            None,
            "not idle while unflushed"
        );
        tracker.set_unflushed(false);

        tracker.bytes_read();
        assert_eq!(
            tracker.read_due(),
            Some((Instant::now() + Duration::from_secs(5), "header")),
            "a later head is due from its first byte"
        );
        tracker.start_draining();
        let request = tracker.begin_request();
        assert!(request.closes_connection());
    }

    #[tokio::test(start_paused = true)]
    async fn a_write_blocked_past_the_deadline_fails() {
        let (client, server) = tokio::io::duplex(64);
        let tracker = Tracker::new(deadlines());
        let mut io = DeadlineIo::new(server, tracker);
        use tokio::io::AsyncWriteExt;
        // Fills the pipe; the client never reads.
        io.write_all(&[0u8; 64]).await.expect("room for 64 bytes");
        let started = Instant::now();
        let err = io
            .write_all(&[0u8; 1])
            .await
            .expect_err("blocked write fails");
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert_eq!(started.elapsed(), Duration::from_secs(5));
        drop(client);
    }

    /// hyper reads while it serves (to notice a client that goes away), and that read has no
    /// deadline. When the answer ends the request, the idle deadline must reach that same
    /// pending read: hyper does not poll it again on its own, and a client whose bytes stopped
    /// coming (a stalled TCP) would otherwise hold the connection with no timer at all.
    #[tokio::test(start_paused = true)]
    async fn a_read_pending_while_serving_gets_the_idle_deadline_when_the_answer_ends() {
        let (client, server) = tokio::io::duplex(64);
        let tracker = Tracker::new(deadlines());
        let request = tracker.begin_request();
        let mut io = DeadlineIo::new(server, tracker);
        let read = tokio::spawn(async move {
            use tokio::io::AsyncReadExt;
            let mut byte = [0u8; 1];
            io.read(&mut byte).await
        });
        // The read is polled once, while serving, and waits for the client.
        tokio::task::yield_now().await;
        assert!(!read.is_finished());
        drop(request);
        let answered = Instant::now();
        let err = tokio::time::timeout(Duration::from_secs(60), read)
            .await
            .expect("the pending read meets the idle deadline")
            .expect("read task")
            .expect_err("the read fails at the idle deadline");
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert_eq!(answered.elapsed(), Duration::from_secs(30));
        drop(client);
    }
}
