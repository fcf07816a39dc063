import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { parseEnvelope } from "@driftwatch/core/telemetry/envelope-codec";
import { ValidationError } from "@driftwatch/core/shared/errors";
import { createZoneCipher } from "../storage/zone-cipher.ts";

export const PHI_WARNING =
  "WARNING: the output holds the raw source records IN CLEAR, including PHI (names, dates of birth, patient ids). " +
  "Keep it on this machine, restrict who can read it, and delete it when done.";

export interface RawDecryptResult {
  objects: number;
  records: number;
  out: string;
}

/**
 * Break-glass access to the raw zone in local mode: opens `lake/raw/` objects of the arrival hours overlapping
 * `[fromMs, toMs)` with the local raw key, and writes the source records received in that range as NDJSON
 * (`{topic, receivedAt, messageId, payload}`, payload decoded) to `out`, created with mode 0600, never overwritten.
 */
export function decryptRaw(options: {
  dataDir: string;
  fromMs: number;
  toMs: number;
  out: string;
}): RawDecryptResult {
  const keyFile = path.join(options.dataDir, "keys", "raw-zone.key");
  if (!fs.existsSync(keyFile))
    throw new ValidationError(`no raw zone key at ${keyFile}: is this a local data dir?`);
  const cipher = createZoneCipher(path.join(options.dataDir, "keys"), "raw");
  const root = path.join(options.dataDir, "lake", "raw");
  const hourMs = 3_600_000;
  const hours = new Set<string>();
  for (let t = Math.floor(options.fromMs / hourMs) * hourMs; t < options.toMs; t += hourMs) {
    const iso = new Date(t).toISOString();
    hours.add(`date=${iso.slice(0, 10)}/hour=${iso.slice(11, 13)}`);
  }
  const fd = fs.openSync(options.out, "wx", 0o600);
  let objects = 0;
  let records = 0;
  try {
    for (const hour of [...hours].sort()) {
      const dir = path.join(root, hour);
      if (!fs.existsSync(dir)) continue;
      for (const name of fs.readdirSync(dir).sort()) {
        if (!name.endsWith(".gz.enc")) continue;
        objects += 1;
        const text = zlib.gunzipSync(cipher.decrypt(fs.readFileSync(path.join(dir, name)))).toString("utf8");
        for (const line of text.split("\n")) {
          if (line.trim() === "") continue;
          const envelope = parseEnvelope(line);
          if (envelope.receivedAt < options.fromMs || envelope.receivedAt >= options.toMs) continue;
          const payloadText = Buffer.from(envelope.payload, "base64").toString("utf8");
          let payload: unknown = payloadText;
          try {
            payload = JSON.parse(payloadText);
          } catch {
            // not JSON: kept as text
          }
          fs.writeSync(
            fd,
            JSON.stringify({
              topic: envelope.topic,
              receivedAt: new Date(envelope.receivedAt).toISOString(),
              ...(envelope.messageId ? { messageId: envelope.messageId } : {}),
              payload,
            }) + "\n",
          );
          records += 1;
        }
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return { objects, records, out: options.out };
}
