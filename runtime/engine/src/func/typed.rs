//! Phase 6, call: statically typed calls. Rust types stand for wasm value types ([`WasmTy`]),
//! tuples for parameter and result lists ([`WasmParams`], [`WasmResults`]); a
//! [`TypedFunc`] checks its signature once and then moves raw values, never [`Val`]s.

use super::{call_raw, Func};
use crate::error::{Error, Result};
use crate::store::{AsContext, AsContextMut, StoreInner, StoreOpaque};
use crate::types::{FuncType, HeapType, RefType, ValType};
use crate::values::{AnyRef, Val};
use std::marker::PhantomData;

/// The conversions behind the public traits; sealed (not nameable outside the crate).
pub(crate) mod raw {
    use super::*;

    /// How one Rust type is a wasm value.
    pub trait WasmTyRaw: Sized {
        /// The wasm type values of this Rust type have.
        fn valtype() -> ValType;
        /// The raw slot for `self` in `store`; an error if a reference belongs to another store.
        fn to_raw(self, store: &StoreOpaque) -> Result<u128>;
        /// The value in a raw slot of [`Self::valtype`] produced by `store`'s code.
        fn from_raw(raw: u128, store: &StoreOpaque) -> Self;
    }

    /// How a list of Rust values is a list of wasm values.
    pub trait WasmParamsRaw: Sized {
        /// How many values.
        const COUNT: usize;
        /// Appends the wasm types.
        fn valtypes(out: &mut Vec<ValType>);
        /// Writes the values into `slots[..COUNT]`.
        fn store(self, store: &StoreOpaque, slots: &mut [u128]) -> Result<()>;
        /// Reads the values from `slots[..COUNT]`.
        fn load(store: &StoreOpaque, slots: &[u128]) -> Self;
    }
}

use raw::{WasmParamsRaw, WasmTyRaw};

/// A Rust type that stands for a wasm value type: `i32`/`u32` (`i32`), `i64`/`u64` (`i64`),
/// `f32`, `f64`, [`V128`], `Option<Func>` (`funcref`), [`Func`] (`(ref func)`),
/// `Option<ExternRef>` (`externref`), [`ExternRef`] (`(ref extern)`), `Option<AnyRef>`
/// (`anyref`) and [`AnyRef`] (`(ref any)`). Sealed: the set is fixed.
pub trait WasmTy: WasmTyRaw + Send + Sync + 'static {}

/// A list of wasm values as Rust values: `()`, one [`WasmTy`] value, or a tuple of up to 16.
pub trait WasmParams: WasmParamsRaw + Send {}

/// Results of a typed call: the same shapes as [`WasmParams`].
pub trait WasmResults: WasmParams {}

impl<T: WasmParamsRaw + Send> WasmParams for T {}
impl<T: WasmParams> WasmResults for T {}

/// A 128-bit SIMD value (`v128`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct V128(u128);

impl V128 {
    /// The value with these bits (lane 0 in the low bits).
    pub fn new(bits: u128) -> V128 {
        V128(bits)
    }
    /// The bits of the value.
    pub fn as_u128(&self) -> u128 {
        self.0
    }
}

impl From<u128> for V128 {
    fn from(bits: u128) -> V128 {
        V128(bits)
    }
}

impl From<V128> for u128 {
    fn from(v: V128) -> u128 {
        v.0
    }
}

/// A non-null `externref`: a host value ([`ExternRef::new`]), host reference number `n`
/// (what the spec's `(ref.extern n)` is, [`ExternRef::host`]), or an `any` reference
/// converted with `extern.convert_any`.
///
/// A host value lives in the store as long as something reaches it: a handle the host holds
/// (rooted like an [`AnyRef`]: in the innermost root scope), a global, a table, a GC object,
/// or a wasm frame; the collector drops the others.
///
/// ```
/// use runtime_engine::{Engine, ExternRef, Instance, Module, Store};
/// let engine = Engine::default();
/// let module = Module::new(&engine, r#"(module
///     (func (export "pick") (param externref externref i32) (result externref)
///       (select (result externref) (local.get 0) (local.get 1) (local.get 2))))"#)?;
/// let mut store = Store::new(&engine, ());
/// let instance = Instance::new(&mut store, &module, &[])?;
/// let pick = instance
///     .get_typed_func::<(Option<ExternRef>, Option<ExternRef>, i32), Option<ExternRef>>(&store, "pick")?;
/// let chosen = pick.call(&mut store, (Some(ExternRef::host(1)), None, 1))?;
/// assert_eq!(chosen.and_then(|e| e.host_index()), Some(1));
/// # Ok::<(), runtime_engine::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ExternRef(ExternRepr);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum ExternRepr {
    Host(u32),
    Any(AnyRef),
}

