//! Phase 6, vm: continuations (stack-switching proposal). Each continuation runs on a stack
//! of its own (mapped with a guard page below it, pooled and reused); a store's
//! [`Continuations`] holds them, the chain of those running, and the handler clauses each
//! `resume` installed. The libcalls on them are `libcalls/continuations.rs`.
//!
//! # References
//!
//! A continuation reference is `revision << 32 | (slot + 1) << 1 | 1` (0 is null; the low bit
//! set keeps it unlike a GC object's address, which the collector would follow): the slot of the
//! *bottom* fiber of a suspended chain (the one a `resume` resumes; `suspend` may capture
//! several fibers at once, up to the handler's) and that fiber's revision, bumped whenever
//! the reference is used, so a second use (one-shot) finds another revision and traps.
//!
//! # Switching
//!
//! A fiber that runs was entered by a `resume` (or `switch`) that saved its resumer's stack
//! pointer, stack limit and result buffer in the fiber; returning, suspending to a handler
//! or switching away restores what the handler's fiber holds. Values travel through the
//! resumer's buffer (results, suspension payloads) and through per-fiber buffers (arguments).

use crate::vm::arch::{frame_record, init_stack, switch_stacks, INIT_STACK_BYTES};
use crate::vm::vmcontext::{VMFuncRef, VMRuntimeLimits};

/// Stack kept free above a continuation stack's guard page for libcalls and host functions
/// at least; wasm code traps with a stack overflow before it would use it. Wasm may use at
/// most `Config::max_wasm_stack` of a continuation's stack, as of the host's, and everything
/// below that is left to the host functions it calls (as Wasmtime leaves the rest of an async
/// stack beyond `max_wasm_stack` to the host).
const HOST_RESERVE: usize = 64 << 10;
/// Most continuations (fresh or suspended) one store holds at once.
pub const MAX_CONTINUATIONS: usize = 10_000;

pub use crate::libcall::{
    HANDLER_SUSPEND, HANDLER_SWITCH, STATUS_CONSUMED, STATUS_RETURNED, STATUS_UNHANDLED,
};

/// A mapped stack: `size` usable bytes above a guard page.
pub struct FiberStack {
    base: usize,
    size: usize,
}

const PAGE: usize = 4096;

impl FiberStack {
    /// Maps a stack of `size` bytes (rounded up to pages) plus a guard page below it.
    fn new(size: usize) -> Option<FiberStack> {
        let size = size.checked_add(PAGE - 1)? & !(PAGE - 1);
        let total = size.checked_add(PAGE)?;
        // SAFETY: a fresh anonymous private mapping; nothing else refers to it.
        unsafe {
            let ptr = libc::mmap(
                std::ptr::null_mut(),
                total,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            );
            if ptr == libc::MAP_FAILED {
                return None;
            }
            let usable = (ptr as usize + PAGE) as *mut libc::c_void;
            if libc::mprotect(usable, size, libc::PROT_READ | libc::PROT_WRITE) != 0 {
                libc::munmap(ptr, total);
                return None;
            }
            Some(FiberStack {
                base: ptr as usize,
                size,
            })
        }
    }

    /// The highest address (exclusive): where the stack starts growing down.
    fn top(&self) -> usize {
        self.base + PAGE + self.size
    }

    /// The lowest address wasm may use (compiled prologues check against it): `max_wasm`
    /// bytes below the top, keeping at least the host reserve above the guard page.
    fn limit(&self, max_wasm: usize) -> usize {
        let reserve = self.base + PAGE + HOST_RESERVE.min(self.size / 2);
        self.top().saturating_sub(max_wasm).max(reserve)
    }
}

impl Drop for FiberStack {
    fn drop(&mut self) {
        // SAFETY: the mapping was made by `FiberStack::new` and nothing runs on it any more
        // (stacks are dropped with their store, never while a continuation runs).
        unsafe {
            libc::munmap(self.base as *mut libc::c_void, self.size + PAGE);
        }
    }
}

/// What a fiber is doing.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    /// The slot is unused.
    Free,
    /// Made by `cont.new`, not started.
    Fresh,
    /// The bottom of a suspended chain (its reference is valid).
    Suspended,
    /// Running, or inside a suspended chain above its bottom, or waiting in a `resume`.
    Active,
}

