//! Clocks: the engine asks a clock for the time and waits on it, so tests can drive time.

use std::fmt::Debug;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Time as the engine sees it, in milliseconds since the Unix epoch.
///
/// The engine never reads the time or sleeps by itself: it goes through the query's
/// clock. [`SystemClock`] is the real one; [`ManualClock`] only moves when a test moves
/// it, which makes every time-dependent test deterministic.
pub trait Clock: Send + Sync + Debug {
    /// The current time in milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;

    /// Blocks until `now_ms() >= target_ms` or `cancelled()` returns true (checked
    /// whenever [`Clock::wake`] is called). Returns the time when it returned.
    fn wait_till(&self, target_ms: i64, cancelled: &dyn Fn() -> bool) -> i64;

    /// Wakes every thread in [`Clock::wait_till`] so it checks its cancellation again.
    fn wake(&self);
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The wall clock.
///
/// ```
/// use stream_core::{Clock, SystemClock};
/// let c = SystemClock::new();
/// assert!(c.now_ms() > 1_600_000_000_000);
/// ```
#[derive(Debug, Default)]
pub struct SystemClock {
    wakeups: Mutex<u64>,
    cond: Condvar,
}

impl SystemClock {
    /// A new wall clock.
    pub fn new() -> Self {
        Self::default()
    }
}

fn system_now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        system_now_ms()
    }

    fn wait_till(&self, target_ms: i64, cancelled: &dyn Fn() -> bool) -> i64 {
        let mut guard = lock(&self.wakeups);
        loop {
            let now = self.now_ms();
            if now >= target_ms || cancelled() {
                return now;
            }
            let remaining = Duration::from_millis(u64::try_from(target_ms - now).unwrap_or(0));
            let deadline = Instant::now() + remaining;
            let (g, _) = self
                .cond
                .wait_timeout(guard, deadline.saturating_duration_since(Instant::now()))
                .unwrap_or_else(|p| p.into_inner());
            guard = g;
        }
    }

    fn wake(&self) {
        *lock(&self.wakeups) += 1;
        self.cond.notify_all();
    }
}

#[derive(Debug, Default)]
struct ManualState {
    now_ms: i64,
    /// Deadlines of the threads blocked in `wait_till`.
    waiting: Vec<i64>,
}

/// A clock that moves only when told to; cheap to clone (clones share the time).
///
/// Tests start a query with a manual clock, then [`ManualClock::advance`] it and use
/// [`ManualClock::wait_for_sleeper`] to know that the engine has finished reacting and is
/// blocked until a later time.
///
/// ```
/// use stream_core::{Clock, ManualClock};
/// let c = ManualClock::new(1_000);
/// c.advance(500);
/// assert_eq!(c.now_ms(), 1_500);
/// // a wait for a time already reached returns at once
/// assert_eq!(c.wait_till(1_200, &|| false), 1_500);
/// ```
#[derive(Clone, Debug, Default)]
pub struct ManualClock {
    inner: Arc<(Mutex<ManualState>, Condvar)>,
}

impl ManualClock {
    /// A manual clock reading `start_ms`.
    pub fn new(start_ms: i64) -> Self {
        let clock = ManualClock::default();
        lock(&clock.inner.0).now_ms = start_ms;
        clock
    }

    /// Moves the time forward by `ms` and wakes waiters whose deadline has come.
    pub fn advance(&self, ms: i64) {
        let (m, c) = &*self.inner;
        lock(m).now_ms += ms;
        c.notify_all();
    }

    /// Sets the time (it may not go backwards: a smaller value is ignored).
    pub fn set(&self, ms: i64) {
        let (m, c) = &*self.inner;
        let mut s = lock(m);
        s.now_ms = s.now_ms.max(ms);
        c.notify_all();
    }

    /// Blocks until some thread waits on this clock for a time after now, that is,
    /// until the engine has done everything it can at the current time. Returns false
    /// if that did not happen within `timeout` of real time (a safety net for a
    /// broken test, not a way to pace one).
    pub fn wait_for_sleeper(&self, timeout: Duration) -> bool {
        let (m, c) = &*self.inner;
        let deadline = Instant::now() + timeout;
        let mut s = lock(m);
        loop {
            let now = s.now_ms;
            if s.waiting.iter().any(|&t| t > now) {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            s = c.wait_timeout(s, left).unwrap_or_else(|p| p.into_inner()).0;
        }
    }

    /// The deadline the engine is currently blocked on, if any.
    pub fn sleeping_until(&self) -> Option<i64> {
        let s = lock(&self.inner.0);
        s.waiting.iter().copied().filter(|&t| t > s.now_ms).min()
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        lock(&self.inner.0).now_ms
    }

    fn wait_till(&self, target_ms: i64, cancelled: &dyn Fn() -> bool) -> i64 {
        let (m, c) = &*self.inner;
        let mut s = lock(m);
        s.waiting.push(target_ms);
        c.notify_all();
        while s.now_ms < target_ms && !cancelled() {
            s = c.wait(s).unwrap_or_else(|p| p.into_inner());
        }
        if let Some(i) = s.waiting.iter().position(|&t| t == target_ms) {
            s.waiting.swap_remove(i);
        }
        c.notify_all();
        s.now_ms
    }

    fn wake(&self) {
        self.inner.1.notify_all();
    }
}
