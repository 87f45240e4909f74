//! Manifests as they were at a git revision, read with `git cat-file` and `git ls-tree`
//! (no checkout, the working tree is never touched). A folder is walked as `-f` walks
//! one: `.yaml`, `.yml` and `.json`, route tests skipped. Each file is named
//! `REV:path/from/the/repository/root`, so diagnostics say which side they are about.

use std::path::{Component, Path, PathBuf};
use std::process::Command;

use crate::input::load::has_manifest_extension;

/// Reads `paths` (as given to `-f`, relative to the current directory or absolute) at
/// revision `rev`; returns `(name, text)` pairs for `load_texts`.
pub fn read_at(rev: &str, paths: &[String]) -> Result<Vec<(String, String)>, String> {
    let mut texts = Vec::new();
    for path in paths {
        if path == "-" {
            return Err(format!(
                "--rev {rev}: standard input has no revisions; name files or folders"
            ));
        }
        let (top, inner) = in_repository(Path::new(path))?;
        let commit = git(
            &top,
            &["rev-parse", "--verify", "--quiet", &format!("{rev}^{{commit}}")],
        )
        .map_err(|_| format!("--rev {rev}: not a commit in the repository at {}", top.display()))?;
        let commit = commit.trim();
        let object = format!("{commit}:{inner}");
        let kind = git(&top, &["cat-file", "-t", &object])
            .map_err(|_| format!("{path}: does not exist at revision {rev}"))?;
        match kind.trim() {
            "blob" => texts.push((format!("{rev}:{inner}"), blob(&top, &object, path)?)),
            "tree" => {
                let listing = git(&top, &["ls-tree", "-r", "-z", commit, "--", pathspec(&inner)])?;
                let mut files: Vec<&str> = listing
                    .split('\0')
                    .filter_map(|line| {
                        // `MODE TYPE OBJECT\tPATH`; symlinks (120000) and submodules are
                        // not read (a folder walk reads a link's target, which the
                        // revision may not hold).
                        let (meta, name) = line.split_once('\t')?;
                        (meta.starts_with("100") && has_manifest_extension(Path::new(name))).then_some(name)
                    })
                    .collect();
                files.sort_unstable();
                for name in files {
                    let text = blob(&top, &format!("{commit}:{name}"), name)?;
                    texts.push((format!("{rev}:{name}"), text));
                }
            }
            other => {
                return Err(format!(
                    "{path} at revision {rev} is a {other}, not a file or folder"
                ));
            }
        }
    }
    Ok(texts)
}

/// The whole tree when the path is the repository root.
fn pathspec(inner: &str) -> &str {
    if inner.is_empty() { "." } else { inner }
}

fn blob(top: &Path, object: &str, shown: &str) -> Result<String, String> {
    let bytes = git_bytes(top, &["cat-file", "blob", object])?;
    String::from_utf8(bytes).map_err(|_| format!("{shown}: not UTF-8 text"))
}

/// The repository holding `path` (or, if the path no longer exists in the working
/// tree, its nearest existing folder) and the path inside it, `/`-separated.
fn in_repository(path: &Path) -> Result<(PathBuf, String), String> {
    let cwd = std::env::current_dir().map_err(|e| format!("cannot read the current folder: {e}"))?;
    let absolute = normalize(&cwd.join(path));
    let mut existing = absolute.clone();
    while !existing.is_dir() {
        if !existing.pop() {
            return Err(format!("{}: no folder of it exists", path.display()));
        }
    }
    let top = git(&existing, &["rev-parse", "--show-toplevel"])
        .map_err(|_| format!("{}: not inside a git repository", path.display()))?;
    let top = canonical(Path::new(top.trim()))?;
    let rest = absolute.strip_prefix(&existing).unwrap_or(Path::new(""));
    let here = canonical(&existing)?.join(rest);
    let inner = here
        .strip_prefix(&top)
        .map_err(|_| format!("{}: outside the repository {}", path.display(), top.display()))?;
    let parts: Vec<String> = inner
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    Ok((top, parts.join("/")))
}

fn canonical(path: &Path) -> Result<PathBuf, String> {
    std::fs::canonicalize(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// `a/./b/../c` → `a/c`, without touching the file system (the path may be gone).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    git_bytes(dir, args).map(|b| String::from_utf8_lossy(&b).into_owned())
}

fn git_bytes(dir: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(format!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_drops_dots_without_the_file_system() {
        assert_eq!(normalize(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
    }
}
