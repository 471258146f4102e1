//! sigaudit: parse the command line and dispatch; every command's life is
//! in the library (`sigaudit::app`).

use std::process::ExitCode;

/// Counts each thread's live heap bytes, so a unit of work over its
/// memory budget is noticed (sigaudit::budget).
#[global_allocator]
static ALLOCATOR: sigaudit::Counting = sigaudit::Counting;

fn main() -> ExitCode {
    grow_heap_in_large_steps();
    sigaudit::main()
}

/// Every scan thread allocates; glibc grows each thread's heap 128 KiB at a
/// time (an mprotect and fresh page faults each), thousands of times in a
/// rescan. 16 MiB steps cost only address space.
fn grow_heap_in_large_steps() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator tunable; called before any
    // other thread exists.
    unsafe {
        libc::mallopt(libc::M_TOP_PAD, 16 << 20);
    }
}
