//! The epoch ticker: advances the engine's epoch every [`EPOCH_TICK`] while a plugin store
//! may run wasm (every deadline of a call, an instantiation or a load check is counted in
//! ticks), and sleeps while none may. Ticking always, an idle service woke a thousand times a
//! second: 170–180 ms of CPU every 10 s doing nothing (BENCHMARKS.md, "Eighth pass").
//!
//! Each store holds a [`Ticking`] (it sits in the store's data) from its creation until it is
//! dropped; a warm instance put aside idle pauses it, and every call resumes it before any
//! wasm runs. The first active guard wakes the ticker, which then ticks until the last one is
//! paused or dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::Thread;
use std::time::Duration;

use anyhow::Context;
use wasmtime::{Engine, EngineWeak};

/// How often the epoch advances while a store exists; deadlines are whole ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(1);

/// How long the idle ticker sleeps before it looks whether its engine is gone (a store's
/// creation wakes it at once).
const IDLE_CHECK: Duration = Duration::from_secs(1);

/// The ticker thread of one engine.
#[derive(Debug)]
pub struct EpochTicker {
    /// Guards active (stores that may run wasm).
    guards: AtomicUsize,
    thread: Thread,
}

impl EpochTicker {
    /// Starts the ticker of `engine`; it stops once the engine is dropped. Without it no
    /// deadline would ever fire, so failing to start it is a start-up error.
    pub fn start(engine: &Engine) -> anyhow::Result<Arc<Self>> {
        Self::start_checking_every(engine, IDLE_CHECK)
    }

    /// [`EpochTicker::start`], the idle ticker looking for its engine every `idle_check`.
    fn start_checking_every(engine: &Engine, idle_check: Duration) -> anyhow::Result<Arc<Self>> {
        let weak = engine.weak();
        // The thread's handle is needed to build the state the thread runs on: handed over
        // once it exists.
        let (handover, handed) = std::sync::mpsc::sync_channel::<Arc<Self>>(1);
        let thread = std::thread::Builder::new()
            .name("importhook-epoch".into())
            .spawn(move || {
                if let Ok(ticker) = handed.recv() {
                    ticker.run(&weak, idle_check);
                }
            })
            .context("cannot start the epoch ticker thread")?;
        let ticker = Arc::new(Self {
            guards: AtomicUsize::new(0),
            thread: thread.thread().clone(),
        });
        handover
            .send(ticker.clone())
            .context("the epoch ticker thread ended before it started")?;
        Ok(ticker)
    }

    /// Keeps the epoch advancing for as long as the returned guard lives (and is not
    /// paused): one per store.
    pub fn ticking(self: &Arc<Self>) -> Ticking {
        self.acquire();
        Ticking {
            ticker: self.clone(),
            active: true,
        }
    }

    fn acquire(&self) {
        if self.guards.fetch_add(1, Ordering::AcqRel) == 0 {
            // Wakes a parked ticker; if it is about to park, it returns from it at once.
            self.thread.unpark();
        }
    }

    fn release(&self) {
        self.guards.fetch_sub(1, Ordering::AcqRel);
    }

    fn run(&self, engine: &EngineWeak, idle_check: Duration) {
        loop {
            if self.guards.load(Ordering::Acquire) == 0 {
                std::thread::park_timeout(idle_check);
                if engine.upgrade().is_none() {
                    return;
                }
                continue;
            }
            // A tick's wait first: a store made while the ticker slept gets a whole tick, as
            // one made while it ticks gets what is left of the current one.
            std::thread::sleep(EPOCH_TICK);
            let Some(engine) = engine.upgrade() else {
                return;
            };
            engine.increment_epoch();
        }
    }

    /// Guards active: the stores that keep the ticker awake now.
    pub fn guards(&self) -> usize {
        self.guards.load(Ordering::Acquire)
    }
}

/// Held by one store: the ticker ticks while any is alive and not paused.
#[derive(Debug)]
pub struct Ticking {
    ticker: Arc<EpochTicker>,
    active: bool,
}

impl Ticking {
    /// Lets the ticker sleep as far as this guard goes: its store runs no wasm until
    /// [`Ticking::resume`] (a warm instance put aside idle).
    pub fn pause(&mut self) {
        if std::mem::replace(&mut self.active, false) {
            self.ticker.release();
        }
    }

