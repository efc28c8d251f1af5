"""`ftspec sweep`: a hyperparameter search (a grid, then Optuna's TPE) scored on the dev split carved from train.

space.py turns the spec's `sweep.space` into Optuna distributions and grid points; fit.py checks a trial's settings
against the memory estimate and the GPU-hour budget; study.py runs the trials (each a run folder of kind "trial")
from a study kept in SQLite; report.py reads the study back; apply.py writes the best settings into the spec."""
