//! Phase 6, call: functions as the host sees them. Host functions are defined once as a
//! [`HostFunc`] (a body over raw 16-byte slots, its signature and trampoline) and made in
//! any number of stores; calls from the host go through [`call_raw`], typed or not.

mod caller;
mod into_func;
mod typed;

pub use caller::Caller;
pub use into_func::{IntoFunc, WasmRet};
pub use typed::{ExternRef, TypedFunc, WasmParams, WasmResults, WasmTy, V128};

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::store::{AsContext, AsContextMut, Func, FuncData, FuncKind, StoreInner, StoreOpaque};
use crate::types::FuncType;
use crate::values::Val;
use crate::vm;
use crate::vm::host::{HostCallRef, VMHostFuncContext};
use crate::Trap;
use std::marker::PhantomData;

/// A host function for stores with host data `T`, not yet in any store: its signature, the
/// engine's trampoline for it and its body. A `Linker` keeps these and makes each in a store
/// the first time an instantiation there needs it.
pub struct HostFunc<T> {
    ty: FuncType,
    /// Canonical type index of `ty` in the engine.
    type_id: u32,
    engine: Engine,
    /// The engine's host trampoline for `ty` (kept alive by the engine), compiled when the
    /// function is first made in a store: a linker full of host functions (WASI's) costs
    /// only the trampolines of those a module imports.
    trampoline: std::sync::OnceLock<crate::vm::code::CodePtr>,
    body: HostCallRef,
    _data: PhantomData<fn(T)>,
}

impl<T: 'static> HostFunc<T> {
    /// A host function of type `ty` whose body reads its arguments from the slots and
    /// leaves its results there.
    pub(crate) fn new(
        engine: &Engine,
        ty: FuncType,
        body: impl Fn(&mut StoreInner<T>, Option<u32>, &mut [u128]) -> Result<()>
            + Send
            + Sync
            + 'static,
    ) -> HostFunc<T> {
        let type_id = engine.types().register_func(&ty);
        // Every call is a root scope: GC references the body made handles for are unrooted
        // when it returns (its results are raw by then).
        let body = move |store: &mut StoreInner<T>, caller: Option<u32>, values: &mut [u128]| {
            let mark = store.opaque.vm.gc.roots.borrow().mark();
            let result = body(store, caller, values);
            store.opaque.vm.gc.roots.borrow_mut().truncate(mark);
            result
        };
        HostFunc {
            ty,
            type_id,
            engine: engine.clone(),
            trampoline: std::sync::OnceLock::new(),
            body: HostCallRef::new::<StoreInner<T>, _>(body),
            _data: PhantomData,
        }
    }

    /// A host function over [`Val`]s (what [`Func::new`] makes).
    pub(crate) fn untyped<F>(engine: &Engine, ty: FuncType, f: F) -> HostFunc<T>
    where
        F: Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    {
        let sig = ty.clone();
        HostFunc::new(engine, ty, move |store, caller, values| {
            let (np, nr) = (sig.params().len(), sig.results().len());
            let (mut small, mut large) = ([Val::I32(0); 16], Vec::new());
            let vals = small_or_large(&mut small, &mut large, np + nr);
            let (params, results) = vals.split_at_mut(np);
            for ((slot, t), raw) in params.iter_mut().zip(sig.params()).zip(values.iter()) {
                *slot = store.opaque.raw_to_val(*raw, *t);
            }
            for (slot, t) in results.iter_mut().zip(sig.results()) {
                *slot = Val::default_for(*t);
            }
            f(Caller::new(store, caller), params, results)?;
            if let Some((v, t)) = results
                .iter()
                .zip(sig.results())
                .find(|(v, t)| !store.opaque.val_matches(v, **t))
            {
                return Err(Error::Trap(Trap::host(format!(
                    "host function returned {v:?} where {t} was expected"
                ))));
            }
            for (slot, v) in values.iter_mut().zip(results.iter()) {
                *slot = store.opaque.val_to_raw(v);
            }
            Ok(())
        })
    }

    /// Makes the function in `store` (whose engine must be the one it was defined with).
    pub(crate) fn to_func(&self, store: &mut StoreOpaque) -> Func {
        let index = store.funcs.len();
        let values = self.ty.params().len().max(self.ty.results().len());
        let trampoline = *(self.trampoline).get_or_init(|| self.engine.host_trampoline(&self.ty));
        let ctx = VMHostFuncContext::new(
            store.id,
            index as u32,
            trampoline,
            self.type_id,
            values,
            self.body.clone(),
        );
        let index = store.push_func(FuncData {
            ty: self.ty.clone(),
            type_id: self.type_id,
            funcref: ctx.funcref(),
            kind: FuncKind::Host { ctx },
            array_trampoline: std::cell::Cell::new(None),
        });
        store.func_handle(index)
    }
}

