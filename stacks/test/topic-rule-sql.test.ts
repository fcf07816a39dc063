import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { payloadSources } from "@driftwatch/core/telemetry/payload-sources";
import { matchesTopicFilter, topicSegment } from "@driftwatch/core/telemetry/topic-filter";
import {
  filterClauses,
  ownedNamespaces,
  unmatchedTopicSql,
  type TopicClause,
} from "../constructs/topic-rule-sql.ts";

/** Evaluates the clauses the way IoT SQL evaluates `topic(n) = '…'` / `isUndefined(topic(n))`. */
function holds(clause: TopicClause, topic: string): boolean {
  const segment = topicSegment(topic, clause.level);
  if (clause.kind === "equals") return segment === clause.value;
  if (clause.kind === "defined") return segment !== undefined;
  return segment === undefined;
}
const sqlMatches = (filter: string, topic: string) => filterClauses(filter).every((c) => holds(c, topic));

const filters = payloadSources.map((s) => s.topicFilter);
const segment = fc.oneof(
  fc.constantFrom("dt", "telemetry", "weather", "IoT_TOPIC", "recieve", "LifeSupportDevice", "Sensor", ""),
  fc.stringMatching(/^[a-z0-9_-]{1,6}$/),
);
const topic = fc.array(segment, { minLength: 1, maxLength: 8 }).map((levels) => levels.join("/"));

describe("catch-all rule SQL", () => {
  it("matches a topic exactly when MQTT filter matching does (accepted filters and extra shapes)", () => {
    const extra = ["a/#", "#", "a/+/b", "+"];
    fc.assert(
      fc.property(topic, (t) => {
        for (const filter of [...filters, ...extra])
          expect(sqlMatches(filter, t), `${filter} vs ${t}`).toBe(matchesTopicFilter(filter, t));
      }),
      { seed: 20240611, numRuns: 2000 },
    );
  });

  it("covers known examples", () => {
    expect(sqlMatches("dt/+/+/telemetry", "dt/site-1/dev-1/telemetry")).toBe(true);
    expect(sqlMatches("dt/+/+/telemetry", "dt/site-1/dev-1/telemetry/extra")).toBe(false);
    expect(sqlMatches("weather/+/+/+/+/+", "weather/wa/seattle/st1/temp/s1")).toBe(true);
    expect(sqlMatches("weather/+/+/+/+/+", "weather/wa/seattle/st1/temp")).toBe(false);
  });

  it("reads only Driftwatch's own namespaces, never '#', $aws/… or /sst/…", () => {
    const namespaces = ownedNamespaces(filters);
    expect(namespaces).toEqual(["IoT_TOPIC", "LifeSupportDevice", "dt", "weather"]);
    for (const namespace of namespaces) {
      const sql = unmatchedTopicSql(namespace, filters);
      expect(sql).toContain(`FROM '${namespace}/#' WHERE NOT (`);
      expect(sql).not.toContain("FROM '#'");
    }
    // A topic outside the namespaces (SST live Lambda, AWS reserved, another app) is matched by no catch-all.
    for (const foreign of ["/sst/driftwatch/dev/abc", "$aws/things/x/shadow/update", "otherapp/x"]) {
      expect(namespaces.some((ns) => matchesTopicFilter(`${ns}/#`, foreign))).toBe(false);
    }
    expect(() => ownedNamespaces(["+/x/telemetry"])).toThrow(/no literal first level/);
    expect(() => ownedNamespaces(["$aws/things/+"])).toThrow(/no literal first level/);
  });

  it("renders one negated disjunction of the namespace's accepted filters", () => {
    const dt = unmatchedTopicSql("dt", filters);
    expect(dt).toBe(
      "SELECT encode(*, 'base64') AS payload, topic() AS topic, timestamp() AS receivedAt, newuuid() AS messageId FROM 'dt/#' WHERE NOT ((topic(1) = 'dt' AND topic(4) = 'telemetry' AND NOT isUndefined(topic(4)) AND isUndefined(topic(5))))",
    );
    expect(unmatchedTopicSql("IoT_TOPIC", filters)).toContain(
      "(topic(1) = 'IoT_TOPIC' AND topic(2) = 'recieve' AND NOT isUndefined(topic(2)) AND isUndefined(topic(3)))",
    );
    expect(() => unmatchedTopicSql("nope", filters)).toThrow(/no accepted topic filter/);
  });
});
