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


class ClaimError(XatomError, ValueError):
    """A claim record or bootstrap call that cannot be made (unknown comparison, non-finite value, bad arrays)."""


class CoordinateRangeError(InvalidMoleculeError):
    """Coordinates too large or a structure too extended for the models' float32 arithmetic to resolve."""


class OutOfDomainError(InvalidMoleculeError):
    """A molecule outside a model's training domain where its prediction means nothing (a lone atom), or any
    :class:`OutOfDomainWarning` turned into an error by ``strict=True``."""


class ImplausibleValueError(XatomError, ValueError):
    """A number far outside the physical range of what it claims to be (e.g. atomic charges of 100 e: energies
    passed as charges)."""


class DeviceUnavailableError(XatomError, ValueError):
    """A torch device (e.g. ``cuda``) that does not exist on this machine."""


class OutOfDomainWarning(UserWarning):
    """A molecule lies outside what a model was trained on (size, charge, isolated atoms, fragments): its
    numbers are an extrapolation."""


class ConvergenceError(XatomError, RuntimeError):
    """An iterative calculation (e.g. a DFT SCF of a reference builder) that did not converge."""
