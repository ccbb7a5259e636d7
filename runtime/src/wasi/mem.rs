//! WASI phase, memory: bounds-checked access to the guest's linear memory. Every guest pointer goes through
//! here: a pointer or length outside memory becomes an out-of-bounds trap (as in
//! Wasmtime), never a host panic.

use super::types::Errno;
use crate::{Trap, TrapCode};

/// Why a WASI call did not succeed: an errno for the guest, or a trap that stops it.
#[derive(Debug)]
pub(crate) enum Fail {
    Errno(Errno),
    Trap(Trap),
}

impl From<Errno> for Fail {
    fn from(e: Errno) -> Fail {
        Fail::Errno(e)
    }
}

impl From<std::io::Error> for Fail {
    fn from(e: std::io::Error) -> Fail {
        Fail::Errno(Errno::from_io(&e))
    }
}

impl From<rustix::io::Errno> for Fail {
    fn from(e: rustix::io::Errno) -> Fail {
        Fail::Errno(Errno::from_os(e.raw_os_error()))
    }
}

impl From<Trap> for Fail {
    fn from(t: Trap) -> Fail {
        Fail::Trap(t)
    }
}

pub(crate) type WasiResult<T> = Result<T, Fail>;

/// The calling instance's memory, if it exports one.
pub(crate) struct Mem<'a> {
    data: Option<&'a mut [u8]>,
}

fn out_of_bounds() -> Fail {
    Fail::Trap(Trap::new(TrapCode::MemoryOutOfBounds))
}

impl<'a> Mem<'a> {
    pub(crate) fn new(data: Option<&'a mut [u8]>) -> Mem<'a> {
        Mem { data }
    }

    fn all(&self) -> WasiResult<&[u8]> {
        self.data.as_deref().ok_or_else(|| {
            Fail::Trap(Trap::host(
                "WASI call from a module that exports no `memory`",
            ))
        })
    }

    fn all_mut(&mut self) -> WasiResult<&mut [u8]> {
        self.data.as_deref_mut().ok_or_else(|| {
            Fail::Trap(Trap::host(
                "WASI call from a module that exports no `memory`",
            ))
        })
    }

    fn range(&self, ptr: u32, len: u64) -> WasiResult<std::ops::Range<usize>> {
        let size = self.all()?.len() as u64;
        let end = (ptr as u64).checked_add(len).ok_or_else(out_of_bounds)?;
        if end > size {
            return Err(out_of_bounds());
        }
        Ok(ptr as usize..end as usize)
    }

    pub(crate) fn slice(&self, ptr: u32, len: u32) -> WasiResult<&[u8]> {
        let r = self.range(ptr, len as u64)?;
        Ok(&self.all()?[r])
    }

    pub(crate) fn slice_mut(&mut self, ptr: u32, len: u32) -> WasiResult<&mut [u8]> {
        let r = self.range(ptr, len as u64)?;
        Ok(&mut self.all_mut()?[r])
    }

    pub(crate) fn read<const N: usize>(&self, ptr: u32) -> WasiResult<[u8; N]> {
        let mut b = [0u8; N];
        b.copy_from_slice(self.slice(ptr, N as u32)?);
        Ok(b)
    }
    pub(crate) fn read_u8(&self, ptr: u32) -> WasiResult<u8> {
        Ok(self.read::<1>(ptr)?[0])
    }
    pub(crate) fn read_u16(&self, ptr: u32) -> WasiResult<u16> {
        Ok(u16::from_le_bytes(self.read(ptr)?))
    }
    pub(crate) fn read_u32(&self, ptr: u32) -> WasiResult<u32> {
        Ok(u32::from_le_bytes(self.read(ptr)?))
    }
    pub(crate) fn read_u64(&self, ptr: u32) -> WasiResult<u64> {
        Ok(u64::from_le_bytes(self.read(ptr)?))
    }

    pub(crate) fn write_bytes(&mut self, ptr: u32, bytes: &[u8]) -> WasiResult<()> {
        let len = u32::try_from(bytes.len()).map_err(|_| out_of_bounds())?;
        self.slice_mut(ptr, len)?.copy_from_slice(bytes);
        Ok(())
    }
    pub(crate) fn write_u8(&mut self, ptr: u32, v: u8) -> WasiResult<()> {
        self.write_bytes(ptr, &[v])
    }
    pub(crate) fn write_u32(&mut self, ptr: u32, v: u32) -> WasiResult<()> {
        self.write_bytes(ptr, &v.to_le_bytes())
    }
    pub(crate) fn write_u64(&mut self, ptr: u32, v: u64) -> WasiResult<()> {
        self.write_bytes(ptr, &v.to_le_bytes())
    }

    /// A guest string; invalid UTF-8 is `ILSEQ` (as in Wasmtime).
    pub(crate) fn read_str(&self, ptr: u32, len: u32) -> WasiResult<String> {
        let bytes = self.slice(ptr, len)?;
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| Fail::Errno(Errno::ILSEQ))
    }

    /// The first non-empty buffer of an iovec array `(ptr, len)*`, or an empty one.
    /// Like Wasmtime, reads and writes transfer at most this one buffer per call.
    pub(crate) fn first_iovec(&self, iovs: u32, count: u32) -> WasiResult<(u32, u32)> {
        self.range(iovs, count as u64 * 8)?;
        for i in 0..count {
            let ptr = self.read_u32(iovs + i * 8)?;
            let len = self.read_u32(iovs + i * 8 + 4)?;
            if len != 0 {
                self.range(ptr, len as u64)?;
                return Ok((ptr, len));
            }
        }
        Ok((0, 0))
    }
}
