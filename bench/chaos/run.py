"""One chaos run against a started stack: workload and faults side by side, quiescence, then every invariant."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.chaos import evidence
from bench.chaos import invariants as inv
from bench.chaos.driver import Driver, Tally
from bench.chaos.faults import Fault, plan, run_faults
from bench.chaos.tap import Tap
from bench.chaos.workload import run_workload
from shared.runtime.kafka_security import client_options
from shared.settings import Settings
from tests.support.credentials import ADMIN

from store_layout import distinct_urls  # deploy/local, on the path of make chaos and pytest


@dataclass
class Options:
    """What to run: how many commands, how fast, how hard."""

    commands: int = 10_000
    brokers: int = 3
    seed: int = 0
    rate: float = 40.0  # commands per second at most (the store is the bottleneck)
    concurrency: int = 60  # journeys in flight
    outcome_timeout: float = 240.0  # seconds a step waits for its outcome (outages included)
    quiesce_timeout: float = 300.0
    quiet: float = 10.0  # no new record for this long (and nothing pending) = quiescent
    extra_kills: int = 3
    down_scale: float = 1.0  # how long a broker, the store and SMTP stay down, relative to the defaults


@dataclass
class Report:
    """Everything the tables print."""

    seed: int
    faults: list[Fault]
    checks: list[inv.Check]
    tally: Tally
    workload_seconds: float = 0.0
    quiesce_seconds: float = 0.0
    quiescent: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> int:
        """Invariants violated."""
        return sum(not c.passed for c in self.checks)


def stack_settings(env: dict[str, str]) -> Settings:
    """The deployment's settings as its services read them (topic prefix, database, groups)."""
    return Settings(**{k.lower(): v for k, v in env.items() if k.lower() in Settings.model_fields})


async def quiesce(tap: Tap, settings: Settings, urls: list[str], admin: dict, opts: Options,
                  say=print) -> bool:  # noqa: ANN001
    """Wait until outboxes are empty, nothing is pending, every group caught up and no record came for `quiet` s."""
    deadline = time.monotonic() + opts.quiesce_timeout
    while time.monotonic() < deadline:
        _, leftovers, _, pending = await evidence.store_facts(urls, settings.mongodb_database)
        lag = await evidence.consumer_lag(settings.kafka_bootstrap_servers, settings.consumer_group_prefix, admin)
        behind = sum(lag.values())
        idle = time.monotonic() - tap.last_new
        if not leftovers and not pending and not behind and idle >= opts.quiet:
            return True
        say(f"  quiescing: {len(leftovers)} outboxes, {pending} mails pending, lag {behind}, idle {idle:.0f}s")
        await asyncio.sleep(3)
    return False


async def check_all(tap: Tap, tally: Tally, settings: Settings, urls: list[str], admin: dict, maildir: Path,
                    mapping_file: str | None) -> list[inv.Check]:
    """Every invariant, from the topics, every store (`urls`) and the mail sink (`admin`: the super user's options)."""
    t = settings.topics
    collections, leftovers, sent_mails, pending = await evidence.store_facts(urls, settings.mongodb_database)
    dlq_topics, dead = await evidence.dead_letters(settings.kafka_bootstrap_servers, settings.topic_prefix, admin)
    lag = await evidence.consumer_lag(settings.kafka_bootstrap_servers, settings.consumer_group_prefix, admin)
    case_events = tap.of(t.case_events)
    return [
        inv.one_outcome(tally.sent, tap.of(t.case_events, t.approval_events), tap.of(t.case_rejections)),
        inv.unique_ids(tap.records),
        inv.contiguous_versions(case_events),
        inv.portal_matches(evidence.topic_views(tap.portal_latest), evidence.rebuilt_views(case_events, mapping_file)),
        inv.mails_once(sent_mails, evidence.maildir_ids(maildir), pending),
        inv.outboxes_empty(collections, leftovers),
        inv.nothing_dead_lettered(dlq_topics, dead),
        inv.caught_up(lag),
    ]


async def chaos_run(stack, opts: Options, say=print) -> Report:  # noqa: ANN001  (deploy/local LocalStack)
    """Drive the workload, inject the planned faults meanwhile, wait for quiescence, check the invariants."""
    rng = random.Random(opts.seed)
    settings = stack_settings(stack.env)
    urls = distinct_urls(stack.env)  # each service's store (one per service, or one shared)
    http = {label: stack.env[f"{label.upper().replace('-', '_')}_HTTP"] for label in ("approval", "portal-sync")}
    faults = plan(rng, opts.commands, opts.brokers, opts.extra_kills, opts.down_scale,
                  [store.label for store in stack.stores])
    # Clients connect with the credentials the stack hands out (.local/stack.env): crm, portal, webform, erp, admin.
    admin = client_options(ADMIN, stack.env)
    tap = await Tap(settings.kafka_bootstrap_servers, settings.topics, stack.env).start()
    driver = await Driver(settings.kafka_bootstrap_servers, settings.topics, tap, http, opts.rate,
                          opts.outcome_timeout, stack.env).start()
    if getattr(stack, "issuer", None):  # the portal's HTTP wants a customer's bearer token
        driver.token_for = stack.issuer.mint
    report = Report(opts.seed, faults, [], driver.tally)
    try:
        t0, over = time.monotonic(), asyncio.Event()
        injector = asyncio.create_task(run_faults(stack, faults, lambda: len(driver.tally.sent),
                                                  random.Random(rng.random()), t0, say))
        injector.add_done_callback(lambda _: over.set())
        try:
            report.workload_seconds = await run_workload(driver, opts.commands, opts.concurrency, rng, over, say)
        finally:
            if not injector.done():
                injector.cancel()
            await asyncio.gather(injector, return_exceptions=True)
        t1 = time.monotonic()
        report.quiescent = await quiesce(tap, settings, urls, admin, opts, say)
        report.quiesce_seconds = time.monotonic() - t1
        report.checks = await check_all(tap, driver.tally, settings, urls, admin, Path(stack.env["SMTP_MAILDIR"]),
                                        stack.env.get("PORTAL_MAPPING_FILE"))
    finally:
        await driver.stop()
        await tap.stop()
    return report
