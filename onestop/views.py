from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from ioc.scope import scope_for
from onestop import selectors


def _period(request):
    params = request.GET
    try:
        return selectors.parse_period(params.get("period"), start=params.get("start"), end=params.get("end"))
    except ValidationError:
        return selectors.parse_period("month")


@login_required
def office_list(request):
    """The offices in the caller's area, worst late rate first, with a link to each one's page."""
    scope, period = scope_for(request.user), _period(request)
    return render(
        request,
        "onestop/offices.html",
        {
            "period": period,
            "ranking": selectors.late_ranking(scope, period),
            "offices": selectors.offices_visible_to(scope),
            "indicators": selectors.indicators(scope, period),
        },
    )


@login_required
def office_detail(request, unit_code: str):
    """One office: its 766 indicators for a period, counters and queues, overdue and soon-due dossiers."""
    page = selectors.office_page(scope_for(request.user), unit_code, _period(request))
    if page is None:
        raise Http404
    return render(request, "onestop/office.html", {**page, "now": timezone.now()})
