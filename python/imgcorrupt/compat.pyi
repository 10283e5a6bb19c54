from types import ModuleType
from typing import Callable, Dict, Tuple

import numpy as np
import numpy.typing as npt

from . import corrupt as corrupt
from . import get_corruption_names as get_corruption_names

corruption_tuple: Tuple[Callable[..., npt.NDArray[np.float64]], ...]
corruption_dict: Dict[str, Callable[..., npt.NDArray[np.float64]]]
corruptions: ModuleType

def install(force: bool = ...) -> ModuleType: ...

# The reference module's helpers, reachable as ``corruptions.<name>`` (see imgcorrupt._helpers).
