import type { DeviceRegistry } from "../ports/device-registry.ts";
import type { PhiVault } from "../ports/phi-vault.ts";
import { SUBJECT_TAG, type Deidentified, type Deidentifier } from "../privacy/deidentifier.ts";
import { ConfigurationError } from "../shared/errors.ts";
import { CachedRegistry, type CachedRegistryOptions } from "./cached-registry.ts";
import type { Device } from "./device.ts";
import type { Envelope } from "./envelope.ts";
import {
  InvalidEnvelopeError,
  NoMetricsError,
  UnknownDeviceError,
  UnknownTopicError,
} from "./ingest-errors.ts";
import { decodePayloadWithin } from "./payload-decoder.ts";
import {
  checkMetricCount,
  checkMetricValues,
  defaultPayloadLimits,
  type PayloadLimits,
} from "./payload-limits.ts";
import { resolvePayloadSource } from "./payload-sources.ts";
import type { Reading } from "./reading.ts";
import { formatPath } from "./safe-issues.ts";

export interface PreparedReading {
  /** Validated, normalized, de-identified and enriched. */
  reading: Reading;
  /** Kinesis partition key (the device id; equals what the IoT rule's template computes). */
  partitionKey: string;
  /** The model a reading is scored by, `${manufacturer}#${model}` by default. */
  modelKey: string;
  /** Number of PHI values sent to the vault (0 when the vault was not used). */
  vaulted: number;
  /** Fields treated as PHI only because they resemble a catalogued name (flag them: extend the catalogue). */
  nearMisses?: number;
}

export interface PrepareOptions {
  /**
   * Store the record's PHI in the vault (the ingest transformation does; the scoring path does not). Defaults to
   * true when the preparer has a vault.
   */
  vault?: boolean;
}

export interface ReadingPreparer {
  /**
   * Throws a `ValidationError` subclass (stable `code`) for bad input, `TransientError` when a dependency failed
   * (retry), `ConfigurationError` when misconfigured.
   */
  prepare(envelope: Envelope, options?: PrepareOptions): Promise<PreparedReading>;
}

export interface ReadingPreparerDeps {
  registry: DeviceRegistry;
  deidentifier: Deidentifier;
  vault?: PhiVault;
  maxPayloadBytes?: number;
  /** Structural limits of a payload (defaults `defaultPayloadLimits`; `maxPayloadBytes` overrides `maxBytes`). */
  limits?: Partial<PayloadLimits>;
  /** Model key of a device (default `${manufacturer}#${model}`). */
  modelKey?: (device: Device) => string;
  /**
   * Cache in front of `registry` (a `CachedRegistry` is used as is). Default: a `CachedRegistry` with its
   * defaults; `false` for none.
   */
  registryCache?: CachedRegistryOptions | false;
}

export const defaultModelKey = (device: Pick<Device, "manufacturer" | "model">): string =>
  `${device.manufacturer}#${device.model}`;

