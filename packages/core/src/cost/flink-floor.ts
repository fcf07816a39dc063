import { priceBook } from "./price-book.ts";

export interface FlinkFloor {
  kpus: number;
  kpuHours: number;
  compute: number;
  runningStorage: number;
  total: number;
  priceBook: string;
}

/**
 * What one Managed Service for Apache Flink application costs a month before it does any work: the smallest
 * application runs 1 KPU plus the 1 KPU AWS adds per application for orchestration, every hour, and 50 GB of
 * running-application storage per KPU of the application.
 */
export function managedFlinkFloor(priceBookId?: string): FlinkFloor {
  const p = priceBook(priceBookId);
  const f = p.kinesisAnalytics;
  const kpus = 1 + f.orchestrationKpusPerApplication;
  const kpuHours = kpus * p.hoursPerMonth;
  const compute = kpuHours * f.kpuHour;
  const runningStorage = 1 * f.runningStorageGbPerKpu * f.runningStoragePerGbMonth;
  return { kpus, kpuHours, compute, runningStorage, total: compute + runningStorage, priceBook: p.id };
}
