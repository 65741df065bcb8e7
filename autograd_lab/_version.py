"""The package version and the torch release the stored notebook outputs were made with."""

from __future__ import annotations

import sys

__version__ = "0.1.0"

#: Tensors print verbatim in the stored notebook outputs; other torch releases may
#: print different last digits.
PINNED_TORCH = "2.13.0"


def check_torch_version() -> str:
    """Print a one-line notice when torch is not the pinned release; return its version."""
    import torch

    version = torch.__version__.split("+")[0]
    if version != PINNED_TORCH:
        print(
            f"autograd_lab: torch {version} is installed; the lessons were recorded with "
            f"torch {PINNED_TORCH}, so some printed digits may differ from the stored outputs.",
            file=sys.stderr,
        )
    return version
