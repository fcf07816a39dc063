/**
 * IoT SQL for the catch-all rule: every topic that none of `filters` matches, as an `Envelope` (base64 payload,
 * topic, receive time), so messages on unknown topics reach the transformation and become error records.
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

export function unmatchedTopicSql(filters: readonly string[]): string {
  return `SELECT encode(*, 'base64') AS payload, topic() AS topic, timestamp() AS receivedAt, newuuid() AS messageId FROM '#' WHERE NOT (${filters.map(filterConditionSql).join(" OR ")})`;
}
