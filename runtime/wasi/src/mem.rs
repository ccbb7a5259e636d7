//! WASI phase, memory: bounds-checked access to the guest's linear memory. Every guest pointer goes through
//! here: a pointer or length outside memory becomes an out-of-bounds trap (as in
//! Wasmtime), never a host panic. A shared memory (wasi-threads) may change under any
//! reference, so its bytes are copied in and out instead of borrowed.

use super::types::Errno;
use runtime_engine::{SharedMemory, Trap, TrapCode};
use std::borrow::Cow;

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
    data: Bytes<'a>,
}

enum Bytes<'a> {
    None,
    Plain(&'a mut [u8]),
    Shared(SharedMemory),
}

fn out_of_bounds() -> Fail {
    Fail::Trap(Trap::new(TrapCode::MemoryOutOfBounds))
}

impl<'a> Mem<'a> {
    pub(crate) fn new(data: Option<&'a mut [u8]>) -> Mem<'a> {
        Mem {
            data: data.map_or(Bytes::None, Bytes::Plain),
        }
    }

    /// A shared memory's view.
    pub(crate) fn shared(memory: SharedMemory) -> Mem<'a> {
        Mem {
            data: Bytes::Shared(memory),
        }
    }

    fn no_memory() -> Fail {
        Fail::Trap(Trap::host(
            "WASI call from a module that exports no `memory`",
        ))
    }

    fn size(&self) -> WasiResult<u64> {
        match &self.data {
            Bytes::None => Err(Self::no_memory()),
            Bytes::Plain(data) => Ok(data.len() as u64),
            Bytes::Shared(m) => Ok(m.data_size() as u64),
        }
    }

    fn range(&self, ptr: u32, len: u64) -> WasiResult<std::ops::Range<usize>> {
        let size = self.size()?;
        let end = (ptr as u64).checked_add(len).ok_or_else(out_of_bounds)?;
        if end > size {
            return Err(out_of_bounds());
        }
        Ok(ptr as usize..end as usize)
    }

    /// `len` bytes at `ptr` (a copy for a shared memory: the range was checked against the
    /// memory's size first, which bounds the allocation).
    pub(crate) fn slice(&self, ptr: u32, len: u32) -> WasiResult<Cow<'_, [u8]>> {
        let r = self.range(ptr, len as u64)?;
        match &self.data {
            Bytes::None => Err(Self::no_memory()),
            Bytes::Plain(data) => Ok(Cow::Borrowed(&data[r])),
            Bytes::Shared(m) => {
                let mut copy = vec![0; r.len()];
                m.read(r.start, &mut copy).map_err(|_| out_of_bounds())?;
                Ok(Cow::Owned(copy))
            }
        }
    }

    /// Lets `fill` write into the `len` bytes at `ptr`; it returns how many it wrote, from
    /// the start (for a shared memory only those are copied back, into a buffer sized after
    /// the bounds check).
    pub(crate) fn fill(
        &mut self,
        ptr: u32,
        len: u32,
        fill: impl FnOnce(&mut [u8]) -> WasiResult<usize>,
    ) -> WasiResult<usize> {
        let r = self.range(ptr, len as u64)?;
        match &mut self.data {
            Bytes::None => Err(Self::no_memory()),
            Bytes::Plain(data) => fill(&mut data[r]),
            Bytes::Shared(m) => {
                let mut buffer = vec![0; r.len()];
                let n = fill(&mut buffer)?.min(buffer.len());
                m.write(r.start, &buffer[..n])
                    .map_err(|_| out_of_bounds())?;
                Ok(n)
            }
        }
    }

    pub(crate) fn read<const N: usize>(&self, ptr: u32) -> WasiResult<[u8; N]> {
        let mut b = [0u8; N];
        b.copy_from_slice(&self.slice(ptr, N as u32)?);
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
        let r = self.range(ptr, len as u64)?;
        match &mut self.data {
            Bytes::None => Err(Self::no_memory()),
            Bytes::Plain(data) => {
                data[r].copy_from_slice(bytes);
                Ok(())
            }
            Bytes::Shared(m) => m.write(r.start, bytes).map_err(|_| out_of_bounds()),
        }
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
        std::str::from_utf8(&bytes)
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
