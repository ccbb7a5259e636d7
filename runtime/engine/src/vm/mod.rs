//! Phase 6, vm: everything that touches raw memory — code memory, linear memories, tables,
//! the vmctx, libcalls, signal handlers and the entry into compiled code. The only `unsafe`
//! code of the crate lives here.

pub mod arch;
pub mod call;
pub mod code;
pub mod collector;
pub mod continuation;
pub mod gc;
pub mod host;
pub mod instance;
pub mod libcalls;
pub mod mapped_file;
pub mod memory;
pub mod memory_image;
pub mod parking;
pub mod shared_memory;
pub mod signals;
pub mod store;
pub mod table;
pub mod thread;
pub mod vmcontext;
