"""Tenant keys (config `api.auth: tenant_keys`, docs/tenants.md): the API Gateway REQUEST
authorizer, the tenant a request carries, monthly token budgets and usage per tenant.

Plain boto3 and the standard library only: the authorizer runs on every uncached request
and imports nothing else (no Powertools), and the front door imports `context`, `budget`
and `usage` from here; nothing here imports the other packages of the asset.
"""