impl Func {
    /// A host function of type `ty` over [`Val`]s; `results` holds default values of the
    /// result types when `f` starts. See [`Func::wrap`] for the faster, typed form.
    ///
    /// ```
    /// use runtime_engine::{Engine, Func, FuncType, Store, Val, ValType};
    /// let mut store = Store::new(&Engine::default(), ());
    /// let ty = FuncType::new([ValType::I32, ValType::I32], [ValType::I32]);
    /// let add = Func::new(&mut store, ty, |_caller, args, results| {
    ///     results[0] = Val::I32(args[0].unwrap_i32() + args[1].unwrap_i32());
    ///     Ok(())
    /// });
    /// let mut out = [Val::I32(0)];
    /// add.call(&mut store, &[Val::I32(2), Val::I32(40)], &mut out)?;
    /// assert_eq!(out[0].unwrap_i32(), 42);
    /// # Ok::<(), runtime_engine::Error>(())
    /// ```
    pub fn new<T: 'static>(
        mut store: impl AsContextMut<Data = T>,
        ty: FuncType,
        f: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Func {
        let store = store.as_context_mut().0;
        HostFunc::untyped(&store.opaque.engine, ty, f).to_func(&mut store.opaque)
    }

    /// A host function from a Rust closure: its parameter and result types give the
    /// signature (see [`WasmTy`]); an optional first parameter [`Caller`] gives access to
    /// the store and the calling instance; it may return `()`, a value, a tuple, or any of
    /// them in a [`Result`] (an `Err` stops the wasm caller and comes out of its `call`).
    ///
    /// ```
    /// use runtime_engine::{Caller, Engine, Func, Store};
    /// let mut store = Store::new(&Engine::default(), 10i64);
    /// let f = Func::wrap(&mut store, |caller: Caller<'_, i64>, a: i32, b: i64| -> runtime_engine::Result<f64> {
    ///     Ok((a as i64 + b + *caller.data()) as f64)
    /// });
    /// let typed = f.typed::<(i32, i64), f64>(&store)?;
    /// assert_eq!(typed.call(&mut store, (1, 2))?, 13.0);
    /// # Ok::<(), runtime_engine::Error>(())
    /// ```
    pub fn wrap<T: 'static, Params, Results>(
        mut store: impl AsContextMut<Data = T>,
        f: impl IntoFunc<T, Params, Results>,
    ) -> Func {
        let store = store.as_context_mut().0;
        f.into_host_func(&store.opaque.engine)
            .to_func(&mut store.opaque)
    }

    /// The function's signature.
    pub fn ty(&self, store: impl AsContext) -> FuncType {
        let store = &store.as_context().0.opaque;
        store.funcs[self.checked(store)].ty.clone()
    }

    /// Calls the function; `results` must have room for exactly its results.
    ///
    /// Arguments are checked against the signature (a mismatch is an [`Error::Usage`]). A
    /// trap is an [`Error::Trap`]; an error a host function returned comes out unchanged; a
    /// host function's panic resumes here.
    pub fn call(
        &self,
        mut store: impl AsContextMut,
        params: &[Val],
        results: &mut [Val],
    ) -> Result<()> {
        let store = store.as_context_mut().0;
        let index = self.checked(&store.opaque);
        let ty = &store.opaque.funcs[index].ty;
        check_args(&store.opaque, ty, params, results.len())?;
        // Arguments and results travel in 16-byte slots; most signatures fit on the stack.
        let count = params.len().max(results.len()).max(1);
        let (mut small, mut large) = ([0u128; 8], Vec::new());
        let raw: &mut [u128] = if count <= small.len() {
            &mut small[..count]
        } else {
            large.resize(count, 0);
            &mut large
        };
        for (slot, v) in raw.iter_mut().zip(params) {
            *slot = store.opaque.val_to_raw(v);
        }
        call_raw(store, index, raw)?;
        let opaque = &store.opaque;
        let ty = &opaque.funcs[index].ty;
        for (slot, (r, t)) in results.iter_mut().zip(raw.iter().zip(ty.results())) {
            *slot = opaque.raw_to_val(*r, *t);
        }
        Ok(())
    }

    /// This function as a [`TypedFunc`] with parameters `Params` and results `Results`,
    /// after checking once that the signature matches (parameters may be subtypes of the
    /// function's, its results subtypes of `Results`'). A mismatch is an [`Error::Usage`].
    pub fn typed<Params: WasmParams, Results: WasmResults>(
        &self,
        store: impl AsContext,
    ) -> Result<TypedFunc<Params, Results>> {
        let store = &store.as_context().0.opaque;
        let ty = &store.funcs[self.checked(store)].ty;
        typed::check_signature::<Params, Results>(store, ty)?;
        Ok(TypedFunc::new_unchecked(*self))
    }
}

