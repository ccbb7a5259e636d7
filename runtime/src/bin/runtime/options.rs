//! CLI: the `-W` (WebAssembly), `-S` (WASI) and `-C` (codegen) option groups, in Wasmtime's syntax:
//! `-W KEY[=VAL][,KEY[=VAL]...]`, repeatable, the last setting of a key winning.
//!
//! Every key Wasmtime 49 accepts is in a table with what it takes and how far we support it,
//! so a Wasmtime user's flag is either honoured or refused with a message naming it, never
//! silently ignored; a key Wasmtime does not know either is an unknown option. Supporting a
//! key is one table entry: give it [`Support::Run`] (or a proposal's features) and read its
//! value with [`Settings::flag`], [`Settings::number`] or [`Settings::duration`].

use runtime::WasmFeatures;
use std::time::Duration;

/// What a key's value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Takes {
    /// `KEY`, `KEY=y|yes|true` or `KEY=n|no|false`.
    Flag,
    /// `KEY=N`: decimal or `0x` hex, `_` allowed between digits.
    Number,
    /// `KEY=N` seconds or a duration with units (`100ms`, `1m30s`; see `parse_duration`).
    Duration,
    /// `KEY=TEXT`: a path or a name.
    Text,
}

/// How far we support a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Support {
    /// A proposal we implement: the validator features it stands for.
    Proposal(WasmFeatures),
    /// `all-proposals`: the default of every proposal key not given.
    AllProposals,
    /// A proposal we do not implement: enabling it is refused, `=n` is accepted.
    ProposalNotYet,
    /// An option of `run` we implement.
    Run,
    /// An option of `run` we implement that `wast` takes too.
    RunAndWast,
    /// An option we do not implement yet: any use is refused.
    NotYet,
}

/// One key of a group.
#[derive(Debug)]
pub(crate) struct Key {
    pub(crate) name: &'static str,
    pub(crate) takes: Takes,
    pub(crate) support: Support,
    pub(crate) help: &'static str,
}

const fn key(name: &'static str, takes: Takes, support: Support, help: &'static str) -> Key {
    Key {
        name,
        takes,
        support,
        help,
    }
}

const fn proposal(name: &'static str, features: WasmFeatures, help: &'static str) -> Key {
    key(name, Takes::Flag, Support::Proposal(features), help)
}

const fn proposal_not_yet(name: &'static str, help: &'static str) -> Key {
    key(name, Takes::Flag, Support::ProposalNotYet, help)
}

const fn not_yet(name: &'static str, takes: Takes, help: &'static str) -> Key {
    key(name, takes, Support::NotYet, help)
}

const fn run(name: &'static str, takes: Takes, help: &'static str) -> Key {
    key(name, takes, Support::Run, help)
}

/// Which command's `-W` is parsed: each takes a subset of the keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scope {
    /// Every key.
    Run,
    /// The proposals and the options of `run` that apply to scripts.
    Wast,
    /// The proposals only.
    Validate,
}

use Takes::{Duration as D, Flag as F, Number as N, Text as T};
type W = WasmFeatures;

/// The proposals on by default: Wasm 3.0 plus what Wasmtime 49 enables by default among the
/// proposals we implement (wide-arithmetic). Like Wasmtime, the threads proposal validates by
/// default but creating a shared memory needs `-W threads` or `-W shared-memory`. The legacy
/// exception instructions are on too (Wasmtime has no such key): they only make modules that
/// use them valid, such as C++ built by emcc with `-fwasm-exceptions`; `-W
/// legacy-exceptions=n` refuses those.
pub(crate) const DEFAULT_FEATURES: WasmFeatures = W::WASM3
    .union(W::WIDE_ARITHMETIC)
    .union(W::LEGACY_EXCEPTIONS);

