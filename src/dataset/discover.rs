//! Stage 1, discover: find what a dataset contains.
//!
//! Takes INPUT and an adapter (or detects it, [`detect`]); returns a [`Dataset`]. Each adapter
//! splits the files under INPUT into *images* (corrupted) and *carried* files (annotations,
//! lists, label maps: copied or linked into every output cell unchanged), and validates the
//! annotations enough to give a clear error. Paths are relative to INPUT, UTF-8, with `/`
//! separators, sorted.
//!
//! It is a stage of its own because it is the only one that knows dataset layouts: adding an
//! adapter touches nothing else, and what it returns does not depend on options or OUTPUT.
//!
//! Hidden files and folders (name starting with `.`) are ignored everywhere.

use std::collections::HashSet;
use std::fs;
use std::path::Path;

use serde::Deserialize;

use super::{DatasetKind, Layout};
use crate::error::{Error, Result};

/// Extensions (lower case) of the files treated as images.
pub const IMAGE_EXTENSIONS: &[&str] = &["jpg", "jpeg", "png", "webp", "bmp", "tif", "tiff"];

/// What an adapter found.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// The adapter.
    pub kind: DatasetKind,
    /// Images to corrupt, relative to INPUT, sorted.
    pub images: Vec<String>,
    /// Files carried into every cell unchanged (annotations), relative to INPUT, sorted.
    pub carried: Vec<String>,
    /// Folders mirrored into every cell whether or not anything is written into them: the
    /// class folders of `imagenet` (first level) and every folder of `folder` (Tiny-ImageNet's
    /// `train/<wnid>/images` too). ImageFolder and robustbench number the classes by the sorted
    /// folder list, so a class folder missing from a cell (empty, or all of its sources failed)
    /// would silently shift every later label. Relative to INPUT, sorted.
    pub folders: Vec<String>,
    /// Output path inside a cell of the images that are not written at their own relative
    /// path: Tiny-ImageNet's `val/images/<file>` goes to `<wnid>/<file>` (the class of
    /// `val_annotations.txt`), the class-folder layout of the Tiny-ImageNet-C release. Images
    /// not in the map keep their path.
    pub placement: std::collections::BTreeMap<String, String>,
    /// Folder layout of the cells ([`Layout::LaionC`] after [`laion_c_layout`]).
    pub layout: Layout,
    /// Warnings for the user (ignored files, images listed in annotations but missing, …).
    pub notes: Vec<String>,
    /// Image files found but unusable (a dangling link, a name that is not UTF-8, …): failures
    /// of the run, as `(path relative to INPUT, lossy if need be; reason)`, sorted.
    pub unusable: Vec<(String, String)>,
}

/// The dataset re-filed for LAION-C's evaluator ([`Layout::LaionC`]): each ImageNet image
/// `<wnid>/<file>` (or Tiny-ImageNet `val/` image, by its annotated class) is written as
/// `<superclass>/<stem>.jpg`, every cell gets the 16 superclass folders, and images of the
/// 715 classes outside the mapping are dropped (returned as the second value: the evaluator
/// has no label for them, so they are skipped, not failures). Seeds still key on the source
/// path, so an output's bytes are those of the same cell in the default layout.
pub fn laion_c_layout(mut ds: Dataset) -> Result<(Dataset, usize)> {
    use crate::corruptions::laion_c::superclasses::{superclass_of, superclasses};
    if ds.kind != DatasetKind::Imagenet {
        return Err(Error::InvalidArgument(format!(
            "--layout laion-c files ImageNet class folders (<wnid>/<file>) under LAION-C's superclasses: the `{}` adapter has no ImageNet classes",
            ds.kind
        )));
    }
    let mut kept = Vec::with_capacity(ds.images.len());
    let mut placement = std::collections::BTreeMap::new();
    let mut skipped = 0;
    for s in std::mem::take(&mut ds.images) {
        let placed = ds.placement.get(&s).unwrap_or(&s);
        let (class, name) = match placed.split_once('/') {
            Some((c, rest)) => (c, rest.rsplit('/').next().unwrap_or(rest)),
            None => ("", placed.as_str()),
        };
        let Some(sup) = superclass_of(class) else {
            skipped += 1;
            continue;
        };
        let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
        placement.insert(s.clone(), format!("{sup}/{stem}.jpg"));
        kept.push(s);
    }
    if skipped > 0 {
        ds.notes.push(format!(
            "--layout laion-c: {skipped} image(s) of ImageNet classes outside LAION-C's 285 skipped"
        ));
    }
    ds.images = kept;
    ds.placement = placement;
    ds.carried.clear();
    ds.folders = superclasses().into_iter().map(String::from).collect();
    ds.layout = Layout::LaionC;
    Ok((ds, skipped))
}

