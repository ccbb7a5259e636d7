//! `poll_oneoff`: clock subscriptions sleep, descriptor subscriptions are ready at once
//! (regular files and standard streams never block for long; this is also what
//! Wasmtime reports for files).

use super::fd::Args;
use super::mem::{Mem, WasiResult};
use super::misc::{monotonic_now, realtime_now};
use super::state::{Desc, WasiState};
use super::types::*;

struct Event {
    userdata: u64,
    error: u16,
    kind: u8,
    nbytes: u64,
    flags: u16,
}

fn poll_impl(st: &mut WasiState, mem: &mut Mem, a: &Args, unstable: bool) -> WasiResult<()> {
    let (subs, events, n, out) = (a.u32(0), a.u32(1), a.u32(2), a.u32(3));
    if n == 0 {
        return Err(Errno::INVAL.into());
    }
    let sub_size: u32 = if unstable { 56 } else { SUBSCRIPTION_SIZE };
    mem.slice(subs, n.checked_mul(sub_size).ok_or(Errno::OVERFLOW)?)?;
    mem.slice(events, n.checked_mul(EVENT_SIZE).ok_or(Errno::OVERFLOW)?)?;

    // Per subscription: an event now, or a clock deadline (monotonic nanoseconds).
    let mut ready: Vec<Option<Event>> = Vec::with_capacity(n as usize);
    let mut deadlines: Vec<Option<(u64, u64)>> = Vec::with_capacity(n as usize);
    let mut any_fd = false;
    for i in 0..n {
        let s = subs + i * sub_size;
        let userdata = mem.read_u64(s)?;
        let tag = mem.read_u8(s + 8)?;
        match tag {
            EVENTTYPE_CLOCK => {
                let (id, timeout, flags) = if unstable {
                    (
                        mem.read_u32(s + 24)?,
                        mem.read_u64(s + 32)?,
                        mem.read_u16(s + 48)?,
                    )
                } else {
                    (
                        mem.read_u32(s + 16)?,
                        mem.read_u64(s + 24)?,
                        mem.read_u16(s + 40)?,
                    )
                };
                let absolute = flags & SUBCLOCKFLAGS_ABSTIME != 0;
                let now = monotonic_now(st);
                let deadline = match id {
                    CLOCKID_MONOTONIC if absolute => timeout,
                    CLOCKID_MONOTONIC | CLOCKID_REALTIME if !absolute => {
                        now.saturating_add(timeout)
                    }
                    CLOCKID_REALTIME => now.saturating_add(timeout.saturating_sub(realtime_now()?)),
                    _ => return Err(Errno::INVAL.into()),
                };
                ready.push(None);
                deadlines.push(Some((userdata, deadline)));
            }
            EVENTTYPE_FD_READ | EVENTTYPE_FD_WRITE => {
                let fd = mem.read_u32(s + 16)?;
                let (nbytes, flags) = match (tag, st.desc(fd)?) {
                    (EVENTTYPE_FD_READ, Desc::Stdin(_)) => (1, 0),
                    (EVENTTYPE_FD_READ, Desc::File(f)) => {
                        let size = f.file.metadata()?.len();
                        let left = size.saturating_sub(f.pos);
                        (
                            left.max(1),
                            if left == 0 {
                                EVENTRWFLAGS_FD_READWRITE_HANGUP
                            } else {
                                0
                            },
                        )
                    }
                    (EVENTTYPE_FD_WRITE, Desc::Stdout(_) | Desc::Stderr(_) | Desc::File(_)) => {
                        (1, 0)
                    }
                    _ => return Err(Errno::BADF.into()),
                };
                any_fd = true;
                ready.push(Some(Event {
                    userdata,
                    error: 0,
                    kind: tag,
                    nbytes,
                    flags,
                }));
                deadlines.push(None);
            }
            _ => return Err(Errno::INVAL.into()),
        }
    }
    if !any_fd {
        let earliest = deadlines
            .iter()
            .flatten()
            .map(|(_, d)| *d)
            .min()
            .unwrap_or(0);
        let now = monotonic_now(st);
        if earliest > now {
            std::thread::sleep(std::time::Duration::from_nanos(earliest - now));
        }
    }
    let now = monotonic_now(st);
    let mut count = 0u32;
    for (event, deadline) in ready.into_iter().zip(deadlines) {
        let event = match (event, deadline) {
            (Some(e), _) => e,
            (None, Some((userdata, d))) if d <= now => Event {
                userdata,
                error: 0,
                kind: EVENTTYPE_CLOCK,
                nbytes: 0,
                flags: 0,
            },
            _ => continue,
        };
        let mut b = [0u8; EVENT_SIZE as usize];
        b[0..8].copy_from_slice(&event.userdata.to_le_bytes());
        b[8..10].copy_from_slice(&event.error.to_le_bytes());
        b[10] = event.kind;
        b[16..24].copy_from_slice(&event.nbytes.to_le_bytes());
        b[24..26].copy_from_slice(&event.flags.to_le_bytes());
        mem.write_bytes(events + count * EVENT_SIZE, &b)?;
        count += 1;
    }
    mem.write_u32(out, count)
}

pub(crate) fn poll_oneoff(st: &mut WasiState, mem: &mut Mem, a: &Args) -> WasiResult<()> {
    poll_impl(st, mem, a, false)
}

pub(crate) fn poll_oneoff_unstable(st: &mut WasiState, mem: &mut Mem, a: &Args) -> WasiResult<()> {
    poll_impl(st, mem, a, true)
}