#[rustfmt::skip]
/// `-W`: Wasmtime 49's keys in its order, then two proposals of ours it has no key for.
pub(crate) const WASM: Group = Group {
    flag: "-W",
    what: "wasm",
    keys: &[
        not_yet("nan-canonicalization", F, "Canonicalize every NaN value."),
        key("fuel", N, Support::RunAndWast, "Run with N units of fuel (one per operator), trapping when they run out; in `wast`, each script's store gets N."),
        not_yet("epoch-interruption", F, "Interrupt wasm when the engine's epoch passes the store's deadline (`timeout` sets one)."),
        key("max-wasm-stack", N, Support::RunAndWast, "Maximum stack, in bytes, wasm may use before a stack overflow is reported (default 524288)."),
        not_yet("async-stack-size", N, "Stack size, in bytes, of async stacks."),
        not_yet("async-stack-zeroing", F, "Zero async stacks before reuse."),
        not_yet("unknown-exports-allow", F, "Allow unknown exports when running commands."),
        run("unknown-imports-trap", F, "Let the main module import unknown functions: calling one traps."),
        not_yet("unknown-imports-default", F, "Let the main module import unknown functions that return default values."),
        not_yet("wmemcheck", F, "Check memory accesses (wmemcheck)."),
        run("max-memory-size", N, "Maximum size, in bytes, a linear memory may reach (`memory.grow` returns -1 beyond)."),
        run("max-table-elements", N, "Maximum number of elements a table may reach."),
        run("max-instances", N, "Maximum number of instances (default 10000)."),
        run("max-tables", N, "Maximum number of tables (default 10000)."),
        run("max-memories", N, "Maximum number of linear memories (default 10000)."),
        run("trap-on-grow-failure", F, "Trap when `memory.grow` or `table.grow` fails instead of returning -1."),
        run("timeout", D, "Maximum execution time of wasm code, then it traps (1, 2s, 100ms, 1m30s, ...)."),
        key("all-proposals", F, Support::AllProposals, "Enable (or disable) every proposal we implement; a proposal's own key overrides it."),
        proposal("bulk-memory", W::BULK_MEMORY, "The bulk memory proposal."),
        proposal("multi-memory", W::MULTI_MEMORY, "The multi-memory proposal."),
        proposal("multi-value", W::MULTI_VALUE, "The multi-value proposal."),
        proposal("reference-types", W::REFERENCE_TYPES, "The reference-types proposal."),
        proposal("simd", W::SIMD, "The simd proposal."),
        proposal("relaxed-simd", W::RELAXED_SIMD, "The relaxed-simd proposal."),
        not_yet("relaxed-simd-deterministic", F, "Give relaxed-simd instructions their deterministic results."),
        proposal("tail-call", W::TAIL_CALL, "The tail-call proposal."),
        proposal("threads", W::THREADS, "The threads proposal (`=y` also allows shared memories)."),
        run("shared-memory", F, "Allow creating shared memories (default: as `threads` is given, else no)."),
        proposal_not_yet("shared-everything-threads", "The shared-everything-threads proposal."),
        proposal("memory64", W::MEMORY64, "The memory64 proposal."),
        proposal_not_yet("component-model", "The component-model proposal."),
        proposal_not_yet("component-model-async", "Component model async lifting and lowering."),
        proposal_not_yet("component-model-more-async-builtins", "Component model async built-ins."),
        proposal_not_yet("component-model-async-stackful", "Component model stackful async."),
        proposal_not_yet("component-model-threading", "Component model threading."),
        proposal_not_yet("component-model-error-context", "Component model `error-context`."),
        proposal_not_yet("component-model-gc", "GC in the component model."),
        proposal_not_yet("component-model-map", "Maps in the component model."),
        proposal_not_yet("component-model-memory64", "Component model `memory64`."),
        proposal("function-references", W::FUNCTION_REFERENCES, "The function-references proposal."),
        proposal("stack-switching", W::STACK_SWITCHING, "The stack-switching proposal (continuations: `cont.new`, `resume`, `suspend`, `switch`, ...)."),
        proposal("gc", W::GC, "The GC proposal."),
        proposal("custom-page-sizes", W::CUSTOM_PAGE_SIZES, "The custom-page-sizes proposal."),
        proposal("wide-arithmetic", W::WIDE_ARITHMETIC, "The wide-arithmetic proposal."),
        proposal_not_yet("branch-hinting", "The branch-hinting proposal (hint sections are ignored either way)."),
        proposal("extended-const", W::EXTENDED_CONST, "The extended-const proposal."),
        proposal("exceptions", W::EXCEPTIONS, "The exceptions proposal."),
        not_yet("gc-support", F, "Whether any GC infrastructure is enabled."),
        proposal_not_yet("component-model-fixed-length-lists", "Component model fixed-length lists."),
        proposal_not_yet("component-model-implements", "Component model `(implements ...)`."),
        not_yet("concurrency-support", F, "Whether any concurrency infrastructure is enabled."),
        proposal("custom-descriptors", W::CUSTOM_DESCRIPTORS, "The custom-descriptors proposal (not a Wasmtime key)."),
        proposal("legacy-exceptions", W::LEGACY_EXCEPTIONS, "The legacy exception instructions `try`/`catch`/`delegate`/`rethrow`, as emcc's `-fwasm-exceptions` emits them (not a Wasmtime key)."),
    ],
};

