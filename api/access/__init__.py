"""Who may do what: API keys with scopes and tenants, per-key limits and the audit log."""
