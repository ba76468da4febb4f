"""Exception and warning hierarchy of msme_stats.

Every error raised on purpose by the package derives from :class:`MsmeStatsError`.
Messages name the file, column, cell, stratum or option concerned and say what to do.
Errors about bad input data or bad option values also subclass :class:`ValueError`, so
code that already catches ``ValueError`` keeps working.
"""

from __future__ import annotations


class MsmeStatsError(Exception):
    """Base class of every error raised on purpose by msme_stats."""


# --- options -------------------------------------------------------------------------
class OptionError(MsmeStatsError, ValueError):
    """An option (keyword argument) has a value that is not allowed."""


# --- input files and frames ----------------------------------------------------------
class InputError(MsmeStatsError, ValueError):
    """Input data (a file or a frame) cannot be used as it is."""


class EmptyInputError(InputError):
    """A file or frame holds no rows, or a glob matched no file."""


class UnreadableFileError(InputError):
    """A file is missing, truncated, corrupt or in a format that cannot be read."""


class NotRecognisedError(InputError):
    """A readable file is not of the expected kind (for example not a WBES file)."""


class MissingColumnsError(InputError):
    """Required columns are absent. The message lists all of them at once."""


class InvalidValueError(InputError):
    """A column holds values of the wrong type or outside the allowed range."""


class DuplicateIdError(InputError):
    """An identifier that must be unique (for example a firm id within a survey) repeats."""


class DuplicateSurveyError(DuplicateIdError):
    """One survey is reached through two files (a copy, a renamed file, a sample beside the real file)."""


class InvalidWeightError(InputError):
    """Sampling weights are missing, zero, negative or not numeric."""


class UnknownCodeError(InputError):
    """A code (country, size class, flag, dimension code, ...) is not in the known list."""


class UnknownCountryError(UnknownCodeError):
    """A country name or code could not be matched to an ISO3 code."""


# --- survey design and estimation ----------------------------------------------------
class DesignError(MsmeStatsError, ValueError):
    """A survey design cannot be declared or used (strata, weights, single-unit strata)."""


class LonelyStratumError(DesignError):
    """A stratum holds a single sampling unit and ``lonely_psu="fail"`` was chosen."""


# --- indicators, outputs, network ----------------------------------------------------
class UnknownIndicatorError(MsmeStatsError, KeyError):
    """An indicator id or World Bank code is not in the registry."""

    def __str__(self) -> str:  # KeyError quotes its message; show it plainly
        return str(self.args[0]) if self.args else ""


class BuildError(MsmeStatsError):
    """A registered output could not be built; ``figures/`` is left as it was."""


class OfflineError(MsmeStatsError, OSError):
    """A download was requested but the publisher could not be reached."""


# --- build: output folder, inputs, commit (msme-stats build) -------------------------
class OutputDirError(BuildError):
    """The output folder cannot be used (an existing file, a read-only place, a name too
    long, a symlink loop, no permission, no space)."""


class OutputClashError(BuildError):
    """A file or folder that the build did not write has the name of an output file."""


class BuildLockedError(BuildError):
    """Another build holds the lock of the output folder."""


class AmbiguousInputError(BuildError):
    """A data folder holds more than one candidate folder for one input (e.g. wbes/ and
    wbes_synthetic/); the build never pools them."""


class InputLoadError(BuildError):
    """An input file of a build could not be read; the message names the file."""


class RecoveryError(BuildError):
    """An unfinished commit of an earlier build could not be rolled forward or back."""


# --- warnings ------------------------------------------------------------------------
class MsmeStatsWarning(UserWarning):
    """Base class of the warnings issued by msme_stats."""


class RecodeWarning(MsmeStatsWarning):
    """Values were recoded (for example negative WBES codes set to missing); counts given."""


class ExclusionWarning(MsmeStatsWarning):
    """Rows were excluded from a computation; the count and the reason are given."""


class ReliabilityWarning(MsmeStatsWarning):
    """An estimate rests on too few observations or on a design with no degrees of freedom."""


__all__ = [
    "MsmeStatsError",
    "OptionError",
    "InputError",
    "EmptyInputError",
    "UnreadableFileError",
    "NotRecognisedError",
    "MissingColumnsError",
    "InvalidValueError",
    "DuplicateIdError",
    "DuplicateSurveyError",
    "InvalidWeightError",
    "UnknownCodeError",
    "UnknownCountryError",
    "DesignError",
    "LonelyStratumError",
    "UnknownIndicatorError",
    "BuildError",
    "OfflineError",
    "OutputDirError",
    "OutputClashError",
    "BuildLockedError",
    "AmbiguousInputError",
    "InputLoadError",
    "RecoveryError",
    "MsmeStatsWarning",
    "RecodeWarning",
    "ExclusionWarning",
    "ReliabilityWarning",
]


# --- added with issue 11 (strict TEC loaders, download helpers) --------------------------
class WriteError(MsmeStatsError, OSError):
    """A file or folder cannot be written (permission denied, the path is a file, a name
    too long, a symlink loop); the message names the path."""


__all__ += ["WriteError"]