/// Calls function `index` of `store` with arguments (and then results) in `values`.
pub(crate) fn call_raw<T: 'static>(
    store: &mut StoreInner<T>,
    index: usize,
    values: &mut [u128],
) -> Result<()> {
    let data = &store.opaque.funcs[index];
    match &data.kind {
        FuncKind::Host { ctx } => {
            // The body may add functions to the store while it runs: call a handle of it.
            let body = ctx.body().clone();
            body.call_from_host(store, values)
        }
        FuncKind::Wasm => {
            let funcref = data.funcref;
            let trampoline = match data.array_trampoline.get() {
                Some(trampoline) => trampoline,
                None => {
                    let trampoline = store.opaque.engine.array_trampoline(&data.ty);
                    data.array_trampoline.set(Some(trampoline));
                    trampoline
                }
            };
            vm::call::invoke(store, trampoline, funcref, values)
        }
    }
}

fn check_args(store: &StoreOpaque, ty: &FuncType, params: &[Val], results: usize) -> Result<()> {
    if params.len() != ty.params().len() || results != ty.results().len() {
        return Err(Error::Usage(format!(
            "function {ty} called with {} arguments and room for {} results",
            params.len(),
            results
        )));
    }
    for (i, (v, t)) in params.iter().zip(ty.params()).enumerate() {
        if let Err(Error::Usage(e)) = store.check_refs(v) {
            return Err(Error::Usage(format!("argument {i} ({v:?}): {e}")));
        }
        if !store.val_matches(v, *t) {
            return Err(Error::Usage(format!(
                "argument {i} is {v:?}, expected type {t}"
            )));
        }
    }
    Ok(())
}

/// The first `n` slots of `small`, or `large` grown to `n` when `small` is too short.
fn small_or_large<'a>(
    small: &'a mut [Val; 16],
    large: &'a mut Vec<Val>,
    n: usize,
) -> &'a mut [Val] {
    if n <= small.len() {
        &mut small[..n]
    } else {
        large.resize(n, Val::I32(0));
        large
    }
}
