import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadLocalIdentity } from "../packages/local/src/runtime/local-identity.ts";
import {
  allFiles,
  connectMqtt,
  endMqtt,
  publish,
  readZone,
  runCli,
  startLocalInstance,
  type LocalInstance,
} from "../packages/local/test/helpers/local-instance.ts";

/**
 * Done-when of issue 10, in local mode (`driftwatch start` as a child process): after publishing a device's readings,
 * `POST /api/backtest` for that device and range with a candidate bound below some published values returns
 * `readings` = number published, `candidate.alerts` ≥ 1 and `current.alerts` = 0 (no bound set); `replay` of the
 * range under two detector settings and `replay compare` print their differences; `raw decrypt` writes the source
 * records; live incidents, metrics and models are unchanged by all of it.
 */
const N = 40;
const SPIKES = new Set([12, 20, 27, 33, 38]);
const deviceId = "press-it-1";
let instance: LocalInstance;
let env: Record<string, string>;
let base: number;
let tokens: { operator: string; viewer: string };
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dw-backtest-it-"));

const api = (route: string, token: string, init: RequestInit = {}) =>
  fetch(`http://127.0.0.1:${instance.httpPort}${route}`, {
    ...init,
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
      ...(init.headers ?? {}),
    },
  });

async function liveSnapshot() {
  const incidents = await (await api("/api/incidents", tokens.viewer)).text();
  const metrics = await (await api(`/api/devices/${deviceId}/metrics`, tokens.viewer)).text();
  // Models, stuck runs and presence; not `checkpoints/esm/`, the stream emulator's own position, rewritten every window,
  // nor `*.tmp`: the first half of an atomic write (write, then rename) the live scorer may have in flight.
  const models = allFiles(path.join(instance.dataDir, "checkpoints"))
    .filter((file) => !path.relative(path.join(instance.dataDir, "checkpoints"), file).startsWith("esm"))
    .filter((file) => !file.endsWith(".tmp"))
    .sort()
    .map(
      (file) =>
        `${path.relative(instance.dataDir, file)}:${crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex")}`,
    );
  return { incidents, metrics, models };
}