/// Whether `rel` has an image extension.
pub fn is_image(rel: &str) -> bool {
    rel.rsplit_once('.')
        .is_some_and(|(_, e)| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// All regular files under `root` (and, in `dirs`, every folder walked; following symbolic links; a folder reached twice through
/// links is walked once, so link loops end), relative, sorted; hidden entries skipped.
/// Entries that cannot be used (a name that is not UTF-8 — the seed rule needs one —, a
/// dangling link, …) are skipped: those with an image extension go to `unusable` (relative
/// path, lossy; reason), the others are reported in `notes`. Folders inside `exclude` (the
/// canonical OUTPUT, reachable through a link in INPUT) are skipped with a note: outputs are
/// never read back as sources.
pub fn walk(
    root: &Path,
    notes: &mut Vec<String>,
    unusable: &mut Vec<(String, String)>,
    exclude: Option<&Path>,
    dirs: &mut Vec<String>,
) -> Result<Vec<String>> {
    let skip = |notes: &mut Vec<String>,
                unusable: &mut Vec<(String, String)>,
                rel: String,
                path: &Path,
                reason: String| {
        if is_image(&rel) {
            unusable.push((rel, reason));
        } else {
            notes.push(format!("{}: skipped ({reason})", path.display()));
        }
    };
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    if let Ok(c) = fs::canonicalize(root) {
        seen.insert(c);
    }
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, prefix)) = stack.pop() {
        let rd = fs::read_dir(&dir).map_err(|source| Error::Io {
            path: dir.clone(),
            source,
        })?;
        for entry in rd {
            let entry = entry.map_err(|source| Error::Io {
                path: dir.clone(),
                source,
            })?;
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                let lossy = entry.file_name().to_string_lossy().into_owned();
                if !lossy.starts_with('.') {
                    let rel = if prefix.is_empty() {
                        lossy
                    } else {
                        format!("{prefix}/{lossy}")
                    };
                    skip(
                        notes,
                        unusable,
                        rel,
                        &entry.path(),
                        "file name is not UTF-8 (output seeds derive from UTF-8 paths): rename it"
                            .into(),
                    );
                }
                continue;
            };
            if name.starts_with('.') {
                continue;
            }
            let rel = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            let path = entry.path();
            let meta = match fs::metadata(&path) {
                Ok(m) => m,
                Err(e) => {
                    let reason = match fs::symlink_metadata(&path) {
                        Ok(m) if m.file_type().is_symlink() => format!("dangling link: {e}"),
                        _ => e.to_string(),
                    };
                    skip(notes, unusable, rel, &path, reason);
                    continue;
                }
            };
            if meta.is_dir() {
                match fs::canonicalize(&path) {
                    Ok(c) if exclude.is_some_and(|x| c.starts_with(x)) => {
                        notes.push(format!(
                            "{}: skipped (a link into the output folder)",
                            path.display()
                        ));
                    }
                    Ok(c) if seen.contains(&c) => {
                        notes.push(format!(
                            "{}: skipped (folder already visited through a link)",
                            path.display()
                        ));
                    }
                    Ok(c) => {
                        seen.insert(c);
                        dirs.push(rel.clone());
                        stack.push((path, rel));
                    }
                    Err(_) => {
                        dirs.push(rel.clone());
                        stack.push((path, rel))
                    }
                }
            } else if meta.is_file() {
                out.push(rel);
            } else {
                // a FIFO, socket or device: reading it could block forever
                skip(notes, unusable, rel, &path, "not a regular file".into());
            }
        }
    }
    out.sort();
    unusable.sort();
    dirs.sort();
    Ok(out)
}

/// Folders whose images are annotations (segmentation masks, label maps), never photos: no
/// layout corrupts a file under a folder of one of these names (VOC's `SegmentationClass`/
/// `SegmentationObject`, Cityscapes' `gtFine`/`gtCoarse`, the `masks` of many sets). `folder`
/// leaves them out; `coco` carries them unchanged.
pub const ANNOTATION_FOLDERS: &[&str] = &[
    "SegmentationClass",
    "SegmentationObject",
    "SegmentationClassAug",
    "gtFine",
    "gtCoarse",
    "masks",
];

/// Whether the relative path `rel` lies inside an [`ANNOTATION_FOLDERS`] folder.
pub fn in_annotation_folder(rel: &str) -> bool {
    let mut parts: Vec<&str> = rel.split('/').collect();
    parts.pop(); // the file name itself
    parts.iter().any(|p| ANNOTATION_FOLDERS.contains(p))
}

