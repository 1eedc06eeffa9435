"""Outbound adapters: httpx clients of the read APIs and the issuer, the Kafka command sender."""
