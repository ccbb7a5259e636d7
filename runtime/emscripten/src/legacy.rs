//! The legacy Emscripten ABI (emcc 1.38, asm2wasm/fastcomp): the static memory layout the
//! JavaScript glue computed, the `env`/`global` import object (memory, table, globals and
//! functions) and the start-up sequence.

use super::ctx::{make_func, state, Emscripten, Statics};
use super::{libc, syscalls, Abi};
use runtime_engine::{
    ConstOp, DataSegmentKind, Error, Extern, ExternType, Global, GlobalInit, Memory, Module,
    ModuleGlobal, Result, Store, Table, Val, ValType,
};

/// Where the JavaScript glue's static allocations and the stack live.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Layout {
    pub memory_base: u32,
    pub table_base: u32,
    pub temp_double_ptr: u32,
    pub dynamictop_ptr: u32,
    pub dynamic_base: u32,
    pub stacktop: u32,
    pub stack_max: u32,
    pub statics: Statics,
}

const GLOBAL_BASE: u32 = 1024;
const TOTAL_STACK: u32 = 5 * 1024 * 1024;

/// `v` rounded up to 16; saturating, so that a hostile module's layout fails the memory-size
/// check in [`init_memory`] instead of overflowing.
fn align16(v: u32) -> u32 {
    v.checked_next_multiple_of(16).unwrap_or(!15)
}

impl Layout {
    /// Emcc 1.38 bakes the stack range into two module globals (`STACKTOP`, `STACK_MAX`); the
    /// heap starts right after the stack. The glue's own small statics (`tempDoublePtr`,
    /// `DYNAMICTOP_PTR`, the `tm` buffers) are placed below `GLOBAL_BASE`, which emcc leaves
    /// unused; older modules that import `STACKTOP` get a stack after their static data.
    pub fn compute(module: &Module) -> Layout {
        let globals: Vec<ModuleGlobal<'_>> = module.globals().collect();
        let import_global = |i: u32| match globals.get(i as usize)?.init {
            GlobalInit::Import { name, .. } => Some(name),
            GlobalInit::Expr(_) => None,
        };
        let eval = |expr: &[ConstOp]| -> Option<u32> {
            match expr {
                [ConstOp::I32(c)] => Some(*c as u32),
                [ConstOp::GlobalGet(g)] => match import_global(*g) {
                    Some("__memory_base" | "memoryBase" | "gb") => Some(GLOBAL_BASE),
                    _ => Some(0),
                },
                [ConstOp::GlobalGet(_), ConstOp::I32(c), ConstOp::I32Add] => {
                    Some(GLOBAL_BASE.saturating_add(*c as u32))
                }
                _ => None,
            }
        };
        let mut data_start = u32::MAX;
        let mut data_end = GLOBAL_BASE;
        for seg in module.data_segments() {
            if let DataSegmentKind::Active { offset, .. } = seg.kind {
                if let Some(o) = eval(offset) {
                    let len = u32::try_from(seg.len).unwrap_or(u32::MAX);
                    data_start = data_start.min(o);
                    data_end = data_end.max(o.saturating_add(len));
                }
            }
        }
        let mem_bytes = module
            .memories()
            .next()
            .map(|m| m.minimum.saturating_mul(65536))
            .unwrap_or(16 << 20);
        let defined: Vec<Option<u32>> = globals
            .iter()
            .filter_map(|g| match g.init {
                GlobalInit::Expr(init) => Some((g.ty, init)),
                GlobalInit::Import { .. } => None,
            })
            .map(|(ty, init)| {
                if ty.content == ValType::I32 && ty.mutable {
                    eval(init)
                } else {
                    None
                }
            })
            .collect();
        let stack = defined.windows(2).find_map(|w| match (w[0], w[1]) {
            (Some(a), Some(b))
                if b > a && b - a >= 65536 && (b as u64) <= mem_bytes && a >= data_end =>
            {
                Some((a, b))
            }
            _ => None,
        });
        let (stacktop, stack_max) = stack.unwrap_or_else(|| {
            let top = align16(data_end.max(GLOBAL_BASE + 215_536));
            (top, top.saturating_add(TOTAL_STACK))
        });
        // The host's statics: below GLOBAL_BASE when the program leaves that free.
        let (host, dynamic_base) = if data_start >= GLOBAL_BASE {
            (512, align16(stack_max))
        } else {
            (align16(stack_max), align16(stack_max).saturating_add(256))
        };
        Layout {
            memory_base: GLOBAL_BASE,
            table_base: 0,
            temp_double_ptr: host,
            dynamictop_ptr: host.saturating_add(16),
            dynamic_base,
            stacktop,
            stack_max,
            statics: Statics {
                catch_buf: host.saturating_add(20),
                tm: host.saturating_add(32),
                tm_zone: host.saturating_add(80),
                ctime_buf: host.saturating_add(96),
            },
        }
    }
}

