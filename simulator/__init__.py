"""A local stand-in for Polymarket's CLOB V2 REST API, Gamma API and WebSocket
channels, served on 127.0.0.1 (see simulator/README.md)."""
