//! Phase 5/6 (x86-64): encoding the relocations Cranelift emits for x86-64 (the
//! architecture-specific half of `link`).

use crate::error::{Error, Result};
use cranelift_codegen::binemit::Reloc;

/// Writes one relocation at `code[at..]`: `value` is the target address plus addend, `site`
/// the address the patched bytes will have (see `link::WriteReloc`).
/// Whether a relocation of `kind` encodes its target relative to its own address, so that
/// one between two places of the same image is right wherever the image is loaded.
pub fn is_pc_relative(kind: Reloc) -> bool {
    matches!(
        kind,
        Reloc::X86CallPCRel4 | Reloc::X86PCRel4 | Reloc::X86CallPLTRel4
    )
}

pub fn write_reloc(code: &mut [u8], at: usize, site: i64, kind: Reloc, value: i64) -> Result<()> {
    let out_of_code = || Error::Compile(format!("relocation at {at} lies outside the code"));
    match kind {
        Reloc::Abs8 => code
            .get_mut(at..at + 8)
            .ok_or_else(out_of_code)?
            .copy_from_slice(&value.to_le_bytes()),
        Reloc::X86CallPCRel4 | Reloc::X86PCRel4 | Reloc::X86CallPLTRel4 => {
            let rel = i32::try_from(value.wrapping_sub(site))
                .map_err(|_| Error::Compile("call target out of rel32 range".into()))?;
            code.get_mut(at..at + 4)
                .ok_or_else(out_of_code)?
                .copy_from_slice(&rel.to_le_bytes());
        }
        other => return Err(Error::Compile(format!("unsupported relocation {other:?}"))),
    }
    Ok(())
}
