//! The time and memory one unit of work may take (a file, a message of a
//! mailbox, an IMAP message): a hostile input must cost its own errors.csv
//! row, never the audit. Budgets are checked where the work is done: the
//! parsers' loops ask [`over`] and stop early, and whoever entered the
//! unit turns [`Unit::finish`]'s answer into a `limit` row. Nothing is
//! killed: a thread stopped in the middle could leave locks or pools
//! broken.
//!
//! Memory is measured, not estimated: the binary installs [`Counting`] as
//! its allocator, which keeps a per-thread count of live heap bytes. A
//! unit's use is the growth of its thread's count since the unit began,
//! plus what [`reserve`] was asked for up front (a size read from the
//! input, before allocating it). Work that a library hands to other
//! threads is not seen; sigaudit's own extraction is single-threaded per
//! unit.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::{Duration, Instant};

/// What one unit may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnitBudget {
    pub time: Duration,
    /// Bytes of heap one unit may hold, its file's own bytes included.
    pub memory: u64,
}

impl Default for UnitBudget {
    fn default() -> Self {
        UnitBudget { time: Duration::from_secs(30), memory: 256 << 20 }
    }
}

/// Which budget a unit went over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OverBudget {
    #[error(
        "took longer than the {} s one unit may take (--unit-time): not read further",
        .0.as_secs_f64()
    )]
    Time(Duration),
    #[error(
        "needs more than the {} one unit may use (--unit-memory): not read further",
        bytes(*.0)
    )]
    Memory(u64),
}

/// `256 MiB`, or `200000 bytes` when not a whole number of MiB.
fn bytes(n: u64) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else {
        format!("{n} bytes")
    }
}

/// The heap allocator with a per-thread count of live bytes. Installed by
/// the binary (`#[global_allocator]`); without it every count stays zero
/// and only time and `reserve` are enforced.
pub struct Counting;

/// A thread's meter before any unit: counting, with no ceiling.
const IDLE_METER: Meter = Meter { live: 0, ceiling: i64::MAX, tripped: false };

thread_local! {
    static METER: Cell<Meter> = const { Cell::new(IDLE_METER) };
    static ACTIVE: Cell<Option<Active>> = const { Cell::new(None) };
}

/// This thread's heap count, and the level at which the current unit
/// goes over its memory budget. The peak is what counts: a unit that
/// briefly held too much is over even if it freed it since.
#[derive(Debug, Clone, Copy)]
struct Meter {
    /// Heap bytes allocated minus bytes freed on this thread (a buffer
    /// freed on another thread leaves this count high: units measure
    /// growth, so drift from before a unit starts does not count).
    live: i64,
    ceiling: i64,
    tripped: bool,
}

// SAFETY: every call forwards to `System` with the same arguments; the
// count is a thread-local integer that never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as i64);
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as i64);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as i64));
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size as i64 - layout.size() as i64);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

fn count(delta: i64) {
    // `try_with`: the count is gone while the thread itself is torn down.
    let _ = METER.try_with(|m| {
        let mut v = m.get();
        v.live += delta;
        v.tripped |= v.live > v.ceiling;
        m.set(v);
    });
}

fn meter() -> Meter {
    METER.try_with(Cell::get).unwrap_or(Meter { live: 0, ceiling: i64::MAX, tripped: false })
}

fn set_meter(ceiling: i64, tripped: bool) {
    let _ = METER.try_with(|m| m.set(Meter { ceiling, tripped, ..m.get() }));
}

#[derive(Debug, Clone, Copy)]
struct Active {
    deadline: Instant,
    time: Duration,
    /// The thread's live bytes when the unit began.
    base: i64,
    memory: u64,
    over: Option<OverBudget>,
}

/// One unit of work on this thread, from [`Unit::enter`] to [`Unit::finish`]
/// (or drop). Units nest: an inner unit (a message inside a mailbox file
/// inside an archive) ends no later and uses no more than its outer one.
#[must_use = "a unit's budget holds until finish() or drop"]
pub(crate) struct Unit {
    outer: Option<Active>,
    /// The memory meter's ceiling and state before this unit set its own.
    saved_meter: Option<(i64, bool)>,
}

impl Unit {
    /// Starts a unit here; inside another unit it only narrows that one
    /// (its time; memory stays the outer unit's).
    #[cfg(test)]
    pub(crate) fn enter(budget: UnitBudget) -> Unit {
        let outer = ACTIVE.get();
        let deadline = Instant::now() + budget.time;
        match outer {
            Some(o) => {
                ACTIVE.set(Some(if o.deadline <= deadline {
                    o
                } else {
                    Active { deadline, time: budget.time, ..o }
                }));
                Unit { outer, saved_meter: None }
            }
            None => Unit { outer, saved_meter: Some(start(budget, deadline)) },
        }
    }

    /// Starts a unit that owes nothing to what runs below it on this
    /// thread (a top-level file: a worker waiting inside one file's
    /// parallel library call may pick up another file).
    pub(crate) fn enter_alone(budget: UnitBudget) -> Unit {
        let outer = ACTIVE.get();
        Unit { outer, saved_meter: Some(start(budget, Instant::now() + budget.time)) }
    }

    /// [`Unit::enter_alone`] for a unit whose input, `held` bytes, was
    /// read on another thread and handed to this one: those bytes count as
    /// this unit's, as if it had allocated them.
    pub(crate) fn enter_alone_holding(budget: UnitBudget, held: u64) -> Unit {
        let outer = ACTIVE.get();
        let held = held.min(i64::MAX as u64) as i64;
        let saved = start(budget, Instant::now() + budget.time);
        if let Some(mut a) = ACTIVE.get() {
            a.base = a.base.saturating_sub(held);
            ACTIVE.set(Some(a));
            let m = meter();
            set_meter(m.ceiling.saturating_sub(held), m.tripped);
        }
        Unit { outer, saved_meter: Some(saved) }
    }

