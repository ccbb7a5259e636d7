//! Phase 7, serialize: the artifact's encoding. Little-endian integers, lengths as `u64`;
//! a reader that bounds every length by the bytes left before it allocates, and the
//! checksum over the payload.

use crate::error::{Error, Result};

/// The largest alignment [`Writer::aligned_bytes`] pads to: a page.
pub const MAX_ALIGN: usize = 4096;

/// Appends values to an artifact.
#[derive(Default)]
pub struct Writer {
    /// What was written so far.
    pub buf: Vec<u8>,
}

impl Writer {
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn i64(&mut self, v: i64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    /// A length: how many items (or bytes) follow.
    pub fn len(&mut self, n: usize) {
        self.u64(n as u64);
    }
    pub fn bytes(&mut self, b: &[u8]) {
        self.len(b.len());
        self.buf.extend_from_slice(b);
    }
    pub fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }
    /// Bytes that start at a multiple of `align` (at most [`MAX_ALIGN`]) from the start of
    /// the buffer: their length, how many zero bytes of padding follow, the padding, them.
    pub fn aligned_bytes(&mut self, b: &[u8], align: usize) {
        self.len(b.len());
        let pad = (self.buf.len() + 8).next_multiple_of(align) - (self.buf.len() + 8);
        self.len(pad);
        self.buf.resize(self.buf.len() + pad, 0);
        self.buf.extend_from_slice(b);
    }
    /// A length, then each item written by `f`.
    pub fn seq<T>(&mut self, items: &[T], mut f: impl FnMut(&mut Writer, &T)) {
        self.len(items.len());
        for item in items {
            f(self, item);
        }
    }
}

/// Reads values back from an artifact's payload; running out of bytes is an error.
pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

/// The error for an artifact whose payload does not decode.
pub fn corrupt(what: &str) -> Error {
    Error::Artifact(format!("the artifact is corrupted ({what})"))
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, pos: 0 }
    }
    /// How many bytes were read so far.
    pub fn position(&self) -> usize {
        self.pos
    }
    /// Whether every byte was read.
    pub fn at_end(&self) -> bool {
        self.pos == self.bytes.len()
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let left = self.bytes.len() - self.pos;
        if n > left {
            return Err(corrupt("a field runs past its end"));
        }
        let out = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    pub fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    pub fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array()?))
    }
    pub fn i64(&mut self) -> Result<i64> {
        Ok(i64::from_le_bytes(self.array()?))
    }
    /// A `u32` that must be below `bound`.
    pub fn index(&mut self, bound: usize, what: &str) -> Result<usize> {
        let i = self.u32()? as usize;
        if i >= bound {
            return Err(corrupt(what));
        }
        Ok(i)
    }
    /// A length of items that take at least `min_item_size` bytes each: refused unless that
    /// many could follow, so nothing is allocated for a length the artifact cannot back.
    pub fn len(&mut self, min_item_size: usize) -> Result<usize> {
        let n = self.u64()?;
        let left = (self.bytes.len() - self.pos) as u64;
        if n.saturating_mul(min_item_size.max(1) as u64) > left {
            return Err(corrupt("a length exceeds what is left"));
        }
        Ok(n as usize)
    }
    pub fn bytes(&mut self) -> Result<&'a [u8]> {
        let n = self.len(1)?;
        self.take(n)
    }
    /// What [`Writer::aligned_bytes`] wrote.
    pub fn aligned_bytes(&mut self) -> Result<&'a [u8]> {
        let n = self.len(1)?;
        let pad = self.len(1)?;
        if pad >= MAX_ALIGN {
            return Err(corrupt("padding longer than any alignment"));
        }
        self.take(pad)?;
        self.take(n)
    }
    pub fn str(&mut self) -> Result<&'a str> {
        std::str::from_utf8(self.bytes()?).map_err(|_| corrupt("a string is not UTF-8"))
    }
    /// A length, then that many items read by `f` (each at least `min_item_size` bytes).
    pub fn seq<T>(
        &mut self,
        min_item_size: usize,
        mut f: impl FnMut(&mut Reader<'a>) -> Result<T>,
    ) -> Result<Vec<T>> {
        let n = self.len(min_item_size)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(f(self)?);
        }
        Ok(out)
    }
}

