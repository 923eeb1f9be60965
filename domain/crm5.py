"""What the 5CRM deal button makes for a lead, step by step; each step's name is stored
with the lead once it is done, so a retried job resumes after the last one."""

from __future__ import annotations

from enum import StrEnum


class Crm5Step(StrEnum):
    DEAL = "deal"  # public/deal/add
    FORM = "form"  # ctm/form/send, instead of the deal when the site says so
    COMPANY = "company"
    CONTACT = "contact"
    TASK = "task"
