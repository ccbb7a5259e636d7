//! Fetch: removes DWARF (`.debug_*`) custom sections from a wasm binary, leaving every other
//! section byte-identical (how the WASI suite's mirror was made).

/// `binary` without its `.debug_*` custom sections; anything that does not parse as a module
/// is returned unchanged.
pub fn strip_debug_sections(binary: &[u8]) -> Vec<u8> {
    try_strip(binary).unwrap_or_else(|| binary.to_vec())
}

fn try_strip(binary: &[u8]) -> Option<Vec<u8>> {
    if binary.len() < 8 || &binary[..4] != b"\0asm" {
        return None;
    }
    let mut out = binary[..8].to_vec();
    let mut pos = 8;
    while pos < binary.len() {
        let start = pos;
        let id = binary[pos];
        pos += 1;
        let size = read_u32(binary, &mut pos)? as usize;
        let end = pos.checked_add(size).filter(|e| *e <= binary.len())?;
        let keep = id != 0 || {
            let mut p = pos;
            let len = read_u32(binary, &mut p)? as usize;
            let name = binary.get(p..p.checked_add(len)?)?;
            !name.starts_with(b".debug_")
        };
        if keep {
            out.extend_from_slice(&binary[start..end]);
        }
        pos = end;
    }
    Some(out)
}

/// Reads an unsigned LEB128 `u32`.
fn read_u32(bytes: &[u8], pos: &mut usize) -> Option<u32> {
    let mut result: u32 = 0;
    for shift in (0..35).step_by(7) {
        let byte = *bytes.get(*pos)?;
        *pos += 1;
        result |= u32::from(byte & 0x7f).checked_shl(shift)?;
        if byte & 0x80 == 0 {
            return Some(result);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn custom(name: &str, payload: &[u8]) -> Vec<u8> {
        let mut body = vec![name.len() as u8];
        body.extend_from_slice(name.as_bytes());
        body.extend_from_slice(payload);
        let mut s = vec![0, body.len() as u8];
        s.extend(body);
        s
    }

    #[test]
    fn only_debug_sections_go() {
        let header = b"\0asm\x01\0\0\0".to_vec();
        let types = vec![1, 4, 1, 0x60, 0, 0];
        let input = [
            header.clone(),
            custom(".debug_info", b"xyz"),
            types.clone(),
            custom("name", b"n"),
        ]
        .concat();
        let expected = [header, types, custom("name", b"n")].concat();
        assert_eq!(strip_debug_sections(&input), expected);
        assert_eq!(strip_debug_sections(b"not wasm"), b"not wasm");
        let truncated = b"\0asm\x01\0\0\0\x01\x09".to_vec();
        assert_eq!(strip_debug_sections(&truncated), truncated);
    }
}