/// One continuation stack and what it needs to run and return.
struct Fiber {
    state: State,
    revision: u32,
    stack: Option<FiberStack>,
    /// Saved stack pointer while not running.
    saved_sp: usize,
    /// The stack limit wasm has on this stack.
    limit: usize,
    /// For a suspended chain's bottom: the fiber whose suspension is waiting (the innermost).
    top: u32,
    /// The fiber that resumed this one (`None`: the stack of the host's entry into wasm).
    parent: Option<u32>,
    /// Saved by the `resume` that runs this fiber: the resumer's stack pointer and limit.
    resumer_sp: usize,
    resumer_limit: usize,
    /// The resumer's buffer: results and suspension payloads go there.
    buffer: *mut u128,
    /// The resumer's handler clauses, (store tag index, kind) each, in its frame (which
    /// lives as long as it waits for this fiber; read only while this fiber runs).
    handlers: *const [u32; 2],
    nhandlers: usize,
    /// Fresh: the function, its array-call trampoline and its parameter/result buffer.
    funcref: *const VMFuncRef,
    trampoline: usize,
    entry: Vec<u128>,
    results: usize,
    /// What `stack_start` calls: trampoline, vmctx, code, values.
    start: [usize; 4],
    /// Arguments given so far (`cont.bind`) for the next resumption.
    args: Vec<u128>,
    /// Where this fiber's wasm last called out to suspend or switch (return address, frame
    /// pointer): while its chain is suspended, the collector walks its frames from here.
    exit: (usize, usize),
}

impl Fiber {
    /// Records the resumer's frame (`[fp, pc]`) where this stack's first frame links to it.
    fn link_frame(&self, frame: [usize; 2]) {
        if let Some(stack) = &self.stack {
            // SAFETY: the record is two words at the top of this fiber's own mapped stack,
            // written only here and read by backtraces.
            unsafe { *frame_record(stack.top()) = frame };
        }
    }

    /// The resumer's frame this stack links to.
    fn linked_frame(&self) -> [usize; 2] {
        match &self.stack {
            // SAFETY: as in `link_frame`.
            Some(stack) => unsafe { *frame_record(stack.top()) },
            None => [0, 0],
        }
    }

    fn free() -> Fiber {
        Fiber {
            state: State::Free,
            revision: 1,
            stack: None,
            saved_sp: 0,
            limit: 0,
            top: 0,
            parent: None,
            resumer_sp: 0,
            resumer_limit: 0,
            buffer: std::ptr::null_mut(),
            handlers: std::ptr::null(),
            nhandlers: 0,
            funcref: std::ptr::null(),
            trampoline: 0,
            entry: Vec::new(),
            results: 0,
            start: [0; 4],
            args: Vec::new(),
            exit: (0, 0),
        }
    }
}

/// A store's continuations: fibers by slot, free slots and stacks, the running chain.
pub struct Continuations {
    fibers: Vec<Fiber>,
    free: Vec<u32>,
    pool: Vec<FiberStack>,
    live: usize,
    stack_size: usize,
    /// `Config::max_wasm_stack`: what wasm may use of each stack.
    max_wasm_stack: usize,
    /// The fiber running now (`None`: the host's entry stack).
    current: Option<u32>,
    /// The fiber the innermost host entry into wasm runs on: handlers are searched only in
    /// fibers resumed since then, so no suspension crosses a host frame.
    boundary: Option<u32>,
    /// Where the store's runtime limits are (for the stack limit and pending exception).
    limits: *mut VMRuntimeLimits,
}

/// The reference naming `slot` at `revision`.
fn contref(slot: u32, revision: u32) -> u64 {
    (revision as u64) << 32 | (slot as u64 + 1) << 1 | 1
}

/// Where a host entry into wasm found the continuations, to restore when it returns.
pub struct EntryMark {
    current: Option<u32>,
    boundary: Option<u32>,
}

impl Continuations {
    /// No continuations; new stacks will have `stack_size` bytes, of which wasm may use
    /// `max_wasm_stack` (the rest is for the host functions it calls).
    pub fn new(stack_size: usize, max_wasm_stack: usize) -> Continuations {
        Continuations {
            fibers: Vec::new(),
            free: Vec::new(),
            pool: Vec::new(),
            live: 0,
            stack_size,
            max_wasm_stack,
            current: None,
            boundary: None,
            limits: std::ptr::null_mut(),
        }
    }

