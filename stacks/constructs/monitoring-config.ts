import { APP_NAME, isProductionStage, powertoolsEnvironment } from "./app-defaults.ts";
import { stageConfig } from "./stage-config.ts";

/**
 * Per-stage settings of the Monitoring stack: the thresholds of the alarms it owns (the ones no other stack has:
 * transform failures and Firehose delivery) and the dashboard's default time range. Alarms that live next to
 * their resource (iterator age and DLQ depth in Scoring, rule errors in Ingest, executions and notifications in
 * Escalation) keep their thresholds where they are; Monitoring only shows them.
 */
export interface AlarmThreshold {
  threshold: number;
  /** Period of each datapoint, minutes. */
  periodMinutes: number;
  evaluationPeriods: number;
  datapointsToAlarm: number;
}

export interface MonitoringConfig {
  /** Transformation Lambda `Errors` (sum per period) at or above `threshold`: batches Firehose has to retry. */
  transformErrors: AlarmThreshold;
  /**
   * Firehose `DeliveryToS3.Success` (average per period: successful / attempted S3 puts) below `threshold`:
   * the lake is not being written (Firehose keeps retrying for up to 24 h, then data is lost).
   */
  deliverySuccess: AlarmThreshold;
  /**
   * Firehose `DeliveryToS3.DataFreshness` (maximum, seconds) above `threshold`: the oldest record in the ingest
   * stream has waited longer than the buffers explain.
   */
  deliveryFreshness: AlarmThreshold;
  /** Default time range of the dashboard, hours. */
  dashboardHours: number;
}

/** Where the handlers' Powertools (EMF) metrics land: the namespace and the `service` dimension they all share. */
export function powertoolsMetricTarget(stage: string): {
  namespace: string;
  dimensionsMap: { service: string };
} {
  const env = powertoolsEnvironment(stage);
  return {
    namespace: env.POWERTOOLS_METRICS_NAMESPACE ?? "Driftwatch",
    dimensionsMap: { service: env.POWERTOOLS_SERVICE_NAME ?? APP_NAME },
  };
}

export function monitoringConfig(stage: string): MonitoringConfig {
  const production = isProductionStage(stage);
  const { firehose } = stageConfig(stage);
  // Normal worst case: a record waits for the transformation buffer, then for the destination buffer.
  const bufferedSeconds = firehose.processorBufferSeconds + firehose.bufferSeconds;
  return {
    // Production pages on the first failing batch; elsewhere only on failures that persist (deploys, debugging).
    transformErrors: production
      ? { threshold: 1, periodMinutes: 5, evaluationPeriods: 1, datapointsToAlarm: 1 }
      : { threshold: 5, periodMinutes: 5, evaluationPeriods: 3, datapointsToAlarm: 2 },
    // One failed put is retried by Firehose; 15 minutes of failures means it is not recovering by itself.
    deliverySuccess: { threshold: 1, periodMinutes: 5, evaluationPeriods: 3, datapointsToAlarm: 3 },
    deliveryFreshness: {
      threshold: 2 * bufferedSeconds + 300,
      periodMinutes: 5,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
    },
    dashboardHours: production ? 24 : 3,
  };
}
