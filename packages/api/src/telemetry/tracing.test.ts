// When tracing is on, where it exports and what share of requests it samples, from the standard OTEL_* variables.
import { describe, expect, it } from "vitest";
import { loadEnv } from "../env.ts";
import { tracingSettingsOf } from "./tracing.ts";

const settingsOf = (vars: Record<string, string>) => tracingSettingsOf(loadEnv({ NODE_ENV: "test", ...vars }));

describe("tracingSettingsOf", () => {
  it("is off without an endpoint, whatever else is set", () => {
    expect(settingsOf({})).toBeNull();
    expect(settingsOf({ OTEL_TRACES_SAMPLER: "always_on", OTEL_SERVICE_NAME: "shop" })).toBeNull();
  });

  it("appends /v1/traces to the base endpoint and uses the traces endpoint as it is", () => {
    expect(settingsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://localhost:4318/" })?.tracesUrl).toBe("http://localhost:4318/v1/traces");
    expect(settingsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://a:4318", OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://b/otlp/traces" })?.tracesUrl).toBe("https://b/otlp/traces");
  });

  it("samples every request by default, the given ratio with a ratio sampler, and turns off for always_off or OTEL_SDK_DISABLED", () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://localhost:4318" };
    expect(settingsOf(endpoint)).toMatchObject({ ratio: 1, serviceName: "checkout-api" });
    expect(settingsOf({ ...endpoint, OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.05" })?.ratio).toBe(0.05);
    expect(settingsOf({ ...endpoint, OTEL_TRACES_SAMPLER: "traceidratio" })?.ratio).toBe(1);
    expect(settingsOf({ ...endpoint, OTEL_TRACES_SAMPLER: "always_on", OTEL_TRACES_SAMPLER_ARG: "0.05" })?.ratio).toBe(1);
    expect(settingsOf({ ...endpoint, OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "0" })).toBeNull();
    expect(settingsOf({ ...endpoint, OTEL_TRACES_SAMPLER: "parentbased_always_off" })).toBeNull();
    expect(settingsOf({ ...endpoint, OTEL_SDK_DISABLED: "true" })).toBeNull();
  });

  it("names the service and its version", () => {
    expect(settingsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://localhost:4318", OTEL_SERVICE_NAME: "checkout-eu", APP_VERSION: "1.2.3" })).toMatchObject({
      serviceName: "checkout-eu",
      serviceVersion: "1.2.3",
    });
  });
});
