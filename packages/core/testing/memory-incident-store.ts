import { IncidentNotFoundError } from "../src/incidents/errors.ts";
import { ACTIVE_STATES, type Incident } from "../src/incidents/incident.ts";
import type { IncidentStore, IncidentRecord } from "../src/ports/incident-store.ts";

/**
 * An in-memory IncidentStore with the same conditional semantics as the DynamoDB adapter (test double for the
 * core use cases; the adapter itself is tested against dynalite). Every call yields once, so concurrent callers
 * interleave like separate requests.
 */
export class MemoryIncidentStore implements IncidentStore {
  readonly items = new Map<
    string,
    { incident: Incident; taskToken?: string; notified: Set<string>; alertIds: Set<string> }
  >();
  readonly pointers = new Map<string, { incidentId: string; createdAt: string }>();
  private tick = () => new Promise<void>((r) => setImmediate(r));
  private key = (deviceId: string, rule: string) => `${deviceId}\u0000${rule}`;

  async get(id: string): Promise<IncidentRecord | undefined> {
    await this.tick();
    const item = this.items.get(id);
    return (
      item && {
        incident: structuredClone(item.incident),
        taskToken: item.taskToken,
        notified: [...item.notified],
      }
    );
  }
  async list() {
    await this.tick();
    return [...this.items.values()]
      .map((i) => structuredClone(i.incident))
      .sort((a, b) => b.openedAt.localeCompare(a.openedAt));
  }
  async openPointer(deviceId: string, rule: string) {
    await this.tick();
    return this.pointers.get(this.key(deviceId, rule));
  }
  async open(incident: Incident) {
    await this.tick();
    const k = this.key(incident.deviceId, incident.rule);
    const existing = this.pointers.get(k);
    if (existing && existing.incidentId !== incident.id) {
      return {
        outcome: "conflict" as const,
        openIncidentId: existing.incidentId,
        pointerCreatedAt: existing.createdAt,
      };
    }
    if (!existing) this.pointers.set(k, { incidentId: incident.id, createdAt: incident.openedAt });
    await this.tick();
    if (this.items.has(incident.id)) return { outcome: "exists" as const };
    this.items.set(incident.id, {
      incident: structuredClone(incident),
      notified: new Set(),
      alertIds: new Set([incident.openedByAlertId]),
    });
    return { outcome: "opened" as const };
  }
  async takeOverPointer(incident: Incident, stale: string) {
    await this.tick();
    const k = this.key(incident.deviceId, incident.rule);
    if (this.pointers.get(k)?.incidentId !== stale) return false;
    this.pointers.set(k, { incidentId: incident.id, createdAt: incident.openedAt });
    return true;
  }
  async fold(id: string, o: { alertId: string; at: string; entry?: Incident["timeline"][number] }) {
    await this.tick();
    const item = this.items.get(id);
    if (!item) return "missing" as const;
    if (item.alertIds.has(o.alertId)) return "duplicate" as const;
    if (!ACTIVE_STATES.includes(item.incident.state)) return "inactive" as const;
    item.alertIds.add(o.alertId);
    item.incident.occurrences += 1;
    item.incident.lastOccurrenceAt = o.at;
    if (o.entry) item.incident.timeline.push(o.entry);
    return "folded" as const;
  }
  async update(id: string, change: Parameters<IncidentStore["update"]>[1]) {
    await this.tick();
    const item = this.items.get(id);
    if (!item) throw new IncidentNotFoundError(`incident ${id} not found`);
    if (change.expectStates && !change.expectStates.includes(item.incident.state)) return undefined;
    const previousTaskToken = item.taskToken;
    if (change.state) item.incident.state = change.state;
    Object.assign(
      item.incident,
      Object.fromEntries(Object.entries(change.set ?? {}).filter(([, v]) => v !== undefined)),
    );
    if (change.entry) item.incident.timeline.push(change.entry);
    if (typeof change.taskToken === "string") item.taskToken = change.taskToken;
    if (change.taskToken === null) item.taskToken = undefined;
    return { incident: structuredClone(item.incident), previousTaskToken };
  }
  async markNotified(
    id: string,
    key: string,
    entry: Incident["timeline"][number],
    tier: number,
    round: number,
  ) {
    await this.tick();
    const item = this.items.get(id);
    if (!item) throw new IncidentNotFoundError(`incident ${id} not found`);
    item.notified.add(key);
    item.incident.timeline.push(entry);
    item.incident.tier = tier;
    item.incident.round = round;
  }
  async closePointer(deviceId: string, rule: string, incidentId: string) {
    await this.tick();
    const k = this.key(deviceId, rule);
    if (this.pointers.get(k)?.incidentId === incidentId) this.pointers.delete(k);
  }
}

/** TaskTokens that records what it was asked to send; `waiting` tokens answer `sent`, others `stale`. */
export class RecordingTaskTokens {
  readonly waiting = new Set<string>();
  readonly sent: { token: string; output: Record<string, unknown> }[] = [];
  async succeed(token: string, output: Record<string, unknown>) {
    if (!this.waiting.delete(token)) return "stale" as const;
    this.sent.push({ token, output });
    return "sent" as const;
  }
}

export function fixedClock(start = Date.parse("2026-01-01T00:00:00Z")) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}