#[rustfmt::skip]
/// `-S`: Wasmtime 49's keys in its order.
pub(crate) const WASI: Group = Group {
    flag: "-S",
    what: "wasi",
    keys: &[
        run("cli", F, "Give the program WASI preview1 (default: if it imports WASI and is not an Emscripten program; `=y` also for those)."),
        not_yet("cli-exit-with-code", F, "WASI `cli-exit-with-code`."),
        not_yet("common", F, "Deprecated alias for `cli`."),
        not_yet("nn", F, "WASI neural networks."),
        key("threads", F, Support::Run, "WASI threads: `wasi::thread-spawn`, one host thread and store per thread (default: when the module imports it)."),
        not_yet("http", F, "WASI HTTP."),
        not_yet("http-outgoing-body-buffer-chunks", N, "WASI HTTP outgoing body chunks."),
        not_yet("http-outgoing-body-chunk-size", N, "WASI HTTP outgoing chunk size."),
        not_yet("config", F, "WASI config."),
        not_yet("keyvalue", F, "WASI key-value."),
        not_yet("listenfd", F, "systemd listen fds."),
        not_yet("tcplisten", N, "A TCP listen socket."),
        not_yet("tls", F, "WASI TLS."),
        not_yet("preview2", F, "Preview1 through the preview2 implementation."),
        not_yet("nn-graph", N, "wasi-nn graphs."),
        not_yet("inherit-network", F, "The host's network."),
        not_yet("allow-ip-name-lookup", F, "`wasi:sockets/ip-name-lookup`."),
        not_yet("tcp", F, "`wasi:sockets` TCP."),
        not_yet("udp", F, "`wasi:sockets` UDP."),
        not_yet("network-error-code", F, "WASI `network-error-code`."),
        not_yet("preview0", F, "Imports from `wasi_unstable` (always provided here)."),
        run("inherit-env", F, "Inherit every environment variable of this process; `--env` overrides them."),
        run("inherit-stdin", F, "Inherit standard input (default: yes)."),
        run("inherit-stdout", F, "Inherit standard output (default: yes)."),
        run("inherit-stderr", F, "Inherit standard error (default: yes)."),
        not_yet("cwd", N, "The initial working directory of `wasi:cli/environment`."),
        not_yet("config-var", N, "A WASI config variable."),
        not_yet("keyvalue-in-memory-data", N, "WASI key-value data."),
        not_yet("p3", F, "WASIp3."),
        not_yet("max-resources", N, "Maximum resources at once."),
        not_yet("hostcall-fuel", N, "Fuel for host calls."),
        not_yet("max-component-handles", N, "Maximum component-model handles."),
        not_yet("max-random-size", N, "Maximum size of a `get-random-bytes` request."),
        not_yet("max-http-fields-size", N, "Maximum size of HTTP fields."),
    ],
};