/// Why `root` cannot be a tree of layout `kind` (an explicit `--dataset` that does not match
/// the tree), or `None`: the marks each adapter needs (imagenet and folder take any tree).
fn layout_mismatch(root: &Path, kind: DatasetKind) -> Option<String> {
    let has_json = |dir: &Path| {
        fs::read_dir(dir).is_ok_and(|rd| {
            rd.filter_map(|e| e.ok())
                .any(|e| e.file_name().to_string_lossy().ends_with(".json"))
        })
    };
    match kind {
        DatasetKind::Cityscapes if !root.join("leftImg8bit").is_dir() => {
            Some("it has no `leftImg8bit/` folder".into())
        }
        DatasetKind::Coco if !has_json(&root.join("annotations")) => {
            Some("it has no `annotations/*.json` file".into())
        }
        DatasetKind::Voc if voc_roots(root).is_empty() => Some(
            "it has no `JPEGImages/` folder (at its top, in `VOCdevkit/VOC*/` or in `VOC*/`)"
                .into(),
        ),
        _ => None,
    }
}

/// The VOC folders (those holding `JPEGImages/`) at `root`, in `root/VOC*/` and in
/// `root/VOCdevkit/VOC*/`.
fn voc_roots(root: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut look = |dir: &Path| {
        if dir.join("JPEGImages").is_dir() {
            out.push(dir.to_path_buf());
        }
    };
    look(root);
    for base in [root.to_path_buf(), root.join("VOCdevkit")] {
        if let Ok(rd) = fs::read_dir(&base) {
            for e in rd.filter_map(|e| e.ok()) {
                if e.file_name().to_string_lossy().starts_with("VOC") {
                    look(&e.path());
                }
            }
        }
    }
    out
}

/// The folder to pass as INPUT instead of `root` when `root` is the `VOCdevkit/` folder or a
/// `VOCdevkit/VOC20xx/` folder of a VOC tree: the README's INPUT is the folder that holds
/// `VOCdevkit/`, and output paths and seeds are relative to it, so outputs made from one
/// level down would differ from everyone else's.
pub fn voc_parent_hint(root: &Path) -> Option<std::path::PathBuf> {
    let abs = fs::canonicalize(root).ok()?;
    let name = |p: &Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    if name(&abs) == "VOCdevkit" && !voc_roots(&abs).is_empty() {
        return abs.parent().map(Path::to_path_buf);
    }
    let parent = abs.parent()?;
    if name(parent) == "VOCdevkit" && abs.join("JPEGImages").is_dir() {
        return parent.parent().map(Path::to_path_buf);
    }
    None
}

/// Guess the adapter from the layout of `root` (see the README for each layout):
/// `leftImg8bit/` → cityscapes; `VOCdevkit/`, `VOC*/JPEGImages/` or `JPEGImages/` +
/// `Annotations/` → voc;
/// `annotations/*.json` → coco; first-level folders named like WordNet ids (`n` + 8 digits)
/// → imagenet; anything else → folder.
pub fn detect(root: &Path) -> Result<DatasetKind> {
    let is_dir = |p: &str| root.join(p).is_dir();
    if is_dir("leftImg8bit") {
        return Ok(DatasetKind::Cityscapes);
    }
    if is_dir("VOCdevkit") || (is_dir("JPEGImages") && is_dir("Annotations")) {
        return Ok(DatasetKind::Voc);
    }
    // One level down: INPUT is `VOCdevkit/` itself (`VOC20xx/JPEGImages` inside); the driver
    // then refuses it and names the folder to pass instead (`voc_parent_hint`).
    if voc_roots(root).iter().any(|d| d != root) {
        return Ok(DatasetKind::Voc);
    }
    if is_tiny_val(root) {
        return Ok(DatasetKind::Imagenet);
    }
    if is_dir("annotations")
        && fs::read_dir(root.join("annotations"))
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .any(|e| e.file_name().to_string_lossy().ends_with(".json"))
            })
            .unwrap_or(false)
    {
        return Ok(DatasetKind::Coco);
    }
    let rd = fs::read_dir(root).map_err(|source| Error::Io {
        path: root.to_path_buf(),
        source,
    })?;
    let mut wnid_dirs = 0;
    for e in rd.filter_map(|e| e.ok()) {
        let name = e.file_name().to_string_lossy().to_string();
        if e.path().is_dir() && is_wnid(&name) {
            wnid_dirs += 1;
        }
    }
    // `val/<wnid>/…` one level down is ImageNet too: the adapter then explains that INPUT
    // should be the `val` folder (seeds and output paths are relative to the class folders).
    let nested = fs::read_dir(root.join("val"))
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .any(|e| e.path().is_dir() && is_wnid(&e.file_name().to_string_lossy()))
        })
        .unwrap_or(false);
    Ok(if wnid_dirs > 0 || nested {
        DatasetKind::Imagenet
    } else {
        DatasetKind::Folder
    })
}

