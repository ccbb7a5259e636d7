//! Emscripten host plumbing: the per-program state, the context a host function runs in
//! (guest memory access, calls back into the module), and how handlers become `Func`s.

use super::fs::Vfs;
use super::Abi;
use runtime_engine::{
    AsContextMut, Caller, Error, Func, FuncType, Instance, Memory, Store, StoreContextMut, Table,
    Trap, Val, ValType,
};
use std::sync::Arc;

/// The host data of a store that runs an Emscripten program: the state the program's
/// imports share. [`run`](super::run) sets it up; make the store with
/// `Store::new(&engine, Emscripten::default())`.
#[derive(Default)]
pub struct Emscripten {
    pub(crate) state: Option<State>,
    /// Resource limits for the program, in effect once installed with
    /// `store.limiter(|data| &mut data.limits)` (no size limits by default).
    pub limits: runtime_engine::StoreLimits,
}

/// The program's state in `store` (set up by `run`).
pub(crate) fn state(store: &mut Store<Emscripten>) -> &mut State {
    store
        .data_mut()
        .state
        .as_mut()
        .expect("emscripten::run sets up the state first")
}

/// Everything the imports of one running program share.
pub(crate) struct State {
    pub abi: Abi,
    pub memory: Option<Memory>,
    pub table: Option<Table>,
    pub instance: Option<Instance>,
    pub fs: Vfs,
    /// Environment variables in definition order.
    pub env: Vec<(String, String)>,
    pub temp_ret0: i32,
    /// Host-owned statics in guest memory (legacy ABI), see `legacy::Layout`.
    pub statics: Statics,
    /// `_getenv`'s last result, freed on the next call.
    pub getenv_ret: u32,
    /// The `__environ` cell `___buildEnvironment` was given.
    pub environ_ptr: u32,
    pub saved_stacks: Vec<i32>,
    /// `pthread_key_create` values (key = index + 1).
    pub pthread_keys: Vec<i32>,
    /// `pthread_once` controls already run.
    pub pthread_once: Vec<u32>,
    pub exceptions: super::eh::Exceptions,
    pub random_state: u64,
    /// End of the stack (legacy ABI), for stack-overflow messages.
    pub stack_max: u32,
}

impl State {
    /// The environment as `KEY=VALUE` strings, as `environ` lays them out.
    pub fn env_lines(&self) -> Vec<String> {
        self.env.iter().map(|(k, v)| format!("{k}={v}")).collect()
    }
}

/// Addresses of the small host-allocated areas of guest memory.
#[derive(Clone, Copy, Default, Debug)]
pub(crate) struct Statics {
    pub tm: u32,
    pub tm_zone: u32,
    pub ctime_buf: u32,
    pub catch_buf: u32,
}

/// The value a handler returns, converted to the import's declared result type.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Ret {
    Void,
    I32(i32),
    I64(i64),
    F64(f64),
}

impl Ret {
    fn to_val(self, ty: ValType) -> Val {
        let (i, f) = match self {
            Ret::Void => (0i64, 0f64),
            Ret::I32(v) => (v as i64, v as f64),
            Ret::I64(v) => (v, v as f64),
            Ret::F64(v) => (v as i64, v),
        };
        match ty {
            ValType::I32 => Val::I32(i as i32),
            ValType::I64 => Val::I64(i),
            ValType::F32 => Val::F32((f as f32).to_bits()),
            ValType::F64 => Val::F64(f.to_bits()),
            other => Val::default_for(other),
        }
    }
}

impl From<i32> for Ret {
    fn from(v: i32) -> Ret {
        Ret::I32(v)
    }
}
impl From<u32> for Ret {
    fn from(v: u32) -> Ret {
        Ret::I32(v as i32)
    }
}
impl From<f64> for Ret {
    fn from(v: f64) -> Ret {
        Ret::F64(v)
    }
}
impl From<()> for Ret {
    fn from(_: ()) -> Ret {
        Ret::Void
    }
}

/// A handler's arguments, read by position whatever their declared types.
pub(crate) struct Args<'a>(pub &'a [Val]);

