"""Settings of the one-stop subsystem, read from the environment (see README, Configuration)."""

from ioc.env import env_int

# Working hours before the due moment during which an open dossier is "soon due" (sắp trễ hạn).
DUE_SOON_WORKING_HOURS = env_int("IOC_ONESTOP_DUE_SOON_HOURS", 8, minimum=1)
# Most dossiers (or queue figures) in one API batch.
BATCH_MAX = env_int("IOC_ONESTOP_BATCH_MAX", 1000, minimum=1)
# Seconds the wall keeps this month's rates and 766 estimate per scope (0: recompute every time).
# Today's counts (received, in process, overdue) are always live.
FIGURES_CACHE_SECONDS = env_int("IOC_ONESTOP_FIGURES_CACHE_SECONDS", 60, minimum=0)
