//! The plugin's heap allocator (wasm only, the `allocator` feature): bump allocation for an
//! instance's first call, the standard allocator after.
//!
//! By default the host gives every call a fresh instance and throws it away afterwards, so
//! nothing a call frees is ever reused: `dlmalloc`'s free lists and headers are work for
//! nothing, and its bookkeeping dirties pages the host must then reset. So the first call of
//! an instance takes memory by bumping a pointer, and frees only what it frees last (a
//! temporary dropped right away, a `Vec` or `String` growing in place). The plugin needs no
//! knowledge of the isolation mode: an instance the host keeps (`instance = "warm"`) shows
//! itself by a second call, and from then on the standard allocator serves, as it does once a
//! call has bumped [`BUMP_LIMIT`] bytes (a call that churns memory must not run out of it
//! because nothing is reused). What was bumped is then never freed: at most one call's worth,
//! once per instance.

/// Bytes a call may bump before the standard allocator takes over.
pub(crate) const BUMP_LIMIT: usize = 1 << 20;

/// Bytes of memory taken from the host at a time (one wasm page at least).
pub(crate) const CHUNK: usize = 64 << 10;

/// The bump region: `[base, end)` taken from the host, `[base, next)` handed out.
#[derive(Debug, Default)]
pub(crate) struct Bump {
    base: usize,
    next: usize,
    end: usize,
    /// The standard allocator serves from now on.
    switched: bool,
}

impl Bump {
    /// Whether `ptr` was handed out by bumping (never given to the standard allocator).
    pub(crate) fn owns(&self, ptr: usize) -> bool {
        self.base <= ptr && ptr < self.end
    }

    /// Whether the standard allocator serves new allocations.
    pub(crate) fn switched(&self) -> bool {
        self.switched
    }

    /// Hands the rest of the instance's life to the standard allocator.
    pub(crate) fn switch(&mut self) {
        self.switched = true;
    }

    /// `size` bytes aligned to `align`, taking memory from `grow` (which returns the address
    /// of `bytes` new bytes) when the region is full; `None` once the call has bumped
    /// [`BUMP_LIMIT`] (the caller then switches) or the host refuses memory.
    pub(crate) fn alloc(
        &mut self,
        size: usize,
        align: usize,
        grow: impl FnOnce(usize) -> Option<usize>,
    ) -> Option<usize> {
        let start = self.next.checked_add(align - 1)? & !(align - 1);
        let stop = start.checked_add(size)?;
        if self.base != 0 && stop <= self.end {
            self.next = stop;
            return Some(start);
        }
        self.refill(size, align, grow)
    }

    fn refill(
        &mut self,
        size: usize,
        align: usize,
        grow: impl FnOnce(usize) -> Option<usize>,
    ) -> Option<usize> {
        let wanted = size
            .checked_add(align)?
            .div_ceil(CHUNK)
            .checked_mul(CHUNK)?;
        if self.end - self.base + wanted > BUMP_LIMIT {
            return None;
        }
        let fresh = grow(wanted)?;
        if self.base == 0 {
            self.base = fresh;
            self.next = fresh;
        } else if fresh != self.end {
            // Memory grown by someone else lies in between: the region cannot stay one range
            // (what `owns` relies on), so bumping ends here.
            return None;
        }
        self.end = fresh + wanted;
        let start = self.next.checked_add(align - 1)? & !(align - 1);
        self.next = start + size;
        Some(start)
    }

    /// Frees `[ptr, ptr + size)`: only the last allocation goes back.
    pub(crate) fn dealloc(&mut self, ptr: usize, size: usize) {
        if !self.switched && ptr.checked_add(size) == Some(self.next) {
            self.next = ptr;
        }
    }

    /// Grows the allocation at `ptr` from `old` to `new` bytes where it is, if it is the last
    /// one and the region has room.
    pub(crate) fn grow_in_place(&mut self, ptr: usize, old: usize, new: usize) -> bool {
        if self.switched || ptr.checked_add(old) != Some(self.next) {
            return false;
        }
        match ptr.checked_add(new) {
            Some(stop) if stop <= self.end => {
                self.next = stop;
                true
            }
            _ => false,
        }
    }
}

#[cfg(all(target_arch = "wasm32", feature = "allocator"))]
mod wasm {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::RefCell;

    use super::Bump;

    /// One thread, and no allocation while the state is borrowed: a plain cell suffices.
    struct State(RefCell<Bump>);

    // SAFETY: wasm32-unknown-unknown plugins run on one thread.
    #[allow(unsafe_code)]
    unsafe impl Sync for State {}

    static STATE: State = State(RefCell::new(Bump {
        base: 0,
        next: 0,
        end: 0,
        switched: false,
    }));
    static CALLS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

    /// The host's memory grown by `bytes` (whole pages): the address of the new bytes.
    fn grow(bytes: usize) -> Option<usize> {
        let page = 64 << 10;
        let previous = core::arch::wasm32::memory_grow(0, bytes / page);
        (previous != usize::MAX).then(|| previous * page)
    }

    /// An export of the plugin is entered: from its second on, the instance is kept between
    /// calls and the standard allocator serves.
    pub(crate) fn enter_call() {
        use std::sync::atomic::Ordering;
        if CALLS.fetch_add(1, Ordering::Relaxed) > 0 {
            STATE.0.borrow_mut().switch();
        }
    }