impl Args<'_> {
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn i32(&self, n: usize) -> i32 {
        match self.0.get(n) {
            Some(Val::I32(v)) => *v,
            Some(Val::I64(v)) => *v as i32,
            Some(Val::F64(b)) => f64::from_bits(*b) as i32,
            Some(Val::F32(b)) => f32::from_bits(*b) as i32,
            _ => 0,
        }
    }
    pub fn u32(&self, n: usize) -> u32 {
        self.i32(n) as u32
    }
    pub fn i64(&self, n: usize) -> i64 {
        match self.0.get(n) {
            Some(Val::I64(v)) => *v,
            _ => self.i32(n) as i64,
        }
    }
    pub fn f64(&self, n: usize) -> f64 {
        match self.0.get(n) {
            Some(Val::F64(b)) => f64::from_bits(*b),
            Some(Val::F32(b)) => f32::from_bits(*b) as f64,
            Some(Val::I32(v)) => *v as f64,
            Some(Val::I64(v)) => *v as f64,
            _ => 0.0,
        }
    }
}

pub(crate) type HResult = Result<Ret, Trap>;
pub(crate) type Handler = Arc<dyn Fn(&mut Ctx<'_>, &Args<'_>) -> HResult + Send + Sync>;

/// Wraps a plain function as a handler.
pub(crate) fn h<R: Into<Ret> + 'static>(
    f: fn(&mut Ctx<'_>, &Args<'_>) -> Result<R, Trap>,
) -> Handler {
    Arc::new(move |ctx, args| f(ctx, args).map(Into::into))
}

/// A host function of the import's type `ty` running `handler`.
pub(crate) fn make_func(store: &mut Store<Emscripten>, ty: FuncType, handler: Handler) -> Func {
    let result_ty = ty.results().first().copied();
    Func::new(store, ty, move |caller, params, results| {
        let mut ctx = Ctx { caller };
        let r = handler(&mut ctx, &Args(params)).map_err(Error::Trap)?;
        if let (Some(slot), Some(t)) = (results.first_mut(), result_ty) {
            *slot = r.to_val(t);
        }
        Ok(())
    })
}

/// Marker text of the host traps that model a JavaScript `throw` (C++ exception or longjmp).
pub(crate) const UNWIND_MARKER: &str = "emscripten unwind: ";

pub(crate) fn is_unwind(trap: &Trap) -> bool {
    trap.message().starts_with(UNWIND_MARKER)
}

/// An `abort()` of the program; the message reads like emcc's JavaScript `abort`.
pub(crate) fn abort_trap(what: &str) -> Trap {
    let what = if what.is_empty() {
        String::new()
    } else {
        format!("{what:?}")
    };
    Trap::host(format!(
        "abort({what}). Build with -s ASSERTIONS=1 for more info."
    ))
}

fn oob() -> Trap {
    Trap::new(runtime_engine::TrapCode::MemoryOutOfBounds)
}

/// What a host function sees: its caller, whose host data holds the program's state.
pub(crate) struct Ctx<'a> {
    pub caller: Caller<'a, Emscripten>,
}

