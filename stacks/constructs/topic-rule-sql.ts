/**
 * IoT SQL for the catch-all rules: every topic of a namespace Driftwatch owns (the first level of an accepted
 * filter: `dt/…`, `weather/…`) that none of `filters` matches, as an `Envelope` (base64 payload, topic, receive
 * time), so messages on unknown topics reach the transformation and become error records. One rule per namespace
 * (`FROM '<namespace>/#'`): never `FROM '#'`, which would also consume other applications' topics and SST's own
 * live-Lambda traffic (`/sst/<app>/<stage>/…`), and bill every message for a second rule.
 *
 * MQTT filter matching in IoT SQL: a filter with n levels matches a topic with exactly n levels (`topic(n)` is
 * defined and `topic(n + 1)` is not) whose literal levels are equal (`+` matches any level, including an empty
 * one). A trailing `#` matches the parent and every level below. IoT's `'#'` never matches `$`-topics.
 */
export type TopicClause =
  | { kind: "equals"; level: number; value: string }
  | { kind: "defined"; level: number }
  | { kind: "undefined"; level: number };

/** The conditions under which a topic matches `filter`, all of which must hold. */
export function filterClauses(filter: string): TopicClause[] {
  const levels = filter.split("/");
  const multi = levels[levels.length - 1] === "#";
  const fixed = multi ? levels.slice(0, -1) : levels;
  const clauses: TopicClause[] = [];
  fixed.forEach((level, i) => {
    if (level === "+") return;
    if (level.includes("#") || level.includes("+") || level.includes("'")) {
      throw new Error(`unsupported topic filter level "${level}" in "${filter}"`);
    }
    clauses.push({ kind: "equals", level: i + 1, value: level });
  });
  if (!multi) {
    clauses.push({ kind: "defined", level: levels.length }, { kind: "undefined", level: levels.length + 1 });
  } else if (fixed.length > 0) {
    clauses.push({ kind: "defined", level: fixed.length });
  }
  return clauses;
}

function clauseSql(clause: TopicClause): string {
  switch (clause.kind) {
    case "equals":
      return `topic(${clause.level}) = '${clause.value}'`;
    case "defined":
      return `NOT isUndefined(topic(${clause.level}))`;
    case "undefined":
      return `isUndefined(topic(${clause.level}))`;
  }
}

export function filterConditionSql(filter: string): string {
  const clauses = filterClauses(filter);
  return clauses.length > 0 ? `(${clauses.map(clauseSql).join(" AND ")})` : "true";
}

/** The first topic level of each accepted filter: the namespaces Driftwatch owns (literal, never `$…` or empty). */
export function ownedNamespaces(filters: readonly string[]): string[] {
  const namespaces = new Set<string>();
  for (const filter of filters) {
    const first = filter.split("/")[0]!;
    if (first === "" || first === "+" || first === "#" || first.startsWith("$") || first.includes("'")) {
      throw new Error(
        `topic filter "${filter}" has no literal first level: Driftwatch cannot own its namespace`,
      );
    }
    namespaces.add(first);
  }
  return [...namespaces].sort();
}

/** Catch-all SQL of one owned namespace: its topics that none of the filters of that namespace matches. */
export function unmatchedTopicSql(namespace: string, filters: readonly string[]): string {
  const own = filters.filter((f) => f.split("/")[0] === namespace);
  if (own.length === 0) throw new Error(`no accepted topic filter in namespace "${namespace}"`);
  return `SELECT encode(*, 'base64') AS payload, topic() AS topic, timestamp() AS receivedAt, newuuid() AS messageId FROM '${namespace}/#' WHERE NOT (${own.map(filterConditionSql).join(" OR ")})`;
}
