"""Dataset generation and verification over the Rust pipeline (``imgcorrupt generate`` /
``imgcorrupt verify``)."""

import json
import os
from dataclasses import dataclass, field
from typing import List, Optional

from . import _imgcorrupt as _core

__all__ = ["generate", "verify", "score", "GenerateSummary", "VerifyReport"]


@dataclass(frozen=True)
class GenerateSummary:
    """What a ``generate`` run did: the dataset layout, counts of source images and outputs,
    the images that failed (``"path: reason"``; the run goes on without them), the time and
    the manifest. ``summary.ok`` is true when nothing failed."""

    dataset: Optional[str]  # detected or given layout: imagenet, voc, coco, cityscapes, folder
    images: int  # source images processed
    written: int  # outputs written
    skipped: int  # outputs already there (resumed run)
    carried: int  # annotation files carried over
    failed: List[str] = field(default_factory=list)  # "path: reason" per failed image
    seconds: float = 0.0
    manifest_records: Optional[int] = None
    manifest: Optional[os.PathLike] = None  # pathlib.Path of manifest.jsonl

    @property
    def ok(self):
        """True when no image failed."""
        return not self.failed


@dataclass(frozen=True)
class VerifyReport:
    """What ``verify`` found: manifest records (output files), those whose SHA-256 matched,
    the class folders listed and present, and the missing, mismatched, unlisted (extra),
    regenerated-but-different outputs and errors. ``report.ok`` is the verdict."""

    ok: bool
    records: int
    hashed_ok: int
    folders: int
    folders_ok: int
    missing: List[str]
    mismatched: List[str]
    extra: List[str]
    regenerated: int
    regenerated_mismatch: List[str]
    errors: List[str]


def _words(value):
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def generate(
    input,
    output,
    *,
    corruptions="common",
    severities="1-5",
    seed=None,
    rng=None,
    dataset="auto",
    split=None,
    preset=None,
    image_format=None,
    quality=None,
    geometry=None,
    channel_order=None,
    annotations=None,
    threads=None,
    shard=None,
    max_pixels=None,
    frost_dir=None,
    tile_bank=None,
    laion_c_compat=False,
    layout=None,
    severity_schedule=None,
    extra_args=(),
):
    """Turn a dataset (ImageNet class folders, VOC, COCO, Cityscapes, any image folder, or
    webdataset ``.tar`` shards: a folder of them, one file, or a pattern such as
    ``'shards/{00000..00099}.tar'``) into its -C variant with a manifest, exactly as ``imgcorrupt generate INPUT -o OUTPUT ...``
    (same defaults: ImageNet geometry and JPEG q85 for ImageNet trees). ``corruptions``: names,
    subsets or families (string or list); ``severities``: e.g. ``'1-5'``, ``[1, 3, 5]``.
    LAION-C (``corruptions="laion-c"``): ``tile_bank`` is the folder of training images of
    mosaic and stickers, ``laion_c_compat=True`` the release's fixed glitch seed and mosaic
    preprocessing (Resize(252) for tiles 6 and 28, tile 6 over a 252 crop), and
    ``layout="laion-c"`` writes LAION-C's evaluator layout
    (``<distortion>/intensity_level_<s>/<superclass>/``) from ImageNet class folders.
    ``severity_schedule``: a continuously changing severity over the images
    (``"linear:0-5"`` or ``"knots:FILE"``; image folders in sorted order, webdataset shards in
    stream order), written to ``<corruption>/schedule/``; for a CIFAR input,
    ``<corruption>.npy`` holds the N images in source order at their severities, with
    ``severities.npy`` (float32) and ``labels.npy``.
    Other command-line options can be passed as ``extra_args``. Returns a
    :class:`GenerateSummary`; images that fail are listed in ``failed`` (the run goes on), bad
    options raise ``ValueError``/``OSError``."""
    args = [os.fspath(input), "-o", os.fspath(output), "-c", _words(corruptions), "-s", _words(severities)]
    options = {
        "--seed": seed,
        "--rng": rng,
        "--dataset": dataset,
        "--split": split,
        "--preset": preset,
        "--image-format": image_format,
        "--quality": quality,
        "--geometry": geometry,
        "--channel-order": channel_order,
        "--annotations": annotations,
        "--threads": threads,
        "--shard": shard,
        "--max-pixels": max_pixels,
        "--frost-dir": None if frost_dir is None else os.fspath(frost_dir),
        "--tile-bank": None if tile_bank is None else os.fspath(tile_bank),
        "--layout": layout,
        "--severity-schedule": severity_schedule,
    }
    for flag, value in options.items():
        if value is not None:
            args += [flag, str(value)]
    if laion_c_compat:
        args.append("--laion-c-compat")
    args += [os.fspath(a) for a in extra_args]
    return GenerateSummary(**_core.generate(args))


def verify(output, *, input=None, sample=None, threads=None):
    """Re-hash every output of ``output``'s manifest (``imgcorrupt verify``); with ``input``,
    also regenerate ``sample`` outputs (all when ``None``) and compare the bytes. Returns a
    :class:`VerifyReport` (``report.ok`` is the verdict)."""
    r = _core.verify_dataset(
        os.fspath(output), None if input is None else os.fspath(input), sample, threads
    )
    return VerifyReport(**r)


def score(file, *, dataset=None, flip=False, difficulty=None, flip_baseline=None, report=False):
    """Score a model's results as ``imgcorrupt score`` does; returns the dict the command
    writes to ``FILE.score.json`` (same keys, ``"conventions"`` included). Nothing is printed
    or written.

    * ``score(table)``: a results table, CSV ``corruption,severity,error|accuracy|ap`` or JSON
      records (per-class APs ``corruption,severity,class,ap`` are scored as Pascal-C);
    * ``score(predictions, dataset=OUTPUT)``: predictions mode, ``path,label,pred`` per image
      over a ``generate`` output (each path's cell from its manifest);
    * ``score(frames, flip=True, difficulty=1, flip_baseline=None)``: ImageNet-P flip
      probability and top-5 distance (mFR/mT5D with a ``flip_baseline`` TOML).

    ``report=True`` returns ``(dict, text)``, ``text`` the report the command prints.
    Malformed input raises ``ValueError`` naming the file (and line); an unreadable file
    ``OSError``."""
    text, printed = _core.score(
        os.fspath(file),
        None if dataset is None else os.fspath(dataset),
        bool(flip),
        difficulty,
        None if flip_baseline is None else os.fspath(flip_baseline),
    )
    result = json.loads(text)
    return (result, printed) if report else result
