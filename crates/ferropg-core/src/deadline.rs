//! Request deadlines watched by one background thread.
//!
//! A timer in an asyncio loop is not free while it waits: the default loop computes
//! its select timeout from the timer heap on every iteration, which costs a query as
//! much as a tenth of its client CPU when every request carries a timeout (aiopg's
//! default is 60 s). Here a request's deadline is an atomic store; one thread per
//! process sleeps until the earliest deadline and then calls that deadline's `wake`,
//! which must be cheap and must not need the interpreter (the binding writes a byte
//! to a socket the event loop watches). Deadlines only move later in the common case
//! (one timeout, later requests), so the thread wakes about once per timeout period.

use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

/// No deadline, in a slot's `at`; "the thread is scanning", in `next_wake`.
const NONE: u64 = 0;
const SCANNING: u64 = u64::MAX;

/// One connection's deadline, registered with the watching thread while it lives.
pub struct Deadline {
    slot: Arc<Slot>,
    watch: Arc<Watch>,
}

struct Slot {
    /// Nanoseconds after `Watch::epoch` (plus one, so that zero means none).
    at: AtomicU64,
    wake: Box<dyn Fn() + Send + Sync>,
}

struct Watch {
    epoch: Instant,
    slots: Mutex<Vec<Weak<Slot>>>,
    changed: Condvar,
    /// When the thread will next look, or SCANNING while it looks: a deadline set
    /// earlier than this must wake it.
    next_wake: AtomicU64,
}

impl Deadline {
    /// A deadline that calls `wake` (from the watching thread) once it has passed.
    pub fn new(wake: impl Fn() + Send + Sync + 'static) -> std::io::Result<Deadline> {
        let watch = Watch::global()?;
        let slot = Arc::new(Slot {
            at: AtomicU64::new(NONE),
            wake: Box::new(wake),
        });
        watch.lock().push(Arc::downgrade(&slot));
        Ok(Deadline { slot, watch })
    }

    /// Wake at `at` (replacing any earlier setting).
    pub fn set(&self, at: Instant) {
        let at = self.watch.ticks(at);
        self.slot.at.store(at, SeqCst);
        if at < self.watch.next_wake.load(SeqCst) {
            // Taking the lock waits for a scan in progress to reach its wait, so the
            // notification cannot fall between the scan and the wait.
            let _slots = self.watch.lock();
            self.watch.changed.notify_one();
        }
    }

    /// No deadline until the next `set`.
    pub fn clear(&self) {
        self.slot.at.store(NONE, SeqCst);
    }
}

