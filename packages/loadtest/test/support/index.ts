// The load tester's test support, one import for every test: local servers and ports, waiting, child processes, the
// real checkout service, this tool and Artillery run side by side, and scripts.
export { freePort, listen, startTestServer, useTestServers, type TestServer } from "./net.ts";
export { exited, waitUntil } from "./wait.ts";
export { useTemporaryFolders } from "./folders.ts";
export { collectOutput, repoRoot, runToExit } from "./processes.ts";
export { startService, type RunningService } from "./service.ts";
export { failedVerdicts, runArtillery, runOurs, scriptsDir, toArtilleryNames, type OurRun, type RunArgs, type ToolRun } from "./load-tools.ts";
export { buildScript, loadScript, plannedArrivals, requestsPerFlow, shippedScripts, withPhaseDurations } from "./scripts.ts";