    /// Ends the unit: which budget it went over, if any.
    pub(crate) fn finish(self) -> Option<OverBudget> {
        let over = over_budget();
        drop(self);
        over
    }
}

/// A fresh unit with its own meter; returns the meter it replaces.
fn start(budget: UnitBudget, deadline: Instant) -> (i64, bool) {
    let m = meter();
    set_meter(m.live.saturating_add(budget.memory.min(i64::MAX as u64) as i64), false);
    ACTIVE.set(Some(Active {
        deadline,
        time: budget.time,
        base: m.live,
        memory: budget.memory,
        over: None,
    }));
    (m.ceiling, m.tripped)
}

impl Drop for Unit {
    fn drop(&mut self) {
        if let Some((ceiling, tripped)) = self.saved_meter {
            set_meter(ceiling, tripped);
        }
        // The outer unit is over only by its own limits: an inner unit's
        // narrower time is its own.
        ACTIVE.set(self.outer.map(|o| Active { over: o.over.or_else(|| check(o)), ..o }));
    }
}

fn check(a: Active) -> Option<OverBudget> {
    if meter().tripped {
        return Some(OverBudget::Memory(a.memory));
    }
    if Instant::now() > a.deadline {
        return Some(OverBudget::Time(a.time));
    }
    None
}

/// Is the current unit over its time or memory budget? Once over, it
/// stays over, so every loop of the unit stops. Cheap enough for a loop
/// that does real work per turn (a clock read and two thread-locals).
pub(crate) fn over() -> bool {
    over_budget().is_some()
}

/// The budget the current unit went over, if any.
pub(crate) fn over_budget() -> Option<OverBudget> {
    let mut a = ACTIVE.get()?;
    if a.over.is_none() {
        a.over = check(a);
        if a.over.is_some() {
            ACTIVE.set(Some(a));
        }
    }
    a.over
}

/// Asks for `bytes` the input says it needs before allocating them: an
/// error (and the unit over budget) when they would not fit.
pub(crate) fn reserve(bytes: u64) -> Result<(), OverBudget> {
    let Some(mut a) = ACTIVE.get() else { return Ok(()) };
    if let Some(over) = a.over {
        return Err(over);
    }
    let used = (meter().live - a.base).max(0) as u64;
    if used.saturating_add(bytes) > a.memory {
        a.over = Some(OverBudget::Memory(a.memory));
        ACTIVE.set(Some(a));
        return Err(OverBudget::Memory(a.memory));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // The library's own tests count too, as the binary does.
    #[global_allocator]
    static ALLOCATOR: Counting = Counting;

    #[test]
    fn a_peak_over_the_memory_budget_counts_even_when_freed() {
        let unit = Unit::enter(UnitBudget { time: Duration::from_secs(60), memory: 1 << 20 });
        let small = vec![1u8; 512 << 10];
        assert!(!over(), "half the budget is fine");
        drop(small);
        let big = vec![1u8; 2 << 20];
        drop(std::hint::black_box(big));
        assert!(over(), "the peak went over, though it is freed now");
        assert_eq!(unit.finish(), Some(OverBudget::Memory(1 << 20)));
        let next = Unit::enter(UnitBudget { time: Duration::from_secs(60), memory: 1 << 20 });
        assert_eq!(next.finish(), None, "the next unit starts afresh");
    }

    #[test]
    fn time_runs_out_and_stays_out() {
        let unit = Unit::enter(UnitBudget { time: Duration::from_millis(20), memory: u64::MAX });
        assert!(!over());
        std::thread::sleep(Duration::from_millis(30));
        assert!(over());
        assert_eq!(unit.finish(), Some(OverBudget::Time(Duration::from_millis(20))));
        assert!(!over(), "no unit is active any more");
    }

    #[test]
    fn reserving_more_than_the_memory_budget_is_refused() {
        let unit = Unit::enter(UnitBudget { time: Duration::from_secs(60), memory: 1 << 20 });
        assert!(reserve(512 << 10).is_ok());
        assert_eq!(reserve(2 << 20), Err(OverBudget::Memory(1 << 20)));
        assert!(over(), "a refused reservation ends the unit's work");
        assert_eq!(unit.finish(), Some(OverBudget::Memory(1 << 20)));
    }

    #[test]
    fn an_inner_unit_ends_no_later_than_its_outer_one() {
        let outer = Unit::enter(UnitBudget { time: Duration::from_millis(20), memory: u64::MAX });
        let inner = Unit::enter(UnitBudget { time: Duration::from_secs(60), memory: u64::MAX });
        std::thread::sleep(Duration::from_millis(30));
        assert!(matches!(inner.finish(), Some(OverBudget::Time(_))));
        assert!(
            matches!(outer.finish(), Some(OverBudget::Time(_))),
            "the outer unit's own time ran out"
        );
        let outer = Unit::enter(UnitBudget { time: Duration::from_secs(60), memory: u64::MAX });
        let inner = Unit::enter(UnitBudget { time: Duration::from_millis(10), memory: u64::MAX });
        std::thread::sleep(Duration::from_millis(20));
        assert!(inner.finish().is_some());
        assert_eq!(outer.finish(), None, "an inner unit's short budget is its own");
    }
}
