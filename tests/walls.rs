//! The walls between leverbridge's modules, kept by reading the sources.
//!
//! The crate stays one crate, so nothing in the compiler stops a page from reaching into the
//! simulator or the database layer from calling a job. These tests read every file under `src/`
//! (following `mod` declarations from `lib.rs`), strip comments, string literals and
//! `#[cfg(test)]` items, collect each `crate::…` and `super::…` path (use-groups expanded), and
//! resolve it to the file that defines the module it names. Each test fails with every
//! violation and the rule it breaks:
//!
//! - `lever/` imports nothing else of the crate: it is the Lever API and nothing else, so it
//!   can be read, tested and replaced on its own.
//! - only the `demo` command and the simulator and mailbox themselves reach `lever_sim` and
//!   `mailbox`: they are stand-ins for Lever and for an inbox, and production code must not
//!   come to depend on a fake.
//! - `db/` imports no layer above it, and more generally the layers in [`LAYERS`] read
//!   top-down: a module imports only its own layer and the layers below it.
//! - no modules import each other in a circle (outside the simulator): a circle means neither
//!   side can be understood, or moved, without the other.
//! - no function runs over 80 lines outside tests and the declarative tables in
//!   [`LONG_TABLES`]: a long function hides the decisions a reader needs to see named.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The top-level modules, highest layer first. A module may import its own layer and any layer
/// below it. Add a new top-level module to the layer it belongs to.
const LAYERS: &[(&str, &[&str])] = &[
    ("entry points", &["web", "commands", "startup"]),
    (
        "the demo's stand-ins for Lever and an inbox",
        &["lever_sim", "mailbox"],
    ),
    ("webhook intake", &["intake"]),
    ("job kinds", &["jobs"]),
    ("the assessment lifecycle", &["assessments"]),
    (
        "engines: the queue, Lever access, mail, the code sandbox",
        &["queue", "connection", "smtp", "sandbox"],
    ),
    ("storage", &["db"]),
    (
        "foundation",
        &["domain", "lever", "crypto", "clock", "config", "telemetry"],
    ),
];

/// Files allowed to reach the simulator and the mailbox (besides the two modules themselves).
const STAND_IN_USERS: &[&str] = &["src/commands/demo.rs"];
const STAND_INS: &[&str] = &["lever_sim", "mailbox"];

/// Declarative tables that may run long: (file, function).
const LONG_TABLES: &[(&str, &str)] = &[("src/web/mod.rs", "routes")];
const MAX_FN_LINES: usize = 80;

/// One source file of the library, read and stripped.
struct Source {
    /// e.g. `src/web/events.rs`
    path: String,
    /// e.g. `["web", "events"]`; empty for `lib.rs`
    module: Vec<String>,
    lines: Vec<String>,
    /// The code's tokens: no comments, no literals, no `#[cfg(test)]` items.
    toks: Vec<Tok>,
    refs: Vec<Ref>,
}

/// One path from a file to a module of the crate.
struct Ref {
    target: Vec<String>,
    line: usize,
}

impl Source {
    fn top(&self) -> &str {
        self.module.first().map_or("", String::as_str)
    }
    fn line(&self, n: usize) -> &str {
        self.lines.get(n - 1).map_or("", |l| l.trim())
    }
    /// Each module this file refers to, once, with the first line that does.
    fn targets(&self) -> BTreeMap<&[String], usize> {
        let mut seen = BTreeMap::new();
        for r in &self.refs {
            seen.entry(r.target.as_slice()).or_insert(r.line);
        }
        seen
    }
}

