"""clvlab's version: a leaf module, so that modules writing it into files need not import the package."""

__version__ = "0.1.0"
