export { startApp, type RunningApp } from "./app.ts";
export { loadEnv, type Env } from "./env.ts";
export { appRouter, type AppRouter, type RouterInput, type RouterOutput } from "./router.ts";
export { createContext, type Context, type Services } from "./context.ts";
export { startEmbeddedPostgres } from "./embedded-postgres.ts";