/// Tiny-ImageNet's `val/` folder: `images/` plus `val_annotations.txt` (one line per image:
/// file, wnid, box), with no class folders.
fn is_tiny_val(root: &Path) -> bool {
    root.join("val_annotations.txt").is_file() && root.join("images").is_dir()
}

/// Tiny-ImageNet's `val/` (INPUT is that folder): every image of `images/` listed in
/// `val_annotations.txt` is placed at `<wnid>/<file>` in the cells, the layout of
/// Tiny-ImageNet-C (made from class folders by `make_tinyimagenet_c.py`) that ImageFolder and
/// the Tiny-ImageNet-C loaders read. Seeds stay keyed by the source path (`images/<file>`).
/// The class folders are the classes of the annotation file together with `wnids.txt` (in
/// INPUT or its parent, `tiny-imagenet-200/`) when present, so a class with no validation
/// image still has its folder and the labels of the others do not shift.
fn tiny_val(root: &Path, files: Vec<String>, mut notes: Vec<String>) -> Result<Dataset> {
    const LIST: &str = "val_annotations.txt";
    let text = read_text(root, LIST)?;
    let mut class_of = std::collections::BTreeMap::new();
    let mut classes = std::collections::BTreeSet::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let mut fields = line.split('\t');
        let (file, wnid) = match (fields.next(), fields.next()) {
            (Some(f), Some(w)) if !f.trim().is_empty() && !w.trim().is_empty() => {
                (f.trim(), w.trim())
            }
            _ => {
                return Err(annotation_error(
                    root,
                    LIST,
                    format!(
                        "line {}: expected `<file>\\t<wnid>\\t…`, got `{line}`",
                        n + 1
                    ),
                ))
            }
        };
        if file.contains('/')
            || file.starts_with('.')
            || wnid.contains('/')
            || wnid.starts_with('.')
        {
            return Err(annotation_error(
                root,
                LIST,
                format!("line {}: `{file}` / `{wnid}` must be plain names", n + 1),
            ));
        }
        if let Some(prev) = class_of.insert(format!("images/{file}"), wnid.to_string()) {
            if prev != wnid {
                return Err(annotation_error(
                    root,
                    LIST,
                    format!(
                        "line {}: `{file}` is listed in two classes ({prev}, {wnid})",
                        n + 1
                    ),
                ));
            }
        }
        classes.insert(wnid.to_string());
    }
    for dir in [root.to_path_buf(), root.join("..")] {
        if let Ok(t) = fs::read_to_string(dir.join("wnids.txt")) {
            classes.extend(
                t.lines()
                    .map(str::trim)
                    .filter(|w| !w.is_empty() && !w.contains('/') && !w.starts_with('.'))
                    .map(str::to_string),
            );
            break;
        }
    }
    let on_disk: HashSet<&str> = files.iter().map(String::as_str).collect();
    let missing: Vec<String> = class_of
        .keys()
        .filter(|f| !on_disk.contains(f.as_str()))
        .cloned()
        .collect();
    summarise_missing(&mut notes, LIST, &missing);
    let (images, other): (Vec<_>, Vec<_>) = files
        .into_iter()
        .filter(|f| f != LIST)
        .partition(|f| is_image(f) && class_of.contains_key(f));
    if !other.is_empty() {
        notes.push(format!(
            "{} file(s) not listed as images/<file> in {LIST} ignored (e.g. {})",
            other.len(),
            other[0]
        ));
    }
    let placement = images
        .iter()
        .map(|f| {
            let name = f.rsplit('/').next().unwrap_or(f);
            (f.clone(), format!("{}/{name}", class_of[f]))
        })
        .collect();
    Ok(Dataset {
        kind: DatasetKind::Imagenet,
        images,
        carried: vec![],
        folders: classes.into_iter().collect(),
        notes,
        unusable: vec![],
        placement,
        layout: Layout::Cells,
    })
}

fn is_wnid(name: &str) -> bool {
    name.len() == 9 && name.starts_with('n') && name[1..].bytes().all(|b| b.is_ascii_digit())
}

/// Run the adapter `kind` on `root`. Malformed annotations are errors; images listed in
/// annotations but missing on disk become notes.
pub fn discover(root: &Path, kind: DatasetKind) -> Result<Dataset> {
    discover_excluding(root, kind, None)
}