impl Ctx<'_> {
    /// The program's state.
    pub fn st(&mut self) -> &mut State {
        self.caller
            .data_mut()
            .state
            .as_mut()
            .expect("emscripten::run sets up the state before any import can run")
    }

    /// `abort(what)` as emcc 1.38's JavaScript did it: the reason goes to stdout and stderr.
    pub fn abort(&mut self, what: &str) -> Trap {
        if !what.is_empty() {
            let line = format!("{what}\n");
            let st = self.st();
            st.fs.stdout.write(line.as_bytes());
            st.fs.stderr.write_err(line.as_bytes());
        }
        abort_trap(what)
    }

    /// The store, to pass where one is expected.
    pub fn store(&mut self) -> StoreContextMut<'_, Emscripten> {
        self.caller.as_context_mut()
    }

    pub fn memory(&mut self) -> Result<Memory, Trap> {
        if let Some(m) = self.st().memory {
            return Ok(m);
        }
        let m = self
            .caller
            .get_export("memory")
            .and_then(|e| e.into_memory())
            .ok_or_else(|| Trap::host("emscripten: the program has no memory"))?;
        self.st().memory = Some(m);
        Ok(m)
    }

    pub fn mem(&mut self) -> Result<&mut [u8], Trap> {
        let m = self.memory()?;
        Ok(m.data_mut(&mut self.caller))
    }

    pub fn slice(&mut self, ptr: u32, len: u32) -> Result<&mut [u8], Trap> {
        let mem = self.mem()?;
        let end = (ptr as usize)
            .checked_add(len as usize)
            .filter(|e| *e <= mem.len())
            .ok_or_else(oob)?;
        Ok(&mut mem[ptr as usize..end])
    }

    pub fn read(&mut self, ptr: u32, len: u32) -> Result<Vec<u8>, Trap> {
        Ok(self.slice(ptr, len)?.to_vec())
    }

    pub fn write(&mut self, ptr: u32, bytes: &[u8]) -> Result<(), Trap> {
        self.slice(ptr, bytes.len() as u32)?.copy_from_slice(bytes);
        Ok(())
    }

    pub fn u8(&mut self, ptr: u32) -> Result<u8, Trap> {
        Ok(self.slice(ptr, 1)?[0])
    }
    pub fn u32(&mut self, ptr: u32) -> Result<u32, Trap> {
        Ok(u32::from_le_bytes(self.slice(ptr, 4)?.try_into().unwrap()))
    }
    pub fn i32(&mut self, ptr: u32) -> Result<i32, Trap> {
        Ok(self.u32(ptr)? as i32)
    }
    pub fn i64(&mut self, ptr: u32) -> Result<i64, Trap> {
        Ok(i64::from_le_bytes(self.slice(ptr, 8)?.try_into().unwrap()))
    }
    pub fn set_u8(&mut self, ptr: u32, v: u8) -> Result<(), Trap> {
        self.write(ptr, &[v])
    }
    pub fn set_u16(&mut self, ptr: u32, v: u16) -> Result<(), Trap> {
        self.write(ptr, &v.to_le_bytes())
    }
    pub fn set_i32(&mut self, ptr: u32, v: i32) -> Result<(), Trap> {
        self.write(ptr, &v.to_le_bytes())
    }
    pub fn set_u32(&mut self, ptr: u32, v: u32) -> Result<(), Trap> {
        self.write(ptr, &v.to_le_bytes())
    }
    pub fn set_i64(&mut self, ptr: u32, v: i64) -> Result<(), Trap> {
        self.write(ptr, &v.to_le_bytes())
    }
    pub fn set_f64(&mut self, ptr: u32, v: f64) -> Result<(), Trap> {
        self.write(ptr, &v.to_bits().to_le_bytes())
    }

    /// The NUL-terminated bytes at `ptr` (without the NUL).
    pub fn cstr_bytes(&mut self, ptr: u32) -> Result<Vec<u8>, Trap> {
        let mem = self.mem()?;
        let start = ptr as usize;
        if start >= mem.len() {
            return Err(oob());
        }
        let len = mem[start..].iter().position(|b| *b == 0).ok_or_else(oob)?;
        Ok(mem[start..start + len].to_vec())
    }

    pub fn cstr(&mut self, ptr: u32) -> Result<String, Trap> {
        Ok(String::from_utf8_lossy(&self.cstr_bytes(ptr)?).into_owned())
    }

    /// Writes `s` plus a NUL at `ptr`.
    pub fn write_cstr(&mut self, ptr: u32, s: &[u8]) -> Result<(), Trap> {
        let mut bytes = s.to_vec();
        bytes.push(0);
        self.write(ptr, &bytes)
    }

    /// The export `name` of the running instance.
    pub fn export(&mut self, name: &str) -> Option<runtime_engine::Extern> {
        let instance = self.st().instance;
        match instance {
            Some(i) => i.get_export(&self.caller, name),
            None => self.caller.get_export(name),
        }
    }

    pub fn export_func(&mut self, name: &str) -> Option<Func> {
        self.export(name)?.into_func()
    }

    /// The C function `name`: `_name` (legacy ABI) or `name` (current ABI).
    pub fn c_func(&mut self, name: &str) -> Option<Func> {
        self.export_func(&format!("_{name}"))
            .or_else(|| self.export_func(name))
    }

    /// Calls `func` with `args`; a trap of the callee comes back as the trap.
    pub fn call_func(&mut self, func: Func, args: &[Val]) -> Result<Option<Val>, Trap> {
        call(&mut self.caller, func, args)
    }

    /// Calls the C function `name` (see [`Ctx::c_func`]).
    pub fn call_c(&mut self, name: &str, args: &[Val]) -> Result<Option<Val>, Trap> {
        let f = self.c_func(name).ok_or_else(|| {
            Trap::host(format!("emscripten: the program does not export `{name}`"))
        })?;
        self.call_func(f, args)
    }

    pub fn call_c_i32(&mut self, name: &str, args: &[Val]) -> Result<i32, Trap> {
        Ok(self.call_c(name, args)?.and_then(|v| v.i32()).unwrap_or(0))
    }

    pub fn malloc(&mut self, size: u32) -> Result<u32, Trap> {
        Ok(self.call_c_i32("malloc", &[Val::I32(size as i32)])? as u32)
    }

    pub fn free(&mut self, ptr: u32) -> Result<(), Trap> {
        self.call_c("free", &[Val::I32(ptr as i32)]).map(|_| ())
    }

    /// Copies `s` plus a NUL into fresh `malloc`ed memory.
    pub fn malloc_cstr(&mut self, s: &[u8]) -> Result<u32, Trap> {
        let p = self.malloc(s.len() as u32 + 1)?;
        if p != 0 {
            self.write_cstr(p, s)?;
        }
        Ok(p)
    }

    pub fn stack_save(&mut self) -> Result<i32, Trap> {
        self.call_c_i32("stackSave", &[])
    }

    pub fn stack_restore(&mut self, sp: i32) -> Result<(), Trap> {
        self.call_c("stackRestore", &[Val::I32(sp)]).map(|_| ())
    }

    /// Sets the program's `errno` through `___errno_location`.
    pub fn set_errno(&mut self, value: i32) -> Result<(), Trap> {
        if let Some(f) = self
            .export_func("___errno_location")
            .or_else(|| self.export_func("__errno_location"))
        {
            if let Some(Val::I32(p)) = self.call_func(f, &[])? {
                self.set_i32(p as u32, value)?;
            }
        }
        Ok(())
    }

    /// `setThrew(threw, value)` of the program, as JavaScript's `invoke_*` and `longjmp` use it.
    pub fn set_threw(&mut self, threw: i32, value: i32) -> Result<(), Trap> {
        let f = self
            .export_func("_setThrew")
            .or_else(|| self.export_func("setThrew"))
            .ok_or_else(|| Trap::host("emscripten: the program does not export `setThrew`"))?;
        self.call_func(f, &[Val::I32(threw), Val::I32(value)])
            .map(|_| ())
    }
}

