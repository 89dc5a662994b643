"""API for CMDB import and export: ``POST /cmdb/import``, ``GET /cmdb/export.csv``."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from ninja import File, Form, Query, Router, Schema
from ninja.files import UploadedFile

from itsmo.core.errors import ValidationFailed

from . import export, importer, services
from .models import CIStatus

router = Router(tags=["cmdb"])

TRUE_WORDS = {"1", "true", "yes", "on"}


class RowErrorOut(Schema):
    line: int | None
    field: str | None
    reason: str


class ImportReportOut(Schema):
    kind: str
    format: str
    dry_run: bool
    partial: bool
    committed: bool
    rows: int
    created: int
    updated: int
    unchanged: int
    relationships_created: int
    relationships_unchanged: int
    rejected: int
    stopped_early: bool
    seconds: float
    errors: list[RowErrorOut]


def _flag(request, name: str, form_value: bool | None) -> bool:
    if form_value is not None:
        return form_value
    return request.GET.get(name, "").strip().lower() in TRUE_WORDS


@router.post(
    "/cmdb/import",
    response=ImportReportOut,
    summary="Import CIs or relationships",
    description=(
        "Multipart upload of one CSV or JSON file (field `file`; formats in "
        "docs/cmdb-import.md). CIs are upserted by their identity (class + serial, else "
        "class + name + site). All or nothing unless `partial`; `dry_run` validates and "
        "writes nothing. The answer is the report: counts and every rejected row with its "
        "line, field and reason (`committed` says whether anything was written). A file "
        "that is not a usable CSV/JSON is a 422 naming `file`."
    ),
)
def import_cis(
    request,
    file: File[UploadedFile] = None,
    dry_run: Form[bool] = None,
    partial: Form[bool] = None,
    format: Form[str] = None,
):
    services._require_staff(request.user)
    if file is None:
        raise ValidationFailed(
            "send the file to import in the multipart field 'file'", field="file"
        )
    fmt = format or request.GET.get("format") or None
    report = importer.import_file(
        file.open("rb"),
        actor=request.user,
        fmt=fmt,
        filename=file.name or "",
        dry_run=_flag(request, "dry_run", dry_run),
        partial=_flag(request, "partial", partial),
    )
    return report.as_dict()


class ExportFilters(Schema):
    ci_class: str | None = None
    country: str | None = None
    status: CIStatus | None = None
    site: str | None = None
    relationships: bool = False


@router.get(
    "/cmdb/export.csv",
    summary="Export CIs as CSV",
    response={200: None},
    description=(
        "The CIs you may see, in the import format (filters: `class`, `country`, `status`, "
        "`site`). With `relationships=true`, the relationships between those CIs instead."
    ),
    openapi_extra={"responses": {"200": {"description": "CSV", "content": {"text/csv": {}}}}},
)
def export_csv(
    request,
    filters: Query[ExportFilters],
    ci_class: str | None = Query(None, alias="class", description="CI class code"),
):
    services._require_staff(request.user)
    status = filters.status.value if filters.status is not None else None
    cis = export.filtered_cis(
        request.user,
        ci_class=ci_class or filters.ci_class,
        country=filters.country,
        status=status,
        site=filters.site,
    )
    if filters.relationships:
        rows, name = export.relationship_rows(cis), "relationships.csv"
    else:
        rows, name = export.ci_rows(cis, export.attribute_names(cis)), "cis.csv"
    response = StreamingHttpResponse(export.stream_csv(rows), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
