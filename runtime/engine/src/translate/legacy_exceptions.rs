//! Phase 3, translate: the legacy exception instructions (`try`, `catch`, `catch_all`,
//! `delegate`, `rethrow`) on the machinery of `try_table` (see `exceptions.rs`).
//!
//! A `try` pushes a landing pad as the throw target of its body. At the first `catch` or
//! `catch_all` the body ends: the pad loads the pending exception and each clause adds one
//! tag test, whose match starts the clause's body with the payload on the stack (the
//! exception cleared, and kept for `rethrow`). At `end`, a test chain without `catch_all`
//! jumps to the enclosing throw target with the exception still pending. `delegate l`
//! makes the pad jump to the throw target that is in effect just inside label `l`.

use super::env::readonly;
use super::{block_args, ControlFrame, FrameKind, FuncTranslator};
use crate::vmoffsets as off;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, Block, InstBuilder, MemFlagsData, Value};
use wasmparser::BlockType;

/// A legacy `try` frame's state.
pub(super) struct LegacyTry {
    /// The landing pad: the throw target of the body while `in_body`.
    pad: Block,
    /// Whether the body is being translated (the pad is on `throw_targets`).
    in_body: bool,
    /// After the first clause: the caught exception and its tag, loaded at the pad.
    caught: Option<(Value, Value)>,
    /// Where the next clause's tag test goes; `None` after `catch_all`.
    dispatch: Option<Block>,
    /// For `delegate`: where the pad sends the exception.
    delegate: Option<Block>,
}

impl ControlFrame {
    /// Whether this frame's landing pad is currently a throw target (a `try_table`, or a
    /// `try` whose body is being translated).
    fn has_active_pad(&self) -> bool {
        self.landing_pad.is_some() || self.legacy.as_ref().is_some_and(|t| t.in_body)
    }
}

impl FuncTranslator<'_, '_> {
    /// `try bt`: a block whose body throws to a new landing pad.
    pub(super) fn translate_try(&mut self, blockty: BlockType) {
        let (params, results) = self.block_sig(blockty);
        let end = self.block_with_params(&results);
        let pad = self.b.create_block();
        self.throw_targets.push(pad);
        let height = self.stack.len() - params.len();
        self.control.push(ControlFrame {
            legacy: Some(LegacyTry {
                pad,
                in_body: true,
                caught: None,
                dispatch: None,
                delegate: None,
            }),
            ..ControlFrame::block(end, results.len(), height)
        });
    }

    /// `catch tag` (`Some`) or `catch_all` (`None`): ends the body or the previous clause and
    /// starts this clause's body, reached when the tag matches.
    pub(super) fn translate_catch(&mut self, tag_index: Option<u32>) {
        let frame = self.control.last_mut().expect("catch follows try");
        if frame.kind == FrameKind::Dead {
            return;
        }
        let (end, height, n) = (frame.end, frame.height, frame.num_results);
        if self.reachable {
            frame.end_reached = true;
            let args = self.stack.split_off(self.stack.len() - n);
            self.b.ins().jump(end, &block_args(&args));
        }
        self.stack.truncate(height);
        let t = frame.legacy.as_mut().expect("validated: catch follows try");
        let (exn, tag) = if t.in_body {
            // The body is done: from here on, exceptions go to the enclosing target.
            t.in_body = false;
            let pad = t.pad;
            self.throw_targets.pop();
            self.b.switch_to_block(pad);
            let limits = self.limits();
            let flags = MemFlagsData::trusted();
            let exn = self
                .b
                .ins()
                .load(types::I64, flags, limits, off::LIMITS_PENDING_EXCEPTION);
            let tag = self
                .b
                .ins()
                .load(types::I32, flags, exn, off::EXCEPTION_TAG);
            self.legacy_frame().caught = Some((exn, tag));
            (exn, tag)
        } else {
            let dispatch = t.dispatch.expect("validated: no clause follows catch_all");
            let caught = t.caught.expect("a clause loaded the exception");
            self.b.switch_to_block(dispatch);
            caught
        };
        let next = tag_index.map(|index| {
            let vmctx = self.env.vmctx(&mut self.b);
            let expected = self.b.ins().load(
                types::I32,
                readonly(),
                vmctx,
                self.env.offsets.tag(index) as i32,
            );
            let matched = self.b.create_block();
            let next = self.b.create_block();
            let eq = self.b.ins().icmp(IntCC::Equal, tag, expected);
            self.b.ins().brif(eq, matched, &[], next, &[]);
            self.b.seal_block(matched);
            self.b.switch_to_block(matched);
            next
        });
        self.legacy_frame().dispatch = next;
        let limits = self.limits();
        let flags = MemFlagsData::trusted();
        let zero = self.b.ins().iconst(types::I64, 0);
        self.b
            .ins()
            .store(flags, zero, limits, off::LIMITS_PENDING_EXCEPTION);
        if let Some(index) = tag_index {
            let payload = self.catch_payload(exn, index);
            self.stack.extend(payload);
        }
        self.reachable = true;
    }

