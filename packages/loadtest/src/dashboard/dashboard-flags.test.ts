// The dashboard's flags, taken out of a command's arguments before parseArgs sees them.
import { describe, expect, it } from "vitest";
import { takeDashboardFlags } from "./dashboard-flags.ts";
import { DashboardError } from "./dashboard-server.ts";

describe("takeDashboardFlags", () => {
  it("takes --dashboard with no port as a free port, wherever it stands", () => {
    expect(takeDashboardFlags(["script.yml", "--dashboard"])).toEqual({ args: ["script.yml"], dashboard: { port: 0, lingerSeconds: 0 } });
    expect(takeDashboardFlags(["--dashboard", "script.yml", "-o", "r.json"])).toEqual({ args: ["script.yml", "-o", "r.json"], dashboard: { port: 0, lingerSeconds: 0 } });
    expect(takeDashboardFlags(["--dashboard", "--workers", "2", "script.yml"])).toEqual({ args: ["--workers", "2", "script.yml"], dashboard: { port: 0, lingerSeconds: 0 } });
  });

  it("takes the number after --dashboard, or after =, as its port", () => {
    expect(takeDashboardFlags(["script.yml", "--dashboard", "8089"]).dashboard).toEqual({ port: 8089, lingerSeconds: 0 });
    expect(takeDashboardFlags(["--dashboard=8089", "script.yml"])).toEqual({ args: ["script.yml"], dashboard: { port: 8089, lingerSeconds: 0 } });
  });

  it("takes --dashboard-linger in seconds", () => {
    expect(takeDashboardFlags(["s.yml", "--dashboard", "--dashboard-linger", "30"])).toEqual({ args: ["s.yml"], dashboard: { port: 0, lingerSeconds: 30 } });
    expect(takeDashboardFlags(["--dashboard-linger=2.5", "s.yml", "--dashboard=9000"])).toEqual({ args: ["s.yml"], dashboard: { port: 9000, lingerSeconds: 2.5 } });
  });

  it("leaves arguments without the flags, and anything after --, as they are", () => {
    expect(takeDashboardFlags(["s.yml", "-o", "r.json"])).toEqual({ args: ["s.yml", "-o", "r.json"], dashboard: undefined });
    expect(takeDashboardFlags(["s.yml", "--", "--dashboard"])).toEqual({ args: ["s.yml", "--", "--dashboard"], dashboard: undefined });
  });

  it.each([
    [["--dashboard=http"], '--dashboard takes a port from 1 to 65535, or nothing (or 0) for a free port; got "http"'],
    [["--dashboard", "70000"], '--dashboard takes a port from 1 to 65535, or nothing (or 0) for a free port; got "70000"'],
    [["--dashboard", "--dashboard-linger", "-1"], '--dashboard-linger takes a number of seconds (0 or more); got "-1"'],
    [["--dashboard", "--dashboard-linger"], "--dashboard-linger takes a number of seconds (0 or more); got nothing"],
    [["--dashboard-linger", "5"], "--dashboard-linger needs --dashboard"],
  ])("refuses %j with a DashboardError", (args, message) => {
    expect(() => takeDashboardFlags(args)).toThrow(DashboardError);
    expect(() => takeDashboardFlags(args)).toThrow(message);
  });
});
