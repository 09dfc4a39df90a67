"""/v1/whatsapp-accounts and /v1/phone-numbers: connect numbers step by step, read and refresh them.

The steps are the dashboard wizard's (softdukan/number/onboarding.py). A refusal by Meta is a 422 naming
Meta's code and message (`details.meta_code`, `details.meta_message`); Meta unreachable is a 502.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from softdukan.kit.ids import PathId
from softdukan.number.graph import bind_local_app
from softdukan.number.onboarding import onboarding_service
from softdukan.number.schemas import (
    AccountOut,
    AddNumberIn,
    CoexistenceIn,
    DisplayNameIn,
    HistoryImportIn,
    PhoneNumberOut,
    RegisterIn,
    RequestCodeIn,
    SignupIn,
    VerifyCodeIn,
    account_out,
    number_out,
)
from softdukan.number.service import number_service
from softdukan.platform.deps import Requires, UoW
from softdukan.platform.http import error_responses

router = APIRouter(tags=["phone numbers"], dependencies=[Depends(bind_local_app)])
STEP_ERRORS = error_responses(404, 409, 502)


@router.get("/whatsapp-accounts", response_model=list[AccountOut], responses=error_responses())
async def list_accounts(uow: UoW, subject: Requires["numbers:read"]) -> list[AccountOut]:
    return [account_out(a) for a in await number_service.accounts(uow, subject)]


@router.post("/whatsapp-accounts", response_model=AccountOut, status_code=201, responses=error_responses(409, 502))
async def connect_account(body: SignupIn, uow: UoW, subject: Requires["numbers:write"]) -> AccountOut:
    """Step 1 of "Connect WhatsApp": the business portfolio and WhatsApp Business account (embedded signup)."""
    account = await onboarding_service.connect_account(uow, subject, business_name=body.business_name,
                                                       waba_name=body.waba_name, code=body.code,
                                                       waba_id=body.waba_id, business_id=body.business_id)
    return account_out(account)


@router.get("/whatsapp-accounts/{account_id}", response_model=AccountOut, responses=error_responses(404))
async def get_account(account_id: PathId, uow: UoW, subject: Requires["numbers:read"]) -> AccountOut:
    return account_out(await number_service.get_account(uow, subject, account_id))


@router.post("/whatsapp-accounts/{account_id}/phone-numbers", response_model=PhoneNumberOut, status_code=201,
             responses=STEP_ERRORS)
async def add_number(account_id: PathId, body: AddNumberIn, uow: UoW, subject: Requires["numbers:write"]
                     ) -> PhoneNumberOut:
    """Add a new number, or start migrating one from another provider (`migrate: true`)."""
    return number_out(await onboarding_service.add_number(uow, subject, account_id, phone_number=body.phone_number,
                                                          verified_name=body.verified_name, migrate=body.migrate))


@router.post("/phone-numbers/coexistence", response_model=PhoneNumberOut, status_code=201,
             responses=error_responses(409, 502))
async def connect_coexistence(body: CoexistenceIn, uow: UoW, subject: Requires["numbers:write"]) -> PhoneNumberOut:
    """Bring a WhatsApp Business app number (coexistence: no registration, fixed 20 messages/s)."""
    return number_out(await onboarding_service.connect_coexistence(
        uow, subject, business_name=body.business_name, waba_name=body.waba_name, phone_number=body.phone_number,
        code=body.code, waba_id=body.waba_id, business_id=body.business_id, phone_number_id=body.phone_number_id))


@router.get("/phone-numbers", response_model=list[PhoneNumberOut], responses=error_responses())
async def list_numbers(uow: UoW, subject: Requires["numbers:read"]) -> list[PhoneNumberOut]:
    return [number_out(v) for v in await number_service.list(uow, subject)]


@router.get("/phone-numbers/{number_id}", response_model=PhoneNumberOut, responses=error_responses(404))
async def get_number(number_id: PathId, uow: UoW, subject: Requires["numbers:read"]) -> PhoneNumberOut:
    return number_out(await number_service.get(uow, subject, number_id))


@router.post("/phone-numbers/{number_id}/request-code", response_model=PhoneNumberOut, responses=STEP_ERRORS)
async def request_code(number_id: PathId, body: RequestCodeIn, uow: UoW, subject: Requires["numbers:write"]
                       ) -> PhoneNumberOut:
    return number_out(await onboarding_service.request_code(uow, subject, number_id, method=body.method,
                                                            language=body.language))


@router.post("/phone-numbers/{number_id}/verify-code", response_model=PhoneNumberOut, responses=STEP_ERRORS)
async def verify_code(number_id: PathId, body: VerifyCodeIn, uow: UoW, subject: Requires["numbers:write"]
                      ) -> PhoneNumberOut:
    return number_out(await onboarding_service.verify_code(uow, subject, number_id, body.code))


@router.post("/phone-numbers/{number_id}/register", response_model=PhoneNumberOut, responses=STEP_ERRORS)
async def register(number_id: PathId, body: RegisterIn, uow: UoW, subject: Requires["numbers:write"]
                   ) -> PhoneNumberOut:
    return number_out(await onboarding_service.register(uow, subject, number_id, body.pin))


@router.post("/phone-numbers/{number_id}/subscribe", response_model=PhoneNumberOut, responses=STEP_ERRORS)
async def subscribe(number_id: PathId, uow: UoW, subject: Requires["numbers:write"]) -> PhoneNumberOut:
    return number_out(await onboarding_service.subscribe(uow, subject, number_id))


@router.post("/phone-numbers/{number_id}/display-name", response_model=PhoneNumberOut, responses=STEP_ERRORS)
async def display_name(number_id: PathId, body: DisplayNameIn, uow: UoW, subject: Requires["numbers:write"]
                       ) -> PhoneNumberOut:
    return number_out(await onboarding_service.set_display_name(uow, subject, number_id, body.display_name))


@router.post("/phone-numbers/{number_id}/history-import", response_model=PhoneNumberOut, responses=STEP_ERRORS)
async def history_import(number_id: PathId, body: HistoryImportIn, uow: UoW, subject: Requires["numbers:write"]
                         ) -> PhoneNumberOut:
    return number_out(await onboarding_service.history_import(uow, subject, number_id, accept=body.accept))


@router.post("/phone-numbers/{number_id}/finish", response_model=PhoneNumberOut, responses=STEP_ERRORS)
async def finish(number_id: PathId, uow: UoW, subject: Requires["numbers:write"]) -> PhoneNumberOut:
    return number_out(await onboarding_service.finish(uow, subject, number_id))


@router.post("/phone-numbers/{number_id}/refresh", response_model=PhoneNumberOut, responses=STEP_ERRORS)
async def refresh(number_id: PathId, uow: UoW, subject: Requires["numbers:write"]) -> PhoneNumberOut:
    """Read status, quality, messaging limit, throughput and display-name status from Meta now."""
    return number_out(await number_service.refresh(uow, subject, number_id))


@router.post("/phone-numbers/{number_id}/default", response_model=PhoneNumberOut, responses=error_responses(404))
async def make_default(number_id: PathId, uow: UoW, subject: Requires["numbers:write"]) -> PhoneNumberOut:
    """Use this number for business-initiated messages unless another is chosen."""
    return number_out(await number_service.make_default(uow, subject, number_id))
