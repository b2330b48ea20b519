import { describe, expect, it } from "vitest";
import { isZipInState, statesOfZip, US_STATE_NAMES, US_STATES } from "./us-states.ts";

describe("statesOfZip", () => {
  it.each([
    ["75001", ["TX"]],
    ["94105", ["CA"]],
    ["10001", ["NY"]],
    ["02108", ["MA"]],
    ["20500", ["DC"]],
    ["99501", ["AK"]],
    ["96813", ["HI"]],
    ["88510", ["TX"]],
    ["73301", ["TX"]],
    ["39901", ["GA"]],
    ["05501", ["MA"]],
    ["00501", ["NY"]],
    ["94105-1804", ["CA"]],
  ])("puts %s in %j", (zip, states) => {
    expect(statesOfZip(zip)).toEqual(states);
  });

  it("names both states for a prefix that serves towns on both sides of a border", () => {
    expect(statesOfZip("75502")).toEqual(["AR", "TX"]);
    expect(statesOfZip("06390")).toEqual(["CT", "NY"]);
    expect(statesOfZip("71233")).toEqual(["LA", "MS"]);
  });

  it("puts territories, military post offices and non-ZIPs in no state", () => {
    for (const zip of ["00601", "09001", "34001", "96201", "96910", "1234", "ABCDE", ""]) expect(statesOfZip(zip), zip).toEqual([]);
  });
});

describe("the ZIP3 table", () => {
  it("gives every state a name and at least one prefix", () => {
    expect(Object.keys(US_STATE_NAMES).sort()).toEqual([...US_STATES].sort());
    const covered = new Set<string>();
    for (let prefix = 0; prefix < 1000; prefix++) for (const state of statesOfZip(`${String(prefix).padStart(3, "0")}00`)) covered.add(state);
    expect([...covered].sort()).toEqual([...US_STATES].sort());
  });

  it("gives most prefixes a single state (shared prefixes are the exception)", () => {
    let shared = 0;
    for (let prefix = 0; prefix < 1000; prefix++) if (statesOfZip(`${String(prefix).padStart(3, "0")}00`).length > 1) shared += 1;
    expect(shared).toBeLessThanOrEqual(10);
  });

  it("accepts a ZIP code for the state it is in and refuses it for a neighbour", () => {
    expect(isZipInState("94105", "CA")).toBe(true);
    expect(isZipInState("75001", "CA")).toBe(false);
    expect(isZipInState("97201", "WA")).toBe(false);
    expect(isZipInState("97201", "OR")).toBe(true);
  });
});
