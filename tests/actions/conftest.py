"""The fakes' fixtures, for the button jobs' tests."""

from testkit.fakes.fixtures import crm5_fake

__all__ = ["crm5_fake"]
