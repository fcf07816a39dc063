import fs from "node:fs";
import path from "node:path";
import type { Notification } from "@driftwatch/core/escalation/notification";
import type { Notifier } from "@driftwatch/core/ports/notifier";

/** File name of a notification: one per incident, tier, round and channel (a retried send overwrites it). */
export function outboxFileName(n: Notification): string {
  const channel = n.channel.replace(/[^A-Za-z0-9_-]/g, "_");
  return `${n.incidentId}-t${n.tier}-r${n.round}-${channel}.json`;
}

/**
 * Local notification channel: each notification becomes one JSON file in `$DATA_DIR/outbox/` (contract: at least
 * `{incidentId, tier, channel, subject, body, ackUrl}`), written atomically (temp file + rename). Local mode
 * routes every channel kind here, so a policy written for AWS (`sns:…`, `webhook:…`) also works offline.
 */
export function createOutboxNotifier(
  dir: string,
  onSent?: (n: Notification, file: string) => void,
): Notifier {
  fs.mkdirSync(dir, { recursive: true });
  return {
    async send(notification) {
      const file = path.join(dir, outboxFileName(notification));
      const tmp = `${file}.${process.pid}.tmp`;
      await fs.promises.writeFile(tmp, `${JSON.stringify(notification, null, 2)}\n`, { mode: 0o600 });
      await fs.promises.rename(tmp, file);
      onSent?.(notification, file);
    },
  };
}