    /// Where the wasm frames of every suspended chain start (return address, frame pointer
    /// of the chain's innermost fiber): the collector walks them from there.
    pub fn suspended_exits(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.fibers
            .iter()
            .filter(|f| f.state == State::Suspended)
            .map(|f| self.fibers[f.top as usize].exit)
    }

    /// Called when the host enters wasm: handlers of fibers running now are out of reach.
    pub fn enter(&mut self) -> EntryMark {
        let mark = EntryMark {
            current: self.current,
            boundary: self.boundary,
        };
        self.boundary = self.current;
        mark
    }

    /// Called when that entry returns. After a trap, the fibers that were running above the
    /// entry are dead: their stacks go back to the pool.
    pub fn leave(&mut self, mark: EntryMark, trapped: bool) {
        if trapped {
            while self.current != mark.current {
                let Some(id) = self.current else { break };
                self.current = self.fibers[id as usize].parent;
                self.release(id);
            }
        }
        self.current = mark.current;
        self.boundary = mark.boundary;
    }

    /// The fiber in `raw` if it is valid to resume, consuming the reference.
    fn take(&mut self, raw: u64) -> Option<u32> {
        let slot = ((raw as u32) >> 1).checked_sub(1)?;
        let revision = (raw >> 32) as u32;
        let fiber = self.fibers.get_mut(slot as usize)?;
        if fiber.revision != revision || !matches!(fiber.state, State::Fresh | State::Suspended) {
            return None;
        }
        fiber.revision = fiber.revision.wrapping_add(1).max(1);
        Some(slot)
    }

    /// Frees a fiber's slot and returns its stack to the pool.
    fn release(&mut self, id: u32) {
        let fiber = &mut self.fibers[id as usize];
        fiber.state = State::Free;
        fiber.revision = fiber.revision.wrapping_add(1).max(1);
        fiber.nhandlers = 0;
        fiber.args.clear();
        fiber.entry.clear();
        if let Some(stack) = fiber.stack.take() {
            self.pool.push(stack);
        }
        self.free.push(id);
        self.live -= 1;
    }

    /// `cont.new`: a fresh continuation calling `funcref` through `trampoline`, with
    /// `params` parameters and `results` results. `None` if no stack is available.
    pub fn new_fiber(
        &mut self,
        limits: *mut VMRuntimeLimits,
        funcref: *const VMFuncRef,
        trampoline: usize,
        params: usize,
        results: usize,
    ) -> Option<u64> {
        if self.live >= MAX_CONTINUATIONS {
            return None;
        }
        self.limits = limits;
        let stack = match self.pool.pop() {
            Some(stack) => stack,
            None => FiberStack::new(self.stack_size.max(2 * HOST_RESERVE))?,
        };
        let id = match self.free.pop() {
            Some(id) => id,
            None => {
                self.fibers.push(Fiber::free());
                self.fibers.len() as u32 - 1
            }
        };
        self.live += 1;
        let this = self as *mut Continuations as usize;
        // SAFETY: the stack is mapped and unused, and `INIT_STACK_BYTES` fit in it.
        let sp = unsafe { init_stack(stack.top(), fiber_begin, fiber_end, this) };
        debug_assert!(stack.size > INIT_STACK_BYTES);
        let fiber = &mut self.fibers[id as usize];
        fiber.state = State::Fresh;
        fiber.limit = stack.limit(self.max_wasm_stack);
        fiber.stack = Some(stack);
        fiber.saved_sp = sp;
        fiber.top = id;
        fiber.parent = None;
        fiber.funcref = funcref;
        fiber.trampoline = trampoline;
        fiber.entry.clear();
        fiber.entry.resize(params.max(results).max(1), 0);
        fiber.results = results;
        fiber.args.clear();
        Some(contref(id, fiber.revision))
    }

    /// `cont.bind`: a new reference to the continuation `raw` with `args` given first.
    /// `None` if `raw` was used already.
    pub fn bind(&mut self, raw: u64, args: &[u128]) -> Option<u64> {
        let id = self.take(raw)?;
        let fiber = &self.fibers[id as usize];
        let top = fiber.top as usize;
        self.fibers[top].args.extend_from_slice(args);
        let fiber = &self.fibers[id as usize];
        Some(contref(id, fiber.revision))
    }

