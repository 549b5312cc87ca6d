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
        "engines: the queue, Lever access, mail",
        &["queue", "connection", "lever_access", "lever_oauth", "smtp"],
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
const LONG_TABLES: &[(&str, &str)] = &[
    ("src/web/mod.rs", "routes"),
    ("src/commands/demo.rs", "seed_people"),
    ("src/commands/demo.rs", "save_demo_question"),
    ("src/lever_sim/seed.rs", "seed_company"),
];
const MAX_FN_LINES: usize = 80;

/// One source file of the library, read and stripped.
struct Source {
    /// e.g. `src/web/events.rs`
    path: String,
    /// e.g. `["web", "events"]`; empty for `lib.rs`
    module: Vec<String>,
    lines: Vec<String>,
    /// The text with comments, strings and test items blanked; line breaks kept.
    code: String,
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

/// Blanks comments, string and char literals (keeping line breaks), so that what remains is code.
fn strip_comments_and_strings(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |out: &mut String, s: &[char]| {
        out.extend(s.iter().map(|&ch| if ch == '\n' { '\n' } else { ' ' }))
    };
    let ident = |ch: char| ch.is_alphanumeric() || ch == '_';
    let mut i = 0;
    while i < c.len() {
        let start = i;
        let prev_ident = i > 0 && ident(c[i - 1]);
        if c[i] == '/' && c.get(i + 1) == Some(&'/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if c[i] == '/' && c.get(i + 1) == Some(&'*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if !prev_ident && raw_string_hashes(&c, i).is_some() {
            let (open, hashes) = raw_string_hashes(&c, i).unwrap();
            i = open + 1;
            while i < c.len() && !(c[i] == '"' && (1..=hashes).all(|h| c.get(i + h) == Some(&'#')))
            {
                i += 1;
            }
            i = (i + 1 + hashes).min(c.len());
        } else if c[i] == '"' || (!prev_ident && c[i] == 'b' && c.get(i + 1) == Some(&'"')) {
            i += if c[i] == 'b' { 2 } else { 1 };
            while i < c.len() && c[i] != '"' {
                i += if c[i] == '\\' { 2 } else { 1 };
            }
            i = (i + 1).min(c.len());
        } else if c[i] == '\'' && (c.get(i + 1) == Some(&'\\') || c.get(i + 2) == Some(&'\'')) {
            i += 1;
            while i < c.len() && c[i] != '\'' {
                i += if c[i] == '\\' { 2 } else { 1 };
            }
            i = (i + 1).min(c.len());
        } else {
            out.push(c[i]);
            i += 1;
            continue;
        }
        blank(&mut out, &c[start..i.min(c.len())]);
    }
    out
}

/// At `r"`, `r#"`, `br"`, `br#"`: the index of the opening quote and the number of hashes.
fn raw_string_hashes(c: &[char], i: usize) -> Option<(usize, usize)> {
    let mut j = i;
    if c.get(j) == Some(&'b') {
        j += 1;
    }
    if c.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let hashes = c[j..].iter().take_while(|&&ch| ch == '#').count();
    (c.get(j + hashes) == Some(&'"')).then_some((j + hashes, hashes))
}

/// Blanks every item marked `#[cfg(test)]` (a test module, a test-only function or import).
fn strip_test_items(code: &str) -> String {
    let mut out: Vec<char> = code.chars().collect();
    let text: String = out.iter().collect();
    let mut from = 0;
    while let Some(at) = text[from..].find("#[cfg(test)]").map(|p| p + from) {
        let start = text[..at].chars().count();
        let (mut i, mut depth) = (start + "#[cfg(test)]".len(), 0usize);
        while i < out.len() {
            match out[i] {
                '(' | '[' => depth += 1,
                ')' | ']' => depth = depth.saturating_sub(1),
                ';' | ',' if depth == 0 => break,
                '}' if depth == 0 => {
                    i -= 1; // the last arm of a match: its block closes here
                    break;
                }
                '{' if depth == 0 => {
                    i = matching_brace(&out, i);
                    break;
                }
                _ => {}
            }
            i += 1;
        }
        // the item ends at its first `;` or `,` outside brackets, or where its body closes
        for ch in &mut out[start..(i + 1).min(text.chars().count())] {
            if *ch != '\n' {
                *ch = ' ';
            }
        }
        from = at + 1;
    }
    out.into_iter().collect()
}

/// The index of the `}` closing the `{` at `open` (or the last index if unbalanced).
fn matching_brace(c: &[char], open: usize) -> usize {
    let mut depth = 0;
    for (i, &ch) in c.iter().enumerate().skip(open) {
        match ch {
            '{' => depth += 1,
            '}' if depth == 1 => return i,
            '}' => depth -= 1,
            _ => {}
        }
    }
    c.len() - 1
}

/// Identifiers and punctuation, each with its line.
fn tokens(code: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let (c, mut i, mut line): (Vec<char>, usize, usize) = (code.chars().collect(), 0, 1);
    while i < c.len() {
        if c[i] == '\n' {
            line += 1;
            i += 1;
        } else if c[i].is_whitespace() {
            i += 1;
        } else if c[i].is_alphanumeric() || c[i] == '_' {
            let s = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            out.push((c[s..i].iter().collect(), line));
        } else if c[i] == ':' && c.get(i + 1) == Some(&':') {
            out.push(("::".into(), line));
            i += 2;
        } else {
            out.push((c[i].to_string(), line));
            i += 1;
        }
    }
    out
}

/// Every path starting `crate::` or `super::`, use-groups expanded: (segments, line).
fn crate_paths(toks: &[(String, usize)]) -> Vec<(Vec<String>, usize)> {
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
    toks: &[(String, usize)],
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

/// Reads the crate from `lib.rs` along its `mod name;` declarations (test modules excluded).
fn read_crate() -> Vec<Source> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut sources = Vec::new();
    let mut queue = vec![(root.join("src/lib.rs"), Vec::<String>::new())];
    while let Some((file, module)) = queue.pop() {
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file:?}: {e}"));
        let code = strip_test_items(&strip_comments_and_strings(&text));
        let toks = tokens(&code);
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
            code,
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

#[test]
fn lever_imports_nothing_else_of_the_crate() {
    let mut violations = Vec::new();
    for s in read_crate().iter().filter(|s| s.top() == "lever") {
        for (target, line) in s.targets() {
            if target.first().map(String::as_str) != Some("lever") {
                violations.push(format!(
                    "{}:{line}: `{}` — rule: lever/ imports nothing else of the crate",
                    s.path,
                    shown(target)
                ));
            }
        }
    }
    fail_with("lever/ imports nothing else of the crate", violations);
}

#[test]
fn only_the_demo_and_tests_reach_the_simulator_and_the_mailbox() {
    let rule = "only the demo command (and the tests) reach lever_sim and mailbox";
    let mut violations = Vec::new();
    for s in read_crate() {
        if STAND_INS.contains(&s.top()) || STAND_IN_USERS.contains(&s.path.as_str()) {
            continue;
        }
        for (target, line) in s.targets() {
            if target
                .first()
                .is_some_and(|t| STAND_INS.contains(&t.as_str()))
            {
                violations.push(format!(
                    "{}:{line}: `{}` — rule: {rule}",
                    s.path,
                    shown(target)
                ));
            }
        }
    }
    fail_with(rule, violations);
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
        on_stack: Vec<bool>,
        next: usize,
        found: Vec<Vec<usize>>,
    }
    fn visit(w: &mut Walk, v: usize) {
        w.index[v] = Some(w.next);
        w.low[v] = w.next;
        w.next += 1;
        w.stack.push(v);
        w.on_stack[v] = true;
        for &t in &w.edges[v] {
            match w.index[t] {
                None => {
                    visit(w, t);
                    w.low[v] = w.low[v].min(w.low[t]);
                }
                Some(i) if w.on_stack[t] => w.low[v] = w.low[v].min(i),
                Some(_) => {}
            }
        }
        if Some(w.low[v]) == w.index[v] {
            let mut component = Vec::new();
            while let Some(t) = w.stack.pop() {
                w.on_stack[t] = false;
                component.push(t);
                if t == v {
                    break;
                }
            }
            component.sort();
            w.found.push(component);
        }
    }
    let n = edges.len();
    let mut w = Walk {
        edges,
        index: vec![None; n],
        low: vec![0; n],
        stack: vec![],
        on_stack: vec![false; n],
        next: 0,
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
        for (name, line, length) in functions(&s.code) {
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
fn functions(code: &str) -> Vec<(String, usize, usize)> {
    let c: Vec<char> = code.chars().collect();
    let line_at: Vec<usize> = c
        .iter()
        .scan(1, |line, &ch| {
            let here = *line;
            *line += usize::from(ch == '\n');
            Some(here)
        })
        .collect();
    let toks = tokens(code);
    let mut found = Vec::new();
    let mut offset = 0;
    // walk the text for `fn <ident>` so brace positions are known in characters
    for (i, (t, _)) in toks.iter().enumerate() {
        if t != "fn" {
            continue;
        }
        let at = find_word(&c, "fn", offset).expect("token seen in text");
        offset = at + 2;
        let Some((name, _)) = toks.get(i + 1) else {
            break;
        };
        if !name.starts_with(|ch: char| ch.is_alphabetic() || ch == '_') {
            continue; // a function pointer type
        }
        let mut j = at;
        let mut depth = 0usize;
        while j < c.len() {
            match c[j] {
                '(' | '[' | '<' => depth += 1,
                ')' | ']' => depth = depth.saturating_sub(1),
                '>' if j > 0 && c[j - 1] != '-' && c[j - 1] != '=' => {
                    depth = depth.saturating_sub(1)
                }
                ';' if depth == 0 => break,
                '{' if depth == 0 => {
                    let close = matching_brace(&c, j);
                    found.push((name.clone(), line_at[at], line_at[close] - line_at[at] + 1));
                    break;
                }
                _ => {}
            }
            j += 1;
        }
    }
    found
}

/// The next position of `word` as a whole word, at or after `from`.
fn find_word(c: &[char], word: &str, from: usize) -> Option<usize> {
    let w: Vec<char> = word.chars().collect();
    let ident = |ch: &char| ch.is_alphanumeric() || *ch == '_';
    (from..c.len().saturating_sub(w.len() - 1)).find(|&i| {
        c[i..i + w.len()] == w[..]
            && (i == 0 || !ident(&c[i - 1]))
            && c.get(i + w.len()).is_none_or(|ch| !ident(ch))
    })
}