impl ExternRef {
    /// A reference to the host value `value`, owned by the store (Wasmtime's
    /// `ExternRef::new`). The handle is rooted in the store's innermost root scope.
    ///
    /// ```
    /// use runtime_engine::{Engine, ExternRef, Store};
    /// let mut store = Store::new(&Engine::default(), ());
    /// let r = ExternRef::new(&mut store, String::from("hello"))?;
    /// let s = r.data(&store)?.and_then(|d| d.downcast_ref::<String>());
    /// assert_eq!(s.map(String::as_str), Some("hello"));
    /// # Ok::<(), runtime_engine::Error>(())
    /// ```
    pub fn new<T: std::any::Any + Send + Sync>(
        mut store: impl AsContextMut,
        value: T,
    ) -> Result<ExternRef> {
        let store = &mut store.as_context_mut().0.opaque;
        if store.vm.gc.host_data.wants_collection() {
            crate::vm::collector::collect(&mut store.vm, 0);
        }
        let raw = store.vm.gc.host_data.insert(Box::new(value));
        let handle = store.vm.gc.roots.borrow_mut().push(raw);
        Ok(ExternRef(ExternRepr::Any(AnyRef {
            store: store.id,
            raw: handle,
            kind: crate::values::AnyRefKind::Host,
        })))
    }
    /// Host reference number `n` (`(ref.extern n)`): a number, without a host value.
    pub fn host(n: u32) -> ExternRef {
        ExternRef(ExternRepr::Host(n))
    }
    /// The host value of a reference made by [`ExternRef::new`] (`None` for other
    /// references); an error if the reference belongs to another store or its root scope
    /// ended. Downcast it with `downcast_ref`.
    pub fn data<'a, S: AsContext + ?Sized>(
        &self,
        store: &'a S,
    ) -> Result<Option<&'a (dyn std::any::Any + Send + Sync)>> {
        let ExternRepr::Any(a) = self.0 else {
            return Ok(None);
        };
        let inner: &'a StoreInner<S::Data> = store.as_context().0;
        let raw = inner.opaque.any_raw(&a)?;
        Ok(inner.opaque.vm.gc.host_data.get(raw))
    }
    /// [`ExternRef::data`], mutably.
    pub fn data_mut<'a, S: AsContextMut + ?Sized>(
        &self,
        store: &'a mut S,
    ) -> Result<Option<&'a mut (dyn std::any::Any + Send + Sync)>> {
        let ExternRepr::Any(a) = self.0 else {
            return Ok(None);
        };
        let inner: &'a mut StoreInner<S::Data> = store.as_context_mut().0;
        let raw = inner.opaque.any_raw(&a)?;
        Ok(inner.opaque.vm.gc.host_data.get_mut(raw))
    }
    /// The number of a host reference.
    pub fn host_index(&self) -> Option<u32> {
        match self.0 {
            ExternRepr::Host(n) => Some(n),
            ExternRepr::Any(_) => None,
        }
    }
    /// The `any` reference this one was converted from.
    pub fn as_any(&self) -> Option<AnyRef> {
        match self.0 {
            ExternRepr::Any(a) => Some(a),
            ExternRepr::Host(_) => None,
        }
    }
}

impl Val {
    /// The `externref` this value is (`Some(None)`: null); `None` for other values.
    pub fn externref(&self) -> Option<Option<ExternRef>> {
        match *self {
            Val::ExternRef(n) => Some(n.map(ExternRef::host)),
            Val::ExternAny(a) => Some(Some(ExternRef(ExternRepr::Any(a)))),
            _ => None,
        }
    }
}