#[rustfmt::skip]
/// `-C`: Wasmtime 49's keys in its order (`cranelift-*` stands for its `cranelift-<KEY>`
/// settings), then `cache-dir`, ours. The cache is on by default, as in Wasmtime.
pub(crate) const CODEGEN: Group = Group {
    flag: "-C",
    what: "codegen",
    keys: &[
        not_yet("compiler", T, "Either `cranelift` or `winch` (Cranelift is the only compiler here)."),
        not_yet("collector", T, "Which garbage collector to use."),
        not_yet("cranelift-debug-verifier", F, "Enable Cranelift's internal debug verifier."),
        run("cache", F, "Cache compiled modules on disk and load them from there (default: yes)."),
        not_yet("cache-config", T, "A Wasmtime cache configuration file (use `cache-dir`)."),
        not_yet("parallel-compilation", F, "Compile functions in parallel (always on here)."),
        not_yet("native-unwind-info", F, "Native unwind information in compiled code."),
        run("inlining", F, "Inline small leaf and self-recursive functions where they are called (default: yes; Wasmtime's is no)."),
        not_yet("metadata-for-internal-asserts", F, "Trap metadata for wasm internal assertions."),
        not_yet("metadata-for-gc-heap-corruption", F, "Trap metadata for GC heap corruption."),
        not_yet("cranelift-*", T, "A Cranelift setting (`cranelift-<KEY>=VAL`)."),
        run("cache-dir", T, "The cache's directory (default: $XDG_CACHE_HOME/runtime/modules or ~/.cache/runtime/modules; not a Wasmtime key)."),
    ],
};

/// A table of keys behind one flag.
#[derive(Debug)]
pub(crate) struct Group {
    flag: &'static str,
    what: &'static str,
    keys: &'static [Key],
}

/// A parsed value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    Flag(bool),
    Number(u64),
    Duration(Duration),
    Text(String),
}

/// The keys set by one or more occurrences of a flag, in order.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Settings(Vec<(&'static str, Value)>);

impl Group {
    fn find(&self, name: &str) -> Option<&'static Key> {
        let exact = self.keys.iter().find(|k| k.name == name);
        exact.or_else(|| {
            (self.keys.iter())
                .find(|k| (k.name.strip_suffix('*')).is_some_and(|prefix| name.starts_with(prefix)))
        })
    }

    /// Parses one occurrence's `KEY[=VAL],...` for the command `scope`, which refuses the
    /// keys it does not take. `help` and `help-long` print the table and end the process.
    pub(crate) fn parse(&self, text: &str, scope: Scope) -> Result<Settings, String> {
        let mut settings = Vec::new();
        for item in text.split(',') {
            let (name, value) = match item.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None => (item, None),
            };
            if (name == "help" || name == "help-long") && value.is_none() {
                print!("{}", self.help(name == "help-long", scope));
                crate::exit_after_help();
            }
            let flag = self.flag;
            let key = match self.find(name) {
                Some(k) if k.applies_to(scope) => k,
                Some(k) if k.support == Support::RunAndWast => {
                    return Err(format!(
                        "`{flag} {name}` is an option of `run` and `wast` only"
                    ))
                }
                Some(_) => return Err(format!("`{flag} {name}` is an option of `run` only")),
                None if name.is_empty() => return Err(format!("empty {flag} option in `{text}`")),
                None => {
                    return Err(format!(
                        "unknown {flag} option `{name}` (`{flag} help` lists them)"
                    ))
                }
            };
            let value = parse_value(key, value).map_err(|e| format!("`{flag} {item}`: {e}"))?;
            match key.support {
                Support::NotYet => {
                    return Err(format!(
                        "`{flag} {name}` is not supported yet by this runtime"
                    ))
                }
                Support::ProposalNotYet if value == Value::Flag(true) => {
                    return Err(format!(
                        "the {name} proposal is not supported yet by this runtime (`{flag} {name}`)"
                    ))
                }
                _ => {}
            }
            settings.push((key.name, value));
        }
        Ok(Settings(settings))
    }

    /// The `help` (one line per key) or `help-long` text.
    fn help(&self, long: bool, scope: Scope) -> String {
        let keys: Vec<&Key> = (self.keys.iter()).filter(|k| k.applies_to(scope)).collect();
        let shown = |k: &Key| {
            let value = match k.takes {
                Takes::Flag => "[=y|n]",
                Takes::Number => "=N",
                Takes::Duration => "=N|Ns|Nms|..",
                Takes::Text => "=VAL",
            };
            format!("{}{value}", k.name)
        };
        let width = keys.iter().map(|k| shown(k).len()).max().unwrap_or(0);
        let mut out = format!("Available {} options:\n\n", self.what);
        for k in keys {
            let note = match k.support {
                Support::NotYet | Support::ProposalNotYet => " (not supported yet)",
                Support::Proposal(f) if DEFAULT_FEATURES.contains(f) => " (default: on)",
                Support::Proposal(_) => " (default: off)",
                _ => "",
            };
            let help = format!("{}{note}", k.help);
            if long {
                out += &format!("  {} {}\n\n        {help}\n", self.flag, shown(k));
            } else {
                out += &format!("  {} {:>width$} -- {help}\n", self.flag, shown(k));
            }
        }
        if !long {
            out += &format!(
                "\npass `{} help-long` to see longer-form explanations\n",
                self.flag
            );
        }
        out
    }
}

