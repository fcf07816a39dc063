import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  connectMqtt,
  endMqtt,
  publish,
  repoRoot,
  runCli,
  startLocalInstance,
  type LocalInstance,
} from "../packages/local/test/helpers/local-instance.ts";

/**
 * The web console (packages/web) in real Chromium — Debian's /usr/bin/chromium driven by playwright-core, never a
 * downloaded browser — against a real local runtime (`driftwatch start` on free ports, temp data dir, 2 s windows):
 * fleet and device chart after readings arrive; a threshold edit previewed by backtest, saved and shown in history;
 * the incident that bound opens, acknowledged from the incidents page; a viewer who cannot act. Every wait is a
 * Playwright locator wait on a condition. Screenshots of each page go to test-results/screenshots/.
 */
const CHROMIUM = process.env.DRIFTWATCH_CHROMIUM ?? "/usr/bin/chromium";
const hasChromium = fs.existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(
    `console browser tests skipped: ${CHROMIUM} is absent (apt-get install -y chromium; .ci/run does)`,
  );
}

const SHOTS = path.join(repoRoot, "test-results", "screenshots");
const DEVICE = "pump-7";
const WEB_DIST = path.join(repoRoot, "packages/web/dist/index.html");

let instance: LocalInstance;
let base: string;
let context: BrowserContext;
let page: Page;
/** The local package's own mqtt client type (the root node_modules holds an older mqtt that sst pulls in). */
let client: Awaited<ReturnType<typeof connectMqtt>>;
let publisher: ReturnType<typeof setInterval> | undefined;
let pressure = 3;
const problems: string[] = [];
const profiles: string[] = [];

/** Quiet, offline-friendly flags: no GPU, no QUIC, no first-run, sync, component updates or background traffic. */
const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Chromium with a fresh profile (its own --user-data-dir, removed after the file): nothing carries over. */
async function launch(viewport: { width: number; height: number }): Promise<BrowserContext> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "driftwatch-chromium-"));
  profiles.push(profile);
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport,
  });
}

/** A fresh page that records console errors and uncaught exceptions (the console must produce none). */
async function newPage(ctx: BrowserContext): Promise<Page> {
  const p = await ctx.newPage();
  p.on("console", (msg) => {
    if (msg.type() === "error") problems.push(`console error: ${msg.text()} (${msg.location().url})`);
  });
  p.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  p.on("response", (res) => {
    if (res.status() >= 500)
      problems.push(`HTTP ${res.status()} from ${res.request().method()} ${res.url()}`);
  });
  return p;
}

