//! Phase 4, compile: where in a cache line each function should start.
//!
//! A loop whose code spans one more 64-byte line than it needs fetches (and, on x86_64, decodes
//! or reads from the op cache) one more line on every iteration: in a tight loop that is a
//! large, placement-dependent slow-down (shootout-sieve's inner loop took 30% longer when it
//! crossed a line than when it did not). Cranelift does not align loop headers, but a
//! function's code does not depend on where it is placed, so the linker can choose the
//! function's start within a line (its *phase*) to keep its loops in the fewest lines, at the
//! cost of at most `LINE - 1` bytes of padding before it. Any byte is a candidate: x86_64 code
//! needs no alignment (Cranelift's minimum is 1), only a function's constants do, and then
//! the function's alignment says so. One byte can matter: shootout-sieve's scan loop ended
//! two bytes into a third line at every 16-byte phase that kept its inner loop in one.
//!
//! The loops are found from the compiled code's block layout: an edge to a block at or before
//! its source is a back edge, and the loop it closes spans from its target to the end of its
//! source block.

/// The line size placement optimises for (x86_64 and aarch64 cache lines, Zen's op-cache
/// windows).
pub const LINE: u32 = 64;

/// Loops longer than this many lines are left out: one more line hardly matters to them.
const MAX_LOOP_LINES: u32 = 4;

/// The phase (start offset modulo [`LINE`]) at which a function with these blocks' start
/// offsets (ascending) and edges (`(from, to)` block starts, as Cranelift reports them)
/// should be placed, among the multiples of `alignment` below [`LINE`]; `None` if it has no
/// loop worth placing or every phase does as well. Innermost loops count first, then all;
/// ties go to the smallest phase.
pub fn phase(len: u32, block_starts: &[u32], edges: &[(u32, u32)], alignment: u32) -> Option<u32> {
    let step = alignment.max(1);
    if step >= LINE {
        return None;
    }
    // Cranelift lists block starts in emission order, so ascending.
    debug_assert!(block_starts.is_sorted());
    let end_of = |from: u32| {
        let next = block_starts.partition_point(|s| *s <= from);
        block_starts.get(next).copied().unwrap_or(len)
    };
    let mut loops: Vec<(u32, u32)> = edges
        .iter()
        .filter(|(from, to)| to <= from)
        .map(|(from, to)| (*to, end_of(*from)))
        .filter(|(start, end)| end > start && end - start <= MAX_LOOP_LINES * LINE)
        .collect();
    loops.sort_unstable();
    loops.dedup();
    if loops.is_empty() {
        return None;
    }
    // Sorted by start then end: a loop contains another only if that one starts within it,
    // so each looks at its few neighbours (loops are short), not at all the others.
    let innermost: Vec<bool> = (0..loops.len())
        .map(|i| {
            let (s, e) = loops[i];
            let later = loops[i + 1..]
                .iter()
                .take_while(|(s2, _)| *s2 < e)
                .any(|(_, e2)| *e2 <= e);
            let same_start = i > 0 && loops[i - 1].0 == s;
            !later && !same_start
        })
        .collect();
    let cost = |phase: u32| {
        let (mut inner, mut all) = (0u32, 0u32);
        for (&(start, end), &is_inner) in loops.iter().zip(&innermost) {
            let lines = (phase + end - 1) / LINE - (phase + start) / LINE + 1;
            all += lines;
            if is_inner {
                inner += lines;
            }
        }
        (inner, all)
    };
    let costs: Vec<(u32, (u32, u32))> = (0..LINE)
        .step_by(step as usize)
        .map(|p| (p, cost(p)))
        .collect();
    let best = costs.iter().min_by_key(|(p, c)| (*c, *p))?;
    // Where every phase is as good, no padding is worth it.
    costs.iter().any(|(_, c)| *c != best.1).then_some(best.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_function_without_loops_has_no_phase() {
        assert_eq!(phase(100, &[0, 40, 80], &[(0, 40), (40, 80)], 1), None);
    }

    #[test]
    fn a_short_loop_is_kept_within_one_line() {
        // A 26-byte loop at offset 49 fits in one line when (phase + 49) % 64 <= 38: from
        // phase 15 to 53, not below; the smallest wins.
        let p = phase(200, &[0, 49, 75], &[(0, 49), (49, 49), (49, 75)], 1).unwrap();
        assert_eq!(p, 15);
        assert!((p + 49) / LINE == (p + 75 - 1) / LINE);
    }

    #[test]
    fn inner_loops_come_before_outer_ones() {
        // Outer loop [10, 150), inner loop [60, 90): phase 0 splits the inner loop, 16 and 32
        // keep it in one line and the outer one in three; 16 is the smaller.
        let starts = [0, 10, 60, 90, 150];
        let edges = [(60, 60), (90, 10), (10, 60)];
        assert_eq!(phase(160, &starts, &edges, 16), Some(16));
    }

    #[test]
    fn one_byte_can_keep_both_loops_in_their_fewest_lines() {
        // Shootout-sieve's loops as Cranelift lays them out: outer [0x166, 0x1c2) (92 bytes,
        // two lines at best), inner [0x18a, 0x1a5) (one). At 16-byte phases the outer loop
        // takes three lines wherever the inner one takes one; at 26, 27 and 54 to 62 both fit.
        let starts = [0, 0x166, 0x179, 0x185, 0x18a, 0x1a5, 0x1ab, 0x1ba, 0x1c2];
        let edges = [(0x18a, 0x18a), (0x1ba, 0x166), (0x166, 0x179)];
        let lines = |p: u32, (s, e): (u32, u32)| (p + e - 1) / LINE - (p + s) / LINE + 1;
        for p in (0..LINE).step_by(16) {
            assert!(lines(p, (0x18a, 0x1a5)) + lines(p, (0x166, 0x1c2)) > 3);
        }
        let p = phase(0x200, &starts, &edges, 1).unwrap();
        assert_eq!(p, 26);
        assert_eq!((lines(p, (0x18a, 0x1a5)), lines(p, (0x166, 0x1c2))), (1, 2));
    }

    #[test]
    fn phases_respect_the_function_alignment() {
        // [33, 70) takes two lines at phase 0 and one at 32; 16 and 48 are not candidates.
        assert_eq!(phase(200, &[0, 33, 70], &[(33, 33)], 32), Some(32));
        assert_eq!(phase(200, &[0, 33, 70], &[(33, 33)], 64), None);
    }

    #[test]
    fn a_loop_that_fits_at_every_phase_asks_for_no_padding() {
        // 10 bytes at offset 0: one line wherever the function starts on a 16-byte boundary.
        assert_eq!(phase(40, &[0, 10], &[(0, 0), (0, 10)], 16), None);
    }

    #[test]
    fn long_loops_are_left_alone() {
        assert_eq!(phase(1000, &[0, 10, 900], &[(10, 10)], 16), None);
    }
}