/// [`discover`], skipping folders inside `exclude` (the canonical OUTPUT: see [`walk`]).
pub fn discover_excluding(
    root: &Path,
    kind: DatasetKind,
    exclude: Option<&Path>,
) -> Result<Dataset> {
    if !root.is_dir() {
        return Err(Error::InvalidArgument(format!(
            "{}: input is not a directory",
            root.display()
        )));
    }
    let mut notes = Vec::new();
    let mut unusable = Vec::new();
    if let Some(why) = layout_mismatch(root, kind) {
        let detected = detect(root).map(|k| k.name()).unwrap_or("folder");
        return Err(Error::InvalidArgument(format!(
            "{}: not a `{kind}` tree: {why}; auto-detection says `{detected}`: run with `--dataset {detected}` (or without --dataset)",
            root.display()
        )));
    }
    let mut dirs = Vec::new();
    let files = walk(root, &mut notes, &mut unusable, exclude, &mut dirs)?;
    let mut ds = match kind {
        DatasetKind::Folder => {
            let (images, other): (Vec<_>, Vec<_>) = files.into_iter().partition(|f| is_image(f));
            let (masks, images): (Vec<_>, Vec<_>) =
                images.into_iter().partition(|f| in_annotation_folder(f));
            if !masks.is_empty() {
                notes.push(format!(
                    "{} image(s) in annotation folders ({}) left out, not corrupted (e.g. {}): use the dataset's own layout (--dataset voc, cityscapes, …) to carry them",
                    masks.len(),
                    ANNOTATION_FOLDERS.join(", "),
                    masks[0]
                ));
            }
            if !other.is_empty() {
                notes.push(format!(
                    "{} non-image file(s) ignored (e.g. {})",
                    other.len(),
                    other[0]
                ));
            }
            unusable.retain(|(f, _)| !in_annotation_folder(f));
            Dataset {
                kind,
                images,
                carried: vec![],
                folders: dirs
                    .into_iter()
                    .filter(|d| !in_annotation_folder(&format!("{d}/")))
                    .collect(),
                notes,
                unusable: vec![],
                placement: Default::default(),
                layout: Layout::Cells,
            }
        }
        DatasetKind::Imagenet if is_tiny_val(root) => {
            unusable.retain(|(f, _)| f.starts_with("images/"));
            tiny_val(root, files, notes)?
        }
        DatasetKind::Imagenet => {
            let mut ds = imagenet(root, files, notes)?;
            // the class folders, and Tiny-ImageNet's `<class>/images/`
            ds.folders = dirs
                .into_iter()
                .filter(|d| !d.contains('/') || imagenet_place(&format!("{d}/x")))
                .collect();
            ds
        }
        DatasetKind::Voc => voc(root, files, notes)?,
        DatasetKind::Coco => coco(root, files, notes)?,
        DatasetKind::Cityscapes => cityscapes(root, files, notes)?,
    };
    // Only what the adapter would have used as an image fails the run.
    match kind {
        DatasetKind::Imagenet if is_tiny_val(root) => {} // kept to `images/` above
        DatasetKind::Imagenet => unusable.retain(|(f, _)| imagenet_place(f)),
        DatasetKind::Coco => {
            unusable.retain(|(f, _)| !f.starts_with("annotations/") && !in_annotation_folder(f))
        }
        _ => {}
    }
    ds.unusable = unusable;
    if ds.images.is_empty() && ds.unusable.is_empty() {
        return Err(Error::InvalidArgument(format!(
            "{}: no images found for the `{}` layout{}",
            root.display(),
            kind,
            ds.notes
                .first()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default()
        )));
    }
    ds.images.sort();
    ds.carried.sort();
    Ok(ds)
}

/// Whether `rel` is where the imagenet layout takes an image: `<class>/<file>`, or
/// Tiny-ImageNet's `<class>/images/<file>` (its `train/` folder as INPUT; ImageFolder finds
/// images anywhere below a class folder).
fn imagenet_place(rel: &str) -> bool {
    let parts: Vec<&str> = rel.split('/').collect();
    parts.len() == 2 || parts.len() == 3 && parts[1] == "images"
}

fn imagenet(root: &Path, files: Vec<String>, mut notes: Vec<String>) -> Result<Dataset> {
    let (images, other): (Vec<_>, Vec<_>) = files
        .into_iter()
        .partition(|f| is_image(f) && imagenet_place(f));
    if images.is_empty() && root.join("val").is_dir() {
        notes.push(format!(
            "the class folders seem to be in {}: pass that folder as INPUT",
            root.join("val").display()
        ));
    }
    if !other.is_empty() {
        notes.push(format!(
            "{} file(s) not of the form <class>/<image> (or <class>/images/<image>) ignored (e.g. {})",
            other.len(),
            other[0]
        ));
    }
    Ok(Dataset {
        kind: DatasetKind::Imagenet,
        images,
        carried: vec![],
        folders: vec![],
        notes,
        unusable: vec![],
        placement: Default::default(),
        layout: Layout::Cells,
    })
}

