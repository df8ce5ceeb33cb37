from __future__ import annotations

import uuid

from pydantic import Field

from app.schemas import IsoDateTime, ReadModel, StrictModel


class CalendarFeedCreate(StrictModel):
    case_manager: str = Field(
        min_length=1,
        max_length=200,
        description="The case manager as named on cases (`case_manager`): the feed holds their deadlines.",
        examples=["m.jansen"],
    )


class CalendarFeedRead(ReadModel):
    id: uuid.UUID
    case_manager: str
    token_prefix: str = Field(description="The first characters of the feed's token, to recognise it.")
    created_at: IsoDateTime


class CalendarFeedCreated(CalendarFeedRead):
    url: str = Field(
        description="The feed's address (text/calendar) with its secret token. Shown once: only the "
        "token's hash is stored. Anyone with the URL can read the feed; delete the feed to revoke it.",
        examples=["https://poortwachter.example.com/calendar/pwc_Yq3….ics"],
    )
