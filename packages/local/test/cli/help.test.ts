import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { commands } from "../../src/cli/commands/index.ts";

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../bin/driftwatch.js");
const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [bin, ...args], {
    encoding: "utf8",
    env: { ...process.env, COLUMNS: "100", ...env },
  });

describe("driftwatch --help", () => {
  it("answers without the TypeScript loader, exactly as the full CLI does, listing every command", () => {
    const fast = run(["--help"], { NODE_DEBUG: "module" });
    expect(fast.status).toBe(0);
    // The fast path never loads tsx/esbuild (that alone costs ~0.5 s of CPU).
    expect(fast.stderr).not.toMatch(/esbuild|tsx/);
    const full = run(["--help"], { DRIFTWATCH_NO_FAST_HELP: "1" });
    expect(full.status).toBe(0);
    expect(fast.stdout).toBe(full.stdout);
    for (const command of commands) expect(fast.stdout).toMatch(new RegExp(`^  ${command.name} `, "m"));
    expect(run(["help"]).stdout).toBe(full.stdout);
  });
});
