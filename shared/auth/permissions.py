"""The permission table: which role may do what, kept in this one place."""

from __future__ import annotations

from enum import StrEnum

from shared.auth.principal import Role


class Permission(StrEnum):
    """Actions guarded by role (wilayah scope is checked separately, per record)."""

    READ_HOUSEHOLD = "read households"
    WRITE_HOUSEHOLD = "change households"
    READ_FULL_IDENTIFIERS = "read unmasked NIK and No. KK"
    READ_SENSITIVE = "read sensitive personal data"
    READ_PERSONAL_DATA = "read members' names, addresses and birth details (others see them masked)"
    IMPORT_DATA = "import national extracts and external lists"
    RESOLVE_FLAG = "confirm or refute data-quality flags"
    READ_AGGREGATES = "read aggregates"
    CORRECT_RECORD = "make audited corrections (e.g. undo a recorded death)"
    FIX_IMPORT_ROW = "list, fix or dismiss extract rows in the correction queue"
    READ_AUDIT = "read audit logs"
    OPERATE = "run operations commands"
    # verification (usulan, sanggah, ground checks, pengesahan)
    READ_VERIFICATION = "read proposals, objections, ground checks and batches"
    PROPOSE = "enter proposals and deliberation (muskel) results"
    REVIEW_PROPOSAL = "check proposals for completeness"
    RECORD_OBJECTION = "record objections (sanggah)"
    DECIDE_OBJECTION = "uphold or reject objections"
    MANAGE_GROUND_CHECKS = "run revalidation campaigns, cancel ground checks"
    MANAGE_OFFICERS = "register officers and the facts controls rely on (their own family)"
    ASSIGN_GROUND_CHECK = "assign ground checks to field officers"
    VISIT = "submit ground-check visits"
    APPROVE_GROUND_CHECK = "approve or return ground checks"
    UPLOAD_EVIDENCE = "upload evidence files (visit photos, sanggah photos, minutes, lists)"
    PREPARE_RATIFICATION = "prepare ratification batches"
    RATIFY = "ratify batches (pengesahan)"
    MANAGE_CONTACTS = "record a family's phone / e-mail for notifications and its opt-out"
    RECORD_COMPLAINT = "take complaints (pengaduan) at the counter, by phone, in the kelurahan or the field"
    FORWARD_COMPLAINT = "forward complaints from the SMS/WhatsApp gateway and LAPOR! (system clients)"
    HANDLE_COMPLAINT = "assign, act on and close complaints; read a complainant's contact (audited)"
    # disbursement (programmes, tahap, payment lines, reconciliation)
    READ_PAYMENTS = "read programmes, tahap lists, payment lines and their reports"
    MANAGE_PROGRAMMES = "define programmes and eligibility rule versions"
    PREPARE_TAHAP = "create tahap and generate their lists"
    APPROVE_TAHAP = "approve tahap lists and decide on held payment lines"
    IMPORT_PAYER_REPORT = "import bank, Pos and ministry payment status reports"
    RESOLVE_BREAK = "resolve reconciliation breaks"
    # The gateway's public Cek Bansos page asks the registry and disbursement with a token of its own.
    STATUS_CHECK = "answer the public status check (which programme, payment status) for the gateway"


_ALL_READ = {Permission.READ_HOUSEHOLD, Permission.READ_AGGREGATES, Permission.READ_VERIFICATION}
# Names and addresses go to the roles that meet the families (field officers, kelurahan staff) or decide on them
# one by one (verifikator); kepala dinas, auditor and system clients work on lists and aggregates and see them
# masked (an auditor may reveal with a purpose, audited like a NIK reveal).
_PERSONAL = {Permission.READ_PERSONAL_DATA}
_TABLE: dict[Role, frozenset[Permission]] = {
    Role.OPERATOR_KELURAHAN: frozenset(_ALL_READ | _PERSONAL | {Permission.WRITE_HOUSEHOLD, Permission.FIX_IMPORT_ROW}),
    Role.LURAH: frozenset(_ALL_READ | _PERSONAL),
    Role.PSM: frozenset(_ALL_READ | _PERSONAL),
    Role.TKSK: frozenset(
        _ALL_READ | _PERSONAL | {Permission.READ_FULL_IDENTIFIERS, Permission.READ_SENSITIVE, Permission.FIX_IMPORT_ROW}
    ),
    Role.PENDAMPING_PKH: frozenset(_ALL_READ | _PERSONAL | {Permission.READ_SENSITIVE}),
    Role.VERIFIKATOR: frozenset(
        _ALL_READ
        | _PERSONAL
        | {
            Permission.WRITE_HOUSEHOLD,
            Permission.READ_FULL_IDENTIFIERS,
            Permission.READ_SENSITIVE,
            Permission.IMPORT_DATA,
            Permission.RESOLVE_FLAG,
            Permission.CORRECT_RECORD,
            Permission.FIX_IMPORT_ROW,
        }
    ),
    Role.KEPALA_DINAS: frozenset(_ALL_READ),
    Role.AUDITOR: frozenset(_ALL_READ | {Permission.READ_AUDIT, Permission.READ_FULL_IDENTIFIERS}),
    Role.SYSTEM: frozenset(
        {Permission.READ_AGGREGATES, Permission.IMPORT_DATA, Permission.OPERATE, Permission.STATUS_CHECK}
    ),
}

