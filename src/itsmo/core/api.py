"""API for what every record shares: its timeline (the journal)."""

from datetime import datetime

from ninja import Router, Schema
from ninja.pagination import paginate

from itsmo.api.pagination import PagePagination

from . import journal, registry

router = Router(tags=["journal"])


class ActorOut(Schema):
    id: int
    username: str
    display_name: str

    @staticmethod
    def resolve_display_name(obj) -> str:
        return str(obj)


class JournalEntryOut(Schema):
    id: int
    kind: str
    field: str
    old_value: str
    new_value: str
    body: str
    is_public: bool
    actor: ActorOut | None
    occurred_at: datetime
    recorded_at: datetime


@router.get(
    "/journal/{record_type}/{record_id}",
    response=list[JournalEntryOut],
    summary="A record's timeline",
    description=(
        "Field changes, state changes, comments and work notes of one record, oldest first. "
        "`record_type` is a registered name such as `support-group` or `user`. Work notes "
        "(internal) are shown to staff roles only. A record you may not see is a 404."
    ),
)
@paginate(PagePagination)
def record_timeline(request, record_type: str, record_id: int):
    record = registry.get_visible(record_type, record_id, request.user)
    return journal.timeline(record, include_internal=request.user.is_staff_member)
