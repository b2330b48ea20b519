// The audit trail: every order, payment and stock change leaves a record, hash-chained and sealed; this is its public face.
export {
  record,
  recordMany,
  listForEntity,
  listForOrder,
  verifyChain,
  readHead,
  GENESIS_HASH,
  ANCHOR_PREFIX,
  anchorKey,
  parseAnchor,
  type AuditEntry,
  type AuditRecord,
  type ChainVerdict,
  type AuditAnchor,
  type StoredAnchor,
} from "./audit.repository.ts";
