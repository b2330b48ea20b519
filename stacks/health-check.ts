// How the ALB target groups check an API task. Plain values, no CDK: stacks/api-load-balancer.ts builds the target
// groups from them and the failover drill (packages/api/scripts/rehearse/failover-drill.ts) configures HAProxy's checks
// from the same object, so the drill cannot prove a health check the stage does not run.

/** One target group health check, in the ALB's own terms. */
export interface TargetGroupHealthCheck {
  /** Liveness: answered by the process alone. The database is never asked, so a failover takes no task out of service. */
  path: string;
  intervalSeconds: number;
  /** A check not answered within this is a failed check. */
  timeoutSeconds: number;
  /** Consecutive passed checks before a target takes traffic. */
  healthyThreshold: number;
  /** Consecutive failed checks before a target is taken out of service (and ECS replaces the task). */
  unhealthyThreshold: number;
}

export const TARGET_GROUP_HEALTH_CHECK = {
  path: "/health",
  intervalSeconds: 10,
  timeoutSeconds: 5,
  healthyThreshold: 2,
  unhealthyThreshold: 3,
} as const satisfies TargetGroupHealthCheck;
