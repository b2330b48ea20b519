// Stock received: how many units of each SKU the shop has ever put on sale, so "orders never exceed
// stock" can be proven afterwards (available + units held by live orders = stock_received).
// `available` alone cannot prove it: it is what is left, not what there was. Reservations and
// releases move units between `available` and orders and leave stock_received alone; a new
// inventory row starts with stock_received = available (a trigger, so every insert path is covered);
// a restock must raise both columns. Frozen in time: typed Kysely<any>, imports nothing from the app.
import { sql, type Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table inventory add column stock_received integer`.execute(db);
  // Rows from before this column existed: what is on sale plus what live orders hold is the best
  // record there is, so the proof starts from here.
  await sql`
    update inventory i set stock_received = i.available + coalesce((
      select sum(l.quantity) from order_line l join "order" o on o.id = l.order_id
      where l.sku = i.sku and o.status not in ('payment_failed', 'cancelled')
    ), 0)`.execute(db);
  await sql`alter table inventory alter column stock_received set not null`.execute(db);
  await sql`alter table inventory add constraint inventory_stock_received_non_negative check (stock_received >= 0)`.execute(db);

  await sql`
    create function inventory_set_stock_received() returns trigger language plpgsql as $$
    begin
      if new.stock_received is null then
        new.stock_received := new.available;
      end if;
      return new;
    end $$`.execute(db);
  await sql`
    create trigger inventory_stock_received_default before insert on inventory
      for each row execute function inventory_set_stock_received()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger if exists inventory_stock_received_default on inventory`.execute(db);
  await sql`drop function if exists inventory_set_stock_received()`.execute(db);
  await sql`alter table inventory drop column stock_received`.execute(db);
}