    /// Consumes `raw` for `resume_throw` of a fresh continuation, which then never runs;
    /// returns whether it was valid, and whether it was fresh.
    pub fn take_for_throw(&mut self, raw: u64) -> Option<(u32, bool)> {
        let id = self.take(raw)?;
        let fresh = self.fibers[id as usize].state == State::Fresh;
        if fresh {
            self.release(id);
        }
        Some((id, fresh))
    }

    /// Consumes `raw` for a `resume`: the fiber, or `None` if it was used already.
    pub fn take_for_resume(&mut self, raw: u64) -> Option<u32> {
        self.take(raw)
    }

    /// Finds the innermost handler clause of kind `kind` for store tag `tag` among the running
    /// fibers above the host's entry: the fiber holding it and the clause's index.
    fn find_handler(&self, tag: u32, kind: u32) -> Option<(u32, usize)> {
        let mut f = self.current;
        while let Some(id) = f {
            if Some(id) == self.boundary {
                break;
            }
            let fiber = &self.fibers[id as usize];
            // SAFETY: a running fiber's clauses are in its resumer's frame, which waits.
            let clauses = unsafe { std::slice::from_raw_parts(fiber.handlers, fiber.nhandlers) };
            if let Some(k) = clauses.iter().position(|h| *h == [tag, kind]) {
                return Some((id, k));
            }
            f = fiber.parent;
        }
        None
    }
}

// SAFETY: the raw pointers (runtime limits, funcrefs, resumer buffers) point into the store
// that owns these continuations, and the stacks are private mappings; nothing is tied to a
// thread between host calls (no continuation runs then).
unsafe impl Send for Continuations {}

/// A running continuation's `resume` (or `resume_throw`, or a `switch` into it): installs
/// `handlers`, the resumer's buffer and its stack, then runs the chain `id` names until it
/// returns or suspends to one of the resumer's handlers. With `args`, those values follow
/// the ones `cont.bind` gave; without (`resume_throw`), an exception is already pending and
/// the continuation sees it at its suspension point.
///
/// # Safety
/// `conts` is the running store's, `id` came from `take_for_resume`, `buffer` has room for
/// the results and each handler's payload and reference (the `args`, if given, are read from
/// its start before anything is written), `handlers` points to `nhandlers` clauses in the
/// resumer's frame, `limits` holds the resumer's exit (the libcall was entered through its
/// exit shim), and only compiled wasm code and libcalls without destructors run between the
/// entry into wasm and here.
#[inline(always)]
pub unsafe fn resume(
    conts: *mut Continuations,
    limits: *mut VMRuntimeLimits,
    id: u32,
    buffer: *mut u128,
    args: Option<usize>,
    handlers: *const u64,
    nhandlers: usize,
) -> u32 {
    // SAFETY: per the contract; no reference into `conts` is held across the switch.
    unsafe {
        let c = &mut *conts;
        c.limits = limits;
        let parent = c.current;
        let fiber = &mut c.fibers[id as usize];
        fiber.handlers = handlers as *const [u32; 2];
        fiber.nhandlers = nhandlers;
        // The resumer's exact exit (its `resume` call site, recorded by the libcall's exit
        // shim): backtraces and the collector's frame walk continue there.
        fiber.link_frame([(*limits).last_wasm_exit_fp, (*limits).last_wasm_exit_pc]);
        fiber.buffer = buffer;
        fiber.parent = parent;
        fiber.resumer_limit = (*limits).stack_limit;
        let fresh = fiber.state == State::Fresh;
        fiber.state = State::Active;
        let top = fiber.top as usize;
        let value = {
            let t = &mut c.fibers[top];
            let given: &[u128] = match args {
                Some(n) if n > 0 => std::slice::from_raw_parts(buffer, n),
                _ => &[],
            };
            if fresh {
                let start = t.args.len();
                let need = start + given.len();
                if t.entry.len() < need {
                    t.entry.resize(need, 0);
                }
                t.entry[..start].copy_from_slice(&t.args);
                t.entry[start..need].copy_from_slice(given);
                t.args.clear();
                t.entry.as_mut_ptr() as usize
            } else if args.is_some() {
                t.args.extend_from_slice(given);
                t.args.as_mut_ptr() as usize
            } else {
                0
            }
        };
        c.current = Some(top as u32);
        (*limits).stack_limit = c.fibers[top].limit;
        let to = c.fibers[top].saved_sp;
        let save = &mut c.fibers[id as usize].resumer_sp as *mut usize;
        switch_stacks(save, to, value) as u32
    }
}