impl Watch {
    /// The process's watching thread, started on first use (again in a forked child,
    /// which inherits the memory but not the thread).
    fn global() -> std::io::Result<Arc<Watch>> {
        static GLOBAL: Mutex<Option<(u32, Arc<Watch>)>> = Mutex::new(None);
        let mut global = GLOBAL.lock().unwrap_or_else(|e| e.into_inner());
        let pid = std::process::id();
        if let Some((owner, watch)) = global.as_ref() {
            if *owner == pid {
                return Ok(watch.clone());
            }
        }
        let watch = Arc::new(Watch {
            epoch: Instant::now(),
            slots: Mutex::new(Vec::new()),
            changed: Condvar::new(),
            next_wake: AtomicU64::new(SCANNING),
        });
        let watching = watch.clone();
        std::thread::Builder::new()
            .name("ferropg-deadlines".into())
            .spawn(move || watching.run())?;
        *global = Some((pid, watch.clone()));
        Ok(watch)
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Weak<Slot>>> {
        // A panic cannot happen while the lock is held (no user code runs under it),
        // but a poisoned lock still guards a consistent list.
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn ticks(&self, at: Instant) -> u64 {
        let nanos = at.saturating_duration_since(self.epoch).as_nanos();
        u64::try_from(nanos)
            .unwrap_or(SCANNING - 1)
            .saturating_add(1)
            .min(SCANNING - 1)
    }

    fn run(&self) {
        let mut slots = self.lock();
        loop {
            self.next_wake.store(SCANNING, SeqCst);
            let now = self.ticks(Instant::now());
            let mut earliest = SCANNING;
            let mut due = Vec::new();
            slots.retain(|weak| {
                let Some(slot) = weak.upgrade() else {
                    return false; // its connection is gone
                };
                match slot.at.load(SeqCst) {
                    NONE => {}
                    // unless the owner moved the deadline meanwhile
                    at if at <= now => {
                        if slot.at.compare_exchange(at, NONE, SeqCst, SeqCst).is_ok() {
                            due.push(slot);
                        }
                    }
                    at => earliest = earliest.min(at),
                }
                true
            });
            if !due.is_empty() {
                drop(slots); // `wake` runs unlocked: setting a deadline needs the lock
                for slot in &due {
                    (slot.wake)();
                }
                drop(due);
                slots = self.lock();
                continue;
            }
            self.next_wake.store(earliest, SeqCst);
            slots = if earliest == SCANNING {
                self.changed.wait(slots).unwrap_or_else(|e| e.into_inner())
            } else {
                let sleep = Duration::from_nanos(earliest - now);
                self.changed
                    .wait_timeout(slots, sleep)
                    .unwrap_or_else(|e| e.into_inner())
                    .0
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    fn deadline() -> (Deadline, mpsc::Receiver<()>) {
        let (tx, rx) = mpsc::channel();
        let tx = Mutex::new(tx);
        let d = Deadline::new(move || {
            let _ = tx.lock().unwrap().send(());
        })
        .unwrap();
        (d, rx)
    }

    // Liveness bounds below are generous: they only catch a wake that never comes.
    const LONG: Duration = Duration::from_secs(10);

    #[test]
    fn wakes_once_the_deadline_passes() {
        let (d, rx) = deadline();
        let start = Instant::now();
        d.set(start + Duration::from_millis(30));
        rx.recv_timeout(LONG).expect("no wake");
        assert!(start.elapsed() >= Duration::from_millis(30));
        // once: the slot is cleared when it fires
        assert!(rx.recv_timeout(Duration::from_millis(100)).is_err());
    }

    #[test]
    fn a_cleared_deadline_does_not_wake() {
        let (d, rx) = deadline();
        d.set(Instant::now() + Duration::from_millis(20));
        d.clear();
        assert!(rx.recv_timeout(Duration::from_millis(200)).is_err());
    }

    #[test]
    fn moving_a_deadline_later_postpones_the_wake() {
        let (d, rx) = deadline();
        let start = Instant::now();
        d.set(start + Duration::from_millis(20));
        d.set(start + Duration::from_millis(150));
        rx.recv_timeout(LONG).expect("no wake");
        assert!(start.elapsed() >= Duration::from_millis(150));
    }

    #[test]
    fn an_earlier_deadline_wakes_a_sleeping_thread() {
        let (far, _far_rx) = deadline();
        far.set(Instant::now() + Duration::from_secs(3600));
        std::thread::sleep(Duration::from_millis(20)); // the thread now sleeps for an hour
        let (near, rx) = deadline();
        near.set(Instant::now() + Duration::from_millis(10));
        rx.recv_timeout(LONG).expect("the sleeping thread was not woken");
    }

    #[test]
    fn a_past_deadline_wakes_at_once() {
        let (d, rx) = deadline();
        d.set(Instant::now() - Duration::from_millis(5));
        rx.recv_timeout(LONG).expect("no wake");
    }

    #[test]
    fn a_dropped_deadline_is_forgotten() {
        let (d, rx) = deadline();
        d.set(Instant::now() + Duration::from_millis(20));
        drop(d);
        // its wake (holding the sender) went with it: nothing is delivered
        assert!(rx.recv_timeout(Duration::from_millis(200)).is_err());
    }

    #[test]
    fn many_deadlines_each_wake() {
        let pairs: Vec<_> = (0..50).map(|_| deadline()).collect();
        let start = Instant::now();
        for (i, (d, _)) in pairs.iter().enumerate() {
            d.set(start + Duration::from_millis((i as u64 * 7) % 60));
        }
        for (_, rx) in &pairs {
            rx.recv_timeout(LONG).expect("a deadline did not wake");
        }
    }
}
