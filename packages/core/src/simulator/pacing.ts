import { InvalidSimulationOptionError } from "./errors.ts";

/**
 * Pacing of a simulated fleet: message `k` (0-based) of the run is due `k / rate` seconds after the start and
 * belongs to device `k mod devices`, so every device sends at `rate / devices` messages per second and the
 * devices are evenly staggered. Devices share `clients` MQTT connections (device `d` uses client
 * `d mod clients`), like devices behind a gateway; each client then carries `rate / clients` messages per second.
 */
export interface PacingPlan {
  /** Messages per second, whole fleet. */
  rate: number;
  devices: number;
  clients: number;
  /** Messages in the run; `Infinity` runs until stopped. */
  total: number;
}

export function planPacing(input: {
  rate: number;
  devices: number;
  clients?: number;
  durationSeconds?: number;
  count?: number;
}): PacingPlan {
  const { rate, devices } = input;
  if (!Number.isFinite(rate) || rate <= 0) {
    throw new InvalidSimulationOptionError(`rate must be a positive number of messages/s, got ${rate}`, {
      option: "rate",
    });
  }
  if (!Number.isInteger(devices) || devices < 1) {
    throw new InvalidSimulationOptionError(`devices must be a positive integer, got ${devices}`, {
      option: "devices",
    });
  }
  const clients = input.clients ?? devices;
  if (!Number.isInteger(clients) || clients < 1 || clients > devices) {
    throw new InvalidSimulationOptionError(
      `clients must be an integer from 1 to the device count (${devices}), got ${clients}`,
      {
        option: "clients",
      },
    );
  }
  if (input.durationSeconds !== undefined && input.count !== undefined) {
    throw new InvalidSimulationOptionError("give either a duration or a count, not both", {
      option: "duration",
    });
  }
  let total = Infinity;
  if (input.count !== undefined) {
    if (!Number.isInteger(input.count) || input.count < 0) {
      throw new InvalidSimulationOptionError(`count must be a non-negative integer, got ${input.count}`, {
        option: "count",
      });
    }
    total = input.count;
  } else if (input.durationSeconds !== undefined) {
    if (!Number.isFinite(input.durationSeconds) || input.durationSeconds < 0) {
      throw new InvalidSimulationOptionError(
        `duration must be a non-negative number of seconds, got ${input.durationSeconds}`,
        {
          option: "duration",
        },
      );
    }
    total = Math.round(rate * input.durationSeconds);
  }
  return { rate, devices, clients, total };
}

/** Offset of message `k` from the start, ms (fractional). */
export function dueOffsetMs(plan: Pick<PacingPlan, "rate">, k: number): number {
  return (k * 1000) / plan.rate;
}

/** Event time message `k` carries: its due time, whole ms. Strictly increasing per device while rate ≤ 1000·devices. */
export function eventTimeMs(plan: Pick<PacingPlan, "rate">, startMs: number, k: number): number {
  return Math.round(startMs + dueOffsetMs(plan, k));
}

/** How many messages are due `elapsedMs` after the start (message 0 is due at once), capped at the total. */
export function dueCount(plan: Pick<PacingPlan, "rate" | "total">, elapsedMs: number): number {
  if (elapsedMs < 0) return 0;
  // The epsilon keeps k/rate·rate rounding from holding a due message back by one timer tick.
  return Math.min(plan.total, Math.floor((elapsedMs * plan.rate) / 1000 + 1e-9) + 1);
}

export function deviceForMessage(plan: Pick<PacingPlan, "devices">, k: number): number {
  return k % plan.devices;
}

export function clientForDevice(plan: Pick<PacingPlan, "clients">, deviceIndex: number): number {
  return deviceIndex % plan.clients;
}

/** Interval between two messages of one device, ms. */
export function deviceIntervalMs(plan: Pick<PacingPlan, "rate" | "devices">): number {
  return (plan.devices * 1000) / plan.rate;
}

/** Messages per second one client carries (the busiest one when devices do not divide evenly). */
export function peakClientRate(plan: Pick<PacingPlan, "rate" | "devices" | "clients">): number {
  return (Math.ceil(plan.devices / plan.clients) * plan.rate) / plan.devices;
}

/** Achieved messages/s over a run. */
export function achievedRate(messages: number, elapsedMs: number): number {
  return elapsedMs > 0 ? (messages * 1000) / elapsedMs : 0;
}
