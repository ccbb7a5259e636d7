//! `cargo xtask tidy`: structural checks the compiler does not make. The engine's modules
//! form a chain without import cycles (at every level of the module tree), and the host
//! crates contain no `unsafe`; every `unsafe fn` of the engine documents its contract.
//!
//! The module graph is read from the sources with `syn`: every path a module names
//! (`use` items, paths in code and in macro arguments) that resolves, through the crate's
//! `mod` and `use` items, to another module is an edge. An edge between two modules counts
//! between their ancestors that are siblings (an edge from `translate/env.rs` to
//! `vm/libcalls.rs` is `translate → vm` at the crate's top level), so each module's children
//! must form a graph without cycles; a module and its own descendants are one unit. Test
//! code (`#[cfg(test)]`) is left out: it is not part of the built engine.

use proc_macro2::{TokenStream, TokenTree};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use syn::visit::Visit;

/// The engine crate's root, relative to the workspace.
const ENGINE_ROOT: &str = "runtime/engine/src/lib.rs";

/// Crates that must not contain `unsafe` (their source folders, relative to the workspace).
const SAFE_CRATES: &[&str] = &[
    "runtime/src",
    "runtime/wasi/src",
    "runtime/emscripten/src",
    "runtime/wast/src",
];

/// Runs every check; `Err` lists what failed.
pub fn run(root: &Path, print_graph: bool) -> Result<(), String> {
    let mut failures = Vec::new();
    let mut tree = ModuleTree::load(&root.join(ENGINE_ROOT))?;
    for module in &mut tree.modules {
        if let Ok(relative) = module.file.strip_prefix(root) {
            module.file = relative.to_path_buf();
        }
    }
    let graph = tree.graph();
    let cycles = graph.cycles(&tree);
    if print_graph {
        print!("{}", graph.describe(&tree));
    }
    if cycles.is_empty() {
        println!(
            "tidy: engine module graph: {} modules, {} edges between siblings, no cycle",
            tree.modules.len(),
            graph.edges.values().map(BTreeMap::len).sum::<usize>()
        );
    } else {
        failures.extend(cycles);
    }
    match check_safety_docs(root, &tree) {
        Ok(count) => println!("tidy: engine: {count} unsafe fns, each with a `# Safety` section"),
        Err(e) => failures.push(e),
    }
    for dir in SAFE_CRATES {
        match check_no_unsafe(&root.join(dir)) {
            Ok(files) => println!("tidy: {dir}: {files} files, no `unsafe`"),
            Err(e) => failures.push(e),
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n"))
    }
}

/// One module of the engine: a file or an inline `mod name { ... }`.
struct Module {
    /// Its path below the crate root (empty for the root).
    path: Vec<String>,
    file: PathBuf,
    parent: Option<usize>,
    children: BTreeMap<String, usize>,
    /// `use` items: the name they bind and the path they bind it to.
    uses: BTreeMap<String, Vec<String>>,
    /// Paths the module names, with the line they are on.
    refs: Vec<(Vec<String>, usize)>,
}

struct ModuleTree {
    modules: Vec<Module>,
}

impl ModuleTree {
    fn load(root_file: &Path) -> Result<ModuleTree, String> {
        let mut tree = ModuleTree {
            modules: Vec::new(),
        };
        tree.load_file(root_file, Vec::new(), None, true)?;
        Ok(tree)
    }

    /// Reads a module's file; `owns_dir` when its children live beside it (`lib.rs`,
    /// `mod.rs`) rather than in a folder of its name.
    fn load_file(
        &mut self,
        file: &Path,
        path: Vec<String>,
        parent: Option<usize>,
        owns_dir: bool,
    ) -> Result<usize, String> {
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let ast = syn::parse_file(&text).map_err(|e| {
            format!(
                "cannot parse {}:{}: {e}",
                file.display(),
                e.span().start().line
            )
        })?;
        let dir = if owns_dir {
            file.parent().unwrap_or(Path::new(".")).to_path_buf()
        } else {
            file.with_extension("")
        };
        self.add_items(&ast.items, file, &dir, path, parent)
    }

    fn add_items(
        &mut self,
        items: &[syn::Item],
        file: &Path,
        dir: &Path,
        path: Vec<String>,
        parent: Option<usize>,
    ) -> Result<usize, String> {
        // Inline modules of the same name (one per `cfg`) are one module.
        let existing =
            parent.and_then(|p| path.last().and_then(|n| self.modules[p].children.get(n)));
        let id = match existing {
            Some(&id) => id,
            None => {
                self.modules.push(Module {
                    path: path.clone(),
                    file: file.to_path_buf(),
                    parent,
                    children: BTreeMap::new(),
                    uses: BTreeMap::new(),
                    refs: Vec::new(),
                });
                let id = self.modules.len() - 1;
                if let (Some(p), Some(name)) = (parent, path.last()) {
                    self.modules[p].children.insert(name.clone(), id);
                }
                id
            }
        };
        let mut collector = Collector::default();
        for item in items {
            if is_test_only(item_attrs(item)) {
                continue;
            }
            match item {
                syn::Item::Mod(m) => {
                    let mut child = path.clone();
                    child.push(m.ident.to_string());
                    match &m.content {
                        Some((_, items)) => {
                            let dir = dir.join(m.ident.to_string());
                            self.add_items(items, file, &dir, child, Some(id))?;
                        }
                        None => {
                            let name = m.ident.to_string();
                            let flat = dir.join(format!("{name}.rs"));
                            let nested = dir.join(&name).join("mod.rs");
                            if flat.exists() {
                                self.load_file(&flat, child, Some(id), false)?;
                            } else if nested.exists() {
                                self.load_file(&nested, child, Some(id), true)?;
                            } else {
                                return Err(format!(
                                    "{}: module `{name}` has no file",
                                    file.display()
                                ));
                            }
                        }
                    }
                }
                syn::Item::Use(u) => {
                    let line = u.use_token.span.start().line;
                    let mut leaves = Vec::new();
                    flatten_use(&u.tree, &mut Vec::new(), &mut leaves);
                    for (target, name) in leaves {
                        if let Some(name) = name {
                            self.modules[id].uses.insert(name, target.clone());
                        }
                        collector.refs.push((target, line));
                    }
                }
                other => collector.visit_item(other),
            }
        }
        self.modules[id].refs.extend(collector.refs);
        Ok(id)
    }

    /// The module a path names from module `from`, if it is one of the crate's (an item
    /// resolves to the module that defines it).
    fn resolve(&self, from: usize, segments: &[String], depth: usize) -> Option<usize> {
        if depth > 16 {
            return None;
        }
        let (mut current, mut rest) = match segments.first().map(String::as_str) {
            Some("crate") => (0, &segments[1..]),
            Some("self") => (from, &segments[1..]),
            Some("super") => (self.modules[from].parent?, &segments[1..]),
            Some(first) => {
                let m = &self.modules[from];
                if !m.children.contains_key(first) && !m.uses.contains_key(first) {
                    return None; // another crate, the prelude, or an item of this module
                }
                (from, segments)
            }
            None => return None,
        };
        while let Some(first) = rest.first() {
            if first == "super" {
                current = self.modules[current].parent?;
                rest = &rest[1..];
                continue;
            }
            let m = &self.modules[current];
            if let Some(&child) = m.children.get(first) {
                current = child;
                rest = &rest[1..];
            } else if let Some(target) = m.uses.get(first) {
                let mut full = target.clone();
                full.extend(rest[1..].iter().cloned());
                return self.resolve(current, &full, depth + 1);
            } else {
                break;
            }
        }
        Some(current)
    }

    /// The graph of edges between siblings, with one reference as evidence per edge.
    fn graph(&self) -> Graph {
        let mut graph = Graph::default();
        for (from, module) in self.modules.iter().enumerate() {
            for (segments, line) in &module.refs {
                let Some(to) = self.resolve(from, segments, 0) else {
                    continue;
                };
                let a = &module.path;
                let b = &self.modules[to].path;
                let common = a.iter().zip(b).take_while(|(x, y)| x == y).count();
                if common == a.len() || common == b.len() {
                    continue; // the same module, or an ancestor and its descendant
                }
                let parent = self.find(&a[..common]);
                let (sa, sb) = (self.find(&a[..=common]), self.find(&b[..=common]));
                let evidence = format!(
                    "{}:{line} names `{}`",
                    module.file.display(),
                    segments.join("::")
                );
                graph
                    .edges
                    .entry(parent)
                    .or_default()
                    .entry((sa, sb))
                    .or_insert(evidence);
            }
        }
        graph
    }

    fn find(&self, path: &[String]) -> usize {
        let mut current = 0;
        for name in path {
            current = self.modules[current].children[name];
        }
        current
    }

    fn name(&self, id: usize) -> String {
        match self.modules[id].path.join("::") {
            p if p.is_empty() => "crate".to_string(),
            p => p,
        }
    }
}

/// Edges between the children of each module, keyed by that module.
#[derive(Default)]
struct Graph {
    edges: BTreeMap<usize, BTreeMap<(usize, usize), String>>,
}

impl Graph {
    /// Every cycle among siblings (one per strongly connected component), with its evidence.
    fn cycles(&self, tree: &ModuleTree) -> Vec<String> {
        let mut found = Vec::new();
        for (&parent, edges) in &self.edges {
            let nodes: BTreeSet<usize> = edges.keys().flat_map(|&(a, b)| [a, b]).collect();
            for component in strongly_connected(&nodes, edges) {
                if component.len() < 2 {
                    continue;
                }
                let mut text = format!(
                    "import cycle among the children of `{}`: {}",
                    tree.name(parent),
                    component
                        .iter()
                        .map(|&m| tree.name(m))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                for ((a, b), evidence) in edges {
                    if component.contains(a) && component.contains(b) {
                        let _ = write!(
                            text,
                            "\n  {} -> {}: {evidence}",
                            tree.name(*a),
                            tree.name(*b)
                        );
                    }
                }
                found.push(text);
            }
        }
        found
    }

    /// Each module's children in dependency order (a module after what it uses).
    fn describe(&self, tree: &ModuleTree) -> String {
        let mut out = String::new();
        for (id, module) in tree.modules.iter().enumerate() {
            if module.children.len() < 2 {
                continue;
            }
            let empty = BTreeMap::new();
            let edges = self.edges.get(&id).unwrap_or(&empty);
            let _ = writeln!(out, "{}:", tree.name(id));
            for &child in module.children.values() {
                let uses: Vec<String> = edges
                    .keys()
                    .filter(|&&(a, _)| a == child)
                    .map(|&(_, b)| tree.modules[b].path.last().cloned().unwrap_or_default())
                    .collect();
                let name = module.children.iter().find(|(_, &c)| c == child);
                let name = name.map(|(n, _)| n.as_str()).unwrap_or("?");
                let _ = writeln!(out, "  {name} -> {}", uses.join(", "));
            }
        }
        out
    }
}

/// Tarjan's algorithm over the nodes and edges of one sibling graph.
fn strongly_connected(
    nodes: &BTreeSet<usize>,
    edges: &BTreeMap<(usize, usize), String>,
) -> Vec<BTreeSet<usize>> {
    struct State<'a> {
        edges: &'a BTreeMap<(usize, usize), String>,
        index: BTreeMap<usize, usize>,
        low: BTreeMap<usize, usize>,
        stack: Vec<usize>,
        on_stack: BTreeSet<usize>,
        out: Vec<BTreeSet<usize>>,
    }
    fn visit(s: &mut State<'_>, v: usize) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        s.on_stack.insert(v);
        let next: Vec<usize> = s
            .edges
            .keys()
            .filter(|&&(a, _)| a == v)
            .map(|&(_, b)| b)
            .collect();
        for w in next {
            if !s.index.contains_key(&w) {
                visit(s, w);
                let low = s.low[&v].min(s.low[&w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(&w) {
                let low = s.low[&v].min(s.index[&w]);
                s.low.insert(v, low);
            }
        }
        if s.low[&v] == s.index[&v] {
            let mut component = BTreeSet::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(&w);
                component.insert(w);
                if w == v {
                    break;
                }
            }
            s.out.push(component);
        }
    }
    let mut state = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for &v in nodes {
        if !state.index.contains_key(&v) {
            visit(&mut state, v);
        }
    }
    state.out
}

/// Paths named in code: types, expressions, patterns, and the arguments of macros.
#[derive(Default)]
struct Collector {
    refs: Vec<(Vec<String>, usize)>,
}

impl<'ast> Visit<'ast> for Collector {
    fn visit_path(&mut self, path: &'ast syn::Path) {
        if path.segments.len() > 1 || path.leading_colon.is_none() {
            let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
            let line = path
                .segments
                .first()
                .map_or(0, |s| s.ident.span().start().line);
            self.refs.push((segments, line));
        }
        syn::visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.visit_path(&mac.path);
        macro_paths(mac.tokens.clone(), &mut self.refs);
    }

    fn visit_item_mod(&mut self, _: &'ast syn::ItemMod) {
        // Handled by the module tree.
    }

    fn visit_item_use(&mut self, _: &'ast syn::ItemUse) {
        // Handled by the module tree; `use` inside function bodies too, as a path.
    }

    fn visit_attribute(&mut self, _: &'ast syn::Attribute) {}

    fn visit_block(&mut self, block: &'ast syn::Block) {
        for stmt in &block.stmts {
            if let syn::Stmt::Item(syn::Item::Use(u)) = stmt {
                let mut leaves = Vec::new();
                flatten_use(&u.tree, &mut Vec::new(), &mut leaves);
                let line = u.use_token.span.start().line;
                self.refs
                    .extend(leaves.into_iter().map(|(path, _)| (path, line)));
            } else {
                self.visit_stmt(stmt);
            }
        }
    }
}

/// `a::b::c` sequences in a macro's tokens (the macro's input is not parsed as code).
fn macro_paths(tokens: TokenStream, refs: &mut Vec<(Vec<String>, usize)>) {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i] {
            TokenTree::Group(g) => macro_paths(g.stream(), refs),
            TokenTree::Ident(first) => {
                let mut segments = vec![first.to_string()];
                let line = first.span().start().line;
                let mut j = i + 1;
                while j + 2 < tokens.len() + 1 {
                    match (&tokens.get(j), &tokens.get(j + 1), &tokens.get(j + 2)) {
                        (
                            Some(TokenTree::Punct(a)),
                            Some(TokenTree::Punct(b)),
                            Some(TokenTree::Ident(n)),
                        ) if a.as_char() == ':' && b.as_char() == ':' => {
                            segments.push(n.to_string());
                            j += 3;
                        }
                        _ => break,
                    }
                }
                if segments.len() > 1 {
                    refs.push((segments, line));
                }
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
}

/// The leaves of a `use` tree: each full path and the name it binds (`None` for a glob).
fn flatten_use(
    tree: &syn::UseTree,
    prefix: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, Option<String>)>,
) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            flatten_use(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) => {
            let mut path = prefix.clone();
            let name = n.ident.to_string();
            if name == "self" {
                let bound = prefix.last().cloned();
                out.push((path, bound));
            } else {
                path.push(name.clone());
                out.push((path, Some(name)));
            }
        }
        syn::UseTree::Rename(r) => {
            let mut path = prefix.clone();
            if r.ident != "self" {
                path.push(r.ident.to_string());
            }
            out.push((path, Some(r.rename.to_string())));
        }
        syn::UseTree::Glob(_) => out.push((prefix.clone(), None)),
        syn::UseTree::Group(g) => {
            for tree in &g.items {
                flatten_use(tree, prefix, out);
            }
        }
    }
}

fn item_attrs(item: &syn::Item) -> &[syn::Attribute] {
    match item {
        syn::Item::Const(i) => &i.attrs,
        syn::Item::Enum(i) => &i.attrs,
        syn::Item::ExternCrate(i) => &i.attrs,
        syn::Item::Fn(i) => &i.attrs,
        syn::Item::ForeignMod(i) => &i.attrs,
        syn::Item::Impl(i) => &i.attrs,
        syn::Item::Macro(i) => &i.attrs,
        syn::Item::Mod(i) => &i.attrs,
        syn::Item::Static(i) => &i.attrs,
        syn::Item::Struct(i) => &i.attrs,
        syn::Item::Trait(i) => &i.attrs,
        syn::Item::TraitAlias(i) => &i.attrs,
        syn::Item::Type(i) => &i.attrs,
        syn::Item::Union(i) => &i.attrs,
        syn::Item::Use(i) => &i.attrs,
        _ => &[],
    }
}

/// `#[cfg(test)]`.
fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.parse_args::<syn::Ident>()
                .is_ok_and(|ident| ident == "test")
    })
}