fn shown(module: &[String]) -> String {
    std::iter::once("crate")
        .chain(module.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join("::")
}

fn fail_with(rule: &str, violations: Vec<String>) {
    if !violations.is_empty() {
        panic!(
            "{} violation(s) of: {rule}\n{}\n",
            violations.len(),
            violations.join("\n")
        );
    }
}

// ---------------------------------------------------------------- reading the sources

/// A token (an identifier, `::`, or one character of punctuation) and its line.
type Tok = (String, usize);

/// The tokens of `text`, skipping comments, whitespace and string, char and number literals.
fn tokens(text: &str) -> Vec<Tok> {
    let c: Vec<char> = text.chars().collect();
    let is_ident = |ch: char| ch.is_alphanumeric() || ch == '_';
    let (mut out, mut i, mut line) = (Vec::new(), 0, 1);
    while i < c.len() {
        let start = i;
        let after_ident = i > 0 && is_ident(c[i - 1]);
        let at = |k: usize, ch: char| c.get(i + k) == Some(&ch);
        if at(0, '/') && at(1, '/') {
            i = (i..c.len()).find(|&k| c[k] == '\n').unwrap_or(c.len());
        } else if at(0, '/') && at(1, '*') {
            let mut depth = 0;
            while i < c.len() {
                let pair = (c[i], c.get(i + 1).copied().unwrap_or(' '));
                let step = matches!(pair, ('/', '*') | ('*', '/'));
                depth += match pair {
                    ('/', '*') => 1,
                    ('*', '/') => -1,
                    _ => 0,
                };
                i += if step { 2 } else { 1 };
                if depth == 0 {
                    break;
                }
            }
        } else if let Some((quote, hashes)) = raw_string(&c, i).filter(|_| !after_ident) {
            let closes = |k: usize| c[k] == '"' && (1..=hashes).all(|h| c.get(k + h) == Some(&'#'));
            i = (quote + 1..c.len())
                .find(|&k| closes(k))
                .map_or(c.len(), |k| k + 1 + hashes);
        } else if at(0, '"')
            || (at(0, 'b') && at(1, '"') && !after_ident)
            || (at(0, '\'') && (at(1, '\\') || at(2, '\'')))
        {
            let quote = if at(0, 'b') { '"' } else { c[i] };
            i += if at(0, 'b') { 2 } else { 1 };
            while i < c.len() && c[i] != quote {
                i += if c[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else if is_ident(c[i]) {
            while i < c.len() && is_ident(c[i]) {
                i += 1;
            }
            if !c[start].is_numeric() {
                out.push((c[start..i].iter().collect(), line));
            }
        } else if at(0, ':') && at(1, ':') {
            out.push(("::".into(), line));
            i += 2;
        } else {
            if !c[i].is_whitespace() {
                out.push((c[i].to_string(), line));
            }
            i += 1;
        }
        line += c[start..i.min(c.len())]
            .iter()
            .filter(|&&ch| ch == '\n')
            .count();
    }
    out
}

/// At `r"`, `r#"`, `br"`, `br#"`: the index of the opening quote and the number of hashes.
fn raw_string(c: &[char], i: usize) -> Option<(usize, usize)> {
    let r = if c.get(i) == Some(&'b') { i + 1 } else { i };
    let hashes = c.get(r + 1..)?.iter().take_while(|&&ch| ch == '#').count();
    (c.get(r) == Some(&'r') && c.get(r + 1 + hashes) == Some(&'"'))
        .then_some((r + 1 + hashes, hashes))
}

/// `toks` without the items marked `#[cfg(test)]` (test modules, test-only functions, imports
/// and match arms).
fn without_test_items(toks: Vec<Tok>) -> Vec<Tok> {
    const CFG_TEST: [&str; 7] = ["#", "[", "cfg", "(", "test", ")", "]"];
    let (mut out, mut i) = (Vec::new(), 0);
    while i < toks.len() {
        if toks[i..].iter().take(7).map(|t| t.0.as_str()).eq(CFG_TEST) {
            i = item_end(&toks, i + 7);
        } else {
            out.push(toks[i].clone());
            i += 1;
        }
    }
    out
}

/// Where the item from `i` on ends: after its first `;` or `,` outside brackets or after its
/// braced body; or before a `}` that closes the block around it (a last match arm).
fn item_end(toks: &[Tok], mut i: usize) -> usize {
    let mut depth = 0usize;
    while let Some((t, _)) = toks.get(i) {
        match t.as_str() {
            "(" | "[" => depth += 1,
            ")" | "]" => depth = depth.saturating_sub(1),
            ";" | "," if depth == 0 => return i + 1,
            "}" if depth == 0 => return i,
            "{" if depth == 0 => return matching_brace(toks, i) + 1,
            _ => {}
        }
        i += 1;
    }
    i
}

/// The index of the `}` closing the `{` at `open` (or the last index if unbalanced).
fn matching_brace(toks: &[Tok], open: usize) -> usize {
    let mut depth = 0;
    for (i, (t, _)) in toks.iter().enumerate().skip(open) {
        depth += match t.as_str() {
            "{" => 1,
            "}" => -1,
            _ => 0,
        };
        if depth == 0 {
            return i;
        }
    }
    toks.len() - 1
}

/// Every path starting `crate::` or `super::`, use-groups expanded: (segments, line).
fn crate_paths(toks: &[Tok]) -> Vec<(Vec<String>, usize)> {
    let mut out = Vec::new();
    for (i, (t, line)) in toks.iter().enumerate() {
        let after_sep = i > 0 && toks[i - 1].0 == "::";
        let starts = (t == "crate" || t == "super") && !after_sep;
        if starts && toks.get(i + 1).is_some_and(|n| n.0 == "::") {
            path_tree(toks, i, vec![], *line, &mut out);
        }
    }
    out
}

/// Reads one path (or group) from `toks[i]` on, appending each full path to `out`; returns the
/// index after it.
fn path_tree(
    toks: &[Tok],
    mut i: usize,
    mut prefix: Vec<String>,
    line: usize,
    out: &mut Vec<(Vec<String>, usize)>,
) -> usize {
    loop {
        match toks.get(i).map(|t| t.0.as_str()) {
            Some("{") => {
                i += 1;
                while toks.get(i).is_some_and(|t| t.0 != "}") {
                    let next = path_tree(toks, i, prefix.clone(), line, out);
                    i = next.max(i + 1);
                    if toks.get(i).is_some_and(|t| t.0 == ",") {
                        i += 1;
                    }
                }
                return i + 1;
            }
            Some("self") if !prefix.is_empty() => i += 1,
            Some(seg) if seg.chars().all(|ch| ch.is_alphanumeric() || ch == '_') => {
                prefix.push(seg.to_string());
                i += 1;
            }
            _ => {}
        }
        if toks.get(i).is_some_and(|t| t.0 == "::") {
            i += 1;
            continue;
        }
        if toks.get(i).is_some_and(|t| t.0 == "as") {
            i += 2;
        }
        if !prefix.is_empty() {
            out.push((prefix, line));
        }
        return i;
    }
}

/// The crate's files, read once for all the tests.
fn read_crate() -> &'static [Source] {
    static CRATE: std::sync::OnceLock<Vec<Source>> = std::sync::OnceLock::new();
    CRATE.get_or_init(read_sources)
}

/// Reads the crate from `lib.rs` along its `mod name;` declarations (test modules excluded).
fn read_sources() -> Vec<Source> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut sources = Vec::new();
    let mut queue = vec![(root.join("src/lib.rs"), Vec::<String>::new())];
    while let Some((file, module)) = queue.pop() {
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file:?}: {e}"));
        let toks = without_test_items(tokens(&text));
        let dir = match file.file_stem().and_then(|s| s.to_str()) {
            Some("lib" | "mod") => file.parent().unwrap().to_path_buf(),
            _ => file.with_extension(""),
        };
        for w in toks.windows(3) {
            if w[0].0 == "mod" && w[2].0 == ";" {
                let mut child = module.clone();
                child.push(w[1].0.clone());
                queue.push((child_file(&dir, &w[1].0), child));
            }
        }
        let path = file
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let lines = text.lines().map(String::from).collect();
        let refs = crate_paths(&toks)
            .into_iter()
            .map(|(p, line)| (absolute(&module, p), line));
        let refs = refs.map(|(target, line)| Ref { target, line }).collect();
        sources.push(Source {
            path,
            module,
            lines,
            toks,
            refs,
        });
    }
    let modules: BTreeSet<Vec<String>> = sources.iter().map(|s| s.module.clone()).collect();
    for s in &mut sources {
        for r in &mut s.refs {
            while !r.target.is_empty() && !modules.contains(&r.target) {
                r.target.pop();
            }
        }
        let own = s.module.clone();
        s.refs.retain(|r| r.target != own);
    }
    sources.sort_by(|a, b| a.path.cmp(&b.path));
    sources
}

fn child_file(dir: &Path, name: &str) -> PathBuf {
    let flat = dir.join(format!("{name}.rs"));
    if flat.exists() {
        flat
    } else {
        dir.join(name).join("mod.rs")
    }
}

/// `crate::a::b` → `[a, b]`; `super::b` from `x::y` → `[x, b]`.
fn absolute(module: &[String], path: Vec<String>) -> Vec<String> {
    if path[0] == "crate" {
        return path[1..].to_vec();
    }
    let ups = path.iter().take_while(|s| *s == "super").count();
    let mut base = module[..module.len().saturating_sub(ups)].to_vec();
    base.extend_from_slice(&path[ups..]);
    base
}

fn layer_of(top: &str) -> Option<usize> {
    LAYERS
        .iter()
        .position(|(_, modules)| modules.contains(&top))
}

// ---------------------------------------------------------------- the walls

/// Fails with each import, by a file `from` picks, of a top-level module `to` names.
fn forbid(rule: &str, from: impl Fn(&Source) -> bool, to: impl Fn(&str) -> bool) {
    let mut violations = Vec::new();
    for s in read_crate().iter().filter(|s| from(s)) {
        for (target, line) in s.targets() {
            if to(target.first().map_or("", String::as_str)) {
                let target = shown(target);
                violations.push(format!("{}:{line}: `{target}` — rule: {rule}", s.path));
            }
        }
    }
    fail_with(rule, violations);
}

#[test]
fn lever_imports_nothing_else_of_the_crate() {
    let rule = "lever/ imports nothing else of the crate";
    forbid(rule, |s| s.top() == "lever", |top| top != "lever");
}

#[test]
fn only_the_demo_and_tests_reach_the_simulator_and_the_mailbox() {
    let rule = "only the demo command (and the tests) reach lever_sim and mailbox";
    let users =
        |s: &Source| STAND_INS.contains(&s.top()) || STAND_IN_USERS.contains(&s.path.as_str());
    forbid(rule, |s| !users(s), |top| STAND_INS.contains(&top));
}

/// Each import of a top-level module from a higher layer than the importing file's, under
/// `rule`; and each top-level module that is in no layer.
fn upward_imports<'a>(sources: impl Iterator<Item = &'a Source>, rule: &str) -> Vec<String> {
    let mut violations = Vec::new();
    for s in sources.filter(|s| !s.module.is_empty()) {
        let Some(own) = layer_of(s.top()) else {
            violations.push(format!(
                "{}: `{}` is in no layer — add it to LAYERS",
                s.path,
                s.top()
            ));
            continue;
        };
        for (target, line) in s.targets() {
            let Some(top) = target.first() else { continue };
            match layer_of(top) {
                Some(theirs) if theirs < own => violations.push(format!(
                    "{}:{line}: `{}` — rule: {rule} ({} < {top})",
                    s.path,
                    shown(target),
                    s.top()
                )),
                Some(_) => {}
                None => violations.push(format!(
                    "{}:{line}: `{}` is in no layer — add `{top}` to LAYERS",
                    s.path,
                    shown(target)
                )),
            }
        }
    }
    violations
}

