// How long the load balancer, the server and ECS wait for one another, so no request is cut off: the ALB drops an idle
// connection before Node does, and a stopping task stops taking requests, drains them, then exits before SIGKILL.
// Plain values only (no CDK): the load balancer, the task's environment and the container read them.

/** The ALB closes a connection idle this long; Node keeps its side open longer so the ALB never reuses a closed one. */
export const ALB_IDLE_TIMEOUT_SECONDS = 60;
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;
/** Graceful shutdown: the server drains for up to SHUTDOWN_TIMEOUT_MS after SIGTERM; ECS waits STOP_TIMEOUT before SIGKILL. */
export const SHUTDOWN_TIMEOUT_MS = 25_000;
export const STOP_TIMEOUT_SECONDS = 40;
/** The ALB stops sending new requests to a task and lets in-flight ones finish for this long before ECS stops it. */
export const DEREGISTRATION_DELAY_SECONDS = 30;