impl Key {
    /// Whether the key names a proposal (and so applies to `validate` and `wast` too).
    fn is_proposal(&self) -> bool {
        matches!(
            self.support,
            Support::Proposal(_) | Support::AllProposals | Support::ProposalNotYet
        )
    }

    /// Whether the command `scope` takes the key.
    fn applies_to(&self, scope: Scope) -> bool {
        match scope {
            Scope::Run => true,
            Scope::Wast => self.is_proposal() || self.support == Support::RunAndWast,
            Scope::Validate => self.is_proposal(),
        }
    }
}

fn parse_value(key: &Key, value: Option<&str>) -> Result<Value, String> {
    match (key.takes, value) {
        (Takes::Flag, None | Some("y" | "yes" | "true")) => Ok(Value::Flag(true)),
        (Takes::Flag, Some("n" | "no" | "false")) => Ok(Value::Flag(false)),
        (Takes::Flag, Some(v)) => Err(format!(
            "`{v}` is not a flag value (y, yes, true, n, no, false)"
        )),
        (_, None) => Err("a value is needed (`KEY=VALUE`)".into()),
        (Takes::Number, Some(v)) => parse_number(v).map(Value::Number),
        (Takes::Duration, Some(v)) => parse_duration(v).map(Value::Duration),
        (Takes::Text, Some("")) => Err("a value is needed (`KEY=VALUE`)".into()),
        (Takes::Text, Some(v)) => Ok(Value::Text(v.to_string())),
    }
}

/// Decimal or `0x` hex, `_` allowed between digits.
fn parse_number(text: &str) -> Result<u64, String> {
    let digits = text.replace('_', "");
    let parsed = match digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => digits.parse::<u64>(),
    };
    parsed.map_err(|_| format!("`{text}` is not a number (decimal or 0x hex)"))
}