/// `suspend`: hands `payload` to the innermost handler of store tag `tag` and waits to be
/// resumed; then copies the resumption's arguments to `results` (nothing if an exception
/// is pending instead). Returns [`STATUS_UNHANDLED`] without a handler.
///
/// # Safety
/// As [`resume`]; `buffer` is the suspending code's buffer, with `payload` values to read and
/// room for `count` results.
#[inline(always)]
pub unsafe fn suspend(
    conts: *mut Continuations,
    tag: u32,
    buffer: *mut u128,
    payload: usize,
    count: usize,
) -> u32 {
    // SAFETY: per the contract; no reference into `conts` is held across the switch.
    unsafe {
        let c = &mut *conts;
        let Some((h, clause)) = c.find_handler(tag, HANDLER_SUSPEND) else {
            return STATUS_UNHANDLED;
        };
        let current = c
            .current
            .expect("a handler was found, so a continuation runs");
        let handler = &mut c.fibers[h as usize];
        let out = handler.buffer;
        copy_values(buffer, out, payload);
        *out.add(payload) = contref(h, handler.revision) as u128;
        handler.state = State::Suspended;
        handler.top = current;
        // Detached from its resumer: the frame walk of the suspended chain stops here.
        handler.link_frame([0, 0]);
        let exit = ((*c.limits).last_wasm_exit_pc, (*c.limits).last_wasm_exit_fp);
        c.fibers[current as usize].exit = exit;
        let handler = &mut c.fibers[h as usize];
        let (to, parent, limit) = (handler.resumer_sp, handler.parent, handler.resumer_limit);
        c.current = parent;
        (*c.limits).stack_limit = limit;
        let save = &mut c.fibers[current as usize].saved_sp as *mut usize;
        let args = switch_stacks(save, to, clause + 1) as *mut u128;
        take_args(conts, current, args, buffer, count);
        STATUS_RETURNED
    }
}

/// After a suspended fiber is resumed with `args` (null: an exception is pending instead):
/// copies `count` of them to `results` and empties the fiber's argument buffer.
///
/// # Safety
/// `args` is null or the fiber's argument buffer with at least `count` values.
unsafe fn take_args(
    conts: *mut Continuations,
    id: u32,
    args: *mut u128,
    results: *mut u128,
    count: usize,
) {
    // SAFETY: per the contract.
    unsafe {
        if !args.is_null() {
            copy_values(args, results, count);
        }
        let fibers = &mut (*conts).fibers;
        fibers[id as usize].args.clear();
    }
}

/// Copies `n` values (usually a few: a plain loop, no `memcpy` call).
///
/// # Safety
/// `src` and `dst` hold `n` values each and do not overlap.
#[inline]
unsafe fn copy_values(src: *const u128, dst: *mut u128, n: usize) {
    for i in 0..n {
        // SAFETY: per the contract.
        unsafe { dst.add(i).write(src.add(i).read()) };
    }
}

