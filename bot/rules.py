"""Speed-to-lead rules at work: the handler of `rules.apply`, enqueued with a new lead.

The first of its site's rules (`config.rules_of`) that matches the lead acts on it, through
the buttons' own jobs and dedupe keys (`bot.jobs`, `bot.owners`): a manager's later tap
on the same button finds the job there and asks for nothing more, and the card's history
says the rule did it ("Rule «Night calls»: Call now: done"); Cancel call undoes a call as
it undoes a tap's. A call outside working hours rings at the next working minute, a
delayed one after its wait in working time (`config.working_time`).

The lead is locked while the rule acts, so a first card being saved at that moment
either is refreshed by the rule or sees the rule's actions (`storage.queries.cards`).
A rerun of the job (a crash before it was marked done) finds each action's job made.
`offer:` starts a round of offers (`bot.offers`); a lead taken back is handed out again by
a rule that hands leads out in turn (`redistribute`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot import jobs
from bot.config import BotConfig
from bot.distribution import next_in_turn, tell_nobody_on_shift
from bot.offers import offer_next
from bot.owners import assignee, hand_over
from config.rules import LeadFacts, Rule, RuleAction, RuleActionKind, first_match
from config.shifts import shift_of
from config.working_time import WorkingHours
from domain.calls import call_action, call_at_action, seconds_until
from domain.jobs import ActionPayload, LeadTimerPayload, RedistributePayload
from domain.rules import rule_actor
from domain.statuses import LeadStatus
from integrations.phones import normalize_phone
from storage.database import Database
from storage.models import Lead, LeadOrigin, Manager
from storage.queries.cards import cancelled_calls, lock_lead
from storage.queries.offers import next_step
from storage.queries.repeats import Repeat, find_repeat

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


class LeadRules:
    def __init__(self, *, database: Database, config: BotConfig, clock: Clock) -> None:
        """`clock`: the worker's, for when a call should ring."""
        self.database = database
        self.config = config
        self.clock = clock

    async def apply(self, job: LeadTimerPayload) -> None:
        async with self.database.write() as session:
            lead = await lock_lead(session, job.lead_id)
            if lead is None or lead.id is None or not LeadOrigin(lead.origin).is_live:
                return
            matched = await self._matching(session, lead)
            if matched is None:
                return
            rule, repeat = matched
            log.info("lead %s: %s applies", lead.id, rule.label)
            for action in rule.do:
                await self._act(session, lead, rule, action, repeat)

    async def redistribute(self, job: RedistributePayload) -> None:
        """A lead taken back goes on in turn, to anyone but the former owner, when its rule
        hands leads out so (`assign:next`, `assign:owner`'s fallback, `offer:`)."""
        async with self.database.write() as session:
            lead = await lock_lead(session, job.lead_id)
            if lead is None or lead.taken_by is not None or lead.offer_to is not None:
                return  # Taken again meanwhile, or a rerun finds it handed out.
            matched = await self._matching(session, lead)
            if matched is None:
                return
            rule, _repeat = matched
            for action in rule.do:
                if action.kind is RuleActionKind.OFFER:
                    await self._offer(session, lead, rule, action, skip=(job.owner_id,))
                elif action.kind is RuleActionKind.ASSIGN and (action.to_next or action.to_owner):
                    await self._assign_next(
                        session,
                        lead,
                        rule,
                        hours=self.config.timers_of(lead.site_key).hours,
                        now=self.clock(),
                        skip=(job.owner_id,),
                    )

    async def _matching(
        self, session: AsyncSession, lead: Lead
    ) -> tuple[Rule, Repeat | None] | None:
        """The first of the site's rules that matches the lead, and the lead's repeat."""
        rules = self.config.rules_of(lead.site_key)
        if not rules:
            return None
        window = self.config.repeat_window(lead.site_key)
        repeat = await find_repeat(session, lead=lead, window=window)
        rule = first_match(rules, self._facts(lead, repeat))
        return None if rule is None else (rule, repeat)

    def _facts(self, lead: Lead, repeat: Repeat | None) -> LeadFacts:
        hours = self.config.timers_of(lead.site_key).hours
        return LeadFacts(
            form=lead.form_name,
            page=lead.page_url,
            utm=lead.utm or {},
            in_working_hours=hours.is_working(lead.received_at),
            repeat=repeat is not None and repeat.is_repeat,
        )

    async def _act(
        self,
        session: AsyncSession,
        lead: Lead,
        rule: Rule,
        action: RuleAction,
        repeat: Repeat | None,
    ) -> None:
        assert lead.id is not None
        actor = rule_actor(rule.name)
        if action.kind is RuleActionKind.ASSIGN:
            await self._assign(session, lead, rule, action, repeat)
            return
        if action.kind is RuleActionKind.OFFER:
            if lead.taken_by is not None or lead.offer_to is not None:
                log.info("lead %s: %s finds it taken already; skipped", lead.id, rule.label)
                return
            await self._offer(session, lead, rule, action)
            return
        planned = await self._plan(session, lead, action)
        if planned is None:
            log.info("lead %s: %s cannot %s here; skipped", lead.id, rule.label, action.kind)
            return
        await jobs.start_planned(session, planned, actor_id=None, actor_name=actor)

    async def _plan(
        self, session: AsyncSession, lead: Lead, action: RuleAction
    ) -> jobs.PlannedAction | None:
        """The action's job, as the card's button would ask for it; None when the button
        could not (the service is not set up, nothing to dial, the status changed)."""
        assert lead.id is not None
        base = ActionPayload(lead_id=lead.id, site=lead.site_key, actor=None)
        config = self.config
        if action.kind is RuleActionKind.STATUS:
            assert action.status is not None
            untouched = lead.status_code == LeadStatus.NEW and action.status != lead.status_code
            if lead.site_key not in config.flexbe_sites or not untouched:
                return None
            return jobs.status_change(base, action.status, lead.version)
        if action.kind is RuleActionKind.DEAL:
            return jobs.deal(base) if config.can_deal else None
        if not config.can_call or not normalize_phone(
            lead.client_phone, config.region(lead.site_key)
        ):
            return None
        generation = await cancelled_calls(session, lead_id=lead.id)
        return self._call(base, generation, lead.site_key, action.delay)

    def _call(
        self, base: ActionPayload, generation: int, site_key: str, delay: timedelta | None
    ) -> jobs.PlannedAction:
        """At once in working hours, else at the next working minute; a delay counts
        working time only."""
        now = self.clock()
        hours = self.config.timers_of(site_key).hours
        moment = hours.add_working(now, delay or timedelta(0))
        if moment <= now:
            return jobs.call(base, generation, delay=0, call_at=None, action=call_action(0))
        at = int(moment.timestamp())
        if delay is not None and moment == now + delay:
            seconds = int(delay.total_seconds())
            return jobs.call(
                base, generation, delay=seconds, call_at=at, action=call_action(seconds)
            )
        wait = seconds_until(moment, now)
        return jobs.call(base, generation, delay=wait, call_at=at, action=call_at_action(moment))

    async def _assign(
        self,
        session: AsyncSession,
        lead: Lead,
        rule: Rule,
        action: RuleAction,
        repeat: Repeat | None,
    ) -> None:
        """To the manager named, a repeat to its earlier lead's owner (the next in turn when
        that owner is away or off shift), or the next in turn; never taking the lead from
        someone who has it already."""
        if lead.taken_by is not None:
            log.info("lead %s: %s finds it taken already; skipped", lead.id, rule.label)
            return
        hours = self.config.timers_of(lead.site_key).hours
        now = self.clock()
        if action.to_next:
            await self._assign_next(session, lead, rule, hours=hours, now=now)
            return
        manager_id = action.manager
        if action.to_owner:
            manager_id = repeat.owner if repeat is not None else None
        target = None if manager_id is None else await assignee(session, lead, manager_id)
        if target is None:
            log.info("lead %s: %s has no one to assign it to; skipped", lead.id, rule.label)
            return
        if not shift_of(target, hours, now).on:
            if action.to_owner:
                log.info(
                    "lead %s: %s: the earlier owner is away; next in turn", lead.id, rule.label
                )
                await self._assign_next(session, lead, rule, hours=hours, now=now)
                return
            log.info("lead %s: %s names a manager away or off shift; skipped", lead.id, rule.label)
            return
        await self._give(session, lead, rule, target)

    async def _offer(
        self,
        session: AsyncSession,
        lead: Lead,
        rule: Rule,
        action: RuleAction,
        *,
        skip: Collection[int] = (),
    ) -> None:
        """A new round of offers (`bot.offers`), one manager on shift at a time."""
        assert action.delay is not None, "an offer's window is checked at start"
        await offer_next(
            session,
            lead,
            config=self.config,
            now=self.clock(),
            window=action.delay,
            skip=skip,
            actor_name=rule_actor(rule.name),
        )

    async def _assign_next(
        self,
        session: AsyncSession,
        lead: Lead,
        rule: Rule,
        *,
        hours: WorkingHours,
        now: datetime,
        skip: Collection[int] = (),
    ) -> None:
        """To the next manager on shift in turn (but those in `skip`); with nobody on shift
        the lead stays in the group's card, and each admin is told once."""
        assert lead.id is not None
        step = await next_step(session, lead.id)
        target = await next_in_turn(session, lead, step=step, hours=hours, now=now, skip=skip)
        if target is None:
            log.info("lead %s: %s finds nobody on shift; left to the group", lead.id, rule.label)
            await tell_nobody_on_shift(session, lead.id, self.config.admins)
            return
        await self._give(session, lead, rule, target)

    async def _give(self, session: AsyncSession, lead: Lead, rule: Rule, target: Manager) -> None:
        """Hand the lead to `target`, logged as the rule's doing; its take-back wait starts."""
        await hand_over(
            session,
            lead,
            target,
            actor_id=None,
            actor_name=rule_actor(rule.name),
            timers=self.config.timers_of(lead.site_key),
        )
