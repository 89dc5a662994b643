"""Demo problems: the recurring incidents the incidents demo planted, worked as problems.

The incidents demo makes a few CIs fail again and again ("Recurring failure: …"). Here the
three CIs with the most of those incidents get a problem each, all their recurring incidents
linked: two are known errors (root cause and workaround documented), one is still in
root-cause analysis with open tasks. The other recurring CIs are left alone, and one of them
gets a fresh burst of the same symptom in the last three weeks, so that detection (run at
the end of this step) proposes it as a problem candidate for an analyst to accept.

Everything is written through ``problems.services`` and ``incidents.services``.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Min
from django.utils import timezone

from itsmo.core.demo import DemoContext, step
from itsmo.incidents import services as incidents
from itsmo.incidents.models import Channel, Incident

from . import services
from .models import RcaMethod, Status

RECURRING_PREFIX = "Recurring failure: "

#: (title, method, root cause, workaround, known error?)
STORIES = [
    (
        "Repeated outages of {ci}",
        RcaMethod.FIVE_WHYS,
        "1. The service stops. 2. It runs out of memory. 3. A nightly export keeps every "
        "record in memory. 4. The export was written for a tenth of today's volume. "
        "5. Nobody owns the export's capacity. Root cause: an unbounded nightly export.",
        "Restart the service after 02:00 when the export has finished; the service desk "
        "can do it from the runbook in two minutes.",
        True,
    ),
    (
        "Intermittent failures on {ci}",
        RcaMethod.ISHIKAWA,
        "Method: firmware 4.2 drops the session after a power-save cycle. Machine, people "
        "and materials ruled out. Environment: only sites with the new power policy.",
        "Disable power saving on the device (settings → energy → never) until the vendor "
        "firmware is installed.",
        True,
    ),
    (
        "Recurring faults on {ci}",
        RcaMethod.TIMELINE,
        "",
        "",
        False,
    ),
]
BURST_SIZE = 5
BURST_TEXT = (
    "Cannot connect, the application times out",
    "The application hangs for a minute then times out when connecting.",
)


def _user(ctx: DemoContext, *names: str):
    users = ctx.data.get("users", {})
    for name in names:
        if name in users:
            return users[name]
    return None


def _regional_manager(ctx: DemoContext, ci):
    """The manager of the service desk of the CI's region: someone who sees the problem."""
    if ci.country is None:
        return None
    group = ctx.data.get("groups", {}).get(f"sd-{ci.country.region.code}")
    return group.manager if group is not None and group.manager_id else None


def _recurring_cis() -> list[int]:
    """CIs of the planted recurring incidents, most incidents first."""
    rows = (
        Incident.objects.filter(short_description__startswith=RECURRING_PREFIX, ci__isnull=False)
        .values("ci_id")
        .annotate(count=Count("id"), first=Min("opened_at"))
        .order_by("-count", "ci_id")
    )
    return [row["ci_id"] for row in rows]


def _work(problem, actor, manager, method, root_cause, workaround, known_error, ctx) -> None:
    services.transition(problem, Status.ASSESSED, actor=actor)
    services.transition(problem, Status.ROOT_CAUSE_ANALYSIS, actor=actor)
    first = services.add_task(
        problem, actor=actor, title="Collect logs from the last occurrences", owner=manager
    )
    services.update_task(first, actor=actor, status="done")
    if known_error:
        services.update_problem(problem, actor=actor, version=None, rca_method=method)
        services.transition(
            problem,
            Status.KNOWN_ERROR,
            actor=actor,
            root_cause=root_cause,
            workaround=workaround,
        )
        services.add_task(
            problem, actor=actor, title="Raise a change for the permanent fix", owner=manager
        )
    else:
        services.update_problem(problem, actor=actor, version=None, rca_method=method)
        services.add_task(problem, actor=actor, title="Reproduce on the test system", owner=manager)
        services.add_comment(
            problem, actor=actor, body="Vendor case opened; waiting for their traces."
        )


def _burst(ctx: DemoContext, ci_pk: int, actor) -> list[Incident]:
    """Open a fresh run of the same symptom on one CI over the last three weeks."""
    from itsmo.cmdb.models import CI

    ci = CI.objects.select_related("country").get(pk=ci_pk)
    users = ctx.data.get("users", {})
    callers = [
        u for u in users.values() if u.country_id == ci.country_id and not u.is_staff_member
    ] or [actor]
    now = timezone.now().replace(microsecond=0)
    opened = []
    for n in range(BURST_SIZE):
        at = now - timedelta(days=20 - 4 * n, hours=ctx.random.randint(0, 6))
        opened.append(
            incidents.open_incident(
                caller=ctx.random.choice(callers),
                actor=actor,
                channel=Channel.PHONE,
                short_description=BURST_TEXT[0],
                description=BURST_TEXT[1],
                impact=2,
                urgency=2,
                ci=ci,
                country=ci.country,
                opened_at=at,
            )
        )
    return opened


@step("problems", after=["incidents"])
def load_problems(ctx: DemoContext) -> None:
    actor = _user(ctx, "smo", "admin")
    manager = _user(ctx, "manager.mx", "smo", "admin")
    from itsmo.cmdb.models import CI

    cis = _recurring_cis()
    made = []
    for ci_pk, story in zip(cis, STORIES, strict=False):
        title, method, root_cause, workaround, known_error = story
        ci = CI.objects.select_related("country__region").get(pk=ci_pk)
        owner = _regional_manager(ctx, ci) or manager
        linked = list(
            Incident.objects.filter(
                ci_id=ci_pk, short_description__startswith=RECURRING_PREFIX, problem__isnull=True
            )
        )
        countries = {i.country_id for i in linked}
        problem = services.open_problem(
            title=title.format(ci=ci.name),
            description=(
                f"{len(linked)} incidents on {ci.number} {ci.name} with the same failure "
                "over the year."
            ),
            actor=actor,
            impact=2,
            urgency=2,
            cis=[ci],
            country=ci.country if len(countries) <= 1 else None,
            problem_manager=owner,
            incidents_to_link=linked,
            opened_at=min((i.opened_at for i in linked), default=None),
        )
        _work(problem, actor, owner, method, root_cause, workaround, known_error, ctx)
        made.append(problem)
    unlinked = cis[len(STORIES) :]
    if unlinked and actor is not None:
        _burst(ctx, unlinked[0], actor)
    candidates = services.detect_candidates()
    ctx.data["problems"] = made
    ctx.data["problem_candidates"] = candidates
    ctx.log(f"    {len(made)} problems, {len(candidates)} candidates proposed")
