"""The fakes' fixtures, for the clients' tests."""

from testkit.fakes.fixtures import comunik8_fake, crm5_fake, flexbe_fake, sleeps

__all__ = ["comunik8_fake", "crm5_fake", "flexbe_fake", "sleeps"]
