//! Stage 1 for webdataset input: which shards INPUT names, and the samples of a shard.
//!
//! INPUT is a folder of `*.tar` shards (found recursively, sorted by path), one `.tar` file,
//! or a brace pattern such as `shards/{00000..00099}.tar` (every listed file must exist). A
//! shard's *name* is its path relative to the folder (or its file name) without `.tar`.
//!
//! A shard is read as a stream of members grouped into samples the way the `webdataset`
//! library groups them: a member `dir/key.ext.more` has the key `dir/key` (up to the first
//! dot of the file name) and the extension `ext.more`; consecutive members with the same key
//! form one sample. Entries that belong to no sample (folders, links, files without a dot)
//! are passed through in place.

use std::collections::HashSet;
use std::fs;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use super::tar::{Member, Reader, TarError};
use crate::error::{Error, Result};

/// One input shard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shard {
    /// Name: relative path without `.tar`, `/`-separated.
    pub name: String,
    /// The file.
    pub path: PathBuf,
}

/// Whether `input` looks like webdataset input: a `.tar` file, a brace pattern, or a folder
/// whose top level holds `.tar` files and no image (auto-detection).
pub fn looks_like(input: &Path) -> bool {
    let s = input.to_string_lossy();
    if is_tar(&s) && (input.is_file() || s.contains('{')) {
        return true;
    }
    if !input.is_dir() {
        return false;
    }
    let Ok(rd) = fs::read_dir(input) else {
        return false;
    };
    let mut tars = false;
    for e in rd.flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        if is_tar(&n) && e.path().is_file() {
            tars = true;
        } else if crate::dataset::discover::is_image(&n) {
            return false;
        }
    }
    tars
}

fn is_tar(name: &str) -> bool {
    name.to_ascii_lowercase().ends_with(".tar")
}

/// Expand the first `{a..b}` (zero-padded to the width of `a`) or `{x,y,z}` group of
/// `pattern`, recursively; a pattern without braces is itself.
pub fn expand_braces(pattern: &str) -> std::result::Result<Vec<String>, String> {
    let Some(open) = pattern.find('{') else {
        return Ok(vec![pattern.to_string()]);
    };
    let close = pattern[open..]
        .find('}')
        .map(|i| open + i)
        .ok_or_else(|| format!("`{pattern}`: `{{` without `}}`"))?;
    let (head, body, tail) = (
        &pattern[..open],
        &pattern[open + 1..close],
        &pattern[close + 1..],
    );
    let alternatives: Vec<String> = if let Some((a, b)) = body.split_once("..") {
        let (x, y): (u64, u64) = match (a.parse(), b.parse()) {
            (Ok(x), Ok(y)) => (x, y),
            _ => {
                return Err(format!(
                    "`{{{body}}}`: a range needs two numbers, e.g. {{000..099}}"
                ))
            }
        };
        if y < x || y - x > 10_000_000 {
            return Err(format!("`{{{body}}}`: reversed or too large a range"));
        }
        let width = a.len();
        (x..=y).map(|i| format!("{i:0width$}")).collect()
    } else {
        body.split(',').map(str::to_string).collect()
    };
    let mut out = Vec::new();
    for alt in alternatives {
        for rest in expand_braces(tail)? {
            out.push(format!("{head}{alt}{rest}"));
        }
    }
    Ok(out)
}

/// The shards of `input` (see the module docs), sorted by name; names are unique.
pub fn shards(input: &Path) -> Result<Vec<Shard>> {
    let s = input.to_string_lossy().into_owned();
    let mut v = Vec::new();
    if s.contains('{') && !input.exists() {
        for p in expand_braces(&s).map_err(Error::InvalidArgument)? {
            let path = PathBuf::from(&p);
            if !path.is_file() {
                return Err(Error::InvalidArgument(format!(
                    "{p}: shard listed by the pattern {s} does not exist"
                )));
            }
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            v.push(Shard {
                name: strip_tar(&name),
                path,
            });
        }
    } else if input.is_file() {
        let name = input
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        v.push(Shard {
            name: strip_tar(&name),
            path: input.to_path_buf(),
        });
    } else if input.is_dir() {
        walk(input, "", &mut v)?;
    } else {
        return Err(Error::InvalidArgument(format!(
            "{}: input does not exist (a folder of .tar shards, a .tar file or a pattern like shards/{{00000..00009}}.tar)",
            input.display()
        )));
    }
    v.sort_by(|a, b| a.name.cmp(&b.name));
    for w in v.windows(2) {
        if w[0].name == w[1].name {
            return Err(Error::InvalidArgument(format!(
                "two shards are both named `{}` ({} and {})",
                w[0].name,
                w[0].path.display(),
                w[1].path.display()
            )));
        }
    }
    if v.is_empty() {
        return Err(Error::InvalidArgument(format!(
            "{}: no .tar shards found",
            input.display()
        )));
    }
    Ok(v)
}

