import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LocalKinesisStream } from "../../src/scoring/local-stream.ts";
import { createZoneCipher } from "../../src/storage/zone-cipher.ts";

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dw-stream-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function logText(dir: string): string {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else out.push(fs.readFileSync(full, "utf8"));
    }
  };
  walk(dir);
  return out.join("\n");
}

describe("LocalKinesisStream at rest", () => {
  const payload = JSON.stringify({ device_id: "device8401", name: "Eugenia Gottlieb", dob: "08/27/1977" });

  it("seals record data in its log and opens it again after a restart", () => {
    const dir = tempDir();
    const cipher = createZoneCipher(path.join(dir, "keys"), "stream");
    const streamDir = path.join(dir, "stream");
    const first = new LocalKinesisStream({ dir: streamDir, streamName: "t", cipher });
    const put = first.put("device8401", Buffer.from(payload));
    first.close();

    const text = logText(streamDir);
    expect(text).toContain(put.sequenceNumber);
    // Neither the clear payload nor its base64 (what Lambda's event carries) is on disk.
    expect(text).not.toContain("Gottlieb");
    expect(text).not.toContain(Buffer.from(payload).toString("base64").slice(0, 40));

    const second = new LocalKinesisStream({ dir: streamDir, streamName: "t", cipher });
    const [record] = second.read(second.shardFor("device8401"), null, 10);
    expect(record.sequenceNumber).toBe(put.sequenceNumber);
    expect(Buffer.from(record.data, "base64").toString("utf8")).toBe(payload);
    second.close();
  });

  it("refuses to re-read a sealed log without its key instead of skipping records", () => {
    const dir = tempDir();
    const streamDir = path.join(dir, "stream");
    const sealed = new LocalKinesisStream({
      dir: streamDir,
      streamName: "t",
      cipher: createZoneCipher(path.join(dir, "keys"), "stream"),
    });
    sealed.put("device8401", Buffer.from(payload));
    sealed.close();
    expect(() => new LocalKinesisStream({ dir: streamDir, streamName: "t" })).toThrow(/no cipher/);
  });
});