impl From<ExternRef> for Val {
    fn from(e: ExternRef) -> Val {
        match e.0 {
            ExternRepr::Host(n) => Val::ExternRef(Some(n)),
            ExternRepr::Any(a) => Val::ExternAny(a),
        }
    }
}

macro_rules! numeric {
    ($($ty:ty => $val:ident, $to:expr, $from:expr;)*) => {$(
        impl WasmTyRaw for $ty {
            fn valtype() -> ValType {
                ValType::$val
            }
            #[inline]
            fn to_raw(self, _: &StoreOpaque) -> Result<u128> {
                let to: fn($ty) -> u128 = $to;
                Ok(to(self))
            }
            #[inline]
            fn from_raw(raw: u128, _: &StoreOpaque) -> $ty {
                let from: fn(u128) -> $ty = $from;
                from(raw)
            }
        }
        impl WasmTy for $ty {}
    )*};
}

numeric! {
    i32 => I32, |v| v as u32 as u128, |r| r as u32 as i32;
    u32 => I32, |v| v as u128, |r| r as u32;
    i64 => I64, |v| v as u64 as u128, |r| r as u64 as i64;
    u64 => I64, |v| v as u128, |r| r as u64;
    f32 => F32, |v| v.to_bits() as u128, |r| f32::from_bits(r as u32);
    f64 => F64, |v| v.to_bits() as u128, |r| f64::from_bits(r as u64);
    V128 => V128, |v| v.0, V128;
}

fn reference(heap: HeapType, nullable: bool) -> ValType {
    ValType::Ref(RefType { nullable, heap })
}

fn wrong_store(what: &str) -> Error {
    Error::Usage(format!("{what} passed to a store it does not belong to"))
}

impl WasmTyRaw for Option<Func> {
    fn valtype() -> ValType {
        reference(HeapType::Func, true)
    }
    fn to_raw(self, store: &StoreOpaque) -> Result<u128> {
        match self {
            None => Ok(0),
            Some(f) if f.belongs_to(store) => {
                Ok(store.funcs[f.index as usize].funcref.raw() as u128)
            }
            Some(_) => Err(wrong_store("a function")),
        }
    }
    fn from_raw(raw: u128, store: &StoreOpaque) -> Self {
        store.funcref_to_func(raw as u64)
    }
}
impl WasmTy for Option<Func> {}

impl WasmTyRaw for Func {
    fn valtype() -> ValType {
        reference(HeapType::Func, false)
    }
    fn to_raw(self, store: &StoreOpaque) -> Result<u128> {
        Some(self).to_raw(store)
    }
    fn from_raw(raw: u128, store: &StoreOpaque) -> Self {
        store
            .funcref_to_func(raw as u64)
            .expect("a `(ref func)` value is never null")
    }
}
impl WasmTy for Func {}

fn any_to_raw(a: AnyRef, store: &StoreOpaque) -> Result<u128> {
    store.any_raw(&a).map(|raw| raw as u128)
}

impl WasmTyRaw for Option<ExternRef> {
    fn valtype() -> ValType {
        reference(HeapType::Extern, true)
    }
    fn to_raw(self, store: &StoreOpaque) -> Result<u128> {
        match self.map(|e| e.0) {
            None => Ok(0),
            Some(ExternRepr::Host(n)) => Ok(crate::vm::gc::host_ref(n) as u128),
            Some(ExternRepr::Any(a)) => any_to_raw(a, store),
        }
    }
    fn from_raw(raw: u128, store: &StoreOpaque) -> Self {
        match store.raw_to_val(raw, ValType::EXTERNREF) {
            Val::ExternRef(n) => n.map(ExternRef::host),
            Val::ExternAny(a) => Some(ExternRef(ExternRepr::Any(a))),
            _ => None,
        }
    }
}
impl WasmTy for Option<ExternRef> {}

