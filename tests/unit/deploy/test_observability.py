"""deploy/observability: the dashboard and the alert rules name only metrics the code exports, and show them all."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import yaml

from shared.runtime import metrics
from shared.runtime.app import create_broker
from shared.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
FOLDER = ROOT / "deploy" / "observability"
NAME = re.compile(r"\bbackbone_[a-z0-9_]+\b")


def dashboard_exprs() -> list[str]:
    dashboard = json.loads((FOLDER / "grafana-dashboard.json").read_text())
    return [t["expr"] for p in dashboard["panels"] for t in p["targets"]]


def alert_rules() -> list[dict]:
    return [r for g in yaml.safe_load((FOLDER / "alerts.yaml").read_text())["groups"] for r in g["rules"]]


def exported() -> set[str]:
    create_broker(Settings(kafka_bootstrap_servers="127.0.0.1:9"))  # registers FastStream's middleware metrics
    return metrics.exported_names()


def unknown(exprs: list[str], names: set[str]) -> set[str]:
    return {n for e in exprs for n in NAME.findall(e)} - names


def test_every_metric_the_dashboard_and_the_alerts_name_is_exported():
    names = exported()
    assert unknown(dashboard_exprs(), names) == set()
    assert unknown([r["expr"] for r in alert_rules()], names) == set()
    assert unknown(["rate(backbone_records_handeld_total[5m])"], names) == {"backbone_records_handeld_total"}


def test_the_dashboard_shows_every_metric_of_the_backbone():
    shown = {n for e in dashboard_exprs() for n in NAME.findall(e)}
    own = {f.name for f in metrics.REGISTRY.collect() if not f.name.startswith(metrics.FASTSTREAM_PREFIX)}
    missing = {name for name in own if not any(s.startswith(name) for s in shown)}
    assert missing == set()


def test_alert_rules_cover_lag_dead_letters_outbox_age_and_smtp_and_are_complete():
    rules = alert_rules()
    for rule in rules:
        assert rule["alert"].startswith("Backbone") and rule["labels"]["severity"] in {"warning", "critical"}
        assert rule["annotations"]["summary"], rule["alert"]
    named = " ".join(r["expr"] for r in rules)
    for needed in ("backbone_consumer_lag", "backbone_records_dead_lettered_total", "backbone_outbox_oldest_age_seconds",
                   "backbone_mails_failed_total", "backbone_mail_retries_total"):
        assert needed in named


def test_the_scrape_config_reads_the_rules_and_the_local_targets_come_from_the_stack_env(tmp_path):
    config = yaml.safe_load((FOLDER / "prometheus.yml").read_text())
    assert all((FOLDER / f).exists() for f in config["rule_files"])
    assert {job["metrics_path"] for job in config["scrape_configs"]} == {"/metrics"}
    spec = importlib.util.spec_from_file_location("local_targets", FOLDER / "local_targets.py")
    local = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(local)  # type: ignore[union-attr]
    env = "KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092\nINTAKE_HTTP=http://127.0.0.1:4001\nPORTAL_SYNC_HTTP_2=http://127.0.0.1:4002\n"
    assert local.targets(env) == [
        {"targets": ["127.0.0.1:4001"], "labels": {"replica": "1", "stack_service": "intake"}},
        {"targets": ["127.0.0.1:4002"], "labels": {"replica": "2", "stack_service": "portal-sync"}}]