#[test]
fn db_imports_no_layer_above_it() {
    let rule = "db imports no layer above it";
    let sources = read_crate();
    fail_with(
        rule,
        upward_imports(sources.iter().filter(|s| s.top() == "db"), rule),
    );
}

#[test]
fn layers_read_top_down() {
    let rule = "layers read top-down";
    fail_with(rule, upward_imports(read_crate().iter(), rule));
}

#[test]
fn no_module_imports_in_a_circle() {
    let sources = read_crate();
    let index: BTreeMap<&[String], usize> = sources
        .iter()
        .enumerate()
        .map(|(i, s)| (s.module.as_slice(), i))
        .collect();
    let edges: Vec<Vec<usize>> = sources
        .iter()
        .map(|s| {
            s.targets()
                .keys()
                .filter_map(|t| index.get(t).copied())
                .collect()
        })
        .collect();
    let mut violations = Vec::new();
    for circle in strongly_connected(&edges)
        .into_iter()
        .filter(|c| c.len() > 1)
    {
        if circle.iter().all(|&m| sources[m].top() == "lever_sim") {
            continue;
        }
        let names: Vec<String> = circle.iter().map(|&m| shown(&sources[m].module)).collect();
        let mut report = format!("circle of {}: {}", circle.len(), names.join(", "));
        for &from in &circle {
            let s = &sources[from];
            let lines: BTreeSet<usize> = (s.targets().into_iter())
                .filter(|(target, _)| index.get(target).is_some_and(|to| circle.contains(to)))
                .map(|(_, line)| line)
                .collect();
            for line in lines {
                let _ = write!(report, "\n    {}:{line}: {}", s.path, s.line(line));
            }
        }
        violations.push(report + "\n    — rule: no modules import each other in a circle");
    }
    fail_with("no modules import each other in a circle", violations);
}

