//! Layering of the top-level modules (issue 12): imports only go downward, no cycles.
//!
//! Reads `src/**/*.rs` with std only, maps every file to its top-level module and collects its
//! references to other top-level modules (`crate::m`, `use crate::{m, …}`, `super::` chains that
//! climb to the crate root, `$crate::m` in macros, `imgcorrupt::m` in the binary; names
//! re-exported at the crate root resolve to the module they come from). Comments (doc comments
//! and their intra-doc links included), string and char literals are blanked first.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level modules, top layer first. A module may use any module of a lower layer, none of
/// its own layer (except the pairs in [`SAME_LAYER`]) and none above. Why this order: the
/// binary is a client of everything; dataset runs and training augmentations are clients of the
/// one-image API; scores (`metrics`, which reads only the catalogue) sit below them, because
/// `dataset::score` scores predictions over a run's manifest; the API looks corruptions up in the catalogue with their preset parameters;
/// the corruptions are built from the stylize engine and the shared kernels; kernels sit on
/// image I/O and codecs (frost textures, JPEG round-trips); everything random draws from `rng`;
/// `simd` (cpu features, dispatch) is the floor of all hot code; `error` and `digest`
/// (hashing/hex helpers) are leaves anyone may use. A module missing from this table is an
/// error: a new top-level module must be placed on purpose.
const LAYERS: &[&[&str]] = &[
    &["cli"],
    &["dataset", "augment"],
    &["metrics"],
    &["api"],
    &["preset", "catalogue"],
    &["corruptions"],
    &["stylize"],
    &["kernels"],
    &["codecs", "io"],
    &["rng"],
    &["simd"],
    &["error", "digest"],
];

/// Allowed edges inside one layer, (from, to).
const SAME_LAYER: &[(&str, &str)] = &[("preset", "catalogue"), ("io", "codecs")];

/// One reference from a file to a top-level module.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Ref {
    file: String,
    line: usize,
    from: String,
    to: String,
}