async function shot(p: Page, name: string): Promise<void> {
  await p.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

describe.skipIf(!hasChromium)("web console in Chromium (local mode)", () => {
  beforeAll(async () => {
    fs.mkdirSync(SHOTS, { recursive: true });
    // CI and `npm install` build the console; build it here too when a developer runs this test on a fresh tree.
    if (!fs.existsSync(WEB_DIST))
      execFileSync("npm", ["run", "build:web"], { cwd: repoRoot, stdio: "inherit" });
    instance = await startLocalInstance({
      env: { DRIFTWATCH_WINDOW_SECONDS: "2", DRIFTWATCH_ACK_TIMEOUT_SECONDS: "600" },
    });
    base = `http://127.0.0.1:${instance.httpPort}`;
    // Register the devices through the API with the local operator's session (what the console itself gets).
    const session = (await (await fetch(`${base}/local/session`)).json()) as { token: string };
    const imported = await fetch(`${base}/api/devices`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${session.token}` },
      body: JSON.stringify([
        { deviceId: DEVICE, manufacturer: "Acme", model: "P-100", site: "plant-a" },
        { deviceId: "fan-3", manufacturer: "Breeze", model: "F-2", site: "plant-b" },
      ]),
    });
    expect(imported.status, await imported.clone().text()).toBe(200);
    client = await connectMqtt(instance.mqttPort);
    // A steady device: one reading every 250 ms for the whole file (the `pressure` level is raised later on).
    let n = 0;
    publisher = setInterval(() => {
      n += 1;
      const reading = {
        deviceId: DEVICE,
        ts: new Date().toISOString(),
        metrics: { pressure: pressure + (n % 5) * 0.01, temperature: 40 + (n % 7) * 0.1 },
      };
      publish(client, `dt/plant-a/${DEVICE}/telemetry`, JSON.stringify(reading)).catch(() => {});
    }, 250);
    context = await launch({ width: 1366, height: 768 });
    page = await newPage(context);
  });

  afterEach(() => {
    const found = problems.splice(0);
    const log = found.length
      ? `\n--- local runtime output (tail) ---\n${instance.output().slice(-4000)}`
      : "";
    expect(found, `${found.join("\n")}${log}`).toEqual([]);
  });

  afterAll(async () => {
    if (publisher) clearInterval(publisher);
    if (client) await endMqtt(client);
    await context?.close();
    await instance?.stop();
    for (const profile of profiles) fs.rmSync(profile, { recursive: true, force: true });
  });

  it("shows the registered device in the fleet and its charts after readings arrive", async () => {
    await page.goto(`${base}/`);
    await expect.poll(() => page.getByTestId("who").textContent()).toContain("operator");
    const row = page.getByTestId(`device-row-${DEVICE}`);
    await row.waitFor();
    await row.getByRole("cell", { name: "plant-a" }).waitFor();
    // Search filters the list (server-side).
    await page.getByLabel("Search").fill("fan");
    await row.waitFor({ state: "detached" });
    await page.getByLabel("Search").fill("");
    await row.waitFor();
    await row.getByText(/s ago|min ago/).waitFor({ timeout: 30_000 });
    await shot(page, "fleet");

    await row.getByRole("link", { name: DEVICE }).click();
    await page.getByRole("heading", { name: `Device ${DEVICE}` }).waitFor();
    // uPlot draws on canvas once closed windows exist: one chart per metric plus the score chart.
    await page.getByTestId("charts").locator("canvas").nth(2).waitFor({ timeout: 60_000 });
    await page.getByRole("img", { name: /^pressure: window average/ }).waitFor();
    await page.getByTestId("effective").waitFor();
    await shot(page, "device");
  });

  it("edits a threshold with inline validation and a backtest preview, and shows it in the history", async () => {
    await page.goto(`${base}/#/thresholds?scope=${encodeURIComponent(`devices/${DEVICE}`)}`);
    await page.getByRole("heading", { name: `Edit devices/${DEVICE}` }).waitFor();
    await page.getByRole("button", { name: "Add bound" }).click();
    await page.locator('input[name="bounds.0.metric"]').fill("pressure");
    await page.locator('input[name="bounds.0.min"]').fill("9");
    await page.locator('input[name="bounds.0.max"]').fill("5");
    await page.getByText("min must not exceed max").waitFor();
    await expect.poll(() => page.getByRole("button", { name: "Save" }).isDisabled()).toBe(true);
    await page.locator('input[name="bounds.0.min"]').fill("");
    await page.getByTestId("save-reason").getByText("Preview the change first").waitFor();

    // A bound inside the device's range (3.00–3.04) would have alerted: the preview charts its alerts per hour
    // beside the current rules' (none). This chart is the one docs/backtest.md shows (DRIFTWATCH_DOCS_SHOTS=1
    // writes it to docs/backtest-chart.png).
    await page.locator('input[name="bounds.0.max"]').fill("3.02");
    await page.getByRole("button", { name: "Preview (last 24 h)" }).click();
    const preview = page.getByTestId("backtest-result");
    await preview
      .getByText(/would have raised [1-9]\d* alerts? in the last 24 h instead of 0/)
      .waitFor({ timeout: 60_000 });
    const chart = preview.getByTestId("backtest-chart");
    await chart.locator("rect.bar-candidate").first().waitFor();
    await preview.screenshot({ path: path.join(SHOTS, "backtest-chart.png") });
    if (process.env.DRIFTWATCH_DOCS_SHOTS === "1")
      await preview.screenshot({ path: path.join(repoRoot, "docs", "backtest-chart.png") });

    await page.locator('input[name="bounds.0.max"]').fill("5");
    await page.getByTestId("save-reason").getByText("Preview the change first").waitFor();
    await page.getByRole("button", { name: "Preview (last 24 h)" }).click();
    await preview
      .getByText(/would have raised \d+ alerts? in the last 24 h instead of \d+/)
      .waitFor({ timeout: 60_000 });
    await shot(page, "thresholds-preview");
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByTestId("save-status").getByText("Saved.").waitFor();
    const history = page.getByTestId("history");
    await history.getByText("local-operator").first().waitFor();
    await history
      .getByText(/"pressure":\{"max":5\}/)
      .first()
      .waitFor();
    await page.getByTestId("inheritance").getByText("set here").waitFor();
    await shot(page, "thresholds");
  });

  it("acknowledges the incident the new bound opens, from the incidents page", async () => {
    pressure = 9; // beyond the max of 5 saved above → a bound:pressure:high incident
    await page.goto(`${base}/#/incidents?state=open`);
    const link = page.getByRole("row").filter({ hasText: "bound:pressure:high" }).getByRole("link").first();
    await link.waitFor({ timeout: 60_000 }); // appears without a reload (polling)
    pressure = 3;
    await link.click();
    const detail = page.getByTestId("incident-detail");
    await detail.getByRole("heading", { name: /bound:pressure:high on pump-7/ }).waitFor();
    await detail.getByRole("button", { name: "Acknowledge" }).click();
    await detail.getByText("acknowledged by local-operator").waitFor();
    await detail.locator(".timeline").getByText("acknowledged", { exact: true }).waitFor();
    // The list (filtered to open) follows without a reload.
    await link.waitFor({ state: "detached" });
    await shot(page, "incidents");

    // The device page now shows the bound it inherits from its own scope and the incident on the time axis.
    await detail.getByRole("link", { name: DEVICE }).click();
    await page.getByRole("heading", { name: `Device ${DEVICE}` }).waitFor();
    await page
      .getByTestId("effective")
      .getByRole("row", { name: /pressure max/ })
      .getByText(`from devices/${DEVICE}`)
      .waitFor();
    await page.getByRole("img", { name: /^pressure: window average.*max bound 5/ }).waitFor();
    await page.getByText("bound:pressure:high").first().waitFor();
    await shot(page, "device-incident");
  });

  it("lets a viewer look but not act: buttons disabled with the reason", async () => {
    await page.goto("about:blank"); // the operator's console stops polling while the viewer looks
    const env = { HTTP_PORT: String(instance.httpPort), DRIFTWATCH_DATA_DIR: instance.dataDir };
    const minted = await runCli(["token", "--role", "viewer", "--user", "vera"], env);
    expect(minted.code, minted.stderr).toBe(0);
    const token = minted.stdout.trim().split(/\s+/).at(-1) ?? "";
    const viewerContext = await launch({ width: 1280, height: 720 });
    const viewer = await newPage(viewerContext);
    try {
      await viewer.goto(`${base}/#token=${encodeURIComponent(token)}`);
      await viewer.getByTestId("who").getByText("viewer").waitFor();
      expect(await viewer.getByTestId("who").textContent()).toContain("vera");
      expect(viewer.url()).not.toContain(token); // the token leaves the address bar at once

      await viewer.getByRole("link", { name: "Incidents" }).click();
      await viewer
        .getByRole("row")
        .filter({ hasText: "bound:pressure:high" })
        .getByRole("link")
        .first()
        .click();
      const detail = viewer.getByTestId("incident-detail");
      await detail.getByTestId("viewer-reason").waitFor();
      expect(await detail.getByRole("button", { name: "Acknowledge" }).isDisabled()).toBe(true);
      expect(await detail.getByRole("button", { name: "Resolve" }).isDisabled()).toBe(true);
      await shot(viewer, "incidents-viewer");

      await viewer.getByRole("link", { name: "Thresholds" }).click();
      await viewer.getByRole("heading", { name: "Edit global" }).waitFor();
      await viewer
        .getByTestId("save-reason")
        .getByText(/Viewers can look but not change/)
        .waitFor();
      expect(await viewer.getByRole("button", { name: "Save" }).isDisabled()).toBe(true);
      expect(await viewer.getByRole("button", { name: "Add bound" }).isDisabled()).toBe(true);
      await shot(viewer, "thresholds-viewer");
    } finally {
      await viewerContext.close();
    }
  });
});
