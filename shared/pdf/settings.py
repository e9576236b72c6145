"""Who signs a service's PDF reports (environment: TEPAT_<SERVICE>_REPORT_SIGNATORY_NAME and so on)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings

from shared.pdf.document import Signatory


class SignatorySettings(BaseSettings):
    """The signature block of the reports: place, jabatan, name and NIP (placeholders until configured)."""

    report_place: str = Field(default="Padang", min_length=1, max_length=60)
    report_signatory_title: str = Field(default="Kepala Dinas Sosial Kota Padang", min_length=1, max_length=120)
    report_signatory_name: str = Field(default="(nama kepala dinas)", min_length=1, max_length=120)
    report_signatory_nip: str = Field(default="-", pattern=r"^(-|[0-9 ]{18,21})$")

    def signatory(self) -> Signatory:
        """The configured signatory."""
        return Signatory(
            place=self.report_place,
            title=self.report_signatory_title,
            name=self.report_signatory_name,
            nip=self.report_signatory_nip,
        )
