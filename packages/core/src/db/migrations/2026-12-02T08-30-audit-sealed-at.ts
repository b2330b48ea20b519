// The audit chain's time runs one way: a row's created_at becomes the database clock when the row is sealed into
// the chain at COMMIT (under the chain lock), instead of its transaction's start, so created_at never decreases
// along seq and `audit:verify` can refuse any step backwards. A writer can no longer choose or backdate created_at:
// the seal overwrites whatever the INSERT gave. The seal keeps what migration 2026-12-02T00-00-audit-seal-definer gave
// it (SECURITY DEFINER, search_path pinned to this schema): CREATE OR REPLACE would otherwise reset both.
// Frozen in time: typed Kysely<any>, imports nothing from the app.
import { sql, type Kysely } from "kysely";

/** pg_advisory_xact_lock key of the chain, as in migration 2026-11-24T02-40-audit. */
const CHAIN_LOCK_KEY = sql.raw("-4456142522291801706");

const canonicalHash = (seq: string, prev: string, createdAt: string) =>
  sql.raw(`encode(sha256(convert_to(${prev} || jsonb_build_array(${seq}, id, entity, entity_id, action, actor, outcome, origin, data,
    to_char(${createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))::text, 'UTF8')), 'hex')`);

/** The definer seal's properties: it must not resolve names through a search_path its caller controls. */
async function definerSearchPath(db: Kysely<any>) {
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
  return sql`security definer set search_path = ${sql.id(rows[0]!.schema)}, pg_temp`;
}

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create or replace function audit_log_seal() returns trigger language plpgsql
    ${await definerSearchPath(db)} as $$
    declare
      head_seq bigint;
      head_hash text;
      link_seq bigint;
      link_prev text;
      sealed_at timestamptz;
    begin
      if current_setting('transaction_isolation') <> 'read committed' then
        raise exception 'audit_log rows must be written in a READ COMMITTED transaction (this one is %)', current_setting('transaction_isolation')
          using errcode = 'object_not_in_prerequisite_state';
      end if;
      perform pg_advisory_xact_lock(${CHAIN_LOCK_KEY});
      select seq, hash into head_seq, head_hash from audit_log where seq is not null order by seq desc limit 1;
      link_seq := coalesce(head_seq, 0) + 1;
      link_prev := coalesce(head_hash, repeat('0', 64));
      -- Read after taking the lock: the previous holder read its clock before it committed and let the lock go,
      -- so this link's time is never earlier than the link before it.
      sealed_at := clock_timestamp();
      update audit_log set seq = link_seq, prev_hash = link_prev, created_at = sealed_at,
          hash = ${canonicalHash("link_seq", "link_prev", "sealed_at")}
        where id = new.id and seq is null;
      return null;
    end $$`.execute(db);
  await sql`
    create or replace function audit_log_reject_change() returns trigger language plpgsql as $$
    begin
      -- The one update allowed: the commit-time seal filling seq/prev_hash/hash and the sealing time of a row not yet
      -- linked (visible only to the transaction writing it).
      if tg_op = 'UPDATE' and old.seq is null and old.hash is null and old.prev_hash is null
        and (new.id, new.entity, new.entity_id, new.action, new.data, new.actor, new.outcome, new.origin)
          is not distinct from (old.id, old.entity, old.entity_id, old.action, old.data, old.actor, old.outcome, old.origin) then
        return new;
      end if;
      raise exception 'audit_log is append-only: % is not allowed', tg_op
        using errcode = 'insufficient_privilege', hint = 'Audit records are evidence; write a new record instead of changing or removing one.';
    end $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    create or replace function audit_log_seal() returns trigger language plpgsql
    ${await definerSearchPath(db)} as $$
    declare
      head_seq bigint;
      head_hash text;
      link_seq bigint;
      link_prev text;
    begin
      if current_setting('transaction_isolation') <> 'read committed' then
        raise exception 'audit_log rows must be written in a READ COMMITTED transaction (this one is %)', current_setting('transaction_isolation')
          using errcode = 'object_not_in_prerequisite_state';
      end if;
      perform pg_advisory_xact_lock(${CHAIN_LOCK_KEY});
      select seq, hash into head_seq, head_hash from audit_log where seq is not null order by seq desc limit 1;
      link_seq := coalesce(head_seq, 0) + 1;
      link_prev := coalesce(head_hash, repeat('0', 64));
      update audit_log set seq = link_seq, prev_hash = link_prev, hash = ${canonicalHash("link_seq", "link_prev", "created_at")}
        where id = new.id and seq is null;
      return null;
    end $$`.execute(db);
  await sql`
    create or replace function audit_log_reject_change() returns trigger language plpgsql as $$
    begin
      if tg_op = 'UPDATE' and old.seq is null and old.hash is null and old.prev_hash is null
        and (new.id, new.entity, new.entity_id, new.action, new.data, new.actor, new.outcome, new.origin, new.created_at)
          is not distinct from (old.id, old.entity, old.entity_id, old.action, old.data, old.actor, old.outcome, old.origin, old.created_at) then
        return new;
      end if;
      raise exception 'audit_log is append-only: % is not allowed', tg_op
        using errcode = 'insufficient_privilege', hint = 'Audit records are evidence; write a new record instead of changing or removing one.';
    end $$`.execute(db);
}
