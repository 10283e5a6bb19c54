# Type stubs of the public API (the implementation is in _dropin.py, _native.py, _dataset.py).
from os import PathLike
from typing import Any, Callable, Dict, List, Literal, Optional, Sequence, Tuple, Union, overload

import numpy as np
import numpy.typing as npt

from . import augment as augment
from ._dataset import GenerateSummary as GenerateSummary
from ._dataset import VerifyReport as VerifyReport

__version__: str

_U8 = npt.NDArray[np.uint8]
_Path = Union[str, PathLike[str]]
_Rng = Literal["fast", "numpy"]
_Subset = Literal["common", "validation", "all", "noise", "blur", "weather", "digital"]

class InvalidInputError(AttributeError, ValueError): ...
class CorruptionNameError(KeyError, ValueError): ...

corruption_tuple: Tuple[Callable[..., npt.NDArray[np.float64]], ...]
corruption_dict: Dict[str, Callable[..., npt.NDArray[np.float64]]]

def get_corruption_names(subset: _Subset = ...) -> List[str]: ...
def corrupt(
    image: _U8,
    severity: int = ...,
    corruption_name: Optional[str] = ...,
    corruption_number: int = ...,
    *,
    seed: Optional[int] = ...,
    rng: Optional[_Rng] = ...,
    preset: Optional[str] = ...,
    frost_dir: Optional[_Path] = ...,
) -> _U8: ...
def set_frost_dir(path: Optional[_Path]) -> None: ...
def corrupt_image(image: _U8, corruption: Union[str, int], severity: int = ..., *, seed: Optional[int] = ..., rng: _Rng = ..., preset: Optional[str] = ..., frost_dir: Optional[_Path] = ..., styles: Optional[_Path] = ..., tile_bank: Optional[_Path] = ...) -> _U8: ...
def corrupt_at(image: _U8, corruption: Union[str, int], severity: float, *, seed: Optional[int] = ..., rng: _Rng = ..., preset: Optional[str] = ..., frost_dir: Optional[_Path] = ..., styles: Optional[_Path] = ..., tile_bank: Optional[_Path] = ...) -> _U8: ...
def corrupt_batch(images: _U8, corruption: Union[str, int], severity: int = ..., *, seed: Optional[int] = ..., rng: _Rng = ..., preset: Optional[str] = ..., frost_dir: Optional[_Path] = ..., styles: Optional[_Path] = ..., tile_bank: Optional[_Path] = ...) -> _U8: ...
def corrupt_inplace(image: _U8, corruption: Union[str, int], severity: int = ..., *, seed: Optional[int] = ..., rng: _Rng = ..., preset: Optional[str] = ..., frost_dir: Optional[_Path] = ..., styles: Optional[_Path] = ..., tile_bank: Optional[_Path] = ...) -> None: ...
def read_image(path: _Path) -> _U8: ...
def c_bar_names(suite: str = ...) -> List[str]: ...
def generate(
    input: _Path,
    output: _Path,
    *,
    corruptions: Union[str, Sequence[str]] = ...,
    severities: Union[str, Sequence[float]] = ...,
    seed: Optional[int] = ...,
    rng: Optional[_Rng] = ...,
    dataset: str = ...,
    split: Optional[str] = ...,
    preset: Optional[str] = ...,
    image_format: Optional[str] = ...,
    quality: Optional[int] = ...,
    geometry: Optional[str] = ...,
    channel_order: Optional[str] = ...,
    annotations: Optional[str] = ...,
    threads: Optional[int] = ...,
    shard: Optional[str] = ...,
    max_pixels: Optional[int] = ...,
    frost_dir: Optional[_Path] = ...,
    tile_bank: Optional[_Path] = ...,
    laion_c_compat: bool = ...,
    layout: Optional[str] = ...,
    severity_schedule: Optional[str] = ...,
    extra_args: Sequence[_Path] = ...,
) -> GenerateSummary: ...
def verify(output: _Path, *, input: Optional[_Path] = ..., sample: Optional[int] = ..., threads: Optional[int] = ...) -> VerifyReport: ...
@overload
def score(
    file: _Path,
    *,
    dataset: Optional[_Path] = ...,
    flip: bool = ...,
    difficulty: Optional[int] = ...,
    flip_baseline: Optional[_Path] = ...,
    report: Literal[False] = ...,
) -> Dict[str, Any]: ...
@overload
def score(
    file: _Path,
    *,
    dataset: Optional[_Path] = ...,
    flip: bool = ...,
    difficulty: Optional[int] = ...,
    flip_baseline: Optional[_Path] = ...,
    report: Literal[True],
) -> Tuple[Dict[str, Any], str]: ...