    struct FirstCallBump;

    #[global_allocator]
    static ALLOCATOR: FirstCallBump = FirstCallBump;

    // SAFETY: bumped blocks are disjoint ranges of memory taken from the host and never handed
    // out twice (only the last one goes back, to be handed out again); the rest is `System`'s.
    #[allow(unsafe_code)]
    unsafe impl GlobalAlloc for FirstCallBump {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            {
                let mut bump = STATE.0.borrow_mut();
                if !bump.switched() {
                    if let Some(ptr) = bump.alloc(layout.size(), layout.align(), grow) {
                        return ptr as *mut u8;
                    }
                    bump.switch();
                }
            }
            unsafe { System.alloc(layout) }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            {
                let mut bump = STATE.0.borrow_mut();
                if bump.owns(ptr as usize) {
                    bump.dealloc(ptr as usize, layout.size());
                    return;
                }
            }
            unsafe { System.dealloc(ptr, layout) }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            let owned = {
                let mut bump = STATE.0.borrow_mut();
                let owned = bump.owns(ptr as usize);
                if owned && bump.grow_in_place(ptr as usize, layout.size(), new_size) {
                    return ptr;
                }
                owned
            };
            if !owned {
                return unsafe { System.realloc(ptr, layout, new_size) };
            }
            // SAFETY: `new_size` with the old alignment is a valid layout (the caller's
            // contract for `realloc`).
            let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
            let moved = unsafe { self.alloc(new_layout) };
            if !moved.is_null() {
                unsafe {
                    std::ptr::copy_nonoverlapping(ptr, moved, layout.size().min(new_size));
                    self.dealloc(ptr, layout);
                }
            }
            moved
        }
    }
}

#[cfg(all(target_arch = "wasm32", feature = "allocator"))]
pub(crate) use wasm::enter_call;

/// Without the `allocator` feature the plugin's own (or the standard) allocator serves.
#[cfg(all(target_arch = "wasm32", not(feature = "allocator")))]
pub(crate) fn enter_call() {}

#[cfg(test)]
mod tests {
    use super::*;

    /// A host memory of `pages` 64 KiB pages already in use, grown by whole chunks.
    struct Memory(usize);

    impl Memory {
        fn grow(&mut self, bytes: usize) -> Option<usize> {
            let at = self.0;
            self.0 += bytes;
            Some(at)
        }
    }

    #[test]
    fn allocations_are_aligned_disjoint_and_taken_from_the_host_by_chunks() {
        let mut memory = Memory(17 * CHUNK);
        let mut bump = Bump::default();
        let a = bump.alloc(3, 1, |b| memory.grow(b)).expect("a");
        let b = bump.alloc(8, 8, |b| memory.grow(b)).expect("b");
        assert_eq!(a, 17 * CHUNK);
        assert_eq!(b % 8, 0);
        assert!(b >= a + 3);
        assert_eq!(memory.0, 18 * CHUNK, "one chunk for both");
        let big = bump.alloc(100_000, 16, |b| memory.grow(b)).expect("big");
        assert!(big >= b + 8 && big + 100_000 <= memory.0);
        assert!(bump.owns(a) && bump.owns(big) && !bump.owns(memory.0));
    }

    #[test]
    fn only_the_last_allocation_is_freed_or_grown_in_place() {
        let mut memory = Memory(CHUNK);
        let mut bump = Bump::default();
        let a = bump.alloc(16, 8, |b| memory.grow(b)).expect("a");
        let b = bump.alloc(16, 8, |b| memory.grow(b)).expect("b");
        bump.dealloc(a, 16);
        assert!(!bump.grow_in_place(a, 16, 32), "a is not the last");
        assert!(bump.grow_in_place(b, 16, 64));
        bump.dealloc(b, 64);
        assert_eq!(bump.alloc(8, 8, |b| memory.grow(b)), Some(b), "b went back");
    }

    #[test]
    fn past_the_limit_bumping_stops_so_the_standard_allocator_takes_over() {
        let mut memory = Memory(CHUNK);
        let mut bump = Bump::default();
        let mut bumped = 0;
        while let Some(ptr) = bump.alloc(1000, 8, |b| memory.grow(b)) {
            assert!(bump.owns(ptr));
            bumped += 1000;
        }
        assert!(bumped <= BUMP_LIMIT && bumped > BUMP_LIMIT - CHUNK);
        assert!(memory.0 - CHUNK <= BUMP_LIMIT, "took more than its limit");
    }

    #[test]
    fn once_switched_nothing_is_freed_into_the_bump_region() {
        let mut memory = Memory(CHUNK);
        let mut bump = Bump::default();
        let a = bump.alloc(16, 8, |b| memory.grow(b)).expect("a");
        bump.switch();
        bump.dealloc(a, 16);
        assert!(!bump.grow_in_place(a, 16, 32));
        assert!(bump.owns(a), "its pointers are still recognised as bumped");
    }

    #[test]
    fn a_host_that_refuses_memory_refuses_the_allocation() {
        let mut bump = Bump::default();
        assert_eq!(bump.alloc(16, 8, |_| None), None);
    }
}
