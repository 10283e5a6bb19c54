//! `verify` of webdataset outputs: the member records of a shard are checked by reading the
//! shard (every recorded member present with its SHA-256, nothing else in it), and with INPUT
//! the corrupted members are regenerated from the input shards (or files) and compared.

use std::collections::{BTreeMap, HashMap};
use std::io::BufReader;
use std::path::{Path, PathBuf};

use super::discover::{self, Shard};
use super::tar::Reader;
use crate::dataset::execute::Pipeline;
use crate::dataset::record::manifest::Record;
use crate::dataset::Cell;
use crate::digest::sha256_hex;
use crate::Corruption;

/// What checking some member records found.
#[derive(Debug, Default)]
pub struct MemberReport {
    /// Members whose SHA-256 matched.
    pub ok: usize,
    /// Recorded members missing from their shard (or the shard is missing).
    pub missing: Vec<String>,
    /// Members whose SHA-256 differs.
    pub mismatched: Vec<String>,
    /// Members in a shard that no record lists.
    pub extra: Vec<String>,
    /// Regenerated members.
    pub regenerated: usize,
    /// Regenerated members whose bytes differ, or changed sources.
    pub regenerated_mismatch: Vec<String>,
    /// Other problems.
    pub errors: Vec<String>,
}

/// Check the member records `recs` of the output shard `shard` (relative to `output`).
pub fn check_members(output: &Path, shard: &str, recs: &[Record], rep: &mut MemberReport) {
    let path = output.join(shard);
    let f = match crate::digest::open_regular(&path) {
        Ok((f, _)) => f,
        Err(_) => {
            rep.missing.extend(recs.iter().map(|r| r.output.clone()));
            return;
        }
    };
    let mut want: HashMap<&str, &Record> = recs
        .iter()
        .map(|r| (&r.output[shard.len() + 1..], r))
        .collect();
    let mut reader = Reader::new(BufReader::new(f));
    loop {
        match reader.next_member() {
            Ok(None) => break,
            Ok(Some(m)) => match want.remove(m.header.name.as_str()) {
                Some(r) if sha256_hex(&m.data) == r.sha256 => rep.ok += 1,
                Some(r) => rep.mismatched.push(r.output.clone()),
                None => rep.extra.push(format!("{shard}/{}", m.header.name)),
            },
            Err(e) => {
                rep.errors.push(format!("{}: {e}", path.display()));
                break;
            }
        }
    }
    let mut left: Vec<String> = want.values().map(|r| r.output.clone()).collect();
    left.sort();
    rep.missing.extend(left);
}

/// Regenerate the corrupted members among `recs` (records with a seed) from INPUT and
/// compare with their recorded SHA-256 (which [`check_members`] holds to the shard's bytes).
pub fn regenerate(input: &Path, recs: &[&Record], pipeline: &Pipeline, rep: &mut MemberReport) {
    // by input shard (members of tar sources) or by file
    let mut by_tar: BTreeMap<&str, Vec<&Record>> = BTreeMap::new();
    for r in recs.iter().filter(|r| r.seed.is_some()) {
        match r.source.find(".tar/") {
            Some(i) => by_tar.entry(&r.source[..i + 4]).or_default().push(r),
            None => {
                // a folder source written as shards: seed source = its relative path
                let path = input.join(&r.source);
                match crate::digest::read_regular(&path) {
                    Ok(bytes) if sha256_hex(&bytes) != r.source_sha256 => {
                        rep.regenerated_mismatch.push(format!(
                            "{}: source file differs from the one used for generation",
                            r.output
                        ))
                    }
                    Ok(bytes) => one(&bytes, &path, &r.source, r, pipeline, rep),
                    Err(e) => rep.errors.push(format!("{}: {e}", path.display())),
                }
            }
        }
    }
    for (tar, recs) in by_tar {
        let shard = Shard {
            name: tar[..tar.len() - 4].to_string(),
            path: input.join(tar),
        };
        let mut want: HashMap<&str, Vec<&Record>> = HashMap::new();
        for r in &recs {
            want.entry(&r.source[tar.len() + 1..]).or_default().push(r);
        }
        let f = match crate::digest::open_regular(&shard.path) {
            Ok((f, _)) => f,
            Err(e) => {
                rep.errors.push(format!("{}: {e}", shard.path.display()));
                continue;
            }
        };
        let mut reader = Reader::new(BufReader::new(f));
        loop {
            match reader.next_member() {
                Ok(None) => break,
                Ok(Some(m)) => {
                    if let Some(rs) = want.remove(m.header.name.as_str()) {
                        let key = discover::split_name(&m.header.name).map_or("", |(k, _)| k);
                        let seed_source = super::plan::seed_source(&shard.name, key);
                        let label =
                            PathBuf::from(format!("{}/{}", shard.path.display(), m.header.name));
                        for r in rs {
                            if sha256_hex(&m.data) != r.source_sha256 {
                                rep.regenerated_mismatch.push(format!(
                                    "{}: source member differs from the one used for generation",
                                    r.output
                                ));
                                continue;
                            }
                            one(&m.data, &label, &seed_source, r, pipeline, rep);
                        }
                    }
                }
                Err(e) => {
                    rep.errors.push(format!("{}: {e}", shard.path.display()));
                    break;
                }
            }
        }
        for rs in want.values() {
            for r in rs {
                rep.regenerated_mismatch.push(format!(
                    "{}: its source member is gone from {tar}",
                    r.output
                ));
            }
        }
    }
}

fn one(
    bytes: &[u8],
    label: &Path,
    seed_source: &str,
    r: &Record,
    p: &Pipeline,
    rep: &mut MemberReport,
) {
    let cell = match Corruption::from_name(&r.corruption) {
        // a scheduled member is made at its recorded severity (issue 16)
        Ok(c) => Cell {
            corruption: c,
            severity: r.scheduled_severity.unwrap_or(r.severity),
        },
        Err(e) => {
            rep.errors.push(format!("{}: {e}", r.output));
            return;
        }
    };
    let last = r.output.rsplit('.').next().unwrap_or("");
    let format = match crate::io::OutputFormat::from_path(Path::new(&format!("x.{last}"))) {
        Ok(f) => f,
        Err(e) => {
            rep.errors.push(format!("{}: {e}", r.output));
            return;
        }
    };
    let res = p
        .prepare(bytes, label)
        .and_then(|img| p.render(&img, seed_source, cell, format, &mut Vec::new()));
    match res {
        Ok((out, _)) => {
            rep.regenerated += 1;
            if sha256_hex(&out) != r.sha256 {
                rep.regenerated_mismatch.push(r.output.clone());
            }
        }
        Err(e) => rep.errors.push(format!("{}: {e}", r.output)),
    }
}