/// Every `unsafe fn` of the engine (free functions, methods, trait items) has a `# Safety`
/// section in its doc comment. Clippy's `missing_safety_doc` only sees exported ones; the
/// engine's are crate-private. Returns how many there are.
fn check_safety_docs(root: &Path, tree: &ModuleTree) -> Result<usize, String> {
    #[derive(Default)]
    struct UnsafeFns {
        count: usize,
        missing: Vec<(String, usize)>,
    }
    impl UnsafeFns {
        fn check(&mut self, attrs: &[syn::Attribute], sig: &syn::Signature) {
            if !matches!(sig.safety, syn::Safety::Unsafe(_)) {
                return;
            }
            self.count += 1;
            let documented = attrs.iter().any(|a| {
                a.path().is_ident("doc")
                    && matches!(&a.meta, syn::Meta::NameValue(nv) if matches!(
                        &nv.value,
                        syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. })
                            if s.value().trim_start().starts_with("# Safety")
                    ))
            });
            if !documented {
                self.missing
                    .push((sig.ident.to_string(), sig.fn_token.span.start().line));
            }
        }
    }
    impl<'ast> Visit<'ast> for UnsafeFns {
        fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
            self.check(&f.attrs, &f.sig);
            syn::visit::visit_item_fn(self, f);
        }
        fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
            self.check(&f.attrs, &f.sig);
            syn::visit::visit_impl_item_fn(self, f);
        }
        fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
            self.check(&f.attrs, &f.sig);
            syn::visit::visit_trait_item_fn(self, f);
        }
    }
    let files: BTreeSet<&PathBuf> = tree.modules.iter().map(|m| &m.file).collect();
    let mut count = 0;
    let mut missing = Vec::new();
    for file in files {
        let path = root.join(file);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let ast =
            syn::parse_file(&text).map_err(|e| format!("cannot parse {}: {e}", path.display()))?;
        let mut fns = UnsafeFns::default();
        fns.visit_file(&ast);
        count += fns.count;
        missing.extend(
            fns.missing
                .into_iter()
                .map(|(name, line)| format!("{}:{line} `{name}`", file.display())),
        );
    }
    if missing.is_empty() {
        Ok(count)
    } else {
        Err(format!(
            "unsafe fn without a `# Safety` section in its documentation:\n  {}",
            missing.join("\n  ")
        ))
    }
}

