//! The serving log's writer: request threads append their formatted lines to one shared
//! buffer, and a thread of its own writes what gathered in one system call every
//! [`GATHER`]. A thread woken for every line (a channel the writer blocks on) costs a wake-up
//! and two context switches per request, more than writing the line; gathered, a batch of a
//! busy second's lines costs one.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// How long the log thread lets lines gather once the first one arrives: how late a line may
/// reach stderr.
pub const GATHER: Duration = Duration::from_millis(5);

#[derive(Debug, Default)]
struct Buffer {
    lines: Vec<u8>,
    closed: bool,
}

#[derive(Debug)]
struct Shared {
    buffer: Mutex<Buffer>,
    /// Signalled when the buffer gets its first line, or closes.
    work: Condvar,
    /// Signalled when the log thread took the buffer.
    room: Condvar,
    /// Bytes buffered before a line waits for the log thread: nothing is dropped.
    limit: usize,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Buffer> {
        // A line is appended or taken whole under the lock; nothing in it can panic midway.
        self.buffer.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Where the log's lines go: cheap to clone, one per subscriber.
#[derive(Debug, Clone)]
pub struct BatchWriter(Arc<Shared>);

/// Writes what is left and stops the log thread when dropped: keep it until serving ends.
#[derive(Debug)]
pub struct BatchGuard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// A writer to `out` through a thread named `name`; lines wait for room once `limit` bytes
/// are buffered.
pub fn batched<W: Write + Send + 'static>(
    out: W,
    name: &str,
    limit: usize,
) -> std::io::Result<(BatchWriter, BatchGuard)> {
    let shared = Arc::new(Shared {
        buffer: Mutex::new(Buffer::default()),
        work: Condvar::new(),
        room: Condvar::new(),
        limit,
    });
    let thread = std::thread::Builder::new().name(name.to_owned()).spawn({
        let shared = shared.clone();
        move || write_out(&shared, out)
    })?;
    Ok((
        BatchWriter(shared.clone()),
        BatchGuard {
            shared,
            thread: Some(thread),
        },
    ))
}

/// The log thread: sleeps while there is nothing, lets lines gather for [`GATHER`] once there
/// is, then writes them in one go.
fn write_out<W: Write>(shared: &Shared, mut out: W) {
    let mut batch = Vec::new();
    loop {
        let mut buffer = shared.lock();
        while buffer.lines.is_empty() && !buffer.closed {
            buffer = shared.work.wait(buffer).unwrap_or_else(|e| e.into_inner());
        }
        if !buffer.closed {
            drop(buffer);
            std::thread::sleep(GATHER);
            buffer = shared.lock();
        }
        let closed = buffer.closed;
        std::mem::swap(&mut batch, &mut buffer.lines);
        drop(buffer);
        shared.room.notify_all();
        // A failed write (stderr closed) leaves nothing better to report it to.
        let _ = out.write_all(&batch).and_then(|()| out.flush());
        batch.clear();
        if closed && shared.lock().lines.is_empty() {
            return;
        }
    }
}

impl Drop for BatchGuard {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.work.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Write for &BatchWriter {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        let shared = &self.0;
        let mut buffer = shared.lock();
        while buffer.lines.len() >= shared.limit && !buffer.closed {
            buffer = shared.room.wait(buffer).unwrap_or_else(|e| e.into_inner());
        }
        let first = buffer.lines.is_empty();
        buffer.lines.extend_from_slice(line);
        drop(buffer);
        // The log thread sleeps only while the buffer is empty: one wake-up per batch.
        if first {
            shared.work.notify_one();
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BatchWriter {
    type Writer = &'a BatchWriter;
    fn make_writer(&'a self) -> Self::Writer {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<Vec<u8>>>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("sink").push(buf.to_vec());
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_line_is_written_in_order_and_all_by_the_guard() {
        let sink = Sink::default();
        let (writer, guard) = batched(sink.clone(), "test-log", 1 << 20).expect("thread");
        let lines: Vec<String> = (0..2_000).map(|i| format!("line {i}\n")).collect();
        for line in &lines {
            (&writer).write_all(line.as_bytes()).expect("write");
        }
        drop(guard);
        let writes = sink.0.lock().expect("sink").clone();
        assert_eq!(writes.concat(), lines.concat().into_bytes());
    }

    #[test]
    fn a_full_buffer_makes_lines_wait_instead_of_dropping_them() {
        let sink = Sink::default();
        let (writer, guard) = batched(sink.clone(), "test-log", 16).expect("thread");
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let writer = writer.clone();
                std::thread::spawn(move || {
                    for i in 0..200 {
                        (&writer)
                            .write_all(format!("{t}:{i}\n").as_bytes())
                            .expect("write");
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().expect("writer thread");
        }
        drop(guard);
        let text = String::from_utf8(sink.0.lock().expect("sink").concat()).expect("utf-8");
        assert_eq!(text.lines().count(), 800);
        for t in 0..4 {
            let mine: Vec<&str> = text
                .lines()
                .filter(|l| l.starts_with(&format!("{t}:")))
                .collect();
            let expected: Vec<String> = (0..200).map(|i| format!("{t}:{i}")).collect();
            assert_eq!(mine, expected);
        }
    }
}