/// Wasmtime's durations: a plain number of seconds, or humantime's syntax, numbers each with
/// a unit, optionally spaced (`100ms`, `2s`, `1m30s`, `1h 5m`). Units: `ns`/`nsec`,
/// `us`/`usec`/`µs`, `ms`/`msec`, `s`/`sec`/`second(s)`, `m`/`min`/`minute(s)`,
/// `h`/`hr`/`hour(s)`, `d`/`day(s)`, `w`/`week(s)`, `M`/`month(s)` (30.44 days),
/// `y`/`year(s)` (365.25 days).
fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("`{text}` is not a duration (1, 2s, 100ms, 1m30s, ...)");
    if let Ok(secs) = text.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    const SEC: u128 = 1_000_000_000;
    let mut nanos: u128 = 0;
    let mut rest = text.trim_start();
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let n: u128 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len =
            (rest.find(|c: char| c.is_ascii_digit() || c.is_whitespace())).unwrap_or(rest.len());
        let per = match &rest[..unit_len] {
            "ns" | "nsec" => 1,
            "us" | "usec" | "µs" => 1_000,
            "ms" | "msec" => 1_000_000,
            "s" | "sec" | "second" | "seconds" => SEC,
            "m" | "min" | "minute" | "minutes" => 60 * SEC,
            "h" | "hr" | "hour" | "hours" => 3_600 * SEC,
            "d" | "day" | "days" => 86_400 * SEC,
            "w" | "week" | "weeks" => 604_800 * SEC,
            "M" | "month" | "months" => 2_630_016 * SEC,
            "y" | "year" | "years" => 31_557_600 * SEC,
            _ => return Err(bad()),
        };
        rest = rest[unit_len..].trim_start();
        nanos = n
            .checked_mul(per)
            .and_then(|d| nanos.checked_add(d))
            .ok_or_else(bad)?;
    }
    let secs = u64::try_from(nanos / SEC).map_err(|_| bad())?;
    Ok(Duration::new(secs, (nanos % SEC) as u32))
}

impl Settings {
    /// All occurrences in command-line order.
    pub(crate) fn merge(all: &[Settings]) -> Settings {
        Settings(all.iter().flat_map(|s| s.0.iter().cloned()).collect())
    }

    fn get(&self, name: &str) -> Option<&Value> {
        debug_assert!(
            (WASM.find(name).or(WASI.find(name)).or(CODEGEN.find(name))).is_some(),
            "`{name}` is in no table"
        );
        self.0
            .iter()
            .rev()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
    }

    /// The last setting of flag key `name`.
    pub(crate) fn flag(&self, name: &str) -> Option<bool> {
        match self.get(name)? {
            Value::Flag(on) => Some(*on),
            other => unreachable!("`{name}` is a flag, not {other:?}"),
        }
    }

    /// The proposals to validate with: `base` changed by every proposal key given (a key
    /// not given follows `all-proposals` if that is).
    pub(crate) fn features(&self, base: WasmFeatures) -> WasmFeatures {
        let all = self.flag("all-proposals");
        let mut features = base;
        for key in WASM.keys {
            if let Support::Proposal(bits) = key.support {
                if let Some(on) = self.flag(key.name).or(all) {
                    features.set(bits, on);
                }
            }
        }
        features
    }

    /// Whether shared memories may be created: `shared-memory`, else `threads`, else no.
    pub(crate) fn shared_memory(&self) -> bool {
        (self.flag("shared-memory"))
            .or(self.flag("threads"))
            .unwrap_or(false)
    }
}

/// Typed reads for the number and duration keys (`-W fuel`, `timeout`, `max-memory-size`,
/// `max-wasm-stack`, ...).
impl Settings {
    /// The last setting of number key `name`.
    pub(crate) fn number(&self, name: &str) -> Option<u64> {
        match self.get(name)? {
            Value::Number(n) => Some(*n),
            other => unreachable!("`{name}` is a number, not {other:?}"),
        }
    }

    /// The last setting of duration key `name`.
    pub(crate) fn duration(&self, name: &str) -> Option<Duration> {
        match self.get(name)? {
            Value::Duration(d) => Some(*d),
            other => unreachable!("`{name}` is a duration, not {other:?}"),
        }
    }

    /// The last setting of text key `name`.
    pub(crate) fn text(&self, name: &str) -> Option<&str> {
        match self.get(name)? {
            Value::Text(t) => Some(t),
            other => unreachable!("`{name}` is text, not {other:?}"),
        }
    }
}

/// clap value parser of `run -W`.
pub(crate) fn wasm_run(text: &str) -> Result<Settings, String> {
    WASM.parse(text, Scope::Run)
}

/// clap value parser of `wast -W`: proposals, `fuel` and `max-wasm-stack`.
pub(crate) fn wasm_wast(text: &str) -> Result<Settings, String> {
    WASM.parse(text, Scope::Wast)
}

