"""The operators' workbench: its page and what the page needs to start (where each API is, the province's
transfer reasons and materials checklist). Everything else the page asks of the services' own APIs."""

from __future__ import annotations

from functools import cache
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse

from xueji_notify.api.common import STATIC, notify_of

page = APIRouter(tags=["workbench"])

# R30 (002 III.5): what a transfer application carries, when the policy file names no checklist (an older one).
DEFAULT_MATERIALS = (
    {"kind": "registration_form", "required": True, "zh": "转学申请登记表（监护人签字，附件4）",
     "en": "Transfer application form signed by the guardian (Annex 4)"},
    {"kind": "household_register", "required": True, "zh": "户口簿或居住证明",
     "en": "Household register or residence proof"},
    {"kind": "reason_proof", "required": False, "zh": "户籍未变动时的转学理由证明",
     "en": "Proof of the reason, where the household register is unchanged"},
    {"kind": "status_change_proof", "required": False, "zh": "曾有学籍异动的证明（如休学、留级）",
     "en": "Proof of earlier status changes (suspension, repetition), if any"},
    {"kind": "status_basic_info", "required": True, "zh": "学籍基本信息表（转出学校打印盖章）",
     "en": "Basic status information sheet (printed and stamped by the sending school)"},
)  # fmt: skip
CERTIFICATE_IMAGE = {"kind": "certificate_image", "required": True, "when": "always", "clause": "002 III.6(3)",
                     "zh": "转学证明原件照片（第3步前上传）",
                     "en": "Photo of the original transfer certificate (before step 3)"}  # fmt: skip


@page.get("/workbench", include_in_schema=False)
async def workbench_page() -> FileResponse:
    return FileResponse(STATIC / "workbench.html", headers={"Cache-Control": "no-cache"})


@cache
def _policy(province: str, policy_file: str | None) -> dict[str, Any]:
    from xueji_contracts.policy import load_policy

    policy = load_policy(policy_file or province)
    dumped = policy.model_dump(mode="json")
    listed = (dumped.get("transfer_materials") or {}).get("required")
    materials = [{**m, "required": m.get("when", "always") == "always"} for m in listed] if listed else []
    materials = materials or [m for m in DEFAULT_MATERIALS if m["kind"] != "certificate_image"]
    materials.append(CERTIFICATE_IMAGE)  # not an application material, but step 3 needs it (002 III.6.3)
    return {
        "province": policy.code,
        "name": policy.name_zh or policy.name,
        "reasons": dumped["reasons"],
        "materials": materials,
        "stage_working_days": policy.sla.stage_working_days,
    }


@page.get("/workbench/config.json", include_in_schema=False)
async def workbench_config(request: Request) -> dict[str, Any]:
    """Public, like the page itself: API addresses and the province policy's published parts, nothing personal."""
    settings = notify_of(request).settings
    apis = {
        "registry": settings.workbench_registry_url,
        "transfer": settings.workbench_transfer_url,
        "dedupe": settings.workbench_dedupe_url,
        "notify": settings.workbench_notify_url,
    }
    file = str(settings.policy_file) if settings.policy_file else None
    return {
        "apis": {k: v.rstrip("/") for k, v in apis.items()},
        "refresh_url": settings.workbench_token_refresh_url,
        "exchange_url": settings.workbench_token_exchange_url,
        "policy": _policy(settings.province, file),
    }
