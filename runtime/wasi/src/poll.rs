//! WASI phase, `poll_oneoff`: waits with poll(2) until a subscribed descriptor is ready
//! or the earliest clock subscription is due. Host streams (an inherited stdin, stdout or
//! stderr, and files that are pipes, sockets or devices) report real readiness; regular
//! files, fixed stdin bytes and captured output are ready at once (as in Wasmtime).

use super::ctx::{InputSource, OutputSink};
use super::fd::Args;
use super::mem::{Mem, WasiResult};
use super::misc::{monotonic_now, realtime_now};
use super::state::{Desc, WasiState};
use super::types::*;
use rustix::event::{PollFd, PollFlags};
use rustix::fd::{AsFd, BorrowedFd};

struct Event {
    userdata: u64,
    error: u16,
    kind: u8,
    nbytes: u64,
    flags: u16,
}

/// One subscription, as far as its parsing could tell.
enum Sub {
    /// Its event happened already.
    Ready(Event),
    /// A clock, due at this monotonic time (nanoseconds).
    Clock { userdata: u64, deadline: u64 },
    /// A host stream to wait on: descriptor `fd`, for `kind` (read or write).
    Stream { userdata: u64, kind: u8, fd: u32 },
}

/// Reads and checks subscription `s`.
fn parse(st: &mut WasiState, mem: &Mem, s: u32, unstable: bool) -> WasiResult<Sub> {
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
                CLOCKID_MONOTONIC | CLOCKID_REALTIME if !absolute => now.saturating_add(timeout),
                CLOCKID_REALTIME => now.saturating_add(timeout.saturating_sub(realtime_now()?)),
                _ => return Err(Errno::INVAL.into()),
            };
            Ok(Sub::Clock { userdata, deadline })
        }
        EVENTTYPE_FD_READ | EVENTTYPE_FD_WRITE => {
            let fd = mem.read_u32(s + 16)?;
            let ready = |nbytes: u64, flags: u16| {
                Ok(Sub::Ready(Event {
                    userdata,
                    error: 0,
                    kind: tag,
                    nbytes,
                    flags,
                }))
            };
            let stream = Ok(Sub::Stream {
                userdata,
                kind: tag,
                fd,
            });
            let desc = st.desc(fd)?;
            let regular = match desc {
                Desc::File(f) => f.filetype()? == FILETYPE_REGULAR_FILE,
                _ => false,
            };
            match (tag, desc) {
                (EVENTTYPE_FD_READ, Desc::Stdin(s)) => match s.source {
                    InputSource::Inherit => stream,
                    InputSource::Bytes(_) => ready(1, 0),
                },
                (EVENTTYPE_FD_READ, Desc::File(f)) if regular => {
                    let size = f.file.metadata()?.len();
                    let left = size.saturating_sub(f.pos);
                    let flags = if left == 0 {
                        EVENTRWFLAGS_FD_READWRITE_HANGUP
                    } else {
                        0
                    };
                    ready(left.max(1), flags)
                }
                (EVENTTYPE_FD_WRITE, Desc::File(_)) if regular => ready(1, 0),
                (_, Desc::File(_)) => stream,
                (EVENTTYPE_FD_WRITE, Desc::Stdout(o) | Desc::Stderr(o)) => match o {
                    OutputSink::Inherit => stream,
                    OutputSink::Capture(_) | OutputSink::Null => ready(1, 0),
                },
                _ => Err(Errno::BADF.into()),
            }
        }
        _ => Err(Errno::INVAL.into()),
    }
}

/// The host descriptor behind a stream subscription.
fn host_fd(st: &WasiState, fd: u32) -> WasiResult<BorrowedFd<'_>> {
    match st.fds.get(&fd) {
        Some(Desc::Stdin(_)) => Ok(rustix::stdio::stdin()),
        Some(Desc::Stdout(_)) => Ok(rustix::stdio::stdout()),
        Some(Desc::Stderr(_)) => Ok(rustix::stdio::stderr()),
        Some(Desc::File(f)) => Ok(f.file.as_fd()),
        _ => Err(Errno::BADF.into()),
    }
}

fn poll_impl(st: &mut WasiState, mem: &mut Mem, a: &Args, unstable: bool) -> WasiResult<()> {
    let (subs, events, n, out) = (a.u32(0), a.u32(1), a.u32(2), a.u32(3));
    if n == 0 {
        return Err(Errno::INVAL.into());
    }
    let sub_size: u32 = if unstable { 56 } else { SUBSCRIPTION_SIZE };
    mem.slice(subs, n.checked_mul(sub_size).ok_or(Errno::OVERFLOW)?)?;
    mem.slice(events, n.checked_mul(EVENT_SIZE).ok_or(Errno::OVERFLOW)?)?;
    // `n` is bounded by the memory the subscriptions occupy (checked just above).
    let mut parsed = Vec::with_capacity(n as usize);
    for i in 0..n {
        parsed.push(parse(st, mem, subs + i * sub_size, unstable)?);
    }

    let st: &WasiState = st;
    let any_ready = parsed.iter().any(|s| matches!(s, Sub::Ready(_)));
    let earliest = parsed
        .iter()
        .filter_map(|s| match s {
            Sub::Clock { deadline, .. } => Some(*deadline),
            _ => None,
        })
        .min();
    let mut fds: Vec<PollFd<'_>> = Vec::new();
    for s in &parsed {
        if let Sub::Stream { kind, fd, .. } = s {
            let flags = if *kind == EVENTTYPE_FD_READ {
                PollFlags::IN
            } else {
                PollFlags::OUT
            };
            fds.push(PollFd::from_borrowed_fd(host_fd(st, *fd)?, flags));
        }
    }
    loop {
        let now = monotonic_now(st);
        let wait = if any_ready {
            Some(0)
        } else {
            earliest.map(|d| d.saturating_sub(now))
        };
        let woken = if fds.is_empty() {
            if let Some(ns) = wait {
                std::thread::sleep(std::time::Duration::from_nanos(ns));
            }
            false
        } else {
            let timeout = wait.map(|ns| rustix::event::Timespec {
                tv_sec: (ns / 1_000_000_000) as _,
                tv_nsec: (ns % 1_000_000_000) as _,
            });
            match rustix::event::poll(&mut fds, timeout.as_ref()) {
                Ok(count) => count > 0,
                Err(rustix::io::Errno::INTR) => false,
                Err(e) => return Err(e.into()),
            }
        };
        if woken || any_ready || earliest.is_some_and(|d| monotonic_now(st) >= d) {
            break;
        }
    }

    let now = monotonic_now(st);
    let mut streams = fds.iter();
    let mut count = 0u32;
    for sub in parsed {
        let event = match sub {
            Sub::Ready(e) => e,
            Sub::Clock { userdata, deadline } if deadline <= now => Event {
                userdata,
                error: 0,
                kind: EVENTTYPE_CLOCK,
                nbytes: 0,
                flags: 0,
            },
            Sub::Clock { .. } => continue,
            Sub::Stream { userdata, kind, .. } => {
                let revents = streams.next().map_or(PollFlags::empty(), |p| p.revents());
                if revents.is_empty() {
                    continue;
                }
                let hangup = revents.contains(PollFlags::HUP);
                let error = if revents.intersects(PollFlags::ERR | PollFlags::NVAL) && !hangup {
                    Errno::IO.0
                } else {
                    0
                };
                Event {
                    userdata,
                    error,
                    kind,
                    nbytes: if hangup { 0 } else { 1 },
                    flags: if hangup {
                        EVENTRWFLAGS_FD_READWRITE_HANGUP
                    } else {
                        0
                    },
                }
            }
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
