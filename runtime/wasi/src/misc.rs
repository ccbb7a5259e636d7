//! WASI phase, misc: arguments, environment, clocks, randomness, process exit, scheduling and sockets.

use super::fd::Args;
use super::mem::{Fail, Mem, WasiResult};
use super::state::WasiState;
use super::types::*;
use runtime_engine::Trap;
use std::io::Read;

fn write_strings(mem: &mut Mem, ptrs: u32, buf: u32, items: &[Vec<u8>]) -> WasiResult<()> {
    let mut at = buf;
    for (i, item) in items.iter().enumerate() {
        mem.write_u32(ptrs.wrapping_add(4 * i as u32), at)?;
        mem.write_bytes(at, item)?;
        at = at.wrapping_add(item.len() as u32);
        mem.write_u8(at, 0)?;
        at = at.wrapping_add(1);
    }
    Ok(())
}

fn args_bytes(st: &WasiState) -> Vec<Vec<u8>> {
    st.args.iter().map(|a| a.as_bytes().to_vec()).collect()
}

fn env_bytes(st: &WasiState) -> Vec<Vec<u8>> {
    st.env
        .iter()
        .map(|(k, v)| format!("{k}={v}").into_bytes())
        .collect()
}

fn sizes(mem: &mut Mem, a: &Args, items: &[Vec<u8>]) -> WasiResult<()> {
    let total: usize = items.iter().map(|i| i.len() + 1).sum();
    let count = u32::try_from(items.len()).map_err(|_| Errno::OVERFLOW)?;
    let total = u32::try_from(total).map_err(|_| Errno::OVERFLOW)?;
    mem.write_u32(a.u32(0), count)?;
    mem.write_u32(a.u32(1), total)
}

pub(crate) fn args_get(st: &mut WasiState, mem: &mut Mem, a: &Args) -> WasiResult<()> {
    write_strings(mem, a.u32(0), a.u32(1), &args_bytes(st))
}

pub(crate) fn args_sizes_get(st: &mut WasiState, mem: &mut Mem, a: &Args) -> WasiResult<()> {
    sizes(mem, a, &args_bytes(st))
}

pub(crate) fn environ_get(st: &mut WasiState, mem: &mut Mem, a: &Args) -> WasiResult<()> {
    write_strings(mem, a.u32(0), a.u32(1), &env_bytes(st))
}

pub(crate) fn environ_sizes_get(st: &mut WasiState, mem: &mut Mem, a: &Args) -> WasiResult<()> {
    sizes(mem, a, &env_bytes(st))
}

/// Nanoseconds since the Unix epoch.
pub(crate) fn realtime_now() -> WasiResult<u64> {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| Errno::OVERFLOW)?;
    u64::try_from(d.as_nanos()).map_err(|_| Errno::OVERFLOW.into())
}

/// Nanoseconds on the monotonic clock (its origin is when the WASI state was made).
pub(crate) fn monotonic_now(st: &WasiState) -> u64 {
    st.epoch.elapsed().as_nanos() as u64
}

fn clock_now(st: &WasiState, id: u32) -> WasiResult<u64> {
    match id {
        CLOCKID_REALTIME => realtime_now(),
        CLOCKID_MONOTONIC => Ok(monotonic_now(st)),
        // Wasmtime has no CPU-time clocks either.
        CLOCKID_PROCESS_CPUTIME_ID | CLOCKID_THREAD_CPUTIME_ID => Err(Errno::BADF.into()),
        _ => Err(Errno::INVAL.into()),
    }
}

pub(crate) fn clock_res_get(_st: &mut WasiState, mem: &mut Mem, a: &Args) -> WasiResult<()> {
    let res = match a.u32(0) {
        CLOCKID_REALTIME | CLOCKID_MONOTONIC => 1,
        CLOCKID_PROCESS_CPUTIME_ID | CLOCKID_THREAD_CPUTIME_ID => return Err(Errno::BADF.into()),
        _ => return Err(Errno::INVAL.into()),
    };
    mem.write_u64(a.u32(1), res)
}

pub(crate) fn clock_time_get(st: &mut WasiState, mem: &mut Mem, a: &Args) -> WasiResult<()> {
    let now = clock_now(st, a.u32(0))?;
    mem.write_u64(a.u32(2), now)
}

pub(crate) fn random_get(st: &mut WasiState, mem: &mut Mem, a: &Args) -> WasiResult<()> {
    if a.u32(1) == 0 {
        // Still a bounds check, as before.
        mem.slice(a.u32(0), 0)?;
        return Ok(());
    }
    if st.urandom.is_none() {
        st.urandom = Some(std::fs::File::open("/dev/urandom")?);
    }
    let f = st.urandom.as_mut().expect("opened");
    mem.fill(a.u32(0), a.u32(1), |buf| {
        f.read_exact(buf)?;
        Ok(buf.len())
    })?;
    Ok(())
}

pub(crate) fn proc_exit(_st: &mut WasiState, _mem: &mut Mem, a: &Args) -> WasiResult<()> {
    let status = a.u32(0);
    // Like Wasmtime: statuses from 126 on are not portable exit codes.
    if status >= 126 {
        return Err(Fail::Trap(Trap::host(
            "exit with invalid exit status outside of [0..126)",
        )));
    }
    Err(Fail::Trap(Trap::exit(status as i32)))
}

pub(crate) fn proc_raise(_st: &mut WasiState, _mem: &mut Mem, _a: &Args) -> WasiResult<()> {
    Err(Errno::NOTSUP.into())
}

pub(crate) fn sched_yield(_st: &mut WasiState, _mem: &mut Mem, _a: &Args) -> WasiResult<()> {
    std::thread::yield_now();
    Ok(())
}

/// Every socket call: no descriptor here is a socket (as in Wasmtime's preview1).
pub(crate) fn sock_any(st: &mut WasiState, _mem: &mut Mem, a: &Args) -> WasiResult<()> {
    st.desc(a.u32(0))?;
    Err(Errno::NOTSOCK.into())
}
