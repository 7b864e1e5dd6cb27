"""How many reports a citizen may send: per device, under a ceiling per address (docs/security.md)."""

import math
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import ngettext

from ioc.throttling import SubmissionThrottle


class ReportSubmitThrottle(SubmissionThrottle):
    """`report_submit` per device or signed-in caller, `report_submit_address` per address,
    `report_submit_no_device` per address without a device token."""

    scope = "report_submit"


def refusal_message(wait: float) -> str:
    """What a refused citizen reads: when they can send again, in their language."""
    minutes = max(1, math.ceil(wait / 60))
    at = timezone.localtime(timezone.now() + timedelta(seconds=wait)).strftime("%H:%M")
    return ngettext(
        "Many reports were sent from this device or connection in a short time. "
        "You can send yours from %(time)s (in about %(minutes)s minute).",
        "Many reports were sent from this device or connection in a short time. "
        "You can send yours from %(time)s (in about %(minutes)s minutes).",
        minutes,
    ) % {"time": at, "minutes": minutes}


def retry_after(wait: float) -> str:
    return str(max(1, math.ceil(wait)))
