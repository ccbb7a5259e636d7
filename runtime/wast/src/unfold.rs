//! Script runner: rewrites the folded legacy exception syntax, which the `wast` parser does
//! not know, into the flat form it does, before a script is parsed.
//!
//! ```text
//! (try $l? bt (do i*) (catch x i*)* (catch_all i*)?)  =>  try $l? bt i* catch x i* ... catch_all i* end
//! (try $l? bt (do i*) (delegate l))                   =>  try $l? bt i* delegate l
//! ```
//!
//! Only the parentheses and the `do` keyword are replaced (by spaces) and `end` inserted, so
//! lines stay where they were. A `try` form that does not match the grammar exactly (a
//! clause after `catch_all`, a second `delegate`, a `delegate` without a label, ...) is left
//! as written, so that the parser rejects it as malformed, as the reference parser does.

use std::borrow::Cow;

/// One parenthesised form or atom of the text, by byte offsets.
enum Node {
    Atom(usize, usize),
    List {
        open: usize,
        close: usize,
        children: Vec<Node>,
    },
}

/// Returns `text` with every well-formed folded `try` in flat form.
pub fn unfold_legacy_try(text: &str) -> Cow<'_, str> {
    if !text.contains("try") {
        return Cow::Borrowed(text);
    }
    let Some(nodes) = parse(text.as_bytes()) else {
        // Unbalanced parentheses or an unterminated string: the parser will say so.
        return Cow::Borrowed(text);
    };
    let mut edits = Vec::new();
    for node in &nodes {
        collect(text, node, &mut edits);
    }
    if edits.is_empty() {
        return Cow::Borrowed(text);
    }
    edits.sort_by_key(|e| e.0);
    let mut out = String::with_capacity(text.len() + edits.len());
    let mut at = 0;
    for (pos, len, with) in edits {
        out.push_str(&text[at..pos]);
        out.push_str(with);
        at = pos + len;
    }
    out.push_str(&text[at..]);
    Cow::Owned(out)
}

