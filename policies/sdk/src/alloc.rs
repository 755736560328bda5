//! The memory allocator of policies on wasm32: a bump allocator.
//!
//! Counsel runs every evaluation in a fresh instance and throws it away
//! afterwards, so a policy never needs to give memory back: allocating is
//! moving a pointer, freeing is nothing. Building the JSON tree of a request
//! is allocation-heavy, and this makes it markedly faster than the default
//! allocator. The engine's memory limit still bounds what a policy can take.

use core::alloc::{GlobalAlloc, Layout};
use core::arch::wasm32;
use core::cell::Cell;

unsafe extern "C" {
    /// The first byte after the stack and static data (set by wasm-ld).
    static __heap_base: u8;
}

/// WebAssembly page size.
const PAGE: usize = 64 * 1024;
/// Memory is grown at least this many pages at a time, because every grow
/// is a call out to the engine.
const MIN_GROW_PAGES: usize = 16;

/// Hands out memory from the linker's heap start (`__heap_base`, after the
/// stack and static data), growing linear memory only when that runs out.
/// `policies/build.sh` links policies with an initial memory large enough
/// for a typical evaluation, so memory rarely grows: growing it makes the
/// engine change page protections, on every evaluation that does.
pub struct BumpAllocator {
    /// The next free byte; 0 until the first allocation.
    next: Cell<usize>,
    /// The end of linear memory.
    end: Cell<usize>,
}

// SAFETY: policies are single-threaded wasm32 modules; nothing can reach the
// allocator from two threads.
unsafe impl Sync for BumpAllocator {}

impl BumpAllocator {
    /// An allocator that starts at the heap start on first use.
    pub const fn new() -> BumpAllocator {
        BumpAllocator {
            next: Cell::new(0),
            end: Cell::new(0),
        }
    }

    /// Reserves `layout`, growing memory when it does not fit.
    fn bump(&self, layout: Layout) -> Option<usize> {
        if self.end.get() == 0 {
            // Only the address of the symbol wasm-ld defines is taken.
            let base = core::ptr::addr_of!(__heap_base) as usize;
            self.next.set(base);
            self.end.set(wasm32::memory_size(0) * PAGE);
        }
        let start = self.next.get().checked_add(layout.align() - 1)? & !(layout.align() - 1);
        let next = start.checked_add(layout.size())?;
        if next > self.end.get() {
            let pages = (next - self.end.get()).div_ceil(PAGE).max(MIN_GROW_PAGES);
            if wasm32::memory_grow(0, pages) == usize::MAX {
                return None;
            }
            self.end.set(self.end.get() + pages * PAGE);
        }
        self.next.set(next);
        Some(start)
    }
}

impl Default for BumpAllocator {
    fn default() -> Self {
        Self::new()
    }
}

unsafe impl GlobalAlloc for BumpAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.bump(layout)
            .map_or(core::ptr::null_mut(), |at| at as *mut u8)
    }

    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Growing the most recent allocation (a Vec or String being built)
        // extends it in place.
        let at = ptr as usize;
        let last = at + layout.size() == self.next.get();
        if new_size <= layout.size() {
            if last {
                self.next.set(at + new_size);
            }
            return ptr;
        }
        if last {
            let extra = Layout::from_size_align(new_size - layout.size(), 1).ok();
            if let Some(extra) = extra
                && self.bump(extra) == Some(at + layout.size())
            {
                return ptr;
            }
        }
        let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else {
            return core::ptr::null_mut();
        };
        // SAFETY: as GlobalAlloc::realloc requires, `ptr` holds
        // `layout.size()` bytes and the new block holds `new_size`.
        unsafe {
            let new = self.alloc(new_layout);
            if !new.is_null() {
                core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
            }
            new
        }
    }
}

#[global_allocator]
static ALLOCATOR: BumpAllocator = BumpAllocator::new();
