//! The layers of ARCHITECTURE.md, checked against the source: a module
//! uses only modules of lower layers, never one of its own layer, and the
//! files of one module never import one another in a circle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The layers, lowest first. A module may use any module of a lower layer
/// and none of its own or a higher one.
const LAYERS: &[&[&str]] = &[
    &["text", "db", "pki"],
    &["gradebook"],
    &["i18n"],
    &["config", "render"],
    &["views", "accounts"],
    &["import", "demo", "build", "archive", "mail"],
    &["http"],
    &["cmd"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// Every `.rs` file under `src/`, as (module path, text without comments).
fn sources() -> Vec<(Vec<String>, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("src/ is readable") {
            let path = entry.expect("src/ is readable").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(&root).expect("under src/");
                let mut module: Vec<String> = rel
                    .with_extension("")
                    .iter()
                    .map(|s| s.to_string_lossy().into_owned())
                    .collect();
                if module.last().is_some_and(|m| m == "mod") {
                    module.pop();
                }
                let text = std::fs::read_to_string(&path).expect("a source file is readable");
                let code: String = text
                    .lines()
                    .map(|l| l.split("//").next().unwrap_or(""))
                    .collect::<Vec<_>>()
                    .join("\n");
                out.push((module, code));
            }
        }
    }
    out
}

/// The names that follow `prefix` in `code`: `crate::` gives the top
/// modules a file names, in paths and in `use crate::{…}` lists alike.
fn named_after(code: &str, prefix: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    for (i, _) in code.match_indices(prefix) {
        let rest = &code[i + prefix.len()..];
        if let Some(list) = rest.strip_prefix('{') {
            let end = list.find('}').unwrap_or(list.len());
            for item in list[..end].split(',') {
                let name = ident(item.trim());
                if !name.is_empty() {
                    names.insert(name);
                }
            }
        } else {
            names.insert(ident(rest));
        }
    }
    names
}

#[test]
fn modules_use_only_lower_layers() {
    let mut wrong = Vec::new();
    for (module, code) in sources() {
        let Some(top) = module
            .first()
            .filter(|m| !["lib", "main", "architecture"].contains(&m.as_str()))
        else {
            continue;
        };
        let own = layer_of(top)
            .unwrap_or_else(|| panic!("src/{top} is in no layer of ARCHITECTURE.md: add it"));
        for used in named_after(&code, "crate::") {
            if used == *top || used == "self" {
                continue;
            }
            match layer_of(&used) {
                Some(l) if l < own => {}
                _ => wrong.push(format!("{} uses {used}", module.join("::"))),
            }
        }
    }
    wrong.sort();
    wrong.dedup();
    assert!(
        wrong.is_empty(),
        "these uses go against the layers of ARCHITECTURE.md:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_files_of_a_module_import_one_another_in_no_circle() {
    // Edges between sibling files: `super::x` and `crate::top::…::x`.
    let files = sources();
    let all: BTreeSet<Vec<String>> = files.iter().map(|(m, _)| m.clone()).collect();
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (module, code) in &files {
        let Some((_, parent)) = module.split_last() else {
            continue;
        };
        let sibling = |name: &str| {
            let mut m = parent.to_vec();
            m.push(name.to_owned());
            (m != *module && all.contains(&m)).then_some(m)
        };
        let mut used = named_after(code, "super::");
        let qualified = format!("crate::{}::", parent.join("::"));
        if !parent.is_empty() {
            used.extend(named_after(code, &qualified));
        }
        for name in used {
            if let Some(s) = sibling(&name) {
                edges.entry(module.clone()).or_default().insert(s);
            }
        }
    }
    // A depth-first search for a way back.
    fn reaches(
        edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        from: &Vec<String>,
        to: &Vec<String>,
        seen: &mut BTreeSet<Vec<String>>,
    ) -> bool {
        edges.get(from).is_some_and(|next| {
            next.iter()
                .any(|n| n == to || (seen.insert(n.clone()) && reaches(edges, n, to, seen)))
        })
    }
    let mut circles = Vec::new();
    for (from, next) in &edges {
        for to in next {
            if reaches(&edges, to, from, &mut BTreeSet::new()) {
                circles.push(format!("{} ⇄ {}", from.join("::"), to.join("::")));
            }
        }
    }
    assert!(
        circles.is_empty(),
        "files that import each other:\n{}",
        circles.join("\n")
    );
}
