// The card-testing alarm: the API's payment.attempt log lines become two metrics through metric filters on the API's
// own log group, and an alarm fires when over 30 % of at least 20 attempts in 5 minutes were declined or refused.
import { beforeAll, describe, expect, it } from "vitest";
import { ALARMS, PAYMENT_ATTEMPT_FILTERS } from "../Monitoring.ts";
import { synthesize, type Resources, type Synthesized } from "./support.ts";

let synthesized: Synthesized;
let resources: Resources;

beforeAll(async () => {
  synthesized = await synthesize();
  resources = synthesized.resources("Monitoring");
});

function metricFilters(): Record<string, any>[] {
  return Object.values(resources)
    .filter((r) => r.Type === "AWS::Logs::MetricFilter")
    .map((r) => r.Properties);
}

describe("payment attempt metric filters", () => {
  it("count every payment.attempt line, and those declined or refused, into the stage's namespace", () => {
    const byName: Record<string, Record<string, any>> = Object.fromEntries(metricFilters().map((p) => [p.MetricTransformations[0].MetricName, p]));
    expect(Object.keys(byName).sort()).toEqual(["PaymentAttempts", "PaymentAttemptsDeclinedOrRefused"]);
    expect(byName.PaymentAttempts?.FilterPattern).toBe(PAYMENT_ATTEMPT_FILTERS.attempts);
    expect(byName.PaymentAttemptsDeclinedOrRefused?.FilterPattern).toBe(PAYMENT_ATTEMPT_FILTERS.declinedOrRefused);
    for (const p of Object.values(byName)) {
      expect(p.MetricTransformations).toEqual([expect.objectContaining({ MetricNamespace: "Checkout/test", MetricValue: "1" })]);
    }
  });

  it("match the API's log line by its message and outcome fields", () => {
    expect(PAYMENT_ATTEMPT_FILTERS.attempts).toContain('$.msg = "payment.attempt"');
    for (const outcome of ["declined", "refused_velocity"]) expect(PAYMENT_ATTEMPT_FILTERS.declinedOrRefused).toContain(`$.outcome = "${outcome}"`);
    expect(PAYMENT_ATTEMPT_FILTERS.declinedOrRefused).not.toContain('"authorized"');
  });

  it("read the log group the API's container writes to", () => {
    const api = synthesized.resources("Api");
    const [apiLogs] = Object.entries(api).filter(([id, r]) => r.Type === "AWS::Logs::LogGroup" && id.startsWith("ApiLogs"));
    expect(apiLogs, "the API's log group").toBeDefined();
    const container = Object.values(api).find((r) => r.Type === "AWS::ECS::TaskDefinition")!.Properties.ContainerDefinitions[0];
    expect(container.LogConfiguration).toMatchObject({ LogDriver: "awslogs", Options: { "awslogs-group": { Ref: apiLogs![0] } } });
    for (const p of metricFilters()) expect(JSON.stringify(p.LogGroupName)).toContain(apiLogs![0]);
  });
});

describe("payment decline-rate alarm", () => {
  it("fires over 30 % declined or refused of at least 20 attempts in one 5-minute period, notifying the topic", () => {
    const found = Object.values(resources).filter((r) => r.Type === "AWS::CloudWatch::Alarm" && r.Properties.AlarmName === "checkout-test-payment-decline-rate");
    expect(found).toHaveLength(1);
    const p = found[0]!.Properties;
    expect(p).toMatchObject({ Threshold: 30, ComparisonOperator: "GreaterThanThreshold", EvaluationPeriods: 1, DatapointsToAlarm: 1, TreatMissingData: "notBreaching" });
    expect(ALARMS.paymentDeclineRate).toMatchObject({ thresholdPercent: 30, minimumAttempts: 20, periodMinutes: 5 });
    const topic = Object.keys(resources).find((id) => resources[id]!.Type === "AWS::SNS::Topic")!;
    expect(p.AlarmActions).toEqual([{ Ref: topic }]);
    expect(p.OKActions).toEqual([{ Ref: topic }]);

    const [expression, ...inputs] = p.Metrics as Record<string, any>[];
    expect(expression).toMatchObject({ Expression: "IF(FILL(attempts, 0) >= 20, 100 * FILL(declined, 0) / FILL(attempts, 0), 0)", ReturnData: true });
    expect(
      Object.fromEntries(inputs.map((m) => [m.Id, [m.MetricStat.Metric.Namespace, m.MetricStat.Metric.MetricName, m.MetricStat.Stat, m.MetricStat.Period, m.ReturnData]])),
    ).toEqual({
      attempts: ["Checkout/test", "PaymentAttempts", "Sum", 300, false],
      declined: ["Checkout/test", "PaymentAttemptsDeclinedOrRefused", "Sum", 300, false],
    });
  });

  it("is on the dashboard beside a graph of the attempts", () => {
    const dashboard = Object.values(resources).find((r) => r.Type === "AWS::CloudWatch::Dashboard")!;
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    expect(body).toContain('\\"title\\":\\"Payment attempts\\"');
    expect(body).toContain('\\"title\\":\\"Payments declined or refused (%)\\"');
    const alarmId = Object.entries(resources).find(([, r]) => r.Type === "AWS::CloudWatch::Alarm" && r.Properties.AlarmName === "checkout-test-payment-decline-rate")![0];
    expect(body).toContain(`"${alarmId}"`);
  });
});
