/**
 * Counters and gauges that the services of local mode report, rendered as one status line.
 * Services call `inc`/`set`; the CLI renders `line()` every second. Never holds PHI.
 */
export class StatusBoard {
  private readonly counters = new Map<string, number>();
  private readonly gauges = new Map<string, string | number>();
  private readonly rates = new Map<string, { last: number; at: number; rate: number }>();

  inc(name: string, by = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + by);
  }

  set(name: string, value: string | number): void {
    this.gauges.set(name, value);
  }

  get(name: string): number {
    return this.counters.get(name) ?? 0;
  }

  snapshot(): Record<string, string | number> {
    return { ...Object.fromEntries(this.counters), ...Object.fromEntries(this.gauges) };
  }

  /** Per-second rate of a counter since the previous call for that counter. */
  rate(name: string, now = Date.now()): number {
    const current = this.get(name);
    const prev = this.rates.get(name);
    if (!prev) {
      this.rates.set(name, { last: current, at: now, rate: 0 });
      return 0;
    }
    const dt = (now - prev.at) / 1000;
    if (dt >= 0.5) {
      prev.rate = (current - prev.last) / dt;
      prev.last = current;
      prev.at = now;
    }
    return prev.rate;
  }

  line(now = Date.now()): string {
    const fmt = (n: number) => (n >= 10_000 ? `${(n / 1000).toFixed(1)}k` : String(Math.round(n)));
    const parts = [
      `mqtt ${fmt(this.get("mqtt.messages"))} (${fmt(this.rate("mqtt.messages", now))}/s)`,
      `lake ${fmt(this.get("lake.readings"))} ok / ${fmt(this.get("lake.errors"))} err`,
    ];
    const buffered = Number(this.gauges.get("firehose.buffered") ?? 0);
    if (buffered > 0) parts.push(`buffered ${fmt(buffered)}`);
    // Lake (and scoring archive/checkpoint) writes that failed and are being retried while the runtime runs.
    const waiting =
      Number(this.gauges.get("firehose.waiting") ?? 0) + Number(this.gauges.get("scoring.waiting") ?? 0);
    if (waiting > 0) parts.push(`${fmt(waiting)} batch${waiting === 1 ? "" : "es"} waiting (retrying)`);
    const failures =
      this.get("rules.errors") + this.get("firehose.deliveryErrors") + this.get("firehose.invocationErrors");
    if (failures > 0) parts.push(`failures ${fmt(failures)} (see log)`);
    if (this.counters.has("scoring.records")) {
      parts.push(
        `scored ${fmt(this.get("scoring.records"))}`,
        `anomalies ${fmt(this.get("scoring.anomalies"))}`,
      );
    }
    if (this.counters.has("escalation.incidents") || this.counters.has("escalation.notifications")) {
      parts.push(
        `incidents ${fmt(this.get("escalation.incidents"))}`,
        `notified ${fmt(this.get("escalation.notifications"))}`,
      );
    }
    const rss = process.memoryUsage().rss / (1024 * 1024);
    parts.push(`rss ${rss.toFixed(0)} MB`);
    return parts.join(" | ");
  }
}