/// Every `.rs` file under `dir` is free of the `unsafe` keyword (comments and strings aside),
/// and the crate root forbids `unsafe_code`. Returns how many files were read.
fn check_no_unsafe(dir: &Path) -> Result<usize, String> {
    let root = dir.join("lib.rs");
    let root_text = std::fs::read_to_string(&root)
        .map_err(|e| format!("cannot read {}: {e}", root.display()))?;
    let root_ast =
        syn::parse_file(&root_text).map_err(|e| format!("cannot parse {}: {e}", root.display()))?;
    let forbids = root_ast.attrs.iter().any(|a| {
        a.path().is_ident("forbid")
            && a.parse_args::<syn::Ident>()
                .is_ok_and(|ident| ident == "unsafe_code")
    });
    if !forbids {
        return Err(format!("{} lacks #![forbid(unsafe_code)]", root.display()));
    }
    let mut files = Vec::new();
    collect_rs(dir, &mut files)?;
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let tokens: TokenStream = text
            .parse()
            .map_err(|e| format!("cannot lex {}: {e}", file.display()))?;
        unsafe_tokens(tokens, file, &mut found);
    }
    if found.is_empty() {
        Ok(files.len())
    } else {
        Err(format!(
            "`unsafe` in a host crate:\n  {}",
            found.join("\n  ")
        ))
    }
}