fn read_text(root: &Path, rel: &str) -> Result<String> {
    fs::read_to_string(root.join(rel)).map_err(|source| Error::Io {
        path: root.join(rel),
        source,
    })
}

fn annotation_error(root: &Path, rel: &str, message: String) -> Error {
    Error::InvalidArgument(format!(
        "{}: malformed annotation: {message}",
        root.join(rel).display()
    ))
}

/// Byte range of the opening tag `<tag …>` of the first `tag` element in `xml` (a name
/// followed by whitespace, `>` or `/`, as XML allows attributes and spaces inside tags).
fn xml_open(xml: &str, tag: &str) -> Option<(usize, usize)> {
    let mut from = 0;
    while let Some(i) = xml[from..].find('<') {
        let start = from + i;
        let rest = &xml[start + 1..];
        if rest.starts_with(tag)
            && rest[tag.len()..]
                .chars()
                .next()
                .is_some_and(|c| c == '>' || c == '/' || c.is_whitespace())
        {
            let end = start + xml[start..].find('>')? + 1;
            return Some((start, end));
        }
        from = start + 1;
    }
    None
}

/// Text of the first `<tag>…</tag>` element in `xml`, trimmed (`<tag/>` is empty).
fn xml_text<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let (open, start) = xml_open(xml, tag)?;
    if xml[open..start].ends_with("/>") {
        return Some("");
    }
    let close = format!("</{tag}");
    let mut from = start;
    loop {
        let i = from + xml[from..].find(&close)?;
        let after = &xml[i + close.len()..];
        if after.trim_start().starts_with('>') {
            return Some(xml[start..i].trim());
        }
        from = i + close.len();
    }
}

fn summarise_missing(notes: &mut Vec<String>, what: &str, missing: &[String]) {
    if !missing.is_empty() {
        let shown: Vec<&str> = missing.iter().take(5).map(String::as_str).collect();
        notes.push(format!(
            "{} image(s) listed in {what} are missing on disk: {}{}",
            missing.len(),
            shown.join(", "),
            if missing.len() > 5 { ", …" } else { "" }
        ));
    }
}

/// What discovery needs from one VOC annotation file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VocAnnotation<'a> {
    /// Whether it has at least one `<object>`.
    pub has_object: bool,
    /// Its `<filename>`, if any.
    pub filename: Option<&'a str>,
}

/// Check one VOC annotation (`Annotations/*.xml`): an `<annotation>` element and a `<size>`
/// with positive `<width>` and `<height>` are required (the error says which is missing).
/// Linear in the text (the fuzz target `annotations` runs it on arbitrary bytes).
pub fn check_voc_annotation(xml: &str) -> std::result::Result<VocAnnotation<'_>, String> {
    if !xml.contains("<annotation") {
        return Err("no <annotation> element".into());
    }
    let size = xml_text(xml, "size").ok_or("no <size> element")?;
    for key in ["width", "height"] {
        let v = xml_text(size, key).and_then(|v| v.parse::<u64>().ok());
        if v.is_none_or(|v| v == 0) {
            return Err(format!("<size> has no positive <{key}>"));
        }
    }
    Ok(VocAnnotation {
        has_object: xml_open(xml, "object").is_some(),
        filename: xml_text(xml, "filename"),
    })
}