# Verification's grants, kept in one block so edits for other services above do not collide with them.
_VERIFICATION_GRANTS: dict[Role, set[Permission]] = {
    Role.OPERATOR_KELURAHAN: {
        Permission.PROPOSE,
        Permission.RECORD_OBJECTION,
        Permission.UPLOAD_EVIDENCE,
        Permission.MANAGE_CONTACTS,
        Permission.RECORD_COMPLAINT,
    },
    Role.LURAH: {Permission.PROPOSE, Permission.UPLOAD_EVIDENCE, Permission.RECORD_COMPLAINT},
    Role.PSM: {Permission.VISIT, Permission.UPLOAD_EVIDENCE, Permission.RECORD_COMPLAINT},
    Role.TKSK: {
        Permission.VISIT,
        Permission.ASSIGN_GROUND_CHECK,
        Permission.UPLOAD_EVIDENCE,
        Permission.RECORD_COMPLAINT,
    },
    Role.PENDAMPING_PKH: {Permission.VISIT, Permission.UPLOAD_EVIDENCE, Permission.RECORD_COMPLAINT},
    Role.VERIFIKATOR: {
        Permission.RECORD_COMPLAINT,
        Permission.HANDLE_COMPLAINT,
        Permission.PROPOSE,
        Permission.REVIEW_PROPOSAL,
        Permission.RECORD_OBJECTION,
        Permission.DECIDE_OBJECTION,
        Permission.MANAGE_GROUND_CHECKS,
        Permission.ASSIGN_GROUND_CHECK,
        Permission.APPROVE_GROUND_CHECK,
        Permission.PREPARE_RATIFICATION,
        Permission.UPLOAD_EVIDENCE,
        Permission.MANAGE_CONTACTS,
    },
    # Officer records feed the four-eyes rule, so the approvers (verifikator) may not edit them: a higher role does.
    Role.KEPALA_DINAS: {
        Permission.PREPARE_RATIFICATION,
        Permission.RATIFY,
        Permission.MANAGE_OFFICERS,
        Permission.UPLOAD_EVIDENCE,
        Permission.HANDLE_COMPLAINT,  # the second escalation of an overdue complaint reaches the kepala dinas
    },
    # citizen app and digital agents file proposals and objections (with their photos) as system clients
    Role.SYSTEM: {
        Permission.READ_VERIFICATION,
        Permission.PROPOSE,
        Permission.RECORD_OBJECTION,
        Permission.UPLOAD_EVIDENCE,
        Permission.MANAGE_CONTACTS,
        Permission.RECORD_COMPLAINT,
        Permission.FORWARD_COMPLAINT,
    },
}
for _role, _granted in _VERIFICATION_GRANTS.items():
    _TABLE[_role] = _TABLE.get(_role, frozenset()) | _granted

# Disbursement's grants, in their own block for the same reason.
_DISBURSEMENT_GRANTS: dict[Role, set[Permission]] = {
    Role.OPERATOR_KELURAHAN: {Permission.READ_PAYMENTS},
    Role.LURAH: {Permission.READ_PAYMENTS},
    Role.TKSK: {Permission.READ_PAYMENTS},
    Role.PENDAMPING_PKH: {Permission.READ_PAYMENTS},
    Role.VERIFIKATOR: {
        Permission.READ_PAYMENTS,
        Permission.MANAGE_PROGRAMMES,
        Permission.PREPARE_TAHAP,
        Permission.APPROVE_TAHAP,
        Permission.IMPORT_PAYER_REPORT,
        Permission.RESOLVE_BREAK,
    },
    Role.KEPALA_DINAS: {
        Permission.READ_PAYMENTS,
        Permission.MANAGE_PROGRAMMES,
        Permission.APPROVE_TAHAP,
        Permission.RESOLVE_BREAK,
    },
    Role.AUDITOR: {Permission.READ_PAYMENTS},
    # bank / Pos / ministry connectors push status reports as system clients
    Role.SYSTEM: {Permission.READ_PAYMENTS, Permission.IMPORT_PAYER_REPORT},
}
for _role, _granted in _DISBURSEMENT_GRANTS.items():
    _TABLE[_role] = _TABLE.get(_role, frozenset()) | _granted


def allowed(role: Role, permission: Permission) -> bool:
    """Does `role` hold `permission`?"""
    return permission in _TABLE.get(role, frozenset())


def permissions_of(role: Role) -> frozenset[Permission]:
    """Everything a role may do (for docs and the authorisation matrix test)."""
    return _TABLE.get(role, frozenset())
