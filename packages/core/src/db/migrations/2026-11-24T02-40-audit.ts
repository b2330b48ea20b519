// Tamper-evident audit log (PCI DSS 10): a hash chain sealed at commit under one advisory lock, and
// triggers that make audit_log append-only. Frozen in time: typed Kysely<any>, imports nothing from the app.
//
// Each committed row gets seq (its place in the chain), prev_hash (the previous link's hash, or 64
// zeros for the first) and hash = sha256(prev_hash || canonical), where canonical is the jsonb text
// of [seq, id, entity, entity_id, action, actor, outcome, origin, data, created_at as
// YYYY-MM-DDTHH:MI:SS.ffffffZ in UTC]. The link is made by a deferred constraint trigger, i.e. at
// COMMIT, after the transaction has taken all its row locks: the chain lock is the last lock any
// transaction takes and is held only through its commit, so it can never join a deadlock.
import { sql, type Kysely } from "kysely";

/** pg_advisory_xact_lock key of the chain: the first 8 bytes of sha256('checkout.audit_log.chain') as a signed bigint. */
const CHAIN_LOCK_KEY = sql.raw("-4456142522291801706");

const linkHash = (seq: string, prev: string) =>
  sql.raw(`encode(sha256(convert_to(${prev} || jsonb_build_array(${seq}, id, entity, entity_id, action, actor, outcome, origin, data,
    to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))::text, 'UTF8')), 'hex')`);

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table audit_log add column seq bigint`.execute(db);
  await sql`create unique index audit_log_seq_key on audit_log (seq)`.execute(db);
  // An order's trail includes its payment, stock and admin rows, which name it in data.orderId.
  await sql`create index audit_log_order_idx on audit_log ((data->>'orderId'))`.execute(db);

  // Rows written before the chain existed are linked in id order, once.
  await sql`
    do $$
    declare
      r record;
      link_prev text := repeat('0', 64);
      link_seq bigint := 0;
    begin
      for r in select id from audit_log order by id loop
        link_seq := link_seq + 1;
        update audit_log set seq = link_seq, prev_hash = link_prev, hash = ${linkHash("link_seq", "link_prev")} where id = r.id
          returning hash into link_prev;
      end loop;
    end $$`.execute(db);

  await sql`
    create function audit_log_seal() returns trigger language plpgsql as $$
    declare
      head_seq bigint;
      head_hash text;
      link_seq bigint;
      link_prev text;
    begin
      -- Under REPEATABLE READ the head read below would come from the transaction's old snapshot and fork the chain.
      if current_setting('transaction_isolation') <> 'read committed' then
        raise exception 'audit_log rows must be written in a READ COMMITTED transaction (this one is %)', current_setting('transaction_isolation')
          using errcode = 'object_not_in_prerequisite_state';
      end if;
      perform pg_advisory_xact_lock(${CHAIN_LOCK_KEY});
      -- A fresh snapshot after taking the lock: it sees every link committed by the lock's previous holder.
      select seq, hash into head_seq, head_hash from audit_log where seq is not null order by seq desc limit 1;
      link_seq := coalesce(head_seq, 0) + 1;
      link_prev := coalesce(head_hash, repeat('0', 64));
      update audit_log set seq = link_seq, prev_hash = link_prev, hash = ${linkHash("link_seq", "link_prev")}
        where id = new.id and seq is null;
      return null;
    end $$`.execute(db);
  await sql`
    create constraint trigger audit_log_chain after insert on audit_log
      deferrable initially deferred for each row execute function audit_log_seal()`.execute(db);

  await sql`
    create function audit_log_reject_change() returns trigger language plpgsql as $$
    begin
      -- The one update allowed: the commit-time seal filling seq/prev_hash/hash of a row not yet linked.
      if tg_op = 'UPDATE' and old.seq is null and old.hash is null and old.prev_hash is null
        and (new.id, new.entity, new.entity_id, new.action, new.data, new.actor, new.outcome, new.origin, new.created_at)
          is not distinct from (old.id, old.entity, old.entity_id, old.action, old.data, old.actor, old.outcome, old.origin, old.created_at) then
        return new;
      end if;
      raise exception 'audit_log is append-only: % is not allowed', tg_op
        using errcode = 'insufficient_privilege', hint = 'Audit records are evidence; write a new record instead of changing or removing one.';
    end $$`.execute(db);
  await sql`
    create trigger audit_log_append_only before update or delete on audit_log
      for each row execute function audit_log_reject_change()`.execute(db);
  await sql`
    create trigger audit_log_no_truncate before truncate on audit_log
      for each statement execute function audit_log_reject_change()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger if exists audit_log_no_truncate on audit_log`.execute(db);
  await sql`drop trigger if exists audit_log_append_only on audit_log`.execute(db);
  await sql`drop trigger if exists audit_log_chain on audit_log`.execute(db);
  await sql`drop function if exists audit_log_reject_change()`.execute(db);
  await sql`drop function if exists audit_log_seal()`.execute(db);
  await sql`drop index if exists audit_log_order_idx`.execute(db);
  await sql`drop index if exists audit_log_seq_key`.execute(db);
  await sql`alter table audit_log drop column seq`.execute(db);
}
