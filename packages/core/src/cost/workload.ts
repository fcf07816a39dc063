import { z } from "zod";

/**
 * What a deployment carries, in the seed's terms (seed 003, Appendix A): a peak record rate held for a few hours a
 * day and a fraction of it the rest of the day, records of a given size, months of 30 days. The rest says how
 * the fleet and its operators use Driftwatch.
 */
export const workloadSchema = z
  .object({
    /** Records (MQTT messages, one reading each) per second at peak. */
    peakRecordsPerSecond: z.number().nonnegative(),
    peakHoursPerDay: z.number().min(0).max(24).default(4),
    /** Rate outside the peak hours, as a fraction of the peak rate. */
    offPeakFraction: z.number().min(0).max(1).default(0.2),
    recordBytes: z.number().int().positive().default(1024),
    /** Reporting devices; each reports in every window. */
    devices: z.number().int().nonnegative(),
    metricsPerRecord: z.number().int().positive().default(5),
    /** Detector models (one per manufacturer/model/metric set); each is checkpointed once every few windows (ADR 0602). */
    models: z.number().int().nonnegative().default(20),
    windowSeconds: z.number().int().positive().default(60),
    incidentsPerDay: z.number().nonnegative().default(10),
    /** Backtests (console previews and CLI) per day; each reads `backtestHours` of one device's readings. */
    backtestsPerDay: z.number().nonnegative().default(20),
    backtestHours: z.number().positive().default(24),
    /** Hours a day someone has the console open (it polls the API). */
    consoleHoursPerDay: z.number().min(0).max(24).default(8),
    /** Share of records that carry PHI (medical device types); their PHI goes to the vault. */
    phiRecordsFraction: z.number().min(0).max(1).default(0.25),
    /**
     * Storage is priced as it stands after this many months of operation (lifecycle rules applied). 1 prices one
     * month of data, as the seed's tables do; 12 shows the lake after a year.
     */
    storageMonths: z.number().int().positive().default(1),
    daysPerMonth: z.number().positive().default(30),
  })
  .strict();
export type Workload = z.infer<typeof workloadSchema>;
export type WorkloadInput = z.input<typeof workloadSchema>;

export type ScenarioName = "small" | "medium" | "large" | "idle";

/**
 * The seed's three scenarios (its tables use peaks of 100 / 1,000 / 5,000 records/s of 1 KB, 4 peak hours, 20 %
 * otherwise), with one device per record/s at peak, and a stage with no traffic at all.
 */
export const scenarios: Record<ScenarioName, WorkloadInput> = {
  small: { peakRecordsPerSecond: 100, devices: 100 },
  medium: { peakRecordsPerSecond: 1_000, devices: 1_000 },
  large: { peakRecordsPerSecond: 5_000, devices: 5_000 },
  idle: {
    peakRecordsPerSecond: 0,
    devices: 0,
    models: 0,
    incidentsPerDay: 0,
    backtestsPerDay: 0,
    consoleHoursPerDay: 0,
  },
};

export function workload(input: WorkloadInput): Workload {
  return workloadSchema.parse(input);
}

/** Records a day: the peak rate for the peak hours, the off-peak fraction of it for the rest. */
export function recordsPerDay(w: Workload): number {
  const offPeakHours = 24 - w.peakHoursPerDay;
  return w.peakRecordsPerSecond * 3600 * (w.peakHoursPerDay + w.offPeakFraction * offPeakHours);
}

export function recordsPerMonth(w: Workload): number {
  return recordsPerDay(w) * w.daysPerMonth;
}

/** Seconds in a month of `daysPerMonth` days. */
export function secondsPerMonth(w: Workload): number {
  return w.daysPerMonth * 86_400;
}

export const KIB = 1024;
export const GIB = 1024 ** 3;
