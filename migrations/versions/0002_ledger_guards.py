"""ledger guards: the journal is append-only in the database itself

Entries and transactions are never updated or deleted; an account's identity never changes and it is never
deleted; a hold changes once, from pending to resolved, and a resolved hold stays (the billing reference, §1.1
and §1.5). On PostgreSQL, a deferred constraint trigger also refuses to commit a transaction whose entries don't
balance per asset (SQLite has no deferred triggers: `softdukan ledger check` finds those there).

Every refusal is an integrity error (SQLSTATE 23000; SQLite's RAISE(ABORT) is a constraint error), so it reaches
the code as `sqlalchemy.exc.IntegrityError` on both databases.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HOLD_CHANGED = ("OLD.state <> 'pending' OR NEW.key IS DISTINCT FROM OLD.key "
                "OR NEW.organization_id IS DISTINCT FROM OLD.organization_id "
                "OR NEW.wallet_account_id IS DISTINCT FROM OLD.wallet_account_id "
                "OR NEW.counter_account_id IS DISTINCT FROM OLD.counter_account_id "
                "OR NEW.amount IS DISTINCT FROM OLD.amount OR NEW.created_at IS DISTINCT FROM OLD.created_at")
ACCOUNT_CHANGED = ("NEW.code IS DISTINCT FROM OLD.code OR NEW.asset IS DISTINCT FROM OLD.asset "
                   "OR NEW.kind IS DISTINCT FROM OLD.kind OR NEW.organization_id IS DISTINCT FROM OLD.organization_id "
                   "OR NEW.no_overdraft IS DISTINCT FROM OLD.no_overdraft")

SQLITE = [
    *(f"""CREATE TRIGGER {table}_no_{op_name} BEFORE {op_name.upper()} ON {table}
          BEGIN SELECT RAISE(ABORT, '{table} are append-only'); END"""
      for table in ("ledger_entries", "ledger_transactions") for op_name in ("update", "delete")),
    f"""CREATE TRIGGER ledger_holds_resolve_once BEFORE UPDATE ON ledger_holds
        WHEN {HOLD_CHANGED.replace("IS DISTINCT FROM", "IS NOT")}
        BEGIN SELECT RAISE(ABORT, 'a hold changes once, from pending to resolved'); END""",
    """CREATE TRIGGER ledger_holds_keep_resolved BEFORE DELETE ON ledger_holds WHEN OLD.state <> 'pending'
       BEGIN SELECT RAISE(ABORT, 'a resolved hold is never deleted'); END""",
    f"""CREATE TRIGGER ledger_accounts_identity BEFORE UPDATE ON ledger_accounts
        WHEN {ACCOUNT_CHANGED.replace("IS DISTINCT FROM", "IS NOT")}
        BEGIN SELECT RAISE(ABORT, 'an account''s identity never changes'); END""",
    """CREATE TRIGGER ledger_accounts_keep BEFORE DELETE ON ledger_accounts
       BEGIN SELECT RAISE(ABORT, 'ledger accounts are never deleted'); END""",
]

POSTGRESQL = [
    """CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION '% are append-only', TG_TABLE_NAME USING ERRCODE = '23000'; END $$""",
    *(f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
          FOR EACH ROW EXECUTE FUNCTION ledger_append_only()""" for table in ("ledger_entries", "ledger_transactions")),
    f"""CREATE FUNCTION ledger_hold_final() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'DELETE' THEN
            IF OLD.state <> 'pending' THEN
              RAISE EXCEPTION 'a resolved hold is never deleted' USING ERRCODE = '23000';
            END IF;
            RETURN OLD;
          END IF;
          IF {HOLD_CHANGED} THEN
            RAISE EXCEPTION 'a hold changes once, from pending to resolved' USING ERRCODE = '23000';
          END IF;
          RETURN NEW;
        END $$""",
    """CREATE TRIGGER ledger_holds_final BEFORE UPDATE OR DELETE ON ledger_holds
       FOR EACH ROW EXECUTE FUNCTION ledger_hold_final()""",
    f"""CREATE FUNCTION ledger_account_identity() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'ledger accounts are never deleted' USING ERRCODE = '23000';
          END IF;
          IF {ACCOUNT_CHANGED} THEN
            RAISE EXCEPTION 'an account''s identity never changes' USING ERRCODE = '23000';
          END IF;
          RETURN NEW;
        END $$""",
    """CREATE TRIGGER ledger_accounts_identity BEFORE UPDATE OR DELETE ON ledger_accounts
       FOR EACH ROW EXECUTE FUNCTION ledger_account_identity()""",
    """CREATE FUNCTION ledger_transaction_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
       DECLARE off record;
       BEGIN
         SELECT a.asset, e.status, SUM(CASE WHEN e.direction = 'debit' THEN e.amount ELSE -e.amount END) AS total
           INTO off
           FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id
          WHERE e.transaction_id = NEW.transaction_id
          GROUP BY a.asset, e.status
         HAVING SUM(CASE WHEN e.direction = 'debit' THEN e.amount ELSE -e.amount END) <> 0
          LIMIT 1;
         IF FOUND THEN
           RAISE EXCEPTION 'ledger transaction % is unbalanced in % (%): debits - credits = %',
             NEW.transaction_id, off.asset, off.status, off.total USING ERRCODE = '23000';
         END IF;
         RETURN NULL;
       END $$""",
    """CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
       DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_transaction_balanced()""",
]

DROP_SQLITE = [
    *(f"DROP TRIGGER {table}_no_{op_name}" for table in ("ledger_entries", "ledger_transactions")
      for op_name in ("update", "delete")),
    "DROP TRIGGER ledger_holds_resolve_once", "DROP TRIGGER ledger_holds_keep_resolved",
    "DROP TRIGGER ledger_accounts_identity", "DROP TRIGGER ledger_accounts_keep",
]
DROP_POSTGRESQL = [
    "DROP TRIGGER ledger_entries_balanced ON ledger_entries", "DROP FUNCTION ledger_transaction_balanced()",
    "DROP TRIGGER ledger_accounts_identity ON ledger_accounts", "DROP FUNCTION ledger_account_identity()",
    "DROP TRIGGER ledger_holds_final ON ledger_holds", "DROP FUNCTION ledger_hold_final()",
    "DROP TRIGGER ledger_entries_append_only ON ledger_entries",
    "DROP TRIGGER ledger_transactions_append_only ON ledger_transactions", "DROP FUNCTION ledger_append_only()",
]


def upgrade() -> None:
    for statement in POSTGRESQL if op.get_bind().dialect.name == "postgresql" else SQLITE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DROP_POSTGRESQL if op.get_bind().dialect.name == "postgresql" else DROP_SQLITE:
        op.execute(statement)
