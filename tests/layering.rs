//! The layering of `src/` is checked, not just described.
//!
//! ARCHITECTURE.md's "Files" table lists every file of `src/`, top first, and says that each
//! file uses only the files below it. This test reads that table, finds every reference one
//! file makes to another (`use` declarations, paths written out in code, `super::` and child
//! modules, and names re-exported by a folder's `mod.rs` or by `lib.rs`, followed to the file
//! that defines them), and fails on any reference that runs back up the table, on a file the
//! table does not list, and on a listed file that does not exist. It also checks the sync rule:
//! only `sync.rs` names `std::sync` or `parking_lot`, except the files listed in
//! [`SYNC_EXCEPTIONS`], each with its reason.
//!
//! Unit-test modules (`#[cfg(test)] mod tests { .. }`) are left out: tests may use the crate's
//! public face. Comments, string and character literals are left out too.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Files that may name `std::sync` or `parking_lot` besides `sync.rs`, and why.
const SYNC_EXCEPTIONS: &[(&str, &str)] = &[
    (
        "reclaim.rs",
        "process-wide counters live in statics, which loom's atomics cannot be; loom models \
         do not check reclamation statistics",
    ),
    (
        "raw/pool.rs",
        "the cache of freed allocations is a process-wide static, off under loom",
    ),
    (
        "raw/wide.rs",
        "the CPU detection result is a static, read before any array exists",
    ),
    (
        "dynamic/array.rs",
        "export tokens are numbered by a counter that is not loom-modelled",
    ),
    (
        "dynamic/shared.rs",
        "copies from host memory behind a raw pointer, which no loom model reaches",
    ),
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The files of ARCHITECTURE.md's "Files" table, top first.
fn table() -> Vec<String> {
    let text = fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let start = text
        .find("\n## Files")
        .expect("ARCHITECTURE.md has a \"Files\" section");
    let section = &text[start + 1..];
    let end = section[3..].find("\n## ").map_or(section.len(), |e| e + 3);
    section[..end]
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let name = l[3..].split('`').next().unwrap();
            name.to_string()
        })
        .collect()
}