impl WasmTyRaw for ExternRef {
    fn valtype() -> ValType {
        reference(HeapType::Extern, false)
    }
    fn to_raw(self, store: &StoreOpaque) -> Result<u128> {
        Some(self).to_raw(store)
    }
    fn from_raw(raw: u128, store: &StoreOpaque) -> Self {
        Option::<ExternRef>::from_raw(raw, store).expect("a `(ref extern)` value is never null")
    }
}
impl WasmTy for ExternRef {}

impl WasmTyRaw for Option<AnyRef> {
    fn valtype() -> ValType {
        reference(HeapType::Any, true)
    }
    fn to_raw(self, store: &StoreOpaque) -> Result<u128> {
        self.map_or(Ok(0), |a| any_to_raw(a, store))
    }
    fn from_raw(raw: u128, store: &StoreOpaque) -> Self {
        (raw != 0).then(|| store.any_ref(raw as u64))
    }
}
impl WasmTy for Option<AnyRef> {}

impl WasmTyRaw for AnyRef {
    fn valtype() -> ValType {
        reference(HeapType::Any, false)
    }
    fn to_raw(self, store: &StoreOpaque) -> Result<u128> {
        any_to_raw(self, store)
    }
    fn from_raw(raw: u128, store: &StoreOpaque) -> Self {
        store.any_ref(raw as u64)
    }
}
impl WasmTy for AnyRef {}

impl<T: WasmTy> WasmParamsRaw for T {
    const COUNT: usize = 1;
    fn valtypes(out: &mut Vec<ValType>) {
        out.push(T::valtype());
    }
    #[inline]
    fn store(self, store: &StoreOpaque, slots: &mut [u128]) -> Result<()> {
        slots[0] = self.to_raw(store)?;
        Ok(())
    }
    #[inline]
    fn load(store: &StoreOpaque, slots: &[u128]) -> Self {
        T::from_raw(slots[0], store)
    }
}

macro_rules! tuples {
    ($(($($t:ident $i:tt),*);)*) => {$(
        impl<$($t: WasmTy),*> WasmParamsRaw for ($($t,)*) {
            const COUNT: usize = 0 $(+ { let _ = $i; 1 })*;
            fn valtypes(_out: &mut Vec<ValType>) {
                $(_out.push($t::valtype());)*
            }
            #[inline]
            fn store(self, _store: &StoreOpaque, _slots: &mut [u128]) -> Result<()> {
                $(_slots[$i] = self.$i.to_raw(_store)?;)*
                Ok(())
            }
            #[inline]
            #[allow(clippy::unused_unit)]
            fn load(_store: &StoreOpaque, _slots: &[u128]) -> Self {
                ($($t::from_raw(_slots[$i], _store),)*)
            }
        }
    )*};
}

tuples! {
    ();
    (A0 0);
    (A0 0, A1 1);
    (A0 0, A1 1, A2 2);
    (A0 0, A1 1, A2 2, A3 3);
    (A0 0, A1 1, A2 2, A3 3, A4 4);
    (A0 0, A1 1, A2 2, A3 3, A4 4, A5 5);
    (A0 0, A1 1, A2 2, A3 3, A4 4, A5 5, A6 6);
    (A0 0, A1 1, A2 2, A3 3, A4 4, A5 5, A6 6, A7 7);
    (A0 0, A1 1, A2 2, A3 3, A4 4, A5 5, A6 6, A7 7, A8 8);
    (A0 0, A1 1, A2 2, A3 3, A4 4, A5 5, A6 6, A7 7, A8 8, A9 9);
    (A0 0, A1 1, A2 2, A3 3, A4 4, A5 5, A6 6, A7 7, A8 8, A9 9, A10 10);
    (A0 0, A1 1, A2 2, A3 3, A4 4, A5 5, A6 6, A7 7, A8 8, A9 9, A10 10, A11 11);
    (A0 0, A1 1, A2 2, A3 3, A4 4, A5 5, A6 6, A7 7, A8 8, A9 9, A10 10, A11 11, A12 12);
    (A0 0, A1 1, A2 2, A3 3, A4 4, A5 5, A6 6, A7 7, A8 8, A9 9, A10 10, A11 11, A12 12, A13 13);
    (A0 0, A1 1, A2 2, A3 3, A4 4, A5 5, A6 6, A7 7, A8 8, A9 9, A10 10, A11 11, A12 12, A13 13, A14 14);
    (A0 0, A1 1, A2 2, A3 3, A4 4, A5 5, A6 6, A7 7, A8 8, A9 9, A10 10, A11 11, A12 12, A13 13, A14 14, A15 15);
}

