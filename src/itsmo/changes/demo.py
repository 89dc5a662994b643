"""Demo change management: a CAB and an ECAB with their approval rules, a catalogue of
standard changes, month-end blackout windows per country and a peak-season freeze, a
stream of standard, normal and emergency changes per country over the demo's months (the
past ones implemented and reviewed, the coming ones waiting for the CAB or scheduled), a
few failed changes that caused incidents, and two releases deployed region by region.

Everything goes through ``changes.services`` (and ``incidents.services`` for the caused
incidents), each call with the clock set to the moment it happened.

Volume: ``small`` 120, ``medium`` 600, ``large`` 2,000 changes.
"""

from __future__ import annotations

import calendar
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from itsmo.accounts import services as accounts
from itsmo.accounts.models import Tier, User
from itsmo.cmdb.models import CI, CIStatus
from itsmo.core.demo import DemoContext, step

from . import risk, services
from .models import (
    ApproverSource,
    ChangeType,
    CloseCode,
    DeploymentStatus,
    Policy,
    Risk,
    Status,
)

COUNTS = {"small": 120, "medium": 600, "large": 2_000}
#: Months of history (the incidents demo covers twelve).
MONTHS = 11
FUTURE_DAYS = 42
CAUSED_INCIDENTS = {"small": 4, "medium": 12, "large": 30}

TEMPLATES = [
    (
        "server-patching",
        "Monthly server patching",
        "Apply the month's approved OS patches to one server and reboot it.",
        "Drain the server from its pool; apply the approved patch set; reboot; put it back.",
        "Uninstall the patch set from the recovery console; reboot.",
        "Services start; monitoring green for 15 minutes; application smoke test.",
        120,
    ),
    (
        "certificate-renewal",
        "TLS certificate renewal",
        "Replace an expiring certificate with the new one from the corporate CA.",
        "Import the new certificate; bind it; restart the listener.",
        "Re-bind the previous certificate (kept in the store until next month).",
        "Browse the endpoint; check the chain and the expiry date.",
        30,
    ),
    (
        "firewall-rule",
        "Standard firewall rule",
        "Open a port between two internal zones from the approved rule catalogue.",
        "Add the rule from the catalogue entry; commit; log the change number in its comment.",
        "Delete the rule; commit.",
        "Test the connection from the source host; check the deny log stays clean.",
        30,
    ),
    (
        "handheld-firmware",
        "Handheld firmware rollout (one site)",
        "Roll out the approved handheld firmware to the devices of one site overnight.",
        "Push the firmware from the MDM to the site's group at 02:00; devices reboot.",
        "Push the previous firmware from the MDM.",
        "Five devices sync a route and print a ticket.",
        240,
    ),
    (
        "database-index",
        "Database index maintenance",
        "Rebuild fragmented indexes of a database outside business hours.",
        "Run the maintenance job for the listed indexes.",
        "Stop the job; the old indexes stay usable.",
        "Check the job log and the top queries' plans.",
        90,
    ),
]

NORMAL_TITLES = [
    "Upgrade {ci} to the next minor version",
    "Migrate {ci} to the new storage array",
    "Increase memory of {ci}",
    "Replace the disk controller of {ci}",
    "Reconfigure the load balancer in front of {ci}",
    "Move {ci} to the new VLAN",
    "Apply the vendor's hotfix bundle to {ci}",
]
EMERGENCY_TITLES = [
    "Emergency patch for a critical vulnerability on {ci}",
    "Restore the failed node of {ci}",
    "Emergency certificate replacement on {ci}",
]
CENTRAL_TITLES = [
    ("SAP ECC", "SAP ECC support package stack"),
    ("SAP Process Integration", "SAP PI adapter upgrade"),
    ("Route Sales Backend", "Route Sales backend release"),
    ("WMS Central (Manhattan)", "WMS wave-planning patch"),
]
PLANS = (
    "1. Announce the window. 2. Take a snapshot/backup. 3. Apply the change. "
    "4. Run the test plan. 5. Close the window.",
    "Restore the snapshot/backup taken in step 2; confirm service restored.",
    "Functional smoke test by the key user; monitoring green for 30 minutes.",
)


@contextmanager
def frozen_now(at: datetime):
    """``timezone.now()`` returns ``at`` inside the block (replaying history)."""
    original = timezone.now
    timezone.now = lambda: at
    try:
        yield
    finally:
        timezone.now = original