/// VOC: images are the files under any `JPEGImages/` folder; everything else is carried.
/// Each `Annotations/*.xml` must have a `<size>` with `<width>`/`<height>` (error otherwise);
/// a file without `<object>` is a note; `<filename>` and `ImageSets/Main/*.txt` ids must
/// exist in the sibling `JPEGImages/` (notes otherwise).
fn voc(root: &Path, files: Vec<String>, mut notes: Vec<String>) -> Result<Dataset> {
    let in_dir =
        |f: &str, d: &str| f.starts_with(&format!("{d}/")) || f.contains(&format!("/{d}/"));
    let (images, carried): (Vec<_>, Vec<_>) = files
        .into_iter()
        .partition(|f| in_dir(f, "JPEGImages") && is_image(f));
    let image_set: HashSet<&str> = images.iter().map(String::as_str).collect();
    let mut missing = Vec::new();
    let mut listed_missing: HashSet<String> = HashSet::new();
    let mut without_objects = 0usize;
    for rel in &carried {
        let base = |sub: &str| -> Option<String> {
            let i = rel.find(sub)?;
            Some(format!("{}JPEGImages/", &rel[..i]))
        };
        if in_dir(rel, "Annotations") && rel.ends_with(".xml") {
            let xml = read_text(root, rel)?;
            let ann = check_voc_annotation(&xml).map_err(|m| annotation_error(root, rel, m))?;
            if !ann.has_object {
                without_objects += 1;
            }
            if let (Some(fname), Some(dir)) = (ann.filename, base("Annotations/")) {
                let img = format!("{dir}{fname}");
                if !image_set.contains(img.as_str()) && listed_missing.insert(img.clone()) {
                    missing.push(img);
                }
            }
        } else if in_dir(rel, "ImageSets") && rel.ends_with(".txt") && rel.contains("/Main/") {
            let text = read_text(root, rel)?;
            let dir = base("ImageSets/").unwrap_or_default();
            for id in text.lines().filter_map(|l| l.split_whitespace().next()) {
                let img = format!("{dir}{id}.jpg");
                // a set, not `missing.contains`: 200k ids missing on disk stay linear
                if !image_set.contains(img.as_str()) && listed_missing.insert(img.clone()) {
                    missing.push(img);
                }
            }
        }
    }
    if without_objects > 0 {
        notes.push(format!(
            "{without_objects} VOC annotation file(s) have no <object>"
        ));
    }
    summarise_missing(&mut notes, "the VOC annotations/image sets", &missing);
    Ok(Dataset {
        kind: DatasetKind::Voc,
        images,
        carried,
        folders: vec![],
        notes,
        unusable: vec![],
        placement: Default::default(),
        layout: Layout::Cells,
    })
}

#[derive(Deserialize)]
struct CocoFile {
    #[serde(default)]
    images: Option<Vec<CocoImage>>,
}

#[derive(Deserialize)]
struct CocoImage {
    file_name: String,
}

/// The `file_name` of every entry of a COCO annotation file's `images` list (none when it
/// has no such list); the error says why the JSON is not COCO.
pub fn coco_file_names(reader: impl std::io::Read) -> std::result::Result<Vec<String>, String> {
    let parsed: CocoFile =
        serde_json::from_reader(reader).map_err(|e| format!("not valid COCO JSON: {e}"))?;
    Ok(parsed
        .images
        .unwrap_or_default()
        .into_iter()
        .map(|i| i.file_name)
        .collect())
}

/// COCO: every `annotations/*.json` must parse as JSON (an `images` list, if present, needs a
/// `file_name` per entry); images are the image files outside `annotations/`, everything else
/// is carried. Listed file names missing from disk (matched by file name) are notes.
fn coco(root: &Path, files: Vec<String>, mut notes: Vec<String>) -> Result<Dataset> {
    let (images, carried): (Vec<_>, Vec<_>) = files
        .into_iter()
        .partition(|f| !f.starts_with("annotations/") && !in_annotation_folder(f) && is_image(f));
    let names: HashSet<&str> = images
        .iter()
        .map(|f| f.rsplit('/').next().unwrap_or(f))
        .collect();
    let mut missing = Vec::new();
    for rel in carried
        .iter()
        .filter(|f| f.starts_with("annotations/") && f.ends_with(".json"))
    {
        let file = fs::File::open(root.join(rel)).map_err(|source| Error::Io {
            path: root.join(rel),
            source,
        })?;
        let listed = coco_file_names(std::io::BufReader::new(file))
            .map_err(|m| annotation_error(root, rel, m))?;
        for file_name in listed {
            let name = file_name.rsplit('/').next().unwrap_or(&file_name);
            if !names.contains(name) {
                missing.push(file_name);
            }
        }
    }
    summarise_missing(&mut notes, "the COCO annotations", &missing);
    Ok(Dataset {
        kind: DatasetKind::Coco,
        images,
        carried,
        folders: vec![],
        notes,
        unusable: vec![],
        placement: Default::default(),
        layout: Layout::Cells,
    })
}

