//! The layering of this crate, checked on its own source, so that it stays as `DESIGN.md` draws
//! it: `state.rs` is the hub, and what lies below it (configuration, policy, paths, the shell's
//! rules, containers, the clipboard's and checkpoint's own types, the protocols) never reaches
//! back up to it. Only glue may: the files that `use crate::state` themselves, wiring a feature
//! to the compositor (`handlers/`, the backends, and each feature's `impl Porthole`).
//!
//! Imports are read from the text (`use` trees and `crate::` paths outside tests), which is
//! enough for this crate's style; a file's edges go to the module files its paths name.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Files above the state: the command line, and starting the compositor.
const TOP: &[&str] = &["lib.rs", "main.rs", "serve.rs", "cli/"];

/// The glue: the files that may `use crate::state`, each wiring its feature to the compositor
/// (a folder's name ending in `/` stands for all its files). A file that is not listed and
/// needs the state is taking something of the hub it should be given as an argument.
const GLUE: &[&str] = &[
    "handlers/",
    "backend/",
    "serve.rs",
    "spawn.rs",
    "fuzzing.rs",
    "ipc/commands.rs",
    "outputs/layout.rs",
    "shell/windows.rs",
    "shell/grabs.rs",
    "shell/kiosk.rs",
    "input/devices.rs",
    "input/keyboard.rs",
    "input/pointer.rs",
    "input/synthetic.rs",
    "render/mod.rs",
    "render/cursor.rs",
    "render/screenshot.rs",
    "decorations/draw.rs",
    "decorations/window.rs",
    "containers/lifecycle.rs",
    "containers/supervise.rs",
    "clipboard/isolation.rs",
    "clipboard/prompt.rs",
    "clipboard/transfer.rs",
    "checkpoint/mod.rs",
    "checkpoint/draw.rs",
    "checkpoint/live.rs",
    "protocols/session/windows.rs",
];

/// Every source file of the crate, by path relative to `src/`.
fn sources() -> BTreeMap<String, String> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).expect("src/ is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|e| e == "rs")
                && !path.ends_with("architecture.rs")
            {
                let rel = path.strip_prefix(root).expect("under src/");
                let text = std::fs::read_to_string(&path).expect("a readable source file");
                out.insert(rel.to_string_lossy().into_owned(), text);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = BTreeMap::new();
    walk(&root, &root, &mut out);
    out
}

/// The module path a file defines: `shell/mod.rs` is `shell`, `shell/grabs.rs` `shell::grabs`.
fn module_of(file: &str) -> Vec<String> {
    let stem = file.trim_end_matches(".rs");
    let mut parts: Vec<String> = stem.split('/').map(String::from).collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    if parts == ["lib"] {
        parts.clear();
    }
    parts
}

/// The text without comments and without its test module.
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut in_string = false;
        let mut prev = ' ';
        let mut cut = line.len();
        for (i, c) in line.char_indices() {
            if c == '"' && prev != '\\' {
                in_string = !in_string;
            }
            if !in_string && c == '/' && prev == '/' {
                cut = i - 1;
                break;
            }
            prev = c;
        }
        out.push_str(&line[..cut]);
        out.push('\n');
    }
    out
}

/// Expands a `use` tree (`a::{b, c::{d, e}}`) into its paths.
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        let path = tree.split(" as ").next().unwrap_or(tree);
        return vec![path.trim().to_string()];
    };
    let prefix = tree[..open].trim_end_matches("::");
    let close = tree.rfind('}').filter(|c| *c > open).unwrap_or(tree.len());
    let inner = &tree[open + 1..close];
    let (mut items, mut depth, mut current) = (Vec::new(), 0, String::new());
    for c in inner.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    items.push(current);
    items
        .iter()
        .filter(|i| !i.trim().is_empty())
        .flat_map(|i| expand(i))
        .map(|p| match (prefix.is_empty(), p.as_str()) {
            (true, _) => p,
            (false, "self") => prefix.to_string(),
            (false, _) => format!("{prefix}::{p}"),
        })
        .collect()
}

/// The module paths a file's code names: its `use` statements (`crate::`, `super::`, `self::`)
/// and the `crate::` paths written inline.
fn named_paths(file: &str, code: &str) -> Vec<Vec<String>> {
    let me = module_of(file);
    let mut out = Vec::new();
    let mut offset = 0;
    for line in code.lines() {
        let start = offset;
        offset += line.len() + 1;
        let item = line.trim_start();
        let item = ["pub use ", "pub(crate) use ", "pub(super) use ", "use "]
            .iter()
            .find_map(|p| item.strip_prefix(p));
        let Some(item) = item else { continue };
        let from = start + (line.len() - item.len());
        let Some(end) = code[from..].find(';') else {
            break;
        };
        for path in expand(&code[from..from + end]) {
            let mut parts: Vec<String> = path.split("::").map(|p| p.trim().to_string()).collect();
            let resolved = match parts.first().map(String::as_str) {
                Some("crate") => parts.split_off(1),
                Some("self") => me.iter().cloned().chain(parts.drain(1..)).collect(),
                Some("super") => {
                    let mut base = me.clone();
                    while parts.first().is_some_and(|p| p == "super") {
                        base.pop();
                        parts.remove(0);
                    }
                    base.into_iter().chain(parts).collect()
                }
                _ => continue,
            };
            out.push(resolved);
        }
    }
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + 7..];
        let len = after
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(after.len());
        out.push(
            after[..len]
                .split("::")
                .filter(|p| !p.is_empty())
                .map(String::from)
                .collect(),
        );
        rest = &after[len..];
    }
    out
}