/// Replace comments, string/char literals by spaces (newlines kept so lines stay right).
fn strip(src: &str) -> String {
    let b: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < b.len() && b[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == '/' && b.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if b[i] == '*' && b.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(b[i]));
                    i += 1;
                }
            }
        } else if (c == 'r' || (c == 'b' && next == Some('r')))
            && !prev_is_ident(&b, i)
            && raw_string_start(&b, i + if c == 'b' { 2 } else { 1 }).is_some()
        {
            let start = i + if c == 'b' { 2 } else { 1 };
            let hashes = raw_string_start(&b, start).unwrap();
            let body = start + hashes + 1;
            for &ch in &b[i..body] {
                out.push(blank(ch));
            }
            i = body;
            while i < b.len() {
                if b[i] == '"' && (0..hashes).all(|k| b.get(i + 1 + k) == Some(&'#')) {
                    for _ in 0..=hashes {
                        out.push(' ');
                    }
                    i += 1 + hashes;
                    break;
                }
                out.push(blank(b[i]));
                i += 1;
            }
        } else if c == '"' {
            out.push(' ');
            i += 1;
            while i < b.len() && b[i] != '"' {
                if b[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < b.len() {
                    out.push(blank(b[i]));
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
        } else if c == '\'' && (next == Some('\\') || b.get(i + 2) == Some(&'\'')) {
            // a char literal ('x', '\n', '\u{..}'); otherwise a lifetime or label
            out.push(' ');
            i += 1;
            if b.get(i) == Some(&'\\') {
                out.push(' ');
                i += 1;
            }
            while i < b.len() && b[i] != '\'' {
                out.push(' ');
                i += 1;
            }
            out.push(' ');
            i += 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn prev_is_ident(b: &[char], i: usize) -> bool {
    i > 0 && (b[i - 1].is_alphanumeric() || b[i - 1] == '_')
}

/// If a raw string's `#…#"` starts at `i`, the number of `#`.
fn raw_string_start(b: &[char], i: usize) -> Option<usize> {
    let n = b[i.min(b.len())..]
        .iter()
        .take_while(|&&c| c == '#')
        .count();
    (b.get(i + n) == Some(&'"')).then_some(n)
}

/// Tokens: identifiers (with a leading `$` kept), `::` and single punctuation, with lines.
fn tokens(code: &str) -> Vec<(String, usize)> {
    let b: Vec<char> = code.chars().collect();
    let (mut out, mut line, mut i) = (Vec::new(), 1, 0);
    while i < b.len() {
        let c = b[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c.is_alphanumeric() || c == '_' || c == '$' {
            let s = i;
            i += 1;
            while i < b.len() && (b[i].is_alphanumeric() || b[i] == '_') {
                i += 1;
            }
            out.push((b[s..i].iter().collect(), line));
        } else if c == ':' && b.get(i + 1) == Some(&':') {
            out.push(("::".into(), line));
            i += 2;
        } else {
            out.push((c.to_string(), line));
            i += 1;
        }
    }
    out
}

/// First segments of the use tree starting at `t[i]` (an ident, `{…}` group or `*`).
fn first_segments(t: &[(String, usize)], i: usize) -> Vec<(String, usize)> {
    let Some((tok, line)) = t.get(i) else {
        return vec![];
    };
    if tok == "{" {
        let (mut out, mut depth, mut j, mut at_item) = (Vec::new(), 0, i + 1, true);
        while let Some((tk, ln)) = t.get(j) {
            match tk.as_str() {
                "{" => depth += 1,
                "}" if depth == 0 => break,
                "}" => depth -= 1,
                "," if depth == 0 => at_item = true,
                _ if at_item && depth == 0 => {
                    out.push((tk.clone(), *ln));
                    at_item = false;
                }
                _ => {}
            }
            j += 1;
        }
        out
    } else {
        vec![(tok.clone(), *line)]
    }
}

/// The crate a file belongs to and its module path inside it.
struct FileInfo {
    binary: bool,
    /// Module path from the crate root: `src/kernels/jpeg/dct.rs` → [kernels, jpeg, dct].
    path: Vec<String>,
}

fn file_info(rel: &str, bin_modules: &BTreeSet<String>) -> FileInfo {
    let rel = rel.strip_prefix("src/").unwrap_or(rel);
    let mut parts: Vec<String> = rel
        .trim_end_matches(".rs")
        .split('/')
        .map(String::from)
        .collect();
    if parts.last().map(String::as_str) == Some("mod") {
        parts.pop();
    }
    let binary = rel == "main.rs" || bin_modules.contains(&parts[0]);
    if rel == "main.rs" || rel == "lib.rs" {
        parts.clear();
    }
    FileInfo {
        binary,
        path: parts,
    }
}

/// Names declared by `mod x;` in a root file.
fn mods_of(root: &str) -> BTreeSet<String> {
    let t = tokens(&strip(root));
    t.windows(3)
        .filter(|w| w[0].0 == "mod" && w[2].0 == ";")
        .map(|w| w[1].0.clone())
        .collect()
}

/// `pub use m::…::Name [as Alias]` at the root: exported name → module it comes from.
fn reexports(lib: &str) -> BTreeMap<String, String> {
    let t = tokens(&strip(lib));
    let mut map = BTreeMap::new();
    let mut i = 0;
    while i + 1 < t.len() {
        if t[i].0 == "pub" && t[i + 1].0 == "use" {
            let end = (i..t.len()).find(|&j| t[j].0 == ";").unwrap_or(t.len());
            let stmt = &t[i + 2..end];
            let Some(module) = stmt.first().map(|x| x.0.clone()) else {
                break;
            };
            // every name that ends an item (before `,`, `}` or the end), or follows `as`
            for (k, (tok, _)) in stmt.iter().enumerate() {
                let next = stmt.get(k + 1).map(|x| x.0.as_str());
                let is_ident = tok.chars().all(|c| c.is_alphanumeric() || c == '_');
                if is_ident && matches!(next, None | Some(",") | Some("}")) {
                    map.insert(tok.clone(), module.clone());
                }
            }
            i = end;
        }
        i += 1;
    }
    map
}

/// Every reference to another top-level module in the tree given as (path from the package
/// root, source). Unresolvable root names are returned as errors.
fn references(files: &[(String, String)]) -> (Vec<Ref>, Vec<String>) {
    let src = |name: &str| {
        files
            .iter()
            .find(|(p, _)| p == name)
            .map(|(_, s)| s.as_str())
    };
    let bin_modules = src("src/main.rs").map(mods_of).unwrap_or_default();
    let lib_modules = src("src/lib.rs").map(mods_of).unwrap_or_default();
    let lib_exports = src("src/lib.rs").map(reexports).unwrap_or_default();
    let (mut refs, mut errors) = (Vec::new(), Vec::new());
    for (file, text) in files {
        let info = file_info(file, &bin_modules);
        let Some(from) = info.path.first().cloned() else {
            continue; // lib.rs / main.rs are the roots
        };
        let t = tokens(&strip(text));
        // inline `mod x {` blocks deepen the module path (for `super::`)
        let (mut depth, mut inline) = (0usize, Vec::<usize>::new());
        let mut i = 0;
        while i < t.len() {
            let tok = t[i].0.as_str();
            match tok {
                "{" => {
                    if i >= 2 && t[i - 2].0 == "mod" {
                        inline.push(depth);
                    }
                    depth += 1;
                }
                "}" => {
                    depth = depth.saturating_sub(1);
                    if inline.last() == Some(&depth) {
                        inline.pop();
                    }
                }
                _ => {}
            }
            let after = |k: usize| t.get(i + k).map(|x| x.0.as_str());
            let prev_is_sep = i > 0 && t[i - 1].0 == "::";
            let mut root: Option<(bool, usize)> = None; // (library root?, index of the tree)
            if after(1) == Some("::") && !prev_is_sep {
                match tok {
                    "crate" | "$crate" => root = Some((!info.binary || tok == "$crate", i + 2)),
                    "imgcorrupt" if info.binary => root = Some((true, i + 2)),
                    "super" => {
                        let mut k = i;
                        let mut ups = 0;
                        while t.get(k).map(|x| x.0.as_str()) == Some("super")
                            && t.get(k + 1).map(|x| x.0.as_str()) == Some("::")
                        {
                            ups += 1;
                            k += 2;
                        }
                        if ups >= info.path.len() + inline.len() {
                            root = Some((!info.binary, k));
                        }
                    }
                    _ => {}
                }
            }
            if let Some((library, at)) = root {
                for (name, line) in first_segments(&t, at) {
                    let to = if library {
                        if lib_modules.contains(&name) {
                            Some(name.clone())
                        } else {
                            lib_exports.get(&name).cloned()
                        }
                    } else if bin_modules.contains(&name) {
                        Some(name.clone())
                    } else {
                        None
                    };
                    match to {
                        Some(to) if to != from => refs.push(Ref {
                            file: file.clone(),
                            line,
                            from: from.clone(),
                            to,
                        }),
                        Some(_) => {}
                        None if name == "self" => {}
                        None => errors.push(format!(
                            "{file}:{line}: `{name}` at the crate root is neither a top-level \
                             module nor a re-export the checker can trace (glob or unknown)"
                        )),
                    }
                }
            }
            i += 1;
        }
    }
    (refs, errors)
}

fn layer_of(m: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&m))
}

/// All violations of the layer table and every cycle, as messages naming file and line.
fn check(files: &[(String, String)]) -> Vec<String> {
    let (refs, mut out) = references(files);
    let bin_modules = files
        .iter()
        .find(|(p, _)| p == "src/main.rs")
        .map(|(_, s)| mods_of(s))
        .unwrap_or_default();
    let mut modules = BTreeSet::new();
    for (file, _) in files {
        if let Some(m) = file_info(file, &bin_modules).path.first() {
            modules.insert(m.clone());
        }
    }
    for m in &modules {
        if layer_of(m).is_none() {
            out.push(format!(
                "module `{m}` is not in the LAYERS table of tests/architecture.rs"
            ));
        }
    }
    for r in &refs {
        let (Some(a), Some(b)) = (layer_of(&r.from), layer_of(&r.to)) else {
            continue;
        };
        let same_ok = SAME_LAYER.contains(&(r.from.as_str(), r.to.as_str()));
        if a > b || (a == b && !same_ok) {
            let why = if a == b { "same layer" } else { "upward" };
            out.push(format!(
                "{}:{}: {} -> {} ({why})",
                r.file, r.line, r.from, r.to
            ));
        }
    }
    out.extend(cycles(&refs));
    out
}

/// One message per strongly connected component of more than one module, with a concrete
/// cycle and the first reference of each of its edges.
fn cycles(refs: &[Ref]) -> Vec<String> {
    let mut edges: BTreeMap<(&str, &str), &Ref> = BTreeMap::new();
    for r in refs {
        edges.entry((r.from.as_str(), r.to.as_str())).or_insert(r);
    }
    let mut succ: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for &(a, b) in edges.keys() {
        succ.entry(a).or_default().push(b);
    }
    let reach = |from: &str| {
        let (mut seen, mut stack) = (BTreeSet::new(), vec![from]);
        while let Some(n) = stack.pop() {
            for &m in succ.get(n).into_iter().flatten() {
                if seen.insert(m) {
                    stack.push(m);
                }
            }
        }
        seen
    };
    let nodes: BTreeSet<&str> = edges.keys().flat_map(|&(a, b)| [a, b]).collect();
    let mut done = BTreeSet::new();
    let mut out = Vec::new();
    for &n in &nodes {
        if done.contains(n) || !reach(n).contains(n) {
            continue;
        }
        let scc: BTreeSet<&str> = nodes
            .iter()
            .copied()
            .filter(|&m| reach(n).contains(m) && reach(m).contains(n))
            .collect();
        done.extend(scc.iter().copied());
        // shortest cycle through n (breadth first inside the component)
        let mut prev: BTreeMap<&str, &str> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([n]);
        'bfs: while let Some(a) = queue.pop_front() {
            for &b in succ.get(a).into_iter().flatten() {
                if !scc.contains(b) || prev.contains_key(b) {
                    continue;
                }
                prev.insert(b, a);
                if b == n {
                    break 'bfs;
                }
                queue.push_back(b);
            }
        }
        let mut path = vec![n];
        let mut cur = prev[n];
        while cur != n {
            path.push(cur);
            cur = prev[cur];
        }
        path.push(n);
        path.reverse();
        let steps: Vec<String> = path
            .windows(2)
            .map(|w| {
                let r = edges[&(w[0], w[1])];
                format!("{} -> {} ({}:{})", w[0], w[1], r.file, r.line)
            })
            .collect();
        let members: Vec<&str> = scc.into_iter().collect();
        out.push(format!(
            "cycle among {{{}}}: {}",
            members.join(", "),
            steps.join(", ")
        ));
    }
    out
}

fn read_tree(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            read_tree(&p, root, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            let rel = p
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, std::fs::read_to_string(&p).unwrap()));
        }
    }
}

