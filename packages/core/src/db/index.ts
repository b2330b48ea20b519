export * from "./database.ts";
export * from "./create-db.ts";
export * from "./migrate.ts";
export * from "./service-role.ts";
export * from "./status-constraints.ts";
