//! Phase 6, vm: x86-64 shims that record where wasm calls out to code that may collect
//! garbage.
//!
//! The collector finds the references live in wasm frames by walking the frame-pointer chain
//! from the innermost wasm frame (`vm::gc::frames`). Libcalls that may allocate are entered
//! through a shim that stores the caller's frame pointer and return address in the store's
//! `VMRuntimeLimits` and jumps to the libcall, which returns straight to wasm; host
//! trampolines record the same themselves (`compile/trampolines.rs`).

/// Defines, for each `name(params) -> ret => target;`, a naked function `name` with the
/// libcall's signature that records the wasm caller's exit and jumps to `target` (which must
/// have the same signature: checked at compile time).
macro_rules! exit_shims {
    ($($(#[$doc:meta])* $name:ident($($param:ident: $ty:ty),*) $(-> $ret:ty)? => $target:path;)*) => {$(
        $(#[$doc])*
        ///
        /// # Safety
        /// Only compiled wasm code calls this, with the libcall's arguments (its own vmctx
        /// first) and a frame pointer that heads the chain of its frames.
        #[unsafe(naked)]
        pub unsafe extern "C" fn $name(vmctx: *mut u8 $(, $param: $ty)*) $(-> $ret)? {
            const _: unsafe extern "C" fn(*mut u8 $(, $ty)*) $(-> $ret)? = $target;
            // rdi is the caller's vmctx; rbp is still the wasm caller's frame pointer and
            // [rsp] the return address into it (the shim makes no frame of its own). rax and
            // r11 are scratch registers that carry no argument.
            core::arch::naked_asm!(
                "mov rax, [rdi + {limits}]",
                "mov [rax + {fp}], rbp",
                "mov r11, [rsp]",
                "mov [rax + {pc}], r11",
                "jmp {target}",
                limits = const $crate::vmoffsets::VMCTX_LIMITS,
                fp = const $crate::vmoffsets::LIMITS_LAST_WASM_EXIT_FP,
                pc = const $crate::vmoffsets::LIMITS_LAST_WASM_EXIT_PC,
                target = sym $target,
            )
        }
    )*};
}
pub(crate) use exit_shims;