/// Each file's imports: the files of the modules it names.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let sources = sources();
    let modules: BTreeMap<Vec<String>, String> =
        sources.keys().map(|f| (module_of(f), f.clone())).collect();
    let resolve = |parts: &[String]| {
        (1..=parts.len())
            .rev()
            .find_map(|k| modules.get(&parts[..k]).cloned())
    };
    sources
        .iter()
        .map(|(file, text)| {
            let targets = named_paths(file, &code(text))
                .iter()
                .filter_map(|p| resolve(p))
                .filter(|t| t != file)
                .collect();
            (file.clone(), targets)
        })
        .collect()
}

fn listed(list: &[&str], file: &str) -> bool {
    list.iter()
        .any(|t| file == *t || (t.ends_with('/') && file.starts_with(t)))
}

fn is_top(file: &str) -> bool {
    listed(TOP, file)
}

/// The files that import `state.rs` themselves: the hub's glue.
fn glue(imports: &BTreeMap<String, BTreeSet<String>>) -> BTreeSet<String> {
    imports
        .iter()
        .filter(|(_, targets)| targets.contains("state.rs"))
        .map(|(f, _)| f.clone())
        .collect()
}

/// A chain of imports from `from` to `to`, if there is one.
fn path_between(
    imports: &BTreeMap<String, BTreeSet<String>>,
    from: &str,
    to: &str,
) -> Option<Vec<String>> {
    let mut came_from: BTreeMap<String, String> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([from.to_string()]);
    while let Some(file) = queue.pop_front() {
        if file == to {
            let mut chain = vec![file.clone()];
            let mut at = file;
            while let Some(prev) = came_from.get(&at) {
                chain.push(prev.clone());
                at = prev.clone();
            }
            chain.reverse();
            return Some(chain);
        }
        for next in imports.get(&file).into_iter().flatten() {
            if next != from && !came_from.contains_key(next) {
                came_from.insert(next.clone(), file.clone());
                queue.push_back(next.clone());
            }
        }
    }
    None
}

#[test]
fn only_the_listed_glue_imports_the_state() {
    let unlisted: Vec<String> = glue(&imports())
        .into_iter()
        .filter(|f| !listed(GLUE, f))
        .collect();
    assert!(
        unlisted.is_empty(),
        "these files import crate::state but are not glue: give them what they need as \
         arguments, or list them in GLUE if wiring the compositor is their job:\n{}",
        unlisted.join("\n")
    );
}

#[test]
fn nothing_below_the_state_reaches_it_except_glue() {
    let imports = imports();
    assert!(imports.len() > 50, "the crate's files were not found");
    let glue = glue(&imports);
    let mut wrong = Vec::new();
    for file in imports.keys() {
        if file == "state.rs" || is_top(file) || glue.contains(file) {
            continue;
        }
        if let Some(chain) = path_between(&imports, file, "state.rs") {
            wrong.push(chain.join(" -> "));
        }
    }
    assert!(
        wrong.is_empty(),
        "these files below the state reach it through glue; move what they use out of the \
         glue:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn import_cycles_pass_only_through_the_state_and_its_glue() {
    let imports = imports();
    let glue = glue(&imports);
    let mut wrong = Vec::new();
    for file in imports.keys() {
        if file == "state.rs" || glue.contains(file) {
            continue;
        }
        if let Some(chain) = imports
            .get(file)
            .into_iter()
            .flatten()
            .find_map(|next| path_between(&imports, next, file))
        {
            wrong.push(format!("{file} -> {}", chain.join(" -> ")));
        }
    }
    assert!(
        wrong.is_empty(),
        "import cycles through files that are not glue:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_source_file_is_over_a_thousand_lines() {
    let long: Vec<String> = sources()
        .iter()
        .filter(|(_, text)| text.lines().count() > 1000)
        .map(|(f, text)| format!("{f}: {} lines", text.lines().count()))
        .collect();
    assert!(
        long.is_empty(),
        "split these by what they own:\n{}",
        long.join("\n")
    );
}

#[test]
fn use_trees_expand_and_comments_are_not_code() {
    assert_eq!(
        expand("crate::shell::{self, grabs::{MoveGrab, ResizeGrab}, Shell as S}"),
        [
            "crate::shell",
            "crate::shell::grabs::MoveGrab",
            "crate::shell::grabs::ResizeGrab",
            "crate::shell::Shell"
        ]
    );
    let text = "use crate::paths; // use crate::state;\nlet s = \"http://x\";\n";
    assert_eq!(code(text), "use crate::paths; \nlet s = \"http://x\";\n");
    let paths: Vec<String> = named_paths(
        "shell/grabs.rs",
        "use super::placement;\nuse self::inner::X;\n",
    )
    .iter()
    .map(|p| p.join("::"))
    .collect();
    assert_eq!(paths, ["shell::placement", "shell::grabs::inner::X"]);
}