/// A 64-bit hash of `bytes`, for detecting corruption (not an adversary: loading an
/// artifact is only as safe as the file). Each 8-byte word goes through a step that is a
/// bijection of the state for a given word and of the word for a given state, so changing
/// any one word (or the length) always changes the result. Four lanes take the words of
/// each 32-byte chunk in turn (independent chains, about 4 bytes per cycle), then fold into
/// one with the same step.
pub fn checksum(seed: u64, bytes: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let step = |h: u64, w: u64| (h ^ w).wrapping_mul(K).rotate_left(29);
    let word = |w: &[u8]| u64::from_le_bytes(w.try_into().expect("8 bytes"));
    let start = seed ^ (bytes.len() as u64).wrapping_mul(K);
    let mut lanes = [start, start ^ 1, start ^ 2, start ^ 3];
    let mut chunks = bytes.chunks_exact(32);
    for chunk in &mut chunks {
        for (lane, w) in lanes.iter_mut().zip(chunk.chunks_exact(8)) {
            *lane = step(*lane, word(w));
        }
    }
    let mut h = lanes.into_iter().fold(start, step);
    let mut words = chunks.remainder().chunks_exact(8);
    for w in &mut words {
        h = step(h, word(w));
    }
    let mut tail = [0u8; 8];
    tail[..words.remainder().len()].copy_from_slice(words.remainder());
    h = step(h, u64::from_le_bytes(tail));
    // Final avalanche (MurmurHash3's), so nearby inputs give unrelated keys.
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_running_out_is_an_error() {
        let mut w = Writer::default();
        w.u8(7);
        w.u32(0xdead_beef);
        w.i64(-5);
        w.str("héllo");
        w.seq(&[1u32, 2, 3], |w, v| w.u32(*v));
        let mut r = Reader::new(&w.buf);
        assert_eq!(r.u8().unwrap(), 7);
        assert_eq!(r.u32().unwrap(), 0xdead_beef);
        assert_eq!(r.i64().unwrap(), -5);
        assert_eq!(r.str().unwrap(), "héllo");
        assert_eq!(r.seq(4, |r| r.u32()).unwrap(), [1, 2, 3]);
        assert!(r.at_end());
        assert!(r.u8().is_err());
    }

    #[test]
    fn a_huge_length_is_refused_before_allocating() {
        let mut w = Writer::default();
        w.u64(u64::MAX / 2);
        w.u32(1);
        let err = Reader::new(&w.buf).seq(4, |r| r.u32()).unwrap_err();
        assert!(err.to_string().contains("length exceeds"), "{err}");
        let mut w = Writer::default();
        w.u64(1 << 40);
        assert!(Reader::new(&w.buf).bytes().is_err());
    }

    #[test]
    fn every_single_byte_change_changes_the_checksum() {
        // Several 32-byte chunks (each lane takes more than one word), a word and a tail.
        let data: Vec<u8> = (0..109u8).collect();
        let base = checksum(1, &data);
        for i in 0..data.len() {
            for bit in 0..8 {
                let mut d = data.clone();
                d[i] ^= 1 << bit;
                assert_ne!(checksum(1, &d), base, "byte {i} bit {bit}");
            }
        }
        assert_ne!(checksum(1, &data[..108]), base);
        // Swapping two words of a chunk (different lanes) changes it too.
        let mut swapped = data.clone();
        swapped[..16].rotate_left(8);
        assert_ne!(checksum(1, &swapped), base);
        assert_ne!(checksum(2, &data), base);
    }
}