/// Calls `func` in `store`; errors other than traps become host traps.
pub(crate) fn call(
    mut store: impl AsContextMut<Data = Emscripten>,
    func: Func,
    args: &[Val],
) -> Result<Option<Val>, Trap> {
    let ty = func.ty(&store);
    let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
    let args: Vec<Val> = if args.len() == ty.params().len() {
        args.iter()
            .zip(ty.params())
            .map(|(v, t)| coerce(*v, *t))
            .collect()
    } else {
        return Err(Trap::host(format!(
            "emscripten: function of type {ty} called with {} arguments",
            args.len()
        )));
    };
    match func.call(&mut store, &args, &mut results) {
        Ok(()) => Ok(results.first().copied()),
        Err(Error::Trap(t)) => Err(t),
        Err(e) => Err(Trap::host(e.to_string())),
    }
}

/// Converts a value to `ty` the way JavaScript's loose numbers would.
pub(crate) fn coerce(v: Val, ty: ValType) -> Val {
    if v.matches(ty) {
        return v;
    }
    let a = Args(std::slice::from_ref(&v));
    match ty {
        ValType::I32 => Val::I32(a.i32(0)),
        ValType::I64 => Val::I64(a.i64(0)),
        ValType::F32 => Val::F32((a.f64(0) as f32).to_bits()),
        ValType::F64 => Val::F64(a.f64(0).to_bits()),
        other => Val::default_for(other),
    }
}