/// Builds the imports of a legacy module, in import order.
pub(crate) fn imports(
    store: &mut Store<Emscripten>,
    module: &Module,
    layout: &Layout,
) -> Result<Vec<Extern>> {
    let mut out = Vec::new();
    let mut missing = Vec::new();
    let mut javascript = Vec::new();
    for imp in module.imports() {
        let ext = match &imp.ty {
            ExternType::Memory(ty) => {
                let m = Memory::new(&mut *store, *ty)?;
                state(&mut *store).memory = Some(m);
                Extern::Memory(m)
            }
            ExternType::Table(ty) => {
                let t = Table::new(&mut *store, *ty, Val::FuncRef(None))?;
                state(&mut *store).table = Some(t);
                Extern::Table(t)
            }
            ExternType::Global(ty) => {
                let v: f64 = match imp.name.as_str() {
                    "__memory_base" | "memoryBase" | "gb" => layout.memory_base as f64,
                    "__table_base" | "tableBase" | "fb" => layout.table_base as f64,
                    "DYNAMICTOP_PTR" => layout.dynamictop_ptr as f64,
                    "tempDoublePtr" => layout.temp_double_ptr as f64,
                    "STACKTOP" | "STACK_BASE" => layout.stacktop as f64,
                    "STACK_MAX" => layout.stack_max as f64,
                    "ABORT" | "cttz_i8" | "EMTSTACKTOP" | "EMT_STACK_MAX" | "eb"
                    | "__dso_handle" | "___dso_handle" => 0.0,
                    "NaN" => f64::NAN,
                    "Infinity" => f64::INFINITY,
                    _ => {
                        missing.push(format!("{}::{} (global)", imp.module, imp.name));
                        continue;
                    }
                };
                let val = match ty.content {
                    ValType::I32 => Val::I32(v as u32 as i32),
                    ValType::I64 => Val::I64(v as i64),
                    ValType::F32 => Val::F32((v as f32).to_bits()),
                    ValType::F64 => Val::F64(v.to_bits()),
                    _ => {
                        missing.push(format!("{}::{} (global)", imp.module, imp.name));
                        continue;
                    }
                };
                Extern::Global(Global::new(&mut *store, *ty, val)?)
            }
            ExternType::Func(ty) => {
                let name = imp.name.as_str();
                if libc::needs_javascript(name) {
                    javascript.push(name.to_string());
                    continue;
                }
                let handler = match name
                    .strip_prefix("___syscall")
                    .and_then(|n| n.parse::<u32>().ok())
                {
                    Some(n) => Some(syscalls::legacy_syscall(n)),
                    None => libc::handler(Abi::Legacy, name),
                };
                match handler {
                    Some(h) => Extern::Func(make_func(&mut *store, ty.clone(), h)),
                    None => {
                        missing.push(format!("{}::{}", imp.module, imp.name));
                        continue;
                    }
                }
            }
            ExternType::Tag(_) => {
                missing.push(format!("{}::{} (tag)", imp.module, imp.name));
                continue;
            }
        };
        out.push(ext);
    }
    super::link_errors(&javascript, &missing)?;
    Ok(out)
}

/// Writes the glue's initial memory contents: the heap pointer and the time zone name.
pub(crate) fn init_memory(
    store: &mut Store<Emscripten>,
    memory: Memory,
    layout: &Layout,
) -> Result<()> {
    let mem = memory.data_mut(&mut *store);
    let mut put = |at: u32, bytes: &[u8]| -> Result<()> {
        mem.get_mut(at as usize..at as usize + bytes.len())
            .ok_or_else(|| {
                Error::Link("emscripten: memory too small for the program's layout".into())
            })?
            .copy_from_slice(bytes);
        Ok(())
    };
    put(layout.dynamictop_ptr, &layout.dynamic_base.to_le_bytes())?;
    put(layout.statics.tm_zone, b"GMT\0")?;
    Ok(())
}
