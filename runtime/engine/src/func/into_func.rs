//! Phase 6, call: Rust closures as host functions. A closure's parameter types (after an
//! optional leading [`Caller`]) and its return type give the wasm signature; its body runs
//! over the raw slots of the host trampoline.

use super::typed::raw::WasmParamsRaw;
use super::typed::{valtypes, WasmTy};
use super::{Caller, HostFunc};
use crate::engine::Engine;
use crate::error::Result;
use crate::store::{StoreInner, StoreOpaque};
use crate::types::{FuncType, ValType};

pub(crate) mod raw {
    use super::*;

    /// How a closure's return value becomes the function's results.
    pub trait WasmRetRaw {
        /// Appends the result types.
        fn valtypes(out: &mut Vec<ValType>);
        /// Writes the results into the slots, or passes on the closure's error.
        fn store_ret(self, store: &StoreOpaque, slots: &mut [u128]) -> Result<()>;
    }

    /// How a closure becomes a [`HostFunc`].
    pub trait IntoFuncRaw<T, Params, Results> {
        /// The host function running this closure.
        fn into_host_func(self, engine: &Engine) -> HostFunc<T>;
    }
}

use raw::{IntoFuncRaw, WasmRetRaw};

/// What a host closure may return: `()`, one [`WasmTy`] value, a tuple of them, or any of
/// these in a [`Result`](crate::Result) (an `Err` stops the calling wasm code).
pub trait WasmRet: WasmRetRaw {}

impl<R: WasmRetRaw> WasmRet for R {}

impl<P: WasmParamsRaw> WasmRetRaw for P {
    fn valtypes(out: &mut Vec<ValType>) {
        P::valtypes(out)
    }
    #[inline]
    fn store_ret(self, store: &StoreOpaque, slots: &mut [u128]) -> Result<()> {
        self.store(store, slots)
    }
}

impl<P: WasmParamsRaw> WasmRetRaw for Result<P> {
    fn valtypes(out: &mut Vec<ValType>) {
        P::valtypes(out)
    }
    #[inline]
    fn store_ret(self, store: &StoreOpaque, slots: &mut [u128]) -> Result<()> {
        self?.store(store, slots)
    }
}

/// A Rust closure usable as a host function for stores with host data `T`: `Fn(A1, ..., An)
/// -> R` or `Fn(Caller<'_, T>, A1, ..., An) -> R` with up to 16 [`WasmTy`] parameters and a
/// [`WasmRet`] result, `Send + Sync + 'static`. See [`Func::wrap`](crate::Func::wrap).
pub trait IntoFunc<T, Params, Results>:
    IntoFuncRaw<T, Params, Results> + Send + Sync + 'static
{
}

impl<X, T, Params, Results> IntoFunc<T, Params, Results> for X where
    X: IntoFuncRaw<T, Params, Results> + Send + Sync + 'static
{
}

fn signature<Params: WasmParamsRaw, R: WasmRetRaw>() -> FuncType {
    let mut results = Vec::new();
    R::valtypes(&mut results);
    FuncType::new(valtypes::<Params>(), results)
}

macro_rules! into_func {
    ($(($($a:ident)*);)*) => {$(
        #[allow(non_snake_case)]
        impl<T: 'static, F, R, $($a,)*> IntoFuncRaw<T, ($($a,)*), R> for F
        where
            F: Fn($($a),*) -> R + Send + Sync + 'static,
            $($a: WasmTy,)*
            R: WasmRet,
        {
            fn into_host_func(self, engine: &Engine) -> HostFunc<T> {
                let ty = signature::<($($a,)*), R>();
                HostFunc::new(engine, ty, move |store: &mut StoreInner<T>, _caller, slots| {
                    let ($($a,)*) = <($($a,)*) as WasmParamsRaw>::load(&store.opaque, slots);
                    self($($a),*).store_ret(&store.opaque, slots)
                })
            }
        }

        #[allow(non_snake_case)]
        impl<T: 'static, F, R, $($a,)*> IntoFuncRaw<T, (Caller<'_, T>, $($a,)*), R> for F
        where
            F: Fn(Caller<'_, T>, $($a),*) -> R + Send + Sync + 'static,
            $($a: WasmTy,)*
            R: WasmRet,
        {
            fn into_host_func(self, engine: &Engine) -> HostFunc<T> {
                let ty = signature::<($($a,)*), R>();
                HostFunc::new(engine, ty, move |store: &mut StoreInner<T>, caller, slots| {
                    let ($($a,)*) = <($($a,)*) as WasmParamsRaw>::load(&store.opaque, slots);
                    let ret = self(Caller::new(store, caller), $($a),*);
                    ret.store_ret(&store.opaque, slots)
                })
            }
        }
    )*};
}

into_func! {
    ();
    (A0);
    (A0 A1);
    (A0 A1 A2);
    (A0 A1 A2 A3);
    (A0 A1 A2 A3 A4);
    (A0 A1 A2 A3 A4 A5);
    (A0 A1 A2 A3 A4 A5 A6);
    (A0 A1 A2 A3 A4 A5 A6 A7);
    (A0 A1 A2 A3 A4 A5 A6 A7 A8);
    (A0 A1 A2 A3 A4 A5 A6 A7 A8 A9);
    (A0 A1 A2 A3 A4 A5 A6 A7 A8 A9 A10);
    (A0 A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11);
    (A0 A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12);
    (A0 A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12 A13);
    (A0 A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12 A13 A14);
    (A0 A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12 A13 A14 A15);
}