/// The wasm types of a list of Rust types.
pub(crate) fn valtypes<P: WasmParamsRaw>() -> Vec<ValType> {
    let mut out = Vec::with_capacity(P::COUNT);
    P::valtypes(&mut out);
    out
}

/// Whether a function of type `ty` may be called as `Params -> Results`.
pub(super) fn check_signature<Params: WasmParams, Results: WasmResults>(
    store: &StoreOpaque,
    ty: &FuncType,
) -> Result<()> {
    let (params, results) = (valtypes::<Params>(), valtypes::<Results>());
    let registry = store.engine.types();
    let ok = params.len() == ty.params().len()
        && results.len() == ty.results().len()
        && params
            .iter()
            .zip(ty.params())
            .all(|(given, want)| registry.val_subtype(*given, *want))
        && ty
            .results()
            .iter()
            .zip(&results)
            .all(|(given, want)| registry.val_subtype(*given, *want));
    if ok {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "type mismatch: a function of type {ty} used as one of type {}",
            FuncType::new(params, results)
        )))
    }
}

/// A function whose signature was checked once, called with Rust values: no [`Val`] boxing
/// and no per-call type checks. Made by [`Func::typed`] or
/// [`Instance::get_typed_func`](crate::Instance::get_typed_func).
///
/// ```
/// use runtime_engine::{Engine, Instance, Module, Store};
/// let engine = Engine::default();
/// let module = Module::new(&engine, r#"(module
///     (func (export "div") (param i64 i64) (result i64 i64)
///       (i64.div_u (local.get 0) (local.get 1))
///       (i64.rem_u (local.get 0) (local.get 1))))"#)?;
/// let mut store = Store::new(&engine, ());
/// let instance = Instance::new(&mut store, &module, &[])?;
/// let div = instance.get_typed_func::<(u64, u64), (u64, u64)>(&mut store, "div")?;
/// assert_eq!(div.call(&mut store, (17, 5))?, (3, 2));
/// # Ok::<(), runtime_engine::Error>(())
/// ```
pub struct TypedFunc<Params, Results> {
    func: Func,
    _ty: PhantomData<fn(Params) -> Results>,
}

impl<Params, Results> Clone for TypedFunc<Params, Results> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<Params, Results> Copy for TypedFunc<Params, Results> {}

impl<Params, Results> std::fmt::Debug for TypedFunc<Params, Results> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TypedFunc")
            .field("func", &self.func)
            .finish()
    }
}

impl<Params: WasmParams, Results: WasmResults> TypedFunc<Params, Results> {
    pub(super) fn new_unchecked(func: Func) -> Self {
        TypedFunc {
            func,
            _ty: PhantomData,
        }
    }

    /// The untyped function.
    pub fn func(&self) -> &Func {
        &self.func
    }

    /// Calls the function. A trap is an [`Error::Trap`]; an error a host function returned
    /// comes out unchanged; a host function's panic resumes here.
    ///
    /// # Panics
    ///
    /// If the function belongs to another store.
    pub fn call(&self, mut store: impl AsContextMut, params: Params) -> Result<Results> {
        let store = store.as_context_mut().0;
        let n = Params::COUNT.max(Results::COUNT);
        if n <= 4 {
            self.call_in(store, params, &mut [0u128; 4])
        } else if n <= 16 {
            self.call_in(store, params, &mut [0u128; 16])
        } else {
            self.call_in(store, params, &mut vec![0u128; n])
        }
    }

    #[inline]
    fn call_in<T: 'static>(
        &self,
        store: &mut StoreInner<T>,
        params: Params,
        slots: &mut [u128],
    ) -> Result<Results> {
        let index = self.func.checked(&store.opaque);
        params.store(&store.opaque, slots)?;
        call_raw(store, index, slots)?;
        Ok(Results::load(&store.opaque, slots))
    }
}