/// Every `.rs` file under `src/`, relative to it, with `/` separators.
fn source_files() -> BTreeSet<String> {
    fn walk(dir: &Path, base: &Path, out: &mut BTreeSet<String>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, base, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(base).unwrap();
                out.insert(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut out = BTreeSet::new();
    let src = root().join("src");
    walk(&src, &src, &mut out);
    out
}

/// The module path of a file: `lib.rs` is `[]`, `raw/mod.rs` is `[raw]`, `raw/cells.rs` is
/// `[raw, cells]`.
fn module_of(file: &str) -> Vec<String> {
    let stem = file.strip_suffix(".rs").unwrap();
    let mut parts: Vec<String> = stem.split('/').map(str::to_string).collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// `src` without comments, string literals and character literals (each replaced by a space,
/// newlines kept), so that only code remains.
fn code_only(src: &str) -> String {
    let b: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == '/' && b.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == '*' && b.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if b[i] == '\n' {
                        out.push('\n');
                    }
                    i += 1;
                }
            }
            out.push(' ');
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && !ident_before(&b, i) {
            // A raw string: r"..", r#".."#, ...
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= b.len() {
                    break;
                }
                if b[j] == '"' && (0..hashes).all(|k| b.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                if b[j] == '\n' {
                    out.push('\n');
                }
                j += 1;
            }
            out.push(' ');
            i = j;
        } else if c == '"' {
            i += 1;
            while i < b.len() && b[i] != '"' {
                if b[i] == '\\' {
                    i += 1;
                }
                if b.get(i) == Some(&'\n') {
                    out.push('\n');
                }
                i += 1;
            }
            i += 1;
            out.push(' ');
        } else if c == '\'' {
            // A character literal ('x', '\n', '\u{..}'), or a lifetime ('a), which stays.
            if next == Some('\\') {
                let mut j = i + 2;
                while j < b.len() && b[j] != '\'' {
                    j += 1;
                }
                i = j + 1;
                out.push(' ');
            } else if b.get(i + 2) == Some(&'\'') {
                i += 3;
                out.push(' ');
            } else {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn ident_before(b: &[char], i: usize) -> bool {
    i > 0 && (b[i - 1].is_alphanumeric() || b[i - 1] == '_')
}

/// The code of a file with its unit-test modules removed: an item `mod NAME { .. }` preceded
/// by an attribute `#[cfg(..test..)]`.
fn without_test_modules(code: &str) -> String {
    let mut out = String::new();
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(") {
        let attr_end = rest[at..].find(']').map_or(rest.len(), |e| at + e + 1);
        let attr = &rest[at..attr_end];
        let after = rest[attr_end..].trim_start();
        // `mod name { .. }` (an inline test module), not `mod name;` (a file, kept: its own
        // code is checked as a file of the table).
        let inline = after
            .find(['{', ';'])
            .is_some_and(|k| after.as_bytes()[k] == b'{');
        let is_test_mod = attr.contains("test") && after.starts_with("mod ") && inline;
        if !is_test_mod {
            out.push_str(&rest[..attr_end]);
            rest = &rest[attr_end..];
            continue;
        }
        out.push_str(&rest[..at]);
        let open = attr_end + rest[attr_end..].find('{').unwrap();
        let mut depth = 0;
        let mut end = open;
        for (k, ch) in rest[open..].char_indices() {
            match ch {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + k + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// One path the code names, as written, with the inline module it appears in.
struct Mention {
    path: Vec<String>,
    inline: Vec<String>,
}

/// Every path that starts with `crate`, `$crate`, `super` or `self`, or with the name of a
/// child module, in `code`; `use` trees are expanded (`use a::{b, c::d}` names `a::b` and
/// `a::c::d`).
fn mentions(code: &str, children: &BTreeSet<String>) -> Vec<Mention> {
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    // Inline modules (`mod x86 { .. }`): the stack of their names and the brace depth each
    // opened at.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    while i < chars.len() {
        let c = chars[i];
        if c == '{' {
            depth += 1;
            i += 1;
            continue;
        }
        if c == '}' {
            depth = depth.saturating_sub(1);
            if inline.last().is_some_and(|(_, d)| *d == depth) {
                inline.pop();
            }
            i += 1;
            continue;
        }
        if !(is_ident(c) || c == '$') || (i > 0 && (is_ident(chars[i - 1]) || chars[i - 1] == ':'))
        {
            i += 1;
            continue;
        }
        // A word starts here.
        let start = i;
        while i < chars.len() && (is_ident(chars[i]) || chars[i] == '$') {
            i += 1;
        }
        let word: String = chars[start..i].iter().collect();
        if word == "mod" {
            // `mod name {` opens an inline module; `mod name;` declares a file.
            let rest: String = chars[i..chars.len().min(i + 80)].iter().collect();
            let name: String = rest
                .trim_start()
                .chars()
                .take_while(|&c| is_ident(c))
                .collect();
            let after = rest.trim_start()[name.len()..].trim_start();
            if after.starts_with('{') {
                inline.push((name, depth));
            }
            continue;
        }
        if word == "use" {
            let end = code[char_index_to_byte(code, i)..]
                .find(';')
                .map_or(code.len(), |e| char_index_to_byte(code, i) + e);
            let tree = &code[char_index_to_byte(code, i)..end];
            for path in expand_use(tree) {
                if starts_known(&path, children) {
                    out.push(Mention {
                        path,
                        inline: inline.iter().map(|(n, _)| n.clone()).collect(),
                    });
                }
            }
            i = code[..end].chars().count();
            continue;
        }
        if !starts_known(std::slice::from_ref(&word), children) {
            continue;
        }
        // A path: word (:: word)*
        let mut path = vec![word];
        loop {
            let mut j = i;
            while j < chars.len() && chars[j].is_whitespace() {
                j += 1;
            }
            if chars.get(j) == Some(&':') && chars.get(j + 1) == Some(&':') {
                j += 2;
                while j < chars.len() && chars[j].is_whitespace() {
                    j += 1;
                }
                let s = j;
                while j < chars.len() && is_ident(chars[j]) {
                    j += 1;
                }
                if j == s {
                    break;
                }
                path.push(chars[s..j].iter().collect());
                i = j;
            } else {
                break;
            }
        }
        if path.len() > 1 {
            out.push(Mention {
                path,
                inline: inline.iter().map(|(n, _)| n.clone()).collect(),
            });
        }
    }
    out
}

fn char_index_to_byte(s: &str, chars: usize) -> usize {
    s.char_indices().nth(chars).map_or(s.len(), |(b, _)| b)
}

fn starts_known(path: &[String], children: &BTreeSet<String>) -> bool {
    path.first().is_some_and(|w| {
        w == "crate" || w == "$crate" || w == "super" || w == "self" || children.contains(w)
    })
}

/// The paths of a `use` tree (the text after `use`, without the `;`).
fn expand_use(tree: &str) -> Vec<Vec<String>> {
    let tree: String = tree.chars().filter(|c| !c.is_whitespace()).collect();
    let mut out = Vec::new();
    expand(&tree, &mut Vec::new(), &mut out);
    out
}

fn expand(tree: &str, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    // Split the top level by commas.
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (k, ch) in tree.char_indices() {
        match ch {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&tree[start..k]);
                start = k + 1;
            }
            _ => {}
        }
    }
    parts.push(&tree[start..]);
    for part in parts.into_iter().filter(|p| !p.is_empty()) {
        if let Some(open) = part.find('{') {
            let head = part[..open].trim_end_matches("::");
            let inner = &part[open + 1..part.len() - 1];
            let n = prefix.len();
            prefix.extend(
                head.split("::")
                    .filter(|s| !s.is_empty())
                    .map(str::to_string),
            );
            expand(inner, prefix, out);
            prefix.truncate(n);
        } else {
            let path = part
                .split(" as ")
                .next()
                .unwrap()
                .split("as")
                .next()
                .unwrap();
            let mut full = prefix.clone();
            full.extend(
                path.split("::")
                    .filter(|s| !s.is_empty())
                    .map(str::to_string),
            );
            // `self` inside a group names the group's module itself.
            if full.last().is_some_and(|s| s == "self") && full.len() > 1 {
                full.pop();
            }
            out.push(full);
        }
    }
}

/// `s` without the outer attributes it starts with (`#[cfg(...)] pub use ...`).
fn skip_attributes(mut s: &str) -> &str {
    while s.starts_with("#[") {
        let mut depth = 0usize;
        let mut end = s.len();
        for (i, c) in s.char_indices() {
            match c {
                '[' => depth += 1,
                ']' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        s = s[end..].trim_start();
    }
    s
}

/// What the crate's files define and re-export.
struct Crate {
    /// Module path -> file.
    files: BTreeMap<Vec<String>, String>,
    /// (facade module, name) -> the absolute path it re-exports.
    reexports: BTreeMap<(Vec<String>, String), Vec<String>>,
    /// Module path -> its child modules declared with `mod name;`.
    children: BTreeMap<Vec<String>, BTreeSet<String>>,
    /// File -> its code (comments, literals and test modules removed).
    code: BTreeMap<String, String>,
}

impl Crate {
    fn load() -> Crate {
        let mut files = BTreeMap::new();
        let mut code = BTreeMap::new();
        for file in source_files() {
            let text = fs::read_to_string(root().join("src").join(&file)).unwrap();
            code.insert(file.clone(), without_test_modules(&code_only(&text)));
            files.insert(module_of(&file), file);
        }
        let mut children: BTreeMap<Vec<String>, BTreeSet<String>> = BTreeMap::new();
        for (module, file) in &files {
            let mut set = BTreeSet::new();
            for line in code[file].lines() {
                let l = line.trim();
                let l = l
                    .strip_prefix("pub(crate) ")
                    .or_else(|| l.strip_prefix("pub "))
                    .unwrap_or(l);
                if let Some(name) = l.strip_prefix("mod ").and_then(|r| r.strip_suffix(';')) {
                    set.insert(name.trim().to_string());
                }
            }
            children.insert(module.clone(), set);
        }
        let mut krate = Crate {
            files,
            reexports: BTreeMap::new(),
            children,
            code,
        };
        // Re-exports: `pub use` / `pub(crate) use` at the top level of any file.
        let mut reexports = BTreeMap::new();
        for (module, file) in &krate.files {
            let text = &krate.code[file];
            for stmt in text.split(';') {
                let s = skip_attributes(stmt.trim());
                let Some(tree) = s
                    .strip_prefix("pub use ")
                    .or_else(|| s.strip_prefix("pub(crate) use "))
                    .or_else(|| s.strip_prefix("pub(super) use "))
                else {
                    continue;
                };
                for path in expand_use(tree) {
                    let name =
                        tree_alias(tree, &path).unwrap_or_else(|| path.last().unwrap().clone());
                    let abs = krate.absolute(module, &[], &path);
                    reexports.insert((module.clone(), name), abs);
                }
            }
        }
        krate.reexports = reexports;
        krate
    }

    /// A path written in `module` (inside the inline modules `inline`) made absolute.
    fn absolute(&self, module: &[String], inline: &[String], path: &[String]) -> Vec<String> {
        let mut here: Vec<String> = module.to_vec();
        here.extend(inline.iter().cloned());
        let mut out: Vec<String>;
        let mut rest = path;
        match path[0].as_str() {
            "crate" | "$crate" => {
                out = Vec::new();
                rest = &path[1..];
            }
            "self" => {
                out = here;
                rest = &path[1..];
            }
            "super" => {
                out = here;
                while rest.first().is_some_and(|w| w == "super") {
                    out.pop();
                    rest = &rest[1..];
                }
            }
            _ => {
                // A child module of the file (2018 paths are relative to the current module).
                out = here;
            }
        }
        out.extend(rest.iter().cloned());
        out
    }

    /// The file that defines what the absolute path `path` names, following re-exports.
    fn file_of(&self, path: &[String], hops: usize) -> Option<String> {
        if hops > 8 {
            return None;
        }
        // The longest prefix that is a file module.
        for k in (0..=path.len()).rev() {
            if let Some(file) = self.files.get(&path[..k]) {
                if k < path.len() {
                    let key = (path[..k].to_vec(), path[k].clone());
                    if let Some(target) = self.reexports.get(&key) {
                        let mut full = target.clone();
                        full.extend(path[k + 1..].iter().cloned());
                        return self.file_of(&full, hops + 1);
                    }
                }
                return Some(file.clone());
            }
        }
        None
    }
}

/// The alias given by `as` to `path` inside the use tree `tree`, if any.
fn tree_alias(tree: &str, path: &[String]) -> Option<String> {
    let last = path.last()?;
    let pattern = format!("{last} as ");
    let at = tree.find(&pattern)?;
    Some(
        tree[at + pattern.len()..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect(),
    )
}

/// Every (from, to) pair of files where `from` names something `to` defines.
fn edges(krate: &Crate) -> BTreeMap<(String, String), Vec<String>> {
    let mut out: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (module, file) in &krate.files {
        let children = &krate.children[module];
        for m in mentions(&krate.code[file], children) {
            let abs = krate.absolute(module, &m.inline, &m.path);
            let Some(target) = krate.file_of(&abs, 0) else {
                continue;
            };
            if target != *file {
                out.entry((file.clone(), target))
                    .or_default()
                    .push(m.path.join("::"));
            }
        }
    }
    out
}

#[test]
fn every_file_uses_only_files_below_it_in_the_table() {
    let table = table();
    let files = source_files();
    let listed: BTreeSet<String> = table.iter().cloned().collect();
    assert_eq!(
        listed.len(),
        table.len(),
        "ARCHITECTURE.md lists a file twice: {table:?}"
    );
    let unlisted: Vec<_> = files.difference(&listed).collect();
    let missing: Vec<_> = listed.difference(&files).collect();
    assert!(
        unlisted.is_empty() && missing.is_empty(),
        "ARCHITECTURE.md's Files table and src/ disagree: not listed {unlisted:?}, \
         listed but absent {missing:?}"
    );
    let rank: BTreeMap<&str, usize> = table
        .iter()
        .enumerate()
        .map(|(k, f)| (f.as_str(), k))
        .collect();
    let krate = Crate::load();
    let mut wrong = Vec::new();
    for ((from, to), names) in edges(&krate) {
        if rank[to.as_str()] < rank[from.as_str()] {
            let mut names = names;
            names.sort();
            names.dedup();
            wrong.push(format!("{from} uses {to} (above it): {}", names.join(", ")));
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that run back up ARCHITECTURE.md's table:\n  {}",
        wrong.join("\n  ")
    );
}

#[test]
fn only_the_shim_names_std_sync_or_parking_lot() {
    let krate = Crate::load();
    let mut wrong = Vec::new();
    for (file, code) in &krate.code {
        if file == "sync.rs" || SYNC_EXCEPTIONS.iter().any(|(f, _)| f == file) {
            continue;
        }
        for needle in ["std::sync", "parking_lot", "core::sync"] {
            if code.contains(needle) {
                wrong.push(format!("{file} names {needle}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "outside sync.rs (and the listed exceptions), take atomics and locks from \
         crate::sync:\n  {}",
        wrong.join("\n  ")
    );
    for (file, why) in SYNC_EXCEPTIONS {
        let code = &krate.code[*file];
        assert!(
            code.contains("std::sync") || code.contains("parking_lot"),
            "{file} is listed as an exception ({why}) but no longer needs to be"
        );
    }
}

/// The checker itself finds a planted back-import, a re-exported name followed to its file,
/// a `super::` path from an inline module, and ignores comments, strings and test modules, but
/// not the code after a test-only `mod name;` declaration (which once swallowed `lib.rs`'s
/// re-exports).
#[test]
fn the_checker_sees_what_it_must() {
    let code = code_only(
        "use crate::a::{B, c::D as E};\n// crate::zzz::Hidden\nlet s = \"crate::yyy\";\n\
         let c = '{'; let l: &'static str = x;\nfn f() { crate::b::g(); }\n\
         mod inner { use super::q::R; }\n#[cfg(test)]\nmod tests { use crate::t::U; }\n\
         #[cfg(test)]\nmod helpers;\nuse crate::kept::{K};\n",
    );
    let code = without_test_modules(&code);
    let found: Vec<String> = mentions(&code, &BTreeSet::new())
        .into_iter()
        .map(|m| format!("{}@{}", m.path.join("::"), m.inline.join("::")))
        .collect();
    assert_eq!(
        found,
        [
            "crate::a::B@",
            "crate::a::c::D@",
            "crate::b::g@",
            "super::q::R@inner",
            "crate::kept::K@"
        ]
    );
    assert_eq!(
        skip_attributes("#[cfg(not(loom))] #[allow(a, b[1])]\n pub(crate) use x::y"),
        "pub(crate) use x::y"
    );
    // The real crate: `raw/mod.rs` re-exports the pool's fork hook under a `#[cfg]`; the
    // name is followed to `raw/pool.rs` (before attributes were skipped, the edge stopped at
    // `raw/mod.rs`, above `reclaim.rs`, and failed the layering test).
    let krate = Crate::load();
    let edges = edges(&krate);
    assert!(
        edges.contains_key(&("reclaim.rs".to_string(), "raw/pool.rs".to_string())),
        "reclaim.rs's use of the re-exported pool hook is not followed to raw/pool.rs"
    );
    // The real crate: error.rs naming dynamic/ would be a back-import if it existed, so
    // check the edge finder on a known downward edge instead.
    assert!(
        edges.contains_key(&("array.rs".to_string(), "raw/mod.rs".to_string()))
            || edges
                .keys()
                .any(|(f, t)| f == "array.rs" && t.starts_with("raw/")),
        "the checker no longer sees array.rs use raw/: {:?}",
        edges
            .keys()
            .filter(|(f, _)| f == "array.rs")
            .collect::<Vec<_>>()
    );
}