fn strip_tar(name: &str) -> String {
    name[..name.len() - 4.min(name.len())].to_string()
}

fn walk(dir: &Path, rel: &str, out: &mut Vec<Shard>) -> Result<()> {
    let rd = fs::read_dir(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    for e in rd.flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        if n.starts_with('.') {
            continue;
        }
        let r = if rel.is_empty() {
            n.clone()
        } else {
            format!("{rel}/{n}")
        };
        let ft = match e.file_type() {
            Ok(t) => t,
            Err(_) => continue,
        };
        if ft.is_dir() {
            walk(&e.path(), &r, out)?;
        } else if is_tar(&n) && e.path().is_file() {
            out.push(Shard {
                name: strip_tar(&r),
                path: e.path(),
            });
        }
    }
    Ok(())
}

/// `(key, extension)` of a member name, as the `webdataset` library splits it; `None` for
/// names whose file name has no dot (or starts with one).
pub fn split_name(name: &str) -> Option<(&str, &str)> {
    let base_start = name.rfind('/').map_or(0, |i| i + 1);
    let dot = name[base_start..].find('.')? + base_start;
    if dot == base_start {
        return None;
    }
    Some((&name[..dot], &name[dot + 1..]))
}

/// What a shard yields, in order.
#[derive(Debug)]
pub enum Entry {
    /// A sample: its key and its members in archive order.
    Sample {
        /// The key.
        key: String,
        /// Members (each a regular file named `key.ext`).
        members: Vec<Member>,
    },
    /// A member that belongs to no sample, copied unchanged.
    Other(Member),
    /// A sample that cannot be used (duplicate key or member): left out of the outputs.
    Bad {
        /// Its key.
        key: String,
        /// Why.
        reason: String,
    },
}

/// Samples of a shard, streamed (one sample in memory at a time plus the set of keys seen,
/// to catch duplicates).
pub struct Samples<R: Read> {
    reader: Reader<R>,
    pending: Option<Member>,
    seen: HashSet<String>,
    ended: bool,
}

/// Open a shard file for [`Samples`].
pub fn open(shard: &Shard) -> Result<Samples<BufReader<fs::File>>> {
    let (f, _) = crate::digest::open_regular(&shard.path).map_err(|source| Error::Io {
        path: shard.path.clone(),
        source,
    })?;
    Ok(Samples::new(BufReader::with_capacity(1 << 20, f)))
}

/// Open a shard file for [`Samples`] of member names only (bodies seeked over, members
/// empty): the counting pass of `--severity-schedule` over webdataset input.
pub fn open_headers(shard: &Shard) -> Result<Samples<BufReader<fs::File>>> {
    let (f, _) = crate::digest::open_regular(&shard.path).map_err(|source| Error::Io {
        path: shard.path.clone(),
        source,
    })?;
    let reader = Reader::new(BufReader::with_capacity(1 << 16, f))
        .skipping_bodies(|r, n| r.seek_relative(i64::try_from(n).map_err(std::io::Error::other)?));
    Ok(Samples::from_reader(reader))
}

impl<R: Read> Samples<R> {
    /// Samples of the archive `r`.
    pub fn new(r: R) -> Samples<R> {
        Samples::from_reader(Reader::new(r))
    }

    /// Samples read by `reader`.
    pub fn from_reader(reader: Reader<R>) -> Samples<R> {
        Samples {
            reader,
            pending: None,
            seen: HashSet::new(),
            ended: false,
        }
    }

