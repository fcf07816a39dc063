import { spawn } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";

/**
 * Regression: `runtime.stop()` with an execution parked on its acknowledgement left aws-local-stepfunctions' task
 * timeout timer (the tier's ack timeout, 300 s here) running, so an in-process user did not exit until it fired.
 */
describe("local escalation shutdown", () => {
  it("lets the process exit promptly after stop() while an execution waits for acknowledgement", async () => {
    const script = path.join(import.meta.dirname, "support", "escalation-stop-script.ts");
    const tsx = path.join(import.meta.dirname, "..", "node_modules", ".bin", "tsx");
    const child = spawn(tsx, [script], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    let stoppedAt = 0;
    child.stdout.on("data", () => {
      if (!stoppedAt && stdout.includes("stopped")) stoppedAt = Date.now();
    });
    const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    clearTimeout(killer);
    expect(stdout, stderr).toContain("stopped ABORTED");
    expect(code).toBe(0);
    // Exited by itself, well before the 300 s tier timeout (and before the 60 s kill above).
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
  });
});