fn unsafe_tokens(tokens: TokenStream, file: &Path, found: &mut Vec<String>) {
    for token in tokens {
        match token {
            TokenTree::Group(g) => unsafe_tokens(g.stream(), file, found),
            TokenTree::Ident(i) if i == "unsafe" => {
                found.push(format!("{}:{}", file.display(), i.span().start().line));
            }
            _ => {}
        }
    }
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            collect_rs(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree_of(files: &[(&str, &str)]) -> (tempfile::TempDir, ModuleTree) {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let tree = ModuleTree::load(&dir.path().join("lib.rs")).unwrap();
        (dir, tree)
    }

    #[test]
    fn a_cycle_between_siblings_is_found_through_re_exports_and_macros() {
        let (_dir, tree) = tree_of(&[
            ("lib.rs", "mod a; mod b; pub use b::B;"),
            ("a/mod.rs", "mod inner;"),
            ("a/inner.rs", "fn f() { let _ = matches!(0, crate::B); }"),
            ("b.rs", "pub struct B; fn g() { super::a::h(); }"),
        ]);
        let cycles = tree.graph().cycles(&tree);
        assert_eq!(cycles.len(), 1, "{cycles:?}");
        assert!(cycles[0].contains("a -> b: "), "{}", cycles[0]);
        assert!(
            cycles[0].contains("a/inner.rs:1 names `crate::B`"),
            "{}",
            cycles[0]
        );
    }

    #[test]
    fn a_chain_and_parent_child_edges_and_test_code_are_not_cycles() {
        let (_dir, tree) = tree_of(&[
            ("lib.rs", "mod a; mod b; use b::x;"),
            ("a.rs", "mod c { use crate::a::d; } mod d { pub fn g() {} }"),
            (
                "b.rs",
                "use crate::a::c; #[cfg(test)] mod tests { use crate::a; } pub fn x() {}",
            ),
        ]);
        let graph = tree.graph();
        assert!(graph.cycles(&tree).is_empty());
        // b -> a at the top (not the test module's edge, not the root's), c -> d inside `a`.
        let top: Vec<_> = graph.edges[&0]
            .keys()
            .map(|&(x, y)| (tree.name(x), tree.name(y)))
            .collect();
        assert_eq!(top, [("b".to_string(), "a".to_string())]);
        let inner = &graph.edges[&tree.find(&["a".to_string()])];
        assert_eq!(inner.len(), 1, "{:?}", inner);
    }

    #[test]
    fn unsafe_fns_need_a_safety_section() {
        let (dir, tree) = tree_of(&[(
            "lib.rs",
            "/// Does it.\n///\n/// # Safety\n/// Never.\nunsafe fn a() {}\n\
             struct S;\nimpl S {\n    /// Undocumented contract.\n    unsafe fn b() {}\n}\n",
        )]);
        let err = check_safety_docs(dir.path(), &tree).unwrap_err();
        assert!(err.contains("lib.rs:9 `b`"), "{err}");
        assert!(!err.contains("`a`"), "{err}");
    }

    #[test]
    fn unsafe_in_a_host_crate_is_found_but_not_in_comments_or_strings() {
        let dir = tempfile::tempdir().unwrap();
        let lib = dir.path().join("lib.rs");
        std::fs::write(
            &lib,
            "#![forbid(unsafe_code)]\n// unsafe\nconst S: &str = \"unsafe\";\n",
        )
        .unwrap();
        assert_eq!(check_no_unsafe(dir.path()), Ok(1));
        std::fs::write(dir.path().join("x.rs"), "fn f() {\n unsafe { } }").unwrap();
        let err = check_no_unsafe(dir.path()).unwrap_err();
        assert!(err.contains("x.rs:2"), "{err}");
        std::fs::write(&lib, "fn main() {}").unwrap();
        assert!(check_no_unsafe(dir.path()).unwrap_err().contains("forbid"));
    }
}
