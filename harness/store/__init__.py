"""The store package: the DuckDB file (`store`), its schema and typed rows (`schema`), and the
leaderboard's read queries (`queries`). The only package that speaks SQL."""

from harness.store.schema import (MIGRATIONS, RUN_STATUSES, AuditDisagreementRow, AuditRow, GenerationRow, ItemResultRow, ItemRow, LineageItemRow,
                                  LineageRow, LoopArmRow, LoopRow, ModelRow, NightlyCheckRow, NightRow, NightRunRow,
                                  PivotalPrefixRow, PivotalSearchRow, PivotalTokenRow, PromptRow, QueueRow, RunRow, ScoreRow, TaskReportRow, TaskResultRow, rows_table)
from harness.store.store import (DB_ENV, DEFAULT_DB, LOCK_TIMEOUT_ENV, CachedSample, Store, generation_key, new_run_id,
                                 now, resolve_db_path)

__all__ = ["MIGRATIONS", "RUN_STATUSES", "AuditDisagreementRow", "AuditRow", "GenerationRow", "ItemResultRow", "ItemRow", "LineageItemRow", "LineageRow",
           "LoopArmRow", "LoopRow", "ModelRow", "NightlyCheckRow", "NightRow", "NightRunRow", "PivotalPrefixRow", "PivotalSearchRow", "PivotalTokenRow", "PromptRow", "QueueRow",
           "RunRow", "ScoreRow", "TaskReportRow", "TaskResultRow", "rows_table", "DB_ENV", "DEFAULT_DB",
           "LOCK_TIMEOUT_ENV", "CachedSample", "Store", "generation_key", "new_run_id", "now", "resolve_db_path"]