    /// Keeps the ticker ticking again (a no-op while it does).
    pub fn resume(&mut self) {
        if !std::mem::replace(&mut self.active, true) {
            self.ticker.acquire();
        }
    }
}

impl Drop for Ticking {
    fn drop(&mut self) {
        self.pause();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;
    use wasmtime::{Config, Store};

    fn engine() -> Engine {
        let mut config = Config::new();
        config.epoch_interruption(true);
        Engine::new(&config).expect("engine")
    }

    /// Whether the epoch moves within `wait`: a looping call with a deadline of one tick from
    /// now traps once it does.
    fn epoch_moves_within(engine: &Engine, wait: Duration) -> bool {
        // (module (func (export "spin") (loop br 0)))
        const SPIN: &[u8] = &[
            0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
            0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type 0: [] -> []
            0x03, 0x02, 0x01, 0x00, // function 0 of type 0
            0x07, 0x08, 0x01, 0x04, b's', b'p', b'i', b'n', 0x00, 0x00, // export "spin"
            0x0a, 0x09, 0x01, 0x07, 0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b, // loop br 0
        ];
        let module = wasmtime::Module::new(engine, SPIN).expect("module");
        let mut store = Store::new(engine, ());
        store.set_epoch_deadline(1);
        store.epoch_deadline_trap();
        let instance = wasmtime::Instance::new(&mut store, &module, &[]).expect("instance");
        let spin = instance
            .get_typed_func::<(), ()>(&mut store, "spin")
            .expect("spin");
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = done.send(spin.call(&mut store, ()).is_err());
        });
        finished.recv_timeout(wait).unwrap_or(false)
    }

    #[test]
    fn the_epoch_advances_while_a_store_holds_a_guard_and_the_count_follows_the_guards() {
        let engine = engine();
        let ticker = EpochTicker::start(&engine).expect("ticker");
        assert_eq!(ticker.guards(), 0);
        let first = ticker.ticking();
        let second = ticker.ticking();
        assert_eq!(ticker.guards(), 2);
        // A loop with no way out ends: the ticker interrupts it within a few ticks.
        assert!(
            epoch_moves_within(&engine, Duration::from_secs(5)),
            "a looping call was not interrupted while a store held a guard"
        );
        drop((first, second));
        assert_eq!(ticker.guards(), 0);
    }

    #[test]
    fn a_paused_guard_counts_for_nothing_until_it_resumes() {
        let engine = engine();
        let ticker = EpochTicker::start(&engine).expect("ticker");
        let mut guard = ticker.ticking();
        guard.pause();
        guard.pause();
        assert_eq!(ticker.guards(), 0, "paused twice, released once");
        guard.resume();
        guard.resume();
        assert_eq!(ticker.guards(), 1, "resumed twice, counted once");
        guard.pause();
        drop(guard);
        assert_eq!(ticker.guards(), 0, "a paused guard's drop releases nothing");
        let resumed = {
            let mut guard = ticker.ticking();
            guard.pause();
            guard.resume();
            guard
        };
        drop(resumed);
        assert_eq!(ticker.guards(), 0, "a resumed guard's drop releases it");
    }

    #[test]
    fn the_ticker_sleeps_while_no_store_exists_and_wakes_for_the_first() {
        let engine = engine();
        // Idle checks far apart: only the first guard's wake-up can start it in time.
        let ticker =
            EpochTicker::start_checking_every(&engine, Duration::from_secs(3600)).expect("ticker");
        // No guard: nothing advances the epoch, so a looping call is not interrupted.
        assert!(
            !epoch_moves_within(&engine, Duration::from_millis(300)),
            "the epoch advanced with no store alive"
        );
        // The first guard wakes it (the looping call of the first check still spins on its
        // own thread and ends now too).
        let _guard = ticker.ticking();
        assert!(epoch_moves_within(&engine, Duration::from_secs(5)));
    }

    #[test]
    fn the_ticker_ends_once_its_engine_is_dropped() {
        let engine = engine();
        let ticker = EpochTicker::start(&engine).expect("ticker");
        drop(engine);
        // The thread's own reference goes when it ends (within one idle check).
        let until = Instant::now() + Duration::from_secs(10);
        while Arc::strong_count(&ticker) > 1 {
            assert!(Instant::now() < until, "the ticker outlived its engine");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}
