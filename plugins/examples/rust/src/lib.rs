//! Reference policy "risk-based", in Rust: a sign-in that looks unusual needs a second
//! factor; an ordinary one keeps the static policy (global, group and app settings).
//!
//! Unusual means any of the risk signals Portcullis computes: a device (browser) this user
//! has not signed in from, an IP address not seen for this user in the last 90 days, a
//! password changed in the last 24 hours, or three or more failed attempts in the last
//! hour. An unusual sign-in may not skip the challenge on a trusted device either.
//!
//! It decides exactly as `../js/risk-based.js` does, so the two can be compared (and are, by
//! Portcullis's plugin benchmark).

wit_bindgen::generate!({
    world: "selector",
    path: "../../wit/1.0.0",
});

use portcullis::mfa::host;
use portcullis::mfa::types::Policy;

const FAILED_ATTEMPTS_LIMIT: u32 = 3;

struct RiskBased;

impl Guest for RiskBased {
    fn evaluate(ctx: LoginContext) -> Result<Decision, String> {
        let s = &ctx.signals;
        let mut risks: Vec<String> = Vec::new();
        if s.new_device {
            risks.push("new device".into());
        }
        if s.new_ip {
            risks.push("new IP address".into());
        }
        if s.password_changed_recently {
            risks.push("password changed recently".into());
        }
        if s.recent_failed_attempts >= FAILED_ATTEMPTS_LIMIT {
            risks.push(format!("{} failed attempts in the last hour", s.recent_failed_attempts));
        }
        if risks.is_empty() {
            return Ok(decision(ctx.static_policy, None, "no risk signal".into()));
        }
        let reason = format!("risk: {}", risks.join(", "));
        host::log(&format!("{}: {reason}", ctx.user.username));
        Ok(decision(stronger(ctx.static_policy, Policy::Any), Some(false), reason))
    }
}

/// A decision that sets the policy, optionally vetoes the trusted-device skip, and gives a
/// reason; every other field is "no opinion".
fn decision(policy: Policy, allow_trusted_device: Option<bool>, reason: String) -> Decision {
    Decision {
        policy,
        allowed_factors: None,
        reauth_interval_minutes: None,
        allow_trusted_device,
        deny: None,
        reason: Some(reason),
    }
}

/// The stronger of two policies (Portcullis applies this floor rule anyway; applying it here
/// keeps the recorded decision honest about what will happen).
fn stronger(a: Policy, b: Policy) -> Policy {
    let rank = |p: Policy| match p {
        Policy::Disabled => 0,
        Policy::Optional => 1,
        Policy::Any => 2,
        Policy::Otp => 3,
        Policy::Passkey => 4,
    };
    if rank(a) >= rank(b) { a } else { b }
}

export!(RiskBased);

/// Memory. Every evaluation runs in a fresh instance that is discarded afterwards, so nothing
/// needs to be freed: allocations are carved from a fixed arena inside the module's initial
/// memory. Linear memory then never grows during an evaluation, which spares the host a
/// page-protection change (and a TLB flush) each time it reuses the instance's slot. Should
/// the arena run out, the standard allocator takes over.
mod arena {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::UnsafeCell;
    use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

    const SIZE: usize = 256 * 1024;

    #[repr(C, align(16))]
    struct Bytes(UnsafeCell<[u8; SIZE]>);
    // SAFETY: a component instance runs on one thread; the offset below hands out each byte once.
    unsafe impl Sync for Bytes {}

    static BYTES: Bytes = Bytes(UnsafeCell::new([0; SIZE]));
    /// Offset of the first free byte.
    static NEXT: AtomicUsize = AtomicUsize::new(0);

    pub struct Arena;

    fn base() -> usize {
        BYTES.0.get() as usize
    }

    fn owns(ptr: *mut u8) -> bool {
        (base()..base() + SIZE).contains(&(ptr as usize))
    }

    /// Whether `ptr..ptr+size` is the most recent allocation (which can grow or be given back).
    fn is_last(ptr: *mut u8, size: usize) -> bool {
        ptr as usize + size == base() + NEXT.load(Relaxed)
    }

    unsafe impl GlobalAlloc for Arena {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let start = (base() + NEXT.load(Relaxed)).next_multiple_of(layout.align()) - base();
            match start.checked_add(layout.size()) {
                Some(end) if end <= SIZE => {
                    NEXT.store(end, Relaxed);
                    (base() + start) as *mut u8
                }
                // SAFETY: forwarded with the caller's layout.
                _ => unsafe { System.alloc(layout) },
            }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            if !owns(ptr) {
                // SAFETY: it came from `System.alloc` with this layout.
                unsafe { System.dealloc(ptr, layout) }
            } else if is_last(ptr, layout.size()) {
                NEXT.store(ptr as usize - base(), Relaxed);
            }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            // The last allocation grows or shrinks in place (a Vec or String being built).
            if owns(ptr) && is_last(ptr, layout.size()) && ptr as usize - base() + new_size <= SIZE {
                NEXT.store(ptr as usize - base() + new_size, Relaxed);
                return ptr;
            }
            // SAFETY: the caller guarantees a valid layout for `new_size` with this alignment.
            let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
            // SAFETY: as for `alloc`; the old block is valid for `layout.size()` bytes.
            unsafe {
                let new = self.alloc(new_layout);
                if !new.is_null() {
                    std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                    self.dealloc(ptr, layout);
                }
                new
            }
        }
    }
}

#[global_allocator]
static ALLOCATOR: arena::Arena = arena::Arena;