beforeAll(async () => {
  instance = await startLocalInstance({
    // Silence off: the live path would open a silence incident some windows after the burst of readings ends, a
    // change of live state that neither backtest nor replay causes (the backtest's own silence handling at the end
    // of a range is covered in core's tests).
    env: {
      DRIFTWATCH_WINDOW_SECONDS: "2",
      DRIFTWATCH_SILENCE_WINDOWS: "0",
      DRIFTWATCH_ACK_TIMEOUT_SECONDS: "600",
    },
  });
  env = { HTTP_PORT: String(instance.httpPort), DRIFTWATCH_DATA_DIR: instance.dataDir };
  const identity = await loadLocalIdentity(path.join(instance.dataDir, "keys"));
  tokens = {
    operator: (await identity.sign({ user: "op@example.com", role: "operator" })).token,
    viewer: (await identity.sign({ user: "viewer@example.com", role: "viewer" })).token,
  };
  const imported = await api("/api/devices", tokens.operator, {
    method: "POST",
    body: JSON.stringify([{ deviceId, manufacturer: "acme", model: "p100", site: "plant-a" }]),
  });
  expect(imported.status, await imported.text()).toBe(200);

  // Readings with event times in the recent past, 5 s apart; values around 3.5, spikes of 9.
  base = Math.floor(Date.now() / 1000) * 1000 - 10 * 60_000;
  const client = await connectMqtt(instance.mqttPort);
  for (let i = 0; i < N; i++) {
    const value = SPIKES.has(i) ? 9 : 3 + ((i * 7) % 10) / 10;
    await publish(
      client,
      `dt/plant-a/${deviceId}/telemetry`,
      JSON.stringify({
        deviceId,
        ts: new Date(base + i * 5_000).toISOString(),
        metrics: { pressure: value },
      }),
    );
  }
  await endMqtt(client);

  // Wait until the lake holds every reading and the live path has stored every one in its window aggregates.
  const deadline = Date.now() + 90_000;
  for (;;) {
    const lake = readZone(instance.dataDir, "readings").filter((r) => r.deviceId === deviceId).length;
    const rows = (await (await api(`/api/devices/${deviceId}/metrics`, tokens.viewer)).json()) as {
      count: number;
    }[];
    const counted = rows.reduce((sum, r) => sum + r.count, 0);
    if (
      lake === N &&
      counted === N &&
      allFiles(path.join(instance.dataDir, "checkpoints", "models")).length > 0
    )
      break;
    if (Date.now() > deadline)
      throw new Error(`lake ${lake}/${N}, metrics ${counted}/${N}:\n${instance.output()}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  // Live state settled: two consecutive snapshots agree.
  let previous = JSON.stringify(await liveSnapshot());
  for (;;) {
    await new Promise((r) => setTimeout(r, 2_500));
    const next = JSON.stringify(await liveSnapshot());
    if (next === previous) break;
    previous = next;
  }
}, 180_000);

afterAll(async () => {
  await instance?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("backtest and replay from the lake (local mode)", () => {
  it("POST /api/backtest: readings = published, candidate alerts on the bound, none with no bound set; live state unchanged", async () => {
    const before = await liveSnapshot();
    const res = await api("/api/backtest", tokens.viewer, {
      method: "POST",
      body: JSON.stringify({
        deviceId,
        from: new Date(base).toISOString(),
        to: new Date(base + N * 5_000).toISOString(),
        rule: { bounds: { pressure: { max: 5 } } },
      }),
    });
    const text = await res.text();
    expect(res.status, text).toBe(200);
    const out = JSON.parse(text);
    expect(out.readings).toBe(N);
    expect(out.current.alerts).toBe(0);
    expect(out.candidate.alerts).toBeGreaterThanOrEqual(1);
    expect(out.candidate.byRule["bound:pressure:high"]).toBe(SPIKES.size);
    expect(out.candidate.readingsInvolved).toBe(SPIKES.size);
    // Which detector results it used (ADR 0903): every reading of the range is counted on one side or the other.
    expect(["archived", "forest"]).toContain(out.detector.source);
    expect(out.detector.archivedVerdicts + out.detector.readingsWithoutVerdict).toBe(N);

    const bad = await api("/api/backtest", tokens.viewer, {
      method: "POST",
      body: JSON.stringify({ deviceId, from: "x", to: new Date().toISOString(), rule: {} }),
    });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("from");
    expect(await liveSnapshot()).toEqual(before);
  });

  it("replay of two detector settings into labels, compare prints where they differ; raw decrypt; live state unchanged", async () => {
    const before = await liveSnapshot();
    const range = ["--from", new Date(base).toISOString(), "--to", new Date(base + N * 5_000).toISOString()];
    const a = await runCli(["replay", ...range, "--label", "kda", "--no-progress"], env);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toContain(`${N} readings`);
    // A small, quick forest, no per-series normalisation (it needs its own warm-up) and an eager thresholder: it
    // scores after 8 points, where the KDA forest needs 256.
    const small = JSON.stringify({
      forest: { numberOfTrees: 20, sampleSize: 8, outputAfter: 8 },
      thresholder: { warmup: 5, smoothing: 1, suppression: 1, zFactor: 2, tailRisk: 1 },
      normalize: false,
    });
    const b = await runCli(
      ["replay", ...range, "--label", "small", "--detector", small, "--no-progress"],
      env,
    );
    expect(b.code, b.stderr).toBe(0);
    const replays = path.join(instance.dataDir, "lake", "replays");
    const alertsOf = (label: string) =>
      zlib
        .gunzipSync(fs.readFileSync(path.join(replays, label, "alerts.ndjson.gz")))
        .toString()
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { rule: string; windowStart: string });
    const scores = zlib
      .gunzipSync(fs.readFileSync(path.join(replays, "kda", "scores.ndjson.gz")))
      .toString()
      .split("\n")
      .filter(Boolean);
    expect(scores).toHaveLength(N);
    const aggregates = zlib
      .gunzipSync(fs.readFileSync(path.join(replays, "kda", "aggregates.ndjson.gz")))
      .toString()
      .split("\n")
      .filter(Boolean);
    expect(aggregates.map((l) => JSON.parse(l).count as number).reduce((x, y) => x + y, 0)).toBe(N);

    const compare = await runCli(["replay", "compare", "kda", "small", "--json"], env);
    expect(compare.code, compare.stderr).toBe(0);
    const result = JSON.parse(compare.stdout) as { differences: { rule: string; a: number; b: number }[] };
    const kdaAnomalies = alertsOf("kda").filter((x) => x.rule === "anomaly").length;
    const smallAnomalies = alertsOf("small").filter((x) => x.rule === "anomaly").length;
    expect(kdaAnomalies).toBe(0); // the KDA forest outputs nothing before 256 points
    expect(smallAnomalies).toBeGreaterThan(0);
    expect(result.differences).toContainEqual(
      expect.objectContaining({ deviceId, rule: "anomaly", a: 0, b: smallAnomalies }),
    );
    const table = await runCli(["replay", "compare", "kda", "small"], env);
    expect(table.stdout).toMatch(new RegExp(`${deviceId}\\s+anomaly\\s+0\\s+${smallAnomalies}`));

    const out = path.join(dir, "raw.ndjson");
    const raw = await runCli(
      [
        "raw",
        "decrypt",
        "--from",
        new Date(Date.now() - 3_600_000).toISOString(),
        "--to",
        new Date(Date.now() + 60_000).toISOString(),
        "--out",
        out,
      ],
      env,
    );
    expect(raw.code, raw.stderr).toBe(0);
    expect(raw.stderr).toMatch(/PHI/);
    const records = fs
      .readFileSync(out, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(records.filter((r) => r.payload?.deviceId === deviceId)).toHaveLength(N);
    expect(fs.statSync(out).mode & 0o777).toBe(0o600);

    expect(await liveSnapshot()).toEqual(before);
  });
});
