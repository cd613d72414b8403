"""qianmo: co-build, check, label, release and measure cybersecurity datasets for LLMs."""

from qianmo.errors import QianmoError

__all__ = ["QianmoError", "__version__"]
__version__ = "0.1.0"
