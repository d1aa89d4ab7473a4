//! Giving memory back to the system after a burst.
//!
//! mimalloc purges freed pages lazily, during later allocations and frees on the same thread.
//! A server whose handler built a 1.5 GB list and then went idle would keep that memory
//! resident for good: `process_resident_memory_bytes` and the container's memory limit would see
//! the peak. The runtime calls [`release`] on the interpreter thread while it is idle (see
//! `cn_runtime::tasks::memory`).

/// Returns the interpreter thread's freed pages to the system.
pub fn release() {
    // SAFETY: `mi_collect` takes no pointers and only walks mimalloc's own structures for the
    // calling thread; mimalloc is the global allocator, so they exist and are consistent
    // whenever Rust code runs.
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_collect(true)
    };
}
