"""interprovince.file.v1 -> a student arriving from another province starts (or resumes) the record here (R34)."""

from __future__ import annotations

from faststream import Context

from xueji_contracts.auth import OperatorClaims, Role, province_of
from xueji_contracts.calendar.deadlines import local_date
from xueji_contracts.division import Division
from xueji_contracts.envelope import Envelope, derive_id
from xueji_contracts.messages.status_file import StatusFileTransferred
from xueji_registry.domain import RecordTransferIn
from xueji_registry.domain.periods import school_year_of
from xueji_registry.numbers.supplementary import request_supplementary
from xueji_registry.service import RegistryService
from xueji_registry.status_files import arrival_of


async def on_status_file(
    message: Envelope[StatusFileTransferred], service: RegistryService = Context("registry")
) -> None:
    file = message.payload
    if province_of(file.receiving_school) != service.province:
        return  # addressed to another province (our own files read back, or a mirror that carries all)
    # The same transfer id as the case's own completion message: whichever comes second changes nothing.
    command = RecordTransferIn(
        operator=OperatorClaims(
            sub="transfer-service", role=Role.COUNTY, code=Division.parse(file.receiving_school).county.code
        ),
        reason=f"transfer {file.transfer_id} from {file.sending_school}: electronic status file received",
        transfer_id=file.transfer_id,
        receiving_school=file.receiving_school,
        arrival=arrival_of(file),
        progression_grade=file.progression_grade,
    )
    commit_id = str(derive_id(message.message_id, "status-file"))
    # R07: a student transferring into the province for the first time gets a number from the receiving school, and
    # a graduate moving on here is its freshman (the new segment's number). One who studied this segment here
    # before kept the number on the record, and asks for none.
    extra = request_supplementary(service, school_year_of(local_date(message.occurred_at)), message.correlation_id)
    await service.execute(file.student_id, commit_id, command, correlation_id=message.correlation_id, extra=extra)