/// Tarjan's algorithm: the strongly connected components of a graph given as adjacency lists.
fn strongly_connected(edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    struct Walk<'a> {
        edges: &'a [Vec<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        stack: Vec<usize>,
        found: Vec<Vec<usize>>,
    }
    fn visit(w: &mut Walk, v: usize) {
        let order = w.index.iter().flatten().count();
        (w.index[v], w.low[v]) = (Some(order), order);
        w.stack.push(v);
        for &t in &w.edges[v] {
            if w.index[t].is_none() {
                visit(w, t);
                w.low[v] = w.low[v].min(w.low[t]);
            } else if w.stack.contains(&t) {
                w.low[v] = w.low[v].min(w.index[t].unwrap());
            }
        }
        if Some(w.low[v]) == w.index[v] {
            let at = w.stack.iter().rposition(|&t| t == v).unwrap();
            let mut component = w.stack.split_off(at);
            component.sort();
            w.found.push(component);
        }
    }
    let n = edges.len();
    let (index, low) = (vec![None; n], vec![0; n]);
    let mut w = Walk {
        edges,
        index,
        low,
        stack: vec![],
        found: vec![],
    };
    for v in 0..n {
        if w.index[v].is_none() {
            visit(&mut w, v);
        }
    }
    w.found
}