/// Splits `text` into forms, skipping comments; `None` if it is not balanced.
fn parse(text: &[u8]) -> Option<Vec<Node>> {
    let mut stack: Vec<(usize, Vec<Node>)> = Vec::new();
    let mut top = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let c = text[i];
        match c {
            b';' if text.get(i + 1) == Some(&b';') => {
                while i < text.len() && text[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'(' if text.get(i + 1) == Some(&b';') => {
                i = skip_block_comment(text, i)?;
                continue;
            }
            b'(' => {
                stack.push((i, std::mem::take(&mut top)));
                i += 1;
                continue;
            }
            b')' => {
                let (open, parent) = stack.pop()?;
                let children = std::mem::replace(&mut top, parent);
                top.push(Node::List {
                    open,
                    close: i,
                    children,
                });
                i += 1;
                continue;
            }
            b'"' => {
                let start = i;
                i += 1;
                loop {
                    match text.get(i)? {
                        b'\\' => i += 2,
                        b'"' => break,
                        _ => i += 1,
                    }
                }
                i += 1;
                top.push(Node::Atom(start, i));
                continue;
            }
            c if c.is_ascii_whitespace() => {
                i += 1;
                continue;
            }
            _ => {}
        }
        let start = i;
        while i < text.len() && !is_delimiter(text, i) {
            i += 1;
        }
        top.push(Node::Atom(start, i));
    }
    stack.is_empty().then_some(top)
}

/// Whether an atom ends before byte `i`.
fn is_delimiter(text: &[u8], i: usize) -> bool {
    matches!(text[i], b'(' | b')' | b'"')
        || text[i].is_ascii_whitespace()
        || (text[i] == b';' && text.get(i + 1) == Some(&b';'))
}

/// The offset just past the (nested) block comment starting at `i`.
fn skip_block_comment(text: &[u8], mut i: usize) -> Option<usize> {
    let mut depth = 0;
    loop {
        match (text.get(i)?, text.get(i + 1)) {
            (b'(', Some(b';')) => {
                depth += 1;
                i += 2;
            }
            (b';', Some(b')')) => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => i += 1,
        }
    }
}

/// Records the edits of every well-formed folded `try` in `node`.
fn collect(text: &str, node: &Node, edits: &mut Vec<(usize, usize, &'static str)>) {
    let Node::List {
        open,
        close,
        children,
    } = node
    else {
        return;
    };
    for child in children {
        collect(text, child, edits);
    }
    if head(text, node) != Some("try") {
        return;
    }
    let mut rest = &children[1..];
    if let Some(Node::Atom(s, _)) = rest.first() {
        if text[*s..].starts_with('$') {
            rest = &rest[1..];
        }
    }
    while rest
        .first()
        .is_some_and(|n| matches!(head(text, n), Some("type" | "param" | "result")))
    {
        rest = &rest[1..];
    }
    let Some((body, clauses)) = rest.split_first() else {
        return;
    };
    if head(text, body) != Some("do") {
        return;
    }
    let delegate = match clauses {
        [one] if head(text, one) == Some("delegate") => {
            if !matches!(one, Node::List { children, .. } if children.len() == 2
                && matches!(children[1], Node::Atom(..)))
            {
                return;
            }
            true
        }
        _ => {
            let mut seen_catch_all = false;
            for clause in clauses {
                match head(text, clause) {
                    Some("catch") if !seen_catch_all => {
                        let Node::List { children, .. } = clause else {
                            return;
                        };
                        if !matches!(children.get(1), Some(Node::Atom(..))) {
                            return;
                        }
                    }
                    Some("catch_all") if !seen_catch_all => seen_catch_all = true,
                    _ => return,
                }
            }
            false
        }
    };
    edits.push((*open, 1, " "));
    edits.push((*close, 1, if delegate { " " } else { " end " }));
    for part in std::iter::once(body).chain(clauses) {
        let Node::List {
            open,
            close,
            children,
        } = part
        else {
            unreachable!("clauses are lists");
        };
        edits.push((*open, 1, " "));
        edits.push((*close, 1, " "));
        if head(text, part) == Some("do") {
            let Node::Atom(s, e) = children[0] else {
                unreachable!("a head is an atom");
            };
            edits.push((s, e - s, "  "));
        }
    }
}

/// The keyword a list starts with.
fn head<'t>(text: &'t str, node: &Node) -> Option<&'t str> {
    match node {
        Node::List { children, .. } => match children.first() {
            Some(Node::Atom(s, e)) => Some(&text[*s..*e]),
            _ => None,
        },
        Node::Atom(..) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::unfold_legacy_try as unfold;

    /// The rewrite with runs of whitespace collapsed.
    fn flat(text: &str) -> String {
        unfold(text)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn catch_clauses_become_flat() {
        assert_eq!(
            flat("(try (result i32) (do (i32.const 1)) (catch $e (drop) (i32.const 2)) (catch_all (i32.const 3)))"),
            "try (result i32) (i32.const 1) catch $e (drop) (i32.const 2) catch_all (i32.const 3) end"
        );
        assert_eq!(flat("(try (do) (catch 0))"), "try catch 0 end");
        assert_eq!(flat("(try $l (do nop))"), "try $l nop end");
    }

    #[test]
    fn delegate_becomes_flat() {
        assert_eq!(
            flat("(try $t (type 0) (param i32) (do (call $f)) (delegate $outer))"),
            "try $t (type 0) (param i32) (call $f) delegate $outer"
        );
    }

    #[test]
    fn nested_tries_are_all_rewritten() {
        assert_eq!(
            flat("(func (try (do (try (do (throw $e)) (delegate 0))) (catch $e (try (do) (catch_all (rethrow 1))))))"),
            "(func try try (throw $e) delegate 0 catch $e try catch_all (rethrow 1) end end )"
        );
    }

    #[test]
    fn lines_are_kept() {
        let text = "(module\n  (func\n    (try\n      (do\n        nop)\n      (catch_all\n        unreachable)))\n  (func))";
        let out = unfold(text);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), text.lines().count());
        assert_eq!(lines[2].trim(), "try");
        assert_eq!(lines[4].trim(), "nop");
        assert_eq!(lines[5].trim(), "catch_all");
        assert_eq!(lines[6].trim(), "unreachable  end )");
    }

    #[test]
    fn malformed_forms_are_left_alone() {
        for text in [
            "(try (do) (catch_all) (catch_all))",
            "(try (do) (catch_all) (catch $e))",
            "(try (do) (catch $e) (delegate 0))",
            "(try (do) (catch_all) (delegate 0))",
            "(try (do) (delegate) (delegate 0))",
            "(try (do) (delegate 0 1))",
            "(try (do) (catch))",
            "(try (catch_all))",
            "(try (do) (do))",
            "(try nop (do))",
        ] {
            assert_eq!(unfold(text), text);
        }
    }

    #[test]
    fn strings_comments_and_other_forms_are_untouched() {
        for text in [
            "(func (export \"(try (do))\") (try_table (do)))",
            ";; (try (do) (catch_all))\n(func)",
            "(; (try (do)) (; nested ;) ;) (func $try)",
            "(func (try (do)",
            "(module quote \"(try (do) (catch_all))\")",
        ] {
            assert_eq!(unfold(text), text);
        }
    }

    #[test]
    fn rewritten_text_parses() {
        let text = "(module (tag $e (param i32))\n  (func (result i32)\n    (try (result i32)\n      (do (i32.const 1) (throw $e))\n      (catch $e)\n      (catch_all (i32.const 2)))))";
        let unfolded = unfold(text);
        let buf = wast::parser::ParseBuffer::new(&unfolded).unwrap();
        wast::parser::parse::<wast::Wat>(&buf).unwrap();
        let buf = wast::parser::ParseBuffer::new(text).unwrap();
        assert!(
            wast::parser::parse::<wast::Wat>(&buf).is_err(),
            "wast learnt the folded form"
        );
    }
}