/// Cityscapes: images are `leftImg8bit/**/*_leftImg8bit.png`; everything else (gtFine,
/// gtCoarse, …) is carried. `*_polygons.json` must parse; an image whose `gtFine` folder
/// exists but holds no `<stem>_gtFine_*` file is a note.
fn cityscapes(root: &Path, files: Vec<String>, mut notes: Vec<String>) -> Result<Dataset> {
    let (images, carried): (Vec<_>, Vec<_>) = files
        .into_iter()
        .partition(|f| f.starts_with("leftImg8bit/") && f.ends_with("_leftImg8bit.png"));
    for rel in carried.iter().filter(|f| f.ends_with("_polygons.json")) {
        let text = read_text(root, rel)?;
        serde_json::from_str::<serde_json::Value>(&text)
            .map_err(|e| annotation_error(root, rel, format!("not valid JSON: {e}")))?;
    }
    let gt: HashSet<&str> = carried
        .iter()
        .filter_map(|f| f.strip_prefix("gtFine/"))
        .filter_map(|f| f.split_once("_gtFine_").map(|(stem, _)| stem))
        .collect();
    let mut missing = Vec::new();
    for img in &images {
        let stem = &img["leftImg8bit/".len()..img.len() - "_leftImg8bit.png".len()];
        let dir = stem.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
        if root.join("gtFine").join(dir).is_dir() && !gt.contains(stem) {
            missing.push(img.clone());
        }
    }
    if !missing.is_empty() {
        notes.push(format!(
            "{} Cityscapes image(s) have no gtFine annotation (e.g. {})",
            missing.len(),
            missing[0]
        ));
    }
    if !root.join("gtFine").is_dir() {
        notes.push("no gtFine/ folder: only images will be written".into());
    }
    Ok(Dataset {
        kind: DatasetKind::Cityscapes,
        images,
        carried,
        folders: vec![],
        notes,
        unusable: vec![],
        placement: Default::default(),
        layout: Layout::Cells,
    })
}

/// Keep only the images of one split (`--split`), e.g. COCO `val2017`, Cityscapes `val`, VOC
/// `test` (the splits the detection benchmark corrupts). Seeds and output paths do not change
/// (they are relative to INPUT either way).
///
/// * coco, folder: images whose first path component is `split`;
/// * cityscapes: images under `leftImg8bit/<split>/`; carried files of the form
///   `<folder>/<other split>/…` (gtFine, gtCoarse, …) are dropped too;
/// * voc: images listed in `VOC20xx/ImageSets/Main/<split>.txt` of their VOC folder;
/// * imagenet: not applicable (pass the split's class folder, e.g. `val/`, as INPUT).
pub fn select_split(mut ds: Dataset, root: &Path, split: &str) -> Result<Dataset> {
    let first = |f: &str| f.split('/').next().unwrap_or("").to_string();
    let available: std::collections::BTreeSet<String>;
    match ds.kind {
        DatasetKind::Imagenet => {
            return Err(Error::InvalidArgument(
                "--split does not apply to the imagenet layout: pass the split's folder (e.g. val/) as INPUT".into(),
            ))
        }
        DatasetKind::Coco | DatasetKind::Folder => {
            available = ds.images.iter().map(|f| first(f)).collect();
            ds.images.retain(|f| first(f) == split);
            ds.unusable.retain(|(f, _)| first(f) == split);
            ds.folders.retain(|f| first(f) == split);
        }
        DatasetKind::Cityscapes => {
            let second = |f: &str| f.split('/').nth(1).unwrap_or("").to_string();
            available = ds.images.iter().map(|f| second(f)).collect();
            ds.images
                .retain(|f| f.starts_with(&format!("leftImg8bit/{split}/")));
            ds.unusable
                .retain(|(f, _)| f.matches('/').count() < 2 || second(f) == split);
            ds.carried
                .retain(|f| f.matches('/').count() < 2 || second(f) == split);
        }
        DatasetKind::Voc => {
            let mut keep = HashSet::new();
            let mut found_list = false;
            let mut lists = std::collections::BTreeSet::new();
            for f in &ds.carried {
                if let Some(dir) = f.strip_suffix(&format!("ImageSets/Main/{split}.txt")) {
                    found_list = true;
                    for id in read_text(root, f)?
                        .lines()
                        .filter_map(|l| l.split_whitespace().next())
                    {
                        keep.insert(format!("{dir}JPEGImages/{id}"));
                    }
                } else if let Some(name) = f
                    .split_once("ImageSets/Main/")
                    .map(|(_, n)| n)
                    .and_then(|n| n.strip_suffix(".txt"))
                {
                    if !name.contains('_') {
                        lists.insert(name.to_string());
                    }
                }
            }
            available = lists;
            let in_split = |f: &str| {
                let stem = f.rsplit_once('.').map(|(s, _)| s).unwrap_or(f);
                keep.contains(stem)
            };
            if found_list {
                ds.images.retain(|f| in_split(f));
            } else {
                ds.images.clear();
            }
            ds.unusable.retain(|(f, _)| in_split(f));
        }
    }
    if ds.images.is_empty() && ds.unusable.is_empty() {
        return Err(Error::InvalidArgument(format!(
            "{}: no images in split `{split}` of the `{}` layout (splits found: {})",
            root.display(),
            ds.kind,
            available.into_iter().collect::<Vec<_>>().join(", ")
        )));
    }
    Ok(ds)
}
