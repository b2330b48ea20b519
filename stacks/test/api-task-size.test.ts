// The deployed API task size is one Fargate accepts and the autoscaling bounds make sense.
import { describe, expect, it } from "vitest";
import { API_TASK_SIZE, vcpuOf } from "../api-task-size.ts";

/** Fargate's CPU units → allowed memory (MiB), from the ECS task-size table (Linux, non-Windows). */
function fargateMemoryChoices(cpu: number): number[] {
  const range = (from: number, to: number, step: number) => Array.from({ length: (to - from) / step + 1 }, (_, i) => from + i * step);
  switch (cpu) {
    case 256:
      return [512, 1024, 2048];
    case 512:
      return range(1024, 4096, 1024);
    case 1024:
      return range(2048, 8192, 1024);
    case 2048:
      return range(4096, 16384, 1024);
    case 4096:
      return range(8192, 30720, 1024);
    default:
      return [];
  }
}

describe("API_TASK_SIZE", () => {
  it("is a CPU and memory pair Fargate accepts", () => {
    expect(fargateMemoryChoices(API_TASK_SIZE.cpu)).toContain(API_TASK_SIZE.memoryMiB);
  });

  it("runs one API process per vCPU", () => {
    expect(API_TASK_SIZE.apiProcessesPerTask).toBe(vcpuOf(API_TASK_SIZE));
  });

  it("scales from 2 tasks (one per availability zone) to the capacity plan's 12", () => {
    expect([API_TASK_SIZE.minTasks, API_TASK_SIZE.maxTasks]).toEqual([2, 12]);
  });
});
