//! The modules under `src/` depend on each other one way only (the layer order is in
//! ARCHITECTURE.md, "Layers"). A module depends on another when its source names it: `crate::x`,
//! `crate::{x, ...}`, `$crate::x`, or `super::x` reaching another top-level module. A directory
//! (`src/link/`, `src/arch/`) is one module. The test fails naming every cycle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// References that still point up the layers, each explained in ARCHITECTURE.md ("Layers").
/// Every one of them must still exist: remove it from here when it goes.
const LEFT: &[(&str, &str)] = &[];

type Graph = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read src/") {
        let p = e.expect("directory entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Copy the string or character literal starting at `start` to `out`; where it ends.
fn literal(src: &str, start: usize, out: &mut String) -> usize {
    let b = src.as_bytes();
    let mut i = start + 1;
    while i < b.len() && b[i] != b[start] {
        i += if b[i] == b'\\' { 2 } else { 1 };
    }
    i = (i + 1).min(b.len());
    out.push_str(&src[start..i]);
    i
}

/// The source without comments; string and character literals are kept as they are.
fn code(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut depth = 0;
                while i < b.len() {
                    if b[i..].starts_with(b"/*") {
                        depth += 1;
                        i += 2;
                    } else if b[i..].starts_with(b"*/") {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                out.push(' ');
            }
            b'"' => i = literal(src, i, &mut out),
            // '"' and '\'' (not a lifetime).
            b'\'' if b.get(i + 2) == Some(&b'\'') || b.get(i + 1) == Some(&b'\\') => i = literal(src, i, &mut out),
            _ => {
                let c = src[i..].chars().next().expect("a character");
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    out
}

fn ident(s: &str) -> &str {
    let end = s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(s.len());
    &s[..end]
}

/// The first path segment of each item of a `{a, b::c, d::{e, f}}` list (`s` starts after `{`).
fn group_heads(s: &str) -> Vec<&str> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut item_start = true;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => item_start = true,
            c if item_start && !c.is_whitespace() => {
                item_start = false;
                heads.push(ident(&s[i..]));
            }
            _ => {}
        }
    }
    heads
}

/// The top-level modules a file names, given the module path of the file (`["link", "emit"]`).
fn references(code: &str, path: &[String]) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        if code[..at].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let rest = &code[at + "crate::".len()..];
        match rest.strip_prefix('{') {
            Some(group) => names.extend(group_heads(group).into_iter().map(str::to_string)),
            None => {
                names.insert(ident(rest).to_string());
            }
        }
    }
    for (at, _) in code.match_indices("super::") {
        if code[..at].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let mut rest = &code[at..];
        let mut up = 0;
        while let Some(r) = rest.strip_prefix("super::") {
            up += 1;
            rest = r;
        }
        // Inline modules (`mod tests`) are not counted: at worst a name is taken for a sibling.
        if up == path.len() {
            match rest.strip_prefix('{') {
                Some(group) => names.extend(group_heads(group).into_iter().map(str::to_string)),
                None => {
                    names.insert(ident(rest).to_string());
                }
            }
        }
    }
    names
}

/// Module -> the modules it names -> the files that name them.
fn graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut modules: BTreeMap<String, Vec<(PathBuf, Vec<String>)>> = BTreeMap::new();
    for f in files {
        let rel = f.strip_prefix(&src).expect("under src/").with_extension("");
        let mut path: Vec<String> = rel.iter().map(|c| c.to_string_lossy().into_owned()).collect();
        if path.last().is_some_and(|l| l == "mod") {
            path.pop();
        }
        if path == ["lib"] {
            continue;
        }
        modules.entry(path[0].clone()).or_default().push((f, path));
    }
    let mut g = Graph::new();
    for (m, files) in &modules {
        let out = g.entry(m.clone()).or_default();
        for (f, path) in files {
            let text = std::fs::read_to_string(f).expect("read a source file");
            for name in references(&code(&text), path) {
                if name != *m && modules.contains_key(&name) {
                    let shown = f.strip_prefix(&src).unwrap_or(f).display().to_string();
                    out.entry(name).or_default().insert(shown);
                }
            }
        }
    }
    g
}

/// Strongly connected components with more than one module (Tarjan).
fn cycles(g: &Graph) -> Vec<Vec<String>> {
    struct State<'g> {
        g: &'g Graph,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        found: Vec<Vec<String>>,
    }
    fn visit<'g>(s: &mut State<'g>, v: &'g str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        for w in s.g[v].keys() {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(lw);
            } else if s.stack.contains(&w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let at = s.stack.iter().rposition(|&x| x == v).expect("on the stack");
            let scc: Vec<String> = s.stack.drain(at..).map(str::to_string).collect();
            if scc.len() > 1 {
                s.found.push(scc);
            }
        }
    }
    let mut s = State { g, index: BTreeMap::new(), low: BTreeMap::new(), stack: Vec::new(), found: Vec::new() };
    for v in g.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.found
}

/// One cycle through `from` inside `scc`, as a path `from -> ... -> from`.
fn one_cycle(g: &Graph, scc: &[String], from: &str) -> Vec<String> {
    let mut prev: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([from]);
    while let Some(v) = queue.pop_front() {
        for w in g[v].keys().filter(|w| scc.contains(w)) {
            if w == from {
                let mut path = vec![from.to_string()];
                let mut at = v;
                while at != from {
                    path.push(at.to_string());
                    at = prev[at];
                }
                path.push(from.to_string());
                path.reverse();
                return path;
            }
            if !prev.contains_key(w.as_str()) {
                prev.insert(w, v);
                queue.push_back(w);
            }
        }
    }
    unreachable!("{from} lies on a cycle of its component")
}

#[test]
fn modules_form_layers() {
    let mut g = graph();
    assert!(g.len() > 20 && g["registry"].contains_key("module"), "the module graph was not read: {g:?}");
    let mut gone = Vec::new();
    for &(from, to) in LEFT {
        if g.get_mut(from).and_then(|out| out.remove(to)).is_none() {
            gone.push(format!("{from} -> {to}"));
        }
    }
    assert!(gone.is_empty(), "no longer referenced, take them out of LEFT (and ARCHITECTURE.md): {}", gone.join(", "));
    let mut report = Vec::new();
    for scc in cycles(&g) {
        report.push(format!("modules {} depend on each other:", scc.join(", ")));
        for m in &scc {
            let path = one_cycle(&g, &scc, m);
            let steps: Vec<String> = path
                .windows(2)
                .map(|w| format!("{} -> {} ({})", w[0], w[1], g[&w[0]][&w[1]].iter().cloned().collect::<Vec<_>>().join(", ")))
                .collect();
            report.push(format!("  {}", steps.join("; ")));
        }
    }
    assert!(report.is_empty(), "cycles between modules under src/:\n{}", report.join("\n"));
}

#[test]
fn reading_references() {
    let path = ["link".to_string(), "emit".to_string()];
    let src = "use crate::{a, b::{C, d}, e::F};\n// crate::g\nlet s = \"http://x\"; crate::h::Y; x = crate::i::J; super::super::k::L; super::m;\n/* crate::n */ '\"'; crate::o";
    let names: Vec<String> = references(&code(src), &path).into_iter().collect();
    assert_eq!(names, ["a", "b", "e", "h", "i", "k", "o"]);
}