    /// Bytes of the archive consumed.
    pub fn offset(&self) -> u64 {
        self.reader.offset()
    }

    fn next_raw(&mut self) -> std::result::Result<Option<Member>, TarError> {
        if let Some(m) = self.pending.take() {
            return Ok(Some(m));
        }
        if self.ended {
            return Ok(None);
        }
        let m = self.reader.next_member()?;
        if m.is_none() {
            self.ended = true;
        }
        Ok(m)
    }

    /// The next entry, `Ok(None)` at the end; an error when the archive is damaged
    /// (`key` of the last sample started, if any, and the reader's reason).
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> std::result::Result<Option<Entry>, (Option<String>, TarError)> {
        let first = match self.next_raw().map_err(|e| (None, e))? {
            None => return Ok(None),
            Some(m) => m,
        };
        let key = match (first.header.is_file(), split_name(&first.header.name)) {
            (true, Some((k, _))) => k.to_string(),
            _ => return Ok(Some(Entry::Other(first))),
        };
        let mut members = vec![first];
        loop {
            match self.next_raw() {
                Err(e) => return Err((Some(key), e)),
                Ok(None) => break,
                Ok(Some(m)) => {
                    let same = m.header.is_file()
                        && split_name(&m.header.name).is_some_and(|(k, _)| k == key);
                    if same {
                        members.push(m);
                    } else {
                        self.pending = Some(m);
                        break;
                    }
                }
            }
        }
        if !self.seen.insert(key.clone()) {
            return Ok(Some(Entry::Bad {
                reason:
                    "duplicate key: a sample with this key appeared earlier in the shard (left out)"
                        .into(),
                key,
            }));
        }
        let mut names = HashSet::new();
        for m in &members {
            if !names.insert(m.header.name.as_str()) {
                return Ok(Some(Entry::Bad {
                    reason: format!(
                        "duplicate member `{}` in one sample (left out)",
                        m.header.name
                    ),
                    key,
                }));
            }
        }
        Ok(Some(Entry::Sample { key, members }))
    }
}

#[cfg(test)]
mod tests {
    use super::super::tar::{Header, Writer};
    use super::*;

    #[test]
    fn braces() {
        assert_eq!(
            expand_braces("s/{008..011}.tar").unwrap(),
            ["s/008.tar", "s/009.tar", "s/010.tar", "s/011.tar"]
        );
        assert_eq!(
            expand_braces("{a,b}-{0..1}").unwrap(),
            ["a-0", "a-1", "b-0", "b-1"]
        );
        assert!(expand_braces("{3..1}").is_err());
        assert!(expand_braces("x{1..2").is_err());
    }

    #[test]
    fn names_split_like_webdataset() {
        assert_eq!(split_name("a/b/000.jpg"), Some(("a/b/000", "jpg")));
        assert_eq!(split_name("x.seg.png"), Some(("x", "seg.png")));
        assert_eq!(split_name("dir.d/key.txt"), Some(("dir.d/key", "txt")));
        assert_eq!(split_name("README"), None);
        assert_eq!(split_name("d/.hidden"), None);
    }

    #[test]
    fn grouping_and_duplicates() {
        let mut w = Writer::new(Vec::new());
        for n in [
            "a.jpg", "a.txt", "b.jpg", "notes", "a.json", "c.jpg", "c.jpg",
        ] {
            w.append(&Header::file(n), n.as_bytes()).unwrap();
        }
        let bytes = w.finish().unwrap();
        let mut s = Samples::new(&bytes[..]);
        let mut got = Vec::new();
        while let Some(e) = s.next().unwrap() {
            got.push(match e {
                Entry::Sample { key, members } => format!("{key}:{}", members.len()),
                Entry::Other(m) => format!("other:{}", m.header.name),
                Entry::Bad { key, reason } => format!("bad:{key}:{}", &reason[..9]),
            });
        }
        assert_eq!(
            got,
            [
                "a:2",
                "b:1",
                "other:notes",
                "bad:a:duplicate",
                "bad:c:duplicate"
            ]
        );
    }
}