#[test]
fn top_level_modules_follow_the_layers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    read_tree(&root.join("src"), root, &mut files);
    let problems = check(&files);
    assert!(
        problems.is_empty(),
        "{} layering problems (see LAYERS in tests/architecture.rs):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

fn tree(files: &[(&str, &str)]) -> Vec<(String, String)> {
    files
        .iter()
        .map(|(p, s)| (p.to_string(), s.to_string()))
        .collect()
}

const LIB: &str = "pub mod kernels;\npub mod rng;\npub mod io;\npub use rng::RngMode;\n";

#[test]
fn checker_accepts_downward_edges_and_ignores_comments_and_strings() {
    let files = tree(&[
        ("src/lib.rs", LIB),
        (
            "src/kernels/mod.rs",
            "//! See [`crate::io`].\n/// [`crate::io::x`]\nuse crate::{rng::Rng, RngMode};\n\
             fn f() { let s = \"crate::io\"; let c = '{'; /* crate::io */ }\n\
             mod tests { use super::*; }\n",
        ),
        (
            "src/rng/mod.rs",
            "pub enum RngMode {}\nfn g<'a>(x: &'a str) { let r = r#\"crate::io\"#; }\n",
        ),
        ("src/io.rs", "use crate::rng::RngMode;\n"),
    ]);
    assert_eq!(check(&files), Vec::<String>::new());
    let (refs, errors) = references(&files);
    assert!(errors.is_empty());
    let edges: Vec<_> = refs
        .iter()
        .map(|r| (r.from.as_str(), r.to.as_str(), r.line))
        .collect();
    assert_eq!(
        edges,
        [
            ("kernels", "rng", 3),
            ("kernels", "rng", 3),
            ("io", "rng", 1)
        ]
    );
}

#[test]
fn checker_finds_a_wrong_direction_edge_and_a_cycle() {
    let files = tree(&[
        ("src/lib.rs", LIB),
        ("src/kernels/mod.rs", "use crate::rng;\n"),
        ("src/rng/mod.rs", "pub enum RngMode {}\n"),
        (
            "src/rng/fast.rs",
            "\n\nfn f() { super::super::kernels::k(); }\n",
        ),
    ]);
    let problems = check(&files);
    assert_eq!(
        problems,
        [
            "src/rng/fast.rs:3: rng -> kernels (upward)",
            "cycle among {kernels, rng}: kernels -> rng (src/kernels/mod.rs:1), \
             rng -> kernels (src/rng/fast.rs:3)",
        ]
    );
}

#[test]
fn checker_rejects_unplaced_modules_same_layer_edges_and_untraceable_names() {
    let files = tree(&[
        (
            "src/lib.rs",
            "pub mod dataset;\npub mod augment;\npub mod extra;\n",
        ),
        (
            "src/dataset.rs",
            "use crate::augment::A;\nuse crate::Mystery;\n",
        ),
        ("src/augment.rs", ""),
        ("src/extra.rs", ""),
        ("src/main.rs", "mod cli;\n"),
        (
            "src/cli/mod.rs",
            "use crate::cli::x;\nuse imgcorrupt::{dataset, augment};\n",
        ),
    ]);
    let problems = check(&files);
    assert_eq!(
        problems,
        [
            "src/dataset.rs:2: `Mystery` at the crate root is neither a top-level module nor a \
             re-export the checker can trace (glob or unknown)",
            "module `extra` is not in the LAYERS table of tests/architecture.rs",
            "src/dataset.rs:1: dataset -> augment (same layer)",
        ]
    );
}
