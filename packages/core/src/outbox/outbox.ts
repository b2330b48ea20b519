// The outbox: events written in the same transaction as the change they announce, fanned out to delivery targets and
// delivered with retries (outbox-dispatcher.ts). This is its public face.
export { enqueue, insertDeliveries, listDeliveriesOfEvent, listEventsOfAggregate, type OutboxEvent, type OutboxEventType } from "./outbox.repository.ts";
