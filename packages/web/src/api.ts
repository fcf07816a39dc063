import { bearer, renew } from "./auth.ts";
import { config } from "./config.ts";

/** Types of the operator API (docs/api.md, /api route table). Kept by hand: the console ships no server code. */
export type Role = "operator" | "viewer";
export interface Me {
  user: string;
  role: Role;
}
export interface Device {
  deviceId: string;
  manufacturer: string;
  model: string;
  site?: string;
  lastSeen?: string;
  openIncidents: number;
}
export interface WindowMetric {
  deviceId: string;
  metric: string;
  windowStart: string;
  windowEnd: string;
  count: number;
  sum: number;
  min: number;
  max: number;
  avg: number;
  stddev: number;
  maxScore: number;
  anomalies: number;
}
export interface Scoped<T> {
  value: T;
  scope: string;
}
export interface EffectiveThresholds {
  deviceId: string;
  scopes: string[];
  bounds: Record<string, { min?: Scoped<number>; max?: Scoped<number> }>;
  scoreThreshold: Scoped<number> | null;
  silenceWindows: Scoped<number> | null;
  stuckReadings: Scoped<StuckReadings> | null;
}
export type StuckReadings = number | Record<string, number>;
export interface RuleBody {
  bounds?: Record<string, { min?: number; max?: number }>;
  scoreThreshold?: number;
  silenceWindows?: number;
  stuckReadings?: StuckReadings;
}
export interface StoredRule extends RuleBody {
  scope: string;
  updatedAt?: string;
  updatedBy?: string;
}
export interface HistoryEntry {
  scope: string;
  at: string;
  by: string;
  before: RuleBody | null;
  after: RuleBody | null;
}
export type IncidentState = "open" | "acknowledged" | "unacknowledged" | "resolved";
export interface TimelineEntry {
  at: string;
  type: string;
  tier?: number;
  round?: number;
  channel?: string;
  actor?: string;
  detail?: string;
}
export interface Incident {
  id: string;
  deviceId: string;
  rule: string;
  state: IncidentState;
  tier: number;
  occurrences: number;
  openedAt: string;
  lastOccurrenceAt?: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  resolvedAt?: string | null;
  resolvedBy?: string | null;
  summary?: string;
  site?: string | null;
  timeline: TimelineEntry[];
}
/** Acknowledge / resolve answer: the incident after the action and what happened (someone may have been first). */
export interface ActionResult extends Incident {
  outcome: "acknowledged" | "already-acknowledged" | "resolved" | "already-resolved";
}
/** One rule set's replay (core/backtest/report.ts); the console reads the counts and the noise warning. */
export interface BacktestSide {
  alerts: number;
  byRule: Record<string, number>;
  /** Incidents after folding repeated alerts of one device and rule (each pages once). */
  incidents?: number;
  /** Set when this rule set would page more than once an hour. */
  noiseWarning?: string | null;
  /** Alerts per UTC hour (`YYYY-MM-DDTHH:00:00.000Z`), hours without alerts left out. */
  byHour?: Record<string, number>;
}
export interface BacktestResult {
  /** The range replayed (ISO). */
  from?: string;
  to?: string;
  readings: number;
  current: BacktestSide;
  candidate: BacktestSide;
}

/** An API answer other than 2xx: `{error, message}` from the API, kept as is for the user to read. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "ApiError";
  }
}

async function send(method: string, path: string, body: unknown, retried = false): Promise<Response> {
  const headers: Record<string, string> = {
    accept: "application/json",
    authorization: `Bearer ${await bearer()}`,
  };
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${config.apiUrl}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 401 && !retried) {
    await renew();
    return send(method, path, body, true);
  }
  return res;
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await send(method, path, body);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch (cause) {
    throw new ApiError(
      res.status,
      "BadResponse",
      `the API answered HTTP ${res.status} with something other than JSON`,
      { cause },
    );
  }
  if (!res.ok) {
    const err = (parsed ?? {}) as { error?: string; message?: string };
    throw new ApiError(res.status, err.error ?? `HTTP ${res.status}`, err.message ?? `HTTP ${res.status}`);
  }
  return parsed as T;
}

const q = (params: Record<string, string | undefined>): string => {
  const entries = Object.entries(params).filter(
    (e): e is [string, string] => e[1] !== undefined && e[1] !== "",
  );
  return entries.length ? `?${new URLSearchParams(entries).toString()}` : "";
};
const seg = (id: string) => encodeURIComponent(id);
/** `devices/pump 7` → `devices/pump%207`: each segment of a scope path encoded on its own. */
export const scopePath = (scope: string) => scope.split("/").map(seg).join("/");

export const api = {
  me: () => request<Me>("GET", "/api/me"),
  devices: (f: { search?: string; site?: string; manufacturer?: string; model?: string } = {}) =>
    request<Device[]>("GET", `/api/devices${q(f)}`),
  device: (id: string) => request<Device>("GET", `/api/devices/${seg(id)}`),
  metrics: (id: string, from: string, to: string) =>
    request<WindowMetric[]>("GET", `/api/devices/${seg(id)}/metrics${q({ from, to })}`),
  effective: (id: string) => request<EffectiveThresholds>("GET", `/api/devices/${seg(id)}/thresholds`),
  thresholds: () => request<StoredRule[]>("GET", "/api/thresholds"),
  history: (scope?: string) => request<HistoryEntry[]>("GET", `/api/thresholds/history${q({ scope })}`),
  putThreshold: (scope: string, rule: RuleBody) =>
    request<StoredRule>("PUT", `/api/thresholds/${scopePath(scope)}`, rule),
  deleteThreshold: (scope: string) => request<void>("DELETE", `/api/thresholds/${scopePath(scope)}`),
  incidents: (f: { state?: string; deviceId?: string; rule?: string; limit?: string } = {}) =>
    request<Incident[]>("GET", `/api/incidents${q(f)}`),
  incident: (id: string) => request<Incident>("GET", `/api/incidents/${seg(id)}`),
  ack: (id: string) => request<ActionResult>("POST", `/api/incidents/${seg(id)}/ack`),
  resolve: (id: string) => request<ActionResult>("POST", `/api/incidents/${seg(id)}/resolve`),
  backtest: (body: { deviceId: string; from: string; to: string; rule: RuleBody }) =>
    request<BacktestResult>("POST", "/api/backtest", body),
};
