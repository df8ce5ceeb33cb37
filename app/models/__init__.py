"""SQLAlchemy tables. Import every model here so Alembic's autogenerate sees the whole schema."""

from app.db import Base
from app.models.cases import Case, SicknessPeriod
from app.models.tenants import ApiKey, Tenant

__all__ = ["ApiKey", "Base", "Case", "SicknessPeriod", "Tenant"]
