"""Models: SchNet and Behler–Parrinello representations with shared energy and dipole heads."""
from .atomistic import AtomisticModel, model_config
from .bp import BehlerParrinello
from .acsf import ACSF, ACSFParameters
from .heads import DipoleHead, EnergyHead
from .schnet import SchNet

__all__ = ["AtomisticModel", "model_config", "BehlerParrinello", "ACSF", "ACSFParameters", "DipoleHead",
           "EnergyHead", "SchNet"]