/** Validate → normalize (per topic's payload shape) → de-identify → enrich (registry) → vault, for one message. */
export function createReadingPreparer(deps: ReadingPreparerDeps): ReadingPreparer {
  const registry =
    deps.registry instanceof CachedRegistry || deps.registryCache === false
      ? deps.registry
      : new CachedRegistry(deps.registry, deps.registryCache ?? {});
  const limits: PayloadLimits = {
    ...defaultPayloadLimits,
    ...deps.limits,
    ...(deps.maxPayloadBytes === undefined ? {} : { maxBytes: deps.maxPayloadBytes }),
  };
  const modelKeyOf = deps.modelKey ?? defaultModelKey;
  const { deidentifier } = deps;

  return {
    async prepare(envelope, options = {}) {
      const useVault = options.vault ?? deps.vault !== undefined;
      if (useVault && deps.vault === undefined)
        throw new ConfigurationError("prepare({ vault: true }) needs a PHI vault");
      const receivedAt = isoTime(envelope.receivedAt);
      const source = resolvePayloadSource(envelope.topic);
      if (source === undefined) throw new UnknownTopicError();
      const payload = decodePayloadWithin(envelope.payload, limits).value;
      const rawMetrics = payload.metrics;
      if (rawMetrics !== null && typeof rawMetrics === "object" && !Array.isArray(rawMetrics))
        checkMetricCount(rawMetrics as Record<string, unknown>, limits);
      const parsed = source.parse(envelope.topic, payload);
      // (A canonical payload's metrics may be the very object just counted, ADR 0204.)
      if (parsed.metrics !== rawMetrics) checkMetricCount(parsed.metrics, limits);
      checkMetricValues(parsed.metrics, limits, source.source === "canonical" ? ["metrics"] : []);

      const found = deidentifier.deidentify(payload);
      const metrics = withoutCatalogued(parsed.metrics, deidentifier, found);
      if (Object.keys(metrics).length === 0) {
        throw new NoMetricsError(Object.keys(parsed.metrics).map((name) => formatPath(["metrics", name])));
      }
      const tags = withoutCatalogued(parsed.tags, deidentifier, found);

      // A cached device is answered without a promise turn (one per record on the hot path).
      const cached = registry instanceof CachedRegistry ? registry.peek(parsed.deviceId) : null;
      const device = cached !== null ? cached : await registry.get(parsed.deviceId);
      if (device === undefined) throw new UnknownDeviceError(parsed.deviceId);

      for (const [field, token] of Object.entries(found.tokens)) tags[field] = token;
      if (found.subject !== undefined && Object.keys(found.tokens).length === 0)
        tags[SUBJECT_TAG] = found.subject;

      let vaulted = 0;
      if (useVault && found.subject !== undefined && found.phi.length > 0) {
        await deps.vault!.store(found.subject, found.phi);
        vaulted = found.phi.length;
      }

      const reading: Reading = {
        readingId: readingIdOf(deidentifier, envelope),
        deviceId: parsed.deviceId,
        ts: new Date(parsed.tsMs).toISOString(),
        receivedAt,
        topic: envelope.topic,
        source: source.source,
        manufacturer: device.manufacturer,
        model: device.model,
        metrics,
        tags,
      };
      const site = device.site ?? parsed.site;
      if (site !== undefined) reading.site = site;
      return {
        reading,
        partitionKey: parsed.deviceId,
        modelKey: modelKeyOf(device),
        vaulted,
        nearMisses: found.nearMisses.length,
      };
    },
  };
}

/**
 * The reading's identity end to end: a keyed token of (topic, payload bytes). A resent message (QoS 1 DUP after a
 * reconnect, or a replay) has the same topic and bytes, hence the same id; two distinct readings differ at least
 * in their event time. Keyed, so it reveals nothing of the payload.
 */
export function readingIdOf(
  deidentifier: Deidentifier,
  envelope: Pick<Envelope, "topic" | "payload">,
): string {
  // Unique per record, so not memoized (`tokenizeOnce`): a memo entry per reading would evict the identifiers'
  // tokens and keep ~50,000 payload-sized keys alive for the garbage collector to trace (ADR 0204).
  return `rd_${deidentifier.tokenizeOnce("readingId", `${envelope.topic}\u0000${envelope.payload}`).slice(4)}`;
}

function isoTime(ms: number): string {
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) {
    throw new InvalidEnvelopeError("the envelope's receivedAt is not a valid time", [
      { path: "receivedAt", message: "out of range" },
    ]);
  }
  return date.toISOString();
}

/**
 * Copies `values` without catalogued names. A catalogued name among them (a canonical metric called `dob`, say)
 * is PHI like any other: its value joins `found` (vaulted or tokenized), never the reading.
 */
function withoutCatalogued<T extends number | string>(
  values: Record<string, T>,
  deidentifier: Deidentifier,
  found: Deidentified,
): Record<string, T> {
  let out: Record<string, T> | undefined;
  for (const name of Object.keys(values)) {
    if (deidentifier.classify(name) === undefined) continue;
    out ??= { ...values };
    const extra = deidentifier.deidentify({ [name]: out[name] });
    delete out[name];
    const hadTokens = Object.keys(found.tokens).length > 0;
    Object.assign(found.tokens, extra.tokens);
    found.phi.push(...extra.phi);
    found.catalogued.push(...extra.catalogued);
    found.nearMisses.push(...extra.nearMisses);
    // A tokenized identifier outranks a subject derived from vaulted values.
    if (found.subject === undefined || (!hadTokens && Object.keys(extra.tokens).length > 0))
      found.subject = extra.subject;
  }
  return out ?? { ...values };
}
