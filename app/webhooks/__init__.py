"""Webhook endpoints, signed deliveries (Standard Webhooks) and the worker that sends them."""
