// Preloaded into Artillery runs (NODE_OPTIONS=--require): Artillery 2.0.21 sends an anonymous telemetry
// event even with ARTILLERY_DISABLE_TELEMETRY set, and on a machine without internet its client retries
// for 10 s or more before the process may exit. This replaces only that client (posthog-node) with one
// that sends nothing; the load, the metrics and the report are Artillery's own.
const Module = require("node:module");

const load = Module._load;
Module._load = function loadWithoutTelemetry(request, ...rest) {
  if (request === "posthog-node") {
    return {
      PostHog: class {
        capture() {}
        async shutdownAsync() {}
      },
    };
  }
  return load.call(this, request, ...rest);
};