/// clap value parser of `validate -W`: proposals only.
pub(crate) fn wasm_proposals(text: &str) -> Result<Settings, String> {
    WASM.parse(text, Scope::Validate)
}

/// clap value parser of `run -C` and `compile -C`.
pub(crate) fn codegen(text: &str) -> Result<Settings, String> {
    CODEGEN.parse(text, Scope::Run)
}

/// clap value parser of `run -S`.
pub(crate) fn wasi(text: &str) -> Result<Settings, String> {
    WASI.parse(text, Scope::Run)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Settings, String> {
        let parsed: Result<Vec<Settings>, String> = args.iter().map(|a| wasm_run(a)).collect();
        parsed.map(|all| Settings::merge(&all))
    }

    #[test]
    fn proposals_toggle_features_over_the_defaults() {
        let s = run(&["custom-page-sizes", "wide-arithmetic=n,gc=no"]).unwrap();
        let f = s.features(DEFAULT_FEATURES);
        assert!(f.contains(W::CUSTOM_PAGE_SIZES) && f.contains(W::SIMD));
        assert!(!f.contains(W::WIDE_ARITHMETIC) && !f.contains(W::GC));
        assert_eq!(
            run(&[]).unwrap().features(DEFAULT_FEATURES),
            DEFAULT_FEATURES
        );
        // The last setting wins.
        let s = run(&["threads=n", "threads=y"]).unwrap();
        assert!(s.features(W::empty()).contains(W::THREADS));
    }

    #[test]
    fn legacy_exceptions_are_on_unless_turned_off() {
        assert!(DEFAULT_FEATURES.contains(W::LEGACY_EXCEPTIONS | W::EXCEPTIONS));
        let f = run(&["legacy-exceptions=n"])
            .unwrap()
            .features(DEFAULT_FEATURES);
        assert!(!f.contains(W::LEGACY_EXCEPTIONS) && f.contains(W::EXCEPTIONS));
    }

    #[test]
    fn all_proposals_is_the_fallback_of_each_proposal() {
        let f = run(&["gc=n,all-proposals=y"]).unwrap().features(W::WASM1);
        assert!(f.contains(W::CUSTOM_PAGE_SIZES | W::LEGACY_EXCEPTIONS | W::THREADS));
        assert!(!f.contains(W::GC) && f.contains(W::STACK_SWITCHING));
        let f = run(&["all-proposals=n"])
            .unwrap()
            .features(DEFAULT_FEATURES);
        assert!(!f.contains(W::SIMD) && !f.contains(W::MULTI_VALUE));
    }

    #[test]
    fn codegen_keys_take_flags_and_paths() {
        let s = codegen("cache=n,cache-dir=/tmp/c").unwrap();
        assert_eq!(
            (s.flag("cache"), s.text("cache-dir")),
            (Some(false), Some("/tmp/c"))
        );
        assert!(codegen("cache-dir")
            .unwrap_err()
            .contains("a value is needed"));
        assert!(codegen("cranelift-opt-level=none")
            .unwrap_err()
            .contains("`-C cranelift-opt-level` is not supported yet"));
        assert!(codegen("bogus").unwrap_err().contains("unknown -C option"));
    }

    #[test]
    fn shared_memory_follows_threads_unless_given() {
        assert!(!run(&[]).unwrap().shared_memory());
        assert!(run(&["threads"]).unwrap().shared_memory());
        assert!(!run(&["threads,shared-memory=n"]).unwrap().shared_memory());
        assert!(run(&["shared-memory"]).unwrap().shared_memory());
        assert!(!run(&["all-proposals"]).unwrap().shared_memory());
    }

    #[test]
    fn unknown_unsupported_and_malformed_keys_are_refused() {
        let err = |a: &str| run(&[a]).unwrap_err();
        assert!(err("bogus").contains("unknown -W option `bogus`"));
        assert!(err("threads,").contains("empty -W option"));
        assert!(err("threads=maybe").contains("not a flag value"));
        assert!(err("shared-everything-threads")
            .contains("the shared-everything-threads proposal is not supported yet"));
        assert!(err("component-model=y").contains("component-model proposal is not supported yet"));
        assert!(run(&["shared-everything-threads=n"]).is_ok());
        assert!(err("epoch-interruption").contains("is not supported yet"));
        assert!(err("fuel").contains("a value is needed"));
        assert!(err("fuel=lots").contains("not a number"));
        assert!(err("timeout=1 fortnight").contains("not a duration"));
        assert!(wasm_proposals("unknown-imports-trap")
            .unwrap_err()
            .contains("of `run` only"));
        assert!(wasi("inherit-env=y").is_ok());
        assert!(wasi("tcp").unwrap_err().contains("not supported yet"));
    }

    #[test]
    fn limits_are_options_of_run_and_some_of_wast() {
        let s = run(&[
            "fuel=1000,timeout=1s,max-wasm-stack=0x10000",
            "max-memory-size=65536,max-table-elements=5,max-instances=1",
            "max-tables=2,max-memories=3,trap-on-grow-failure",
        ])
        .unwrap();
        assert_eq!(s.number("fuel"), Some(1000));
        assert_eq!(s.duration("timeout"), Some(Duration::from_secs(1)));
        assert_eq!(s.number("max-wasm-stack"), Some(65536));
        assert_eq!(s.number("max-memories"), Some(3));
        assert_eq!(s.flag("trap-on-grow-failure"), Some(true));
        let wast = wasm_wast("fuel=5,max-wasm-stack=65536,gc=n").unwrap();
        assert_eq!(wast.number("fuel"), Some(5));
        for run_only in ["timeout=1s", "max-memory-size=1", "trap-on-grow-failure"] {
            let err = wasm_wast(run_only).unwrap_err();
            assert!(err.contains("is an option of `run` only"), "{err}");
        }
        let err = wasm_proposals("fuel=5").unwrap_err();
        assert!(err.contains("of `run` and `wast` only"), "{err}");
    }

    #[test]
    fn values_parse_like_wasmtime() {
        assert_eq!(parse_number("0x10"), Ok(16));
        assert_eq!(parse_number("1_000_000"), Ok(1_000_000));
        assert!(parse_number("1M").is_err());
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("100ms"), Ok(Duration::from_millis(100)));
        assert_eq!(parse_duration("3m"), Ok(Duration::from_secs(180)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1h 5min"), Ok(Duration::from_secs(3900)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(172_800)));
        assert_eq!(parse_duration("1500us"), Ok(Duration::from_micros(1500)));
        for bad in [
            "ms",
            "",
            "1x",
            "1.5s",
            "5 10",
            "-1s",
            "99999999999999999999999y",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_wasmtime_key_is_in_the_tables_once() {
        for group in [&WASM, &WASI, &CODEGEN] {
            for (i, k) in group.keys.iter().enumerate() {
                assert!(
                    group.keys[..i].iter().all(|o| o.name != k.name),
                    "{}",
                    k.name
                );
            }
        }
        // The proposal names of `wasmtime run -W help` (Wasmtime 49).
        for name in [
            "bulk-memory",
            "multi-memory",
            "multi-value",
            "reference-types",
            "simd",
            "relaxed-simd",
            "tail-call",
            "threads",
            "shared-everything-threads",
            "memory64",
            "component-model",
            "function-references",
            "stack-switching",
            "gc",
            "custom-page-sizes",
            "wide-arithmetic",
            "branch-hinting",
            "extended-const",
            "exceptions",
        ] {
            assert!(WASM.find(name).is_some_and(Key::is_proposal), "{name}");
        }
        // The keys of `wasmtime run -C help` (Wasmtime 49), `cranelift-<KEY>` as an example.
        for name in [
            "compiler",
            "collector",
            "cranelift-debug-verifier",
            "cache",
            "cache-config",
            "parallel-compilation",
            "native-unwind-info",
            "inlining",
            "metadata-for-internal-asserts",
            "metadata-for-gc-heap-corruption",
            "cranelift-opt-level",
        ] {
            assert!(CODEGEN.find(name).is_some(), "{name}");
        }
    }
}
