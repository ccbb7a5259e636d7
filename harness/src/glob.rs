//! Expectations and groups: a small glob matcher (`*` within one path segment, `**` across
//! segments, `?` one character).

/// Whether `text` matches the glob `pattern`.
pub fn matches(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    match_from(&p, &t)
}

fn match_from(p: &[char], t: &[char]) -> bool {
    match p.first() {
        None => t.is_empty(),
        Some('*') if p.get(1) == Some(&'*') => (0..=t.len()).any(|i| match_from(&p[2..], &t[i..])),
        Some('*') => {
            let segment = t.iter().position(|c| *c == '/').unwrap_or(t.len());
            (0..=segment).any(|i| match_from(&p[1..], &t[i..]))
        }
        Some('?') => t.first().is_some_and(|c| *c != '/') && match_from(&p[1..], &t[1..]),
        Some(c) => t.first() == Some(c) && match_from(&p[1..], &t[1..]),
    }
}

/// Whether `pattern` contains glob characters.
pub fn is_pattern(pattern: &str) -> bool {
    pattern.contains(['*', '?'])
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn stars_and_segments() {
        assert!(matches("simd_*.wast", "simd_lane.wast"));
        assert!(!matches("simd_*.wast", "proposals/x/simd_lane.wast"));
        assert!(matches(
            "proposals/*/*.wast",
            "proposals/threads/atomic.wast"
        ));
        assert!(matches("**.wast", "proposals/threads/atomic.wast"));
        assert!(matches("proposals/**", "proposals/threads/atomic.wast"));
        assert!(matches("*64.wast", "table64.wast"));
        assert!(!matches("*64.wast", "table64.wasm"));
        assert!(matches("i32.wast", "i32.wast"));
        assert!(!matches("i32.wast", "i32.wast2"));
        assert!(matches("f??.wast", "f32.wast"));
        assert!(matches("*", ""));
    }
}
