"""Error hierarchy: every bad input raises a subclass of :class:`XatomError` naming the problem."""


class XatomError(Exception):
    """Base class of all errors raised by xatom."""


class InvalidMoleculeError(XatomError, ValueError):
    """A molecule (or batch of atoms) that cannot be used as model input."""


class UnknownElementError(InvalidMoleculeError):
    """An element symbol or atomic number that xatom (or a given model) does not know."""


class ShapeError(InvalidMoleculeError):
    """Arrays with the wrong shape, e.g. positions not of shape (n_atoms, 3)."""


class NonFiniteError(InvalidMoleculeError):
    """NaN or infinite coordinates or values."""


class AtomsTooCloseError(InvalidMoleculeError):
    """Two atoms closer than the allowed minimum distance."""


class EmptyMoleculeError(InvalidMoleculeError):
    """A molecule without atoms."""


class SmilesParseError(InvalidMoleculeError):
    """A SMILES string that RDKit cannot parse or embed in 3D."""


class DataFormatError(XatomError, ValueError):
    """A data file (QM9 CSV, xyz, cube) whose content is not as expected."""


class MissingFileError(DataFormatError, FileNotFoundError):
    """A file to read that does not exist, or a folder where a file was expected."""


class OutputFolderError(XatomError, OSError):
    """An output folder that cannot be written to (read-only, not a folder, or too little free space)."""


class GridError(XatomError, ValueError):
    """A grid of points that cannot be used: zero, negative or non-finite spacing, degenerate axes, or more
    points than allowed."""


class CheckpointMismatchError(XatomError, ValueError):
    """A checkpoint whose model kind, target, configuration or data split differs from what was asked."""


class CorruptCheckpointError(CheckpointMismatchError):
    """A checkpoint that cannot be used as it is: NaN or infinite weights."""


class OutOfDomainWarning(UserWarning):
    """A molecule lies outside what the QM9-trained models have seen (elements, size, charge)."""