/// `switch`: suspends the running chain up to the innermost `(on $tag switch)` handler and
/// runs the continuation `target` in its place, giving it `args` and a reference to the
/// suspended chain; when resumed, copies the arguments to `results`.
///
/// # Safety
/// As [`suspend`] (with `nargs` arguments in `buffer`); `target` came from `take_for_resume`.
#[inline(always)]
pub unsafe fn switch(
    conts: *mut Continuations,
    tag: u32,
    target: u32,
    buffer: *mut u128,
    nargs: usize,
    count: usize,
) -> u32 {
    // SAFETY: per the contract; no reference into `conts` is held across the switch.
    unsafe {
        let c = &mut *conts;
        let Some((h, _)) = c.find_handler(tag, HANDLER_SWITCH) else {
            return STATUS_UNHANDLED;
        };
        let current = c
            .current
            .expect("a handler was found, so a continuation runs");
        let handler = &mut c.fibers[h as usize];
        handler.state = State::Suspended;
        handler.top = current;
        let me = contref(h, handler.revision) as u128;
        let (handlers, nhandlers) = (handler.handlers, handler.nhandlers);
        let (resumer_buffer, parent) = (handler.buffer, handler.parent);
        let (resumer_sp, resumer_limit) = (handler.resumer_sp, handler.resumer_limit);
        let frame = handler.linked_frame();
        handler.link_frame([0, 0]);
        let exit = ((*c.limits).last_wasm_exit_pc, (*c.limits).last_wasm_exit_fp);
        c.fibers[current as usize].exit = exit;
        let t = &mut c.fibers[target as usize];
        t.link_frame(frame);
        t.handlers = handlers;
        t.nhandlers = nhandlers;
        t.buffer = resumer_buffer;
        t.parent = parent;
        t.resumer_sp = resumer_sp;
        t.resumer_limit = resumer_limit;
        let fresh = t.state == State::Fresh;
        t.state = State::Active;
        let top = t.top as usize;
        let value = {
            let tt = &mut c.fibers[top];
            tt.args
                .extend_from_slice(std::slice::from_raw_parts(buffer, nargs));
            tt.args.push(me);
            if fresh {
                let need = tt.args.len();
                if tt.entry.len() < need {
                    tt.entry.resize(need, 0);
                }
                tt.entry[..need].copy_from_slice(&tt.args);
                tt.args.clear();
                tt.entry.as_mut_ptr() as usize
            } else {
                tt.args.as_mut_ptr() as usize
            }
        };
        c.current = Some(top as u32);
        (*c.limits).stack_limit = c.fibers[top].limit;
        let to = c.fibers[top].saved_sp;
        let save = &mut c.fibers[current as usize].saved_sp as *mut usize;
        let args = switch_stacks(save, to, value) as *mut u128;
        take_args(conts, current, args, buffer, count);
        STATUS_RETURNED
    }
}

/// The start of a fresh stack (see `stack_start`): the fiber's function, its trampoline and
/// where its parameters are (`args`, its entry buffer).
///
/// # Safety
/// Only reached through `init_stack`/`switch_stacks`, with the store's `Continuations`.
unsafe extern "C" fn fiber_begin(conts: usize, args: usize) -> *const [usize; 4] {
    // SAFETY: the fiber being started is the current one; its funcref and trampoline were
    // checked by `cont.new`. `stack_start` reads `start` at once.
    unsafe {
        let c = &mut *(conts as *mut Continuations);
        let id = c.current.expect("a fresh fiber starts as the current one");
        let fiber = &mut c.fibers[id as usize];
        let f = &*fiber.funcref;
        fiber.start = [fiber.trampoline, f.vmctx as usize, f.code as usize, args];
        &fiber.start
    }
}

/// Ends the running continuation with the store's pending exception, which its function let
/// escape: the fiber is freed and its resumer's `resume` unwinds the exception on.
///
/// # Safety
/// Must run on the running fiber's stack (from the unwinder, which found the continuation's
/// first frame), with an exception pending; only frames without destructors to run may lie
/// on that stack above the caller.
pub unsafe fn exception_ends_fiber(conts: *mut Continuations) -> ! {
    // SAFETY: per the contract; `fiber_end` leaves the stack for good.
    unsafe { fiber_end(conts as usize) }
}

/// The end of a continuation's function: hands its results (or the pending exception) to
/// whoever resumes it now, and frees the fiber.
///
/// # Safety
/// Only reached from `stack_start` once the function returned.
unsafe extern "C" fn fiber_end(conts: usize) -> ! {
    // SAFETY: the finished fiber is the current one; its resumer's buffer has room for its
    // results.
    unsafe {
        let c = &mut *(conts as *mut Continuations);
        let id = c.current.expect("a finished fiber is the current one");
        let fiber = &c.fibers[id as usize];
        let limits = c.limits;
        if (*limits).pending_exception == 0 {
            std::ptr::copy_nonoverlapping(fiber.entry.as_ptr(), fiber.buffer, fiber.results);
        }
        let (to, parent, limit) = (fiber.resumer_sp, fiber.parent, fiber.resumer_limit);
        c.current = parent;
        (*limits).stack_limit = limit;
        // Running on this stack while its fiber is released is fine: nothing reuses it
        // before the switch below, which leaves it for good.
        c.release(id);
        let mut dead = 0usize;
        switch_stacks(&mut dead, to, STATUS_RETURNED as usize);
        unreachable!("a finished continuation is never switched back to");
    }
}