#[test]
fn no_function_over_eighty_lines() {
    let rule =
        format!("no function over {MAX_FN_LINES} lines outside tests and declarative tables");
    let mut violations = Vec::new();
    for s in read_crate() {
        for (name, line, length) in functions(&s.toks) {
            let table = LONG_TABLES.contains(&(s.path.as_str(), name.as_str()));
            if length > MAX_FN_LINES && !table {
                violations.push(format!(
                    "{}:{line}: fn {name} is {length} lines — rule: {rule}",
                    s.path
                ));
            }
        }
    }
    fail_with(&rule, violations);
}

/// Each `fn name` with a body: (name, line of `fn`, lines from `fn` to the closing brace).
fn functions(toks: &[Tok]) -> Vec<(String, usize, usize)> {
    let mut found = Vec::new();
    for (i, w) in toks.windows(2).enumerate() {
        let ((t, line), (name, _)) = (&w[0], &w[1]);
        if t != "fn" || !name.starts_with(|ch: char| ch.is_alphabetic() || ch == '_') {
            continue; // not a function, or a function pointer type
        }
        let mut depth = 0usize;
        for j in i + 2..toks.len() {
            match toks[j].0.as_str() {
                "(" | "[" | "<" => depth += 1,
                ")" | "]" => depth = depth.saturating_sub(1),
                ">" if toks[j - 1].0 != "-" => depth = depth.saturating_sub(1),
                ";" if depth == 0 => break,
                "{" if depth == 0 => {
                    let close = toks[matching_brace(toks, j)].1;
                    found.push((name.clone(), *line, close - line + 1));
                    break;
                }
                _ => {}
            }
        }
    }
    found
}