class ChangeDemo:
    def __init__(self, ctx: DemoContext, now: datetime) -> None:
        self.ctx = ctx
        self.rng = ctx.random
        self.now = now
        self.users: dict[str, User] = ctx.data["users"]
        self.countries = ctx.data["countries"]
        self.weights = {
            code: getattr(ctx.data.get("country_data", {}).get(code), "weight", 1) or 1
            for code in self.countries
        }
        self.staff_by_country: dict[str, list[User]] = {}
        for username in ctx.data["people"].get("agents", []):
            user = self.users[username]
            code = user.country.code if user.country_id else "MX"
            self.staff_by_country.setdefault(code, []).append(user)
        classes = [
            "server",
            "virtual_machine",
            "database_instance",
            "business_application",
            "network_device",
        ]
        self.cis_by_country: dict[str, list[int]] = {}
        rows = (
            CI.objects.filter(ci_class__code__in=classes, country__isnull=False)
            .exclude(status=CIStatus.RETIRED)
            .values_list("pk", "country__code")
            .order_by("pk")
        )
        for pk, code in rows:
            self.cis_by_country.setdefault(code, []).append(pk)
        self.ci_cache: dict[int, CI] = {}
        self.end_users = [self.users[u] for u in ctx.data["people"].get("end_users", [])]

    # -- set-up --------------------------------------------------------------------------

    def boards(self) -> None:
        people = self.ctx.data["people"]
        managers = [self.users[u] for u in people.get("managers", [])]
        members = [self.users["manager.mx"]]
        members += [m for m in managers if m.username != "manager.mx"][:4]
        self.cab = accounts.create_support_group(
            code="cab",
            name="Change Advisory Board",
            tier=Tier.L3,
            region=None,
            manager=self.users["manager.mx"],  # a group manager chairs the boards
            members=members,
            description="Authorises normal changes (weekly meeting, majority vote).",
        )
        self.ecab = accounts.create_support_group(
            code="ecab",
            name="Emergency Change Advisory Board",
            tier=Tier.L3,
            region=None,
            manager=self.users["manager.mx"],  # a group manager chairs the boards
            members=members[:3],
            description="Authorises emergency changes on call (any member).",
        )
        self.cab_members = members
        rules = [
            (
                "CAB",
                ChangeType.NORMAL,
                Risk.LOW,
                ApproverSource.GROUP,
                self.cab,
                True,
                Policy.MAJORITY,
                72,
            ),
            (
                "Service owners (moderate risk and above)",
                ChangeType.NORMAL,
                Risk.MODERATE,
                ApproverSource.SERVICE_OWNERS,
                None,
                False,
                Policy.ANY,
                48,
            ),
            (
                "Regional IT managers (high risk)",
                ChangeType.NORMAL,
                Risk.HIGH,
                ApproverSource.REGIONAL_MANAGERS,
                None,
                False,
                Policy.ALL,
                48,
            ),
            (
                "ECAB",
                ChangeType.EMERGENCY,
                Risk.LOW,
                ApproverSource.GROUP,
                self.ecab,
                False,
                Policy.ANY,
                4,
            ),
        ]
        for position, (name, kind, min_risk, source, group, is_cab, policy, hours) in enumerate(
            rules
        ):
            services.create_approval_rule(
                actor=None,
                name=name,
                change_type=kind,
                min_risk=min_risk,
                source=source,
                group=group,
                is_cab=is_cab,
                policy=policy,
                deadline_hours=hours,
                position=position,
            )

    def templates(self) -> None:
        groups = self.ctx.data["groups"]
        group = next((g for code, g in groups.items() if code.startswith("infra")), None)
        self.template_list = [
            services.create_template(
                actor=None,
                code=code,
                name=name,
                description=description,
                implementation_plan=plan,
                backout_plan=backout,
                test_plan=test,
                duration_minutes=minutes,
                assignment_group=group,
            )
            for code, name, description, plan, backout, test, minutes in TEMPLATES
        ]

    def blackouts(self) -> None:
        """Month-end close (last two days and the first working day) per country, and the
        December peak-sales freeze everywhere."""
        first = (self.now - timedelta(days=31 * MONTHS)).replace(day=1)
        month = first
        end = self.now + timedelta(days=FUTURE_DAYS + 31)
        while month < end:
            last_day = calendar.monthrange(month.year, month.month)[1]
            for code, country in self.countries.items():
                tz = ZoneInfo(country.time_zone)
                start = datetime(month.year, month.month, last_day - 1, tzinfo=tz)
                services.create_blackout(
                    actor=None,
                    name=f"Month-end close {code} {month:%Y-%m}",
                    reason="Finance closes the books: no change to ERP, billing or reporting.",
                    start_at=start.astimezone(UTC),
                    end_at=(start + timedelta(days=3)).astimezone(UTC),
                    country=country,
                )
            if month.month == 12:
                services.create_blackout(
                    actor=None,
                    name=f"Peak sales season {month.year}",
                    reason="Christmas and New Year: the busiest weeks of sales and logistics.",
                    start_at=datetime(month.year, 12, 15, tzinfo=UTC),
                    end_at=datetime(month.year + 1, 1, 2, tzinfo=UTC),
                )
            month = (month + timedelta(days=32)).replace(day=1)

    # -- changes ---------------------------------------------------------------------------

    def _ci(self, pk: int) -> CI:
        if pk not in self.ci_cache:
            self.ci_cache[pk] = CI.objects.get(pk=pk)
        return self.ci_cache[pk]

    def _person(self, code: str) -> User:
        pool = (
            self.staff_by_country.get(code)
            or self.staff_by_country.get("MX")
            or [self.users["agent.mx"]]
        )
        return self.rng.choice(pool)

    def _window(self, created: datetime, country, minutes: int) -> tuple[datetime, datetime]:
        tz = ZoneInfo(country.time_zone)
        day = (created + timedelta(days=self.rng.randint(2, 12))).astimezone(tz)
        local = day.replace(
            hour=self.rng.choice([20, 21, 22, 23]), minute=0, second=0, microsecond=0
        )
        start = local.astimezone(UTC)
        return start, start + timedelta(minutes=minutes)

    def _schedule(self, change, actor, start, end) -> None:
        for _attempt in range(4):
            try:
                services.schedule_change(change, actor=actor, planned_start=start, planned_end=end)
                return
            except services.ScheduleConflict:
                start, end = start + timedelta(days=1), end + timedelta(days=1)
        services.schedule_change(
            change,
            actor=actor,
            planned_start=start,
            planned_end=end,
            override_reason="Vendor engineer only available then; agreed with the change manager.",
        )

    def one(self, moment: datetime, force_failure: bool = False):
        """A change planned around ``moment``; one in the future was raised a few days ago."""
        rng = self.rng
        created = min(moment, self.now - timedelta(hours=rng.randint(2, 96)))
        codes = list(self.countries)
        code = rng.choices(codes, weights=[self.weights[c] for c in codes])[0]
        country = self.countries[code]
        pool = self.cis_by_country.get(code) or self.cis_by_country.get("MX") or []
        if not pool:
            return
        roll = rng.random()
        kind = (
            ChangeType.STANDARD
            if roll < 0.55
            else ChangeType.NORMAL
            if roll < 0.9
            else ChangeType.EMERGENCY
        )
        if force_failure:
            kind = ChangeType.NORMAL
        actor = self._person(code)
        ci = self._ci(rng.choice(pool))
        with frozen_now(created):
            if kind == ChangeType.STANDARD:
                template = rng.choice(self.template_list)
                change = services.create_change(
                    actor=actor,
                    type=kind,
                    template=template,
                    country=country,
                    cis=[ci],
                    title=f"{template.name}: {ci.name}",
                    created_at=created,
                    assignment_group=template.assignment_group,
                )
                minutes = template.duration_minutes
            else:
                titles = NORMAL_TITLES if kind == ChangeType.NORMAL else EMERGENCY_TITLES
                change = services.create_change(
                    actor=actor,
                    type=kind,
                    country=country,
                    cis=[ci],
                    title=rng.choice(titles).format(ci=ci.name),
                    implementation_plan=PLANS[0],
                    backout_plan=PLANS[1],
                    test_plan=PLANS[2],
                    change_manager=self.users["manager.mx"] if code == "MX" else None,
                    created_at=created,
                )
                minutes = rng.choice([60, 120, 180, 240])
        self.lifecycle(change, actor, created, country, minutes, force_failure, plan_at=moment)
        return change

    def lifecycle(
        self, change, actor, created, country, minutes, force_failure, plan_at=None
    ) -> None:
        rng = self.rng
        at = min(created + timedelta(minutes=rng.randint(5, 90)), self.now)
        if change.type == ChangeType.EMERGENCY:
            start = max(at, plan_at or at) + timedelta(hours=rng.randint(1, 6))
            end = start + timedelta(minutes=minutes)
        else:
            start, end = self._window(plan_at or created, country, minutes)
        if plan_at is not None and plan_at > self.now and rng.random() < 0.25:
            if change.type == ChangeType.NORMAL and rng.random() < 0.5:
                with frozen_now(at):
                    services.transition(change, Status.ASSESS, actor=actor, now=at)
            return  # still being prepared
        with frozen_now(at):
            if change.type != ChangeType.STANDARD:
                answers = {
                    q.key: rng.choices(q.answers, weights=[75, 20, 5])[0][0] for q in risk.QUESTIONS
                }
                if change.type == ChangeType.NORMAL:
                    services.transition(change, Status.ASSESS, actor=actor, now=at)
                services.assess_risk(change, actor=actor, answers=answers)
            self._schedule(change, actor, start, end)
            change.refresh_from_db()
            if rng.random() < 0.04 and not force_failure:
                services.transition(
                    change, Status.CANCELLED, actor=actor, now=at, note="No longer needed."
                )
                return
            if change.type == ChangeType.STANDARD:
                services.transition(change, Status.SCHEDULED, actor=actor, now=at)
            else:
                services.transition(change, Status.AUTHORISE, actor=actor, now=at)
        if change.type != ChangeType.STANDARD:
            decided_at = at + timedelta(hours=rng.randint(1, 3 if change.is_emergency else 60))
            if decided_at > self.now:
                return  # still with the CAB
            reject = rng.random() < 0.06 and not force_failure
            self.approve(change, decided_at, reject)
            change.refresh_from_db()
            if change.status != Status.SCHEDULED:
                return
        change.refresh_from_db()
        if change.planned_start > self.now:
            return  # scheduled, coming up
        with frozen_now(change.planned_start):
            services.transition(change, Status.IMPLEMENT, actor=actor, now=change.planned_start)
        failed = force_failure or rng.random() < 0.03
        outcome = (
            rng.choice([CloseCode.FAILED, CloseCode.BACKED_OUT])
            if failed
            else CloseCode.SUCCESSFUL_WITH_ISSUES
            if rng.random() < 0.08
            else CloseCode.SUCCESSFUL
        )
        done = min(change.planned_end, self.now)
        with frozen_now(done):
            services.transition(
                change,
                Status.REVIEW,
                actor=actor,
                close_code=outcome,
                now=done,
                close_notes="Implemented as planned."
                if not failed
                else "Service errors after the change; backed out.",
            )
        if failed:
            self.caused_incidents(change, done)
        review_at = done + timedelta(days=rng.randint(1, 5))
        if review_at > self.now:
            return
        with frozen_now(review_at):
            change.refresh_from_db()
            if change.needs_review:
                services.update_change(
                    change,
                    actor=self.users["manager.mx"],
                    version=change.version,
                    review_notes=(
                        "Went as planned; no incident linked."
                        if not failed
                        else "Failed: the test plan did not cover the integration; incidents "
                        "linked below. Action: add the interface test to the template."
                    ),
                )
            services.transition(change, Status.CLOSED, actor=actor, now=review_at)

    def approve(self, change, at: datetime, reject: bool) -> None:
        """The approvers decide one after the other until the policies settle."""
        from .models import Approval

        with frozen_now(at):
            while True:
                approval = (
                    Approval.objects.filter(
                        request__change=change, request__state="requested", state="requested"
                    )
                    .select_related("approver")
                    .order_by("request_id", "id")
                    .first()
                )
                if approval is None:
                    return
                services.decide(
                    change,
                    actor=approval.approver,
                    decision="rejected" if reject else "approved",
                    comment="Not before the audit; re-plan after month-end."
                    if reject
                    else self.rng.choice(["", "OK", "Approved at the CAB meeting."]),
                    now=at,
                )
                if reject:
                    return

    def caused_incidents(self, change, at: datetime) -> None:
        from itsmo.incidents import services as incidents

        ci = CI.objects.filter(change_links__change=change).first()
        callers = [u for u in self.end_users if u.country_id == change.country_id] or (
            self.end_users[:5]
        )
        if not callers:
            return
        for offset in range(self.rng.randint(1, 3)):
            opened = at + timedelta(minutes=10 + 25 * offset)
            with frozen_now(opened):
                incident = incidents.open_incident(
                    caller=self.rng.choice(callers),
                    actor=None,
                    channel="phone",
                    short_description=f"Errors on {ci.name if ci else 'the service'} since "
                    "last night's change",
                    impact=2,
                    urgency=2,
                    ci=ci,
                    country=change.country,
                    opened_at=opened,
                )
                incidents.update_incident(
                    incident, actor=None, version=incident.version, caused_by_change=change
                )
            resolved = opened + timedelta(hours=2)
            if resolved < self.now:
                with frozen_now(resolved):
                    incidents.transition(
                        incident,
                        "resolved",
                        actor=None,
                        resolution_code="resolved_by_change",
                        resolution_notes=f"{change.number} backed out; service restored.",
                        now=resolved,
                    )

    def central_change(self, created: datetime):
        """A normal change to a central application (touches many countries)."""
        central = self.ctx.data.get("cmdb_central") or {}
        choices = [(central[name], title) for name, title in CENTRAL_TITLES if name in central]
        if not choices:
            return None
        ci, title = self.rng.choice(choices)
        mexico = self.countries.get("MX")
        actor = self.users["manager.mx"]
        with frozen_now(created):
            change = services.create_change(
                actor=actor,
                type=ChangeType.NORMAL,
                country=mexico or ci.country,
                cis=[ci],
                title=title,
                implementation_plan=PLANS[0],
                backout_plan=PLANS[1],
                test_plan=PLANS[2],
                change_manager=actor,
                created_at=created,
            )
        self.lifecycle(change, actor, created, mexico or ci.country, 240, False)
        return change

    def releases(self, bundles) -> None:
        actor = self.users["manager.mx"]
        services_by_code = self.ctx.data.get("services", {})
        regions = self.ctx.data["regions"]
        plans = [
            ("Route Sales", "5.4", "route-sales", -60),
            ("ERP support package", "2026.2", "sap-sales", 20),
        ]
        for index, (name, version, service_code, offset_days) in enumerate(plans):
            changes = [c for c in bundles[index::2] if c is not None]
            created = self.now + timedelta(days=offset_days - 20)
            with frozen_now(created):
                release = services.create_release(
                    actor=actor,
                    name=name,
                    version_label=version,
                    description=f"{name} {version}, deployed region by region.",
                    service=services_by_code.get(service_code),
                    manager=actor,
                    changes=changes,
                )
                for step_index, region in enumerate(regions.values()):
                    start = self.now + timedelta(days=offset_days + 7 * step_index)
                    services.plan_deployment(
                        release,
                        actor=actor,
                        planned_start=start,
                        planned_end=start + timedelta(hours=4),
                        region=region,
                    )
            for deployment in release.deployments.all():
                if deployment.planned_end < self.now:
                    with frozen_now(deployment.planned_end):
                        services.set_deployment_status(
                            deployment,
                            DeploymentStatus.DEPLOYED,
                            actor=actor,
                            now=deployment.planned_end,
                        )


@step("changes", after=["incidents"])
def load_changes(ctx: DemoContext) -> None:
    now = timezone.now().replace(microsecond=0)
    demo = ChangeDemo(ctx, now)
    demo.boards()
    demo.templates()
    demo.blackouts()
    count = COUNTS[ctx.scale]
    start = now - timedelta(days=31 * MONTHS)
    span = (now + timedelta(days=FUTURE_DAYS) - start).total_seconds()
    moments = sorted(start + timedelta(seconds=ctx.random.random() * span) for _ in range(count))
    failures = set(
        ctx.random.sample(
            [i for i, m in enumerate(moments) if m < now - timedelta(days=20)],
            CAUSED_INCIDENTS[ctx.scale],
        )
    )
    for index, created in enumerate(moments):
        demo.one(created, force_failure=index in failures)
    bundles = [demo.central_change(now - timedelta(days=d)) for d in (75, 70, 12, 8, 5, 3)]
    demo.releases(bundles)
    ctx.data["change_count"] = count + len(bundles)
