import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  connectMqtt,
  endMqtt,
  publish,
  readZone,
  repoRoot,
} from "../packages/local/test/helpers/local-instance.ts";

/**
 * `npm start` stopped by a service manager or a container runtime: SIGTERM goes to npm (the runtime's parent),
 * not to the process group. The runtime must stop as with Ctrl-C — flush the Firehose buffer, release the ports
 * and the pid file — within 10 s, leaving no process behind.
 */
const groupAlive = (pgid: number) => {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms: number) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const portFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });

describe("npm start under SIGTERM", () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "driftwatch-sigterm-"));
  let npm: ChildProcess | undefined;

  afterAll(() => {
    if (npm?.pid !== undefined && groupAlive(npm.pid)) process.kill(-npm.pid, "SIGKILL");
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("stops the whole runtime within 10 s, flushes the buffer, leaves no process and no pid file", async () => {
    // Own process group (detached), so the test can see every process npm started, and a long Firehose buffer:
    // only the shutdown flush can deliver the message below.
    npm = spawn("npm", ["start", "--", "--quiet"], {
      cwd: repoRoot,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        DRIFTWATCH_DATA_DIR: dataDir,
        MQTT_PORT: "0",
        HTTP_PORT: "0",
        DRIFTWATCH_FIREHOSE_BUFFER_SECONDS: "300",
        // The Firehose feed buffers readings in memory until its interval: the shutdown flush is what is tested.
        // (The default stream feed writes each batch to the lake before it acknowledges, nothing to flush.)
        DRIFTWATCH_LAKE_FEED: "firehose",
        NODE_ENV: "production",
      },
    });
    let output = "";
    npm.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    npm.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    const exited = new Promise<number | null>((resolve) => npm!.once("exit", (code) => resolve(code)));
    const pgid = npm.pid!;

    await until("the banner", () => (/Ctrl-C stops/.test(output) ? true : undefined), 90_000);
    const mqttPort = Number(/mqtt:\/\/127\.0\.0\.1:(\d+)/.exec(output)![1]);
    const httpPort = Number(/http:\/\/127\.0\.0\.1:(\d+)/.exec(output)![1]);
    expect(fs.existsSync(path.join(dataDir, "driftwatch.pid"))).toBe(true);

    const client = await connectMqtt(mqttPort);
    await publish(
      client,
      "dt/plant-7/pump-1/telemetry",
      JSON.stringify({ pressure: 3.1, ts: 1767225600000 }),
    );
    await endMqtt(client);
    await until(
      "the message in the Firehose buffer",
      async () => {
        const status = (await (await fetch(`http://127.0.0.1:${httpPort}/api/status`)).json()) as {
          counters: Record<string, number>;
        };
        return status.counters["firehose.buffered"]! >= 1 ? true : undefined;
      },
      30_000,
    );
    expect(readZone(dataDir, "raw")).toEqual([]);

    const signalledAt = Date.now();
    process.kill(pgid, "SIGTERM"); // npm only, not the group
    await until("every process of the group to exit", () => (groupAlive(pgid) ? undefined : true), 10_000);
    expect(Date.now() - signalledAt).toBeLessThan(10_000);
    expect(await exited).toBe(0);

    expect(output).toContain("SIGTERM: flushing and stopping");
    expect(readZone(dataDir, "raw")).toHaveLength(1);
    expect(fs.existsSync(path.join(dataDir, "driftwatch.pid"))).toBe(false);
    expect(await portFree(httpPort)).toBe(true);
    expect(await portFree(mqttPort)).toBe(true);
  });
});