    /// `rethrow l`: throws again the exception caught by the clause of label `l`.
    pub(super) fn translate_rethrow(&mut self, relative_depth: u32) {
        let i = self.control.len() - 1 - relative_depth as usize;
        let (exn, _) = self.control[i]
            .legacy
            .as_ref()
            .and_then(|t| t.caught)
            .expect("validated: rethrow names a catch clause");
        let limits = self.limits();
        self.b.ins().store(
            MemFlagsData::trusted(),
            exn,
            limits,
            off::LIMITS_PENDING_EXCEPTION,
        );
        let target = self.throw_target();
        self.b.ins().jump(target, &[]);
        self.set_unreachable();
    }

    /// `delegate l`: ends the `try`; its body's exceptions go where a throw just inside label
    /// `l` (counted from outside the `try`) would go.
    pub(super) fn translate_delegate(&mut self, relative_depth: u32) {
        if self
            .control
            .last()
            .is_some_and(|f| f.kind != FrameKind::Dead)
        {
            let target_frame = self.control.len() - 2 - relative_depth as usize;
            let pads_above = self.control[target_frame + 1..]
                .iter()
                .filter(|f| f.has_active_pad())
                .count();
            let target = match self.throw_targets.len().checked_sub(pads_above + 1) {
                Some(i) => self.throw_targets[i],
                None => self.propagate_block(),
            };
            self.legacy_frame().delegate = Some(target);
        }
        self.translate_end();
    }

    /// Fills a `try`'s pad or the end of its test chain; called at its `end` (or `delegate`),
    /// with the frame already popped.
    pub(super) fn finish_legacy_try(&mut self, t: LegacyTry) {
        let (block, target) = if t.in_body {
            // No clause (`try ... end`, or `delegate`): the pad passes the exception on.
            self.throw_targets.pop();
            let target = t.delegate.unwrap_or_else(|| self.throw_target());
            (t.pad, target)
        } else if let Some(dispatch) = t.dispatch {
            // No `catch_all`: an exception no clause matched goes on unwinding.
            (dispatch, self.throw_target())
        } else {
            return;
        };
        self.b.switch_to_block(block);
        self.b.ins().jump(target, &[]);
    }

    /// The innermost frame's legacy `try` state.
    fn legacy_frame(&mut self) -> &mut LegacyTry {
        self.control
            .last_mut()
            .and_then(|f| f.legacy.as_mut())
            .expect("validated: inside a try")
    }
}

#[cfg(test)]
mod tests {
    use crate::{Config, Engine, Instance, Module, Store, Val};

    fn engine() -> Engine {
        let mut config = Config::new();
        config.wasm_legacy_exceptions(true);
        Engine::new(&config).unwrap()
    }

    #[test]
    fn rejected_without_the_feature() {
        let wat = "(module (func try end))";
        let err = Module::new(&Engine::default(), wat)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("legacy"), "{err}");
        Module::new(&engine(), wat).unwrap();
    }

    #[test]
    fn catch_in_dead_code_keeps_the_nesting() {
        // A `try` opened in unreachable code, and a reachable `try` whose body ends
        // unreachably, must both translate.
        let wat = r#"(module (tag $e (param i32))
          (func (export "f") (result i32)
            (block
              br 0
              try (result i32) i32.const 1 catch $e catch_all i32.const 2 end
              drop)
            try (result i32) i32.const 7 throw $e catch $e end))"#;
        let mut store = Store::new(&engine(), ());
        let module = Module::new(store.engine(), wat).unwrap();
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let f = instance.get_func(&mut store, "f").unwrap();
        let mut out = [Val::I32(0)];
        f.call(&mut store, &[], &mut out).unwrap();
        assert_eq!(out[0].i32(), Some(7));
    }
}
