//! Phase 6, vm: recording where wasm calls out to code that may collect garbage.
//!
//! The collector finds the references live in wasm frames by walking the frame-pointer chain
//! from the innermost wasm frame (`vm::gc::frames`). Libcalls that may allocate are entered
//! through a shim here that stores the caller's frame pointer and return address in the
//! store's `VMRuntimeLimits` and jumps to the libcall, which returns straight to wasm; host
//! trampolines record the same themselves (`compile/trampolines.rs`).

use crate::vmoffsets::{LIMITS_LAST_WASM_EXIT_FP, LIMITS_LAST_WASM_EXIT_PC, VMCTX_LIMITS};

macro_rules! exit_shims {
    ($($(#[$doc:meta])* $name:ident => $target:path;)*) => {$(
        $(#[$doc])*
        ///
        /// # Safety
        /// Only compiled wasm code calls this, with the libcall's arguments (its own vmctx
        /// first) and a frame pointer that heads the chain of its frames.
        #[unsafe(naked)]
        pub unsafe extern "C" fn $name() {
            // rdi is the caller's vmctx; rbp is still the wasm caller's frame pointer and
            // [rsp] the return address into it (the shim makes no frame of its own). rax and
            // r11 are scratch registers that carry no argument.
            core::arch::naked_asm!(
                "mov rax, [rdi + {limits}]",
                "mov [rax + {fp}], rbp",
                "mov r11, [rsp]",
                "mov [rax + {pc}], r11",
                "jmp {target}",
                limits = const VMCTX_LIMITS,
                fp = const LIMITS_LAST_WASM_EXIT_FP,
                pc = const LIMITS_LAST_WASM_EXIT_PC,
                target = sym $target,
            )
        }
    )*};
}

exit_shims! {
    /// Entry of `gc_alloc`.
    gc_alloc => crate::vm::gc::gc_alloc;
    /// Entry of `gc_array_new_data`.
    gc_array_new_data => crate::vm::gc::gc_array_new_data;
    /// Entry of `gc_array_new_elem`.
    gc_array_new_elem => crate::vm::gc::gc_array_new_elem;
    /// Entry of `throw`.
    throw => crate::vm::exceptions::throw;
}
